use std::time::Duration;
use sandbox::native::{NativeBackend, NativeConfig};
use sandbox::{Backend, ExecRequest, Limits, SandboxSpec};

#[tokio::main]
async fn main() {
    let image = std::env::args().nth(1).unwrap();
    let data = tempfile::tempdir().unwrap();
    let helper = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("stacklab-sandbox-helper");
    let backend = NativeBackend::open(NativeConfig { data_dir: data.path().into(), image: image.into(), helper: vec![helper.into()], uid_base: 1_900_000_000, cgroup_root: "stacklab-example".into() }).unwrap();
    let spec = SandboxSpec { name: "example".into(), owner: "example".into(), limits: Limits::default(), devices: vec![], network: Default::default() };
    backend.start(&spec).await.unwrap();
    let out = backend.exec("example", ExecRequest::script("sleep 1000").timeout(Duration::from_millis(500))).await.unwrap();
    eprintln!("{:?}", out.end);
    let out = backend.exec("example", ExecRequest::script("ps -ef; ls /sys/fs/cgroup/pids/; cat /proc/2/cgroup")).await.unwrap();
    println!("{}", out.stdout_text());
    backend.shutdown_all_blocking();
}
