//! The wall clock jumping mid-class (NTP stepping it, someone setting it by hand): ten minutes
//! forward — past the sandbox's five-minute lifetime on the wall clock — then back. No sandbox is ended or kept for ever by it, the learner stays signed in,
//! the terminal and checks go on. The clock is set back to the right time afterwards (from the
//! monotonic clock), whatever happens — also when an assertion fails. In a test binary of its
//! own, so no other test runs while the clock is off.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::SinkExt;
use tokio_tungstenite::tungstenite::Message;

/// The wall clock moved for the test, put right again on drop.
struct ClockJump {
    wall: SystemTime,
    mono: Instant,
}

fn set_clock(to: SystemTime) {
    let t = to.duration_since(UNIX_EPOCH).unwrap();
    let out = std::process::Command::new("date")
        .args(["-u", "-s", &format!("@{}.{:09}", t.as_secs(), t.subsec_nanos())])
        .output()
        .expect("running date");
    assert!(out.status.success(), "date -s: {}", String::from_utf8_lossy(&out.stderr));
}

impl ClockJump {
    fn start() -> Self {
        Self { wall: SystemTime::now(), mono: Instant::now() }
    }

    /// Sets the clock `offset` seconds away from the right time.
    fn to(&self, offset: i64) {
        let right = self.wall + self.mono.elapsed();
        set_clock(if offset >= 0 { right + Duration::from_secs(offset as u64) } else { right - Duration::from_secs((-offset) as u64) });
    }
}

impl Drop for ClockJump {
    fn drop(&mut self) {
        set_clock(self.wall + self.mono.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn the_clock_jumping_ends_no_sandbox_and_signs_no_one_out() {
    if !common::sandboxes_available("clock_jump") {
        return;
    }
    let server = common::TestServer::start("clock_jump", true).await;
    // A real join (the learner's real session lifetime), not a test session.
    let client = server.client("");
    let joined =
        client.post(server.url("/api/join")).json(&serde_json::json!({ "code": server.class_code, "name": "Ada" })).send().await.unwrap();
    assert_eq!(joined.status().as_u16(), 200);
    let cookie = joined.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let me: serde_json::Value = server.client(&cookie).get(server.url("/api/me")).send().await.unwrap().json().await.unwrap();
    let learner = me["learner_id"].as_str().unwrap_or_else(|| panic!("no learner id in {me}")).to_string();
    let mut terminal = common::ws(&server, &cookie, "/ws/terminal/1?start=1").await;
    common::read_until(&mut terminal, "attached").await;
    let sandboxes = server.state.sandboxes.clone().unwrap();
    let running =
        |sandboxes: &server::sandboxes::Sandboxes| matches!(sandboxes.status(&learner), server::sandboxes::Status::Running { .. });

    // A short lifetime, so a short jump would end the sandbox if lifetimes ran on the wall clock.
    sandboxes.set_terms(&learner, &server::sandboxes::ClassTerms { lifetime: Some(Duration::from_secs(300)), ..Default::default() });
    let clock = ClockJump::start();
    clock.to(600);
    sandboxes.reap().await;
    assert!(running(&sandboxes), "a forward clock jump ended the sandbox");
    let me = server.client(&cookie).get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(me.status().as_u16(), 200, "signed out by a clock jump");
    terminal.send(Message::Binary(b"echo after-the-jump-$((5*5))\n".to_vec().into())).await.unwrap();
    common::read_until(&mut terminal, "after-the-jump-25").await;
    let check = server.client(&cookie).post(server.url("/api/labs/netns-veth/steps/netns/check")).send().await.unwrap();
    assert_eq!(check.status().as_u16(), 200, "a check after the jump");

    // And back again, further than it was: nothing is kept for ever either.
    clock.to(-600);
    sandboxes.reap().await;
    assert!(running(&sandboxes), "a backward clock jump ended the sandbox");
    let status = sandboxes.status(&learner);
    if let server::sandboxes::Status::Running { expires_in_secs, .. } = status {
        assert!(expires_in_secs <= 300, "the sandbox's end moved with the wall clock: {expires_in_secs} s left");
    }
    let me = server.client(&cookie).get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(me.status().as_u16(), 200);
    let (wall, mono) = (clock.wall, clock.mono);
    drop(clock);
    let right = wall + mono.elapsed();
    let skew = SystemTime::now().duration_since(right).unwrap_or_else(|e| e.duration());
    assert!(skew < Duration::from_secs(2), "the clock was not put back: {skew:?} off");
}
