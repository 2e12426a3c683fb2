//! Helpers shared by the integration tests: run the deskmail binary from the repository root
//! with no DESKMAIL_* settings leaking in from the caller's environment.
#![allow(dead_code)] // each test crate uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub mod api;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    root().join("fixtures/mail")
}

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_deskmail"));
    c.current_dir(root())
        .env_remove("DESKMAIL_DATA")
        .env_remove("DESKMAIL_RULES")
        .env_remove("DESKMAIL_CONFIG")
        .env_remove("DESKMAIL_DROP");
    c
}

pub fn deskmail(args: &[&str]) -> Output {
    bin().args(args).output().expect("deskmail runs")
}

/// The JSON a successful command printed.
pub fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// Each imported receivable's status ("open", "paid", ...) by invoice number.
pub fn invoice_statuses(data: &Path) -> std::collections::BTreeMap<String, String> {
    let list = json_of(&deskmail(&[
        "invoices",
        "list",
        "--json",
        "--data",
        data.to_str().unwrap(),
    ]));
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["invoice_number"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `deskmail invoices import`, which must succeed; what it printed.
pub fn import_invoices(data: &Path, csv: &Path) -> String {
    let out = bin()
        .args(["invoices", "import", "--data"])
        .arg(data)
        .arg(csv)
        .output()
        .expect("deskmail runs");
    assert!(
        out.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
