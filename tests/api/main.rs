//! `deskmail serve` end to end: every route walked without a token, with a wrong role and with
//! the right one; the audit log written for each read and verified; failed-auth rate limit;
//! security headers; search through the API equals `deskmail search --json`. One test binary,
//! a module per concern.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};

#[path = "../common/mod.rs"]
mod common;
use common::api::{Server, create_token, setup};
use common::{bin, deskmail, fixtures, import_invoices};

use deskmail::access::Role;
use deskmail::api::{Access, ROUTES};
use serde_json::Value;

/// The store's key of audit record `n`.
fn audit_key(n: u64) -> Vec<u8> {
    let mut k = b"a/".to_vec();
    k.extend_from_slice(&n.to_be_bytes());
    k
}

/// The store's key-value engine opened directly (fjall's database and deskmail's keyspace).
fn open_kv(data: &Path) -> (fjall::Database, fjall::Keyspace) {
    let db = fjall::Database::builder(data.join("store/kv"))
        .open()
        .unwrap();
    let tree = db
        .keyspace("deskmail", fjall::KeyspaceCreateOptions::default)
        .unwrap();
    (db, tree)
}

/// Change the store behind deskmail's back, as someone with disk access would.
fn with_store_tree(data: &Path, f: &dyn Fn(&fjall::Keyspace)) {
    let (db, tree) = open_kv(data);
    f(&tree);
    db.persist(fjall::PersistMode::SyncAll).unwrap();
}

/// `deskmail audit verify --data DATA`.
fn audit_verify(data: &Path) -> std::process::Output {
    deskmail(&["audit", "verify", "--data", data.to_str().unwrap()])
}

mod audit;
mod data;
mod limits;
mod routes;
mod tls;
