//! Data protection and retention through the API, the daemon serving the API with its own index writer, attachments as inert downloads.

use super::*;

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
    let mut run = bin();
    run.args(["run", "--config", config.to_str().unwrap()]);
    let server = Server::spawn(run);
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
