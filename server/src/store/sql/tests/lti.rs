//! The LTI tables: registrations, keys, launches on their way, and the outbox of scores.

use super::*;
use crate::store::lti::*;

fn moodle(client_id: &str) -> NewPlatform {
    NewPlatform {
        label: "Moodle".into(),
        issuer: "https://moodle.school.test".into(),
        client_id: client_id.into(),
        login_url: "https://moodle.school.test/auth".into(),
        token_url: "https://moodle.school.test/token".into(),
        jwks_url: "https://moodle.school.test/certs".into(),
        deployments: vec!["1".into()],
    }
}

#[tokio::test]
async fn registrations_are_kept_by_issuer_and_client() {
    for store in stores().await {
        let first = store.save_lti_platform(&moodle("a"), true).await.unwrap();
        let mut changed = moodle("a");
        changed.deployments.push("2".into());
        let again = store.save_lti_platform(&changed, true).await.unwrap();
        assert_eq!((again.id.as_str(), again.deployments.len()), (first.id.as_str(), 2), "the same registration, changed");
        store.save_lti_platform(&moodle("b"), false).await.unwrap();
        assert_eq!(store.lti_platforms_of("https://moodle.school.test").await.unwrap().len(), 2);
        assert!(store.remove_lti_platform(&first.id).await.unwrap());
        assert_eq!(store.lti_platforms().await.unwrap().len(), 1);
        assert!(!store.remove_lti_platform(&first.id).await.unwrap());
    }
}

#[tokio::test]
async fn the_tool_keeps_its_newest_key_and_the_one_before() {
    for store in stores().await {
        for (n, kid) in ["k1", "k2", "k3"].iter().enumerate() {
            store.add_lti_key(&ToolKey { kid: kid.to_string(), private_pem: "pem".into(), created_at: n as i64 }).await.unwrap();
        }
        let kids: Vec<String> = store.lti_keys().await.unwrap().into_iter().map(|k| k.kid).collect();
        assert_eq!(kids, vec!["k3", "k2"]);
    }
}

#[tokio::test]
async fn a_launch_on_its_way_is_taken_once_and_only_as_its_kind() {
    for store in stores().await {
        let token = store.put_lti_pending("login", "{\"nonce\":\"n\"}").await.unwrap();
        assert_eq!(store.take_lti_pending(&token, "deep-link").await.unwrap(), None);
        assert_eq!(store.take_lti_pending(&token, "login").await.unwrap().as_deref(), Some("{\"nonce\":\"n\"}"));
        assert_eq!(store.take_lti_pending(&token, "login").await.unwrap(), None, "a replay finds it gone");
        assert_eq!(store.take_lti_pending("forged", "login").await.unwrap(), None);
    }
}

#[tokio::test]
async fn strangers_starting_launches_fill_a_bounded_table() {
    // Only on SQLite in memory: ten thousand rows are quick there.
    let store = SqlStore::memory().await.unwrap();
    for _ in 0..MAX_PENDING {
        store.put_lti_pending("login", "{}").await.unwrap();
    }
    let refused = store.put_lti_pending("login", "{}").await.unwrap_err();
    assert!(refused.to_string().contains("Too many launches"), "{refused}");
    // Ten minutes on, the old ones are gone and launches start again.
    sqlx::query("UPDATE lti_pending SET created_at = created_at - 601").execute(&store.pool).await.unwrap();
    store.put_lti_pending("login", "{}").await.unwrap();
    let left: i64 = sqlx::query("SELECT COUNT(*) AS n FROM lti_pending").fetch_one(&store.pool).await.unwrap().get("n");
    assert_eq!(left, 1);
}

