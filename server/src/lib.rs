//! The Stacklab server: HTTP and WebSockets (axum + Leptos), sandboxes, terminals, the store,
//! and the `stacklab` subcommands. `main.rs` only parses the command line and dispatches.

#![recursion_limit = "256"]

pub mod allocator;
pub mod checks;
pub mod classroom;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod files;
pub mod identity;
pub mod kubernetes;
pub mod kvm;
pub mod lti;
pub mod metrics;
pub mod periodic;
pub mod presentations;
pub mod previews;
pub mod recordings;
pub mod sandboxes;
pub mod serve;
pub mod store;
pub mod telemetry;
pub mod terminals;
pub mod tiers;
pub mod time_scale;
pub mod updates;
pub mod vm;
pub mod web;
