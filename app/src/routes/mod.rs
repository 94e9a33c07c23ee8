//! One module per page.

pub mod deck;
pub mod home;
pub mod instructor;
pub mod join;
pub mod lab;
pub mod present;
pub mod presenter_poll;
