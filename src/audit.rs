//! The audit log: who read or changed what, when, with what outcome. Append-only and
//! hash-chained: each record carries the hash of the one before, and its own hash over its
//! contents, so an edited, removed or reordered record breaks the chain at a nameable place.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::{Role, token_hash};
use crate::store::{Store, StoreError};

/// What a caller asks to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Token name (or "cli:<user>" for local commands, "anonymous" for failed auth).
    pub actor: String,
    pub role: Option<String>,
    /// Route or command, e.g. "GET /api/threads/{id}" or "token create".
    pub action: String,
    /// Ids the action touched (thread, message, token name, query).
    pub targets: Vec<String>,
    /// HTTP status or "ok" / an error.
    pub outcome: String,
}

/// An entry as stored: numbered, timed and chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: u64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// Hash of the previous record ("" for the first).
    pub prev: String,
    /// SHA-256 over everything above.
    pub hash: String,
}

impl AuditRecord {
    pub fn new(seq: u64, at: DateTime<Utc>, entry: AuditEntry, prev: String) -> AuditRecord {
        let mut r = AuditRecord {
            seq,
            at,
            entry,
            prev,
            hash: String::new(),
        };
        r.hash = r.compute_hash();
        r
    }

    /// The hash this record should carry.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        let body = serde_json::json!({
            "seq": self.seq,
            "at": self.at,
            "entry": self.entry,
            "prev": self.prev,
        });
        h.update(body.to_string().as_bytes());
        hex::encode(h.finalize())
    }
}

/// The audit log never holds an email address (a search query, a data-protection request):
/// each becomes `contact:<first 16 hex of SHA-256 of the lowercased address>`, so an auditor can
/// still find a person's records by hashing their address, and an erasure leaves nothing behind.
pub fn pseudonymise_addresses(text: &str) -> String {
    static ADDRESS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
            .expect("valid address pattern")
    });
    ADDRESS
        .replace_all(text, |c: &regex::Captures<'_>| {
            let address = c[0].replace("%40", "@").to_lowercase();
            format!("contact:{}", &token_hash(&address)[..16])
        })
        .into_owned()
}

/// Record a change a person asked for (a token made or revoked, an export, an erasure, a hold,
/// an import, a purge). Every target is trimmed and keeps an address only as its pseudonym, and
/// the store is flushed before this returns: a change is never answered before its record is
/// durable.
pub fn record_admin_action<T: AsRef<str>>(
    store: &Store,
    actor: &str,
    role: Role,
    action: &str,
    targets: impl IntoIterator<Item = T>,
    outcome: &str,
) -> Result<(), StoreError> {
    store.audit(AuditEntry {
        actor: actor.to_string(),
        role: Some(role.name().to_string()),
        action: action.to_string(),
        targets: targets
            .into_iter()
            .map(|t| pseudonymise_addresses(t.as_ref().trim()))
            .collect(),
        outcome: outcome.to_string(),
    })?;
    store.flush()
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit record {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: u64,
    pub reason: String,
}

/// Check records in stored order against each other and against the head (`last_seq`).
pub fn verify(
    records: impl Iterator<Item = AuditRecord>,
    last_seq: u64,
) -> Result<u64, ChainBreak> {
    let mut expected_seq = 1;
    let mut prev = String::new();
    for r in records {
        if r.seq != expected_seq {
            return Err(ChainBreak {
                seq: expected_seq,
                reason: format!("missing or out of order (found record {} here)", r.seq),
            });
        }
        if r.prev != prev {
            return Err(ChainBreak {
                seq: r.seq,
                reason: "does not follow the record before it (removed or reordered)".into(),
            });
        }
        if r.compute_hash() != r.hash {
            return Err(ChainBreak {
                seq: r.seq,
                reason: "contents changed after it was written".into(),
            });
        }
        prev = r.hash.clone();
        expected_seq += 1;
    }
    let count = expected_seq - 1;
    if count != last_seq {
        return Err(ChainBreak {
            seq: count + 1,
            reason: format!("the log ends at {count} but {last_seq} records were written"),
        });
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<AuditRecord> {
        let mut prev = String::new();
        (1..=n)
            .map(|seq| {
                let r = AuditRecord::new(
                    seq,
                    Utc::now(),
                    AuditEntry {
                        actor: "desk1".into(),
                        role: Some("agent".into()),
                        action: "GET /api/threads/{id}".into(),
                        targets: vec![format!("t{seq}")],
                        outcome: "200".into(),
                    },
                    prev.clone(),
                );
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    #[test]
    fn addresses_in_audit_targets_become_stable_pseudonyms() {
        let a = pseudonymise_addresses("/api/search?q=from:Jane.Doe@Example.com%20invoice");
        let b = pseudonymise_addresses("/api/contacts/jane.doe%40example.com/erase");
        assert!(
            !a.contains("example.com") && !b.contains("example.com"),
            "{a} {b}"
        );
        let pseudonym = |s: &str| s.split("contact:").nth(1).unwrap()[..16].to_string();
        assert_eq!(pseudonym(&a), pseudonym(&b));
        assert_eq!(
            pseudonymise_addresses("/api/threads/abc"),
            "/api/threads/abc"
        );
    }

    #[test]
    fn an_admin_action_keeps_an_address_only_as_its_pseudonym() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8 << 20).unwrap();
        record_admin_action(
            &store,
            "cli:ann",
            Role::Admin,
            "export",
            [" Jane.Doe@Example.com "],
            "ok",
        )
        .unwrap();
        let records = store.audit_records(1, 10).unwrap();
        let [record] = records.as_slice() else {
            panic!("one record: {records:?}");
        };
        assert_eq!(
            record.entry,
            AuditEntry {
                actor: "cli:ann".into(),
                role: Some("admin".into()),
                action: "export".into(),
                targets: vec![pseudonymise_addresses("jane.doe@example.com")],
                outcome: "ok".into(),
            }
        );
        assert!(
            record.entry.targets[0].starts_with("contact:")
                && !record.entry.targets[0].contains("example.com"),
            "{record:?}"
        );
        assert_eq!(store.audit_verify().unwrap(), Ok(1));
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(chain(5).into_iter(), 5), Ok(5));
        assert_eq!(verify(std::iter::empty(), 0), Ok(0));
    }

    #[test]
    fn edits_removals_reorders_and_truncation_are_named() {
        let mut c = chain(5);
        c[2].entry.targets = vec!["someone-else".into()];
        assert_eq!(verify(c.into_iter(), 5).unwrap_err().seq, 3);

        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify(c.into_iter(), 5).unwrap_err().seq, 2);

        let mut c = chain(5);
        c.swap(1, 2);
        assert_eq!(verify(c.into_iter(), 5).unwrap_err().seq, 2);

        // Renumbering after a removal still breaks the link.
        let mut c = chain(5);
        c.remove(1);
        for (i, r) in c.iter_mut().enumerate() {
            r.seq = i as u64 + 1;
        }
        assert_eq!(verify(c.into_iter(), 4).unwrap_err().seq, 2);

        let c = chain(5);
        let e = verify(c.into_iter().take(4), 5).unwrap_err();
        assert_eq!(e.seq, 5);
    }
}
