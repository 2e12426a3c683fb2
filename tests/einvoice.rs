//! The structured e-invoice corpus (fixtures/einvoice, made by scripts/make-einvoices.py):
//! every email parsed and run through the shipped rules, compared with its golden expectation;
//! then the corpus ingested through the CLI, searched, shown and dry-run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;
use common::{deskmail, json_of, root};

use deskmail::model::{Decision, EInvoice, Message, RawMail};
use deskmail::parse::{ParseLimits, parse};
use deskmail::rules::RuleSet;
use serde_json::Value;

fn corpus() -> Vec<(PathBuf, Value)> {
    let dir = root().join("fixtures/einvoice/mail");
    let mut out: Vec<(PathBuf, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|eml| {
            let golden = eml.with_extension("expected.json");
            let golden =
                std::fs::read(&golden).unwrap_or_else(|e| panic!("{}: {e}", golden.display()));
            (eml, serde_json::from_slice(&golden).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        out.len() >= 30,
        "the corpus has only {} messages",
        out.len()
    );
    out
}

fn decide(rules: &RuleSet, eml: &Path) -> (Message, Decision) {
    let raw = RawMail {
        role: None,
        mailbox: "ap".into(),
        origin: eml.display().to_string(),
        bytes: std::fs::read(eml).unwrap(),
    };
    let msg = parse(&raw, &ParseLimits::default()).unwrap();
    let decision = rules.evaluate(&msg);
    (msg, decision)
}

fn s(v: Option<impl ToString>) -> Value {
    v.map_or(Value::Null, |v| Value::String(v.to_string()))
}

/// The e-invoice in the golden file's shape, so one comparison shows every difference.
fn as_golden(e: &EInvoice, d: &Decision) -> Value {
    let field = |name: &str| {
        deskmail::rules::einvoice::fields(e)
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| f.value.canonical())
    };
    let fields: BTreeMap<&str, Value> = [
        "invoice_number",
        "invoice_date",
        "due_date",
        "currency",
        "amount_net",
        "amount_tax",
        "amount_total",
        "amount_due",
        "vendor",
        "vendor_vat_id",
        "iban",
        "bic",
        "po_number",
        "buyer_reference",
        "preceding_invoice",
    ]
    .into_iter()
    .map(|n| (n, s(field(n))))
    .collect();
    // The decision carries exactly the XML's value for every field the XML gives.
    for (name, value) in &fields {
        if let Value::String(v) = value {
            assert_eq!(
                d.fields.get(*name).map(|f| f.value.canonical()).as_ref(),
                Some(v),
                "decision field {name}"
            );
            assert_eq!(d.fields[*name].provenance.rule, "e-invoice");
        }
    }
    let t = &e.totals;
    serde_json::json!({
        "buyer": s(e.buyer.display_name()),
        "document": serde_json::to_value(e.kind).unwrap(),
        "fields": fields,
        "guideline": s(e.guideline.as_deref()),
        "lines": e.lines.iter().map(|l| serde_json::json!({
            "description": l.description,
            "net_amount": s(l.net_amount),
            "quantity": s(l.quantity),
            "unit_price": s(l.unit_price),
            "vat_rate": s(l.vat_rate),
        })).collect::<Vec<_>>(),
        "profile": e.profile,
        "source": e.source,
        "syntax": serde_json::to_value(e.syntax).unwrap(),
        "totals": {
            "allowances": s(t.allowances), "charges": s(t.charges), "due": s(t.due),
            "line_total": s(t.line_total), "net": s(t.net), "prepaid": s(t.prepaid),
            "rounding": s(t.rounding), "tax": s(t.tax), "total": s(t.total),
        },
        "type_code": s(e.type_code.as_deref()),
        "vat": e.vat.iter().map(|v| serde_json::json!({
            "category": s(v.category.as_deref()),
            "rate": s(v.rate),
            "tax": s(v.tax),
            "taxable": s(v.taxable),
        })).collect::<Vec<_>>(),
    })
}

/// What each golden `no_einvoice_reason` must read like in the decision.
fn reason_text(kind: &str) -> &'static str {
    match kind {
        "dtd" => "document type declaration",
        "malformed" => "malformed XML",
        "not_an_invoice" => "not an invoice",
        "broken_embedded" => "embedded ",
        other => panic!("unknown no_einvoice_reason {other:?}"),
    }
}

