//! The EN 16931 arithmetic that ties an invoice's totals together (business rules BR-CO-10 …
//! BR-CO-17). A check runs only when the terms it needs are present (MINIMUM and BASIC WL
//! profiles carry no lines, for instance). A failure is described with its numbers; no value is
//! ever replaced.

use rust_decimal::Decimal;

use crate::model::{EInvoice, EInvoiceTotals};

/// Every failed check, as a sentence with the numbers, e.g.
/// `BR-CO-15: total with VAT (BT-112) 1801.78 ≠ net (BT-109) 1514.08 + VAT (BT-110) 287.60 = 1801.68`.
pub fn arithmetic(e: &EInvoice) -> Vec<String> {
    let mut out = Vec::new();
    lines_and_allowances(e, &mut out);
    net_and_tax(e, &mut out);
    total_and_due(&e.totals, &mut out);
    vat_per_rate(e, &mut out);
    out
}

/// BR-CO-10 to BR-CO-12: the lines, the allowances and the charges add up to their totals.
fn lines_and_allowances(e: &EInvoice, out: &mut Vec<String>) {
    let t = &e.totals;
    // BR-CO-10: sum of line net amounts = BT-106.
    if let Some(line_total) = t.line_total
        && !e.lines.is_empty()
        && e.lines.iter().all(|l| l.net_amount.is_some())
    {
        let sum: Decimal = e.lines.iter().filter_map(|l| l.net_amount).sum();
        if sum != line_total {
            out.push(format!(
                "BR-CO-10: sum of line net amounts (BT-106) {line_total} ≠ {} lines adding up to {sum}",
                e.lines.len()
            ));
        }
    }
    // BR-CO-11 / BR-CO-12: document-level allowances and charges add up to BT-107 / BT-108.
    for (charge, total, bt, rule) in [
        (false, t.allowances, "BT-107", "BR-CO-11"),
        (true, t.charges, "BT-108", "BR-CO-12"),
    ] {
        let listed: Vec<Decimal> = e
            .allowances_charges
            .iter()
            .filter(|a| a.charge == charge)
            .map(|a| a.amount)
            .collect();
        if let Some(total) = total
            && !listed.is_empty()
        {
            let sum: Decimal = listed.iter().sum();
            if sum != total {
                let what = if charge { "charges" } else { "allowances" };
                out.push(format!(
                    "{rule}: sum of document {what} ({bt}) {total} ≠ {} listed adding up to {sum}",
                    listed.len()
                ));
            }
        }
    }
}

/// BR-CO-13 and BR-CO-14: the net total from the line total, allowances and charges; the VAT
/// total from the breakdown.
fn net_and_tax(e: &EInvoice, out: &mut Vec<String>) {
    let t = &e.totals;
    let zero = Decimal::ZERO;
    // BR-CO-13: BT-109 = BT-106 − BT-107 + BT-108.
    if let (Some(net), Some(line_total)) = (t.net, t.line_total) {
        let expected = line_total - t.allowances.unwrap_or(zero) + t.charges.unwrap_or(zero);
        if net != expected {
            out.push(format!(
                "BR-CO-13: total without VAT (BT-109) {net} ≠ line total (BT-106) {line_total} − allowances (BT-107) {} + charges (BT-108) {} = {expected}",
                t.allowances.unwrap_or(zero),
                t.charges.unwrap_or(zero)
            ));
        }
    }
    // BR-CO-14: BT-110 = sum of the VAT breakdown's tax amounts.
    if let Some(tax) = t.tax
        && !e.vat.is_empty()
        && e.vat.iter().all(|v| v.tax.is_some())
    {
        let sum: Decimal = e.vat.iter().filter_map(|v| v.tax).sum();
        if sum != tax {
            out.push(format!(
                "BR-CO-14: VAT total (BT-110) {tax} ≠ VAT breakdown adding up to {sum}"
            ));
        }
    }
}

/// BR-CO-15 and BR-CO-16: the total with VAT, and the amount due.
fn total_and_due(t: &EInvoiceTotals, out: &mut Vec<String>) {
    let zero = Decimal::ZERO;
    // BR-CO-15: BT-112 = BT-109 + BT-110.
    if let (Some(total), Some(net)) = (t.total, t.net) {
        let tax = t.tax.unwrap_or(zero);
        if total != net + tax {
            out.push(format!(
                "BR-CO-15: total with VAT (BT-112) {total} ≠ net (BT-109) {net} + VAT (BT-110) {tax} = {}",
                net + tax
            ));
        }
    }
    // BR-CO-16: BT-115 = BT-112 − BT-113 + BT-114.
    if let (Some(due), Some(total)) = (t.due, t.total) {
        let prepaid = t.prepaid.unwrap_or(zero);
        let rounding = t.rounding.unwrap_or(zero);
        let expected = total - prepaid + rounding;
        if due != expected {
            out.push(format!(
                "BR-CO-16: amount due (BT-115) {due} ≠ total (BT-112) {total} − paid (BT-113) {prepaid} + rounding (BT-114) {rounding} = {expected}"
            ));
        }
    }
}

fn vat_per_rate(e: &EInvoice, out: &mut Vec<String>) {
    // BR-CO-17: each VAT category's tax = taxable amount × rate, rounded to two decimals
    // (one cent of tolerance for the rounding the rule allows).
    for v in &e.vat {
        if let (Some(taxable), Some(rate), Some(tax)) = (v.taxable, v.rate, v.tax) {
            let expected = (taxable * rate / Decimal::ONE_HUNDRED).round_dp(2);
            if (expected - tax).abs() > Decimal::new(1, 2) {
                out.push(format!(
                    "BR-CO-17: VAT {}% on {taxable} is {tax}, expected {expected}",
                    rate.normalize()
                ));
            }
        }
    }
}
