//! Payment terms: `net 30`, `30 days net`, `zahlbar innerhalb 14 Tagen netto`, discounts,
//! "due on receipt".

use std::sync::LazyLock;

use regex::Regex;

use super::compile;

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
