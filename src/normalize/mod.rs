//! Normalisers for the money amounts, dates and payment terms found in accounting mail.
//!
//! Everything here is a pure function: no I/O, no global state beyond lazily compiled
//! regexes, and no panic on any input. The regex fragments [`AMOUNT_PATTERN`],
//! [`DATE_PATTERN`] and [`REF_PATTERN`] are built from the same pieces the parsers use, so
//! the text a rule captures with `{amount}` / `{date}` is text the parsers accept.
//!
//! Conventions a rule author must know:
//! * `1,234` and `1.234` are **grouping** (= 1234): exactly three digits after the only
//!   separator, with a first group of 1–3 digits not starting with `0`. One, two or four
//!   and more digits after the last separator are decimals (`1,23`, `12,5`, `0,123`).
//! * A single space (also U+00A0, U+202F, U+2009, U+2007) between digit groups of three is
//!   grouping, so `5 100` is 5100; two or more spaces end the number.
//! * A sign or accounting parentheses make an amount negative: `-120,00 €`, `€ -120,00`,
//!   `(120.00)`. In free text `INV-4411` therefore contains the amount `-4411`: anchor
//!   `{amount}` after a label (`total\s*:?\s*{amount}`).
//! * Dotted numeric dates (`03.11.2026`) are day-first unless the month position is > 12;
//!   slashed/dashed ones follow the `DateOrder` unless a component is > 12. Two-digit
//!   years are 20xx. ISO timestamps (`2026-11-03T10:00`) are not dates here.
//! * The patterns are self-contained: they carry their own `(?i:...)` (or `(?-i:...)` for
//!   references), use no capture groups, anchors, look-around or `\n`, and spell spaces as
//!   `\x20` so that they survive an `(?x)` around them.

use std::sync::LazyLock;

use regex::Regex;
use rust_decimal::Decimal;

// ---------------------------------------------------------------------------------------
// Regex building blocks (macros so that they can be `concat!`ed into public consts).
// ---------------------------------------------------------------------------------------

/// Horizontal whitespace allowed between a currency and its number.
macro_rules! hs {
    () => {
        r"[\x20\t\x{00A0}\x{202F}\x{2009}\x{2007}]"
    };
}

/// Space characters allowed as thousands separators.
macro_rules! gs {
    () => {
        r"[\x20\x{00A0}\x{202F}\x{2009}\x{2007}]"
    };
}

/// ISO 4217 codes recognised in text (kept in sync with `ISO_CODES` by a unit test).
macro_rules! iso_codes {
    () => {
        "EUR|USD|GBP|CHF|JPY|CNY|HKD|SGD|CAD|AUD|NZD|SEK|NOK|DKK|ISK|PLN|CZK|HUF|RON|BGN|RSD|\
         TRY|RUB|UAH|INR|PKR|KRW|TWD|THB|MYR|IDR|PHP|VND|ZAR|BRL|MXN|ARS|CLP|AED|SAR|QAR|KWD|\
         BHD|OMR|ILS|EGP|MAD|NGN|KES|TND|XOF|XAF"
    };
}

/// Currency symbols (no word boundaries needed around them).
macro_rules! cur_symbol {
    () => {
        r"\$|[€£¥￥₹₩₺₽₪₱₫₦฿]"
    };
}

/// Currency words that may stand before or after the number (the ISO codes fold case in
/// ASCII only, which keeps the compiled pattern smaller).
macro_rules! cur_words {
    () => {
        concat!(r"euros?|rmb|(?-u:", iso_codes!(), r")|zł|Kč")
    };
}

/// A currency written before the number. Letter tokens need a word boundary before them;
/// after them only a space, a sign or the digits can follow, so `EUR1.234,56` is whole.
macro_rules! cur_prefix {
    () => {
        concat!(
            r"(?:\b(?:US|CA|AU|NZ|HK|C|A|S|R)\$|",
            cur_symbol!(),
            r"|\b(?:",
            cur_words!(),
            r"|Rs\.?|SFr\.?|Fr\.|kr\.?))"
        )
    };
}

/// A currency written after the number, possibly glued to it (`1.234,56EUR`). Letter
/// tokens need a word boundary after them; only abbreviations take a trailing dot.
macro_rules! cur_suffix {
    () => {
        concat!(
            r"(?:(?:US|CA|AU|NZ|HK|C|A|S|R)\$|",
            cur_symbol!(),
            r"|(?:",
            cur_words!(),
            r")\b|(?:Rs|SFr|kr)\b\.?|Fr\.)"
        )
    };
}

