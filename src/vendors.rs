//! The vendor registry's logic, without I/O: what an invoice tells about its vendor (an
//! [`Observation`]), how a vendor is recognised (VAT ID, IBAN, own sending domain, name), and
//! the bank-details guard: an IBAN the registry has not confirmed for a known vendor, a letter
//! announcing new bank details, or a sender domain that imitates a known vendor's. The store
//! keeps the records (`g/`) and their identity index (`y/`).

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::model::{Decision, GuardFinding, Message};

/// Flag: an invoice or letter from a known vendor gives bank details the registry has not
/// confirmed, or announces new ones.
pub const FLAG_BANK_DETAILS: &str = "bank_details_changed";
/// Flag: the sender's domain looks like a known vendor's but is not.
pub const FLAG_LOOKALIKE: &str = "lookalike_sender";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IbanState {
    /// Seen first for this vendor (trusted on first use) or confirmed by an admin.
    Confirmed,
    /// Seen after another IBAN was known: waits for an admin.
    Pending,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownIban {
    pub iban: String,
    pub state: IbanState,
    pub since: DateTime<Utc>,
    /// The message it came from, or `admin NAME` for a confirmation.
    pub source: String,
}

/// A vendor the desk has received invoices from (`g/<id>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorRecord {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub vat_ids: Vec<String>,
    #[serde(default)]
    pub ibans: Vec<KnownIban>,
    /// Sending domains that are the vendor's own (not a billing platform's, not free mail).
    #[serde(default)]
    pub domains: Vec<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub messages: u64,
}

impl VendorRecord {
    pub fn confirmed_ibans(&self) -> Vec<String> {
        self.ibans
            .iter()
            .filter(|i| i.state == IbanState::Confirmed)
            .map(|i| i.iban.clone())
            .collect()
    }
}

/// What one message says about its vendor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    pub name: Option<String>,
    pub vat_id: Option<String>,
    pub iban: Option<String>,
    /// The sender's domain, lowercased.
    pub domain: Option<String>,
    /// The message announces new bank details ("our bank details have changed").
    pub announces_bank_change: bool,
}

/// Categories whose sender is a vendor.
const VENDOR_CATEGORIES: &[&str] = &[
    "ap.invoice",
    "ap.credit_note",
    "ap.vendor_onboarding",
    "ap.statement",
    "ap.payment_inquiry",
];

fn compact_upper(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

fn bank_change_words() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)(new|changed|updated|change\s+of|change\s+to\s+our)\s+(bank(ing)?\s+(details|account)|iban|account\s+details)|bank\s+details\s+(have\s+)?(changed|updated)|neue[n]?\s+bankverbindung|bankverbindung\s+[^\n.]{0,40}?(geändert|ändert)|änderung\s+(der\s+|unserer\s+)?bankverbindung|(nouveau|nouvelles?)\s+(rib|coordonnées\s+bancaires)|changement\s+de\s+(rib|coordonnées\s+bancaires)|coordonnées\s+bancaires\s+(ont\s+)?changé|(nieuwe|gewijzigde)\s+(bankgegevens|rekeningnummer|iban)|bankgegevens\s+(zijn\s+)?gewijzigd|wijziging\s+(van\s+)?(onze\s+)?bankgegevens")
            .expect("bank-change words compile")
    })
}

/// What the message says about its vendor, for vendor categories; None otherwise.
pub fn observe(msg: &Message, d: &Decision) -> Option<Observation> {
    if !VENDOR_CATEGORIES.contains(&d.category.as_str()) {
        return None;
    }
    let field = |k: &str| d.fields.get(k).map(|f| f.value.canonical());
    let domain = msg
        .from
        .as_ref()
        .and_then(|a| a.email.as_deref())
        .and_then(|e| e.rsplit_once('@'))
        .map(|(_, d)| d.to_ascii_lowercase());
    // A letter, or an invoice that says it ("please note our new bank details").
    let announces_bank_change =
        bank_change_words().is_match(&msg.subject) || bank_change_words().is_match(msg.own_text());
    let iban = field("iban").map(|i| compact_upper(&i)).or_else(|| {
        // A bank-change letter's new IBAN is in its text (no invoice extraction ran).
        announces_bank_change
            .then(|| {
                crate::extract::ids::ibans(msg.own_text())
                    .into_iter()
                    .next()
            })
            .flatten()
    });
    Some(Observation {
        name: field("vendor"),
        vat_id: field("vendor_vat_id").map(|v| compact_upper(&v)),
        iban,
        domain,
        announces_bank_change,
    })
}

