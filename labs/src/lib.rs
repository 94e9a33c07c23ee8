//! The workbook format: the course model shared by server and browser (`model`), and, with the
//! `load` feature, reading and validating a content tree from disk (`load`).
//!
//! The format itself is documented for authors in `labs/README.md`.

pub mod chrome;
pub mod model;

#[cfg(feature = "load")]
pub mod load;

pub use model::*;
