//! Accounts receivable: `invoices`, `reminders`, `outbox`. Each goes to the store, or to the
//! daemon when it holds the store.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, anyhow};

use deskmail::daemon::control::View;

use super::args::{DataArg, InvoicesCommand, OutboxCommand, RemindersCommand};
use super::common::{cli_actor, load_config, print_view, store_request};

pub fn invoices(command: InvoicesCommand) -> Result<ExitCode> {
    match command {
        InvoicesCommand::Import { data, file } => import(&data, &file),
        InvoicesCommand::List { data, json } => print_view(&data.data, View::Invoices { json }),
        InvoicesCommand::Status {
            data,
            invoice_number,
            status,
        } => {
            let request = View::InvoiceStatus {
                number: invoice_number,
                status,
                actor: cli_actor(),
            };
            print_view(&data.data, request)
        }
    }
}

/// The ERP's CSV: every problem listed and nothing imported, or all of it.
fn import(data: &DataArg, file: &Path) -> Result<ExitCode> {
    match deskmail::receivables::import_csv(file) {
        Ok(receivables) => {
            let request = View::InvoicesImport {
                receivables,
                source: file.display().to_string(),
                actor: cli_actor(),
            };
            out!("{}", store_request(&data.data, request, true)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("{} problem(s); nothing imported", errors.len());
            Ok(ExitCode::from(1))
        }
    }
}

pub fn reminders(command: RemindersCommand) -> Result<ExitCode> {
    let RemindersCommand::Preview {
        data,
        config,
        on,
        json,
    } = command;
    let cadence = load_config(&config)?
        .dunning
        .ok_or_else(|| anyhow!("{} has no [dunning] section", config.display()))?;
    let request = View::Reminders {
        cadence: Box::new(cadence),
        day: on.unwrap_or_else(|| chrono::Utc::now().date_naive()),
        json,
    };
    print_view(&data.data, request)
}

pub fn outbox(command: OutboxCommand) -> Result<ExitCode> {
    match command {
        OutboxCommand::List { data, json } => print_view(&data.data, View::Outbox { json }),
        OutboxCommand::Retry { data, id } => {
            let request = View::OutboxRetry {
                id,
                actor: cli_actor(),
            };
            print_view(&data.data, request)
        }
    }
}