/// The digits and separators of a number (no sign, no currency, no end check). The
/// alternatives are tried in order: the grouped forms before the plain one, so `1,234.56`
/// is never cut to `1,234` or `1`.
macro_rules! num_body {
    () => {
        concat!(
            r"(?:",
            r"[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]+)?",
            r"|[1-9][0-9]{0,2}(?:\.[0-9]{3})+(?:,[0-9]+)?",
            r"|[1-9][0-9]{0,2}(?:",
            gs!(),
            r"[0-9]{3})+(?:[.,][0-9]+)?",
            r"|[1-9][0-9]{0,2}(?:['’][0-9]{3})+(?:[.,][0-9]+)?",
            r"|[1-9][0-9]?(?:,[0-9]{2})+,[0-9]{3}(?:\.[0-9]+)?",
            r"|[0-9]+(?:[.,][0-9]+)?",
            r")"
        )
    };
}

/// "No cents" written as `,-`, `,--`, `.-` or `.–` (`399,-`, `CHF 50.–`).
macro_rules! dash_tail {
    () => {
        r"[.,](?:--?|–)"
    };
}

macro_rules! amount {
    () => {
        concat!(
            // Accounting parentheses: "(120.00)", "(€ 120,00)", "(120.00 USD)".
            r"(?i:\(",
            hs!(),
            r"?(?:",
            cur_prefix!(),
            hs!(),
            r"{0,2}",
            num_body!(),
            r"|\b",
            num_body!(),
            r"(?:",
            hs!(),
            r"{0,2}",
            cur_suffix!(),
            r")?)",
            hs!(),
            r"?\)",
            // Currency first, sign before or after it: "-€120", "€ -120,00", "EUR 399.00".
            r"|(?:[-\x{2212}]",
            hs!(),
            r"?",
            cur_prefix!(),
            hs!(),
            r"{0,2}|",
            cur_prefix!(),
            hs!(),
            r"{0,2}(?:[-\x{2212}]",
            hs!(),
            r"?)?)",
            num_body!(),
            r"(?:",
            dash_tail!(),
            r"|\b)",
            // Number first: "-120,00 €", "1.234,56 EUR", "399,- €", "1234".
            r"|(?:[-\x{2212}]",
            hs!(),
            r"?)?\b",
            num_body!(),
            r"(?:",
            dash_tail!(),
            r"(?:",
            hs!(),
            r"{0,2}",
            cur_suffix!(),
            r")?|",
            hs!(),
            r"{0,2}",
            cur_suffix!(),
            r"|\b))"
        )
    };
}

macro_rules! day {
    () => {
        r"(?:3[01]|[12][0-9]|0?[1-9])"
    };
}
macro_rules! month_num {
    () => {
        r"(?:1[0-2]|0?[1-9])"
    };
}
macro_rules! year4 {
    () => {
        r"[12][0-9]{3}"
    };
}
macro_rules! ordinal {
    () => {
        r"(?:st|nd|rd|th|er)"
    };
}

/// Month names and abbreviations in English, German, French, Dutch, Spanish and Italian
/// (without a dot).
macro_rules! month_name {
    () => {
        concat!(
            r"\b(?:january|januar|januari|janvier|jänner|enero|gennaio|janv|jän|jan|ene|gen",
            r"|february|februar|februari|février|fevrier|febrero|febbraio|févr|fevr|fév|fev|feb",
            r"|march|märz|maerz|maart|mars|marzo|mrz|mär|mrt|mar",
            r"|april|avril|abril|aprile|avr|apr|abr",
            r"|may|mai|mei|mayo|maggio|mag",
            r"|june|juni|juin|junio|giugno|jun|giu",
            r"|july|juli|juillet|julio|luglio|juil|jul|lug",
            r"|august|augustus|août|aout|agosto|aug|ago",
            r"|september|septembre|septiembre|setiembre|settembre|sept|sep|set",
            r"|october|oktober|octobre|octubre|ottobre|okt|oct|ott",
            r"|november|novembre|noviembre|nov",
            r"|december|dezember|décembre|decembre|diciembre|dicembre|déc|dec|dez|dic)\b"
        )
    };
}

macro_rules! weekday {
    () => {
        concat!(
            r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday",
            r"|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun",
            r"|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonnabend|sonntag",
            r"|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche",
            r"|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag)\b\.?"
        )
    };
}

