//! The review queue's logic, without I/O: which decisions a person must look at and why, what
//! an item in the queue holds, and how a correction is read (typed, refused when it is not a
//! value of the field's kind). The store keeps the items (`w/`) and applies confirmations,
//! corrections and rejections; the CLI, the API and the page show them.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{Decision, FieldValue, Message};
use crate::normalize;

/// Flags that always need a person: money might go to the wrong place or twice, or the data
/// could not be read.
pub const REVIEW_FLAGS: &[&str] = &[
    "duplicate_invoice",
    "invoice_amount_conflict",
    "bank_details_changed",
    "lookalike_sender",
    "einvoice_mismatch",
    "einvoice_arithmetic",
    "no_text_layer",
    "infected_attachment",
    "too_large_to_scan",
];

/// Categories whose fields are checked for doubt (the numbers someone will act on).
fn fields_matter(category: &str) -> bool {
    category.starts_with("ap.invoice")
        || category.starts_with("ap.credit_note")
        || category.starts_with("ar.")
}

/// Why a decision needs a person, as `code: detail` lines; empty when it does not. `desk` is
/// true for mail from a mailbox with a role (ap@, ar@): there, mail no rule understood is
/// worth a look.
pub fn reasons(msg: &Message, d: &Decision, desk: bool) -> Vec<String> {
    let mut out = Vec::new();
    let below = d.review_below.unwrap_or(crate::rules::DEFAULT_REVIEW_BELOW);
    if let Some(rule) = &d.review_rule {
        out.push(format!("rule: \"{rule}\" asks for review"));
    }
    for flag in &d.flags {
        if REVIEW_FLAGS.contains(&flag.as_str()) {
            out.push(flag.clone());
        }
    }
    if d.category_rule.is_none() && desk {
        out.push("uncategorised: no rule recognised this message".into());
    } else if d.category_rule.is_some() && d.confidence < below {
        out.push(format!(
            "category_uncertain: {} ({} < {below})",
            d.category, d.confidence
        ));
    }
    if fields_matter(&d.category) {
        for (name, f) in &d.fields {
            if f.confidence < below {
                out.push(format!(
                    "field_doubtful: {name} ({}{})",
                    f.confidence,
                    f.doubt
                        .as_deref()
                        .map(|w| format!(": {w}"))
                        .unwrap_or_default()
                ));
            }
        }
        for a in &msg.attachments {
            if a.content_type == "application/pdf"
                && let Some(e) = &a.text_error
                && e != crate::parse::NO_TEXT_LAYER
            {
                out.push(format!("unreadable_attachment: {}: {e}", a.display_name()));
            }
        }
    }
    out
}

/// The code of a reason line (`field_doubtful`), for counts per reason.
pub fn reason_code(reason: &str) -> &str {
    reason.split(':').next().unwrap_or(reason).trim()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewState {
    Open,
    Confirmed,
    Corrected,
    Rejected,
}

impl ReviewState {
    pub fn is_open(self) -> bool {
        self == ReviewState::Open
    }
}

/// One message in the review queue (`w/<message id>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub message_id: String,
    pub thread_id: String,
    pub category: String,
    pub subject: String,
    pub from: String,
    pub reasons: Vec<String>,
    pub state: ReviewState,
    /// Raised by every change: a correction sent for an older version is refused (two agents
    /// on one message: the second sees the first's change instead of overwriting it).
    pub version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// Why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why a correction cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionError {
    #[error("\"{0}\" is not field=value")]
    Syntax(String),
    #[error("{field}: {value:?} is not a date (write 2026-11-03)")]
    NotADate { field: String, value: String },
    #[error("{field}: {value:?} is not an amount (write 1234.56 or 1234.56 EUR)")]
    NotAnAmount { field: String, value: String },
    #[error("{field}: {value:?} names two currencies")]
    TwoCurrencies { field: String, value: String },
    #[error("{field}: {value:?} is not a currency code (write EUR)")]
    NotACurrency { field: String, value: String },
    #[error("{field}: {value:?} is not a number of days")]
    NotDays { field: String, value: String },
    #[error("{field}: {value:?} is not a valid IBAN (its check digits do not hold)")]
    NotAnIban { field: String, value: String },
    #[error("{field}: a value cannot be empty")]
    Empty { field: String },
    #[error("unknown field {0:?} (fields: {1})")]
    UnknownField(String, String),
}

/// The fields a correction may set.
pub const CORRECTABLE: &[&str] = &[
    "invoice_number",
    "invoice_date",
    "due_date",
    "payment_terms",
    "amount_total",
    "amount_net",
    "amount_tax",
    "amount_due",
    "currency",
    "po_number",
    "vendor",
    "vendor_vat_id",
    "iban",
    "bic",
    "buyer_reference",
    "preceding_invoice",
    "payment_date",
    "promised_date",
];