#[test]
fn every_e_invoice_fixture_reads_as_its_golden_file_says() {
    let rules = RuleSet::load_dir(&root().join("rules")).unwrap();
    let mut failures = Vec::new();
    for (eml, golden) in corpus() {
        let name = eml.file_name().unwrap().to_string_lossy().into_owned();
        let (_, d) = decide(&rules, &eml);
        if let Some(category) = golden["category"].as_str()
            && d.category != category
        {
            failures.push(format!("{name}: category {} ≠ {category}", d.category));
        }
        let mut flags: Vec<&str> = d
            .flags
            .iter()
            .map(String::as_str)
            .filter(|f| f.starts_with("einvoice_"))
            .collect();
        flags.sort();
        let want_flags: Vec<&str> = golden["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        if flags != want_flags {
            failures.push(format!("{name}: flags {flags:?} ≠ {want_flags:?}"));
        }
        match (&d.einvoice, &golden["einvoice"]) {
            (Some(e), want @ Value::Object(_)) => {
                let got = as_golden(e, &d);
                if &got != want {
                    failures.push(format!(
                        "{name}: e-invoice differs\n got: {got}\nwant: {want}"
                    ));
                }
            }
            (None, Value::Null) => {
                let kind = golden["no_einvoice_reason"].as_str().unwrap();
                let want = reason_text(kind);
                if !d.einvoice_errors.iter().any(|e| e.contains(want)) {
                    failures.push(format!(
                        "{name}: no reason containing {want:?} in {:?}",
                        d.einvoice_errors
                    ));
                }
            }
            (got, _) => failures.push(format!(
                "{name}: e-invoice read: {}, expected: {}",
                got.is_some(),
                !golden["einvoice"].is_null()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_mismatched_hybrid_names_what_its_pdf_shows_and_arithmetic_failures_name_their_numbers() {
    let rules = RuleSet::load_dir(&root().join("rules")).unwrap();
    let dir = root().join("fixtures/einvoice/mail");
    let (_, d) = decide(&rules, &dir.join("facturx-visual-mismatch-hybrid.eml"));
    let e = d.einvoice.unwrap();
    assert_eq!(e.visual_mismatch.len(), 2, "{:?}", e.visual_mismatch);
    assert!(e.visual_mismatch[0].contains("invoice number"));
    assert!(e.visual_mismatch[1].contains("total"));
    let (_, d) = decide(&rules, &dir.join("ubl-arithmetic-error.eml"));
    let e = d.einvoice.unwrap();
    assert!(
        e.arithmetic.iter().any(|a| a.starts_with("BR-CO-10")),
        "{:?}",
        e.arithmetic
    );
    // The hybrids whose PDF agrees with the XML raise nothing.
    let (_, d) = decide(&rules, &dir.join("facturx-basic-hybrid.eml"));
    assert!(d.flags.is_empty(), "{:?}", d.flags);
}

#[test]
fn the_cli_ingests_searches_shows_and_dry_runs_e_invoices() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let mail = root().join("fixtures/einvoice/mail");
    let out = json_of(&deskmail(&[
        "ingest",
        "--json",
        "--data",
        data_s,
        mail.to_str().unwrap(),
    ]));
    let corpus = corpus();
    assert_eq!(out["ingested"], corpus.len(), "{out}");
    assert_eq!(out["rejected"], 0);
    // The ids of every message that matched.
    let search = |q: &str| {
        let v = json_of(&deskmail(&[
            "search", "--json", "--limit", "100", "--data", data_s, q,
        ]));
        v["threads"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["message_ids"].as_array().unwrap().clone())
            .map(|id| id.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let einvoices = search("has:einvoice");
    let readable = corpus
        .iter()
        .filter(|(_, golden)| !golden["einvoice"].is_null())
        .count();
    assert_eq!(einvoices.len(), readable);
    // The UBL and the CII rendering of invoice 2026-0042: one thread, the second a duplicate.
    let same_vendor = search("vendor_vat:DE123456788");
    assert_eq!(same_vendor.len(), 2);
    assert_eq!(
        search("vendor_vat:\"de 123 456 788\""),
        search("vendor_vat:DE123456788")
    );
    let big = search("has:einvoice amount:>10000");
    assert!(!big.is_empty() && big.len() < einvoices.len(), "{big:?}");
    assert!(!search("invoice:2026-0042").is_empty());
    // Line-item text, from a standalone XML and from a hybrid's embedded XML.
    assert!(!search("\"Druckerpapier A4\"").is_empty());

    let ubl = search("vendor_vat:DE123456788 filename:INV_2026_0042.xml");
    assert_eq!(ubl.len(), 1);
    let show = deskmail(&["show", "--data", data_s, &ubl[0]]);
    let show = String::from_utf8_lossy(&show.stdout);
    for want in [
        "amount_total     1369.82        100% from xml BT-112 (attachment INV_2026_0042.xml, UBL, XRechnung 3.0)",
        "E-invoice (UBL, XRechnung 3.0): Invoice 2026-0042",
        "Druckerpapier A4, 80 g/m², 500 Blatt | qty 40",
        "S 7%: taxable 149.70, tax 10.48",
        "Amount due (BT-115): 1369.82 EUR",
    ] {
        assert!(show.contains(want), "{want:?} not in\n{show}");
    }
    // Whichever of the two came second is the duplicate: same seller VAT ID, number, amount.
    let mut flags: Vec<Value> = same_vendor
        .iter()
        .map(|id| {
            json_of(&deskmail(&["show", "--json", "--data", data_s, id]))["decision"]["flags"]
                .clone()
        })
        .collect();
    flags.sort_by_key(|f| f.to_string());
    assert_eq!(
        flags,
        [serde_json::json!(["duplicate_invoice"]), Value::Null]
    );
    // The rules dry run shows the e-invoice too.
    let dry = json_of(&deskmail(&[
        "rules",
        "test",
        "--json",
        mail.join("peppol-ubl-credit-note-be.eml").to_str().unwrap(),
    ]));
    assert_eq!(dry["category"], "ap.credit_note");
    assert_eq!(dry["einvoice"]["kind"], "credit_note");
    assert!(dry["fields"]["preceding_invoice"].is_string(), "{dry}");
}
