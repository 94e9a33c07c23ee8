#!/usr/bin/env bash
# lab-cluster tells a learner why a cluster component stopped: the line of its log that says so
# (a Go panic, klog's fatal line) rather than the stack trace after it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python3 - "$ROOT/sandbox/image/files/lab-cluster" <<'PY'
import importlib.machinery, importlib.util, sys
loader = importlib.machinery.SourceFileLoader("lab_cluster", sys.argv[1])
module = importlib.util.module_from_spec(importlib.util.spec_from_loader("lab_cluster", loader))
loader.exec_module(module)
cases = [
    (["I1203 12:00:00.000001 1 server.go:1] starting",
      "F1203 12:00:02.000000 1 controllermanager.go:200] error starting controllers: timed out",
      "goroutine 1 [running]:", "k8s.io/apimachinery/pkg/watch/mux.go:73 +0x116"],
     "F1203 12:00:02.000000 1 controllermanager.go:200] error starting controllers: timed out"),
    (["started", "panic: runtime error: index out of range", "goroutine 7 [running]:", "main.main()"],
     "panic: runtime error: index out of range"),
    (["fatal error: out of memory", "runtime stack:"], "fatal error: out of memory"),
    (["listening on 127.0.0.1:10257"], "listening on 127.0.0.1:10257"),
]
for lines, want in cases:
    got = module.why_it_stopped(list(lines))
    if got != want:
        sys.exit(f"lab-cluster: for {lines!r} expected {want!r}, got {got!r}")
PY