/// `2026-11-03`, `2026/11/03`, `2026.11.03`.
macro_rules! date_iso {
    () => {
        concat!(
            r"\b",
            year4!(),
            r"(?:-",
            month_num!(),
            r"-|/",
            month_num!(),
            r"/|\.",
            month_num!(),
            r"\.)",
            day!(),
            r"\b"
        )
    };
}

/// `03.11.2026`, `3.11.26`, `11/03/2026`, `03-11-2026`.
macro_rules! date_numeric {
    () => {
        concat!(
            r"\b",
            day!(),
            r"(?:\.",
            day!(),
            r"\.|/",
            day!(),
            r"/|-",
            day!(),
            r"-)(?:",
            year4!(),
            r"|[0-9]{2})\b"
        )
    };
}

/// `20 March 2026`, `20. März 2026`, `1er mars 2026`, `3rd of November 2026`, and the
/// compact `20-Mar-2026`, `12-Nov-26`, `03/Nov/2026`, `3.Nov.2026` (two-digit years only in
/// the compact forms).
macro_rules! date_dmy_named {
    () => {
        concat!(
            r"\b",
            day!(),
            ordinal!(),
            r"?(?:\.",
            hs!(),
            r"*|",
            hs!(),
            r"+(?:(?:of|de)",
            hs!(),
            r"+)?|-|/)",
            month_name!(),
            r"(?:\.?,?",
            hs!(),
            r"+(?:del?",
            hs!(),
            r"+)?",
            year4!(),
            r"|\.?[-/.](?:",
            year4!(),
            r"|[0-9]{2}))\b"
        )
    };
}

/// `Mar 20, 2026`, `March 20 2026`, `Nov. 3, 2026`, `November 3rd, 2026`.
macro_rules! date_mdy_named {
    () => {
        concat!(
            month_name!(),
            r"\.?",
            hs!(),
            r"*",
            day!(),
            ordinal!(),
            r"?(?:,",
            hs!(),
            r"*|",
            hs!(),
            r"+)",
            year4!(),
            r"\b"
        )
    };
}

macro_rules! date {
    () => {
        concat!(
            r"(?i:(?:",
            weekday!(),
            r",?",
            hs!(),
            r"+)?(?:",
            date_iso!(),
            r"|",
            date_numeric!(),
            r"|",
            date_dmy_named!(),
            r"|",
            date_mdy_named!(),
            r"))"
        )
    };
}

/// A reference starting with a letter whose first digit is at index `$a + 1`, at most 30
/// characters long in total.
macro_rules! ref_alt {
    ($a:literal, $k:literal) => {
        concat!(
            r"|[A-Za-z][A-Za-z/._-]{",
            $a,
            r"}[0-9](?:[A-Za-z0-9/._-]{0,",
            $k,
            r"}[A-Za-z0-9])?"
        )
    };
}

/// Regex fragment matching an amount as [`parse_amount`] accepts it: an optional currency
/// (symbol, code or word) before or after, an optional sign or accounting parentheses.
/// Contains no capture groups and never matches a line break.
pub const AMOUNT_PATTERN: &str = amount!();

/// Regex fragment matching every date form [`parse_date`] accepts (with an optional
/// leading weekday). Contains no capture groups and never matches a line break.
pub const DATE_PATTERN: &str = date!();

/// Regex fragment matching an invoice / order reference: 3–30 characters of
/// `[A-Za-z0-9/._-]`, starting and ending with a letter or digit, containing a digit.
pub const REF_PATTERN: &str = concat!(
    r"(?-i:\b(?:[0-9][A-Za-z0-9/._-]{1,28}[A-Za-z0-9]",
    r"|[A-Za-z][0-9][A-Za-z0-9/._-]{0,27}[A-Za-z0-9]",
    ref_alt!(1, 26),
    ref_alt!(2, 25),
    ref_alt!(3, 24),
    ref_alt!(4, 23),
    ref_alt!(5, 22),
    ref_alt!(6, 21),
    ref_alt!(7, 20),
    ref_alt!(8, 19),
    ref_alt!(9, 18),
    ref_alt!(10, 17),
    ref_alt!(11, 16),
    ref_alt!(12, 15),
    ref_alt!(13, 14),
    ref_alt!(14, 13),
    ref_alt!(15, 12),
    ref_alt!(16, 11),
    ref_alt!(17, 10),
    ref_alt!(18, 9),
    ref_alt!(19, 8),
    ref_alt!(20, 7),
    ref_alt!(21, 6),
    ref_alt!(22, 5),
    ref_alt!(23, 4),
    ref_alt!(24, 3),
    ref_alt!(25, 2),
    ref_alt!(26, 1),
    ref_alt!(27, 0),
    r"|[A-Za-z][A-Za-z/._-]{28}[0-9])\b)"
);

