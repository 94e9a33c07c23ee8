//! Per-learner sandboxes. [`Backend`] is the interface every kind of sandbox implements (the
//! native namespaces backend here; Docker and Kubernetes elsewhere), with the same semantics:
//! a named sandbox with a root shell, checks run inside it with a time limit, limits on memory,
//! CPU, pids and disk, and the learner's files kept until a reset.

mod backend;
mod check;
pub mod docker;
#[cfg(any(test, feature = "testing"))]
pub mod fake;
pub mod hash;
pub mod image;
pub mod kubernetes;
pub mod native;
mod pty;
pub mod seccomp;
mod spec;
pub mod time_scale;

pub use backend::*;
pub use check::{CHECK_OUTPUT_LIMIT, CheckRequest};
pub use pty::PtySize;
pub use spec::*;
