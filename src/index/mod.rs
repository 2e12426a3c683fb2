//! Full-text search over stored messages (tantivy).
//!
//! One tantivy document per message; the schema is described in [`schema`]. Searches use the
//! small query language of [`query`] and return results grouped by thread.
//!
//! ```no_run
//! # use deskmail::index::*;
//! # fn demo(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
//! let index = MailIndex::open_read_only(dir)?;
//! let results = index.search("from:acme amount:>500 -category:ar", &SearchOptions::default())?;
//! for hit in &results.threads {
//!     println!("{} {} ({} messages)", hit.thread_id, hit.subject, hit.message_count);
//! }
//! # Ok(()) }
//! ```
//!
//! Writers: one [`MailIndexWriter`] at a time per index directory (tantivy holds a lock file);
//! changes become visible to searchers at [`MailIndexWriter::commit`].
//!
//! # Search cost
//!
//! A CLI search is a whole process (open + query + print) budgeted at ≤ 5 ms on a 6,000-message
//! index, so: the read-only open builds no file watcher and warms nothing; one unscored pass
//! over the matches reads their thread and date from fast fields a block at a time and keeps
//! only the threads that can be among the first `limit` (`topk.rs`; a million matches cost no
//! more memory than twenty, plus a bit per matching document), then the chosen threads alone
//! are read back once (`select.rs`): their stats (count, oldest, newest) from every member,
//! their matches from those bits, scored by seeking the query's scorer; message ids come from
//! two u64 fast fields; the doc store is read only for the
//! oldest and the best message of each returned thread; snippets use a lean highlighter
//! (`snippet.rs`); empty fields are indexed with a sentinel token (see [`schema`]); and the writer
//! merges segments early (3 per level).

mod activity;
pub mod address;
mod directory;
mod ids;
pub mod query;
mod queued;
pub mod schema;
mod snippet;
mod tiers;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use tantivy::index::SegmentId;
use tantivy::indexer::IndexWriterOptions;
use tantivy::schema::Field;
use tantivy::tokenizer::{PreTokenizedString, TextAnalyzer, Token};
use tantivy::{
    DateTime, Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Searcher,
    TantivyDocument, Term,
};

use crate::model::{CATEGORY_OTHER, Decision, FieldValue, Message, MessageId, ThreadId};

pub use live::Reloader;
pub use query::QueryError;
use schema::{EMPTY_SENTINEL, Fields, MAX_ATTACHMENT_TEXT_BYTES, MAX_BODY_BYTES};
use topk::FirstsCollector;
pub use topk::THREAD_COUNT_BOUND;

/// Default writer heap: one indexing thread's arena (its pages and hash table: 41 MB of a bulk
/// ingest's 252 MB heap at a million messages, issue 14). 32 MiB, beside a smaller memtable,
/// ran the million 9 % slower (smaller segments, more merges; docs/PERFORMANCE.md).
pub const DEFAULT_WRITER_HEAP: usize = 40 * 1024 * 1024;
/// tantivy refuses a writer heap below 15 MB; smaller requests are raised to this.
pub const MIN_WRITER_HEAP: usize = 15_000_000;
/// zstd level of a new index's doc store. Level 1 against tantivy's default lz4 (issue 14): the
/// stores of a million messages 1.20 → 0.88 GB, and a merge stacks each source's store through
/// one buffer, so an ingest's largest `RssAnon` fell 295 → 280 MiB at the same rate. Level 3
/// was 4 % smaller again on 10,000 messages; larger blocks than tantivy's 16 KB would make every
/// snippet decompress more.
const DOC_STORE_ZSTD_LEVEL: i32 = 1;
/// Documents added and not yet taken by the indexing thread, at most (tantivy's own bound is
/// 10,000). About 0.4 s of indexing: enough to keep the committer going while a segment is
/// written, 20 MB less memory than tantivy's bound (`queued`).
const QUEUED_DOCS: usize = 2_048;
/// How long a document waits for a place among [`QUEUED_DOCS`] before it goes on without one: a
/// dead indexing thread frees no place, and a slow one that keeps a document waiting this long
/// only lets more in.
const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// Threads at most that one search runs its segments on (one segment each at a time).
const SEARCH_THREADS: usize = 4;
/// Maximum length of a snippet, in bytes.
pub const SNIPPET_MAX_BYTES: usize = 200;

