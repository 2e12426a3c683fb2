//! deskmail: email-workflow automation for accounting desks.
//!
//! # Layout
//! Data flows one way: `source` → [`parse`] → [`rules`] → [`store`] → [`index`].
//! - [`model`]: plain data (Message, Decision, ids), no I/O.
//! - [`parse`]: bytes → Message; never panics; size limits; HTML and PDF text.
//! - [`rules`]: accountant-readable rule files: load, validate, evaluate, extract, normalise.
//! - [`store`]: sled trees; the one place that writes state; one transaction per batch.
//! - [`index`]: tantivy schema, batched writer, the query language, grouped search.
//! - [`source`]: where raw mail comes from (files, maildir, mbox).
//! - [`pipeline`]: wires parse → rules → store → index for a batch of raw mail.
//! - [`bench`]: the `deskmail bench` measurements.
//!
//! See docs/ARCHITECTURE.md for the store's keys and the invariants.
#![forbid(unsafe_code)]

pub mod access;
pub mod api;
pub mod audit;
pub mod bench;
pub mod config;
pub mod daemon;
pub mod einvoice;
pub mod eval;
pub mod extract;
pub mod health;
pub mod index;
pub mod intake;
pub mod model;
pub mod normalize;
pub mod outbound;
pub mod parse;
pub mod pipeline;
pub mod privacy;
pub mod receivables;
pub mod review;
pub mod rules;
pub mod source;
pub mod store;
pub mod tls;
pub mod vendors;
pub mod views;
