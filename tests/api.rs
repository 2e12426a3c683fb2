//! `deskmail serve` end to end: every route walked without a token, with a wrong role and with
//! the right one; the audit log written for each read and verified; failed-auth rate limit;
//! security headers; search through the API equals `deskmail search --json`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::api::{Server, create_token, setup};
use common::{bin, deskmail, fixtures, import_invoices};

use deskmail::access::Role;
use deskmail::api::{Access, ROUTES};
use serde_json::Value;

/// `deskmail audit verify --data DATA`.
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

fn audit_verify(data: &Path) -> std::process::Output {
    deskmail(&["audit", "verify", "--data", data.to_str().unwrap()])
}

#[test]
fn every_route_denies_without_a_token_and_with_a_wrong_role_and_serves_the_right_one() {
    let (_dir, data, tokens) = setup();
    // The walk fails authentication on purpose more often than the default limit allows.
    let server = Server::start_with(&data, &["--auth-failures-per-minute", "1000"]);
    let agent = &tokens[&Role::Agent];
    let hits = server.json("/api/search?q=invoice:INV-20417", agent);
    let thread_id = hits["threads"][0]["thread_id"]
        .as_str()
        .unwrap()
        .to_string();
    let message_id = hits["threads"][0]["message_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let with_attachment = server.json("/api/search?q=has:attachment%20invoice", agent);
    let attached_id = with_attachment["threads"][0]["message_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    // A message in the review queue (the fixtures' resent invoice) and a vendor with an IBAN.
    let queue = server.json("/api/review", agent);
    let review_id = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["subject"].as_str().unwrap().contains("INV-20417"))
        .expect("the duplicate invoice waits in review")["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    let vendors = server.json("/api/vendors", agent);
    let vendor = vendors
        .as_array()
        .unwrap()
        .iter()
        .find(|v| !v["ibans"].as_array().unwrap().is_empty())
        .expect("a vendor with an IBAN")
        .clone();
    let vendor_id = vendor["id"].as_str().unwrap().to_string();
    let iban_body = serde_json::json!({ "iban": vendor["ibans"][0]["iban"] }).to_string();
    let concrete = |p: &str| -> String {
        if p == "/api/messages/{id}/attachments/{n}" {
            return format!("/api/messages/{attached_id}/attachments/0");
        }
        if p.starts_with("/api/review/") {
            return p.replace("{id}", &review_id);
        }
        if p.starts_with("/api/vendors/") {
            return p.replace("{key}", &vendor_id);
        }
        let p = p.replace("{email}", "nobody@example.com");
        let p = if p.starts_with("/api/threads/") {
            p.replace("{id}", &thread_id)
        } else {
            p.replace("{id}", &message_id)
        };
        if p == "/api/search" {
            format!("{p}?q=invoice")
        } else {
            p
        }
    };
    assert!(ROUTES.len() >= 8);
    let invoice = std::fs::read(fixtures().join("ap/invoice-en-us-plain-text-net30.eml")).unwrap();
    let decision = br#"{"version": 1, "fields": {"amount_total": "1.00"}}"#;
    let call = |method: &str, path: &str, token: Option<&str>| {
        let body: &[u8] = match method {
            "POST" if path.starts_with("/api/review/") => decision,
            "POST" if path.starts_with("/api/vendors/") => iban_body.as_bytes(),
            "POST" => &invoice,
            _ => b"",
        };
        server.request(method, path, token, body)
    };
    let mut decided = 0;
    for (method, route, access) in ROUTES {
        let path = concrete(route);
        let (status, _, _) = call(method, &path, None);
        match access {
            Access::Open => assert_eq!(status, 200, "{route} is open"),
            Access::Roles(allowed) => {
                assert_eq!(status, 401, "{route} without a token");
                let (status, _, _) = call(method, &path, Some("dm_not-a-real-token"));
                assert_eq!(status, 401, "{route} with a made-up token");
                for role in Role::ALL {
                    let (status, _, body) = call(method, &path, Some(&tokens[&role]));
                    // An item is decided once: the next caller allowed to decide is told it
                    // was (409), which still shows the role was let through.
                    if *method == "POST" && route.starts_with("/api/review/") {
                        if allowed.contains(&role) {
                            assert!(
                                status == 200 || status == 409,
                                "{route} as {role}: {status} {}",
                                String::from_utf8_lossy(&body)
                            );
                            decided += usize::from(status == 200);
                        } else {
                            assert_eq!(status, 403, "{route} as {role}");
                        }
                        continue;
                    }
                    let expected = if allowed.contains(&role) { 200 } else { 403 };
                    assert_eq!(
                        status,
                        expected,
                        "{route} as {role}: {}",
                        String::from_utf8_lossy(&body)
                    );
                }
            }
        }
    }
    assert_eq!(decided, 1, "one decision on the item, the rest conflicts");
    // A route that is not in the table does not exist.
    assert_eq!(
        server.get("/api/secret", Some(&tokens[&Role::Admin])).0,
        404
    );
}

#[test]
fn search_equals_the_cli_and_reads_are_audited_with_who_and_what() {
    let (_dir, data, tokens) = setup();
    let server = Server::start(&data);
    let agent = &tokens[&Role::Agent];
    let api = server.json("/api/search?q=category:ap.invoice&limit=50", agent);
    let cli = deskmail(&[
        "search",
        "--json",
        "--limit",
        "50",
        "--data",
        data.to_str().unwrap(),
        "category:ap.invoice",
    ]);
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(api, cli);
    let tid = api["threads"][0]["thread_id"].as_str().unwrap().to_string();
    let thread = server.json(&format!("/api/threads/{tid}"), agent);
    assert_eq!(thread["thread_id"], tid.as_str());
    let mid = thread["messages"][0]["id"].as_str().unwrap().to_string();
    let (status, headers, raw) = server.get(&format!("/api/messages/{mid}/raw"), Some(agent));
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "message/rfc822");
    assert!(String::from_utf8_lossy(&raw).contains("Subject:"));
    // Bad query: 400 with the column.
    let (status, _, body) = server.get("/api/search?q=amount:%5B1%20TO", Some(agent));
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    // Security headers on every answer, open or not.
    for path in ["/api/health", "/api/stats"] {
        let (_, h, _) = server.get(path, Some(agent));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert!(h["content-security-policy"].contains("default-src 'none'"));
    }
    // The auditor sees who read which thread; the agent's reads are all there.
    let records = server.json("/api/audit?limit=1000", &tokens[&Role::Auditor]);
    let records = records["records"].as_array().unwrap();
    let read_thread = records.iter().find(|r| {
        r["actor"] == "agent-1"
            && r["action"] == "GET /api/threads/{id}"
            && r["targets"][0].as_str().unwrap().contains(&tid)
    });
    assert!(read_thread.is_some_and(|r| r["outcome"] == "200" && r["role"] == "agent"));
    assert!(records.iter().any(|r| r["action"] == "token create"));
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "GET /api/search" && r["outcome"] == "400")
    );
    drop(server);
    let verify = audit_verify(&data);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// Security finding 1: `NOT ` × 400 or 1,800 `(` overflowed the query parser's stack and