/// A returned thread lists at most this many of its matching messages (the newest); its
/// `matching_messages` counts them all. A page of twenty long threads otherwise carried
/// thousands of ids (140 KB for `date:2002-08` at a million messages) that no view shows.
pub const MAX_MESSAGE_IDS: usize = 100;

/// Opening, writing or reading the index failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index directory {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no search index in {} (run `deskmail reindex` to build it)", .0.display())]
    NotFound(PathBuf),
    #[error(
        "the search index in {} was built by another release (another schema): `deskmail reindex` rebuilds it from the store, as the daemon's start and `deskmail ingest` do",
        .0.display()
    )]
    SchemaMismatch(PathBuf),
    #[error("the search index was opened read-only")]
    ReadOnly,
}

impl From<tantivy::directory::error::OpenDirectoryError> for IndexError {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        IndexError::Tantivy(e.into())
    }
}

/// A search failed: a bad query (with its position) or an index problem.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("invalid query {0}")]
    Query(#[from] QueryError),
    #[error(transparent)]
    Index(#[from] IndexError),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Index(IndexError::Tantivy(e))
    }
}

/// Order of the threads in [`SearchResults`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// By each thread's latest activity — the date of its newest message, matching or not (the
    /// `last_date` shown) — newest first, then by its newest matching message; undated last.
    #[default]
    Newest,
    /// By the best score among each thread's matching messages (BM25).
    Relevance,
}

impl FromStr for SortOrder {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "newest" | "date" => Ok(SortOrder::Newest),
            "relevance" | "score" => Ok(SortOrder::Relevance),
            _ => Err(format!(
                "unknown sort order {s:?} (expected newest or relevance)"
            )),
        }
    }
}

impl fmt::Display for SortOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SortOrder::Newest => "newest",
            SortOrder::Relevance => "relevance",
        })
    }
}

/// How many threads to return and in which order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchOptions {
    /// Maximum number of threads returned (0 returns only `total_threads`).
    pub limit: usize,
    pub sort: SortOrder,
    /// Each thread lists its newest matching messages' ids (`ThreadHit::message_ids`); a
    /// reader that shows none (the CLI's text) leaves them out, and their reads with them.
    pub message_ids: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            limit: 20,
            sort: SortOrder::Newest,
            message_ids: true,
        }
    }
}

/// The threads matching a query.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchResults {
    /// Distinct threads among all matching messages (not only the returned ones), counted up to
    /// [`THREAD_COUNT_BOUND`].
    pub total_threads: usize,
    /// More threads match than `total_threads` (the count stopped at the bound).
    pub more_threads: bool,
    /// Matching messages, exact.
    pub total_messages: u64,
    pub threads: Vec<ThreadHit>,
}

/// One thread with at least one matching message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThreadHit {
    pub thread_id: String,
    /// Subject of the thread's oldest message.
    pub subject: String,
    /// RFC 3339 (UTC, seconds) date of the newest message in the whole thread.
    pub last_date: Option<String>,
    /// All messages of the thread in the index, not only matching ones.
    pub message_count: u64,
    /// Category of the newest matching message.
    pub category: String,
    /// Plain text (whitespace folded), ≤ [`SNIPPET_MAX_BYTES`], from the best matching message's
    /// body; from its subject when the body has no highlighted term; else the start of the body.
    pub snippet: String,
    /// Byte ranges `[start, end)` of `snippet` to highlight.
    pub highlights: Vec<(usize, usize)>,
    /// Matching messages of this thread, newest first: at most [`MAX_MESSAGE_IDS`].
    pub message_ids: Vec<String>,
    /// Matching messages of this thread, all of them.
    #[serde(default)]
    pub matching_messages: u64,
    /// Best score among the thread's matching messages.
    pub score: f32,
}

