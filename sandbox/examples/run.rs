//! Development aid: start a throwaway sandbox and run one script in it.
//! `cargo run -p sandbox --example run -- <image dir> '<script>'` (as root).

use std::time::Duration;

use sandbox::native::{NativeBackend, NativeConfig};
use sandbox::{Backend, ExecRequest, Limits, SandboxSpec};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let image = args.next().expect("image dir");
    let script = args.next().expect("script");
    let data = tempfile::tempdir().unwrap();
    let helper = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("stacklab-sandbox-helper");
    let backend = NativeBackend::open(NativeConfig {
        data_dir: data.path().into(),
        image: image.into(),
        helper: vec![helper.into()],
        uid_base: 1_900_000_000,
        cgroup_root: "stacklab-example".into(),
        cgroup_parent: String::new(),
        outbound: None,
        shared_files: Vec::new(),
        start_limits: Default::default(),
    })
    .unwrap();
    let spec = SandboxSpec {
        name: "example".into(),
        owner: "example".into(),
        limits: Limits::default(),
        devices: [sandbox::Device::Kvm, sandbox::Device::Fuse, sandbox::Device::Tun]
            .into_iter()
            .filter(|d| std::path::Path::new(d.path()).exists())
            .collect(),
        network: Default::default(),
        init: sandbox::Init::Minimal,
    };
    let t = std::time::Instant::now();
    backend.start(&spec).await.unwrap();
    eprintln!("started in {:?}", t.elapsed());
    let out = backend
        .exec(
            "example",
            ExecRequest::script(&script)
                .timeout(Duration::from_secs(std::env::var("TIMEOUT").ok().and_then(|t| t.parse().ok()).unwrap_or(60))),
        )
        .await
        .unwrap();
    print!("{}", out.stdout_text());
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    eprintln!("-> {:?} in {:?}", out.end, out.took);
    backend.shutdown_all_blocking();
}