/// Mail services shared by everyone: never a vendor's own domain.
pub fn is_free_mail(domain: &str) -> bool {
    const FREE: &[&str] = &[
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "t-online.de",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "ziggo.nl",
        "kpnmail.nl",
        "protonmail.com",
        "proton.me",
    ];
    FREE.contains(&domain)
}

/// A domain's letters with look-alike characters folded (Cyrillic and Greek letters, 0→o,
/// 1→l, rn→m, vv→w), for comparing domains as a reader's eye does.
pub fn skeleton(domain: &str) -> String {
    let mut s: String = domain
        .chars()
        .map(|c| match c {
            'а' => 'a',
            'е' => 'e',
            'о' | 'ο' | '0' => 'o',
            'р' | 'ρ' => 'p',
            'с' => 'c',
            'х' | 'χ' => 'x',
            'і' | 'ı' => 'i',
            'ј' => 'j',
            'ѕ' => 's',
            'ԁ' => 'd',
            'α' => 'a',
            'ν' => 'v',
            '1' | 'ⅼ' => 'l',
            other => other.to_ascii_lowercase(),
        })
        .collect();
    for (from, to) in [("rn", "m"), ("vv", "w"), ("cl", "d")] {
        s = s.replace(from, to);
    }
    s
}

/// The part of a domain a company registers: `billing.acme-supplies.co.uk` → `acme-supplies`,
/// and its suffix (`co.uk`).
fn registrable(domain: &str) -> (&str, &str) {
    let labels: Vec<&str> = domain.split('.').collect();
    let two_part = labels.len() >= 3
        && matches!(
            labels[labels.len() - 2],
            "co" | "com" | "org" | "net" | "ac" | "gov"
        );
    let suffix_len = if two_part { 2 } else { 1 };
    if labels.len() <= suffix_len {
        return (domain, "");
    }
    let name = labels[labels.len() - suffix_len - 1];
    let start = domain.len() - labels[labels.len() - suffix_len..].join(".").len();
    (name, &domain[start..])
}

/// Does `sender` imitate `known` (and is not it)? The same name under another TLD
/// (`acme.com` for `acme.de`), a look-alike spelling (`acrne.de`, `acme-supp1ies.de`), or a
/// name one or two edits away.
pub fn looks_like(sender: &str, known: &str) -> bool {
    if sender == known
        || sender.ends_with(&format!(".{known}"))
        || known.ends_with(&format!(".{sender}"))
    {
        return false;
    }
    let (s_name, s_tld) = registrable(sender);
    let (k_name, k_tld) = registrable(known);
    if s_name == k_name {
        // The same registrable name: another TLD is an imitation, the same is the same domain.
        return s_tld != k_tld;
    }
    if s_name.len() < 4 || k_name.len() < 4 {
        return false;
    }
    skeleton(s_name) == skeleton(k_name)
        || strsim::damerau_levenshtein(s_name, k_name) <= if k_name.len() >= 8 { 2 } else { 1 }
}

/// The guard's verdict on one message from a known vendor: the flags to raise and what to show.
pub fn check(
    record: &VendorRecord,
    obs: &Observation,
) -> Option<(Vec<&'static str>, GuardFinding)> {
    let mut flags = Vec::new();
    let mut findings = Vec::new();
    let confirmed = record.confirmed_ibans();
    let mut new_iban = None;
    let pending = |iban: &String| {
        record
            .ibans
            .iter()
            .any(|k| &k.iban == iban && k.state == IbanState::Pending)
    };
    if let Some(iban) = &obs.iban
        && ((!confirmed.is_empty() && !confirmed.contains(iban)) || pending(iban))
    {
        flags.push(FLAG_BANK_DETAILS);
        findings.push(format!(
            "{} is not an IBAN confirmed for {} ({})",
            iban,
            record.name,
            if confirmed.is_empty() {
                "none is confirmed yet".to_string()
            } else {
                format!("confirmed: {}", confirmed.join(", "))
            }
        ));
        new_iban = Some(iban.clone());
    }
    if obs.announces_bank_change {
        if !flags.contains(&FLAG_BANK_DETAILS) {
            flags.push(FLAG_BANK_DETAILS);
        }
        findings.push(format!(
            "the message announces new bank details for {}",
            record.name
        ));
        if new_iban.is_none() {
            new_iban = obs.iban.clone().filter(|i| !confirmed.contains(i));
        }
    }
    if flags.is_empty() {
        return None;
    }
    Some((
        flags,
        GuardFinding {
            vendor_id: record.id.clone(),
            vendor: record.name.clone(),
            known_ibans: confirmed,
            new_iban,
            known_domains: record.domains.clone(),
            sender_domain: obs.domain.clone(),
            findings,
        },
    ))
}

