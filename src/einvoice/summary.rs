//! An e-invoice as readable text: what an XML attachment "says" to the rules (attachment text)
//! and to search (line items, parties), and what `deskmail show` prints.

use std::fmt::Write;

use rust_decimal::Decimal;

use crate::model::{EInvoice, EInvoiceKind, EInvoiceParty};

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "—".to_string(), |v| v.to_string())
}

fn party_lines(out: &mut String, label: &str, p: &EInvoiceParty) {
    let _ = write!(out, "{label}: {}", p.display_name().unwrap_or("—"));
    if let (Some(trading), Some(name)) = (&p.trading_name, &p.name)
        && trading != name
    {
        let _ = write!(out, " ({trading})");
    }
    if let Some(vat) = &p.vat_id {
        let _ = write!(out, ", VAT ID {vat}");
    }
    out.push('\n');
    if !p.address.is_empty() {
        let _ = writeln!(out, "  {}", p.address.join(", "));
    }
    if let Some(email) = &p.email {
        let _ = writeln!(out, "  {email}");
    }
}

fn rate(r: &Option<Decimal>) -> String {
    r.map_or_else(|| "—".into(), |r| format!("{}%", r.normalize()))
}

/// The lines, allowances and charges, and the VAT breakdown.
fn line_items(out: &mut String, e: &EInvoice) {
    if !e.lines.is_empty() {
        out.push_str("Lines:\n");
        for (i, l) in e.lines.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {}. {} | qty {}{} | unit price {} | net {} | VAT {}",
                l.id.clone().unwrap_or_else(|| (i + 1).to_string()),
                l.description,
                opt(&l.quantity),
                l.unit
                    .as_deref()
                    .map(|u| format!(" {u}"))
                    .unwrap_or_default(),
                opt(&l.unit_price),
                opt(&l.net_amount),
                rate(&l.vat_rate)
            );
        }
    }
    for a in &e.allowances_charges {
        let _ = writeln!(
            out,
            "{} {}{}",
            if a.charge { "Charge" } else { "Allowance" },
            a.amount,
            a.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
    }
    if !e.vat.is_empty() {
        out.push_str("VAT breakdown:\n");
        for v in &e.vat {
            let _ = writeln!(
                out,
                "  {} {}: taxable {}, tax {}",
                opt(&v.category),
                rate(&v.rate),
                opt(&v.taxable),
                opt(&v.tax)
            );
        }
    }
}

/// The document totals (BT-106 to BT-115) and the VAT in the accounting currency.
fn totals(out: &mut String, e: &EInvoice) {
    let t = &e.totals;
    for (label, value) in [
        ("Sum of lines (BT-106)", t.line_total),
        ("Allowances (BT-107)", t.allowances),
        ("Charges (BT-108)", t.charges),
        ("Total without VAT (BT-109)", t.net),
        ("VAT (BT-110)", t.tax),
        ("Total with VAT (BT-112)", t.total),
        ("Paid (BT-113)", t.prepaid),
        ("Rounding (BT-114)", t.rounding),
        ("Amount due (BT-115)", t.due),
    ] {
        if let Some(v) = value {
            let _ = writeln!(out, "{label}: {v} {}", e.currency.as_deref().unwrap_or(""));
        }
    }
    if let Some((amount, currency)) = &t.tax_in_accounting_currency {
        let _ = writeln!(
            out,
            "VAT in accounting currency (BT-111): {amount} {currency}"
        );
    }
}

/// The whole e-invoice as text: header, parties, payment, lines, VAT breakdown, totals, and
/// failed arithmetic checks.
pub fn summary_text(e: &EInvoice) -> String {
    let mut out = String::new();
    let what = match e.kind {
        EInvoiceKind::Invoice => "Invoice",
        EInvoiceKind::CreditNote => "Credit note",
    };
    let _ = writeln!(
        out,
        "E-invoice ({}, {}): {what} {}",
        e.syntax,
        e.profile,
        opt(&e.number)
    );
    let _ = writeln!(
        out,
        "Issued {}, due {}, currency {}",
        opt(&e.issue_date),
        opt(&e.due_date),
        opt(&e.currency)
    );
    party_lines(&mut out, "Seller", &e.seller);
    party_lines(&mut out, "Buyer", &e.buyer);
    for (label, value) in [
        ("Buyer reference", &e.buyer_reference),
        ("Purchase order", &e.po_number),
        ("Preceding invoice", &e.preceding_invoice),
        ("Payment terms", &e.payment_terms),
        ("IBAN", &e.iban),
        ("BIC", &e.bic),
    ] {
        if let Some(v) = value {
            let _ = writeln!(out, "{label}: {v}");
        }
    }
    line_items(&mut out, e);
    totals(&mut out, e);
    for problem in &e.arithmetic {
        let _ = writeln!(out, "Arithmetic check failed: {problem}");
    }
    out
}
