//! The review queue and the vendor guard from the command line, on the shipped rules and the
//! fixtures in fixtures/guard: which messages a person is asked to look at (and which not),
//! confirm / correct / reject with their checks, corrections reaching search, the invoice
//! records and the rule-example export, and replies that wait for a review.

use std::path::Path;

use serde_json::Value;

mod common;
use common::{bin, deskmail, json_of, root};

fn guard(name: &str) -> String {
    root()
        .join("fixtures/guard")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn ingest(data: &Path, names: &[&str]) {
    let mut args = vec![
        "ingest".to_string(),
        "--role".into(),
        "ap".into(),
        "--data".into(),
        data.to_str().unwrap().into(),
    ];
    args.extend(names.iter().map(|n| guard(n)));
    let out = bin().args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every item in the queue (decided ones too).
fn items(data: &Path) -> Vec<Value> {
    let v = json_of(&deskmail(&[
        "review",
        "list",
        "--all",
        "--json",
        "--data",
        data.to_str().unwrap(),
    ]));
    v["items"].as_array().unwrap().clone()
}

/// The queue item whose subject contains `subject`.
fn item(data: &Path, subject: &str) -> Option<Value> {
    items(data)
        .into_iter()
        .find(|i| i["subject"].as_str().unwrap().contains(subject))
}

fn reasons(item: &Value) -> Vec<String> {
    item["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

fn show(data: &Path, id: &str) -> Value {
    json_of(&deskmail(&[
        "review",
        "show",
        "--json",
        "--data",
        data.to_str().unwrap(),
        id,
    ]))
}

fn vendor(data: &Path) -> Value {
    json_of(&deskmail(&[
        "vendors",
        "show",
        "--json",
        "--data",
        data.to_str().unwrap(),
        "DE498208919",
    ]))
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn each_guard_trigger_goes_to_review_and_the_non_triggers_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();

    // The first invoice teaches the registry the vendor: its VAT ID, IBAN and domain.
    ingest(&data, &["01-first-invoice.eml"]);
    let v = vendor(&data);
    assert_eq!(v["name"], "Muster Maschinenbau GmbH");
    assert_eq!(v["ibans"][0]["iban"], "DE89370400440532013000");
    assert_eq!(v["ibans"][0]["state"], "confirmed");
    assert_eq!(
        v["domains"],
        serde_json::json!(["muster-maschinenbau.example"])
    );
    // The same IBAN written with other spaces is the same IBAN.
    ingest(&data, &["02-same-iban-with-spaces.eml"]);
    assert!(items(&data).is_empty(), "{:?}", items(&data));

    // A second IBAN an admin confirmed beforehand passes; a bad IBAN or vendor is refused.
    let bad = deskmail(&[
        "vendors",
        "confirm-iban",
        "--data",
        d,
        "DE498208919",
        "DE51 2004 1133 0812 3456 01",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("not a valid IBAN"),
        "{}",
        stderr(&bad)
    );
    let nobody = deskmail(&[
        "vendors",
        "confirm-iban",
        "--data",
        d,
        "Nobody Ltd",
        "DE51 2004 1133 0812 3456 00",
    ]);
    assert_eq!(nobody.status.code(), Some(2));
    let ok = deskmail(&[
        "vendors",
        "confirm-iban",
        "--data",
        d,
        "DE498208919",
        "DE51 2004 1133 0812 3456 00",
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    ingest(&data, &["04-known-second-iban.eml"]);
    assert!(items(&data).is_empty(), "{:?}", items(&data));

    // A changed IBAN: in review, old and new side by side, the new one pending in the registry.
    ingest(&data, &["03-changed-iban.eml"]);
    let changed = item(&data, "RE-2026-1003").expect("the changed IBAN is in review");
    assert_eq!(reasons(&changed), ["bank_details_changed"]);
    let shown = show(&data, changed["message_id"].as_str().unwrap());
    assert_eq!(shown["guard"]["new_iban"], "DE44500105175407324931");
    let known: Vec<&str> = shown["guard"]["known_ibans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    assert_eq!(known, ["DE89370400440532013000", "DE51200411330812345600"]);
    let text = deskmail(&[
        "review",
        "show",
        "--data",
        d,
        &changed["message_id"].as_str().unwrap()[..12],
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("known IBANs:   DE89370400440532013000")
            && text.contains("this message:  DE44500105175407324931"),
        "{text}"
    );
    assert!(
        vendor(&data)["ibans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["iban"] == "DE44500105175407324931" && i["state"] == "pending")
    );

    // Look-alike domains (a letter swapped, another TLD) carrying the vendor's own name, VAT
    // ID and IBAN: flagged, and the registry learns nothing from them.
    let before = vendor(&data);
    ingest(&data, &["05-lookalike-domain.eml", "06-other-tld.eml"]);
    for (subject, domain) in [
        ("RE-2026-1005", "muster-maschlnenbau.example"),
        ("RE-2026-1006", "muster-maschinenbau.com"),
    ] {
        let i = item(&data, subject).unwrap();
        assert_eq!(reasons(&i), ["lookalike_sender"], "{subject}");
        let g = &show(&data, i["message_id"].as_str().unwrap())["guard"];
        assert_eq!(g["sender_domain"], domain);
        assert_eq!(
            g["known_domains"],
            serde_json::json!(["muster-maschinenbau.example"])
        );
    }
    let after = vendor(&data);
    assert_eq!(before["domains"], after["domains"]);
    assert_eq!(before["ibans"], after["ibans"]);

    // "Our bank details have changed" in four languages, each with a new IBAN.
    for (file, subject) in [
        ("10-letter-en.eml", "Change of bank details"),
        ("11-letter-de.eml", "Neue Bankverbindung"),
        ("12-letter-fr.eml", "Changement de RIB"),
        ("13-letter-nl.eml", "Gewijzigde bankgegevens"),
    ] {
        ingest(&data, &[file]);
        let i = item(&data, subject).unwrap_or_else(|| panic!("{file} is not in review"));
        assert_eq!(reasons(&i), ["bank_details_changed"], "{file}");
        let g = &show(&data, i["message_id"].as_str().unwrap())["guard"];
        assert_eq!(g["vendor"], "Muster Maschinenbau GmbH", "{file}");
        assert_eq!(g["new_iban"], "DE77100100100123456789", "{file}");
        assert!(
            g["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f.as_str().unwrap().contains("announces new bank details")),
            "{file}: {g}"
        );
    }
    // Only an admin's confirmation makes the letter's IBAN the vendor's.
    assert!(
        vendor(&data)["ibans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["iban"] == "DE77100100100123456789" && i["state"] == "pending")
    );
    let list =
        String::from_utf8_lossy(&deskmail(&["review", "list", "--data", d]).stdout).into_owned();
    assert!(
        list.starts_with("7 open (bank_details_changed 5, lookalike_sender 2)"),
        "{list}"
    );
}

#[test]
fn a_bank_change_letter_from_a_sender_nobody_knows_is_flagged_and_teaches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest(&data, &["10-letter-en.eml"]);
    let i = item(&data, "Change of bank details").unwrap();
    assert_eq!(reasons(&i), ["bank_details_changed"]);
    let g = &show(&data, i["message_id"].as_str().unwrap())["guard"];
    assert_eq!(g["new_iban"], "DE77100100100123456789");
    let vendors = json_of(&deskmail(&[
        "vendors",
        "list",
        "--json",
        "--data",
        data.to_str().unwrap(),
    ]));
    assert_eq!(
        vendors,
        serde_json::json!([]),
        "a letter alone makes no vendor"
    );
    // The vendor's first real invoice is then learnt with its own IBAN, not the letter's.
    ingest(&data, &["01-first-invoice.eml"]);
    let v = vendor(&data);
    assert_eq!(v["ibans"].as_array().unwrap().len(), 1);
    assert_eq!(v["ibans"][0]["iban"], "DE89370400440532013000");
}

#[test]
fn corrections_are_typed_versioned_and_reach_search_invoices_and_the_example_export() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    ingest(&data, &["01-first-invoice.eml", "03-changed-iban.eml"]);
    let i = item(&data, "RE-2026-1003").unwrap();
    let id = i["message_id"].as_str().unwrap().to_string();
    let short = &id[..10];
    assert_eq!(i["version"], 1);

    // Values of the wrong kind are refused, each with what is wrong, and nothing changes.
    for (spec, says) in [
        ("amount_total=abc", "is not an amount"),
        ("invoice_date=2026-13-45", "is not a date"),
        ("amount_total=10.00 EUR USD", "names two currencies"),
        ("amount_total", "is not field=value"),
    ] {
        let out = deskmail(&["review", "correct", "--data", d, short, spec]);
        assert_eq!(out.status.code(), Some(2), "{spec}");
        assert!(stderr(&out).contains(says), "{spec}: {}", stderr(&out));
    }
    assert_eq!(item(&data, "RE-2026-1003").unwrap()["version"], 1);

    // A stale version is a conflict that names who changed it.
    let stale = deskmail(&[
        "review",
        "correct",
        "--data",
        d,
        "--version",
        "7",
        short,
        "amount_total=3600.00 EUR",
    ]);
    assert_eq!(stale.status.code(), Some(2));
    assert!(
        stderr(&stale).contains("now version 1"),
        "{}",
        stderr(&stale)
    );

    let ok = deskmail(&[
        "review",
        "correct",
        "--data",
        d,
        "--version",
        "1",
        short,
        "amount_total=3600.00 EUR",
        "invoice_date=2026-11-03",
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let said = String::from_utf8_lossy(&ok.stdout);
    assert!(said.contains("amount_total: 3570.00 → 3600.00"), "{said}");
    // Someone who saw version 1 now conflicts with that correction.
    let second = deskmail(&[
        "review",
        "correct",
        "--data",
        d,
        "--version",
        "1",
        short,
        "amount_total=1.00",
    ]);
    assert_eq!(second.status.code(), Some(2));
    assert!(
        stderr(&second).contains("was changed by cli:"),
        "{}",
        stderr(&second)
    );

    // The decision carries the corrected value and the original beside it.
    let shown = show(&data, &id);
    assert_eq!(shown["item"]["state"], "corrected");
    assert_eq!(shown["fields"]["amount_total"]["value"], "3600.00");
    let c = &shown["corrections"][0];
    assert_eq!(c["field"], "amount_total");
    assert_eq!(c["before"], "3570.00");
    // Search finds the corrected amount and no longer the original.
    let hits = |q: &str| {
        json_of(&deskmail(&["search", "--json", "--data", d, q]))["total_threads"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(hits("amount:3600"), 1);
    assert_eq!(hits("amount:3570"), 0);
    // The AP invoice record follows the correction.
    let store = deskmail::store::Store::open(&data.join("store"), 1 << 20).unwrap();
    let record = store
        .invoices()
        .unwrap()
        .into_iter()
        .find(|r| r.invoice_number == "RE-2026-1003")
        .unwrap();
    assert_eq!(record.amount.as_deref(), Some("3600"));
    // The audit names who changed what.
    let audit = store.audit_records(0, 100).unwrap();
    assert!(
        audit.iter().any(|r| r.entry.action == "review correct"
            && r.entry.actor.starts_with("cli:")
            && r.entry
                .targets
                .iter()
                .any(|t| t.contains("3570.00 -> 3600.00"))),
        "{audit:?}"
    );
    drop(store);

    // Exported as a rule example: the .eml and an expect block with the reviewed values.
    let out = dir.path().join("examples");
    let exp = deskmail(&[
        "review",
        "export",
        "--data",
        d,
        "--since",
        "2026-01-01",
        out.to_str().unwrap(),
    ]);
    assert!(exp.status.success(), "{}", stderr(&exp));
    assert!(String::from_utf8_lossy(&exp.stdout).contains("exported 1 reviewed messages"));
    assert!(out.join(format!("{id}.eml")).exists());
    let toml_text = std::fs::read_to_string(out.join("examples.toml")).unwrap();
    let parsed: toml::Value = toml::from_str(&toml_text).unwrap();
    let ex = &parsed["rule"]["example"][0];
    assert_eq!(ex["file"].as_str(), Some(format!("{id}.eml").as_str()));
    assert_eq!(ex["expect"]["amount_total"].as_str(), Some("3600.00"));
    assert_eq!(ex["expect"]["invoice_date"].as_str(), Some("2026-11-03"));
    assert_eq!(ex["expect"]["category"].as_str(), Some("ap.invoice"));
}

#[test]
fn confirm_and_reject_decide_once_and_unknown_ids_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    ingest(
        &data,
        &[
            "01-first-invoice.eml",
            "03-changed-iban.eml",
            "05-lookalike-domain.eml",
        ],
    );
    let changed = item(&data, "RE-2026-1003").unwrap();
    let fake = item(&data, "RE-2026-1005").unwrap();
    let confirm = deskmail(&[
        "review",
        "confirm",
        "--data",
        d,
        changed["message_id"].as_str().unwrap(),
    ]);
    assert!(confirm.status.success(), "{}", stderr(&confirm));
    let again = deskmail(&[
        "review",
        "confirm",
        "--data",
        d,
        changed["message_id"].as_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("already decided"),
        "{}",
        stderr(&again)
    );
    // Confirming the invoice is not confirming its IBAN: that is an admin's vendors command.
    assert!(
        vendor(&data)["ibans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["iban"] == "DE44500105175407324931" && i["state"] == "pending")
    );
    let reject = deskmail(&[
        "review",
        "reject",
        "--data",
        d,
        "--note",
        "phoned Muster: not theirs",
        fake["message_id"].as_str().unwrap(),
    ]);
    assert!(reject.status.success(), "{}", stderr(&reject));
    let fake = item(&data, "RE-2026-1005").unwrap();
    assert_eq!(fake["state"], "rejected");
    assert_eq!(fake["note"], "phoned Muster: not theirs");
    let list = json_of(&deskmail(&["review", "list", "--json", "--data", d]));
    assert_eq!(list["open"], 0);
    let missing = deskmail(&["review", "confirm", "--data", d, "ffffffff"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no single message"),
        "{}",
        stderr(&missing)
    );
}

/// The embedded default with replies: an invoice in review has its acknowledgement held
/// ("waiting for review" in the outbox) until a person confirms it; a rejected one is never
/// answered.
#[test]
fn replies_wait_for_the_review_and_a_rejection_cancels_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("deskmail.toml");
    std::fs::write(
        &config,
        format!(
            "data = \"data\"\nrules = \"{}\"\n[[drop_folder]]\nname = \"ap\"\nrole = \"ap\"\npath = \"drop\"\n\
             [outbound]\nfrom = \"ap@ourcompany.example\"\ntemplates = \"{}\"\n\
             transport = {{ type = \"file\", dir = \"sent\" }}\n",
            root().join("rules").display(),
            root().join("templates").display()
        ),
    )
    .unwrap();
    let drop = dir.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    for f in [
        "01-first-invoice.eml",
        "03-changed-iban.eml",
        "05-lookalike-domain.eml",
    ] {
        std::fs::copy(guard(f), drop.join(f)).unwrap();
    }
    let run_once = || {
        json_of(
            &bin()
                .args(["run", "--once", "--json", "--config"])
                .arg(&config)
                .output()
                .unwrap(),
        )
    };
    run_once();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let outbox = || {
        json_of(&deskmail(&["outbox", "list", "--json", "--data", d]))
            .as_array()
            .unwrap()
            .clone()
    };
    let state_of = |subject: &str| {
        outbox()
            .into_iter()
            .find(|r| r["subject"].as_str().unwrap().contains(subject))
            .map(|r| r["state"].as_str().unwrap().to_string())
    };
    assert_eq!(state_of("RE-2026-1001").as_deref(), Some("sent"));
    assert_eq!(state_of("RE-2026-1003").as_deref(), Some("review"));
    assert_eq!(state_of("RE-2026-1005").as_deref(), Some("review"));
    let text =
        String::from_utf8_lossy(&deskmail(&["outbox", "list", "--data", d]).stdout).into_owned();
    assert_eq!(text.matches("waiting for review").count(), 2, "{text}");
    let shown = show(
        &data,
        item(&data, "RE-2026-1003").unwrap()["message_id"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(shown["replies"][0]["state"], "review");

    let id = |s: &str| {
        item(&data, s).unwrap()["message_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let confirm = deskmail(&["review", "confirm", "--data", d, &id("RE-2026-1003")]);
    assert!(confirm.status.success(), "{}", stderr(&confirm));
    assert!(String::from_utf8_lossy(&confirm.stdout).contains("released"));
    let reject = deskmail(&["review", "reject", "--data", d, &id("RE-2026-1005")]);
    assert!(reject.status.success(), "{}", stderr(&reject));
    run_once();
    assert_eq!(state_of("RE-2026-1003").as_deref(), Some("sent"));
    assert_eq!(state_of("RE-2026-1005").as_deref(), Some("cancelled"));
    let sent: Vec<String> = std::fs::read_dir(dir.path().join("sent"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert_eq!(
        sent.len(),
        2,
        "two acknowledgements, none to the look-alike"
    );
    assert!(sent.iter().all(|m| !m.contains("muster-maschlnenbau")));
}
