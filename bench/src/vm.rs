//! The vm tier: the guest booting to its shell with TCG (binary translation) next to KVM
//! (hardware assist) where KVM really works here — the lab's teaching point — and next to a
//! sandbox starting, for scale. Boot times are what `lab-vm start` measures (QEMU started to
//! the guest's ready line on the serial console), read back from its boots.log.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use sandbox::native::NativeBackend;
use sandbox::{Backend, Device, ExecRequest, Limits, SandboxSpec};

use crate::report::Table;
use crate::stats::{Samples, ms};

const BOOTS: usize = 10;

pub async fn run(stacklab: &Path, table: &mut Table) -> anyhow::Result<()> {
    let data = tempfile::Builder::new().prefix("stacklab-bench-vm-").tempdir()?;
    let kvm = server::vm::KvmFact::prepare(data.path())?;
    let backend = crate::native::open(stacklab, data.path(), "stacklab-bench-vm", 1_900_000_000, vec![kvm.shared_file()])?;
    server::vm::probe_into(&backend, &kvm).await;
    let result = measure(&backend, &kvm.read(), table).await;
    backend.shutdown_all_blocking();
    result
}

fn spec() -> SandboxSpec {
    SandboxSpec {
        name: "bench-vm".into(),
        owner: "bench-vm".into(),
        limits: Limits { memory_bytes: 1 << 30, cpu_millis: 2000, pids: 256, disk_bytes: 0 },
        devices: [Device::Kvm].into_iter().filter(|d| Path::new(d.path()).exists()).collect(),
        network: Default::default(),
        init: sandbox::Init::Minimal,
    }
}

/// Boots `accel` once in the sandbox and powers it off; the boot time lab-vm measured.
async fn boot(backend: &NativeBackend, accel: &str) -> anyhow::Result<Duration> {
    let script = format!("lab-vm start --accel {accel} >&2 && tail -1 /var/lib/lab-vm/boots.log && lab-vm stop >&2");
    let out = backend.exec("bench-vm", ExecRequest::script(&script).timeout(Duration::from_secs(180))).await?;
    let text = String::from_utf8_lossy(&out.stdout);
    let ms = text.split_whitespace().find_map(|w| w.strip_prefix("boot_ms=")).and_then(|v| v.parse::<u64>().ok()).with_context(|| {
        format!("no boot time from lab-vm ({:?}): {} {}", out.end, text.trim(), String::from_utf8_lossy(&out.stderr).trim())
    })?;
    Ok(Duration::from_millis(ms))
}

async fn measure(backend: &NativeBackend, kvm: &str, table: &mut Table) -> anyhow::Result<()> {
    let mut starts = Vec::new();
    for _ in 0..BOOTS {
        let started = Instant::now();
        backend.start(&spec()).await?;
        let out = backend.exec("bench-vm", ExecRequest::script("true")).await?;
        anyhow::ensure!(out.success(), "the sandbox did not answer");
        starts.push(started.elapsed());
        backend.stop("bench-vm").await?;
    }
    backend.start(&spec()).await?;
    let mut tcg = Vec::new();
    for _ in 0..BOOTS {
        tcg.push(boot(backend, "tcg").await?);
    }
    let tcg = Samples::new(tcg);
    let kvm_usable = kvm.starts_with("usable");
    if kvm_usable {
        let mut with_kvm = Vec::new();
        for _ in 0..BOOTS {
            with_kvm.push(boot(backend, "kvm").await?);
        }
        let with_kvm = Samples::new(with_kvm);
        table.add(
            "VM boot to the guest's shell, TCG (p50 of 10)",
            ms(tcg.p50()),
            "the same VM with KVM (p50 of 10)",
            ms(with_kvm.p50()),
            tcg.p50().as_secs_f64() / with_kvm.p50().as_secs_f64(),
        );
    } else {
        let why = kvm.split_once(' ').map_or(kvm, |(_, w)| w);
        table.add(
            "VM boot to the guest's shell, TCG (p50 of 10)",
            ms(tcg.p50()),
            &format!("KVM: not usable here ({why})"),
            "-".into(),
            f64::NAN,
        );
    }
    let starts = Samples::new(starts);
    table.add(
        "VM boot to the guest's shell, TCG (p50 of 10)",
        ms(tcg.p50()),
        "sandbox start to a command answered (p50 of 10)",
        ms(starts.p50()),
        tcg.p50().as_secs_f64() / starts.p50().as_secs_f64(),
    );
    Ok(())
}
