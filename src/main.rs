//! `deskmail-engine`, the deskmail command line with every subcommand: parse arguments, hand
//! each subcommand to its module in `cli` (which calls the library and prints), turn the
//! outcome into an exit code. People type `deskmail` (src/front.rs), which answers a search
//! itself and runs this executable, with the same arguments, for everything else.

mod cli;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use cli::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.runs_long() {
        deskmail::exe::rerun_with_malloc_tunables();
    }
    cli::output::init_logging(cli.log_format);
    cli::output::exit_code(run(cli.command))
}

fn run(command: Command) -> Result<ExitCode> {
    use cli::{admin, backup, ingest, read, receivables, review, rules, run, search};
    match command {
        Command::Ingest(args) => ingest::ingest(args),
        Command::Reindex { data } => ingest::reindex(&data),
        Command::Compact { data, json } => ingest::compact(&data, json),
        Command::Backup { data, out } => backup::backup(&data.data, &out),
        Command::Restore { data, archive } => backup::restore(&data, &archive),
        Command::Eval { rules, json, dir } => ingest::eval(&rules, json, &dir),
        Command::Bench { command } => ingest::bench(command),
        Command::Search(args) => search::search(args),
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
