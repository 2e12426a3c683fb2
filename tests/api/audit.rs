//! The audit log: edits, removals, reordering, rewrites and truncation caught; refused requests do not grow it; a live server's chain verified.

use super::*;

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
