//! Issue 17 finding 7 (erased metadata survived in the store engine's files) and what fixed it:
//! records and raw messages sealed under per-record data keys, erasure shredding them; the master
//! key from a file; and data directories written by earlier releases (fixtures/legacy, made by
//! scripts/make-legacy-store.sh: format 1 before encryption, format 2 before message records moved
//! to the blob log, format 3 the last in sled, format 5 the last with ids in hex in the engine's
//! keys, issue 14) migrated keeping every message, decision, thread and audit record; a newer
//! format refused.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

mod common;
use common::{bin, fixtures, root, stdout_of};

const ADDRESS: &str = "crediteuren@visser-groothandel.example";

/// `deskmail ARGS --data DATA`, `--data` right after the (sub)command: `search` takes the
/// rest as query words.
fn cmd(data: &Path, args: &[&str]) -> std::process::Command {
    let at = if matches!(args[0], "audit" | "keys" | "bench") {
        2
    } else {
        1
    };
    let mut c = bin();
    c.args(&args[..at])
        .arg("--data")
        .arg(data)
        .args(&args[at..]);
    c
}

fn run(data: &Path, args: &[&str]) -> Output {
    cmd(data, args)
        .env_remove("DESKMAIL_STORE_KEY_FILE")
        .env_remove("DESKMAIL_STORE_KEY_COMMAND")
        .output()
        .expect("deskmail runs")
}

fn ok(out: Output) -> String {
    stdout_of(&out)
}

/// Every file below `dir` whose bytes contain `needle` (case as given).
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
            {
                found.push(p);
            }
        }
    }
    found
}

fn hits(data: &Path, query: &str) -> usize {
    let v: Value = serde_json::from_str(&ok(run(data, &["search", "--json", query]))).unwrap();
    v["threads"].as_array().map_or(0, Vec::len)
}

#[test]
fn finding_7_erased_metadata_is_unreadable_in_the_store_files_and_gone_from_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(run(&data, &["ingest", fixtures().to_str().unwrap()]));
    let store = data.join("store");
    // At rest, before any erasure: the person's address and subjects are sealed. (Their
    // company's name stays: other people's messages name it too.)
    let needles = [
        ADDRESS,
        "Copy of invoice OC-2026-1034",
        "Betalingsbevestiging factuur OC-2026-1006",
    ];
    for n in needles {
        assert_eq!(files_containing(&store, n), Vec::<PathBuf>::new(), "{n}");
    }
    assert!(hits(&data, &format!("from:{ADDRESS}")) > 0);
    ok(run(&data, &["erase", ADDRESS]));
    // The store files, the blob log and the index: nothing of it in any byte, and no index
    // segment still holding deleted documents (their words would stay until a merge).
    for n in needles {
        assert_eq!(files_containing(&data, n), Vec::<PathBuf>::new(), "{n}");
    }
    let meta: Value =
        serde_json::from_slice(&std::fs::read(data.join("index/meta.json")).unwrap()).unwrap();
    for seg in meta["segments"].as_array().unwrap() {
        assert!(
            seg["deletes"].is_null(),
            "a segment keeps deleted documents: {seg}"
        );
    }
    assert_eq!(hits(&data, &format!("from:{ADDRESS}")), 0);
    // What was not erased still reads, in a new process.
    assert!(hits(&data, "invoice") > 0);
    ok(run(&data, &["audit", "verify"]));
}

#[test]
fn the_master_key_comes_from_a_key_file_and_another_key_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (k1, k2) = (dir.path().join("k1"), dir.path().join("k2"));
    std::fs::write(&k1, "11".repeat(32)).unwrap();
    std::fs::write(&k2, "22".repeat(32)).unwrap();
    let with = |key: &Path, args: &[&str]| {
        bin()
            .args(args)
            .arg("--data")
            .arg(&data)
            .env("DESKMAIL_STORE_KEY_FILE", key)
            .output()
            .unwrap()
    };
    ok(with(&k1, &["ingest", fixtures().to_str().unwrap()]));
    assert!(
        !data.join("store/master.key").exists(),
        "an external key is not copied into the data directory"
    );
    let refused = with(&k2, &["stats"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("sealed with another key"), "{err}");
    assert!(!err.contains(&"22".repeat(32)), "the key is never printed");
    let stats: Value = serde_json::from_str(&ok(with(&k1, &["stats", "--json"]))).unwrap();
    assert!(stats["messages"].as_u64().unwrap() > 90, "{stats}");
}