/// The mail search index.
pub struct MailIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    analyzer: TextAnalyzer,
    read_only: bool,
    /// The index directory (its size; where a reader opened on it looks).
    dir: std::path::PathBuf,
    /// Each thread's activity beside every document, kept by long-running readers.
    activity: Arc<activity::ActivityCache>,
    /// The threads a search runs its segments on, one at a time each (started by the first
    /// search of an index with several segments; see `search_executor`).
    executor: std::sync::OnceLock<Option<tantivy::Executor>>,
}

/// The settings a new index is created with: its doc store compressed with zstd
/// ([`DOC_STORE_ZSTD_LEVEL`]). tantivy keeps them in `meta.json`, so an index an older release
/// created keeps lz4 for every segment it adds (a merge copies a source's compressed blocks as
/// they are only when the compressors agree; otherwise it compresses every document again)
/// until `deskmail reindex` rebuilds it.
pub(super) fn new_index_settings() -> IndexSettings {
    IndexSettings {
        docstore_compression: tantivy::store::Compressor::Zstd(tantivy::store::ZstdCompressor {
            compression_level: Some(DOC_STORE_ZSTD_LEVEL),
        }),
        ..IndexSettings::default()
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> IndexError + '_ {
    move |source| IndexError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl MailIndex {
    /// Opens the index in `dir`, creating it (and the dir, 0700) with our schema if absent.
    ///
    /// Fails with [`IndexError::SchemaMismatch`] when the index there has another schema.
    pub fn open_or_create(dir: &Path) -> Result<Self, IndexError> {
        // tantivy creates its files itself: the umask set when the data directory was opened
        // (`DataDir::new`) keeps them the user's alone.
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io_err(dir))?;
        }
        let (schema, _) = schema::build_schema();
        // Doc stores read by calls: a merge's reads do not stay resident (`directory`).
        let files = directory::WriterDirectory::open(dir)?;
        let index = if Index::exists(&files).map_err(tantivy::TantivyError::from)? {
            Index::open(files)?
        } else {
            Index::create(files, schema, new_index_settings())?
        };
        Self::from_index(index, dir, false)
    }

    /// Deletes the index in `dir` (whatever its schema) and creates an empty one: for
    /// `deskmail reindex` after [`IndexError::SchemaMismatch`]. No writer may be open on it.
    pub fn recreate(dir: &Path) -> Result<Self, IndexError> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(io_err(dir))?;
        }
        Self::open_or_create(dir)
    }

    /// Opens an existing index for searching only: no writer, no file watcher, no warming.
    pub fn open_read_only(dir: &Path) -> Result<Self, IndexError> {
        if !dir.join("meta.json").is_file() {
            return Err(IndexError::NotFound(dir.to_path_buf()));
        }
        let index = Index::open_in_dir(dir)?;
        Self::from_index(index, dir, true)
    }

    fn from_index(index: Index, dir: &Path, read_only: bool) -> Result<Self, IndexError> {
        if index.schema() != schema::build_schema().0 {
            return Err(IndexError::SchemaMismatch(dir.to_path_buf()));
        }
        schema::register_tokenizers(&index);
        let fields = schema::fields_of(&index.schema())
            .map_err(|_| IndexError::SchemaMismatch(dir.to_path_buf()))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(MailIndex {
            index,
            reader,
            fields,
            analyzer: schema::text_analyzer(),
            read_only,
            dir: dir.to_path_buf(),
            activity: Arc::new(activity::ActivityCache::at(dir)),
            executor: std::sync::OnceLock::new(),
        })
    }

    /// Bytes on disk (a bounded walk of the index directory).
    pub fn size_on_disk(&self) -> u64 {
        crate::metrics::dir_size(&self.dir, 10_000)
    }

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A writer with one indexing thread, one merge thread and `heap_bytes` of indexing memory
    /// (raised to [`MIN_WRITER_HEAP`]; [`DEFAULT_WRITER_HEAP`] is a good default).
    pub fn writer(&self, heap_bytes: usize) -> Result<MailIndexWriter, IndexError> {
        if self.read_only {
            return Err(IndexError::ReadOnly);
        }
        let options = IndexWriterOptions::builder()
            .memory_budget_per_thread(heap_bytes.max(MIN_WRITER_HEAP))
            .num_worker_threads(1)
            .num_merge_threads(1)
            .build();
        let writer = self.index.writer_with_options(options)?;
        let tiers = tiers::TierPolicy::new(self.index.searchable_segment_ids()?);
        writer.set_merge_policy(Box::new(tiers.clone()));
        // A writer killed mid-commit (kill -9 during an erasure) can leave files no meta.json
        // names, e.g. a segment's `.del`; the next writer picks the same name and tantivy
        // refuses it as "already exists". Clearing the unreferenced files first lets it go on
        // (found by scripts/chaos.sh's erasure campaign).
        writer
            .garbage_collect_files()
            .wait()
            .map_err(IndexError::Tantivy)?;
        Ok(MailIndexWriter {
            writer,
            reader: self.reader.clone(),
            fields: self.fields.clone(),
            dir: self.dir.clone(),
            merges: merged::MergeWatch::new(),
            queue: queued::Queue::new(QUEUED_DOCS, QUEUE_WAIT),
            tiers,
        })
    }

    /// See commits made since the reader was opened (by this or another process).
    pub fn reload(&self) -> Result<(), IndexError> {
        self.reader.reload()?;
        Ok(())
    }

    /// Keeps each thread's latest activity beside every document from now on, for a process
    /// that searches the index many times (see `activity`): built on a thread of its own for
    /// each new set of segments the reader sees; cheap to call before every search.
    pub fn keep_thread_activity(&self) {
        self.activity.keep(&self.reader.searcher());
    }

    /// Number of (live) messages in the index.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The pool a search runs its segments on (the pass over the matches, the read-back, the
    /// hits): one thread per core (at most [`SEARCH_THREADS`]), for an index of more than one segment on a machine of more
    /// than one core; `None` (the calling thread) otherwise or when the threads cannot start.
    fn search_executor(&self, searcher: &Searcher) -> Option<&tantivy::Executor> {
        if searcher.segment_readers().len() < 2 {
            return None;
        }
        self.executor
            .get_or_init(|| {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                let threads = cores.min(SEARCH_THREADS);
                if threads < 2 {
                    return None;
                }
                tantivy::Executor::multi_thread(threads, "search-")
                    .inspect_err(|e| tracing::warn!(error = %e, "search runs on one thread"))
                    .ok()
            })
            .as_ref()
    }

    /// Runs a query (see [`query`] for the language) and groups the matching messages by thread:
    /// the first `limit` threads (top-k first, see `select`), with exact totals of matching
    /// messages and of threads up to [`THREAD_COUNT_BOUND`].
    pub fn search(&self, query: &str, opts: &SearchOptions) -> Result<SearchResults, SearchError> {
        let started = std::time::Instant::now();
        let ast = query::parse(query, &self.analyzer)?;
        let compiled = query::compile(&ast, &self.fields);
        let searcher = self.reader.searcher();
        let activity = match opts.sort {
            SortOrder::Newest => self.activity.for_searcher(&searcher),
            SortOrder::Relevance => None,
        };
        let collector = FirstsCollector::new(opts.limit, opts.sort, activity.clone());
        let one_thread = tantivy::Executor::single_thread();
        let executor = self.search_executor(&searcher).unwrap_or(&one_thread);
        let scoring = collector.scoring(&searcher);
        let found =
            searcher.search_with_executor(&*compiled.query, &collector, executor, scoring)?;
        // What a slow search spent its time on (`DESKMAIL_LOG=deskmail::index=debug`): the
        // pass over the matches, then the choice of threads, then their hits.
        let first_pass = started.elapsed();
        let (matches, read, kept) = (found.messages, found.read, found.firsts.len());
        let mut results = SearchResults {
            total_threads: if found.more_threads {
                THREAD_COUNT_BOUND
            } else {
                found.threads.len()
            },
            more_threads: found.more_threads,
            total_messages: found.messages,
            threads: Vec::new(),
        };
        if opts.limit == 0 || found.firsts.is_empty() {
            return Ok(results);
        }
        let reading = select::Reading {
            searcher: &searcher,
            fields: &self.fields,
            query: &*compiled.query,
            executor,
        };
        let selected = match opts.sort {
            SortOrder::Newest => {
                select::select_newest(&reading, found, opts.limit, activity.as_deref())?
            }
            SortOrder::Relevance => select::select_relevance(&reading, found, opts.limit)?,
        };
        let selection = started.elapsed();
        results.threads =
            self.thread_hits(&searcher, &compiled, executor, selected, opts.message_ids)?;
        tracing::debug!(
            matches,
            read,
            kept,
            activity_table = activity.is_some(),
            first_pass_us = first_pass.as_micros() as u64,
            selection_us = selection.as_micros() as u64,
            total_us = started.elapsed().as_micros() as u64,
            "search"
        );
        Ok(results)
    }
}

