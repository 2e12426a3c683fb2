//! An AR desk on fixed dates, for the API and browser tests of the receivables view: five
//! imported invoices, the reminders the cadence sent for them, and customer mail that disputes
//! one, promises another and pays a third.
//!
//! | invoice      | due        | on 2026-11-16 (no mail yet) | then the inbox (run at 2026-11-25)   |
//! |--------------|------------|-----------------------------|---------------------------------------|
//! | OC-2026-1010 | 2026-11-01 | reminder step +14           | disputed (dispute-en-us-incorrect-amount) |
//! | OC-2026-1001 | 2026-11-05 | reminder step +7            | paid (remittance-en-us-ach-…)         |
//! | OC-2026-1020 | 2026-11-10 | reminder step 0             | promised until 2026-12-15 (promise-to-pay-en-gb-…) |
//! | OC-2026-1030 | 2026-11-13 | reminder step 0             | open: its step +7 goes on 2026-11-25  |
//! | OC-2026-1040 | 2026-12-11 | not due                     | open, not due                         |

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{bin, fixtures, import_invoices, json_of, root};

/// The fixture messages the inbox receives, and the invoice each is about.
pub const MAIL: &[(&str, &str)] = &[
    ("ar/dispute-en-us-incorrect-amount.eml", "OC-2026-1010"),
    (
        "ar/remittance-en-us-ach-payment-confirmation.eml",
        "OC-2026-1001",
    ),
    ("ar/promise-to-pay-en-gb-by-15-december.eml", "OC-2026-1020"),
];

/// Build the desk in `dir`; its data directory.
pub fn desk(dir: &Path) -> PathBuf {
    let config = dir.join("deskmail.toml");
    std::fs::write(
        &config,
        format!(
            "data = \"data\"\nrules = \"{rules}\"\n\
             [[drop_folder]]\nname = \"ar\"\npath = \"drop\"\n\
             [outbound]\nfrom = \"ar@ourcompany.example\"\ntemplates = \"{templates}\"\n\
             transport = {{ type = \"file\", dir = \"sent\" }}\n\
             [dunning]\nsteps = [ {{ offset = -3, template = \"ar-friendly\" }}, \
             {{ offset = 0, template = \"ar-due\" }}, {{ offset = 7, template = \"ar-reminder\" }}, \
             {{ offset = 14, template = \"ar-second\" }} ]\n\
             business_days_only = false\nsend_from = 00:00:00\nsend_until = 23:59:59\n\
             notify = \"ar-team@ourcompany.example\"\n",
            rules = root().join("rules").display(),
            templates = root().join("templates").display()
        ),
    )
    .unwrap();
    let data = dir.join("data");
    let drop = dir.join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    let csv = dir.join("ar.csv");
    std::fs::write(
        &csv,
        "invoice_number,customer,customer_email,amount,currency,issue_date,due_date\n\
         OC-2026-1010,Lakeside Medical,rachel.kim@lakeside-medical.example,8640.00,USD,2026-10-01,2026-11-01\n\
         OC-2026-1001,Lakeside Medical Group,ap@lakeside-medical.example,5400.00,USD,2026-10-05,2026-11-05\n\
         OC-2026-1020,Greenway Retail plc,supplier.payments@greenway-retail.example,800.00,GBP,2026-10-10,2026-11-10\n\
         OC-2026-1030,Fabrikam,ap@fabrikam.example,99.00,EUR,2026-10-13,2026-11-13\n\
         OC-2026-1040,Fabrikam,ap@fabrikam.example,450.00,EUR,2026-11-11,2026-12-11\n",
    )
    .unwrap();
    import_invoices(&data, &csv);
    let first = run_once(&config, "2026-11-16T10:00:00Z");
    assert_eq!(first["dunning"]["reminders"], 4, "{first}");
    for (file, _) in MAIL {
        let from = fixtures().join(file);
        std::fs::copy(&from, drop.join(from.file_name().unwrap())).unwrap();
    }
    let second = run_once(&config, "2026-11-25T10:00:00Z");
    assert_eq!(second["stored"], 3, "{second}");
    assert_eq!(second["dunning"]["reminders"], 1, "{second}");
    assert_eq!(second["dunning"]["notices"], 1, "{second}");
    data
}

/// `deskmail run --once --json --config F --now T`: its summary.
fn run_once(config: &Path, now: &str) -> Value {
    json_of(
        &bin()
            .args(["run", "--once", "--json", "--config"])
            .arg(config)
            .args(["--now", now])
            .output()
            .unwrap(),
    )
}