/// aborted the server. Each is now a 400 naming the limit, and the server keeps answering.
#[test]
fn a_query_nesting_hundreds_deep_is_a_400_and_the_server_keeps_serving() {
    let (_dir, data, tokens) = setup();
    let server = Server::start(&data);
    let agent = &tokens[&Role::Agent];
    let nots = format!("/api/search?q={}paid", "NOT%20".repeat(400));
    let parens = format!("/api/search?q={}", "%28".repeat(1800));
    for path in [nots, parens] {
        let (status, _, body) = server.get(&path, Some(agent));
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("query nests deeper than 32"),
            "{body}"
        );
    }
    let (status, _, body) = server.get(&format!("/api/search?q={}", "x".repeat(5000)), Some(agent));
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert_eq!(server.get("/api/health", None).0, 200);
    let hits = server.json("/api/search?q=category:ap.invoice", agent);
    assert!(hits["total_threads"].as_u64().unwrap() > 0);
}

#[test]
fn revoked_tokens_stop_working_and_failed_logins_are_rate_limited() {
    let (_dir, data, tokens) = setup();
    let extra = create_token(&data, Role::Agent, "temp");
    let out = deskmail(&["token", "list", "--json", "--data", data.to_str().unwrap()]);
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        listed.contains("\"temp\"") && !listed.contains(&extra),
        "tokens are never listed"
    );
    let out = deskmail(&["token", "revoke", "--data", data.to_str().unwrap(), "temp"]);
    assert!(out.status.success());
    let server = Server::start(&data);
    assert_eq!(server.get("/api/stats", Some(&extra)).0, 401);
    assert_eq!(server.get("/api/stats", Some(&tokens[&Role::Agent])).0, 200);
    // Ten wrong tokens from one address (the revoked token was the first): the eleventh waits,
    // told how long; a valid token from the same address is still served.
    for i in 0..9 {
        assert_eq!(
            server.get("/api/stats", Some(&format!("dm_{i}guess"))).0,
            401
        );
    }
    let (status, headers, _) = server.get("/api/stats", Some("dm_9guess"));
    assert_eq!(status, 429);
    let wait: u64 = headers["retry-after"].parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_eq!(server.get("/api/stats", Some(&tokens[&Role::Agent])).0, 200);
    assert_eq!(server.get("/api/health", None).0, 200, "health stays open");
}

