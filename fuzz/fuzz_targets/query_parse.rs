//! A search query → `index::query::parse` with the index's analyzer, then `compile` into a
//! tantivy query: both run for every `GET /search` and `deskmail search`.
#![no_main]

use std::sync::LazyLock;

use deskmail::index::query::{compile, parse};
use deskmail::index::schema::{build_schema, text_analyzer};
use libfuzzer_sys::fuzz_target;

static FIELDS: LazyLock<deskmail::index::schema::Fields> = LazyLock::new(|| build_schema().1);

fuzz_target!(|data: &[u8]| {
    // Queries arrive as UTF-8 (a URL parameter or a command-line argument).
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let analyzer = text_analyzer();
    if let Ok(node) = parse(query, &analyzer) {
        let _ = compile(&node, &FIELDS);
    }
});