/// The data directory an earlier release wrote (`store-format{format}.tar.zst`) opened by this
/// one: every message, decision, thread, the erasure and the audit chain as that release
/// printed them; nothing in clear; the store in the current format. The migrated directory.
fn migrates_keeping_everything(format: u32, data: &Path) {
    let legacy = root().join("fixtures/legacy");
    let expected = expected_of(format);
    std::fs::create_dir_all(data).unwrap();
    let untar = std::process::Command::new("tar")
        .arg("--zstd")
        .arg("-xf")
        .arg(legacy.join(format!("store-format{format}.tar.zst")))
        .arg("-C")
        .arg(data)
        .status()
        .unwrap();
    assert!(untar.success());
    let subject = expected["messages"]
        .as_object()
        .unwrap()
        .values()
        .map(|m| m["message"]["subject"].as_str().unwrap_or_default())
        .find(|s| s.len() > 12)
        .unwrap()
        .to_string();
    assert_eq!(
        !files_containing(&data.join("store"), &subject).is_empty(),
        format == 1,
        "format 1 is in clear, format 2 sealed"
    );

    let stats: Value = serde_json::from_str(&ok(run(data, &["stats", "--json"]))).unwrap();
    assert_eq!(stats, expected["stats"]);
    assert!(data.join("store/keyring").exists());
    assert!(!data.join("store.migrating").exists() && !data.join("store.old").exists());
    assert_eq!(
        files_containing(&data.join("store"), &subject),
        Vec::<PathBuf>::new(),
        "migrated records and raw messages are sealed, and the clear copies are gone"
    );
    for (id, want) in expected["messages"].as_object().unwrap() {
        let mut got: Value = serde_json::from_str(&ok(run(data, &["show", "--json", id]))).unwrap();
        got.as_object_mut().unwrap().remove("raw");
        assert_eq!(&got, want, "message {id}");
    }
    for (id, want) in expected["threads"].as_object().unwrap() {
        let got: Value = serde_json::from_str(&ok(run(data, &["thread", "--json", id]))).unwrap();
        assert_eq!(&got, want, "thread {id}");
    }
    let audit = ok(run(data, &["audit", "verify"]));
    assert!(audit.contains("intact: 2 records"), "{audit}");
    // A data-protection export opens every invoice record (`v/`: renamed and sealed again,
    // bound to its new key, from formats 2 and 3).
    let export = data.with_extension("export.tar");
    let out = ok(run(
        data,
        &[
            "export",
            "--out",
            export.to_str().unwrap(),
            "billing@brightline-office.example",
        ],
    ));
    assert!(export.metadata().unwrap().len() > 0, "{out}");
    // The erased message stays erased (its tombstone was carried over), and the index rebuilds
    // from the migrated store.
    let again: Value = serde_json::from_str(&ok(run(
        data,
        &["ingest", "--json", fixtures().to_str().unwrap()],
    )))
    .unwrap();
    assert_eq!(again["ingested"], 0, "{again}");
    ok(run(data, &["reindex"]));
    let erased = expected["erased_address"].as_str().unwrap();
    assert_eq!(hits(data, &format!("from:{erased}")), 0);
    assert!(hits(data, "invoice") > 0);
    assert_eq!(
        std::fs::read_to_string(data.join("store/format")).unwrap(),
        "6\n"
    );
    // The records are in the key-value engine now; sled's files went with the old directory.
    assert!(data.join("store/kv").is_dir());
    for sled_file in ["db", "conf"] {
        assert!(!data.join("store").join(sled_file).exists(), "{sled_file}");
    }
    assert_records_in_blobs(data);
}

/// What the release of `format` printed about its data directory (format 5's release names
/// some threads after their subject, so its thread ids differ from the earlier ones').
fn expected_of(format: u32) -> Value {
    let name = match format {
        1..=3 => "expected.json".to_string(),
        _ => format!("expected-format{format}.json"),
    };
    let path = root().join("fixtures/legacy").join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Bytes every file under `dir` takes on disk (a sparse file: its written blocks).
fn dir_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| match e.file_type().unwrap().is_dir() {
            true => dir_bytes(&e.path()),
            false => {
                let m = e.metadata().unwrap();
                m.len().min(m.blocks() * 512)
            }
        })
        .sum()
}

