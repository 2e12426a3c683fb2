//! Index tests on a small synthetic mailbox.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::*;
use crate::model::{
    Address, Attachment, Decision, ExtractedField, FieldValue, Message, MessageId, Provenance,
    ThreadId,
};

pub(super) struct Spec {
    id: &'static str,
    thread: &'static str,
    from: (&'static str, &'static str),
    to: &'static [(&'static str, &'static str)],
    cc: &'static [(&'static str, &'static str)],
    subject: &'static str,
    body: &'static str,
    date: Option<&'static str>,
    category: &'static str,
    invoice: Option<&'static str>,
    amount: Option<&'static str>,
    attachments: &'static [(&'static str, Option<&'static str>)],
    mailbox: &'static str,
}

const DESK: (&str, &str) = ("AP Desk", "ap@desk.example");
const ACME: (&str, &str) = ("ACME Supplies Billing", "billing@acme-supplies.example");

pub(super) const SPECS: &[Spec] = &[
    Spec {
        id: "m01",
        thread: "t-acme",
        from: ACME,
        to: &[DESK],
        cc: &[],
        subject: "Invoice INV-4411 for October",
        body: "Dear customer,\n\nplease find attached invoice INV-4411.\nThe total amount of \
               1,250.00 EUR is due on 2026-11-15. A payment reminder will follow if unpaid.",
        date: Some("2026-10-20T09:00:00Z"),
        category: "ap.invoice",
        invoice: Some("INV-4411"),
        amount: Some("1250.00"),
        attachments: &[("INV-4411.pdf", Some("Invoice INV-4411 Widgets 1250.00"))],
        mailbox: "ap",
    },
    Spec {
        id: "m02",
        thread: "t-acme",
        from: DESK,
        to: &[ACME],
        cc: &[],
        subject: "Re: Invoice INV-4411 for October",
        body: "Thanks, we will pay next week.",
        date: Some("2026-10-21T10:00:00Z"),
        category: "ap.question",
        invoice: None,
        amount: None,
        attachments: &[],
        mailbox: "ap",
    },
    Spec {
        id: "m03",
        thread: "t-acme",
        from: ACME,
        to: &[DESK],
        cc: &[],
        subject: "Re: Invoice INV-4411 for October",
        body: "Payment reminder: the invoice is now overdue.\nFällig seit 15.11.2026.",
        date: Some("2026-11-20T08:00:00Z"),
        category: "ap.reminder",
        invoice: Some("INV-4411"),
        amount: None,
        attachments: &[],
        mailbox: "ap",
    },
    Spec {
        id: "m04",
        thread: "t-globex",
        from: ("Globex Accounts", "accounts@globex.example"),
        to: &[DESK],
        cc: &[],
        subject: "Facture F-2026-0042",
        body: "Veuillez trouver ci-joint la facture F-2026-0042 d'un montant de 500.00 EUR.",
        date: Some("2026-11-03T14:30:00Z"),
        category: "ap.invoice",
        invoice: Some("F-2026-0042"),
        amount: Some("500.00"),
        attachments: &[("facture.pdf", None)],
        mailbox: "ap",
    },
    Spec {
        id: "m05",
        thread: "t-initech",
        from: ("Initech", "ar@initech.example"),
        to: &[("AR Desk", "ar@desk.example")],
        cc: &[],
        subject: "Dispute on invoice 7788",
        body: "We dispute the charges on invoice 7788: the dispute is about the amount 99.99.",
        date: Some("2026-10-01T23:59:59Z"),
        category: "ar.dispute",
        invoice: Some("7788"),
        amount: Some("99.99"),
        attachments: &[],
        mailbox: "ar",
    },
    Spec {
        id: "m06",
        thread: "t-umbrella",
        from: ("Umbrella Corp", "pay@umbrella.example"),
        to: &[("AR Desk", "ar@desk.example")],
        cc: &[("Controller", "controller@desk.example")],
        subject: "Remittance advice",
        body: "Payment of 100.00 sent for AR-100.",
        date: Some("2026-10-02T00:00:00Z"),
        category: "ar.remittance",
        invoice: Some("AR-100"),
        amount: Some("100.00"),
        attachments: &[],
        mailbox: "ar",
    },
    Spec {
        id: "m07",
        thread: "t-news",
        from: ("Newsletter", "news@vendor.example"),
        to: &[DESK],
        cc: &[],
        subject: "Monthly newsletter",
        body: "Nothing to see here.",
        date: Some("2025-12-31T23:00:00Z"),
        category: "other",
        invoice: None,
        amount: None,
        attachments: &[("statement.xlsx", Some("quarterly statement balance"))],
        mailbox: "ap",
    },
    Spec {
        id: "m08",
        thread: "t-undated",
        from: ("Unknown", "x@unknown.example"),
        to: &[DESK],
        cc: &[],
        subject: "Undated note",
        body: "Some undated note about widgets.",
        date: None,
        category: "other",
        invoice: None,
        amount: None,
        attachments: &[],
        mailbox: "ap",
    },
    Spec {
        id: "m09",
        thread: "t-acme-credit",
        from: ("ACME Sales", "sales@acme-supplies.example"),
        to: &[DESK],
        cc: &[],
        subject: "Credit note CN-5",
        body: "Credit note for returned widgets, amount 500.01.",
        date: Some("2026-11-30T12:00:00Z"),
        category: "ap.credit_note",
        invoice: None,
        amount: Some("500.01"),
        attachments: &[],
        mailbox: "ap",
    },
    Spec {
        id: "m10",
        thread: "t-buyer",
        from: ("Big Buyer", "buyer@big.example"),
        to: &[("AR Desk", "ar@desk.example")],
        cc: &[],
        subject: "Large order invoice",
        body: "Invoice total 1234.56, thanks.",
        date: Some("2026-12-01T00:00:00Z"),
        category: "ar.invoice",
        invoice: Some("INV-9001"),
        amount: Some("1234.56"),
        attachments: &[],
        mailbox: "ar",
    },
    Spec {
        id: "m11",
        thread: "t-hooli",
        from: ("Hooli", "info@hooli.example"),
        to: &[("AR Desk", "ar@desk.example")],
        cc: &[],
        subject: "Quarterly update",
        body: "Here is our quarterly update with many words about shipping, logistics, pricing, \
               warehouses, staffing, holidays, weather, and finally we have no dispute at all \
               with anything you sent us during this long and uneventful quarter.",
        date: Some("2026-12-05T09:00:00Z"),
        category: "other",
        invoice: None,
        amount: None,
        attachments: &[],
        mailbox: "ar",
    },
];

