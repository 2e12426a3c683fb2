//! VAT identifiers and IBANs: found anywhere in a document by their format, checked (an IBAN by
//! its ISO 13616 checksum, a VAT ID by its country's format), normalised to the compact
//! upper-case form.

use std::sync::OnceLock;

use regex::Regex;

/// Country prefixes and the national part of their VAT identifiers (after spaces, dots and
/// hyphens are removed).
const VAT_FORMATS: &[(&str, &str)] = &[
    ("DE", r"\d{9}"),
    ("AT", r"U\d{8}"),
    ("FR", r"[0-9A-HJ-NP-Z]{2}\d{9}"),
    ("NL", r"\d{9}B\d{2}"),
    ("BE", r"[01]\d{9}"),
    ("LU", r"\d{8}"),
    ("ES", r"[A-Z0-9]\d{7}[A-Z0-9]"),
    ("IT", r"\d{11}"),
    ("GB", r"\d{9}(?:\d{3})?"),
    ("IE", r"\d{7}[A-W][A-I]?"),
    ("PT", r"\d{9}"),
    ("DK", r"\d{8}"),
    ("SE", r"\d{10}01"),
    ("FI", r"\d{8}"),
    ("PL", r"\d{10}"),
    ("CZ", r"\d{8,10}"),
    ("CHE", r"\d{9}"),
];

fn vat_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // A prefix, then digits/letters with the separators people print (spaces, dots,
        // hyphens), ending at a word boundary.
        Regex::new(
            r"\b(?:CHE|[A-Z]{2})[\s.\-\u{a0}]?(?:U\s?)?[0-9A-Z](?:[\s.\-\u{a0}]?[0-9A-Z]){6,13}\b",
        )
        .expect("the VAT ID pattern")
    })
}

fn vat_format(prefix: &str) -> Option<&'static Regex> {
    static RES: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    RES.get_or_init(|| {
        VAT_FORMATS
            .iter()
            .map(|(p, f)| (*p, Regex::new(&format!("^{f}$")).expect("VAT formats")))
            .collect()
    })
    .iter()
    .find(|(p, _)| *p == prefix)
    .map(|(_, r)| r)
}

/// Every valid VAT ID in `text`, compact (`DE498208919`, `CHE123456789`), in order.
pub fn vat_ids(text: &str) -> Vec<String> {
    let upper = text.to_uppercase();
    let mut out = Vec::new();
    for m in matches_from_every_word(vat_regex(), &upper) {
        let compact: String = m.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        // "MWST", "TVA", "IVA" after a Swiss UID are not part of it.
        let compact = ["MWST", "TVA", "IVA"]
            .iter()
            .find_map(|s| compact.strip_suffix(s))
            .unwrap_or(&compact)
            .to_string();
        let (prefix, rest) = if let Some(rest) = compact.strip_prefix("CHE") {
            ("CHE", rest)
        } else {
            compact.split_at(2.min(compact.len()))
        };
        if vat_format(prefix).is_some_and(|f| f.is_match(rest)) && !out.contains(&compact) {
            out.push(compact);
        }
    }
    out
}

/// Every match of `re`, searching again just after each match's start: a failed candidate
/// ("UID CHE-…" read as a "UI" prefix) must not swallow the real one that starts a word later.
/// Linear in the text (each search resumes past the previous start).
fn matches_from_every_word<'t>(re: &Regex, text: &'t str) -> Vec<&'t str> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < text.len()
        && let Some(m) = re.find_at(text, pos)
    {
        out.push(m.as_str());
        pos = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
    }
    out
}

fn iban_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\b[A-Z]{2}\d{2}(?:[\s\u{a0}]?[A-Z0-9]){10,30}\b").expect("the IBAN pattern")
    })
}

/// Lengths of IBANs by country (ISO 13616 registry, the countries invoices here come from).
fn iban_length(country: &str) -> Option<usize> {
    Some(match country {
        "DE" => 22,
        "AT" => 20,
        "CH" | "LI" => 21,
        "FR" | "MC" | "IT" | "SM" => 27,
        "NL" => 18,
        "BE" => 16,
        "LU" => 20,
        "ES" => 24,
        "PT" => 25,
        "GB" | "IE" => 22,
        "DK" | "FI" => 18,
        "SE" => 24,
        "NO" => 15,
        "PL" => 28,
        "CZ" | "SK" => 24,
        _ => return None,
    })
}

/// Does the IBAN's check (mod 97 of the rearranged number) hold?
pub fn iban_checksum_holds(iban: &str) -> bool {
    if iban.len() < 5 || !iban.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let (head, tail) = iban.split_at(4);
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = c.to_digit(36).unwrap_or(0);
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// Every IBAN in `text` whose length fits its country and whose checksum holds, compact.
pub fn ibans(text: &str) -> Vec<String> {
    let upper = text.to_uppercase();
    let mut out = Vec::new();
    for m in matches_from_every_word(iban_regex(), &upper) {
        let compact: String = m.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        // A match may run into a following word ("DE44 6005 ... 45 BIC"): try the prefix of
        // the country's length.
        let Some(len) = iban_length(&compact[..2]) else {
            continue;
        };
        if compact.len() < len {
            continue;
        }
        let candidate = &compact[..len];
        if iban_checksum_holds(candidate) && !out.iter().any(|o: &String| o == candidate) {
            out.push(candidate.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_ids_are_found_with_separators_and_checked_by_country_format() {
        assert_eq!(
            vat_ids("USt-IdNr. DE 498 208 919 · Steuer-Nr. 79/904/89184"),
            ["DE498208919"]
        );
        assert_eq!(vat_ids("TVA FR 32 123456789"), ["FR32123456789"]);
        assert_eq!(vat_ids("BTW NL123456789B01, KvK 1234"), ["NL123456789B01"]);
        assert_eq!(vat_ids("UID CHE-123.456.789 MWST"), ["CHE123456789"]);
        assert_eq!(vat_ids("Umsatzsteuer-ID DE 711 361 476"), ["DE711361476"]);
        assert_eq!(vat_ids("BE 0123.456.749"), ["BE0123456749"]);
        assert!(vat_ids("DE12345 and INVOICE 2026").is_empty());
    }

    #[test]
    fn ibans_must_have_their_country_length_and_checksum() {
        assert_eq!(
            ibans("IBAN DE44 6005 0101 8445 8739 45 BIC SOLADEST600"),
            ["DE44600501018445873945"]
        );
        assert_eq!(
            ibans("iban: de02120300000000202051"),
            ["DE02120300000000202051"]
        );
        assert!(ibans("DE45 6005 0101 8445 8739 45").is_empty(), "checksum");
        assert!(iban_checksum_holds("GB82WEST12345698765432"));
        assert!(!iban_checksum_holds("GB82WEST12345698765433"));
    }
}
