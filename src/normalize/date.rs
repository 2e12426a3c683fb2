//! Dates: numeric (day or month first, by the text's evidence), ISO and with month names in
//! several languages; and the evidence a text gives for its numeric date order.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use super::{DATE_FULL, compile};

/// How to read an ambiguous numeric date such as `11/03/2026`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// 11/03/2026 is 11 March 2026 (UK, most of Europe).
    DayFirst,
    /// 11/03/2026 is 3 November 2026 (US).
    MonthFirst,
}

/// Month number for a month name or abbreviation (lower case, without a trailing dot).
fn month_from_word(w: &str) -> Option<u32> {
    Some(match w {
        "january" | "januar" | "januari" | "janvier" | "jänner" | "enero" | "gennaio" | "janv"
        | "jän" | "jan" | "ene" | "gen" => 1,
        "february" | "februar" | "februari" | "février" | "fevrier" | "febrero" | "febbraio"
        | "févr" | "fevr" | "fév" | "fev" | "feb" => 2,
        "march" | "märz" | "maerz" | "maart" | "mars" | "marzo" | "mrz" | "mär" | "mrt" | "mar" => {
            3
        }
        "april" | "avril" | "abril" | "aprile" | "avr" | "apr" | "abr" => 4,
        "may" | "mai" | "mei" | "mayo" | "maggio" | "mag" => 5,
        "june" | "juni" | "juin" | "junio" | "giugno" | "jun" | "giu" => 6,
        "july" | "juli" | "juillet" | "julio" | "luglio" | "juil" | "jul" | "lug" => 7,
        "august" | "augustus" | "août" | "aout" | "agosto" | "aug" | "ago" => 8,
        "september" | "septembre" | "septiembre" | "setiembre" | "settembre" | "sept" | "sep"
        | "set" => 9,
        "october" | "oktober" | "octobre" | "octubre" | "ottobre" | "okt" | "oct" | "ott" => 10,
        "november" | "novembre" | "noviembre" | "nov" => 11,
        "december" | "dezember" | "décembre" | "decembre" | "diciembre" | "dicembre" | "déc"
        | "dec" | "dez" | "dic" => 12,
        _ => return None,
    })
}

fn full_year(digits: &str) -> Option<i32> {
    let y: i32 = digits.parse().ok()?;
    Some(if digits.len() == 2 { 2000 + y } else { y })
}

/// Parse a date in any of the forms matched by [`DATE_PATTERN`]:
/// ISO `2026-11-03` / `2026/11/03` / `2026.11.03`; numeric `03.11.2026`, `3.11.26`,
/// `11/03/2026`, `03-11-2026` (two-digit years are 20xx); named `20 March 2026`,
/// `20. März 2026`, `1er mars 2026`, `20 maart 2026`, `3rd (of) November 2026`,
/// `20-Mar-2026`, `12-Nov-26`, `Mar 20, 2026`, `March 20 2026`, `Nov. 3, 2026`; an optional
/// leading weekday (`Friday, 20 March 2026`) is ignored. Month names in English, German,
/// French and Dutch, case-insensitive.
///
/// Numeric dates: a component > 12 decides the order whatever `order` says; dotted dates
/// are otherwise day-first; slashed and dashed ones follow `order`. Impossible dates
/// (`2026-02-30`, `13/13/2026`) give `None`.
pub fn parse_date(s: &str, order: DateOrder) -> Option<NaiveDate> {
    let t = s.trim();
    if t.is_empty() || t.len() > 100 || !DATE_FULL.is_match(t) {
        return None;
    }
    // Tokenise: digit runs, letter runs; remember the separator after the first number.
    let mut numbers: Vec<&str> = Vec::new();
    let mut month: Option<u32> = None;
    let mut first_sep: Option<char> = None;
    let mut chars = t.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_ascii_digit() {
            let mut end = i + 1;
            while let Some(&(j, d)) = chars.peek() {
                if !d.is_ascii_digit() {
                    break;
                }
                end = j + 1;
                chars.next();
            }
            numbers.push(&t[i..end]);
            if numbers.len() == 1 {
                first_sep = chars.peek().map(|&(_, d)| d);
            }
        } else if c.is_alphabetic() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if !d.is_alphabetic() {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            if month.is_none() {
                month = month_from_word(&t[i..end].to_lowercase());
            }
        }
    }

    let (year, month, day) = match (month, numbers.as_slice()) {
        (Some(m), [d, y]) => (full_year(y)?, m, d.parse().ok()?),
        (None, [y, m, d]) if y.len() == 4 => (full_year(y)?, m.parse().ok()?, d.parse().ok()?),
        (None, [a, b, y]) => {
            let a: u32 = a.parse().ok()?;
            let b: u32 = b.parse().ok()?;
            let day_first = if a > 12 && b <= 12 {
                true
            } else if b > 12 && a <= 12 {
                false
            } else if a > 12 {
                return None;
            } else {
                first_sep == Some('.') || order == DateOrder::DayFirst
            };
            let (d, m) = if day_first { (a, b) } else { (b, a) };
            (full_year(y)?, m, d)
        }
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, month, day)
}

static NUMERIC_DATES: LazyLock<Regex> =
    LazyLock::new(|| compile(r"\b([0-9]{1,2})([./-])([0-9]{1,2})([./-])[12][0-9]{3}\b"));
static NAMED_DMY: LazyLock<Regex> =
    LazyLock::new(|| compile(concat!("(?i:", date_dmy_named!(), ")")));
static NAMED_MDY: LazyLock<Regex> =
    LazyLock::new(|| compile(concat!("(?i:", date_mdy_named!(), ")")));
