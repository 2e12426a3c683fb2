//! The audit log: who read or changed what, when, with what outcome. Append-only and
//! hash-chained: each record carries the hash of the one before, and its own hash over its
//! contents, so an edited, removed or reordered record breaks the chain at a nameable place.
//!
//! A chain alone does not stop someone who can write the store: they can edit a record and
//! re-chain everything after it, or drop the newest records and lower the counter. Two things
//! outside the store do: a **key** (`DESKMAIL_AUDIT_KEY_FILE` or `DESKMAIL_AUDIT_KEY_COMMAND`)
//! with which every record's hash is MACed (HMAC-SHA256), so a rewritten record cannot carry a
//! valid MAC without it; and **anchors**, the chain's head (seq and hash) appended to a file
//! outside the store (`DESKMAIL_AUDIT_ANCHORS`, default `DATA/audit-anchors.log`) and written
//! to the log (the system journal under systemd) every [`ANCHOR_EVERY`] records or
//! [`ANCHOR_INTERVAL`], so records removed from the end are missed against the last anchor.
//! docs/SECURITY.md says exactly what is and is not detected.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use ring::hmac;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::token_hash;

/// An anchor is written at least every this many records…
pub const ANCHOR_EVERY: u64 = 100;
/// …and when this long has passed since the last one and there are new records.
pub const ANCHOR_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

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
    /// HMAC-SHA256 of `hash` under the audit key, when one is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

impl AuditRecord {
    pub fn new(seq: u64, at: DateTime<Utc>, entry: AuditEntry, prev: String) -> AuditRecord {
        let mut r = AuditRecord {
            seq,
            at,
            entry,
            prev,
            hash: String::new(),
            mac: None,
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
    // Percent-decoded first (twice: `%2540` is an encoded `%40`), so an address spelled
    // `jane%2Edoe%40example%2Ecom` in a query string meets the pattern like the plain one.
    let mut decoded = text.to_string();
    for _ in 0..2 {
        decoded = percent_encoding::percent_decode_str(&decoded)
            .decode_utf8_lossy()
            .into_owned();
    }
    ADDRESS
        .replace_all(&decoded, |c: &regex::Captures<'_>| {
            let address = c[0].replace("%40", "@").to_lowercase();
            format!("contact:{}", &token_hash(&address)[..16])
        })
        .into_owned()
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit record {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: u64,
    pub reason: String,
}

/// The secret the records are MACed with. Never stored, never logged.
pub struct AuditKey {
    key: hmac::Key,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

/// The audit key's loading errors: those of any key material ([`crate::secret`]).
pub type AuditKeyError = crate::secret::KeyError;

const WHAT: &str = "audit key";

impl AuditKey {
    /// A key from a file's or a command's bytes: 64+ hex digits are decoded; anything else is
    /// used as it is ([`crate::secret::material`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<AuditKey, AuditKeyError> {
        Ok(AuditKey::new(&crate::secret::material(WHAT, bytes)?))
    }

    fn new(material: &[u8]) -> AuditKey {
        AuditKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, material),
        }
    }

    pub fn from_file(path: &Path) -> Result<AuditKey, AuditKeyError> {
        Ok(AuditKey::new(&crate::secret::from_file(WHAT, path)?))
    }

    /// The key a command prints (`sh -c`), e.g. from a secret manager.
    pub fn from_command(command: &str) -> Result<AuditKey, AuditKeyError> {
        Ok(AuditKey::new(&crate::secret::from_command(WHAT, command)?))
    }

    /// `DESKMAIL_AUDIT_KEY_FILE`, else `DESKMAIL_AUDIT_KEY_COMMAND`, else none. Read from the
    /// environment so every deskmail process writing to a store (the daemon, `serve`, the CLI
    /// commands that audit) MACs its records alike.
    pub fn from_env() -> Result<Option<AuditKey>, AuditKeyError> {
        Ok(crate::secret::from_env(WHAT, "DESKMAIL_AUDIT_KEY")?.map(|m| AuditKey::new(&m)))
    }

