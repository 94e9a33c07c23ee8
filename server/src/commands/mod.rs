//! The subcommands besides `serve` (which is [`crate::serve`]): each a small program of its own,
//! defined in [`crate::cli`].

pub mod hold;
pub mod image;
pub mod labs;