fn compile(pattern: &str) -> Regex {
    // The patterns are compile-time constants covered by unit tests.
    Regex::new(pattern).expect("built-in normalize pattern must compile")
}

static AMOUNT_FULL: LazyLock<Regex> = LazyLock::new(|| compile(concat!("^(?:", amount!(), ")$")));
static DATE_FULL: LazyLock<Regex> = LazyLock::new(|| compile(concat!("^(?:", date!(), ")$")));

// ---------------------------------------------------------------------------------------
// Amounts
// ---------------------------------------------------------------------------------------

/// An amount with the ISO 4217 code of its currency when one was written (and known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAmount {
    pub value: Decimal,
    pub currency: Option<&'static str>,
}

/// ISO 4217 codes recognised by [`currency_code`] (kept in sync with the pattern).
const ISO_CODES: &[&str] = &[
    "EUR", "USD", "GBP", "CHF", "JPY", "CNY", "HKD", "SGD", "CAD", "AUD", "NZD", "SEK", "NOK",
    "DKK", "ISK", "PLN", "CZK", "HUF", "RON", "BGN", "RSD", "TRY", "RUB", "UAH", "INR", "PKR",
    "KRW", "TWD", "THB", "MYR", "IDR", "PHP", "VND", "ZAR", "BRL", "MXN", "ARS", "CLP", "AED",
    "SAR", "QAR", "KWD", "BHD", "OMR", "ILS", "EGP", "MAD", "NGN", "KES", "TND", "XOF", "XAF",
];

/// Map a currency symbol, word or code to its ISO 4217 code.
///
/// Symbols: `€ $ US$ £ ¥ ₹ ₩ ₺ ₽ ₪ ₱ ₫ ₦ ฿`, `C$`/`CA$`, `A$`/`AU$`, `NZ$`, `HK$`, `S$`,
/// `R$`; words: `Rs`/`Rs.` (INR), `Fr.`/`SFr.` (CHF), `Euro`/`Euros`, `RMB` (CNY), `zł`,
/// `Kč`; plus the ISO codes in `ISO_CODES`, all case-insensitive. `kr` is ambiguous
/// (SEK/NOK/DKK/ISK) and gives `None`, as does anything unknown.
pub fn currency_code(s: &str) -> Option<&'static str> {
    let t = s.trim();
    let t = t.strip_suffix('.').unwrap_or(t).trim();
    if t.is_empty() || t.chars().count() > 8 {
        return None;
    }
    let lower = t.to_lowercase();
    let code = match lower.as_str() {
        "€" | "euro" | "euros" => "EUR",
        "$" | "us$" => "USD",
        "£" => "GBP",
        "fr" | "sfr" => "CHF",
        "¥" | "￥" => "JPY",
        "₹" | "rs" => "INR",
        "c$" | "ca$" => "CAD",
        "a$" | "au$" => "AUD",
        "nz$" => "NZD",
        "hk$" => "HKD",
        "s$" => "SGD",
        "r$" => "BRL",
        "rmb" => "CNY",
        "zł" => "PLN",
        "kč" => "CZK",
        "₩" => "KRW",
        "₺" => "TRY",
        "₽" => "RUB",
        "₪" => "ILS",
        "₱" => "PHP",
        "₫" => "VND",
        "₦" => "NGN",
        "฿" => "THB",
        _ => {
            let upper = t.to_ascii_uppercase();
            return ISO_CODES.iter().copied().find(|c| *c == upper);
        }
    };
    Some(code)
}

fn is_group_space(c: char) -> bool {
    matches!(c, ' ' | '\u{00A0}' | '\u{202F}' | '\u{2009}' | '\u{2007}')
}

fn is_hspace(c: char) -> bool {
    c == '\t' || is_group_space(c)
}

fn is_sign(c: char) -> bool {
    c == '-' || c == '\u{2212}'
}

/// Separator classes: all space variants are one class, both apostrophes are one class.
fn sep_class(c: char) -> char {
    match c {
        c if is_group_space(c) => ' ',
        '’' => '\'',
        c => c,
    }
}