static DAY_FIRST_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    compile(concat!(
        // Whole words (a prefix only where the word is one): "Summer Street" has no "summe".
        r"(?i)\b(?:rechnung\w*|datum|fällig\w*|zahlbar|zahlung\w*|betrag|gesamtbetrag|summe",
        r"|mwst|ust|überweis\w*|gutschrift|mahnung|bestellung|kundennummer|tagen|bitte",
        r"|freundlichen|grüßen|geehrte\w*|facture\w*|échéance|echeance|montant|règlement",
        r"|reglement|paiement|cordialement|bonjour|madame|monsieur|merci|ttc|tva|avoir",
        r"|ci-joint|factu\w*|vervaldatum|betalen|betaal\w*|betaling\w*|bedrag|totaal|btw",
        r"|vriendelijke|groet\w*|geachte|klantnummer|graag|bijgaand)\b"
    ))
});
static GBP_HINT: LazyLock<Regex> = LazyLock::new(|| compile(r"(?i)£|\bGBP\b"));
static USD_HINT: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?i)\bUS\$|(?:^|[^\p{L}\p{N}])\$|\bUSD\b"));
static EUR_HINT: LazyLock<Regex> = LazyLock::new(|| compile(r"(?i)€|\bEUR\b"));

/// Decide the day/month order of ambiguous numeric dates for a whole message text.
///
/// In order of precedence: the first unambiguous numeric date `a/b/yyyy`, `a.b.yyyy` or
/// `a-b-yyyy` (a > 12 → DayFirst, b > 12 → MonthFirst); any dotted date → DayFirst; a date
/// written with a month name (`20 March 2026` → DayFirst, `March 20, 2026` → MonthFirst);
/// German, French or Dutch words → DayFirst; `£`/`GBP` → DayFirst; `$`/`US$`/`USD`
/// (not `C$`, `A$` …) → MonthFirst; `€`/`EUR` → DayFirst; otherwise `None`.
pub fn infer_date_order(text: &str) -> Option<DateOrder> {
    date_order_evidence(text).map(|(order, _)| order)
}

/// What a message's day/month order was worked out from: other dates in it settle it; its
/// language or currency only make it likely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEvidence {
    /// An unambiguous or dotted numeric date, or a date written with a month name.
    Dates,
    /// Words of a day-first language.
    Language,
    /// The currency (£ and € day-first, $ month-first).
    Currency,
}

/// The confidence of a date whose day and month could be swapped (see [`swapped_doubt`]).
pub const SWAPPED_CONFIDENCE: u8 = 60;

/// Why a date read from `text` may have its day and month swapped: both readings are dates,
/// and the message's order (`evidence`, from [`date_order_evidence`]) is only a guess. Other
/// dates, a day-first language, pounds or euros settle it well enough; dollars (Canada and
/// much of the Americas write day first too) or nothing at all do not.
pub fn swapped_doubt(text: &str, evidence: Option<(DateOrder, OrderEvidence)>) -> Option<String> {
    let day_first = parse_date(text, DateOrder::DayFirst)?;
    let month_first = parse_date(text, DateOrder::MonthFirst)?;
    if day_first == month_first {
        return None;
    }
    let why = match evidence {
        Some((DateOrder::MonthFirst, OrderEvidence::Currency)) => "the dollar sign",
        None => "nothing in the message (day first assumed)",
        Some(_) => return None,
    };
    Some(format!(
        "{} could be {} or {}: the order comes only from {why}",
        text.trim(),
        day_first.format("%-d %B %Y"),
        month_first.format("%-d %B %Y")
    ))
}

/// [`infer_date_order`] with what the order was worked out from.
pub fn date_order_evidence(text: &str) -> Option<(DateOrder, OrderEvidence)> {
    use OrderEvidence::{Currency, Dates, Language};
    let mut dotted = false;
    // Find with the fast engine, then capture within each (short) match: captures over a
    // whole message run the slow engine across all of it.
    for found in NUMERIC_DATES.find_iter(text) {
        let Some(c) = NUMERIC_DATES.captures(found.as_str()) else {
            continue;
        };
        if c[2] != c[4] {
            continue;
        }
        let (Ok(a), Ok(b)) = (c[1].parse::<u32>(), c[3].parse::<u32>()) else {
            continue;
        };
        if (13..=31).contains(&a) && (1..=12).contains(&b) {
            return Some((DateOrder::DayFirst, Dates));
        }
        if (1..=12).contains(&a) && (13..=31).contains(&b) {
            return Some((DateOrder::MonthFirst, Dates));
        }
        if &c[2] == "." && (1..=12).contains(&a) && (1..=12).contains(&b) {
            dotted = true;
        }
    }
    if dotted {
        return Some((DateOrder::DayFirst, Dates));
    }
    match (NAMED_DMY.find(text), NAMED_MDY.find(text)) {
        (Some(d), Some(m)) if m.start() < d.start() => return Some((DateOrder::MonthFirst, Dates)),
        (Some(_), _) => return Some((DateOrder::DayFirst, Dates)),
        (None, Some(_)) => return Some((DateOrder::MonthFirst, Dates)),
        (None, None) => {}
    }
    if DAY_FIRST_WORDS.is_match(text) {
        return Some((DateOrder::DayFirst, Language));
    }
    if GBP_HINT.is_match(text) {
        return Some((DateOrder::DayFirst, Currency));
    }
    if USD_HINT.is_match(text) {
        return Some((DateOrder::MonthFirst, Currency));
    }
    if EUR_HINT.is_match(text) {
        return Some((DateOrder::DayFirst, Currency));
    }
    None
}
