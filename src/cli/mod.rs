//! The subcommands, one module per group. Each parses nothing (clap did, `args`), calls the
//! library and prints; behaviour lives in the library.
//!
//! Output goes through `out!` and `outln!` (`output`). `search`, `ask` and `output` (with
//! `args`) are also compiled into the `deskmail` front (src/front.rs), which answers searches,
//! and what a running daemon renders, itself.

#[macro_use]
pub mod output;

pub mod admin;
pub mod args;
pub mod ask;
pub mod backup;
pub mod common;
pub mod ingest;
pub mod read;
pub mod receivables;
pub mod review;
pub mod rules;
pub mod run;
pub mod search;