fn addr((name, email): (&str, &str)) -> Address {
    Address {
        name: Some(name.to_string()),
        email: Some(email.to_string()),
    }
}

fn field(value: FieldValue) -> ExtractedField {
    ExtractedField::new(
        value,
        Provenance {
            rule: "test".into(),
            source: "body".into(),
            matched: String::new(),
        },
        100,
    )
}

pub(super) fn build(spec: &Spec) -> (Message, Decision, ThreadId) {
    let msg = Message {
        id: MessageId(spec.id.to_string()),
        mailbox: spec.mailbox.to_string(),
        subject: spec.subject.to_string(),
        from: Some(addr(spec.from)),
        to: spec.to.iter().copied().map(addr).collect(),
        cc: spec.cc.iter().copied().map(addr).collect(),
        date: spec
            .date
            .map(|d| d.parse::<DateTime<Utc>>().expect("test date")),
        body_text: spec.body.to_string(),
        attachments: spec
            .attachments
            .iter()
            .map(|(name, text)| Attachment {
                name: Some(name.to_string()),
                content_type: "application/pdf".into(),
                text: text.map(str::to_string),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let mut decision = Decision {
        category: spec.category.to_string(),
        ..Default::default()
    };
    if let Some(inv) = spec.invoice {
        decision.fields.insert(
            "invoice_number".into(),
            field(FieldValue::Text {
                value: inv.to_string(),
            }),
        );
    }
    if let Some(amount) = spec.amount {
        decision.fields.insert(
            "amount_total".into(),
            field(FieldValue::Amount {
                value: Decimal::from_str(amount).expect("test amount"),
                currency: Some("EUR".into()),
            }),
        );
    }
    (msg, decision, ThreadId::of_key(spec.thread))
}

fn tid(key: &str) -> String {
    ThreadId::of_key(key).0
}

pub(super) struct Fixture {
    _dir: tempfile::TempDir,
    pub(super) index: MailIndex,
}

impl Fixture {
    pub(super) fn path(&self) -> &Path {
        self._dir.path()
    }
}

pub(super) fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = MailIndex::open_or_create(&dir.path().join("index")).expect("create index");
    let mut w = index.writer(MIN_WRITER_HEAP).expect("writer");
    for spec in SPECS {
        let (m, d, t) = build(spec);
        w.add(&m, &d, &t, chrono::Utc::now()).expect("add");
    }
    w.commit().expect("commit");
    Fixture { _dir: dir, index }
}

pub(super) fn search(f: &Fixture, q: &str) -> SearchResults {
    search_opts(f, q, SortOrder::Newest, 100)
}

fn search_opts(f: &Fixture, q: &str, sort: SortOrder, limit: usize) -> SearchResults {
    f.index
        .search(
            q,
            &SearchOptions {
                limit,
                sort,
                ..SearchOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("search {q:?}: {e}"))
}

/// Matching message ids (all threads), as a sorted set.
fn ids(f: &Fixture, q: &str) -> BTreeSet<String> {
    search(f, q)
        .threads
        .into_iter()
        .flat_map(|t| t.message_ids)
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[track_caller]
pub(super) fn check(f: &Fixture, q: &str, expected: &[&str]) {
    assert_eq!(ids(f, q), set(expected), "query {q:?}");
}

#[test]
fn free_words_phrases_and_boolean_operators() {
    let f = fixture();
    assert_eq!(f.index.num_docs(), SPECS.len() as u64);
    check(&f, "invoice overdue", &["m03"]);
    // attachment text and body
    check(&f, "widgets", &["m01", "m08", "m09"]);
    check(&f, "quarterly", &["m07", "m11"]);
    check(&f, "quarterly statement", &["m07"]);
    check(&f, "\"quarterly statement\"", &["m07"]);
    check(&f, "\"statement quarterly\"", &[]);
    check(&f, "\"payment reminder\"", &["m01", "m03"]);
    check(&f, "\"reminder payment\"", &[]);
    check(&f, "facture OR remittance", &["m04", "m06"]);
    check(&f, "(facture OR remittance) amount:>=500", &["m04"]);
    check(&f, "widgets -acme", &["m08"]);
    check(&f, "widgets NOT acme", &["m08"]);
    check(&f, "widgets AND NOT (acme OR undated)", &[]);
    check(&f, "-invoice -widgets mailbox:ap", &["m04", "m07"]);
    check(
        &f,
        "facture OR -mailbox:ap",
        &["m04", "m05", "m06", "m10", "m11"],
    );
    // accent folding both ways
    check(&f, "fällig", &["m03"]);
    check(&f, "FALLIG", &["m03"]);
    // address parts are words too
    check(&f, "umbrella.example", &["m06"]);
}

#[test]
fn address_and_text_fields() {
    let f = fixture();
    check(&f, "from:acme", &["m01", "m03", "m09"]);
    check(&f, "from:billing@acme-supplies.example", &["m01", "m03"]);
    check(&f, "from:\"ACME Sales\"", &["m09"]);
    check(&f, "from:desk", &["m02"]);
    check(&f, "to:controller", &["m06"]);
    check(&f, "cc:controller", &["m06"]);
    check(&f, "cc:ar@desk.example", &[]);
    check(&f, "to:ar@desk.example", &["m05", "m06", "m10", "m11"]);
    check(&f, "subject:facture", &["m04"]);
    check(&f, "subject:remittance", &["m06"]);
    check(&f, "subject:payment", &[]);
    check(&f, "body:payment", &["m01", "m03", "m06"]);
    check(&f, "attachment:statement", &["m07"]);
    check(&f, "attachment:widgets", &["m01"]);
    check(&f, "filename:facture.pdf", &["m04"]);
    check(&f, "filename:widgets", &[]);
    check(&f, "mailbox:AR", &["m05", "m06", "m10", "m11"]);
    check(&f, "id:m04", &["m04"]);
    check(
        &f,
        &format!("thread:{}", tid("t-acme")),
        &["m01", "m02", "m03"],
    );
}

#[test]
fn category_exact_and_prefix() {
    let f = fixture();
    check(&f, "category:ap.invoice", &["m01", "m04"]);
    check(&f, "category:ap", &["m01", "m02", "m03", "m04", "m09"]);
    check(&f, "category:ap.*", &["m01", "m02", "m03", "m04", "m09"]);
    check(&f, "category:AR", &["m05", "m06", "m10"]);
    check(&f, "category:a", &[]);
    check(&f, "category:ap.inv", &[]);
    check(&f, "category:other", &["m07", "m08", "m11"]);
    check(&f, "-category:ap -category:other", &["m05", "m06", "m10"]);
}

#[test]
fn invoice_numbers() {
    let f = fixture();
    check(&f, "invoice:4411", &["m01", "m03"]);
    check(&f, "invoice:INV-4411", &["m01", "m03"]);
    check(&f, "invoice:inv4411", &["m01", "m03"]);
    check(&f, "invoice:441", &[]);
    check(&f, "invoice:2026-0042", &["m04"]);
    check(&f, "invoice:0042", &["m04"]);
    check(&f, "invoice:7788", &["m05"]);
    check(&f, "invoice:INV", &["m01", "m03", "m10"]);
    check(
        &f,
        "has:invoice",
        &["m01", "m03", "m04", "m05", "m06", "m10"],
    );
}

#[test]
fn amounts_at_the_edges() {
    let f = fixture();
    check(&f, "amount:500", &["m04"]);
    check(&f, "amount:500.00", &["m04"]);
    check(&f, "amount:>500", &["m01", "m09", "m10"]);
    check(&f, "amount:>=500", &["m01", "m04", "m09", "m10"]);
    check(&f, "amount:<100", &["m05"]);
    check(&f, "amount:<=100", &["m05", "m06"]);
    check(&f, "amount:[100 TO 500]", &["m04", "m06"]);
    check(&f, "amount:[99.99 TO 100]", &["m05", "m06"]);
    check(&f, "amount:[500.01 TO *]", &["m01", "m09", "m10"]);
    check(&f, "amount:[* TO 99.99]", &["m05"]);
    check(&f, "amount:1234.56", &["m10"]);
    check(&f, "amount:1,250", &["m01"]);
    check(
        &f,
        "has:amount",
        &["m01", "m04", "m05", "m06", "m09", "m10"],
    );
    check(
        &f,
        "amount:[* TO *]",
        &["m01", "m04", "m05", "m06", "m09", "m10"],
    );
}

#[test]
fn dates_and_boundaries() {
    let f = fixture();
    check(&f, "date:2026-11", &["m03", "m04", "m09"]);
    check(&f, "date:2026-11-03", &["m04"]);
    check(&f, "date:2026-11-04", &[]);
    check(
        &f,
        "date:2026",
        &[
            "m01", "m02", "m03", "m04", "m05", "m06", "m09", "m10", "m11",
        ],
    );
    check(&f, "date:2025", &["m07"]);
    check(&f, "date:2025-12-31", &["m07"]);
    // m05 is 2026-10-01T23:59:59Z, m06 2026-10-02T00:00:00Z
    check(&f, "date:2026-10-01", &["m05"]);
    check(&f, "after:2026-10-01 before:2026-10-03", &["m06"]);
    // several date conditions in one conjunction: the tightest bounds of each side
    check(&f, "date:<=2026-10-01 date:>=2026-10-01", &["m05"]);
    check(&f, "after:2026-10-01 date:2026-10-01", &[]);
    check(&f, "after:2026-09-30 after:2026-11-30", &["m10", "m11"]);
    check(
        &f,
        "before:2026-10-03 date:2026 before:2026-10-02",
        &["m05"],
    );
    check(&f, "before:2026-10-02", &["m05", "m07"]);
    check(&f, "after:2026-11-30", &["m10", "m11"]);
    check(&f, "after:2026-11", &["m10", "m11"]);
    check(&f, "before:2026", &["m07"]);
    check(&f, "date:>=2026-12", &["m10", "m11"]);
    check(&f, "date:<=2025", &["m07"]);
    check(&f, "date:[2026-10-02 TO 2026-10-20]", &["m01", "m06"]);
    // undated messages never match a date condition, but do match its negation
    check(&f, "undated", &["m08"]);
    check(&f, "undated date:[* TO *]", &[]);
    // the column holds a mark below every date for them: ranges open below never reach it
    check(&f, "undated before:2100", &[]);
    check(&f, "undated date:<=2030-12", &[]);
    check(&f, "undated date:[* TO 2030]", &[]);
    check(&f, "invoice:7788 date:[* TO *]", &["m05"]);
    check(&f, "undated -date:2026", &["m08"]);
}

#[test]
fn has_attachment() {
    let f = fixture();
    check(&f, "has:attachment", &["m01", "m04", "m07"]);
    check(
        &f,
        "has:attachment mailbox:ap -category:other",
        &["m01", "m04"],
    );
}

#[test]
fn grouping_by_thread() {
    let f = fixture();
    let r = search(&f, "\"payment reminder\"");
    assert_eq!(r.total_threads, 1);
    let hit = &r.threads[0];
    assert_eq!(hit.thread_id, tid("t-acme"));
    assert_eq!(hit.message_ids, vec!["m03", "m01"]);
    assert_eq!(hit.matching_messages, 2);
    assert_eq!(hit.message_count, 3);
    // subject of the oldest message, date of the newest message of the whole thread
    assert_eq!(hit.subject, "Invoice INV-4411 for October");
    assert_eq!(hit.last_date.as_deref(), Some("2026-11-20T08:00:00Z"));
    // category of the newest matching message
    assert_eq!(hit.category, "ap.reminder");

    // a thread matched through one message still reports the whole thread
    let r = search(&f, "thanks next week");
    assert_eq!(r.threads.len(), 1);
    assert_eq!(r.threads[0].message_ids, vec!["m02"]);
    assert_eq!(r.threads[0].message_count, 3);
    assert_eq!(r.threads[0].category, "ap.question");
    assert_eq!(
        r.threads[0].last_date.as_deref(),
        Some("2026-11-20T08:00:00Z")
    );

    // undated thread
    let r = search(&f, "undated");
    assert_eq!(r.threads[0].last_date, None);
    assert_eq!(r.threads[0].message_count, 1);
}

#[test]
fn newest_ranks_threads_by_latest_activity() {
    let f = fixture();
    // m01 (t-acme, 10-20) and m04 (t-globex, 11-03) match; t-acme's latest message is m03 (11-20).
    for limit in [10, 1] {
        let r = search_opts(&f, "\"dear customer\" OR facture", SortOrder::Newest, limit);
        assert_eq!(r.total_threads, 2);
        let order: Vec<_> = r.threads.iter().map(|t| t.thread_id.clone()).collect();
        let expected = [tid("t-acme"), tid("t-globex")];
        assert_eq!(order, expected[..limit.min(2)], "limit {limit}");
        assert_eq!(
            r.threads[0].last_date.as_deref(),
            Some("2026-11-20T08:00:00Z")
        );
        assert_eq!(r.threads[0].message_ids, vec!["m01"]);
    }
}

#[test]
fn limit_and_total_threads() {
    let f = fixture();
    let r = search_opts(&f, "category:ap", SortOrder::Newest, 2);
    assert_eq!(r.total_threads, 3);
    let threads: Vec<_> = r.threads.iter().map(|t| t.thread_id.clone()).collect();
    // newest matching messages: m09 (11-30), m03 (11-20), m04 (11-03)
    assert_eq!(threads, vec![tid("t-acme-credit"), tid("t-acme")]);
    let r = search_opts(&f, "category:ap", SortOrder::Newest, 0);
    assert_eq!(r.total_threads, 3);
    assert!(r.threads.is_empty());
}

#[test]
fn empty_query_lists_every_thread_newest_first() {
    let f = fixture();
    let r = search(&f, "");
    assert_eq!(r.total_threads, 9);
    let order: Vec<_> = r.threads.iter().map(|t| t.thread_id.clone()).collect();
    let expected: Vec<_> = [
        "t-hooli",
        "t-buyer",
        "t-acme-credit",
        "t-acme",
        "t-globex",
        "t-umbrella",
        "t-initech",
        "t-news",
        "t-undated",
    ]
    .iter()
    .map(|k| tid(k))
    .collect();
    assert_eq!(order, expected);
    // the same order when only the first threads are wanted
    let first3 = search_opts(&f, "", SortOrder::Newest, 3);
    assert_eq!(first3.total_threads, 9);
    let order3: Vec<_> = first3.threads.iter().map(|t| t.thread_id.clone()).collect();
    assert_eq!(order3, expected[..3]);
    // no highlight: the start of the body
    let news = r
        .threads
        .iter()
        .find(|t| t.thread_id == tid("t-news"))
        .unwrap();
    assert_eq!(news.snippet, "Nothing to see here.");
    assert!(news.highlights.is_empty());
}

#[test]
fn newest_versus_relevance() {
    let f = fixture();
    // m05 says "dispute" in its subject and twice in a short body; m11 (newer) once in a long one.
    let newest = search_opts(&f, "dispute", SortOrder::Newest, 10);
    let relevance = search_opts(&f, "dispute", SortOrder::Relevance, 10);
    let order = |r: &SearchResults| -> Vec<String> {
        r.threads.iter().map(|t| t.message_ids[0].clone()).collect()
    };
    assert_eq!(order(&newest), vec!["m11", "m05"]);
    assert_eq!(order(&relevance), vec!["m05", "m11"]);
    assert!(relevance.threads[0].score > relevance.threads[1].score);
}

#[test]
fn query_errors_surface_with_positions() {
    let f = fixture();
    let cases = [
        (
            "invoice frm:acme",
            8,
            "unknown field \"frm\" (did you mean \"from\"?)",
        ),
        ("amount:>abc", 8, "invalid amount"),
        ("date:2026-13", 10, "month"),
        ("(acme", 0, "unclosed '('"),
        ("acme OR", 5, "OR"),
        ("amount:[1 TO 5", 7, "unbalanced '['"),
    ];
    for (q, pos, msg) in cases {
        match f.index.search(q, &SearchOptions::default()) {
            Err(SearchError::Query(e)) => {
                assert_eq!(e.position, pos, "{q:?}: {e}");
                assert!(e.message.contains(msg), "{q:?}: {e}");
            }
            other => panic!("{q:?}: expected a query error, got {other:?}"),
        }
    }
    let e = f
        .index
        .search("frm:acme", &SearchOptions::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid query at column 1: unknown field \"frm\" (did you mean \"from\"?)"
    );
}

#[test]
fn results_serialize_to_json() {
    let f = fixture();
    let r = search(&f, "overdue");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["total_threads"], 1);
    assert_eq!(json["more_threads"], false);
    assert_eq!(json["total_messages"], 1);
    assert_eq!(json["threads"][0]["message_ids"][0], "m03");
    assert!(json["threads"][0]["highlights"][0].is_array());
}

/// Found by the query_search fuzz target: dates tantivy cannot hold (its timestamps are i64
/// nanoseconds: 1677-09-21 to 2262-04-11) overflowed when a query named one, and when a message
/// with such a `Date:` header was indexed. Now such a message is indexed as undated (the store
/// keeps its date) and query bounds outside the range are clamped, so every comparison with the
/// indexed dates stays exact.
#[test]
fn dates_outside_tantivys_range_do_not_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let index = MailIndex::open_or_create(dir.path()).unwrap();
    let mut w = index.writer(MIN_WRITER_HEAP).unwrap();
    for (id, date) in [
        ("future", "2300-01-01T00:00:00Z"),
        ("past", "1500-06-01T00:00:00Z"),
        ("epochless", "1901-12-13T20:45:52Z"),
        ("first", "1901-12-13T20:45:53Z"),
        ("now", "2026-11-03T14:30:00Z"),
    ] {
        let msg = Message {
            id: MessageId(id.into()),
            subject: "dated".into(),
            date: Some(date.parse::<DateTime<Utc>>().unwrap()),
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
    let ids = |q: &str| -> BTreeSet<String> {
        index
            .search(q, &SearchOptions::default())
            .unwrap_or_else(|e| panic!("{q:?}: {e}"))
            .threads
            .into_iter()
            .flat_map(|t| t.message_ids)
            .collect()
    };
    assert_eq!(
        ids("dated"),
        set(&["future", "past", "epochless", "first", "now"])
    );
    // the undated mark's second is not a date; the one after it is the first there is
    assert_eq!(ids("date:<1902"), set(&["first"]));
    for q in [
        "before:9999",
        "after:1000",
        "date:[0000 TO 9999]",
        "date:[* TO 9999-12-31]",
        "date:[1000-01 TO *]",
        "date:[* TO *]",
        "date:<=9999",
        "date:>=0001",
    ] {
        assert_eq!(ids(q), set(&["first", "now"]), "{q:?}");
    }
    for q in [
        "date:2300",
        "date:1500",
        "after:2262-04-11",
        "before:1677-09-21",
    ] {
        assert_eq!(ids(q), set(&[]), "{q:?}");
    }
    let r = index.search("dated", &SearchOptions::default()).unwrap();
    let last_date = |id: &str| {
        r.threads
            .iter()
            .find(|t| t.message_ids == [id])
            .unwrap()
            .last_date
            .clone()
    };
    assert_eq!(last_date("future"), None);
    assert_eq!(last_date("past"), None);
    assert_eq!(last_date("epochless"), None);
    assert!(last_date("first").is_some_and(|d| d.starts_with("1901-12-13T20:45:53")));
    assert_eq!(last_date("now").as_deref(), Some("2026-11-03T14:30:00Z"));
}

/// Found by the query_search fuzz target (`NOT o&d`): excluding a phrase whose words are in the
/// index but never side by side panicked inside tantivy's phrase scorer in debug builds ("target
/// (0) should be greater than or equal to doc (2147483647)"): tantivy's `Exclude` seeks the
/// excluded scorer backwards. Excluded clauses are now wrapped so they only move forward; the
/// results of exclusions that do match are checked too.
#[test]
fn fuzz_query_negated_phrase_does_not_panic() {
    let f = fixture();
    let all = ids(&f, "");
    assert_eq!(all.len(), SPECS.len());
    let without = |gone: &[&str]| -> Vec<String> {
        let mut ids: Vec<String> = all.iter().cloned().collect();
        ids.retain(|id| !gone.contains(&id.as_str()));
        ids
    };
    let expect = |q: &str, expected: Vec<String>| {
        let expected: BTreeSet<String> = expected.into_iter().collect();
        assert_eq!(ids(&f, q), expected, "query {q:?}");
    };
    // "statement" and "quarterly" are both indexed (m07) but never in that order.
    expect("-\"statement quarterly\"", without(&[]));
    expect("NOT \"statement quarterly\"", without(&[]));
    expect("NOT statement&quarterly", without(&[]));
    expect("NOT NOT -\"statement quarterly\"", without(&[]));
    expect(
        "-(\"statement quarterly\" OR \"reminder payment\")",
        without(&[]),
    );
    // Exclusions that match remove exactly their messages.
    expect("-\"quarterly statement\"", without(&["m07"]));
    expect("-\"payment reminder\"", without(&["m01", "m03"]));
    expect(
        "NOT (\"payment reminder\" OR quarterly)",
        without(&["m01", "m03", "m07", "m11"]),
    );
    check(&f, "widgets -\"reminder payment\"", &["m01", "m08", "m09"]);
    check(&f, "widgets -\"payment reminder\"", &["m08", "m09"]);
    check(
        &f,
        "-\"payment reminder\" -\"statement quarterly\" overdue",
        &[],
    );
}

/// Issue 14: the newest-first ranking reads thread activity only from messages dated at or
/// after the `limit`-th candidate; it must rank exactly like reading every message. Threads
/// whose newest message does not match ("beta") while an older one does ("alpha") are the case
/// a bound on matching dates alone would get wrong.
#[test]
fn newest_first_ranks_by_whole_thread_activity_at_any_limit() {
    let dir = tempfile::tempdir().unwrap();
    let index = MailIndex::open_or_create(dir.path()).unwrap();
    let mut w = index.writer(MIN_WRITER_HEAP).unwrap();
    let mut seed = 7u64;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    // 400 messages in 60 threads, distinct dates in random order; a quarter say "alpha".
    let mut threads: BTreeMap<String, (bool, i64)> = BTreeMap::new();
    let mut dates: Vec<i64> = (0..400).map(|i| 1_700_000_000 + i * 3_600).collect();
    for i in (1..dates.len()).rev() {
        dates.swap(i, next(i as u64 + 1) as usize);
    }
    for (i, &secs) in dates.iter().enumerate() {
        let thread = ThreadId::of_key(&format!("t{}", next(60)));
        let alpha = next(4) == 0;
        let msg = Message {
            id: MessageId(format!("m{i:03}")),
            subject: if alpha { "alpha report" } else { "beta report" }.into(),
            date: chrono::DateTime::from_timestamp(secs, 0),
            ..Default::default()
        };
        w.add_new(&msg, &Decision::default(), &thread, chrono::Utc::now())
            .unwrap();
        let t = threads.entry(thread.0.clone()).or_insert((false, i64::MIN));
        t.0 |= alpha;
        t.1 = t.1.max(secs);
        // Commits now and then, so there are several segments.
        if i % 97 == 96 {
            w.commit().unwrap();
        }
    }
    w.commit().unwrap();
    let mut expected: Vec<(i64, String)> = threads
        .into_iter()
        .filter(|(_, (alpha, _))| *alpha)
        .map(|(t, (_, newest))| (newest, t))
        .collect();
    expected.sort_by(|a, b| b.cmp(a));
    for limit in [1, 2, 5, 10, 25, 100] {
        let r = index
            .search(
                "alpha",
                &SearchOptions {
                    limit,
                    ..SearchOptions::default()
                },
            )
            .unwrap();
        assert_eq!(r.total_threads, expected.len());
        let got: Vec<&str> = r.threads.iter().map(|t| t.thread_id.as_str()).collect();
        let want: Vec<&str> = expected
            .iter()
            .take(limit)
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(got, want, "limit {limit}");
    }
}

/// A category is a filter: it adds the same constant to every match, whichever category of the
/// prefix a message has (`ap.invoice` and `ap.credit_note` weigh the same under `category:ap`).
#[test]
fn a_category_scores_as_a_constant() {
    let f = fixture();
    for q in ["category:ap", "category:ap.invoice", "category:other"] {
        let r = search_opts(&f, q, SortOrder::Relevance, 100);
        assert!(!r.threads.is_empty(), "{q}");
        for t in &r.threads {
            assert_eq!(t.score, 1.0, "{q}: {}", t.category);
        }
    }
}

/// A long thread lists its newest matching messages up to the bound, and counts them all.
#[test]
fn a_long_thread_lists_its_newest_matches_up_to_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let index = MailIndex::open_or_create(dir.path()).unwrap();
    let mut w = index.writer(MIN_WRITER_HEAP).unwrap();
    let thread = ThreadId::of_key("long");
    let n = MAX_MESSAGE_IDS + 50;
    for i in 0..n + 30 {
        // The first `n` say "ledger"; the 30 newest do not.
        let msg = Message {
            id: MessageId(format!("m{i:04}")),
            subject: if i < n { "ledger" } else { "other" }.into(),
            date: chrono::DateTime::from_timestamp(1_700_000_000 + i as i64 * 60, 0),
            ..Default::default()
        };
        w.add_new(&msg, &Decision::default(), &thread, chrono::Utc::now())
            .unwrap();
    }
    w.commit().unwrap();
    let r = index.search("ledger", &SearchOptions::default()).unwrap();
    let hit = &r.threads[0];
    assert_eq!(hit.matching_messages, n as u64);
    assert_eq!(hit.message_count, (n + 30) as u64);
    let newest: Vec<String> = (n - MAX_MESSAGE_IDS..n)
        .rev()
        .map(|i| format!("m{i:04}"))
        .collect();
    assert_eq!(hit.message_ids, newest);
    assert_eq!(r.total_messages, n as u64);
}
