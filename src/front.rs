//! `deskmail`, the command people type: it answers `deskmail search` itself and runs
//! `deskmail-engine` (installed beside it) with the same arguments for everything else, help,
//! version and argument errors included (src/exe.rs says why there are two).
//!
//! The arguments are parsed with the engine's own definitions (`cli::args`), so a search means
//! here exactly what it means there, and the search itself is the engine's code (`cli::search`).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// The parts of the engine's command line a search needs, compiled here from the same files.
#[path = "cli"]
mod cli {
    // `out!` (without a newline) is the engine's; a search prints whole lines.
    #[macro_use]
    #[allow(unused_macros)]
    pub mod output;

    // Every subcommand's arguments are defined here (to parse exactly as the engine does); only
    // search's are read here, the rest by the engine.
    #[allow(dead_code)]
    pub mod args;
    pub mod search;
}

use cli::args::{Cli, Command};

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    match Cli::try_parse_from(&argv) {
        Ok(Cli {
            command: Command::Search(args),
            log_format,
        }) => {
            cli::output::init_logging(log_format);
            cli::output::exit_code(cli::search::search(args))
        }
        _ => run_engine(argv),
    }
}

/// Replaces this process with the engine (the same process id, arguments, environment and
/// standard streams: a daemon started as `deskmail run` is that process); returns only if it
/// cannot be run.
fn run_engine(argv: Vec<OsString>) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let engine = deskmail::exe::beside_this(deskmail::exe::ENGINE)
        .unwrap_or_else(|| deskmail::exe::ENGINE.into());
    let mut command = std::process::Command::new(&engine);
    command.args(argv.iter().skip(1));
    // clap names the program after argv[0]: usage and errors still say `deskmail`.
    if let Some(name) = argv.first() {
        command.arg0(name);
    }
    let error = command.exec();
    eprintln!(
        "error: cannot run {} ({error}): `{}` runs every command but search, and is installed \
         beside `{}`",
        engine.display(),
        deskmail::exe::ENGINE,
        deskmail::exe::FRONT
    );
    ExitCode::from(2)
}
