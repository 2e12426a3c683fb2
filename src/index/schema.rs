//! The tantivy schema of the mail index and the tokenizers it relies on.
//!
//! One document per message. Text fields use the `deskmail` tokenizer: tantivy's
//! `SimpleTokenizer` (splits on every non-alphanumeric char) + `RemoveLongFilter(40)` +
//! `LowerCaser` + `AsciiFoldingFilter`, so `Fällig` is indexed as `fallig` and a query for
//! `fällig`, `Fallig` or `FALLIG` finds it. Keyword fields use `deskmail_kw` (the whole value as
//! one token, lowercased).
//!
//! | field            | type                        | tokenizer     | from                                                |
//! |------------------|-----------------------------|---------------|-----------------------------------------------------|
//! | `id`             | text STRING+STORED          | raw           | `Message::id`                                       |
//! | `id_hi`, `id_lo` | u64 FAST                    | —             | the id's two halves when it is 32 lowercase hex digits (reading ids without the doc store) |
//! | `thread`         | text STRING+STORED          | raw           | `ThreadId` (hex)                                    |
//! | `thread_n`       | u64 INDEXED+FAST            | —             | `ThreadId::as_u64` (grouping, per-thread queries)   |
//! | `subject`        | text TEXT+STORED            | deskmail      | `Message::subject`                                  |
//! | `from`           | text TEXT+STORED            | deskmail      | `Address` display: `Name <addr>`                    |
//! | `to`, `cc`       | text TEXT                   | deskmail      | one value per address, `Name <addr>`                |
//! | `from_addr`      | text STRING (multi-valued)  | deskmail_kw   | the sender's address, its domain and each parent domain of two labels or more ([`super::address`]) |
//! | `to_addr`        | text STRING (multi-valued)  | deskmail_kw   | the same for every To and Cc address               |
//! | `body`           | text TEXT+STORED            | deskmail      | `body_text`, truncated to [`MAX_BODY_BYTES`]        |
//! | `attachment`     | text TEXT                   | deskmail      | attachment file names                               |
//! | `attachment_text`| text TEXT                   | deskmail      | extracted attachment text, ≤ [`MAX_ATTACHMENT_TEXT_BYTES`] in total |
//! | `category`       | text STRING+STORED+FAST     | deskmail_kw (fast: raw) | `Decision::category` (`other` when empty) |
//! | `invoice`        | text, freqs+positions       | deskmail      | `fields["invoice_number"]`: `INV-4411` → `inv`,`4411` |
//! | `invoice_exact`  | text STRING                 | deskmail_kw   | the same, whole (`inv-4411`) and alphanumerics only (`inv4411`) |
//! | `amount`         | f64 INDEXED+FAST            | —             | `fields["amount_total"]` when it is an `Amount`     |
//! | `date`           | date FAST                   | —             | `Message::date` (seconds, UTC); an undated message holds a mark below any date (`undated`), so every document has a value |
//! | `retention_from` | i64 FAST                    | —             | `Message::retention_from` (seconds, UTC): where the retention period counts from ([`super::retention`]) |
//! | `has`            | text STRING (multi-valued)  | deskmail_kw   | `attachment`, `invoice`, `amount`, `einvoice`       |
//! | `vendor_vat`     | text STRING                 | deskmail_kw   | `fields["vendor_vat_id"]`, spaces removed           |
//! | `mailbox`        | text STRING                 | deskmail_kw   | `Message::mailbox`                                  |
//!
//! Keyword fields have no field norms (they are never BM25-scored on length).
//!
//! Every text field that a message may leave empty (`subject`, `from`, `to`, `cc`,
//! `from_addr`, `to_addr`, `body`, `attachment`, `attachment_text`, `invoice`,
//! `invoice_exact`, `has`, `mailbox`, `vendor_vat`) then gets the pre-tokenised
//! [`EMPTY_SENTINEL`] token instead, so that every segment has every field: tantivy
//! builds an empty term dictionary (≈0.7 ms, once per process) the first time a query touches a
//! field a segment lacks, which would eat a CLI search's whole time budget. Queries can never
//! produce that token (the tokenizers emit only alphanumeric runs, and keyword values are
//! validated).

use tantivy::schema::{
    DateOptions, DateTimePrecision, FAST, Field, INDEXED, IndexRecordOption, NumericOptions,
    Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};

/// The token indexed in an otherwise empty text field (see the module doc).
pub const EMPTY_SENTINEL: &str = "_";

/// Name of the full-text tokenizer registered on every opened index.
pub const TEXT_TOKENIZER: &str = "deskmail";
/// Name of the keyword tokenizer (whole value, lowercased).
pub const KEYWORD_TOKENIZER: &str = "deskmail_kw";

/// Bodies are cut (at a char boundary) to this many bytes before indexing and storing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Extracted attachment text is cut to this many bytes in total per message.
pub const MAX_ATTACHMENT_TEXT_BYTES: usize = 64 * 1024;

/// The full-text analyzer: split on non-alphanumerics, drop tokens > 40 bytes, lowercase,
/// fold accents to ASCII.
pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The keyword analyzer: the whole value as one lowercased token.
pub fn keyword_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .build()
}