/// Interpret a validated number string (digits and separators, no dash tail).
/// Returns the canonical `digits[.digits]` form.
fn canonical_number(num: &str, dash_tail: bool) -> String {
    let seps: Vec<(usize, char)> = num
        .char_indices()
        .filter(|(_, c)| !c.is_ascii_digit())
        .collect();
    let digits_only = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let Some(&(last_idx, last_c)) = seps.last() else {
        return num.to_string();
    };
    let decimal_at = if dash_tail {
        None
    } else if seps.len() == 1 {
        let first_group = &num[..last_idx];
        let after = &num[last_idx + last_c.len_utf8()..];
        let grouping = matches!(sep_class(last_c), ' ' | '\'')
            || (after.len() == 3 && first_group.len() <= 3 && !first_group.starts_with('0'));
        if grouping { None } else { Some(last_idx) }
    } else if sep_class(last_c) != sep_class(seps[0].1) {
        Some(last_idx)
    } else {
        None
    };
    match decimal_at {
        None => digits_only(num),
        Some(i) => format!(
            "{}.{}",
            digits_only(&num[..i]),
            digits_only(&num[i + last_c.len_utf8()..])
        ),
    }
}

/// Parse an amount as written in an invoice; see the module docs for the conventions.
///
/// Accepted: `1.234,56 €`, `$1,234.56`, `1 234,56 EUR` (space, U+00A0, U+202F, U+2009 or
/// U+2007 as grouping), `CHF 1'234.50` / `1’234.50`, `USD 4.11`, `£2,978.40`, `€ 399,00`,
/// `Rs. 319`, `₹1,23,456.00` (Indian grouping), `-120,00 €`, `€ -120,00`, `(120.00)`,
/// `399,-` / `50.–` (zero cents, scale 0), `1234`, `0,99`. The scale is kept as written.
/// A currency may be glued to the number (`1.234,56EUR`, `EUR1.234,56`). Junk, mixed or
/// inconsistent separators, other letters next to digits, two currencies, unbalanced
/// parentheses and numbers beyond `Decimal`'s 28 digits give `None`. `kr` is accepted with
/// `currency: None` (ambiguous).
pub fn parse_amount(s: &str) -> Option<ParsedAmount> {
    let mut t = s.trim();
    if t.is_empty() || t.len() > 200 || !AMOUNT_FULL.is_match(t) {
        return None;
    }
    let mut negative = false;
    if let Some(inner) = t.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        negative = true;
        t = inner.trim_matches(is_hspace);
    }
    let first_digit = t.find(|c: char| c.is_ascii_digit())?;
    let (pre, rest) = t.split_at(first_digit);
    if pre.chars().any(is_sign) {
        negative = true;
    }
    let prefix_cur = pre.trim_matches(|c: char| is_hspace(c) || is_sign(c));

    // The number runs over digits and separators; it ends at its last digit.
    let run_end = rest
        .char_indices()
        .find(|&(_, c)| {
            !(c.is_ascii_digit() || matches!(c, ',' | '.' | '\'' | '’') || is_group_space(c))
        })
        .map_or(rest.len(), |(i, _)| i);
    let num_end = rest[..run_end].rfind(|c: char| c.is_ascii_digit())? + 1;
    let num = &rest[..num_end];
    let mut after = &rest[num_end..];
    let mut dash_tail = false;
    for tail in [",--", ".--", ",-", ".-", ",–", ".–"] {
        if let Some(x) = after.strip_prefix(tail) {
            dash_tail = true;
            after = x;
            break;
        }
    }
    let suffix_cur = after.trim_matches(is_hspace);

    let token = match (prefix_cur.is_empty(), suffix_cur.is_empty()) {
        (true, true) => None,
        (false, true) => Some(prefix_cur),
        (true, false) => Some(suffix_cur),
        (false, false) => return None,
    };
    let currency = token.and_then(currency_code);

    let mut value = Decimal::from_str_exact(&canonical_number(num, dash_tail)).ok()?;
    if negative && !value.is_zero() {
        value = -value;
    }
    Some(ParsedAmount { value, currency })
}

// The date and payment-term parsers build on the macros above (declared after them, which
// puts the macros in their scope).
mod date;
mod terms;
#[cfg(test)]
mod tests;

pub use date::{
    DateOrder, OrderEvidence, SWAPPED_CONFIDENCE, date_order_evidence, infer_date_order,
    parse_date, swapped_doubt,
};
pub use terms::parse_payment_terms;