/// Writes to the index. Uncommitted changes are discarded when the writer is dropped.
pub struct MailIndexWriter {
    writer: IndexWriter<queued::QueuedDoc>,
    /// Bounds the documents waiting for the indexing thread ([`QUEUED_DOCS`]).
    queue: queued::Queue,
    reader: IndexReader,
    fields: Fields,
    /// The index directory, where [`Self::finish`] leaves each thread's activity.
    dir: PathBuf,
    /// When the reader last looked for merges that finished (`merged`).
    merges: merged::MergeWatch,
    /// The merge policy this writer set, kept to ask it for the tail ([`Self::merge_tail`]).
    tiers: tiers::TierPolicy,
}

/// Adds the non-empty values, or the [`EMPTY_SENTINEL`] token when there is none.
fn add_text_or_sentinel<'a>(
    doc: &mut TantivyDocument,
    field: Field,
    values: impl IntoIterator<Item = &'a str>,
) {
    let mut any = false;
    for v in values {
        if !v.trim().is_empty() {
            doc.add_text(field, v);
            any = true;
        }
    }
    if !any {
        add_sentinel(doc, field);
    }
}

fn add_sentinel(doc: &mut TantivyDocument, field: Field) {
    doc.add_pre_tokenized_text(
        field,
        PreTokenizedString {
            text: String::new(),
            tokens: vec![Token {
                offset_from: 0,
                offset_to: 0,
                position: 0,
                text: EMPTY_SENTINEL.to_string(),
                position_length: 1,
            }],
        },
    );
}

