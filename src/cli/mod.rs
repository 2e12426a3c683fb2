//! The subcommands, one module per group. Each parses nothing (clap did, `args`), calls the
//! library and prints; behaviour lives in the library.
//!
//! Output goes through `out!` and `outln!`, which return the write error instead of
//! panicking like `print!`: a reader that goes away (`deskmail search ... | head -1`) ends the
//! command quietly (see `main`).

/// `print!` that returns `Result<(), StdoutError>` instead of panicking when stdout is closed.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*).map_err($crate::cli::common::StdoutError)
    }};
}

/// `println!` that returns `Result<(), StdoutError>` instead of panicking when stdout is closed.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::cli::common::StdoutError)
    }};
}

pub mod admin;
pub mod args;
pub mod backup;
pub mod common;
pub mod ingest;
pub mod read;
pub mod receivables;
pub mod review;
pub mod rules;
pub mod run;
