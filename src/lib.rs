//! deskmail: email-workflow automation for accounting desks.
//!
//! # Layout
//! Every message takes one path: a source → [`intake`] (workers: [`parse`] → [`rules`], then the
//! one committer: [`store`] → [`index`]). Modules in dependency order: each uses only those
//! before it (`tests/architecture.rs` holds docs/ARCHITECTURE.md's table to that).
//! - [`model`]: plain data (Message, Decision, ids, the e-invoice model), no I/O.
//! - [`normalize`]: amounts, currencies, dates, payment terms; pure functions.
//! - [`einvoice`]: UBL / CII / ZUGFeRD XML → the e-invoice model, with the EN 16931 checks.
//! - [`parse`]: bytes → Message; never panics; size limits; HTML and PDF text with layout.
//! - [`extract`]: invoice fields without a template, scored and cross-checked.
//! - [`rules`]: accountant-readable rule files: load, validate, evaluate.
//! - [`review`]: which decisions need a person, corrections; no I/O.
//! - [`vendors`]: the vendor registry's logic and the bank-details guard; no I/O.
//! - [`receivables`]: AR invoices, what inbox decisions do to them, the dunning plan.
//! - [`access`]: roles and API tokens. [`audit`]: the audit log's records and chain.
//! - [`tls`]: TLS modes, loopback, CA files. [`antivirus`]: the clamd client and scanner.
//! - [`outbound`]: reply templates, drafts, outbox records; `send` and `dunning` sit above the
//!   store.
//! - [`store`]: the key-value engine (fjall; `store::kv`) and the blob log; the one place that
//!   writes state.
//! - [`index`]: tantivy schema, writer, the query language, grouped search.
//! - [`admin`]: tokens made and revoked, and every admin action audited, in one call each.
//! - [`source`]: files, maildirs and mbox on disk; `source::imap` above the intake.
//! - [`pipeline`]: opening a data directory, `process` (parse + rules), the index catch-up.
//! - [`intake`]: the one committer used by `ingest`, `run` and `reindex`.
//! - [`backup`]: `deskmail backup` (a consistent snapshot, one archive) and `restore`.
//! - [`privacy`]: export, erasure, retention. [`views`]: what the CLI, socket and API print.
//! - [`config`]: `deskmail.toml`, every problem at once. [`health`]: status of each source.
//! - [`api`]: `deskmail serve`. [`daemon`]: `deskmail run` and its start-up check.
//! - [`eval`], [`bench`]: measurement.
//!
//! See docs/ARCHITECTURE.md for the store's keys and the invariants.
#![forbid(unsafe_code)]

pub mod access;
pub mod admin;
pub mod antivirus;
pub mod api;
pub mod audit;
pub mod backup;
pub mod bench;
pub mod config;
pub mod daemon;
pub mod einvoice;
pub mod eval;
pub mod exe;
pub mod extract;
pub mod health;
pub mod index;
pub mod intake;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod outbound;
pub mod parse;
pub mod pipeline;
pub mod privacy;
pub mod receivables;
pub mod review;
pub mod rules;
pub mod secret;
pub mod source;
pub mod store;
pub mod tls;
pub mod vendors;
pub mod views;
