//! Components used by more than one page.

pub mod confirm;
pub mod editor;
pub mod help;
pub mod hydration;
pub mod language;
pub mod live;
pub mod messages;
pub mod poll;
pub mod ports;
pub mod quiz;
pub mod replay;
#[cfg(feature = "hydrate")]
pub mod scripts;
pub mod terminal;
pub mod tier_status;
pub mod time;