/// Every message record lives in the blob log: the key-value engine holds only where it is
/// (15 bytes since format 6, 25 before: a migration or a restore writes the short form).
/// And every thread's members are `j/` records.
fn assert_records_in_blobs(data: &Path) {
    let usage: Value = serde_json::from_str(&ok(run(data, &["bench", "store", "--json"]))).unwrap();
    let m = &usage["spaces"]["m"];
    assert!(m["records"].as_u64().unwrap() > 90, "{usage}");
    assert_eq!(m["max_value"], 15, "{usage}");
    // Message-ID entries, the ingest log and thread members in their binary form (format 4):
    // a thread id and a message id in 27 bytes, a message id in 18 (JSON and hex took 74, 32).
    assert_eq!(usage["spaces"]["i"]["max_value"], 27, "{usage}");
    for space in ["q", "j"] {
        assert_eq!(usage["spaces"][space]["max_value"], 18, "{space}: {usage}");
    }
    // Named keys hold their HMAC name in 16 bytes (`i/` + 16), where formats 2 and 3 had 32
    // hex digits; a vendor's invoice records (`v/`, sealed and bound to their key) too.
    // The ids that start the keys of messages, threads and members are kept in bytes too
    // (format 6): `m/` + 16 (was 32 hex digits), `t/` + 8 (16), `j/` + 8 + the log number
    // (16 hex digits, a separator and the log number).
    for (space, key_bytes) in [
        ("i", 18),
        ("s", 18),
        ("v", 18),
        ("m", 18),
        ("t", 10),
        ("j", 18),
    ] {
        let u = &usage["spaces"][space];
        let records = u["records"].as_u64().unwrap();
        assert!(records > 0, "{space}: {usage}");
        assert_eq!(
            u["key_bytes"].as_u64(),
            Some(records * key_bytes),
            "{space}: {usage}"
        );
    }
    // The engine's files and the blob log counted apart (the records are in the log).
    let kv = dir_bytes(&data.join("store/kv"));
    let counted = usage["kv_bytes"].as_u64().unwrap();
    assert!(counted > 0 && counted <= kv, "{usage} {kv}");
    assert!(counted + (1 << 20) > kv, "{usage} {kv}");
    assert!(usage["blob_bytes"].as_u64().unwrap() > 0, "{usage}");
    // A thread's members are records of their own, one per stored message.
    let stats: Value = serde_json::from_str(&ok(run(data, &["stats", "--json"]))).unwrap();
    assert_eq!(
        usage["spaces"]["j"]["records"], stats["messages"],
        "{usage}"
    );
}

#[test]
fn a_store_from_before_encryption_is_migrated_keeping_every_message_decision_thread_and_audit_record()
 {
    let dir = tempfile::tempdir().unwrap();
    migrates_keeping_everything(1, &dir.path().join("data"));
}

#[test]
fn a_sled_store_of_format_3_moves_into_the_key_value_engine_keeping_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    migrates_keeping_everything(3, &data);
    // The migrated store takes new mail and reopens with it (the engine, not sled, has it).
    ok(run(&data, &["erase", "billing@brightline-office.example"]));
    let stats: Value = serde_json::from_str(&ok(run(&data, &["stats", "--json"]))).unwrap();
    assert!(stats["messages"].as_u64().unwrap() > 80, "{stats}");
    // The fixture's two records, the export's and the erasure's.
    assert!(ok(run(&data, &["audit", "verify"])).contains("intact: 4 records"));
}

#[test]
fn a_store_with_message_records_in_sled_moves_them_to_the_blob_log_keeping_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    migrates_keeping_everything(2, &data);
    // The moved records are still the ones sealed under their own data keys: erasing a contact
    // after the migration shreds them, and the migrated store opens again unchanged.
    let before: Value = serde_json::from_str(&ok(run(&data, &["stats", "--json"]))).unwrap();
    let keys: Value = serde_json::from_str(&ok(run(&data, &["keys", "status", "--json"]))).unwrap();
    ok(run(&data, &["erase", "billing@brightline-office.example"]));
    let after: Value =
        serde_json::from_str(&ok(run(&data, &["keys", "status", "--json"]))).unwrap();
    assert!(
        after["destroyed"].as_u64() > keys["destroyed"].as_u64(),
        "{keys} {after}"
    );
    let stats: Value = serde_json::from_str(&ok(run(&data, &["stats", "--json"]))).unwrap();
    assert!(stats["messages"].as_u64() < before["messages"].as_u64());
}

