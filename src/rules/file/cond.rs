//! Conditions in a rule file: the `when` table and what it nests (`all`, `any`, `not`,
//! `at_least` of a list), the places a pattern looks, field tests, thread and header
//! conditions.

use std::ops::Range;

use toml::de::DeValue;

use super::{
    CONDITION_KEYS, Cond, FieldTest, Reader, Source, SpannedValue, THREAD_KEYS, ThreadPart,
};

impl Reader<'_> {
    /// A table of conditions: all/any/not/at_least+of, plus leaf keys (ANDed).
    pub(super) fn cond_table(&mut self, v: &SpannedValue<'_>) -> Option<Cond> {
        let t = match v.get_ref() {
            DeValue::Table(t) => t,
            other => {
                self.err(
                    v.span(),
                    format!(
                        "a condition must be a table like {{ subject = \"invoice\" }}, not {}",
                        other.type_str()
                    ),
                );
                return None;
            }
        };
        if t.is_empty() {
            self.err(v.span(), "empty condition {}");
            return None;
        }
        let mut parts = Vec::new();
        let mut at_least: Option<(usize, Range<usize>)> = None;
        let mut of: Option<Vec<Cond>> = None;
        for (k, val) in t.iter() {
            let key = k.get_ref().as_ref();
            match key {
                "all" => parts.push(Cond::All(self.cond_list(val, "all"))),
                "any" => parts.push(Cond::Any(self.cond_list(val, "any"))),
                "not" => {
                    let list = match val.get_ref() {
                        DeValue::Table(_) => self.cond_table(val).into_iter().collect(),
                        _ => self.cond_list(val, "not"),
                    };
                    parts.push(Cond::Not(list));
                }
                "at_least" => at_least = self.at_least(val).map(|n| (n, val.span())),
                "of" => of = Some(self.cond_list(val, "of")),
                "has_attachment" => {
                    if let Some(b) = self.boolean(val, "has_attachment") {
                        parts.push(Cond::HasAttachment(b));
                    }
                }
                "field" => self.field_conds(val, &mut parts),
                "thread" => self.thread_conds(val, &mut parts),
                "header" => self.header_conds(val, &mut parts),
                _ => match leaf_source(key) {
                    Some(source) => {
                        let patterns = self.patterns(val, key);
                        parts.push(Cond::Match { source, patterns });
                    }
                    None => self.unknown(k, key, "condition", CONDITION_KEYS),
                },
            }
        }
        match (at_least, of) {
            (Some((n, span)), Some(list)) => {
                if n > list.len() {
                    self.err(
                        span,
                        format!(
                            "\"at_least = {n}\" but \"of\" lists only {} conditions",
                            list.len()
                        ),
                    );
                }
                parts.push(Cond::AtLeast(n, list));
            }
            (Some((_, span)), None) => {
                self.err(span, "\"at_least\" needs \"of = [ ... ]\" beside it")
            }
            (None, Some(_)) => self.err(v.span(), "\"of\" needs \"at_least = N\" beside it"),
            (None, None) => {}
        }
        Some(if parts.len() == 1 {
            parts.pop().unwrap_or(Cond::All(Vec::new()))
        } else {
            Cond::All(parts)
        })
    }

    /// `at_least = N`, a whole number of at least 1.
    fn at_least(&mut self, val: &SpannedValue<'_>) -> Option<usize> {
        match val.get_ref() {
            DeValue::Integer(i) => match i.as_str().parse::<usize>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    self.err(val.span(), "\"at_least\" must be a whole number ≥ 1");
                    None
                }
            },
            other => {
                self.err(
                    val.span(),
                    format!(
                        "\"at_least\" must be a whole number, not {}",
                        other.type_str()
                    ),
                );
                None
            }
        }
    }

    /// `field = { NAME = test, ... }`: one condition per field.
    fn field_conds(&mut self, val: &SpannedValue<'_>, parts: &mut Vec<Cond>) {
        let Some(fields) = self.table(val, "field") else {
            return;
        };
        for (name, test) in fields.iter() {
            if let Some(test) = self.field_test(name.get_ref(), test) {
                parts.push(Cond::Field {
                    name: name.get_ref().to_string(),
                    test,
                });
            }
        }
    }

    /// `thread = { first_from = ..., first_category = ..., previous_category = ... }`.
    fn thread_conds(&mut self, val: &SpannedValue<'_>, parts: &mut Vec<Cond>) {
        let Some(t) = self.table(val, "thread") else {
            return;
        };
        for (name, pats) in t.iter() {
            let part = match name.get_ref().as_ref() {
                "first_from" => ThreadPart::FirstFrom,
                "first_category" => ThreadPart::FirstCategory,
                "previous_category" => ThreadPart::PreviousCategory,
                other => {
                    self.unknown(name, other, "thread condition", THREAD_KEYS);
                    continue;
                }
            };
            let patterns = self.patterns(pats, &format!("thread.{}", name.get_ref()));
            parts.push(Cond::Match {
                source: Source::Thread(part),
                patterns,
            });
        }
    }

    /// `header = { NAME = patterns, ... }`.
    fn header_conds(&mut self, val: &SpannedValue<'_>, parts: &mut Vec<Cond>) {
        let Some(h) = self.table(val, "header") else {
            return;
        };
        for (name, pats) in h.iter() {
            let patterns = self.patterns(pats, &format!("header.{}", name.get_ref()));
            parts.push(Cond::Match {
                source: Source::Header(name.get_ref().to_string()),
                patterns,
            });
        }
    }

    fn cond_list(&mut self, v: &SpannedValue<'_>, what: &str) -> Vec<Cond> {
        match v.get_ref() {
            DeValue::Array(arr) => arr.iter().filter_map(|c| self.cond_table(c)).collect(),
            other => {
                self.err(v.span(), format!("\"{what}\" must be a list of conditions like [ {{ subject = \"x\" }} ], not {}", other.type_str()));
                Vec::new()
            }
        }
    }

    /// `field.amount_total = { min = "1000" }`, `field.due_date = { max = "2026-12-31" }`, or
    /// `field.vendor_vat_id = '^DE'`.
    fn field_test(&mut self, name: &str, v: &SpannedValue<'_>) -> Option<FieldTest> {
        let DeValue::Table(t) = v.get_ref() else {
            return Some(FieldTest::Patterns(
                self.patterns(v, &format!("field.{name}")),
            ));
        };
        let mut bounds: [Option<(String, Range<usize>)>; 2] = [None, None];
        for (k, val) in t.iter() {
            let slot = match k.get_ref().as_ref() {
                "min" => 0,
                "max" => 1,
                other => {
                    self.unknown(k, other, "field range key", &["min", "max"]);
                    continue;
                }
            };
            let text = match val.get_ref() {
                DeValue::String(s) => s.to_string(),
                DeValue::Integer(i) => i.as_str().to_string(),
                DeValue::Float(f) => f.as_str().to_string(),
                other => {
                    self.err(
                        val.span(),
                        format!(
                            "\"{}\" must be an amount like \"1000.00\" or a date like \"2026-12-31\", not {}",
                            k.get_ref(),
                            other.type_str()
                        ),
                    );
                    continue;
                }
            };
            bounds[slot] = Some((text, val.span()));
        }
        if bounds.iter().all(Option::is_none) {
            self.err(v.span(), format!("field.{name} needs \"min\" or \"max\""));
            return None;
        }
        let dates: Vec<Option<chrono::NaiveDate>> = bounds
            .iter()
            .map(|b| {
                b.as_ref()
                    .and_then(|(t, _)| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
            })
            .collect();
        let numbers: Vec<Option<rust_decimal::Decimal>> = bounds
            .iter()
            .map(|b| b.as_ref().and_then(|(t, _)| t.trim().parse().ok()))
            .collect();
        let given = bounds.iter().filter(|b| b.is_some()).count();
        if dates.iter().filter(|d| d.is_some()).count() == given {
            return Some(FieldTest::Date {
                min: dates[0],
                max: dates[1],
            });
        }
        if numbers.iter().filter(|n| n.is_some()).count() == given {
            return Some(FieldTest::Number {
                min: numbers[0],
                max: numbers[1],
            });
        }
        for (text, span) in bounds.into_iter().flatten() {
            self.err(
                span,
                format!(
                    "{text:?} is neither a number like \"1000.00\" nor a date like \"2026-12-31\" (min and max must be the same kind)"
                ),
            );
        }
        None
    }
}

pub(super) fn leaf_source(key: &str) -> Option<Source> {
    Some(match key {
        "subject" => Source::Subject,
        "from" => Source::From,
        "from_name" => Source::FromName,
        "from_address" => Source::FromAddress,
        "to" => Source::To,
        "body" => Source::Body,
        "text" => Source::Text,
        "attachment_name" => Source::AttachmentName,
        "attachment_type" => Source::AttachmentType,
        "attachment_text" => Source::AttachmentText,
        "einvoice" => Source::EInvoice,
        "role" => Source::Role,
        "replies_to" => Source::RepliesTo,
        _ => return None,
    })
}
