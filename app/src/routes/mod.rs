//! One module per page.

pub mod home;
pub mod join;
pub mod lab;