    /// The MAC a record with this hash carries.
    pub fn mac(&self, hash: &str) -> String {
        hex::encode(hmac::sign(&self.key, hash.as_bytes()).as_ref())
    }

    fn holds(&self, hash: &str, mac: &str) -> bool {
        hex::decode(mac).is_ok_and(|m| hmac::verify(&self.key, hash.as_bytes(), &m).is_ok())
    }
}

/// The chain's head as seen at one moment, kept outside the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub seq: u64,
    pub hash: String,
    /// The record's MAC when the log was keyed then: pins that it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    pub at: DateTime<Utc>,
}

/// Append an anchor for `record` (one JSON line; the file is only ever appended to).
pub fn append_anchor(path: &Path, record: &AuditRecord) -> std::io::Result<()> {
    let anchor = Anchor {
        seq: record.seq,
        hash: record.hash.clone(),
        mac: record.mac.clone(),
        at: record.at,
    };
    let mut line = serde_json::to_string(&anchor).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(line.as_bytes())
}

/// The anchors in a file (none when it does not exist); an unreadable line is an error, since
/// a damaged anchor file is itself a finding.
pub fn read_anchors(path: &Path) -> Result<Vec<Anchor>, ChainBreak> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(ChainBreak {
                seq: 0,
                reason: format!("anchor file {}: {e}", path.display()),
            });
        }
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| ChainBreak {
                seq: 0,
                reason: format!("anchor file {} line {}: {e}", path.display(), i + 1),
            })
        })
        .collect()
}

/// What a verification established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    pub records: u64,
    /// Every MAC checked under the key.
    pub keyed: bool,
    /// Records before the first MACed one (written before the key was set).
    pub unkeyed_prefix: u64,
    /// Anchors the chain was checked against, and the newest one's seq.
    pub anchors: usize,
    pub last_anchor: Option<u64>,
}

impl std::fmt::Display for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "intact: {} records", self.records)?;
        match (self.keyed, self.unkeyed_prefix) {
            (false, _) => write!(
                f,
                "; not keyed (set DESKMAIL_AUDIT_KEY_FILE to MAC records against a store writer)"
            )?,
            (true, 0) => write!(f, "; every MAC checked under the audit key")?,
            (true, n) => write!(
                f,
                "; MACs checked under the audit key ({n} records from before the key carry none)"
            )?,
        }
        match self.last_anchor {
            Some(seq) => write!(
                f,
                "; matches {} anchors (newest at record {seq})",
                self.anchors
            ),
            None => write!(f, "; no anchors yet"),
        }
    }
}