/// The two u64 halves of a 32-digit lowercase hex id (what `MessageId::of_bytes` makes).
fn id_halves(id: &str) -> Option<(u64, u64)> {
    if id.len() != 32 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    Some((
        u64::from_str_radix(&id[..16], 16).ok()?,
        u64::from_str_radix(&id[16..], 16).ok()?,
    ))
}

/// `s` cut to at most `max` bytes at a char boundary.
fn truncate_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl MailIndexWriter {
    /// Adds one document for this message, replacing any earlier one with the same message id.
    /// `stored_at` is when the store took it (where its retention counts from when it has no
    /// date of its own).
    pub fn add(
        &mut self,
        msg: &Message,
        decision: &Decision,
        thread: &ThreadId,
        stored_at: chrono::DateTime<Utc>,
    ) -> Result<(), IndexError> {
        self.writer
            .delete_term(Term::from_field_text(self.fields.id, &msg.id.0));
        self.add_new(msg, decision, thread, stored_at)
    }

    /// Adds one document for a message the store has just stored, so the index cannot have one
    /// yet (it is never ahead of the store). No delete: tantivy keeps every delete until the
    /// commit and then runs it against every segment, a cost that grew with the index (issue 14).
    pub fn add_new(
        &mut self,
        msg: &Message,
        decision: &Decision,
        thread: &ThreadId,
        stored_at: chrono::DateTime<Utc>,
    ) -> Result<(), IndexError> {
        let mut doc = self.document(msg, decision, thread);
        doc.add_i64(
            self.fields.retention_from,
            msg.retention_from(stored_at).timestamp(),
        );
        let doc = self.queue.admit(doc);
        self.writer.add_document(doc)?;
        Ok(())
    }

    /// The sender and recipients: as words (`Name <addr>`) and as address keywords.
    fn add_addresses(&self, doc: &mut TantivyDocument, msg: &Message) {
        let f = &self.fields;
        let from = msg.from.as_ref().map(|a| a.to_string());
        add_text_or_sentinel(doc, f.from, from.as_deref());
        let to: Vec<String> = msg.to.iter().map(|a| a.to_string()).collect();
        add_text_or_sentinel(doc, f.to, to.iter().map(String::as_str));
        let cc: Vec<String> = msg.cc.iter().map(|a| a.to_string()).collect();
        add_text_or_sentinel(doc, f.cc, cc.iter().map(String::as_str));
        let from_keys = address::keys(&msg.from);
        add_text_or_sentinel(doc, f.from_addr, from_keys.iter().map(String::as_str));
        let to_keys = address::keys(msg.to.iter().chain(&msg.cc));
        add_text_or_sentinel(doc, f.to_addr, to_keys.iter().map(String::as_str));
    }

    fn document(&self, msg: &Message, decision: &Decision, thread: &ThreadId) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::new();
        doc.add_text(f.id, &msg.id.0);
        if let Some((hi, lo)) = id_halves(&msg.id.0) {
            doc.add_u64(f.id_hi, hi);
            doc.add_u64(f.id_lo, lo);
        }
        doc.add_text(f.thread, &thread.0);
        doc.add_u64(f.thread_n, thread.as_u64());
        add_text_or_sentinel(&mut doc, f.subject, [msg.subject.as_str()]);
        self.add_addresses(&mut doc, msg);
        add_text_or_sentinel(
            &mut doc,
            f.body,
            [truncate_str(&msg.body_text, MAX_BODY_BYTES)],
        );
        add_text_or_sentinel(
            &mut doc,
            f.attachment,
            msg.attachments.iter().filter_map(|a| a.name.as_deref()),
        );
        let mut text_budget = MAX_ATTACHMENT_TEXT_BYTES;
        // A hybrid PDF's e-invoice (parties, line items) is searchable beside its visual text.
        let einvoice_text = decision
            .einvoice
            .as_deref()
            .filter(|e| e.source.contains(", embedded "))
            .map(crate::einvoice::summary_text);
        let texts = msg
            .attachments
            .iter()
            .filter_map(|a| a.text.as_deref())
            .chain(einvoice_text.as_deref())
            .map(|t| {
                let t = truncate_str(t, text_budget);
                text_budget -= t.len();
                t
            });
        add_text_or_sentinel(&mut doc, f.attachment_text, texts);

        let mut has: Vec<&str> = Vec::new();
        if !msg.attachments.is_empty() {
            has.push("attachment");
        }
        let category = if decision.category.is_empty() {
            CATEGORY_OTHER
        } else {
            decision.category.as_str()
        };
        doc.add_text(f.category, category);
        let mut invoice: Option<(String, String)> = None;
        if let Some(inv) = decision.fields.get("invoice_number") {
            let whole = inv.value.canonical().trim().to_lowercase();
            let compact: String = whole.chars().filter(|c| c.is_alphanumeric()).collect();
            if !compact.is_empty() {
                invoice = Some((whole, compact));
                has.push("invoice");
            }
        }
        match &invoice {
            Some((whole, compact)) => {
                doc.add_text(f.invoice, whole);
                doc.add_text(f.invoice_exact, whole);
                if compact != whole {
                    doc.add_text(f.invoice_exact, compact);
                }
            }
            None => {
                add_sentinel(&mut doc, f.invoice);
                add_sentinel(&mut doc, f.invoice_exact);
            }
        }
        if let Some(amount) = decision.fields.get("amount_total")
            && let FieldValue::Amount { value, .. } = &amount.value
            && let Ok(v) = value.to_string().parse::<f64>()
        {
            doc.add_f64(f.amount, v);
            has.push("amount");
        }
        if decision.einvoice.is_some() {
            has.push("einvoice");
        }
        add_text_or_sentinel(&mut doc, f.has, has);
        let vat = decision.fields.get("vendor_vat_id").map(|v| {
            v.value
                .canonical()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
        });
        add_text_or_sentinel(&mut doc, f.vendor_vat, vat.as_deref());
        // A date before 1901-12-14 or after 2262 (which tantivy cannot hold) leaves the document
        // undated rather than overflowing; the store keeps the message's real date.
        let date = msg.date.and_then(|d| indexable_date(d.timestamp()));
        doc.add_date(f.date, date.unwrap_or_else(undated));
        add_text_or_sentinel(&mut doc, f.mailbox, [msg.mailbox.as_str()]);
        doc
    }

    /// Deletes the document of this message (at the next commit).
    pub fn delete(&mut self, id: &MessageId) -> Result<(), IndexError> {
        self.writer
            .delete_term(Term::from_field_text(self.fields.id, &id.0));
        Ok(())
    }

    /// Lets go of the segments merges replaced since the last look, at most every 250 ms:
    /// until then the reader keeps every page those merges read resident (`merged`). Cheap to
    /// call after every batch and every idle wait (a look reads `meta.json`).
    pub fn let_go_of_merged(&mut self) {
        self.merges.look(&self.reader, self.writer.index());
    }

    /// Commits pending changes and makes them visible to this index's searches.
    pub fn commit(&mut self) -> Result<(), IndexError> {
        self.writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// The segments whose terms name any of `ids`: the ones an erasure of them must rewrite
    /// (asked before the documents are deleted). A segment counts also when its copy is
    /// already deleted (a message re-indexed when threads merged): its words are in the files
    /// until the segment is rewritten.
    pub fn segments_holding(&self, ids: &[MessageId]) -> Result<Vec<SegmentId>, IndexError> {
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        let mut held = Vec::new();
        for reader in searcher.segment_readers() {
            let terms = reader.inverted_index(self.fields.id)?;
            for id in ids {
                let term = Term::from_field_text(self.fields.id, &id.0);
                if terms
                    .get_term_info(&term)
                    .map_err(tantivy::TantivyError::from)?
                    .is_some()
                {
                    held.push(reader.segment_id());
                    break;
                }
            }
        }
        Ok(held)
    }

    /// Erased documents out of the files: tantivy only marks a deleted document, and its
    /// words stay in the segment until the segment is merged. Each of `segments` (those that
    /// held the erased documents, from [`Self::segments_holding`]) still in the index is
    /// rewritten on its own without its deleted documents, and the old files removed; a segment
    /// merged away meanwhile was rewritten by that merge. Segments the erasure did not touch
    /// are left alone: at a million messages most segments hold deleted documents (thread
    /// merges re-index messages), and merging them all was a rewrite of the whole index.
    pub fn purge_deleted(&mut self, segments: &[SegmentId]) -> Result<(), IndexError> {
        self.writer.commit()?;
        let present = self.writer.index().searchable_segment_ids()?;
        for segment in segments.iter().filter(|s| present.contains(s)) {
            self.writer.merge(std::slice::from_ref(segment)).wait()?;
            // Let go of the segment just rewritten: the reader's maps of its files keep every
            // page the merge read resident in this process until they are dropped (2,104 MiB of
            // RSS for an erasure that rewrote a million messages' segments).
            self.reader.reload()?;
        }
        self.writer.garbage_collect_files().wait()?;
        self.reader.reload()?;
        Ok(())
    }

    /// From the next commit on ([`Self::finish`] makes one), the tail is merged into one
    /// (`tiers`: what this writer made below the frozen size, and older segments of a size
    /// with it): the end of a bulk ingest or a reindex, which would
    /// otherwise leave a tail of small and middle segments for every search to open. A live
    /// writer does not ask: its tail would be merged at every stop.
    pub fn merge_tail(&self) {
        self.tiers.merge_tail();
    }

    /// Commits pending changes, then waits for merge threads so the on-disk index has few
    /// segments (end of a bulk ingest), and leaves each thread's activity for the segments it
    /// ends with beside them: the searches that follow, a CLI's without a daemon above all,
    /// rank newest first without reading it back (`activity`).
    pub fn finish(mut self) -> Result<(), IndexError> {
        self.writer.commit()?;
        let reader = self.reader.clone();
        let index = self.writer.index().clone();
        // The last merges run one after another (a merge's result can complete a level): the
        // reader lets go of each one's sources as it finishes, not after the last (`merged`).
        // Dropping `done` ends the watcher at once (a sleep would hold every ingest's end).
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let (reader_ref, index_ref) = (&reader, &index);
        std::thread::scope(|s| {
            // A watcher that cannot start costs memory, not the ingest: the merges are waited
            // for all the same.
            let watcher = std::thread::Builder::new()
                .name("merge-watch".into())
                .spawn_scoped(s, move || {
                    let mut watch = merged::MergeWatch::new();
                    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                        finished.recv_timeout(merged::LOOK_EVERY)
                    {
                        watch.look_now(reader_ref, index_ref);
                    }
                });
            if let Err(e) = watcher {
                tracing::warn!(error = %e, "No watcher for the last merges");
            }
            let waited = self.writer.wait_merging_threads();
            drop(done);
            waited
        })?;
        reader.reload()?;
        // The table is an aid, not the index: a failure to write it costs speed, not results.
        if let Err(e) = activity::Activity::write_for(&reader.searcher(), &self.dir) {
            tracing::warn!(error = %e, "Cannot leave the thread activity table beside the index");
        }
        Ok(())
    }

    /// Deletes every document. Like every change, takes effect at the next commit, so searches
    /// see the old index until a reindex commits.
    pub fn clear(&mut self) -> Result<(), IndexError> {
        self.writer.delete_all_documents()?;
        Ok(())
    }
}