/// The guard on a message from a sender the registry does not know: only a letter announcing
/// new bank details trips it (there is nothing to compare an IBAN with).
pub fn check_unknown(obs: &Observation) -> Option<(Vec<&'static str>, GuardFinding)> {
    if !obs.announces_bank_change {
        return None;
    }
    let who = obs
        .name
        .clone()
        .or_else(|| obs.domain.clone())
        .unwrap_or_else(|| "an unknown sender".into());
    Some((
        vec![FLAG_BANK_DETAILS],
        GuardFinding {
            vendor_id: String::new(),
            vendor: who.clone(),
            known_ibans: Vec::new(),
            new_iban: obs.iban.clone(),
            known_domains: Vec::new(),
            sender_domain: obs.domain.clone(),
            findings: vec![format!(
                "the message announces new bank details for {who}, a sender the vendor registry does not know"
            )],
        },
    ))
}

/// The finding for a sender domain that imitates `record`'s.
pub fn lookalike_finding(record: &VendorRecord, sender: &str, imitated: &str) -> GuardFinding {
    GuardFinding {
        vendor_id: record.id.clone(),
        vendor: record.name.clone(),
        known_ibans: record.confirmed_ibans(),
        new_iban: None,
        known_domains: record.domains.clone(),
        sender_domain: Some(sender.to_string()),
        findings: vec![format!(
            "the sender's domain {sender} looks like {imitated}, a domain of {}",
            record.name
        )],
    }
}

/// A new vendor's id: stable for its first identity.
pub fn new_id(first_identity: &str) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "vd-{}",
        &hex::encode(Sha256::digest(first_identity.as_bytes()))[..12]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> VendorRecord {
        let at = DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        VendorRecord {
            id: "vd-1".into(),
            name: "Muster GmbH".into(),
            vat_ids: vec!["DE123456788".into()],
            ibans: vec![
                KnownIban {
                    iban: "DE02120300000000202051".into(),
                    state: IbanState::Confirmed,
                    since: at,
                    source: "m1".into(),
                },
                KnownIban {
                    iban: "DE89370400440532013000".into(),
                    state: IbanState::Confirmed,
                    since: at,
                    source: "admin anna".into(),
                },
            ],
            domains: vec!["muster-lieferant.de".into()],
            first_seen: at,
            last_seen: at,
            messages: 3,
        }
    }

    #[test]
    fn an_unconfirmed_iban_or_a_bank_change_letter_trips_the_guard() {
        let r = record();
        let same = Observation {
            iban: Some("DE02120300000000202051".into()),
            ..Observation::default()
        };
        assert!(check(&r, &same).is_none(), "a confirmed IBAN");
        let second = Observation {
            iban: Some("DE89370400440532013000".into()),
            ..Observation::default()
        };
        assert!(check(&r, &second).is_none(), "a known second IBAN");
        let other = Observation {
            iban: Some("DE44600501018445873945".into()),
            domain: Some("muster-lieferant.de".into()),
            ..Observation::default()
        };
        let (flags, finding) = check(&r, &other).unwrap();
        assert_eq!(flags, [FLAG_BANK_DETAILS]);
        assert_eq!(finding.new_iban.as_deref(), Some("DE44600501018445873945"));
        assert_eq!(finding.known_ibans.len(), 2);
        let letter = Observation {
            announces_bank_change: true,
            ..Observation::default()
        };
        assert_eq!(check(&r, &letter).unwrap().0, [FLAG_BANK_DETAILS]);
    }

    #[test]
    fn lookalike_domains_and_what_is_not_one() {
        let known = "muster-lieferant.de";
        for imitation in [
            "muster-lieferant.com",
            "rnuster-lieferant.de",
            "muster-lieferamt.de",
            "muster-1ieferant.de",
            "mustеr-lieferant.de", // Cyrillic е
            "muster-lieferant.co.uk",
        ] {
            assert!(looks_like(imitation, known), "{imitation}");
        }
        for fine in [
            "muster-lieferant.de",
            "billing.muster-lieferant.de",
            "invoicecloud.example",
            "acme.de",
        ] {
            assert!(!looks_like(fine, known), "{fine}");
        }
        assert_eq!(registrable("billing.acme.co.uk"), ("acme", "co.uk"));
        assert!(is_free_mail("gmail.com") && !is_free_mail("acme.de"));
    }
}