#[test]
fn plain_http_is_refused_off_loopback_and_openapi_lists_the_routes() {
    let (_dir, data, _tokens) = setup();
    let out = deskmail(&[
        "serve",
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "0.0.0.0:0",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only allowed on a loopback address"));
    let server = Server::start(&data);
    let (status, _, body) = server.get("/openapi.json", None);
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_slice(&body).unwrap();
    // Every documented route is in the permission table (else it would answer 403 to all).
    for path in doc["paths"].as_object().unwrap().keys() {
        assert!(
            ROUTES.iter().any(|(_, r, _)| r == path),
            "{path} has no roles in ROUTES"
        );
    }
    for (_, route, _) in ROUTES {
        if route.starts_with("/api/") {
            assert!(
                doc["paths"].get(*route).is_some(),
                "{route} missing from /openapi.json"
            );
        }
    }
}

/// Edit, remove or reorder records behind deskmail's back (as someone with disk access would);
/// `audit verify` must name the first bad record.
#[test]
fn audit_verify_detects_edits_removals_and_reordering() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for i in 0..5 {
        create_token(&data, Role::Agent, &format!("t{i}"));
    }
    let verify = || audit_verify(&data);
    let ok = verify();
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact: 5 records"));
    let key = audit_key;
    let tamper = |f: &dyn Fn(&fjall::Keyspace)| with_store_tree(&data, f);
    let expect_break = |seq: u64| {
        let out = verify();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(err.contains(&format!("audit record {seq}:")), "{err}");
    };
    // Edit: a record's target changed.
    let original = {
        let (_db, tree) = open_kv(&data);
        tree.get(key(2)).unwrap().unwrap().to_vec()
    };
    let edited = String::from_utf8(original.clone())
        .unwrap()
        .replace("t1 (agent)", "t1 (admin)");
    assert_ne!(edited.as_bytes(), &original[..]);
    tamper(&|t| {
        t.insert(key(2), edited.as_bytes()).unwrap();
    });
    expect_break(2);
    tamper(&|t| {
        t.insert(key(2), original.as_slice()).unwrap();
    });
    assert!(verify().status.success(), "restored");
    // Reorder: records 3 and 4 swapped.
    let (r3, r4) = {
        let (_db, tree) = open_kv(&data);
        (
            tree.get(key(3)).unwrap().unwrap().to_vec(),
            tree.get(key(4)).unwrap().unwrap().to_vec(),
        )
    };
    tamper(&|t| {
        t.insert(key(3), r4.as_slice()).unwrap();
        t.insert(key(4), r3.as_slice()).unwrap();
    });
    expect_break(3);
    tamper(&|t| {
        t.insert(key(3), r3.as_slice()).unwrap();
        t.insert(key(4), r4.as_slice()).unwrap();
    });
    // Removal: record 4 deleted; and the newest record deleted.
    tamper(&|t| {
        t.remove(key(4)).unwrap();
    });
    expect_break(4);
    tamper(&|t| {
        t.insert(key(4), r4.as_slice()).unwrap();
        t.remove(key(5)).unwrap();
    });
    expect_break(5);
}

#[test]
fn https_with_a_certificate_serves_the_api_and_plain_clients_are_turned_away() {
    let (dir, data, tokens) = setup();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    let server = Server::start_with(
        &data,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let fetch = |path: &str| {
        Command::new("python3")
            .args([
                "-c",
                "import ssl,sys,urllib.request\n\
                 ctx=ssl.create_default_context(cafile=sys.argv[1])\n\
                 req=urllib.request.Request(sys.argv[2], headers={'Authorization':'Bearer '+sys.argv[3]})\n\
                 print(urllib.request.urlopen(req, context=ctx).read().decode())",
                cert.to_str().unwrap(),
                &format!("https://localhost:{}{path}", server.port),
                &tokens[&Role::Agent],
            ])
            .output()
            .unwrap()
    };
    let out = fetch("/api/stats");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(stats["messages"].as_u64().unwrap() > 10);
    // A plain-HTTP request to the TLS port gets no answer.
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    write!(
        s,
        "GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    assert!(!String::from_utf8_lossy(&answer).contains("\"status\""));
}

/// AR receivables from the ERP, filtered by status and customer; a bad status is a clear 400.
#[test]
fn receivables_filter_by_status_and_customer() {
    let (dir, data, tokens) = setup();
    let csv = dir.path().join("ar.csv");
    std::fs::write(
        &csv,
        "invoice_number,customer,customer_email,amount,currency,issue_date,due_date,status\n\
         OC-1,Northwind,ap@northwind.example,1500.00,USD,2026-10-01,2026-11-02,open\n\
         OC-2,Contoso,ap@contoso.example,800.00,GBP,2026-10-01,2026-11-02,paid\n\
         OC-3,Contoso,ap@contoso.example,90.00,GBP,2026-10-01,2026-11-09,disputed\n",
    )
    .unwrap();
    import_invoices(&data, &csv);
    let server = Server::start(&data);
    let agent = &tokens[&Role::Agent];
    let numbers = |path: &str| -> Vec<String> {
        let mut v: Vec<String> = server.json(path, agent)["receivables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["invoice_number"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(numbers("/api/receivables"), ["OC-1", "OC-2", "OC-3"]);
    assert_eq!(numbers("/api/receivables?status=disputed"), ["OC-3"]);
    assert_eq!(
        numbers("/api/receivables?customer=contoso"),
        ["OC-2", "OC-3"]
    );
    assert_eq!(
        numbers("/api/receivables?customer=ap%40northwind&status=open"),
        ["OC-1"]
    );
    assert_eq!(numbers("/api/receivables?number=oc-2"), ["OC-2"]);
    let (status, _, body) = server.get("/api/receivables?status=overdue", Some(agent));
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("open, paid, disputed, promised"));
    let (status, _, _) = server.get("/api/receivables", Some(&tokens[&Role::Auditor]));
    assert_eq!(status, 403, "auditors read the audit log, not the ledger");
}

#[test]
fn invoices_filter_and_the_rule_dry_run_match_the_cli() {
    let (_dir, data, tokens) = setup();
    let server = Server::start(&data);
    let agent = &tokens[&Role::Agent];
    let all = server.json("/api/invoices", agent);
    let all = all["invoices"].as_array().unwrap();
    assert!(all.len() >= 10, "{all:?}");
    let bright = server.json("/api/invoices?vendor=brightline", agent);
    let bright = bright["invoices"].as_array().unwrap();
    assert!(!bright.is_empty());
    assert!(bright.iter().all(|i| {
        i["vendor"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("brightline")
    }));
    let april = server.json(
        "/api/invoices?due_after=2026-04-01&due_before=2026-04-30",
        agent,
    );
    let april = april["invoices"].as_array().unwrap();
    assert!(!april.is_empty() && april.len() < all.len());
    assert!(
        april
            .iter()
            .all(|i| i["due_date"].as_str().unwrap().starts_with("2026-04"))
    );

    let eml = fixtures().join("ap/invoice-en-us-plain-text-net30.eml");
    let (status, _, body) = server.request(
        "POST",
        "/api/rules/test",
        Some(agent),
        &std::fs::read(&eml).unwrap(),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let api: Value = serde_json::from_slice(&body).unwrap();
    let cli = deskmail(&["rules", "test", "--json", eml.to_str().unwrap()]);
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(api, cli);
    assert_eq!(api["fields"]["invoice_number"], "INV-20417");
    // Not mail: a clear error, nothing stored.
    let before = server.json("/api/stats", agent);
    let (status, _, body) = server.request("POST", "/api/rules/test", Some(agent), b"\x00\x01junk");
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));
    assert_eq!(server.json("/api/stats", agent), before);
}

/// Bytes of every blob segment in the data dir (to prove erased content is gone from disk).
fn blob_bytes(data: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(data.join("store/blobs")).unwrap() {
        all.extend(std::fs::read(e.unwrap().path()).unwrap());
    }
    all
}

#[test]
fn a_data_protection_request_exports_then_erases_a_contact() {
    let (_dir, data, tokens) = setup();
    let server = Server::start(&data);
    let (admin, agent, auditor) = (
        &tokens[&Role::Admin],
        &tokens[&Role::Agent],
        &tokens[&Role::Auditor],
    );
    let who = "billing@brightline-office.example";
    let theirs = server.json(&format!("/api/search?q=from:{who}&limit=50"), agent);
    let n = theirs["total_threads"].as_u64().unwrap();
    assert!(n >= 2, "fixture has several messages from {who}: {theirs}");
    let before = server.json("/api/stats", agent);

    // Export: one tar with export.json and the original .eml files.
    assert_eq!(
        server
            .get(&format!("/api/contacts/{who}/export"), Some(agent))
            .0,
        403
    );
    let (status, headers, tar) = server.get(&format!("/api/contacts/{who}/export"), Some(admin));
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/x-tar");
    let mut archive = tar::Archive::new(&tar[..]);
    let mut files = HashMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        files.insert(name, bytes);
    }
    let summary: Value = serde_json::from_slice(&files["export.json"]).unwrap();
    let exported = summary["messages"].as_array().unwrap();
    assert!(exported.len() as u64 >= n);
    for m in exported {
        let raw = &files[m["raw"].as_str().unwrap()];
        let id = m["id"].as_str().unwrap();
        let (_, _, original) = server.get(&format!("/api/messages/{id}/raw"), Some(agent));
        assert_eq!(raw, &original, "the archive holds the original bytes");
    }
    assert!(
        summary["invoices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["invoice_number"] == "INV-20417")
    );
    // The export holds the person's address in clear; the blob log holds it only sealed
    // (encryption at rest; that erasure destroys its key is tests/at_rest.rs's part).
    let marker = b"880 Commonwealth Ave";
    assert!(
        files
            .values()
            .any(|f| f.windows(marker.len()).any(|w| w == marker))
    );
    assert!(!blob_bytes(&data).windows(marker.len()).any(|w| w == marker));

    // Erase: gone from search, store and disk; the invoice record stays, pseudonymised.
    let (status, _, body) = server.request(
        "POST",
        &format!("/api/contacts/{who}/erase"),
        Some(admin),
        b"",
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let report: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["erased"].as_u64().unwrap(), exported.len() as u64);
    assert_eq!(
        server.json(&format!("/api/search?q=from:{who}"), agent)["total_threads"],
        0
    );
    assert_eq!(
        server.json("/api/search?q=%22880%20Commonwealth%22", agent)["total_threads"],
        0
    );
    for m in exported {
        let (status, _, _) = server.get(
            &format!("/api/messages/{}", m["id"].as_str().unwrap()),
            Some(agent),
        );
        assert_eq!(status, 404);
    }
    let after = server.json("/api/stats", agent);
    assert_eq!(
        after["messages"].as_u64().unwrap(),
        before["messages"].as_u64().unwrap() - exported.len() as u64
    );
    assert!(
        !blob_bytes(&data).windows(marker.len()).any(|w| w == marker),
        "raw bytes wiped"
    );
    let invoices = server.json("/api/invoices?number=INV-20417", agent);
    let inv = &invoices["invoices"][0];
    assert_eq!(inv["amount"], "1234.56");
    assert!(
        inv["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m.as_str().unwrap().starts_with("erased-"))
    );
    // The audit log records the requests without the address.
    let audit = server.json("/api/audit?limit=1000", auditor);
    let text = audit.to_string();
    assert!(text.contains("POST /api/contacts/{email}/erase") && text.contains("contact:"));
    assert!(
        !text.contains(who),
        "the audit log must not keep the erased address"
    );
    drop(server);
    // The source still offers the message: it must not come back.
    let again = deskmail(&[
        "ingest",
        "--json",
        "--data",
        data.to_str().unwrap(),
        fixtures()
            .join("ap/invoice-en-us-plain-text-net30.eml")
            .to_str()
            .unwrap(),
    ]);
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["ingested"], 0, "{again}");
    assert!(audit_verify(&data).status.success());
}

#[test]
fn retention_purges_expired_mail_except_threads_on_hold() {
    let (dir, data, tokens) = setup();
    // Everything older than a day goes, except AP invoices (kept ~100 years).
    let config = dir.path().join("deskmail.toml");
    std::fs::write(
        &config,
        "[retention]\ndefault_days = 1\ncategories = { \"ap.invoice\" = 36500 }\n",
    )
    .unwrap();
    let server = Server::start_with(&data, &["--config", config.to_str().unwrap()]);
    let (admin, agent, auditor) = (
        &tokens[&Role::Admin],
        &tokens[&Role::Agent],
        &tokens[&Role::Auditor],
    );
    let statement = server.json("/api/search?q=category:ap.statement", agent);
    let held = statement["threads"][0]["thread_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        server
            .request(
                "POST",
                &format!("/api/threads/{held}/hold"),
                Some(agent),
                b""
            )
            .0,
        403
    );
    assert_eq!(
        server
            .request(
                "POST",
                &format!("/api/threads/{held}/hold"),
                Some(admin),
                b""
            )
            .0,
        200
    );
    let status = server.json("/api/retention", auditor);
    let total = status["messages"].as_u64().unwrap();
    let due = status["due"].as_u64().unwrap();
    let invoices = server.json("/api/search?q=category:ap.invoice&limit=0", agent)["total_threads"]
        .as_u64()
        .unwrap();
    assert!(due > 0 && due < total, "{status}");
    assert!(status["held"].as_u64().unwrap() >= 1);
    let (code, _, body) = server.request("POST", "/api/retention/purge", Some(admin), b"");
    assert_eq!(code, 200);
    let report: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["erased"].as_u64().unwrap(), due);
    // Invoices and the held statement remain; other categories are gone.
    assert_eq!(
        server.json("/api/search?q=category:ap.invoice&limit=0", agent)["total_threads"]
            .as_u64()
            .unwrap(),
        invoices
    );
    assert_eq!(
        server.get(&format!("/api/threads/{held}"), Some(agent)).0,
        200
    );
    assert_eq!(
        server.json("/api/search?q=category:ap.payment_inquiry", agent)["total_threads"],
        0
    );
    let after = server.json("/api/retention", auditor);
    assert_eq!(after["due"], 0);
    assert_eq!(after["messages"].as_u64().unwrap(), total - due);
    // Releasing the hold makes the statement due next time.
    assert_eq!(
        server
            .request(
                "DELETE",
                &format!("/api/threads/{held}/hold"),
                Some(admin),
                b""
            )
            .0,
        200
    );
    assert!(
        server.json("/api/retention", auditor)["due"]
            .as_u64()
            .unwrap()
            >= 1
    );
}

/// openssl in a directory: a CA and certificates it signs.
fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "openssl {args:?}");
}

fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

fn make_cert(dir: &Path, ca: &str, name: &str, ext: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

#[test]
fn mtls_client_certificates_registered_as_callers_get_their_role() {
    let (dir, data, _tokens) = setup();
    let pki = dir.path();
    make_ca(pki, "ca");
    make_ca(pki, "rogue-ca");
    make_cert(
        pki,
        "ca",
        "server",
        "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n",
    );
    make_cert(pki, "ca", "erp", "extendedKeyUsage=clientAuth\n");
    make_cert(pki, "ca", "stranger", "extendedKeyUsage=clientAuth\n");
    make_cert(pki, "rogue-ca", "rogue", "extendedKeyUsage=clientAuth\n");
    let out = deskmail(&[
        "token",
        "create",
        "--data",
        data.to_str().unwrap(),
        "--role",
        "integration",
        "--name",
        "erp-bridge",
        "--client-cert",
        pki.join("erp.pem").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = |n: &str| pki.join(n).to_str().unwrap().to_string();
    let server = Server::start_with(
        &data,
        &[
            "--tls-cert",
            &p("server.pem"),
            "--tls-key",
            &p("server.key"),
            "--client-ca",
            &p("ca.pem"),
        ],
    );
    let call = |path: &str, client: Option<&str>| -> String {
        let out = Command::new("python3")
            .args([
                "-c",
                "import ssl,sys,urllib.request,urllib.error\n\
                 ctx=ssl.create_default_context(cafile=sys.argv[1])\n\
                 if sys.argv[3]: ctx.load_cert_chain(sys.argv[3]+'.pem', sys.argv[3]+'.key')\n\
                 try:\n  print(urllib.request.urlopen(sys.argv[2], context=ctx).status)\n\
                 except urllib.error.HTTPError as e:\n  print(e.code)\n\
                 except Exception as e:\n  print('refused', type(e).__name__)",
                &p("ca.pem"),
                &format!("https://localhost:{}{path}", server.port),
                &client.map(p).unwrap_or_default(),
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // The registered certificate is the integration caller: search yes, mail content no.
    assert_eq!(call("/api/search?q=invoice", Some("erp")), "200");
    assert_eq!(call("/api/messages/abc", Some("erp")), "403");
    // A valid certificate nobody registered, or none at all: no caller.
    assert_eq!(call("/api/search?q=invoice", Some("stranger")), "401");
    assert_eq!(call("/api/search?q=invoice", None), "401");
    assert_eq!(call("/api/health", None), "200");
    // A certificate from another CA does not get through the handshake.
    assert!(call("/api/health", Some("rogue")).starts_with("refused"));
}

/// The daemon serves the API itself: mail dropped while it runs is searchable through it, and
/// an erasure goes through the daemon's own index writer.
#[test]
fn the_daemon_serves_the_api_and_erases_through_its_own_index_writer() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let drop = dir.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    let admin = create_token(&data, Role::Admin, "admin-1");
    let config = dir.path().join("deskmail.toml");
    std::fs::write(
        &config,
        format!(
            "data = \"{}\"\n[[drop_folder]]\nname = \"uploads\"\npath = \"{}\"\ninterval_secs = 1\n[api]\nlisten = \"127.0.0.1:0\"\n",
            data.display(),
            drop.display()
        ),
    )
    .unwrap();
    let mut child = bin()
        .args(["run", "--config", config.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    let server = Server { child, port };
    std::fs::copy(
        fixtures().join("ap/invoice-en-us-plain-text-net30.eml"),
        drop.join("a.eml"),
    )
    .unwrap();
    let start = std::time::Instant::now();
    while server.json("/api/search?q=invoice:INV-20417", &admin)["total_threads"] != 1 {
        assert!(
            start.elapsed().as_secs() < 15,
            "not searchable through the daemon's API"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // A correction in review goes through the daemon's own index writer: search sees it.
    std::fs::copy(
        fixtures().join("ap/invoice-ch-de-chf-apostrophe-grouping.eml"),
        drop.join("b.eml"),
    )
    .unwrap();
    let queued = || {
        server.json("/api/review", &admin)["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["subject"].as_str().unwrap().contains("CH-26-00871"))
            .map(|i| i["message_id"].as_str().unwrap().to_string())
    };
    while queued().is_none() {
        assert!(
            start.elapsed().as_secs() < 15,
            "the doubtful invoice never reached review"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let id = queued().unwrap();
    let (status, _, body) = server.request(
        "POST",
        &format!("/api/review/{id}/correct"),
        Some(&admin),
        br#"{"version": 1, "fields": {"amount_total": "1142.00 CHF"}}"#,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        server.json("/api/search?q=amount:1142%20invoice:CH-26-00871", &admin)["total_threads"],
        1
    );
    let who = "billing@brightline-office.example";
    let (status, _, body) = server.request(
        "POST",
        &format!("/api/contacts/{who}/erase"),
        Some(&admin),
        b"",
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let report: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["erased"], 1);
    assert_eq!(
        server.json("/api/search?q=invoice:INV-20417", &admin)["total_threads"],
        0
    );
    assert_eq!(server.json("/api/stats", &admin)["messages"], 1);
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut server = server;
    assert!(server.child.wait().unwrap().success());
    assert!(audit_verify(&data).status.success());
}

#[test]
fn attachments_download_as_inert_files_with_safe_names() {
    let (dir, data, tokens) = setup();
    let out = deskmail(&[
        "ingest",
        "--data",
        data.to_str().unwrap(),
        fixtures()
            .join("hostile/path-traversal-attachment-names.eml")
            .to_str()
            .unwrap(),
    ]);
    assert!(out.status.success());
    let _ = dir;
    let server = Server::start(&data);
    let agent = &tokens[&Role::Agent];
    let hits = server.json("/api/search?q=has:attachment&limit=100", agent);
    let mut checked = 0;
    for t in hits["threads"].as_array().unwrap() {
        for mid in t["message_ids"].as_array().unwrap() {
            let mid = mid.as_str().unwrap();
            let msg = server.json(&format!("/api/messages/{mid}"), agent);
            for (n, att) in msg["message"]["attachments"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
            {
                let (status, h, body) =
                    server.get(&format!("/api/messages/{mid}/attachments/{n}"), Some(agent));
                assert_eq!(status, 200);
                assert_eq!(h["content-type"], "application/octet-stream");
                let disposition = &h["content-disposition"];
                assert!(
                    disposition.starts_with("attachment; filename=\""),
                    "{disposition}"
                );
                let name = disposition
                    .trim_start_matches("attachment; filename=\"")
                    .trim_end_matches('"');
                assert!(
                    !name.contains('/') && !name.contains("..") && !name.starts_with('.'),
                    "{name}"
                );
                use sha2::Digest;
                assert_eq!(
                    hex::encode(sha2::Sha256::digest(&body)),
                    att["sha256"].as_str().unwrap()
                );
                checked += 1;
            }
            let count = msg["message"]["attachments"].as_array().unwrap().len();
            assert_eq!(
                server
                    .get(
                        &format!("/api/messages/{mid}/attachments/{count}"),
                        Some(agent)
                    )
                    .0,
                404
            );
        }
    }
    assert!(checked >= 5, "{checked}");
}

/// Security finding 2: the limiter locked out valid tokens, counted missing tokens and ignored
/// X-Forwarded-For, so one client behind a proxy locked out the whole desk.
#[test]
fn finding2_one_client_behind_a_proxy_cannot_lock_out_the_desk() {
    let (_dir, data, tokens) = setup();
    // Missing tokens are not guesses: a page loading before its token is not locked out.
    let plain = Server::start(&data);
    for _ in 0..15 {
        assert_eq!(plain.get("/api/stats", None).0, 401);
    }
    assert_eq!(plain.get("/api/stats", Some("dm_a1")).0, 401, "not blocked");
    drop(plain);

    let server = Server::start_with(&data, &["--trusted-proxy", "127.0.0.0/8"]);
    let from = |client: &str, token: &str| {
        server
            .request_with(
                "GET",
                "/api/stats",
                Some(token),
                &[("X-Forwarded-For", client)],
                b"",
            )
            .0
    };
    for i in 0..10 {
        assert_eq!(from("203.0.113.7", &format!("dm_{i}x")), 401);
    }
    assert_eq!(from("203.0.113.7", "dm_zz"), 429, "the guesser waits");
    assert_eq!(
        from("198.51.100.4", "dm_yy"),
        401,
        "a colleague behind the proxy does not"
    );
    assert_eq!(
        from("203.0.113.7", &tokens[&Role::Admin]),
        200,
        "a valid token never waits"
    );
    // A client naming itself in the header without a trusted proxy is the peer, as before.
    drop(server);
    let direct = Server::start(&data);
    for i in 0..10 {
        let status = direct
            .request_with(
                "GET",
                "/api/stats",
                Some(&format!("dm_{i}q")),
                &[("X-Forwarded-For", &format!("192.0.2.{i}"))],
                b"",
            )
            .0;
        assert_eq!(status, 401);
    }
    assert_eq!(direct.get("/api/stats", Some("dm_last")).0, 429);
}

/// Security finding 3: every refused request stored its full path and query (up to ~64 KB) in
/// the audit log, so anyone could grow the store without a token.
#[test]
fn finding3_refused_requests_cannot_grow_the_audit_log() {
    let (_dir, data, tokens) = setup();
    let server = Server::start(&data);
    let before = server.json("/api/audit?limit=5000", &tokens[&Role::Auditor])["records"]
        .as_array()
        .unwrap()
        .len();
    let long = format!("/api/search?q={}", "a".repeat(60_000));
    for i in 0..50 {
        let token = if i % 2 == 0 { None } else { Some("dm_wrong") };
        let status = server.get(&long, token).0;
        assert!(status == 401 || status == 429, "{status}");
    }
    let records = server.json("/api/audit?limit=5000", &tokens[&Role::Auditor])["records"]
        .as_array()
        .unwrap()
        .clone();
    let new: Vec<&Value> = records[before..].iter().collect();
    // One record for the refusals of that minute, then the auditor's own read.
    let refusals: Vec<&&Value> = new.iter().filter(|r| r["role"].is_null()).collect();
    assert_eq!(refusals.len(), 1, "{new:#?}");
    let target = refusals[0]["targets"][0].as_str().unwrap();
    assert!(
        target.len() < 400,
        "target kept whole: {} bytes",
        target.len()
    );
    assert!(target.ends_with("bytes)"), "{target}");
}

/// Security finding 5: idle and half-sent requests held connections forever, and with file
/// handles gone the accept loop spun a core. HEAD on a GET route was 403.
#[test]
fn finding5_idle_and_half_sent_connections_are_dropped_and_head_is_answered() {
    let (_dir, data, _tokens) = setup();
    let server = Server::start(&data);
    let (status, _, body) = server.request("HEAD", "/api/health", None, b"");
    assert_eq!(status, 200);
    assert!(body.is_empty());
    let idle = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let mut half = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    half.write_all(b"GET /api/health HTTP/1.1\r\nHost: local")
        .unwrap();
    let started = std::time::Instant::now();
    for mut s in [idle, half] {
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        assert!(
            !String::from_utf8_lossy(&buf).contains("200 OK"),
            "answered a half request"
        );
    }
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(20),
        "connections held {took:?} (the header timeout is 10 s)"
    );
}

/// Security finding 5, the other half: out of file handles, the accept loop retried at once and
/// burned a core while `/api/health` timed out. Now it pauses, and once the idle connections
/// are dropped the server answers again.
#[test]
fn finding5_out_of_file_handles_the_server_pauses_instead_of_spinning() {
    let (_dir, data, _tokens) = setup();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("ulimit -n 48; exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_deskmail"))
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .current_dir(common::root());
    let server = Server::spawn(command);
    let port = server.port;
    let cpu = || {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", server.child.id())).unwrap();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        // utime and stime, in clock ticks (100 per second on Linux).
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    };
    let idle: Vec<TcpStream> = (0..80)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    assert!(
        idle.len() > 48,
        "the kernel's backlog takes them: {}",
        idle.len()
    );
    let before = cpu();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let burned = cpu() - before;
    assert!(
        burned < 100,
        "{burned} ticks of CPU in 3 s with handles exhausted"
    );
    // The header timeout frees the handles; then a fresh request is answered.
    let started = std::time::Instant::now();
    loop {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        s.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        if buf.starts_with(b"HTTP/1.1 200") {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(40),
            "health never answered after the idle connections timed out"
        );
    }
    drop(idle);
}

/// Security finding 4: with no key and the head counter in the same sled tree, someone who can
/// write the store could rewrite record 2 and re-chain, or drop the newest records and lower
/// the counter, and `audit verify` passed; and it could not run beside a live server.
#[test]
fn finding4_a_rewritten_or_truncated_audit_log_is_caught_by_its_key_and_anchors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = dir.path().join("audit.key");
    std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
    let run = |args: &[&str]| {
        bin()
            .env("DESKMAIL_AUDIT_KEY_FILE", &key)
            .args(args)
            .output()
            .unwrap()
    };
    let d = data.to_str().unwrap();
    for i in 0..5 {
        let name = format!("t{i}");
        let out = run(&[
            "token", "create", "--data", d, "--role", "auditor", "--name", &name,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let ok = run(&["audit", "verify", "--data", d]);
    let text = String::from_utf8_lossy(&ok.stdout).to_string();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        text.contains("intact: 5 records; every MAC checked"),
        "{text}"
    );
    // A verified head is anchored: the next verification checks against it.
    let again = String::from_utf8_lossy(&run(&["audit", "verify", "--data", d]).stdout).to_string();
    assert!(
        again.contains("newest at record 5"),
        "verify anchors the head: {again}"
    );
    // Without the key a keyed log cannot be vouched for, nor written to.
    let keyless = deskmail(&["audit", "verify", "--data", d]);
    assert_eq!(keyless.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&keyless.stderr).contains("DESKMAIL_AUDIT_KEY_FILE"));

    let seq_key = audit_key;
    let with_tree = |f: &dyn Fn(&fjall::Keyspace)| with_store_tree(&data, f);
    let saved: Vec<Vec<u8>> = {
        let (_db, tree) = open_kv(&data);
        (1..=5)
            .map(|n| tree.get(seq_key(n)).unwrap().unwrap().to_vec())
            .collect()
    };
    // Record 2 rewritten and everything after it re-chained, as a store writer without the key.
    with_tree(&|tree| {
        let mut prev = String::new();
        for n in 1..=5u64 {
            let mut r: deskmail::audit::AuditRecord =
                serde_json::from_slice(&tree.get(seq_key(n)).unwrap().unwrap()).unwrap();
            if n == 2 {
                r.entry.actor = "someone-else".into();
            }
            r.prev = prev.clone();
            r.hash = r.compute_hash();
            prev = r.hash.clone();
            tree.insert(seq_key(n), serde_json::to_vec(&r).unwrap())
                .unwrap();
        }
    });
    let broken = run(&["audit", "verify", "--data", d]);
    assert_eq!(broken.status.code(), Some(1));
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(
        err.contains("audit record 2: its MAC does not match"),
        "{err}"
    );
    // Restored, then the newest two dropped and the counter lowered to match.
    with_tree(&|tree| {
        for (i, v) in saved.iter().enumerate() {
            tree.insert(seq_key(i as u64 + 1), v.clone()).unwrap();
        }
        tree.remove(seq_key(5)).unwrap();
        tree.remove(seq_key(4)).unwrap();
        tree.insert(b"c/audit", 3u64.to_be_bytes().to_vec())
            .unwrap();
    });
    let cut = run(&["audit", "verify", "--data", d]);
    assert_eq!(cut.status.code(), Some(1));
    let err = String::from_utf8_lossy(&cut.stderr);
    assert!(err.contains("removed from the end"), "{err}");
}

/// Finding 4's other half: an auditor checks the chain of a live server (the store is held,
/// so `deskmail audit verify` could not open it).
#[test]
fn finding4_the_audit_chain_is_verified_on_a_live_server() {
    let (_dir, data, tokens) = setup();
    let server = Server::start(&data);
    let v = server.json("/api/audit/verify", &tokens[&Role::Auditor]);
    assert_eq!(v["intact"], true, "{v}");
    assert!(v["records"].as_u64().unwrap() >= 4, "{v}");
    assert_eq!(
        server
            .get("/api/audit/verify", Some(&tokens[&Role::Agent]))
            .0,
        403
    );
    // The verified head was anchored, next to the store.
    let anchors = std::fs::read_to_string(data.join("audit-anchors.log")).unwrap();
    assert!(anchors.lines().count() >= 1, "{anchors}");
}