mod collect;
mod hits;
#[cfg(test)]
mod hits_tests;
mod live;
mod merged;
mod retention;
mod select;
#[cfg(test)]
mod select_tests;
#[cfg(test)]
mod tests;
mod topk;
#[cfg(test)]
mod writer_tests;

/// Seconds tantivy's date (i64 nanoseconds) can hold: up to 2262-04-11.
const DATE_SECS_LIMIT: i64 = i64::MAX / 1_000_000_000;
/// The second that marks an undated message in the date column (1901-12-13T20:45:52Z). The
/// column packs each value in the bits its segment's span needs, and its range filter has a
/// fast path up to 32 bits: a mark this close keeps mail dated up to 2038 within it (one at
/// tantivy's own minimum, 1677, would not). A message claiming an older date indexes as undated
/// (there was no e-mail; the store keeps the date it claims).
const UNDATED_SECS: i64 = i32::MIN as i64;
/// The oldest second a message's indexed date can be.
const DATE_SECS_MIN: i64 = UNDATED_SECS + 1;

/// A timestamp as tantivy's date, if it fits (found by fuzzing: a `Date:` or a query bound past
/// 2262 overflowed `DateTime::from_timestamp_secs`).
pub(crate) fn indexable_date(secs: i64) -> Option<DateTime> {
    (DATE_SECS_MIN..=DATE_SECS_LIMIT)
        .contains(&secs)
        .then(|| DateTime::from_timestamp_secs(secs))
}

/// A query bound as tantivy's date, clamped into the range a message's date can hold (every
/// indexed date is inside it, so comparisons stay exact, and the undated mark is below it).
pub(crate) fn clamped_date(secs: i64) -> DateTime {
    DateTime::from_timestamp_secs(secs.clamp(DATE_SECS_MIN, DATE_SECS_LIMIT))
}

/// What the date column holds for an undated message. Every document has a value, so the
/// column maps a document to its row directly: an optional column ranks each document in its
/// index first, the largest part of reading the dates of many matches (issue 14).
pub(crate) fn undated() -> DateTime {
    DateTime::from_timestamp_secs(UNDATED_SECS)
}

/// A date column's value in Unix seconds, `None` for the undated mark.
pub(crate) fn dated(value: DateTime) -> Option<i64> {
    let secs = value.into_timestamp_secs();
    (secs != UNDATED_SECS).then_some(secs)
}