/// Check records in stored order against each other, the head (`last_seq`), the key (every
/// record must carry a valid MAC when one is given; a keyed log cannot be checked without it)
/// and the anchors (each anchored record must still be there with the anchored hash).
pub fn verify(
    records: impl Iterator<Item = AuditRecord>,
    last_seq: u64,
    key: Option<&AuditKey>,
    anchors: &[Anchor],
) -> Result<Verified, ChainBreak> {
    let mut expected_seq = 1;
    let mut prev = String::new();
    let mut hashes = std::collections::BTreeMap::new();
    let mut unkeyed_prefix = 0;
    let wanted: std::collections::BTreeSet<u64> = anchors.iter().map(|a| a.seq).collect();
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
        match (key, &r.mac) {
            (Some(k), Some(mac)) if !k.holds(&r.hash, mac) => {
                return Err(ChainBreak {
                    seq: r.seq,
                    reason: "its MAC does not match: written or rewritten without the audit key"
                        .into(),
                });
            }
            (Some(_), None) if unkeyed_prefix + 1 < r.seq => {
                return Err(ChainBreak {
                    seq: r.seq,
                    reason: "carries no MAC after keyed records (rewritten without the audit key)"
                        .into(),
                });
            }
            (Some(_), None) => unkeyed_prefix += 1,
            (None, Some(_)) => {
                return Err(ChainBreak {
                    seq: r.seq,
                    reason: "the log is keyed: set DESKMAIL_AUDIT_KEY_FILE (or _COMMAND) to \
                             verify it"
                        .into(),
                });
            }
            _ => {}
        }
        if wanted.contains(&r.seq) {
            hashes.insert(r.seq, (r.hash.clone(), r.mac.clone()));
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
    for a in anchors {
        match hashes.get(&a.seq) {
            None => {
                return Err(ChainBreak {
                    seq: count + 1,
                    reason: format!(
                        "the log ends at {count} but record {} was anchored at {} (records \
                         removed from the end)",
                        a.seq, a.at
                    ),
                });
            }
            Some((h, mac)) if *h != a.hash || (a.mac.is_some() && *mac != a.mac) => {
                return Err(ChainBreak {
                    seq: a.seq,
                    reason: format!("differs from its anchor of {} (rewritten)", a.at),
                });
            }
            Some(_) => {}
        }
    }
    Ok(Verified {
        records: count,
        keyed: key.is_some(),
        unkeyed_prefix: if key.is_some() { unkeyed_prefix } else { count },
        anchors: anchors.len(),
        last_anchor: anchors.iter().map(|a| a.seq).max(),
    })
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
        // Security finding 9: encoded forms leave no address in clear and name the same person.
        for encoded in [
            "/api/search?q=from%3AJane.Doe%40Example.com",
            "/api/search?q=from:jane%2Edoe%2540example%2Ecom",
        ] {
            let p = pseudonymise_addresses(encoded);
            assert!(!p.to_lowercase().contains("example"), "{p}");
            assert!(
                p.contains(&pseudonymise_addresses("jane.doe@example.com")),
                "{p}"
            );
        }
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
    fn an_intact_chain_verifies() {
        assert_eq!(
            verify(chain(5).into_iter(), 5, None, &[]).unwrap().records,
            5
        );
        assert_eq!(verify(std::iter::empty(), 0, None, &[]).unwrap().records, 0);
    }

    #[test]
    fn edits_removals_reorders_and_truncation_are_named() {
        let mut c = chain(5);
        c[2].entry.targets = vec!["someone-else".into()];
        assert_eq!(verify(c.into_iter(), 5, None, &[]).unwrap_err().seq, 3);

        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify(c.into_iter(), 5, None, &[]).unwrap_err().seq, 2);

        let mut c = chain(5);
        c.swap(1, 2);
        assert_eq!(verify(c.into_iter(), 5, None, &[]).unwrap_err().seq, 2);

        // Renumbering after a removal still breaks the link.
        let mut c = chain(5);
        c.remove(1);
        for (i, r) in c.iter_mut().enumerate() {
            r.seq = i as u64 + 1;
        }
        assert_eq!(verify(c.into_iter(), 4, None, &[]).unwrap_err().seq, 2);

        let c = chain(5);
        let e = verify(c.into_iter().take(4), 5, None, &[]).unwrap_err();
        assert_eq!(e.seq, 5);
    }

    fn keyed_chain(n: u64, key: &AuditKey) -> Vec<AuditRecord> {
        let mut c = chain(n);
        for r in &mut c {
            r.mac = Some(key.mac(&r.hash));
        }
        c
    }

    /// Re-chain from `from` on as someone who can write the store but has no key would.
    fn rechain(c: &mut [AuditRecord], from: usize) {
        for i in from..c.len() {
            c[i].prev = if i == 0 {
                String::new()
            } else {
                c[i - 1].hash.clone()
            };
            c[i].hash = c[i].compute_hash();
        }
    }

    fn anchor(r: &AuditRecord) -> Anchor {
        Anchor {
            seq: r.seq,
            hash: r.hash.clone(),
            mac: r.mac.clone(),
            at: r.at,
        }
    }

    /// Security finding 4: rewriting record 10 and re-chaining, or dropping the newest 50
    /// records and lowering the counter, both passed `audit verify`.
    #[test]
    fn finding4_a_store_writer_cannot_rechain_or_truncate_unseen() {
        let key = AuditKey::from_bytes(&[7u8; 32]).unwrap();
        let c = keyed_chain(120, &key);
        let anchors = vec![anchor(&c[99])];
        let ok = verify(c.clone().into_iter(), 120, Some(&key), &anchors).unwrap();
        assert_eq!(
            (ok.records, ok.keyed, ok.last_anchor),
            (120, true, Some(100))
        );

        // Record 10 rewritten and everything after re-chained, MACs kept or stripped.
        let mut forged = c.clone();
        forged[9].entry.actor = "someone-else".into();
        rechain(&mut forged, 9);
        let e = verify(forged.clone().into_iter(), 120, Some(&key), &[]).unwrap_err();
        assert_eq!(e.seq, 10, "{e}");
        // MACs stripped from the rewritten part only: a gap in a keyed log.
        for r in &mut forged[9..] {
            r.mac = None;
        }
        let e = verify(forged.clone().into_iter(), 120, Some(&key), &[]).unwrap_err();
        assert_eq!(e.seq, 10, "{e}");
        // Stripped from all of them, the log looks written before the key: the anchor, which
        // holds record 100's MAC, says otherwise.
        for r in &mut forged {
            r.mac = None;
        }
        let unkeyed = verify(forged.clone().into_iter(), 120, Some(&key), &[]).unwrap();
        assert_eq!(unkeyed.unkeyed_prefix, 120, "reported, not hidden");
        let e = verify(forged.clone().into_iter(), 120, Some(&key), &anchors).unwrap_err();
        assert_eq!(e.seq, 100, "{e}");
        // Without the key the anchor still catches it.
        let e = verify(forged.into_iter(), 120, None, &anchors).unwrap_err();
        assert_eq!(e.seq, 100, "{e}");

        // The newest 50 dropped and the counter lowered to match.
        let cut: Vec<AuditRecord> = c.iter().take(70).cloned().collect();
        let e = verify(cut.into_iter(), 70, Some(&key), &anchors).unwrap_err();
        assert!(e.reason.contains("removed from the end"), "{e}");

        // A MAC under another key is no MAC.
        let other = AuditKey::from_bytes(&[9u8; 32]).unwrap();
        assert!(verify(c.into_iter(), 120, Some(&other), &[]).is_err());
    }

    #[test]
    fn a_keyed_log_needs_its_key_and_short_keys_are_refused() {
        let key = AuditKey::from_bytes(&[7u8; 32]).unwrap();
        let e = verify(keyed_chain(3, &key).into_iter(), 3, None, &[]).unwrap_err();
        assert!(e.reason.contains("DESKMAIL_AUDIT_KEY_FILE"), "{e}");
        assert!(matches!(
            AuditKey::from_bytes(b"short"),
            Err(AuditKeyError::TooShort { len: 5, .. })
        ));
        // 64 hex digits are 32 bytes of key, the same key as those bytes.
        let hex_key = AuditKey::from_bytes(format!("{}\n", hex::encode([7u8; 32])).as_bytes());
        assert_eq!(hex_key.unwrap().mac("h"), key.mac("h"));
    }

    #[test]
    fn anchors_round_trip_through_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anchors.log");
        assert!(read_anchors(&path).unwrap().is_empty());
        let c = chain(3);
        append_anchor(&path, &c[0]).unwrap();
        append_anchor(&path, &c[2]).unwrap();
        let got = read_anchors(&path).unwrap();
        assert_eq!(got, vec![anchor(&c[0]), anchor(&c[2])]);
        std::fs::write(&path, "not json\n").unwrap();
        assert!(read_anchors(&path).is_err());
    }
}