/// Read `field=value` into a typed value: dates as ISO (or any form deskmail reads, day
/// first), amounts with at most one currency (the decision's currency when none is given),
/// IBANs by their checksum. A field the rules extracted under another name is accepted when
/// the decision already has it.
pub fn parse_correction(
    spec: &str,
    decision: &Decision,
) -> Result<(String, FieldValue), CorrectionError> {
    let (field, value) = spec
        .split_once('=')
        .ok_or_else(|| CorrectionError::Syntax(spec.to_string()))?;
    let (field, value) = (field.trim().to_string(), value.trim().to_string());
    if value.is_empty() {
        return Err(CorrectionError::Empty { field });
    }
    if !CORRECTABLE.contains(&field.as_str()) && !decision.fields.contains_key(&field) {
        return Err(CorrectionError::UnknownField(field, CORRECTABLE.join(", ")));
    }
    let kind = decision.fields.get(&field).map(|f| &f.value);
    let parsed = if field.ends_with("_date") || matches!(kind, Some(FieldValue::Date { .. })) {
        let date = NaiveDate::parse_from_str(&value, "%Y-%m-%d")
            .ok()
            .or_else(|| normalize::parse_date(&value, normalize::DateOrder::DayFirst))
            .ok_or_else(|| CorrectionError::NotADate {
                field: field.clone(),
                value: value.clone(),
            })?;
        FieldValue::Date { value: date }
    } else if field.starts_with("amount") || matches!(kind, Some(FieldValue::Amount { .. })) {
        parse_amount_correction(&field, &value, decision)?
    } else if field == "currency" {
        let code =
            normalize::currency_code(&value).ok_or_else(|| CorrectionError::NotACurrency {
                field: field.clone(),
                value: value.clone(),
            })?;
        FieldValue::Currency {
            value: code.to_string(),
        }
    } else if field == "payment_terms" {
        let days = value
            .parse::<u32>()
            .ok()
            .or_else(|| normalize::parse_payment_terms(&value))
            .ok_or_else(|| CorrectionError::NotDays {
                field: field.clone(),
                value: value.clone(),
            })?;
        FieldValue::Days { value: days }
    } else if field == "iban" {
        let compact: String = value
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect();
        if !crate::extract::ids::iban_checksum_holds(&compact) {
            return Err(CorrectionError::NotAnIban { field, value });
        }
        FieldValue::Text { value: compact }
    } else {
        FieldValue::Text { value }
    };
    Ok((field, parsed))
}

fn parse_amount_correction(
    field: &str,
    value: &str,
    decision: &Decision,
) -> Result<FieldValue, CorrectionError> {
    let codes: Vec<&str> = value
        .split(|c: char| c.is_whitespace() || c.is_ascii_digit() || matches!(c, '.' | ',' | '\''))
        .filter(|w| !w.is_empty())
        .filter_map(normalize::currency_code)
        .collect();
    let mut distinct = codes.clone();
    distinct.sort();
    distinct.dedup();
    if distinct.len() > 1 {
        return Err(CorrectionError::TwoCurrencies {
            field: field.into(),
            value: value.into(),
        });
    }
    let not_amount = || CorrectionError::NotAnAmount {
        field: field.into(),
        value: value.into(),
    };
    // Plain "1234.56" is taken as written (a dot is the decimal point here, as in the CLI).
    let plain = Decimal::from_str(value.trim()).ok();
    let parsed = match plain {
        Some(v) => v,
        None => normalize::parse_amount(value).ok_or_else(not_amount)?.value,
    };
    // No currency written: the one the value had, else the document's.
    let currency = distinct
        .first()
        .map(|c| c.to_string())
        .or_else(|| match decision.fields.get(field).map(|f| &f.value) {
            Some(FieldValue::Amount { currency, .. }) => currency.clone(),
            _ => None,
        })
        .or_else(|| decision.fields.get("currency").map(|f| f.value.canonical()));
    Ok(FieldValue::Amount {
        value: parsed,
        currency,
    })
}

