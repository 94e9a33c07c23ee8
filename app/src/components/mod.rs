//! Components used by more than one page.

pub mod hydration;
pub mod terminal;
pub mod live;
pub mod quiz;
