//! What the rules do with a structured e-invoice: its fields go into the decision first, with
//! the business term as provenance, so no regex can override them (rules still add their own
//! fields and actions); its arithmetic failures and a hybrid PDF whose visual text disagrees
//! with its XML become flags.

use std::sync::OnceLock;

use regex::Regex;
use rust_decimal::Decimal;

use super::normalize;
use crate::einvoice::format_label;
use crate::model::{
    Decision, EInvoice, EInvoiceKind, ExtractedField, FieldValue, Message, Provenance,
};

/// The `rule` named in the provenance of every field read from an e-invoice.
pub const EINVOICE_RULE: &str = "e-invoice";
/// Flag: the EN 16931 arithmetic of the e-invoice does not add up.
pub const FLAG_ARITHMETIC: &str = "einvoice_arithmetic";
/// Flag: a hybrid PDF's visual text states another number or total than its XML.
pub const FLAG_MISMATCH: &str = "einvoice_mismatch";

/// Every field an e-invoice can give (what a reply template of an e-invoice rule may use).
pub const FIELD_NAMES: &[&str] = &[
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
    "payment_terms",
];

/// What an `einvoice = "…"` condition is matched against: the document kind, the profile and
/// the syntax, one per line (`invoice`, `XRechnung 3.0`, `UBL`).
pub fn condition_text(e: &EInvoice) -> String {
    let kind = match e.kind {
        EInvoiceKind::Invoice => "invoice",
        EInvoiceKind::CreditNote => "credit_note",
    };
    format!("{kind}\n{}\n{}", e.profile, e.syntax)
}

/// The decision fields an e-invoice gives, each named after its business term.
pub fn fields(e: &EInvoice) -> Vec<(&'static str, ExtractedField)> {
    let label = format_label(e);
    let currency = e.currency.clone();
    let field = |bt: &str, value: FieldValue| {
        let matched = value.canonical();
        let provenance = Provenance {
            rule: EINVOICE_RULE.into(),
            source: format!("xml {bt} ({}, {label})", e.source),
            matched,
        };
        // Exact, signed off by the sender's ERP: unless its own sums disagree.
        let doubtful_sum =
            !e.arithmetic.is_empty() && matches!(bt, "BT-109" | "BT-110" | "BT-112" | "BT-115");
        let f = ExtractedField::new(value, provenance, if doubtful_sum { 50 } else { 100 });
        if doubtful_sum {
            f.doubting(format!(
                "the e-invoice's sums disagree: {}",
                e.arithmetic.join("; ")
            ))
        } else {
            f
        }
    };
    let text = |v: &Option<String>| v.clone().map(|value| FieldValue::Text { value });
    let amount = |v: Option<Decimal>| {
        v.map(|value| FieldValue::Amount {
            value,
            currency: currency.clone(),
        })
    };
    let date = |v: Option<chrono::NaiveDate>| v.map(|value| FieldValue::Date { value });
    let candidates: [(&'static str, &str, Option<FieldValue>); 15] = [
        ("invoice_number", "BT-1", text(&e.number)),
        ("invoice_date", "BT-2", date(e.issue_date)),
        ("due_date", "BT-9", date(e.due_date)),
        (
            "currency",
            "BT-5",
            e.currency
                .clone()
                .map(|value| FieldValue::Currency { value }),
        ),
        ("amount_net", "BT-109", amount(e.totals.net)),
        ("amount_tax", "BT-110", amount(e.totals.tax)),
        ("amount_total", "BT-112", amount(e.totals.total)),
        ("amount_due", "BT-115", amount(e.totals.due)),
        (
            "vendor",
            if e.seller.name.is_some() {
                "BT-27"
            } else {
                "BT-28"
            },
            e.seller
                .display_name()
                .map(|v| FieldValue::Text { value: v.into() }),
        ),
        ("vendor_vat_id", "BT-31", text(&e.seller.vat_id)),
        ("iban", "BT-84", text(&e.iban.as_deref().map(compact_upper))),
        ("bic", "BT-86", text(&e.bic)),
        ("po_number", "BT-13", text(&e.po_number)),
        ("buyer_reference", "BT-10", text(&e.buyer_reference)),
        ("preceding_invoice", "BT-25", text(&e.preceding_invoice)),
    ];
    let mut out: Vec<(&'static str, ExtractedField)> = candidates
        .into_iter()
        .filter_map(|(name, bt, v)| v.map(|v| (name, field(bt, v))))
        .collect();
    // No due date (BT-9) but payment terms (BT-20) that name a number of days: the rules'
    // derivation turns invoice date + terms into a due date, as for any other invoice.
    if e.due_date.is_none()
        && let Some(days) = e
            .payment_terms
            .as_deref()
            .and_then(normalize::parse_payment_terms)
    {
        out.push((
            "payment_terms",
            field("BT-20", FieldValue::Days { value: days }),
        ));
    }
    out
}

fn compact_upper(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Put the message's e-invoice into the decision: its fields (before any rule runs, so they
/// win), a copy of the document, the flags, and why other candidate attachments were not read.
pub fn apply(msg: &Message, decision: &mut Decision) {
    decision.einvoice_errors = msg
        .attachments
        .iter()
        .filter_map(|a| {
            a.einvoice_error
                .as_ref()
                .map(|e| format!("attachment {}: {e}", a.display_name()))
        })
        .collect();
    let Some((attachment, e)) = msg
        .attachments
        .iter()
        .find_map(|a| a.einvoice.as_deref().map(|e| (a, e)))
    else {
        return;
    };
    for (name, f) in fields(e) {
        decision.fields.insert(name.to_string(), f);
    }
    let mut e = e.clone();
    if !e.arithmetic.is_empty() {
        decision.flags.push(FLAG_ARITHMETIC.into());
    }
    // A hybrid: the PDF's own text is the human view of the same invoice.
    if e.source.contains(", embedded ")
        && let Some(visual) = attachment.text.as_deref()
    {
        e.visual_mismatch = visual_mismatch(&e, visual);
        if !e.visual_mismatch.is_empty() {
            decision.flags.push(FLAG_MISMATCH.into());
        }
    }
    decision.einvoice = Some(Box::new(e));
}

/// Drop what [`apply`] added when the message turned out to be machine mail (a bounce carrying
/// the original invoice): an out-of-office or a bounce never carries invoice fields.
pub fn withdraw(decision: &mut Decision) {
    decision
        .fields
        .retain(|_, f| f.provenance.rule != EINVOICE_RULE);
    decision
        .flags
        .retain(|f| f != FLAG_ARITHMETIC && f != FLAG_MISMATCH);
    decision.einvoice = None;
}

fn amount_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!("(?i){}", normalize::AMOUNT_PATTERN)).expect("the amount pattern")
    })
}

