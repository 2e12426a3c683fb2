//! `deskmail`, the command people type: it answers `deskmail search` itself, and `show`,
//! `thread` and `stats` when a daemon holds the store (they are the daemon's to render then);
//! it runs `deskmail-engine` (installed beside it) with the same arguments for everything else,
//! help, version and argument errors included (src/exe.rs says why there are two).
//!
//! The arguments are parsed with the engine's own definitions (`cli::args`), so a command means
//! here exactly what it means there, and what answers it is the engine's code (`cli::search`,
//! `cli::ask`).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// The parts of the engine's command line the front's commands need, compiled here from the
/// same files (with `out!` and `outln!`).
#[macro_use]
#[path = "cli"]
mod cli {
    #[macro_use]
    pub mod output;

    // Every subcommand's arguments are defined here (to parse exactly as the engine does); only
    // those of search, show, thread and stats are read here, the rest by the engine.
    #[allow(dead_code)]
    pub mod args;
    pub mod ask;
    pub mod search;
}

use deskmail::daemon::control::View;

use cli::args::{Cli, Command};

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let Ok(Cli {
        command,
        log_format,
    }) = Cli::try_parse_from(&argv)
    else {
        return run_engine(argv);
    };
    let (data, view) = match command {
        Command::Search(args) => {
            cli::output::init_logging(log_format);
            return cli::output::exit_code(cli::search::search(args));
        }
        Command::Show { data, json, id } => (data, View::Show { id, json }),
        Command::Thread { data, json, id } => (data, View::Thread { id, json }),
        Command::Stats { data, json } => (data, View::Stats { json }),
        _ => return run_engine(argv),
    };
    match cli::ask::daemon(&data.data, &view) {
        Ok(answer) => {
            cli::output::init_logging(log_format);
            let printed = answer.and_then(|text| Ok(out!("{text}")?));
            cli::output::exit_code(printed.map(|()| ExitCode::SUCCESS))
        }
        // No daemon: the engine opens the store itself.
        Err(_) => run_engine(argv),
    }
}

/// Replaces this process with the engine (the same process id, arguments, environment and
/// standard streams: a daemon started as `deskmail run` is that process); returns only if it
/// cannot be run.
fn run_engine(argv: Vec<OsString>) -> ExitCode {
    use std::os::unix::process::CommandExt;
    // Beside this executable only, never from PATH: the front must not run whatever another
    // directory calls deskmail-engine.
    let Some(engine) = deskmail::exe::beside_this(deskmail::exe::ENGINE) else {
        eprintln!(
            "error: cannot run {0}: `{0}` runs every command but search, and is installed in \
             the same directory as `{1}`",
            deskmail::exe::ENGINE,
            deskmail::exe::FRONT
        );
        return ExitCode::from(2);
    };
    let mut command = std::process::Command::new(&engine);
    command.args(argv.iter().skip(1));
    // clap names the program after argv[0]: usage and errors still say `deskmail`.
    if let Some(name) = argv.first() {
        command.arg0(name);
    }
    // Set here, so that the engine need not run itself again to get them.
    deskmail::exe::set_malloc_tunables(&mut command);
    let error = command.exec();
    eprintln!("error: cannot run {}: {error}", engine.display());
    ExitCode::from(2)
}
