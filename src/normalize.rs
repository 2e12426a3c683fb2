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

use chrono::NaiveDate;
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

// ---------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Payment terms
// ---------------------------------------------------------------------------------------

macro_rules! day_unit {
    () => {
        r"(?:calendar\s+|kalender)?(?:days?|tagen|tage|tag|jours?|dagen|dag)\b"
    };
}

static TERMS_NET_EN: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?i)\b(?:net|n/)[ \t]*[-:]?[ \t]*([0-9]{1,3})\b"));
static TERMS_DAYS_NET: LazyLock<Regex> = LazyLock::new(|| {
    compile(concat!(
        r"(?i)\b([0-9]{1,3})\)?\s*-?\s*",
        day_unit!(),
        r"[\s,]*(?:netto|net)\b"
    ))
});
static TERMS_NETTO_DAYS: LazyLock<Regex> = LazyLock::new(|| {
    compile(concat!(
        r"(?i)\bnetto\s*:?\s*([0-9]{1,3})\)?\s*-?\s*",
        day_unit!()
    ))
});
static TERMS_DAYS: LazyLock<Regex> = LazyLock::new(|| {
    compile(concat!(
        r"(?i)\b([0-9]{1,3})\)?\s*-?\s*",
        day_unit!(),
        r"([^,;.\n]{0,25})"
    ))
});
static TERMS_DISCOUNT: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?i)%|skonto|escompte|discount|korting"));
static TERMS_IMMEDIATE: LazyLock<Regex> = LazyLock::new(|| {
    compile(concat!(
        r"(?i)\b(?:due|payable)\s+(?:up)?on\s+receipt\b|\b(?:due|payable)\s+immediately\b",
        r"|\bsofort\s+(?:zahlbar|fällig|ohne\s+abzug)|\bzahlbar\s+sofort\b",
        r"|(?:\bà|\bdès)\s+r[ée]ception\b|\bcomptant\b|\bonmiddellijk\b|\bper\s+direct\b"
    ))
});
static AFTER_NET_IS_MONEY: LazyLock<Regex> = LazyLock::new(|| {
    compile(concat!(
        r"(?i)^(?:[.,'’][0-9]|",
        hs!(),
        "*",
        cur_suffix!(),
        ")"
    ))
});

const MAX_TERM_DAYS: u32 = 365;