/// The previous release's store (fjall, ids in hex in the keys) is copied into keys with the
/// ids in bytes: everything the release printed reads the same, the keys are the short ones,
/// and the store takes new mail, erases and reopens.
#[test]
fn a_store_of_format_5_keeps_everything_when_its_ids_move_into_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    migrates_keeping_everything(5, &data);
    // New mail lands beside the migrated mail and an erasure finds both.
    let before: Value = serde_json::from_str(&ok(run(&data, &["stats", "--json"]))).unwrap();
    let more = dir.path().join("more");
    std::fs::create_dir_all(&more).unwrap();
    std::fs::write(
        more.join("new.eml"),
        "From: billing@brightline-office.example\nTo: ap@desk.example\nMessage-ID: <after-6@x>\nSubject: Invoice after the migration\n\nInvoice 42.\n",
    )
    .unwrap();
    ok(run(&data, &["ingest", more.to_str().unwrap()]));
    let after: Value = serde_json::from_str(&ok(run(&data, &["stats", "--json"]))).unwrap();
    assert_eq!(
        after["messages"].as_u64().unwrap(),
        before["messages"].as_u64().unwrap() + 1
    );
    ok(run(&data, &["erase", "billing@brightline-office.example"]));
    assert_eq!(hits(&data, "from:billing@brightline-office.example"), 0);
    let stats: Value = serde_json::from_str(&ok(run(&data, &["stats", "--json"]))).unwrap();
    assert!(
        stats["messages"].as_u64() < before["messages"].as_u64(),
        "{stats}"
    );
}

#[test]
fn a_backup_archive_of_format_5_restores_with_ids_in_bytes() {
    let data = restores_into_the_current_format(5);
    assert_records_in_blobs(&data.path().join("restored"));
}

#[test]
fn a_store_from_a_newer_release_is_refused_with_the_formats_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(run(&data, &["ingest", fixtures().to_str().unwrap()]));
    std::fs::write(data.join("store/format"), "7\n").unwrap();
    let refused = run(&data, &["stats"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("format 7") && err.contains("up to 6"), "{err}");
}

#[test]
fn keys_rotate_rewraps_the_data_keys_under_a_new_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(run(&data, &["ingest", fixtures().to_str().unwrap()]));
    let status: Value =
        serde_json::from_str(&ok(run(&data, &["keys", "status", "--json"]))).unwrap();
    assert!(
        status["master_key"]
            .as_str()
            .unwrap()
            .contains("master.key"),
        "{status}"
    );
    assert!(status["data_keys"].as_u64().unwrap() > 90, "{status}");
    ok(run(&data, &["erase", ADDRESS]));
    let after: Value =
        serde_json::from_str(&ok(run(&data, &["keys", "status", "--json"]))).unwrap();
    assert!(after["destroyed"].as_u64().unwrap() >= 2, "{after}");

    let new_key = dir.path().join("new.key");
    std::fs::write(&new_key, "33".repeat(32)).unwrap();
    let rotated = ok(run(
        &data,
        &[
            "keys",
            "rotate",
            "--new-key-file",
            new_key.to_str().unwrap(),
        ],
    ));
    assert!(rotated.contains("DESKMAIL_STORE_KEY_FILE="), "{rotated}");
    assert!(
        !data.join("store/master.key").exists(),
        "the old key is removed"
    );
    let refused = run(&data, &["stats"]);
    assert!(
        !refused.status.success(),
        "the old (or a new default) key no longer opens it"
    );
    let with_new = |args: &[&str]| {
        cmd(&data, args)
            .env("DESKMAIL_STORE_KEY_FILE", &new_key)
            .output()
            .unwrap()
    };
    let search: Value =
        serde_json::from_str(&ok(with_new(&["search", "--json", "invoice"]))).unwrap();
    let thread = search["threads"][0]["thread_id"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = ok(with_new(&["thread", &thread]));
    assert!(shown.contains("messages"), "{shown}");
    let kept: Value = serde_json::from_str(&ok(with_new(&["keys", "status", "--json"]))).unwrap();
    assert_eq!(kept["destroyed"], after["destroyed"]);
}

#[test]
fn a_backup_archive_from_before_encryption_restores_into_the_sealed_format() {
    restores_into_the_current_format(1);
}

