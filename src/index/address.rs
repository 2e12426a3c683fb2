//! Addresses as keywords: what `from:` and `to:` look up when their value is an address or a
//! domain.
//!
//! The `from`, `to` and `cc` text fields hold `Name <addr>` split into words, so a search for
//! `from:acme.example` was a phrase of `acme` and `example`: it read word positions for every
//! message from anyone at `acme` (14 of its 19.5 ms in-process at a million messages,
//! docs/PERFORMANCE.md), and it also matched `billing@acme.example.attacker.test` and a
//! display name `Acme.example Fan`, lookalikes an AP desk looking for one vendor's mail
//! should not be shown.
//!
//! So each address is also indexed whole in a keyword field (`from_addr`; `to_addr` for To and
//! Cc), with its domain and every parent domain of two labels or more:
//! `billing@mail.acme.co.uk` → `billing@mail.acme.co.uk`, `mail.acme.co.uk`, `acme.co.uk`,
//! `co.uk`. A query value that looks like an address or a domain ([`query_key`]) is one term
//! there: the address itself, or every address at that domain or below it. A value no message
//! has as such a key (`from:mail.acme`, `from:john.smith`) still finds what it found before:
//! the words of the name and address, as a phrase ([`AddressQuery`](super::query)).

use tantivy::query::{BooleanQuery, EnableScoring, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, TERMINATED, Term};

use super::ids::SegmentIds;
use super::{IndexError, MailIndex};
use crate::model::{Address, MessageId};

/// The longest address looked up by its keyword (RFC 5321's limit on a path); a longer one is
/// no address a message can carry whole in the index.
const MAX_ADDRESS_BYTES: usize = 254;

impl MailIndex {
    /// The messages with `address` among their From, To or Cc addresses (its keyword in
    /// `from_addr` or `to_addr`), as of the index's latest commit; `None` when the address has
    /// no keyword of its own (no letters or digits, or longer than an address can be).
    /// Data-protection requests look a person's mail up here instead of reading every stored
    /// message (`privacy::messages_of`).
    pub fn ids_with_address(&self, address: &str) -> Result<Option<Vec<MessageId>>, IndexError> {
        let Some(key) = terms(address).into_iter().next() else {
            return Ok(None);
        };
        if key.len() > MAX_ADDRESS_BYTES {
            return Ok(None);
        }
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        let clauses: Vec<Box<dyn Query>> = [self.fields.from_addr, self.fields.to_addr]
            .into_iter()
            .map(|field| {
                Box::new(TermQuery::new(
                    Term::from_field_text(field, &key),
                    IndexRecordOption::Basic,
                )) as Box<dyn Query>
            })
            .collect();
        let weight = BooleanQuery::union(clauses)
            .weight(EnableScoring::disabled_from_searcher(&searcher))?;
        let mut ids = Vec::new();
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let segment_ids = SegmentIds::of(&searcher, ord as u32)?;
            let alive = reader.alive_bitset();
            let mut docs = weight.scorer(reader, 1.0)?;
            while docs.doc() != TERMINATED {
                let doc = docs.doc();
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    ids.push(MessageId(segment_ids.id(&searcher, self.fields.id, doc)?));
                }
                docs.advance();
            }
        }
        Ok(Some(ids))
    }
}