/// A confirmed message as a rule example an accountant can paste under a rule: the .eml's
/// name and the `[[rule.example]]` block with every field's value.
pub fn example_block(eml_name: &str, d: &Decision) -> String {
    let mut expect = vec![format!("category = {:?}", d.category)];
    for (k, v) in d.field_strings() {
        expect.push(format!("{k} = {v:?}"));
    }
    format!(
        "[[rule.example]]\nfile = {:?}\nexpect = {{ {} }}\n",
        eml_name,
        expect.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ExtractedField, Provenance};

    fn decision_with(fields: &[(&str, FieldValue, u8)]) -> Decision {
        Decision {
            category: "ap.invoice".into(),
            category_rule: Some("vendor invoice".into()),
            confidence: 90,
            review_below: Some(70),
            fields: fields
                .iter()
                .map(|(k, v, c)| {
                    (
                        k.to_string(),
                        ExtractedField::new(
                            v.clone(),
                            Provenance {
                                rule: "layout".into(),
                                source: "test".into(),
                                matched: String::new(),
                            },
                            *c,
                        ),
                    )
                })
                .collect(),
            ..Decision::default()
        }
    }

    fn eur(v: &str) -> FieldValue {
        FieldValue::Amount {
            value: v.parse().unwrap(),
            currency: Some("EUR".into()),
        }
    }

    #[test]
    fn doubtful_fields_flags_and_rules_send_a_message_to_review() {
        let msg = Message::default();
        let sure = decision_with(&[("amount_total", eur("100.00"), 98)]);
        assert!(reasons(&msg, &sure, true).is_empty());
        let mut doubtful = decision_with(&[("amount_total", eur("100.00"), 60)]);
        doubtful.fields.get_mut("amount_total").unwrap().doubt =
            Some("net + tax ≠ total on the document".into());
        assert_eq!(
            reasons(&msg, &doubtful, true),
            ["field_doubtful: amount_total (60: net + tax ≠ total on the document)"]
        );
        // The decision is as sure as its least sure part.
        assert_eq!(
            (doubtful.confidence, doubtful.overall_confidence()),
            (90, 60)
        );
        assert_eq!(sure.overall_confidence(), 90);
        let mut flagged = sure.clone();
        flagged.flags = vec!["duplicate_invoice".into(), "not_a_review_flag".into()];
        flagged.review_rule = Some("big invoices".into());
        assert_eq!(
            reasons(&msg, &flagged, false),
            [
                "rule: \"big invoices\" asks for review",
                "duplicate_invoice"
            ]
        );
        // Mail no rule understood: worth a look in a desk mailbox, not in a bulk import.
        let other = Decision {
            category: "other".into(),
            ..Decision::default()
        };
        assert_eq!(reasons(&msg, &other, true).len(), 1);
        assert!(reasons(&msg, &other, false).is_empty());
        assert_eq!(
            reason_code("field_doubtful: amount_total (60)"),
            "field_doubtful"
        );
    }

    #[test]
    fn corrections_are_typed_and_bad_ones_say_why() {
        let d = decision_with(&[("amount_total", eur("100.00"), 60)]);
        assert_eq!(
            parse_correction("amount_total=1190.00", &d).unwrap(),
            ("amount_total".into(), eur("1190.00"))
        );
        assert_eq!(
            parse_correction("amount_total = 1.190,00 €", &d).unwrap().1,
            eur("1190.00")
        );
        assert_eq!(
            parse_correction("due_date=2026-12-03", &d).unwrap().1,
            FieldValue::Date {
                value: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
            }
        );
        let err = |s: &str| parse_correction(s, &d).unwrap_err().to_string();
        assert_eq!(
            err("due_date=next week"),
            "due_date: \"next week\" is not a date (write 2026-11-03)"
        );
        assert_eq!(
            err("amount_total=100 EUR USD"),
            "amount_total: \"100 EUR USD\" names two currencies"
        );
        assert_eq!(
            err("amount_total=lots"),
            "amount_total: \"lots\" is not an amount (write 1234.56 or 1234.56 EUR)"
        );
        assert!(err("iban=DE45 6005 0101 8445 8739 45").contains("check digits"));
        assert!(err("colour=red").starts_with("unknown field \"colour\""));
        assert_eq!(err("vendor="), "vendor: a value cannot be empty");
        assert_eq!(err("vendor"), "\"vendor\" is not field=value");
        assert_eq!(
            parse_correction("iban=de44 6005 0101 8445 8739 45", &d)
                .unwrap()
                .1,
            FieldValue::Text {
                value: "DE44600501018445873945".into()
            }
        );
    }

    #[test]
    fn a_confirmed_message_becomes_a_rule_example() {
        let d = decision_with(&[("amount_total", eur("100.00"), 98)]);
        assert_eq!(
            example_block("acme-1.eml", &d),
            "[[rule.example]]\nfile = \"acme-1.eml\"\nexpect = { category = \"ap.invoice\", amount_total = \"100.00\" }\n"
        );
    }
}