#[test]
fn a_backup_archive_with_message_records_in_sled_restores_with_them_in_the_blob_log() {
    let data = restores_into_the_current_format(2);
    assert_records_in_blobs(&data.path().join("restored"));
}

#[test]
fn a_backup_archive_of_a_sled_store_restores_into_the_key_value_engine() {
    let data = restores_into_the_current_format(3);
    let restored = data.path().join("restored");
    assert!(!restored.join("store/db").exists());
    assert_records_in_blobs(&restored);
}

/// The backup archive an earlier release wrote, restored: the same counts and messages,
/// nothing in clear, Message-IDs recognised, the audit chain intact. The restored directory's
/// parent.
fn restores_into_the_current_format(format: u32) -> tempfile::TempDir {
    let legacy = root().join("fixtures/legacy");
    let expected = expected_of(format);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("restored");
    ok(bin()
        .args(["restore", "--data"])
        .arg(&data)
        .arg(legacy.join(format!("backup-format{format}.tar.zst")))
        .env_remove("DESKMAIL_STORE_KEY_FILE")
        .output()
        .unwrap());
    assert!(data.join("store/keyring").exists());
    let stats: Value = serde_json::from_str(&ok(run(&data, &["stats", "--json"]))).unwrap();
    assert_eq!(stats, expected["stats"]);
    let (id, want) = expected["messages"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    let got: Value = serde_json::from_str(&ok(run(&data, &["show", "--json", id]))).unwrap();
    assert_eq!(&got, want);
    let subject = want["message"]["subject"].as_str().unwrap();
    assert_eq!(
        files_containing(&data.join("store"), subject),
        Vec::<PathBuf>::new()
    );
    // Message-IDs were re-keyed with the restore: the same mail is recognised, not stored again.
    let again: Value = serde_json::from_str(&ok(run(
        &data,
        &["ingest", "--json", fixtures().to_str().unwrap()],
    )))
    .unwrap();
    assert_eq!(again["ingested"], 0, "{again}");
    let audit = ok(run(&data, &["audit", "verify"]));
    assert!(audit.contains("intact"), "{audit}");
    dir
}

/// `deskmail compact`: the store rewritten in key order into a fresh engine keeps every
/// message, decision, thread, tombstone and audit record, is no larger, and the erased address
/// is in none of its files (the old versions went with the old files).
#[test]
fn compact_rewrites_the_store_keeping_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(run(&data, &["ingest", fixtures().to_str().unwrap()]));
    ok(run(&data, &["erase", ADDRESS]));
    let expected: Value = serde_json::from_slice(
        &std::fs::read(root().join("fixtures/legacy/expected.json")).unwrap(),
    )
    .unwrap();
    let ids: Vec<&String> = expected["messages"].as_object().unwrap().keys().collect();
    let shown = |data: &Path| -> Vec<String> {
        ids.iter()
            .map(|id| {
                let out = run(data, &["show", "--json", id]);
                String::from_utf8_lossy(&out.stdout).into_owned()
            })
            .collect()
    };
    let before = shown(&data);
    let stats = ok(run(&data, &["stats", "--json"]));
    let db = || dir_bytes(&data.join("store/kv"));
    let db_before = db();

    let done: Value = serde_json::from_str(&ok(run(&data, &["compact", "--json"]))).unwrap();
    assert!(done["records"].as_u64().unwrap() > 500, "{done}");
    assert_eq!(done["kv_bytes_before"], db_before);
    assert_eq!(done["kv_bytes_after"], db());
    // A store this small is all journal; the copy's is framed in fewer, larger batches, so
    // only a copy that kept extra versions or records would be much larger.
    assert!(db() <= db_before + db_before / 10, "{done}");
    assert!(!data.join("store.migrating").exists() && !data.join("store.old").exists());
    assert_eq!(shown(&data), before);
    assert_eq!(ok(run(&data, &["stats", "--json"])), stats);
    assert!(ok(run(&data, &["audit", "verify"])).contains("intact"));
    assert_eq!(
        files_containing(&data.join("store"), ADDRESS),
        Vec::<PathBuf>::new()
    );
    assert_records_in_blobs(&data);
    // Message-IDs and tombstones came along: the same mail is not stored again.
    let again: Value = serde_json::from_str(&ok(run(
        &data,
        &["ingest", "--json", fixtures().to_str().unwrap()],
    )))
    .unwrap();
    assert_eq!(again["ingested"], 0, "{again}");
}
