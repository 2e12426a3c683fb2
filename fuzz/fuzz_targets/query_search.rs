//! A search query parsed, compiled and run against a small real index: what `GET /search` does
//! with an agent's query. A panic or an abort here would take the API down with it.
//!
//! The index is built once per process, in a temporary directory, from fixture messages put
//! through the real parse and rules, plus two messages dated outside what tantivy's dates can
//! hold (before 1677, after 2262) so date conditions meet them.
#![no_main]

use std::path::Path;

use deskmail::index::{MailIndex, SearchOptions, SortOrder};
use deskmail::model::{RawMail, ThreadId};
use deskmail::parse::{ParseLimits, parse};
use deskmail::rules::RuleSet;
use libfuzzer_sys::fuzz_target;

const MAILS: &[&[u8]] = &[
    include_bytes!("../../fixtures/mail/ap/invoice-en-us-plain-text-net30.eml"),
    include_bytes!("../../fixtures/mail/ap/invoice-de-html-and-text-month-name-dates.eml"),
    include_bytes!("../../fixtures/mail/ap/credit-note-fr-avoir.eml"),
    include_bytes!("../../fixtures/mail/ar/remittance-en-us-ach-payment-confirmation.eml"),
    include_bytes!("../../fixtures/mail/ar/dispute-de-reklamation-ware-beschaedigt.eml"),
    include_bytes!("../../fixtures/mail/ar/promise-to-pay-en-gb-by-15-december.eml"),
    b"From: Far Future <future@example.com>\r\nTo: ap@desk.example\r\n\
      Subject: Invoice 2300-1 dated far ahead\r\nDate: Mon, 1 Jan 2300 10:00:00 +0000\r\n\
      Message-ID: <future@example.com>\r\n\r\nInvoice 2300-1, total 99.00 EUR.\r\n",
    b"From: Old Ledger <old@example.com>\r\nTo: ap@desk.example\r\n\
      Subject: Invoice from the archive\r\nDate: Tue, 1 Jan 1600 10:00:00 +0000\r\n\
      Message-ID: <past@example.com>\r\n\r\nInvoice 1600-7, total 12.50 EUR.\r\n",
];

const RULES: &[(&str, &str)] = &[
    ("00-common.toml", include_str!("../../rules/00-common.toml")),
    ("10-auto.toml", include_str!("../../rules/10-auto.toml")),
];

struct Fixture {
    // Kept alive for as long as the index: dropping it deletes the directory.
    _dir: tempfile::TempDir,
    index: MailIndex,
}

fn build() -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let index = MailIndex::open_or_create(&dir.path().join("index")).expect("index");
    let sources: Vec<(String, String)> = RULES
        .iter()
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect();
    let rules = RuleSet::from_sources(Path::new("rules"), &sources).expect("rules load");
    let mut writer = index.writer(0).expect("writer");
    for (n, bytes) in MAILS.iter().enumerate() {
        let raw = RawMail {
            role: None,
            mailbox: if n % 2 == 0 { "ap" } else { "ar" }.into(),
            origin: format!("fixture-{n}"),
            bytes: bytes.to_vec(),
        };
        let msg = parse(&raw, &ParseLimits::default()).expect("fixture parses");
        let decision = rules.evaluate(&msg);
        // Two threads of several messages and singletons: grouping and thread stats both run.
        let thread = ThreadId::of_key(&format!("thread-{}", n % 3));
        writer.add(&msg, &decision, &thread).expect("add");
    }
    writer.finish().expect("commit");
    index.reload().expect("reload");
    assert_eq!(index.num_docs(), MAILS.len() as u64);
    Fixture { _dir: dir, index }
}

thread_local! {
    static FIXTURE: Fixture = build();
}

fuzz_target!(
    init: {
        FIXTURE.with(|_| ());
    },
    |data: &[u8]| {
        let Some((&selector, query)) = data.split_first() else {
            return;
        };
        let Ok(query) = std::str::from_utf8(query) else {
            return;
        };
        // The first byte picks the options the API passes through (limit and sort order).
        let opts = SearchOptions {
            limit: usize::from(selector & 0x07),
            sort: if selector & 0x08 == 0 { SortOrder::Newest } else { SortOrder::Relevance },
        };
        FIXTURE.with(|f| {
            let _ = f.index.search(query, &opts);
        });
    }
);
