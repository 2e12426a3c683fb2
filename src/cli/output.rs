//! Where a command's words go, for both executables (`deskmail` and `deskmail-engine`): its
//! output on stdout through `out!` and `outln!`, which return the write error instead of
//! panicking like `print!` (a reader that goes away, `deskmail search ... | head -1`, ends the
//! command quietly), its log on stderr, and its exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

/// `print!` that returns `Result<(), StdoutError>` instead of panicking when stdout is closed.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*).map_err($crate::cli::output::StdoutError)
    }};
}

/// `println!` that returns `Result<(), StdoutError>` instead of panicking when stdout is closed.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::cli::output::StdoutError)
    }};
}

/// A command's outcome as the process's exit code, its error (if any) on stderr: 0, 1 for a
/// config with mistakes (every problem as path:line: message, like `rules check`), 2 for any
/// other error; a closed stdout is success.
pub fn exit_code(outcome: anyhow::Result<ExitCode>) -> ExitCode {
    match outcome {
        Ok(code) => code,
        // Whoever read our output stopped (`deskmail search ... | head -1`): done, quietly.
        Err(e) if is_closed_stdout(&e) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<deskmail::config::ConfigErrors>().is_some() => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A write to stdout that failed; `out!` and `outln!` return it instead of panicking.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to stdout: {0}")]
pub struct StdoutError(pub std::io::Error);

/// The reader of our output went away (`deskmail search ... | head -1`): not an error.
pub fn is_closed_stdout(e: &anyhow::Error) -> bool {
    e.downcast_ref::<StdoutError>()
        .is_some_and(|StdoutError(io)| io.kind() == std::io::ErrorKind::BrokenPipe)
}

pub fn init_logging(format: super::args::LogFormat) {
    use tracing_subscriber::EnvFilter;
    // pdf-extract logs an ERROR for every encrypted PDF; deskmail reports that per attachment.
    // sled (opened only to migrate an older store) warns on every open that deskmail's blob
    // segments share its `blobs/` directory (harmless: it skips names it did not write).
    // fjall and its LSM tree narrate every open and flush at INFO; their warnings still show.
    let filter = EnvFilter::try_from_env("DESKMAIL_LOG").unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "{},pdf_extract=off,lopdf=off,sled=error,fjall=warn,lsm_tree=warn",
            default_log_level()
        ))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        super::args::LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        // One object per line: time, level, the event's fields, and `spans` (every enclosing
        // span with its fields: mailbox, folder, message) so a shipper can filter on them.
        super::args::LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .flatten_event(true)
            .try_init(),
    };
}

/// `run` logs what it does; `serve` and the rest say only what needs an operator's eye (a
/// data directory others could read, a file skipped).
fn default_log_level() -> &'static str {
    if std::env::args().nth(1).as_deref() == Some("run") {
        "info"
    } else {
        "warn"
    }
}
