//! The subcommands, one module per group. Each parses nothing (clap did, `args`), calls the
//! library and prints; behaviour lives in the library.

pub mod admin;
pub mod args;
pub mod common;
pub mod ingest;
pub mod read;
pub mod receivables;
pub mod review;
pub mod rules;
pub mod run;