/// Alphanumerics only, lowercased: "RE-2026 / 0042" and "re20260042" compare equal.
fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Where the visual text of a hybrid disagrees with its XML: the invoice number it never shows,
/// and a total (BT-112) or amount due (BT-115) that no amount on the page equals. A PDF with no
/// text (a scan) is not compared.
pub fn visual_mismatch(e: &EInvoice, visual: &str) -> Vec<String> {
    let mut out = Vec::new();
    if visual.trim().is_empty() {
        return out;
    }
    if let Some(number) = &e.number {
        let wanted = compact(number);
        if !wanted.is_empty() && !compact(visual).contains(&wanted) {
            out.push(format!(
                "the PDF's text never shows the XML's invoice number {number} (BT-1)"
            ));
        }
    }
    let targets: Vec<(Decimal, &str)> = [(e.totals.total, "BT-112"), (e.totals.due, "BT-115")]
        .into_iter()
        .filter_map(|(v, bt)| v.map(|v| (v, bt)))
        .collect();
    if targets.is_empty() {
        return out;
    }
    let shown: Vec<Decimal> = amount_regex()
        .find_iter(visual)
        .filter_map(|m| normalize::parse_amount(m.as_str()))
        .map(|a| a.value)
        .collect();
    if !targets.iter().any(|(v, _)| shown.iter().any(|s| s == v)) {
        let (value, bt) = targets[0];
        let largest = shown
            .iter()
            .max()
            .map(|m| format!("; its largest amount is {m}"))
            .unwrap_or_default();
        out.push(format!(
            "the PDF's text shows no amount equal to the XML's total {value} ({bt}){largest}"
        ));
    }
    out
}