/// Handles on every field of the schema.
#[derive(Debug, Clone)]
pub struct Fields {
    pub id: Field,
    pub id_hi: Field,
    pub id_lo: Field,
    pub thread: Field,
    pub thread_n: Field,
    pub subject: Field,
    pub from: Field,
    pub to: Field,
    pub cc: Field,
    pub from_addr: Field,
    pub to_addr: Field,
    pub body: Field,
    pub attachment: Field,
    pub attachment_text: Field,
    pub category: Field,
    pub invoice: Field,
    pub invoice_exact: Field,
    pub amount: Field,
    pub date: Field,
    pub retention_from: Field,
    pub has: Field,
    pub mailbox: Field,
    pub vendor_vat: Field,
}

/// Fast-field names (used by collectors).
pub const THREAD_N: &str = "thread_n";
pub const DATE: &str = "date";
pub const ID_HI: &str = "id_hi";
pub const ID_LO: &str = "id_lo";
pub const CATEGORY: &str = "category";
pub const RETENTION_FROM: &str = "retention_from";

fn text_indexing(tokenizer: &str, record: IndexRecordOption, norms: bool) -> TextFieldIndexing {
    TextFieldIndexing::default()
        .set_tokenizer(tokenizer)
        .set_index_option(record)
        .set_fieldnorms(norms)
}

/// Builds the schema (see the module doc) and returns it with its field handles.
pub fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let full_text = TextOptions::default().set_indexing_options(text_indexing(
        TEXT_TOKENIZER,
        IndexRecordOption::WithFreqsAndPositions,
        true,
    ));
    let raw = TextOptions::default().set_indexing_options(text_indexing(
        "raw",
        IndexRecordOption::Basic,
        false,
    ));
    let keyword = TextOptions::default().set_indexing_options(text_indexing(
        KEYWORD_TOKENIZER,
        IndexRecordOption::Basic,
        false,
    ));

    let id = b.add_text_field("id", raw.clone().set_stored());
    let id_hi = b.add_u64_field(ID_HI, FAST);
    let id_lo = b.add_u64_field(ID_LO, FAST);
    let thread = b.add_text_field("thread", raw.set_stored());
    let thread_n = b.add_u64_field(THREAD_N, NumericOptions::from(INDEXED).set_fast());
    let subject = b.add_text_field("subject", full_text.clone().set_stored());
    let from = b.add_text_field("from", full_text.clone().set_stored());
    let to = b.add_text_field("to", full_text.clone());
    let cc = b.add_text_field("cc", full_text.clone());
    let from_addr = b.add_text_field("from_addr", keyword.clone());
    let to_addr = b.add_text_field("to_addr", keyword.clone());
    let body = b.add_text_field("body", full_text.clone().set_stored());
    let attachment = b.add_text_field("attachment", full_text.clone());
    let attachment_text = b.add_text_field("attachment_text", full_text.clone());
    let category = b.add_text_field(CATEGORY, keyword.clone().set_stored().set_fast("raw"));
    let invoice = b.add_text_field("invoice", full_text);
    let invoice_exact = b.add_text_field("invoice_exact", keyword.clone());
    let amount = b.add_f64_field("amount", NumericOptions::from(INDEXED).set_fast());
    let date = b.add_date_field(
        DATE,
        DateOptions::default()
            .set_fast()
            .set_precision(DateTimePrecision::Seconds),
    );
    let retention_from = b.add_i64_field(RETENTION_FROM, FAST);
    let has = b.add_text_field("has", keyword.clone());
    let mailbox = b.add_text_field("mailbox", keyword.clone());
    let vendor_vat = b.add_text_field("vendor_vat", keyword);
    let fields = Fields {
        id,
        id_hi,
        id_lo,
        thread,
        thread_n,
        subject,
        from,
        to,
        cc,
        from_addr,
        to_addr,
        body,
        attachment,
        attachment_text,
        category,
        invoice,
        invoice_exact,
        amount,
        date,
        retention_from,
        has,
        mailbox,
        vendor_vat,
    };
    (b.build(), fields)
}

/// Looks the field handles up in a schema read from disk.
pub fn fields_of(schema: &Schema) -> tantivy::Result<Fields> {
    let f = |name: &str| schema.get_field(name);
    Ok(Fields {
        id: f("id")?,
        id_hi: f(ID_HI)?,
        id_lo: f(ID_LO)?,
        thread: f("thread")?,
        thread_n: f(THREAD_N)?,
        subject: f("subject")?,
        from: f("from")?,
        to: f("to")?,
        cc: f("cc")?,
        from_addr: f("from_addr")?,
        to_addr: f("to_addr")?,
        body: f("body")?,
        attachment: f("attachment")?,
        attachment_text: f("attachment_text")?,
        category: f(CATEGORY)?,
        invoice: f("invoice")?,
        invoice_exact: f("invoice_exact")?,
        amount: f("amount")?,
        date: f(DATE)?,
        retention_from: f(RETENTION_FROM)?,
        has: f("has")?,
        mailbox: f("mailbox")?,
        vendor_vat: f("vendor_vat")?,
    })
}

/// Registers our tokenizers on an index (tokenizers are not persisted, so on every open).
pub fn register_tokenizers(index: &tantivy::Index) {
    index.tokenizers().register(TEXT_TOKENIZER, text_analyzer());
    index
        .tokenizers()
        .register(KEYWORD_TOKENIZER, keyword_analyzer());
}
