//! The desk's checks: the `review` queue and the `vendors` registry.

use std::process::ExitCode;

use anyhow::Result;

use deskmail::daemon::control::View;
use deskmail::views::Decide;

use super::args::{DataArg, ReviewCommand, VendorsCommand};
use super::common::{cli_actor, print_view};

pub fn review(command: ReviewCommand) -> Result<ExitCode> {
    match command {
        ReviewCommand::List { data, all, json } => {
            print_view(&data.data, View::ReviewList { all, json })
        }
        ReviewCommand::Show { data, json, id } => {
            print_view(&data.data, View::ReviewShow { id, json })
        }
        ReviewCommand::Confirm { data, version, id } => decide(&data, id, Decide::Confirm, version),
        ReviewCommand::Correct {
            data,
            version,
            id,
            fields,
        } => decide(&data, id, Decide::Correct { fields }, version),
        ReviewCommand::Reject {
            data,
            version,
            note,
            id,
        } => decide(&data, id, Decide::Reject { note }, version),
        ReviewCommand::Export { data, since, dir } => {
            let dir = std::path::absolute(&dir)?;
            print_view(&data.data, View::ReviewExport { since, dir })
        }
    }
}

/// Confirm, correct or reject an item, as the person running the command.
fn decide(data: &DataArg, id: String, decide: Decide, version: Option<u32>) -> Result<ExitCode> {
    print_view(
        &data.data,
        View::ReviewDecide {
            id,
            decide,
            version,
            actor: cli_actor(),
        },
    )
}

pub fn vendors(command: VendorsCommand) -> Result<ExitCode> {
    match command {
        VendorsCommand::List { data, json } => print_view(&data.data, View::Vendors { json }),
        VendorsCommand::Show { data, json, key } => {
            print_view(&data.data, View::VendorShow { key, json })
        }
        VendorsCommand::ConfirmIban { data, key, iban } => print_view(
            &data.data,
            View::VendorConfirmIban {
                key,
                iban,
                actor: cli_actor(),
            },
        ),
    }
}
