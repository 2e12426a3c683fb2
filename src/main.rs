//! The deskmail command line: parse arguments, hand each subcommand to its module in `cli`
//! (which calls the library and prints), turn the outcome into an exit code.

mod cli;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use cli::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::common::init_logging(cli.log_format);
    match run(cli.command) {
        Ok(code) => code,
        // Whoever read our output stopped (`deskmail search ... | head -1`): done, quietly.
        Err(e) if cli::common::is_closed_stdout(&e) => ExitCode::SUCCESS,
        // A config with mistakes: every problem as path:line: message, exit 1 (like rules check).
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

fn run(command: Command) -> Result<ExitCode> {
    use cli::{admin, backup, ingest, read, receivables, review, rules, run};
    match command {
        Command::Ingest(args) => ingest::ingest(args),
        Command::Reindex { data } => ingest::reindex(&data),
        Command::Compact { data, json } => ingest::compact(&data, json),
        Command::Backup { data, out } => backup::backup(&data.data, &out),
        Command::Restore { data, archive } => backup::restore(&data, &archive),
        Command::Eval { rules, json, dir } => ingest::eval(&rules, json, &dir),
        Command::Bench { command } => ingest::bench(command),
        Command::Search(args) => read::search(args),
        Command::Show { data, json, id } => read::show(&data, json, id),
        Command::Thread { data, json, id } => read::thread(&data, json, id),
        Command::Stats { data, json } => read::stats(&data, json),
        Command::Status { data, json } => read::status(&data, json),
        Command::Rules { command } => rules::run(command),
        Command::Run(args) => run::run(args),
        Command::Config { command } => run::config(command),
        Command::Serve(args) => run::serve(args),
        Command::Invoices { command } => receivables::invoices(command),
        Command::Reminders { command } => receivables::reminders(command),
        Command::Outbox { command } => receivables::outbox(command),
        Command::Review { command } => review::review(command),
        Command::Vendors { command } => review::vendors(command),
        Command::Token { command } => admin::token(command),
        Command::Audit { command } => admin::audit(command),
        Command::Keys { command } => admin::keys(command),
        Command::Export { data, out, email } => admin::export(&data, &out, &email),
        Command::Erase { data, email } => admin::erase(&data, &email),
        Command::Purge {
            data,
            config,
            dry_run,
        } => admin::purge(&data, &config, dry_run),
        Command::Hold {
            data,
            release,
            thread,
        } => admin::hold(&data, release, &thread),
    }
}