/// The keyword terms of a message's addresses (`from_addr` or `to_addr`), each once.
pub fn keys<'a>(addresses: impl IntoIterator<Item = &'a Address>) -> Vec<String> {
    let mut keys: Vec<String> = addresses
        .into_iter()
        .filter_map(|a| a.email.as_deref())
        .flat_map(terms)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The keyword terms of one address (lowercased): the address, then its domain and each
/// parent domain with at least one dot. Nothing for a value without letters or digits.
pub fn terms(email: &str) -> Vec<String> {
    let email = normalized(email);
    if !email.chars().any(char::is_alphanumeric) {
        return Vec::new();
    }
    let mut out = vec![email.clone()];
    if let Some((_, domain)) = email.rsplit_once('@') {
        let mut rest = domain;
        while rest.contains('.') && is_domain(rest) {
            out.push(rest.to_string());
            rest = rest.split_once('.').map_or("", |(_, r)| r);
        }
    }
    out
}

/// The keyword a `from:`/`to:` value is looked up as, when it is an address (`a@b`, no
/// whitespace) or a domain (labels of letters, digits and hyphens joined by dots); `None`
/// for anything else (a name, one word), which stays a text search.
pub fn query_key(value: &str) -> Option<String> {
    let v = normalized(value);
    if v.is_empty() || v.chars().any(char::is_whitespace) {
        return None;
    }
    match v.rsplit_once('@') {
        Some((local, domain)) => {
            (!local.is_empty() && local.chars().any(char::is_alphanumeric) && is_domain(domain))
                .then_some(v)
        }
        None => (v.contains('.') && is_domain(&v)).then_some(v),
    }
}

/// An address as indexed and as looked up: trimmed, without angle brackets, lowercased.
fn normalized(address: &str) -> String {
    address
        .trim()
        .trim_matches(|c| c == '<' || c == '>')
        .to_lowercase()
}

/// Non-empty labels of letters, digits and hyphens, joined by single dots.
fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::index::{MIN_WRITER_HEAP, MailIndex, SearchOptions, SortOrder};
    use crate::model::{Decision, Message, MessageId, ThreadId};

    /// An index of one message per (id, From, To) triple.
    fn index_of(mail: &[(&str, (&str, &str), &str)]) -> (tempfile::TempDir, MailIndex) {
        let dir = tempfile::tempdir().unwrap();
        let index = MailIndex::open_or_create(&dir.path().join("index")).unwrap();
        let mut w = index.writer(MIN_WRITER_HEAP).unwrap();
        for (id, (name, email), to) in mail {
            let msg = Message {
                id: MessageId(id.to_string()),
                subject: format!("message {id}"),
                from: Some(Address {
                    name: Some(name.to_string()),
                    email: Some(email.to_string()),
                }),
                to: vec![Address {
                    name: None,
                    email: Some(to.to_string()),
                }],
                body_text: "hello".into(),
                ..Default::default()
            };
            w.add(
                &msg,
                &Decision::default(),
                &ThreadId::of_key(id),
                chrono::Utc::now(),
            )
            .unwrap();
        }
        w.commit().unwrap();
        (dir, index)
    }

    fn hits(index: &MailIndex, q: &str) -> BTreeSet<String> {
        let opts = SearchOptions {
            limit: 100,
            sort: SortOrder::Newest,
            message_ids: true,
        };
        index
            .search(q, &opts)
            .unwrap_or_else(|e| panic!("{q}: {e}"))
            .threads
            .into_iter()
            .flat_map(|t| t.message_ids)
            .collect()
    }

    #[track_caller]
    fn check(index: &MailIndex, q: &str, expected: &[&str]) {
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(hits(index, q), expected, "{q}");
    }

    #[test]
    fn from_a_domain_finds_its_addresses_not_lookalikes() {
        let (_d, index) = index_of(&[
            (
                "a",
                ("ACME Billing", "billing@acme.example"),
                "ap@desk.example",
            ),
            (
                "b",
                ("ACME Mail", "noreply@mail.acme.example"),
                "ar@desk.example",
            ),
            (
                "c",
                ("Not ACME", "billing@acme.example.attacker.test"),
                "ap@desk.example",
            ),
            (
                "d",
                ("Acme.example Fan", "fan@other.test"),
                "x@desk.example.attacker.test",
            ),
            (
                "e",
                ("John Smith", "john.smith@other.test"),
                "ap@desk.example",
            ),
        ]);
        // Before: a phrase of `acme example`, which c and d match too.
        check(&index, "from:acme.example", &["a", "b"]);
        check(&index, "from:billing@acme.example", &["a"]);
        check(&index, "from:BILLING@ACME.EXAMPLE", &["a"]);
        check(&index, "from:mail.acme.example", &["b"]);
        check(&index, "-from:acme.example", &["c", "d", "e"]);
        check(&index, "to:desk.example", &["a", "b", "c", "e"]);
        check(&index, "to:ap@desk.example", &["a", "c", "e"]);
        // No message has these as an address or domain: the words, as a phrase, as before.
        check(&index, "from:mail.acme", &["b"]);
        check(&index, "from:john.smith", &["e"]);
        check(&index, "from:acme.example.attacker", &["c"]);
        // Names and single words are untouched.
        check(&index, "from:acme", &["a", "b", "c", "d"]);
        check(&index, "from:\"Acme.example Fan\"", &["d"]);
    }

    #[test]
    fn an_address_is_kept_whole_with_its_domains() {
        assert_eq!(
            terms("Billing@Mail.ACME.co.uk"),
            [
                "billing@mail.acme.co.uk",
                "mail.acme.co.uk",
                "acme.co.uk",
                "co.uk"
            ]
        );
        assert_eq!(
            terms("<ap@desk.example>"),
            ["ap@desk.example", "desk.example"]
        );
        // No top-level domain alone: `from:uk` is a word search.
        assert_eq!(terms("root@localhost"), ["root@localhost"]);
        // A damaged domain keeps only the address.
        assert_eq!(terms("x@bad..example"), ["x@bad..example"]);
        assert!(terms("<>").is_empty());
    }

    #[test]
    fn only_addresses_and_domains_are_keywords() {
        assert_eq!(
            query_key("Billing@ACME.example").as_deref(),
            Some("billing@acme.example")
        );
        assert_eq!(
            query_key("<ap@desk.example>").as_deref(),
            Some("ap@desk.example")
        );
        assert_eq!(
            query_key("acme-supplies.example").as_deref(),
            Some("acme-supplies.example")
        );
        assert_eq!(query_key("john.smith").as_deref(), Some("john.smith"));
        for not in [
            "acme",
            "ACME Sales",
            "@acme.example",
            "a@",
            "a@.example",
            ".example",
            "a..b",
            "x@y z",
        ] {
            assert_eq!(query_key(not), None, "{not}");
        }
    }
}