#[tokio::test]
async fn scores_wait_in_the_outbox_until_sent_and_only_changes_are_queued() {
    for store in stores().await {
        let platform = store.save_lti_platform(&moodle("a"), false).await.unwrap();
        let class = store.create_class("C", None, &ClassSettings::default()).await.unwrap();
        let ada = store.create_learner(&class.id, "Ada", None).await.unwrap();
        let score = |earned| NewScore {
            learner_id: &ada.id,
            lineitem: "https://moodle.school.test/li/1",
            platform_id: &platform.id,
            lab_id: "netns",
            user_id: "u-ada",
            earned,
            possible: 10,
            activity: "InProgress",
            grading: "FullyGraded",
        };
        assert!(store.queue_lti_score(&score(4)).await.unwrap());
        assert!(!store.queue_lti_score(&score(4)).await.unwrap(), "the same score is not queued again");
        let due = store.due_lti_scores(now(), 10).await.unwrap();
        assert_eq!((due.len(), due[0].earned), (1, 4));
        // The LMS is down: the score waits, with the reason, and is not due before its time.
        store.lti_score_failed(&ada.id, &due[0].lineitem, due[0].version, now() + 60, "the LMS answered 503").await.unwrap();
        assert!(store.due_lti_scores(now(), 10).await.unwrap().is_empty());
        let waiting = store.lti_scores_of_class(&class.id).await.unwrap();
        assert_eq!((waiting[0].attempts, waiting[0].last_error.as_deref()), (1, Some("the LMS answered 503")));
        // A change meanwhile is due at once, with a later version.
        assert!(store.queue_lti_score(&score(10)).await.unwrap());
        let due = store.due_lti_scores(now(), 10).await.unwrap();
        assert_eq!((due[0].earned, due[0].attempts), (10, 0));
        assert!(due[0].version > waiting[0].version);
        // A failure of the old version does not hold the new one back.
        store.lti_score_failed(&ada.id, &due[0].lineitem, waiting[0].version, now() + 60, "late").await.unwrap();
        assert_eq!(store.due_lti_scores(now(), 10).await.unwrap().len(), 1);
        store.lti_score_sent(&ada.id, &due[0].lineitem, due[0].version).await.unwrap();
        assert!(store.due_lti_scores(now(), 10).await.unwrap().is_empty());
        let sent = store.lti_scores_of_class(&class.id).await.unwrap();
        assert!(sent[0].sent() && sent[0].last_error.is_none());
    }
}

#[tokio::test]
async fn courses_and_links_map_to_classes_and_labs() {
    for store in stores().await {
        let platform = store.save_lti_platform(&moodle("a"), false).await.unwrap();
        let class = store.create_class("C", None, &ClassSettings::default()).await.unwrap();
        store.set_lti_context(&platform.id, "course-7", &class.id, Some("https://m/roster")).await.unwrap();
        store.set_lti_context(&platform.id, "course-7", &class.id, None).await.unwrap();
        assert_eq!(store.lti_context(&platform.id, "course-7").await.unwrap(), Some((class.id.clone(), Some("https://m/roster".into()))));
        let link = LtiLink {
            platform_id: platform.id.clone(),
            link_id: "rl-1".into(),
            class_id: class.id.clone(),
            lab_id: "netns".into(),
            lineitem: Some("https://m/li/1".into()),
        };
        store.save_lti_link(&link).await.unwrap();
        store.save_lti_link(&LtiLink { lineitem: None, ..link.clone() }).await.unwrap();
        assert_eq!(store.lti_link(&platform.id, "rl-1").await.unwrap(), Some(link.clone()), "a launch without the claim keeps the column");
        assert_eq!(store.lti_links_of_class(&class.id).await.unwrap(), vec![link]);
        let ada = store.create_learner(&class.id, "Ada", None).await.unwrap();
        let who = Vouched {
            issuer: format!("lti:{}", platform.id),
            subject: "u-ada".into(),
            display_name: "Ada".into(),
            email: None,
            staff: false,
        };
        let identity = store.vouched(&who).await.unwrap();
        store.link_identity(&ada.id, &identity.id).await.unwrap();
        assert_eq!(store.lti_user(&ada.id).await.unwrap(), Some((who.issuer.clone(), "u-ada".into())));
    }
}