/// Parse payment terms into a number of days: `net 30`, `NET30`, `2/10 net 30`, `n/30`,
/// `30 days net`, `payable within 30 days`, `Zahlbar innerhalb von 14 Tagen`,
/// `30 Tage netto`, `30 jours (fin de mois)`, `binnen 30 dagen`. Explicit net terms win
/// over other day counts; otherwise the longest day count not in a discount clause
/// (`10 Tagen 2% Skonto`) is taken. `due on receipt`, `sofort zahlbar`, `à réception`,
/// `onmiddellijk` give `Some(0)`. Text without terms (or over 365 days) gives `None`.
/// "Fin de mois"/EOM is not modelled: `30 jours fin de mois` gives 30.
pub fn parse_payment_terms(s: &str) -> Option<u32> {
    let valid = |n: u32| (n <= MAX_TERM_DAYS).then_some(n);
    for c in TERMS_NET_EN.captures_iter(s) {
        let (Some(m), Some(n)) = (c.get(1), c.get(1).and_then(|m| m.as_str().parse().ok())) else {
            continue;
        };
        if !AFTER_NET_IS_MONEY.is_match(&s[m.end()..]) {
            return valid(n);
        }
    }
    for re in [&*TERMS_DAYS_NET, &*TERMS_NETTO_DAYS] {
        if let Some(n) = re.captures(s).and_then(|c| c[1].parse().ok()) {
            return valid(n);
        }
    }
    let mut best: Option<u32> = None;
    let mut best_discount: Option<u32> = None;
    for c in TERMS_DAYS.captures_iter(s) {
        let Ok(n) = c[1].parse::<u32>() else { continue };
        if n > MAX_TERM_DAYS {
            continue;
        }
        let slot = if TERMS_DISCOUNT.is_match(&c[2]) {
            &mut best_discount
        } else {
            &mut best
        };
        *slot = Some(slot.map_or(n, |b| b.max(n)));
    }
    if best.is_some() {
        return best;
    }
    if TERMS_IMMEDIATE.is_match(s) {
        return Some(0);
    }
    best_discount
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn anchored(pattern: &str) -> Regex {
        Regex::new(&format!("^(?:{pattern})$")).expect("pattern compiles")
    }

    static AMOUNT_ANCHORED: LazyLock<Regex> = LazyLock::new(|| anchored(AMOUNT_PATTERN));
    static DATE_ANCHORED: LazyLock<Regex> = LazyLock::new(|| anchored(DATE_PATTERN));

    /// (input, value as `Decimal::to_string`, currency)
    const AMOUNTS: &[(&str, &str, Option<&str>)] = &[
        ("1.234,56 €", "1234.56", Some("EUR")),
        ("$1,234.56", "1234.56", Some("USD")),
        ("1 234,56 EUR", "1234.56", Some("EUR")),
        ("1\u{00A0}234,56 EUR", "1234.56", Some("EUR")),
        ("1\u{202F}234,56 EUR", "1234.56", Some("EUR")),
        ("1\u{2009}234,56 EUR", "1234.56", Some("EUR")),
        (
            "1\u{202F}234\u{202F}567,89\u{00A0}€",
            "1234567.89",
            Some("EUR"),
        ),
        ("CHF 1'234.50", "1234.50", Some("CHF")),
        ("CHF 1’234.50", "1234.50", Some("CHF")),
        ("Fr. 1'234.50", "1234.50", Some("CHF")),
        ("SFr. 50.–", "50", Some("CHF")),
        ("USD 4.11", "4.11", Some("USD")),
        ("US$ 4.11", "4.11", Some("USD")),
        ("usd 4.11", "4.11", Some("USD")),
        ("£2,978.40", "2978.40", Some("GBP")),
        ("€ 399,00", "399.00", Some("EUR")),
        ("399,00 €", "399.00", Some("EUR")),
        ("399,00€", "399.00", Some("EUR")),
        ("EUR 399.00", "399.00", Some("EUR")),
        ("399,00 Euro", "399.00", Some("EUR")),
        ("399,- €", "399", Some("EUR")),
        ("Rs. 319", "319", Some("INR")),
        ("Rs 319", "319", Some("INR")),
        ("₹319", "319", Some("INR")),
        ("₹1,23,456.00", "123456.00", Some("INR")),
        ("¥1,200", "1200", Some("JPY")),
        ("C$ 12.50", "12.50", Some("CAD")),
        ("1.234,50 kr.", "1234.50", None),
        ("1 234,50 SEK", "1234.50", Some("SEK")),
        ("12,50 zł", "12.50", Some("PLN")),
        ("-120,00 €", "-120.00", Some("EUR")),
        ("−120,00 €", "-120.00", Some("EUR")),
        ("€ -120,00", "-120.00", Some("EUR")),
        ("-€120.00", "-120.00", Some("EUR")),
        ("(120.00)", "-120.00", None),
        ("(€ 120,00)", "-120.00", Some("EUR")),
        ("(120.00 USD)", "-120.00", Some("USD")),
        ("1234", "1234", None),
        ("1,234", "1234", None),
        ("1.234", "1234", None),
        ("1,23", "1.23", None),
        ("12,5", "12.5", None),
        ("0,99", "0.99", None),
        ("0,123", "0.123", None),
        ("1234,567", "1234.567", None),
        ("1,2345", "1.2345", None),
        ("1.234.567,89", "1234567.89", None),
        ("1,234,567.89", "1234567.89", None),
        ("1'234'567.89", "1234567.89", None),
        ("1,234.5", "1234.5", None),
        ("0", "0", None),
        ("0.00", "0.00", None),
        ("  42,00 EUR \n", "42.00", Some("EUR")),
        ("1.234,56EUR", "1234.56", Some("EUR")),
        ("EUR1.234,56", "1234.56", Some("EUR")),
        ("1,234.56USD", "1234.56", Some("USD")),
        ("€1.234,56", "1234.56", Some("EUR")),
        ("(399,00€)", "-399.00", Some("EUR")),
    ];

    #[test]
    fn parse_amount_accepts_all_listed_formats() {
        for &(input, value, currency) in AMOUNTS {
            let got = parse_amount(input).unwrap_or_else(|| panic!("{input:?} should parse"));
            assert_eq!(got.value.to_string(), value, "value of {input:?}");
            assert_eq!(got.currency, currency, "currency of {input:?}");
        }
    }

    #[test]
    fn parse_amount_keeps_written_scale() {
        for (input, scale) in [
            ("399,00", 2),
            ("399", 0),
            ("399,0", 1),
            ("0,990", 3),
            ("1.234,5600 €", 4),
        ] {
            let got = parse_amount(input).unwrap_or_else(|| panic!("{input:?} should parse"));
            assert_eq!(got.value.scale(), scale, "scale of {input:?}");
        }
        assert_eq!(
            parse_amount("399,00 €").map(|a| a.value.to_string()),
            Some("399.00".into())
        );
    }

    #[test]
    fn parse_amount_negative_forms() {
        for input in [
            "-120,00 €",
            "€ -120,00",
            "-€120,00",
            "(120,00)",
            "(€120,00)",
            "EUR -120,00",
            "- 120,00",
        ] {
            let got = parse_amount(input).unwrap_or_else(|| panic!("{input:?} should parse"));
            assert!(got.value.is_sign_negative(), "{input:?} is negative");
            assert_eq!(
                got.value.abs().to_string(),
                "120.00",
                "magnitude of {input:?}"
            );
        }
        assert_eq!(
            parse_amount("-0,00").map(|a| a.value.to_string()),
            Some("0.00".into())
        );
    }

    #[test]
    fn parse_amount_rejects_junk() {
        for input in [
            "",
            " ",
            "abc",
            "€",
            "EUR",
            "1.2.3,4,5",
            "12,34,56",
            "1..2",
            "1,,2",
            "12ab34",
            "1a",
            "a1",
            "1,234,56",
            "1.234.56",
            "1,234.567,89",
            "1 234.567,8",
            "€ 5 €",
            "EUR 5 USD",
            "(120.00",
            "120.00)",
            "--5",
            "5-",
            "1.234,56 EUR 19%",
            ".5",
            "5.",
            "1 2",
            "12 34",
            "1,23,45",
            "XYZ 12",
            "12 abc",
            "1e5",
            "0x10",
            "1_000",
            "99999999999999999999999999999999",
            "0,12345678901234567890123456789012",
            "1.234,5678901234567890123456789012 €",
        ] {
            assert_eq!(parse_amount(input), None, "{input:?} must be rejected");
        }
    }

    #[test]
    fn currency_codes() {
        for (input, code) in [
            ("€", Some("EUR")),
            ("EUR", Some("EUR")),
            ("eur", Some("EUR")),
            ("Euro", Some("EUR")),
            ("$", Some("USD")),
            ("US$", Some("USD")),
            ("usd", Some("USD")),
            ("£", Some("GBP")),
            ("GBP", Some("GBP")),
            ("CHF", Some("CHF")),
            ("Fr.", Some("CHF")),
            ("SFr.", Some("CHF")),
            ("sfr", Some("CHF")),
            ("¥", Some("JPY")),
            ("JPY", Some("JPY")),
            ("₹", Some("INR")),
            ("Rs", Some("INR")),
            ("Rs.", Some("INR")),
            ("INR", Some("INR")),
            ("CAD", Some("CAD")),
            ("AUD", Some("AUD")),
            ("SEK", Some("SEK")),
            ("NOK", Some("NOK")),
            ("DKK", Some("DKK")),
            ("PLN", Some("PLN")),
            ("CZK", Some("CZK")),
            ("CNY", Some("CNY")),
            ("RMB", Some("CNY")),
            (" cad ", Some("CAD")),
            ("kr", None),
            ("kr.", None),
            ("", None),
            ("XYZ", None),
            ("EURO2", None),
            ("dollars", None),
        ] {
            assert_eq!(currency_code(input), code, "currency_code({input:?})");
        }
        for code in ISO_CODES {
            assert_eq!(currency_code(code), Some(*code), "ISO code {code}");
        }
    }

    #[test]
    fn iso_code_list_and_pattern_agree() {
        let in_pattern: Vec<&str> = iso_codes!().split('|').map(str::trim).collect();
        assert_eq!(
            in_pattern, ISO_CODES,
            "iso_codes! and ISO_CODES must list the same codes"
        );
        let re = anchored(AMOUNT_PATTERN);
        for code in ISO_CODES {
            let s = format!("{code} 12.50");
            assert!(re.is_match(&s), "pattern accepts {s:?}");
            assert_eq!(
                parse_amount(&s).and_then(|a| a.currency),
                Some(*code),
                "{s:?}"
            );
        }
    }

    #[test]
    fn amount_pattern_matches_every_accepted_form_fully() {
        let re = anchored(AMOUNT_PATTERN);
        for &(input, _, _) in AMOUNTS {
            assert!(
                re.is_match(input.trim()),
                "AMOUNT_PATTERN must fully match {input:?}"
            );
        }
        assert_eq!(
            Regex::new(AMOUNT_PATTERN).map(|r| r.captures_len()).ok(),
            Some(1),
            "no capture groups"
        );
    }

    #[test]
    fn amount_pattern_extracts_from_sentences() {
        let re = Regex::new(&format!(
            r"(?i)(?:total|amount|betrag|montant|totaal)[^0-9\n]*?({AMOUNT_PATTERN})"
        ))
        .expect("compiles");
        for (text, captured, value) in [
            (
                "Total due: 1.234,56 EUR   19% VAT",
                "1.234,56 EUR",
                "1234.56",
            ),
            ("Total due: 1,234.56 USD", "1,234.56 USD", "1234.56"),
            ("Amount: $1,234.56 (incl. tax)", "$1,234.56", "1234.56"),
            (
                "Montant TTC : 1\u{202F}234,56\u{00A0}€ à régler",
                "1\u{202F}234,56\u{00A0}€",
                "1234.56",
            ),
            ("Betrag CHF 1'234.50, zahlbar", "CHF 1'234.50", "1234.50"),
            ("Totaal € 399,00\nBTW 21%", "€ 399,00", "399.00"),
            ("Total 399,00   120,00", "399,00", "399.00"),
            ("Amount -120,00 € credited", "-120,00 €", "-120.00"),
            ("Total (120.00) credit", "(120.00)", "-120.00"),
            ("Total 1,2345 kg", "1,2345", "1.2345"),
        ] {
            let caps = re
                .captures(text)
                .unwrap_or_else(|| panic!("no amount in {text:?}"));
            let got = &caps[1];
            assert_eq!(got, captured, "capture from {text:?}");
            assert_eq!(
                parse_amount(got).map(|a| a.value.to_string()).as_deref(),
                Some(value),
                "value from {text:?}"
            );
        }
        let verbose = Regex::new(&format!("(?x) total \\s* ({AMOUNT_PATTERN})")).expect("compiles");
        let caps = verbose.captures("total 1\u{202F}234,56 EUR");
        assert_eq!(
            caps.map(|c| c[1].to_string()).as_deref(),
            Some("1\u{202F}234,56 EUR"),
            "(?x) embedding"
        );
        let bare = Regex::new(AMOUNT_PATTERN).expect("compiles");
        assert_eq!(
            bare.find("x 1,234.56 y").map(|m| m.as_str()),
            Some("1,234.56")
        );
        assert_eq!(bare.find("12 EUR\n34").map(|m| m.as_str()), Some("12 EUR"));
        for (text, whole) in [
            ("Summe:1.234,56EUR", "1.234,56EUR"),
            ("Betrag EUR1.234,56.", "EUR1.234,56"),
            ("total 1,234.56USD;", "1,234.56USD"),
            ("total 1,2345 kg", "1,2345"),
            ("a 100 EUR. b", "100 EUR"),
            ("Preis 399,- € inkl.", "399,- €"),
        ] {
            assert_eq!(
                bare.find(text).map(|m| m.as_str()),
                Some(whole),
                "whole amount in {text:?}"
            );
        }
        assert!(
            bare.find_iter("1\n2\n3")
                .all(|m| !m.as_str().contains('\n')),
            "never spans lines"
        );
    }

    const DATES: &[(&str, (i32, u32, u32))] = &[
        ("2026-11-03", (2026, 11, 3)),
        ("2026/11/03", (2026, 11, 3)),
        ("2026.11.03", (2026, 11, 3)),
        ("2026-1-5", (2026, 1, 5)),
        ("03.11.2026", (2026, 11, 3)),
        ("3.11.26", (2026, 11, 3)),
        ("20.03.2026", (2026, 3, 20)),
        ("20 March 2026", (2026, 3, 20)),
        ("20. März 2026", (2026, 3, 20)),
        ("20.März 2026", (2026, 3, 20)),
        ("20 mars 2026", (2026, 3, 20)),
        ("1er mars 2026", (2026, 3, 1)),
        ("20 maart 2026", (2026, 3, 20)),
        ("Mar 20, 2026", (2026, 3, 20)),
        ("March 20 2026", (2026, 3, 20)),
        ("March 20, 2026", (2026, 3, 20)),
        ("20-Mar-2026", (2026, 3, 20)),
        ("12-Nov-2026", (2026, 11, 12)),
        ("12-NOV-26", (2026, 11, 12)),
        ("03/Nov/2026", (2026, 11, 3)),
        ("3.Nov.2026", (2026, 11, 3)),
        ("Nov. 3, 2026", (2026, 11, 3)),
        ("November 3rd, 2026", (2026, 11, 3)),
        ("3rd November 2026", (2026, 11, 3)),
        ("3rd of November 2026", (2026, 11, 3)),
        ("1st May 2026", (2026, 5, 1)),
        ("22nd Feb 2026", (2026, 2, 22)),
        ("20 Nov. 2026", (2026, 11, 20)),
        ("20 mars, 2026", (2026, 3, 20)),
        ("Friday, 20 March 2026", (2026, 3, 20)),
        ("Fri, Mar 20, 2026", (2026, 3, 20)),
        ("Freitag, 20. März 2026", (2026, 3, 20)),
        ("Freitag, 20.03.2026", (2026, 3, 20)),
        ("vendredi 20 mars 2026", (2026, 3, 20)),
        ("vrijdag 20 maart 2026", (2026, 3, 20)),
        ("20 MARCH 2026", (2026, 3, 20)),
        ("3 NOVEMBRE 2026", (2026, 11, 3)),
        ("1 août 2026", (2026, 8, 1)),
        ("13/03/2026", (2026, 3, 13)),
        ("03/13/2026", (2026, 3, 13)),
        ("29.02.2028", (2028, 2, 29)),
        (" 31 December 2026 ", (2026, 12, 31)),
    ];

    #[test]
    fn parse_date_accepts_all_listed_formats_in_both_orders() {
        for &(input, (y, m, day)) in DATES {
            for order in [DateOrder::DayFirst, DateOrder::MonthFirst] {
                assert_eq!(
                    parse_date(input, order),
                    Some(d(y, m, day)),
                    "{input:?} with {order:?}"
                );
            }
        }
    }

    #[test]
    fn parse_date_ambiguous_numeric_follows_order() {
        for (input, day_first, month_first) in [
            ("11/03/2026", d(2026, 3, 11), d(2026, 11, 3)),
            ("03-11-2026", d(2026, 11, 3), d(2026, 3, 11)),
            ("1/2/26", d(2026, 2, 1), d(2026, 1, 2)),
        ] {
            assert_eq!(
                parse_date(input, DateOrder::DayFirst),
                Some(day_first),
                "{input:?} DayFirst"
            );
            assert_eq!(
                parse_date(input, DateOrder::MonthFirst),
                Some(month_first),
                "{input:?} MonthFirst"
            );
        }
        // Dotted dates are day-first whatever the order, unless the month slot is > 12.
        assert_eq!(
            parse_date("03.11.2026", DateOrder::MonthFirst),
            Some(d(2026, 11, 3))
        );
        assert_eq!(
            parse_date("03.25.2026", DateOrder::DayFirst),
            Some(d(2026, 3, 25))
        );
    }

    #[test]
    fn parse_date_every_month_name() {
        let names: &[(u32, &[&str])] = &[
            (
                1,
                &[
                    "January", "Jan", "Jan.", "Januar", "Jänner", "janvier", "janv.", "januari",
                ],
            ),
            (
                2,
                &[
                    "February", "Feb", "Februar", "février", "fevrier", "févr.", "februari",
                ],
            ),
            (
                3,
                &[
                    "March", "Mar", "März", "Maerz", "Mrz", "mars", "maart", "mrt",
                ],
            ),
            (4, &["April", "Apr", "avril", "avr.", "april"]),
            (5, &["May", "Mai", "mai", "mei"]),
            (6, &["June", "Jun", "Juni", "juin", "juni"]),
            (7, &["July", "Jul", "Juli", "juillet", "juil.", "juli"]),
            (
                8,
                &[
                    "August", "Aug", "August", "août", "aout", "augustus", "aug.",
                ],
            ),
            (
                9,
                &[
                    "September",
                    "Sep",
                    "Sept.",
                    "septembre",
                    "sept",
                    "september",
                ],
            ),
            (
                10,
                &[
                    "October", "Oct", "Oktober", "Okt", "octobre", "oct.", "oktober", "okt",
                ],
            ),
            (
                11,
                &[
                    "November", "Nov", "November", "novembre", "nov.", "november",
                ],
            ),
            (
                12,
                &[
                    "December",
                    "Dec",
                    "Dezember",
                    "Dez",
                    "décembre",
                    "decembre",
                    "déc.",
                    "december",
                ],
            ),
        ];
        for &(month, words) in names {
            for word in words {
                for input in [
                    format!("5 {word} 2026"),
                    format!("{} 5, 2026", word),
                    format!("5 {} 2026", word.to_uppercase()),
                ] {
                    assert_eq!(
                        parse_date(&input, DateOrder::DayFirst),
                        Some(d(2026, month, 5)),
                        "{input:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn parse_date_rejects_invalid() {
        for input in [
            "",
            "abc",
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "13/13/2026",
            "32.01.2026",
            "31/04/2026",
            "30 février 2026",
            "29.02.2026",
            "March 2026",
            "20 Marchh 2026",
            "20 March",
            "2026",
            "20/03",
            "2026-11-03T10:00",
            "20 March 2026 extra",
            "1.2.3",
            "11/03/20261",
            "Funday, 20 March 2026",
            "20 Mar 26",
            "32 March 2026",
        ] {
            for order in [DateOrder::DayFirst, DateOrder::MonthFirst] {
                assert_eq!(
                    parse_date(input, order),
                    None,
                    "{input:?} must be rejected ({order:?})"
                );
            }
        }
    }

    #[test]
    fn date_pattern_matches_every_accepted_form_fully() {
        let re = anchored(DATE_PATTERN);
        for &(input, _) in DATES {
            assert!(
                re.is_match(input.trim()),
                "DATE_PATTERN must fully match {input:?}"
            );
        }
        for input in ["11/03/2026", "03-11-2026", "1/2/26"] {
            assert!(
                re.is_match(input),
                "DATE_PATTERN must fully match {input:?}"
            );
        }
        assert_eq!(
            Regex::new(DATE_PATTERN).map(|r| r.captures_len()).ok(),
            Some(1),
            "no capture groups"
        );
    }

    #[test]
    fn date_pattern_extracts_from_sentences() {
        let re = Regex::new(&format!(
            r"(?i)(?:due date|fällig am|échéance|vervaldatum|dated?)\s*:?\s*({DATE_PATTERN})"
        ))
        .expect("compiles");
        for (text, captured, expected) in [
            (
                "Due date: 03.11.2026 please pay",
                "03.11.2026",
                d(2026, 11, 3),
            ),
            ("Fällig am 20. März 2026.", "20. März 2026", d(2026, 3, 20)),
            (
                "Échéance : 1er mars 2026, merci",
                "1er mars 2026",
                d(2026, 3, 1),
            ),
            (
                "Vervaldatum 20 maart 2026\nTotaal",
                "20 maart 2026",
                d(2026, 3, 20),
            ),
            (
                "Dated Mar 20, 2026 - Invoice 1234",
                "Mar 20, 2026",
                d(2026, 3, 20),
            ),
            (
                "Due date: Friday, 20 March 2026 (net 30)",
                "Friday, 20 March 2026",
                d(2026, 3, 20),
            ),
            (
                "Due date: 2026-11-30 at the latest",
                "2026-11-30",
                d(2026, 11, 30),
            ),
            ("Date: 12-Nov-2026 ref", "12-Nov-2026", d(2026, 11, 12)),
        ] {
            let caps = re
                .captures(text)
                .unwrap_or_else(|| panic!("no date in {text:?}"));
            assert_eq!(&caps[1], captured, "capture from {text:?}");
            assert_eq!(
                parse_date(&caps[1], DateOrder::DayFirst),
                Some(expected),
                "date from {text:?}"
            );
        }
        let verbose = Regex::new(&format!("(?x) due \\s ({DATE_PATTERN})")).expect("compiles");
        let caps = verbose.captures("due Friday, 20 March 2026");
        assert_eq!(
            caps.map(|c| c[1].to_string()).as_deref(),
            Some("Friday, 20 March 2026"),
            "(?x) embedding"
        );
        let bare = Regex::new(DATE_PATTERN).expect("compiles");
        assert_eq!(
            bare.find("on 20 March\n2026").map(|m| m.as_str()),
            None,
            "never spans lines"
        );
    }

    #[test]
    fn ref_pattern() {
        let re = anchored(REF_PATTERN);
        for input in [
            "INV-4411",
            "RE-2026-0042",
            "F2026-118",
            "2026/0815",
            "4500012345",
            "PO-7781",
            "A1B",
            "123",
            "INV-4411A",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZABC1",
            "1BCDEFGHIJKLMNOPQRSTUVWXYZABCD",
            "X.2026.17",
        ] {
            assert!(re.is_match(input), "REF_PATTERN must match {input:?}");
        }
        for input in [
            "INV",
            "12",
            "A1",
            "INV-",
            "-INV1",
            "INV-4411.",
            "/4411",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZABCD1",
            "INV 4411",
            "INV#4411",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZABC12",
            "",
        ] {
            assert!(!re.is_match(input), "REF_PATTERN must not match {input:?}");
        }
        let sentence = Regex::new(&format!(
            r"(?i)(?:invoice|rechnung|facture|factuur)\s*(?:no\.?|nr\.?|n°|#)?\s*({REF_PATTERN})"
        ))
        .expect("compiles");
        for (text, captured) in [
            ("Invoice No. INV-4411.", "INV-4411"),
            ("Rechnung Nr. RE-2026-0042, vom 3.11.2026", "RE-2026-0042"),
            ("Facture n° F2026-118 du 20 mars", "F2026-118"),
            ("Factuur 2026/0815\n", "2026/0815"),
            ("invoice #4500012345)", "4500012345"),
        ] {
            let caps = sentence
                .captures(text)
                .unwrap_or_else(|| panic!("no ref in {text:?}"));
            assert_eq!(&caps[1], captured, "capture from {text:?}");
        }
        assert_eq!(
            Regex::new(REF_PATTERN).map(|r| r.captures_len()).ok(),
            Some(1),
            "no capture groups"
        );
    }

    #[test]
    fn a_swapped_day_and_month_is_doubted_only_on_weak_evidence() {
        use OrderEvidence::*;
        let doubt = |text: &str, e| swapped_doubt(text, e);
        assert!(doubt("03/04/2026", Some((DateOrder::MonthFirst, Currency))).is_some());
        assert!(doubt("03/04/2026", None).is_some());
        for settled in [
            Some((DateOrder::DayFirst, Currency)),
            Some((DateOrder::DayFirst, Language)),
            Some((DateOrder::MonthFirst, Dates)),
        ] {
            assert!(doubt("03/04/2026", settled).is_none(), "{settled:?}");
        }
        // Only one reading is a date, or both are the same day.
        assert!(doubt("25/04/2026", None).is_none());
        assert!(doubt("04/04/2026", None).is_none());
        assert!(doubt("4 March 2026", None).is_none());
        assert_eq!(
            date_order_evidence("Rechnung, zahlbar bis 04/05/2026"),
            Some((DateOrder::DayFirst, Language))
        );
    }

    #[test]
    fn infer_date_order_texts() {
        use DateOrder::*;
        for (text, expected) in [
            (
                "Rechnung vom 03.04.2026, zahlbar bis 17.04.2026",
                Some(DayFirst),
            ),
            (
                "Sehr geehrte Damen und Herren, anbei die Rechnung. Datum: 04/05/2026",
                Some(DayFirst),
            ),
            (
                "Bonjour, veuillez trouver ci-joint la facture, échéance 04/05/2026",
                Some(DayFirst),
            ),
            (
                "Geachte klant, bijgaand de factuur, te betalen vóór 04/05/2026",
                Some(DayFirst),
            ),
            (
                "Please find attached invoice 4411 for $1,200.00 due 04/05/2026",
                Some(MonthFirst),
            ),
            ("Invoice total USD 4.11, due 04/05/2026", Some(MonthFirst)),
            ("Invoice total £2,978.40, due 04/05/2026", Some(DayFirst)),
            (
                "Invoice total GBP 2,978.40 ($3,900), due 04/05/2026",
                Some(DayFirst),
            ),
            ("Invoice date 04/05/2026, due 04/25/2026", Some(MonthFirst)),
            (
                "Invoice date 04/05/2026, due 25/05/2026, $100",
                Some(DayFirst),
            ),
            (
                "Invoice date March 20, 2026, due 04/05/2026",
                Some(MonthFirst),
            ),
            ("Invoice date 20 March 2026, due 04/05/2026", Some(DayFirst)),
            ("Invoice attached, due 04/05/2026, total C$ 100", None),
            ("Invoice attached, due 04/05/2026", None),
            // Whole words only: an English street is no German "Summe".
            (
                "88 Summer Street, Boston; due 04/05/2026, $100",
                Some(MonthFirst),
            ),
            ("", None),
        ] {
            assert_eq!(
                infer_date_order(text),
                expected,
                "infer_date_order({text:?})"
            );
        }
    }

    #[test]
    fn payment_terms_in_four_languages() {
        for (input, expected) in [
            ("net 30", Some(30)),
            ("Net 30", Some(30)),
            ("NET30", Some(30)),
            ("Net-45", Some(45)),
            ("Terms: 2/10 net 30", Some(30)),
            ("2/10, n/30", Some(30)),
            ("30 days net", Some(30)),
            ("payable within 30 days", Some(30)),
            ("Payment terms: 60 days from invoice date", Some(60)),
            ("within thirty (30) days", Some(30)),
            (
                "2% discount if paid within 10 days, otherwise 30 days",
                Some(30),
            ),
            ("Due upon receipt", Some(0)),
            ("Zahlbar innerhalb von 14 Tagen", Some(14)),
            ("Zahlbar innerhalb 14 Tagen ohne Abzug", Some(14)),
            ("innerhalb 10 Tagen 2% Skonto, 30 Tage netto", Some(30)),
            ("Zahlungsziel: 30 Tage", Some(30)),
            ("Netto 21 Tage", Some(21)),
            ("Sofort zahlbar ohne Abzug", Some(0)),
            ("30 jours", Some(30)),
            ("Paiement à 45 jours fin de mois", Some(45)),
            ("30 jours net", Some(30)),
            ("Règlement à réception de facture", Some(0)),
            ("binnen 30 dagen", Some(30)),
            ("Betaling binnen 14 dagen na factuurdatum", Some(14)),
            ("30 dagen netto", Some(30)),
            ("Net amount 1,234.56", None),
            ("Net 1,234.56", None),
            ("Net 100 EUR", None),
            ("Netto 1.234,56 EUR", None),
            ("Zahlbar bis 20.03.2026", None),
            ("Invoice 30", None),
            ("", None),
            ("net 999", None),
        ] {
            assert_eq!(
                parse_payment_terms(input),
                expected,
                "parse_payment_terms({input:?})"
            );
        }
    }

    fn group3(int: &str, sep: &str) -> String {
        let mut out = String::new();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i).is_multiple_of(3) {
                out.push_str(sep);
            }
            out.push(c);
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn parse_amount_never_panics(s in any::<String>()) {
            let _ = parse_amount(&s);
            let _ = currency_code(&s);
            let _ = parse_payment_terms(&s);
            let _ = infer_date_order(&s);
        }

        #[test]
        fn parse_amount_never_panics_on_amount_like(s in "[-−(]?(€|EUR |\\$|CHF |Rs\\. )?[0-9]{0,4}([.,'’ \u{A0}\u{202F}][0-9]{0,4}){0,4}([.,]-)?( ?€| EUR| kr)?\\)?") {
            let _ = parse_amount(&s);
        }

        #[test]
        fn amount_pattern_match_implies_parse(s in "[-−(]?( ?)(€|EUR|eur|\\$|US\\$|CHF|Rs\\.|Fr\\.|kr)?( ?-? ?)[0-9]{1,4}([.,'’ \u{A0}\u{202F}][0-9]{1,4}){0,3}([.,]-)?( ?)(€|EUR|kr\\.|Rs|USD)?( ?\\))?") {
            if AMOUNT_ANCHORED.is_match(&s) {
                prop_assert!(parse_amount(&s).is_some(), "pattern matched {:?} but parser refused", s);
            }
        }

        #[test]
        fn date_pattern_match_implies_parse(s in "((Mon|Friday|vendredi|Freitag),? )?([1-9]|1[0-9]|2[0-8])(st|th|er|\\.)?( |-|/|\\.|\\. | of )(0?[1-9]|1[0-2]|March|mrt|Nov\\.|févr\\.|Dez|MÄRZ)(\\.|,)?( |-|/|, )(20[0-9]{2}|[0-9]{2})") {
            if DATE_ANCHORED.is_match(&s) {
                prop_assert!(parse_date(&s, DateOrder::DayFirst).is_some(), "pattern matched {:?} but parser refused", s);
                prop_assert!(parse_date(&s, DateOrder::MonthFirst).is_some(), "pattern matched {:?} but parser refused", s);
            }
        }

        #[test]
        fn parse_date_never_panics(s in any::<String>()) {
            let _ = parse_date(&s, DateOrder::DayFirst);
            let _ = parse_date(&s, DateOrder::MonthFirst);
        }

        #[test]
        fn parse_date_never_panics_on_date_like(s in "[0-9]{1,4}[./ -]{1,2}([0-9]{1,4}|mar|März|nov\\.)[./ -]{1,2}[0-9]{1,4}") {
            let _ = parse_date(&s, DateOrder::DayFirst);
            let _ = parse_date(&s, DateOrder::MonthFirst);
        }

        #[test]
        fn amount_round_trips_in_four_styles(cents in 0u64..100_000_000_000u64) {
            let value = Decimal::new(i64::try_from(cents).unwrap_or(0), 2);
            let int = (cents / 100).to_string();
            let frac = format!("{:02}", cents % 100);
            let styles = [
                format!("{}.{frac}", group3(&int, ",")),
                format!("{},{frac}", group3(&int, ".")),
                format!("{},{frac}", group3(&int, "\u{202F}")),
                format!("{}.{frac}", group3(&int, "'")),
            ];
            let re = &*AMOUNT_ANCHORED;
            for s in styles {
                prop_assert!(re.is_match(&s), "pattern must match {:?}", s);
                let got = parse_amount(&s);
                prop_assert_eq!(got.as_ref().map(|a| a.value), Some(value), "{:?}", s);
                prop_assert_eq!(got.map(|a| a.value.scale()), Some(2), "{:?}", s);
            }
        }

        #[test]
        fn date_round_trips(days in 0i64..80_000) {
            let date = d(1990, 1, 1) + chrono::Duration::days(days);
            let forms = [
                (date.format("%Y-%m-%d").to_string(), DateOrder::MonthFirst),
                (date.format("%d.%m.%Y").to_string(), DateOrder::MonthFirst),
                (date.format("%d/%m/%Y").to_string(), DateOrder::DayFirst),
                (date.format("%m/%d/%Y").to_string(), DateOrder::MonthFirst),
                (date.format("%-d %B %Y").to_string(), DateOrder::DayFirst),
                (date.format("%b %-d, %Y").to_string(), DateOrder::DayFirst),
                (date.format("%d-%b-%Y").to_string(), DateOrder::MonthFirst),
                (date.format("%A, %-d %B %Y").to_string(), DateOrder::MonthFirst),
            ];
            let re = &*DATE_ANCHORED;
            for (s, order) in forms {
                prop_assert!(re.is_match(&s), "pattern must match {:?}", s);
                prop_assert_eq!(parse_date(&s, order), Some(date), "{:?}", s);
            }
        }
    }
}
