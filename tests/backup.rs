//! `deskmail backup` and `deskmail restore`, end to end with the built binary: a restored
//! directory answers like the original (stats, searches, show, audit chain, outbox,
//! receivables); damaged archives and non-empty targets are refused with nothing left behind;
//! backups taken while the daemon commits (from a drop folder, and from a real Dovecot) are
//! consistent, and the IMAP cursors come along so a restored desk downloads nothing twice.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::dovecot::Dovecot;
use common::{bin, fixtures, json_of, stdout_of};

fn run(key: Option<&Path>, args: &[&str]) -> Output {
    let mut c = bin();
    if let Some(k) = key {
        c.env("DESKMAIL_AUDIT_KEY_FILE", k);
    }
    c.args(args).output().expect("deskmail runs")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stats(data: &Path) -> Value {
    json_of(&run(None, &["stats", "--json", "--data", s(data)]))
}

fn backup(key: Option<&Path>, data: &Path, out: &Path) -> String {
    stdout_of(&run(key, &["backup", "--data", s(data), s(out)]))
}

fn restore(archive: &Path, target: &Path) -> Output {
    run(None, &["restore", "--data", s(target), s(archive)])
}

/// The threads a query finds, as (thread id, message count), in a stable order.
fn hits(data: &Path, q: &str) -> (u64, Vec<(String, u64)>) {
    let v = json_of(&run(
        None,
        &["search", "--json", "--limit", "1000", "--data", s(data), q],
    ));
    let mut threads: Vec<(String, u64)> = v["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["thread_id"].as_str().unwrap().to_string(),
                t["message_count"].as_u64().unwrap(),
            )
        })
        .collect();
    threads.sort();
    (v["total_threads"].as_u64().unwrap(), threads)
}

/// What a restored (or any stopped) data directory holds, checked message by message with the
/// library: every stored message has its raw bytes, the log has one entry per message, the
/// index holds exactly them and is caught up. The message count.
fn assert_consistent(data: &Path) -> u64 {
    let messages = {
        let store =
            deskmail::store::Store::open(&data.join("store"), 8 << 20).expect("store opens");
        let mut n = 0u64;
        for m in store.stored_messages() {
            let m = m.unwrap();
            let raw = store.raw_bytes(&m);
            assert!(
                raw.is_ok(),
                "message {} has no blob: {raw:?}",
                m.message.id.0
            );
            n += 1;
        }
        assert_eq!(store.stats().unwrap().messages, n, "counter vs records");
        assert_eq!(
            store.message_ids().count() as u64,
            n,
            "ingest log vs records"
        );
        assert!(store.pending_index().unwrap().is_empty(), "index caught up");
        n
    };
    let index = deskmail::index::MailIndex::open_read_only(&data.join("index")).unwrap();
    assert_eq!(index.num_docs(), messages, "index documents vs messages");
    messages
}

/// No entry under `dir` is open to the group or others.
fn assert_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "{} is {mode:o}", dir.display());
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            assert_private(&p);
        } else {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{} is {mode:o}", p.display());
        }
    }
}

/// Nothing was left beside `target` by a failed restore.
fn assert_nothing_left(target: &Path) {
    assert!(!target.exists(), "{} was created", target.display());
    let parent = target.parent().unwrap();
    let stray: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".restore-"))
        .collect();
    assert!(stray.is_empty(), "left behind: {stray:?}");
}

fn audit_key(dir: &Path) -> PathBuf {
    let key = dir.join("audit.key");
    std::fs::write(&key, format!("{}\n", "5e".repeat(32))).unwrap();
    key
}

#[test]
fn a_restored_desk_answers_like_the_original_and_its_audit_chain_verifies_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    // Receivables, reminders in the outbox, AR mail; then the 102 fixtures and a keyed change.
    let data = common::ar::desk(dir.path());
    let key = audit_key(dir.path());
    stdout_of(&run(
        Some(&key),
        &["ingest", "--data", s(&data), s(&fixtures())],
    ));
    stdout_of(&run(
        Some(&key),
        &[
            "invoices",
            "status",
            "--data",
            s(&data),
            "OC-2026-1040",
            "paid",
        ],
    ));
    let archive = dir.path().join("desk.tar.zst");
    let said = backup(Some(&key), &data, &archive);
    assert!(said.contains("backup written to"), "{said}");
    assert!(
        said.contains("audit MAC key"),
        "says what is not in it: {said}"
    );

    let restored = dir.path().join("restored");
    let said = stdout_of(&restore(&archive, &restored));
    assert!(said.contains("index rebuilt"), "{said}");

    assert_eq!(stats(&restored), stats(&data));
    assert_eq!(stats(&data)["messages"], 99, "the fixtures (3 rejected)");
    for q in [
        "invoice",
        "payment",
        "dispute",
        "remittance",
        "bank details",
    ] {
        let (original, copy) = (hits(&data, q), hits(&restored, q));
        assert!(original.0 > 0, "{q:?} finds something");
        assert_eq!(copy, original, "search {q:?}");
    }
    let ids: Vec<String> = {
        let store = deskmail::store::Store::open(&data.join("store"), 8 << 20).unwrap();
        store.message_ids().take(5).map(|m| m.unwrap().0).collect()
    };
    for id in &ids {
        let show = |d: &Path| stdout_of(&run(None, &["show", "--json", "--data", s(d), id]));
        assert_eq!(show(&restored), show(&data), "show {id}");
    }
    for what in [["outbox", "list"], ["invoices", "list"]] {
        let list = |d: &Path| stdout_of(&run(None, &[what[0], what[1], "--json", "--data", s(d)]));
        assert_eq!(list(&restored), list(&data), "{what:?}");
    }
    assert!(
        !json_of(&run(
            None,
            &["outbox", "list", "--json", "--data", s(&data)]
        ))
        .as_array()
        .unwrap()
        .is_empty()
    );

    // The chain came along whole (keyed records included) and the backup itself is audited in
    // the original; the key did not come along.
    let verify = stdout_of(&run(
        Some(&key),
        &["audit", "verify", "--data", s(&restored)],
    ));
    assert!(verify.contains("audit log intact: 2 records"), "{verify}");
    let keyless = run(None, &["audit", "verify", "--data", s(&restored)]);
    assert!(!keyless.status.success(), "a keyed chain needs the key");
    let original = stdout_of(&run(Some(&key), &["audit", "verify", "--data", s(&data)]));
    assert!(
        original.contains("audit log intact: 3 records"),
        "{original}"
    );
    let log = deskmail::store::Store::open(&data.join("store"), 8 << 20)
        .unwrap()
        .audit_records(1, 10_000)
        .unwrap();
    assert_eq!(log.last().unwrap().entry.action, "backup");
    let mut plain = Vec::new();
    zstd::stream::copy_decode(std::fs::File::open(&archive).unwrap(), &mut plain).unwrap();
    let key_text = std::fs::read_to_string(&key).unwrap();
    assert!(
        !plain.windows(64).any(|w| w == key_text.trim().as_bytes()),
        "the audit key is not in the archive"
    );

    assert_consistent(&restored);
    assert_private(&restored);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&archive).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "archive mode {mode:o}");
}

/// The fixtures ingested into `DIR/data` and backed up to `DIR/good.tar.zst` (returned).
fn fixtures_backed_up(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    stdout_of(&run(None, &["ingest", "--data", s(&data), s(&fixtures())]));
    let archive = dir.join("good.tar.zst");
    backup(None, &data, &archive);
    archive
}

#[test]
fn a_damaged_or_cut_archive_is_refused_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let archive = fixtures_backed_up(dir.path());
    let bytes = std::fs::read(&archive).unwrap();

    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    let cut = bytes[..bytes.len() * 2 / 3].to_vec();
    let no_tail = bytes[..bytes.len() - 8].to_vec();
    for (name, damaged) in [("flipped", flipped), ("cut", cut), ("no-tail", no_tail)] {
        let path = dir.path().join(format!("{name}.tar.zst"));
        std::fs::write(&path, damaged).unwrap();
        let target = dir.path().join(format!("restored-{name}"));
        let out = restore(&path, &target);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains("damaged or incomplete"), "{name}: {err}");
        assert_nothing_left(&target);
    }
    // The good one still restores.
    stdout_of(&restore(&archive, &dir.path().join("restored-good")));
}

/// An archive whose store is of a newer format than this release reads is refused with both
/// numbers, like such a data directory, and the target is left empty.
#[test]
fn an_archive_of_a_newer_store_format_is_refused_with_the_formats_named() {
    let dir = tempfile::tempdir().unwrap();
    let archive = fixtures_backed_up(dir.path());

    // The same members; the manifest names the next store format.
    let newer = dir.path().join("newer.tar.zst");
    let input = zstd::Decoder::new(std::fs::File::open(&archive).unwrap()).unwrap();
    let mut reader = tar::Archive::new(input);
    let output = zstd::Encoder::new(std::fs::File::create(&newer).unwrap(), 3).unwrap();
    let mut writer = tar::Builder::new(output);
    let mut format = None;
    for entry in reader.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        if name.as_os_str() == "manifest.json" {
            let mut manifest: Value = serde_json::from_slice(&bytes).unwrap();
            let next = manifest["store_format"].as_u64().unwrap() + 1;
            manifest["store_format"] = next.into();
            format = Some(next);
            bytes = serde_json::to_vec(&manifest).unwrap();
        }
        let mut header = entry.header().clone();
        header.set_size(bytes.len() as u64);
        header.set_cksum();
        writer.append_data(&mut header, &name, &bytes[..]).unwrap();
    }
    writer.into_inner().unwrap().finish().unwrap();
    let format = format.expect("the archive has a manifest");

    let target = dir.path().join("restored");
    let out = restore(&newer, &target);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&format!("format {format}")) && err.contains(&format!("up to {}", format - 1)),
        "{err}"
    );
    assert_nothing_left(&target);
    // The archive as it was still restores.
    stdout_of(&restore(&archive, &dir.path().join("restored-good")));
}

#[test]
fn restore_refuses_a_directory_that_is_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    stdout_of(&run(None, &["ingest", "--data", s(&data), s(&fixtures())]));
    let archive = dir.path().join("b.tar.zst");
    backup(None, &data, &archive);
    let target = dir.path().join("busy");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep.txt"), "mine").unwrap();
    let out = restore(&archive, &target);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not empty"), "{err}");
    assert_eq!(
        std::fs::read_to_string(target.join("keep.txt")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1);
    // Onto the original data directory, too.
    assert!(!restore(&archive, &data).status.success());
    // An empty directory is fine.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    stdout_of(&restore(&archive, &empty));
    assert_eq!(stats(&empty), stats(&data));
}

/// A distinct vendor invoice, `tag` in every message of a test.
fn invoice(tag: &str, i: usize) -> Vec<u8> {
    format!(
        "From: Vendor {v} <billing@vendor{v}.example>\r\n\
         To: ap@ourcompany.example\r\n\
         Subject: Invoice {tag}-{i:05}\r\n\
         Date: Mon, 02 Nov 2026 10:{m:02}:00 +0000\r\n\
         Message-ID: <{tag}-{i}@vendor{v}.example>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hello,\r\n\r\nplease find our invoice {tag}-{i:05}.\r\n\
         Invoice number: {tag}-{i:05}\r\nTotal due: EUR 1.{i:03},50\r\n",
        v = i % 40,
        m = i % 60
    )
    .into_bytes()
}

/// `deskmail run --config F` in the background; killed when dropped.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(config: &Path, env: &[(&str, &str)]) -> Daemon {
        let log = config.with_extension("log");
        let mut cmd = bin();
        cmd.env("DESKMAIL_LOG", "info,pdf_extract=off,lopdf=off")
            .args(["run", "--config", s(config)])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        Daemon {
            child: cmd.spawn().unwrap(),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(mut self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "daemon exit {exit:?}\n{}", self.log());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Messages stored, through the daemon's control socket while it runs; 0 before it answers.
fn stored(data: &Path) -> u64 {
    let out = run(None, &["stats", "--json", "--data", s(data)]);
    if !out.status.success() {
        return 0;
    }
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["messages"]
        .as_u64()
        .unwrap()
}

fn wait_for(what: &str, daemon: &Daemon, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "timed out waiting for {what}; the daemon's log:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn backups_taken_while_the_daemon_commits_restore_to_a_consistent_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let drop = dir.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    let n = 2000;
    for i in 0..n {
        std::fs::write(drop.join(format!("m{i:05}.eml")), invoice("drop", i)).unwrap();
    }
    let config = dir.path().join("deskmail.toml");
    std::fs::write(
        &config,
        format!(
            "data = \"{}\"\n[[drop_folder]]\nname = \"drop\"\npath = \"{}\"\ninterval_secs = 1\n",
            data.display(),
            drop.display()
        ),
    )
    .unwrap();
    let daemon = Daemon::start(&config, &[]);
    wait_for(
        "the first commit",
        &daemon,
        Duration::from_secs(120),
        || stored(&data) > 0,
    );
    let mut taken = Vec::new();
    for k in 0..4 {
        let archive = dir.path().join(format!("b{k}.tar.zst"));
        let said = backup(None, &data, &archive);
        assert!(said.contains("backup written"), "{said}");
        taken.push(archive);
        std::thread::sleep(Duration::from_millis(300));
    }
    wait_for("every file", &daemon, Duration::from_secs(300), || {
        stored(&data) == n as u64
    });
    let log = daemon.log();
    assert_eq!(
        log.matches("Backup written").count(),
        4,
        "the daemon wrote every backup (through its control socket):\n{log}"
    );
    daemon.stop();

    let mut counts = Vec::new();
    for (k, archive) in taken.iter().enumerate() {
        let restored = dir.path().join(format!("restored-{k}"));
        stdout_of(&restore(archive, &restored));
        let messages = assert_consistent(&restored);
        // Reindexing from scratch changes nothing.
        let before = (stats(&restored), hits(&restored, "drop"));
        let said = stdout_of(&run(None, &["reindex", "--data", s(&restored)]));
        assert_eq!(said.trim(), format!("reindexed {messages} messages"));
        assert_eq!((stats(&restored), hits(&restored, "drop")), before);
        assert_eq!(hits(&restored, "drop").1.len() as u64, messages);
        counts.push(messages);
    }
    eprintln!("messages in the backups taken while committing: {counts:?} of {n}");
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert!(
        counts.iter().any(|&c| c > 0 && c < n as u64),
        "at least one backup was taken mid-ingest: {counts:?}"
    );
}

#[test]
fn a_backup_of_the_running_imap_daemon_restores_with_its_cursors_and_downloads_nothing_twice() {
    if common::skip_without(common::Needs::MailServers) {
        return;
    }
    let dv = Dovecot::start();
    let n = 1500;
    let msgs: Vec<Vec<u8>> = (0..n).map(|i| invoice("imapbak", i)).collect();
    dv.fill("ap", &msgs);
    let pw = [("PW_AP", "secret-ap")];
    let config_for = |data: &Path, name: &str| {
        let path = dv.scratch().join(name);
        std::fs::write(
            &path,
            format!(
                "data = \"{}\"\n[daemon]\nio_timeout_secs = 10\nbackoff_initial_secs = 0.2\n\
                 backoff_max_secs = 1\n\n[[mailbox]]\n{}\nbatch_size = 50\n",
                data.display(),
                dv.imaps("ap", "ap")
            ),
        )
        .unwrap();
        path
    };
    let data = dv.scratch().join("data");
    let daemon = Daemon::start(&config_for(&data, "deskmail.toml"), &pw);
    wait_for(
        "the first batches",
        &daemon,
        Duration::from_secs(120),
        || stored(&data) > 0,
    );
    let mid = dv.scratch().join("mid.tar.zst");
    let said = backup(None, &data, &mid);
    assert!(said.contains("backup written"), "{said}");
    wait_for(
        "the whole folder",
        &daemon,
        Duration::from_secs(300),
        || stored(&data) == n as u64,
    );
    let done = dv.scratch().join("done.tar.zst");
    backup(None, &data, &done);
    assert_eq!(daemon.log().matches("Backup written").count(), 2);
    daemon.stop();
    let original = stats(&data);

    // Taken after the sync: nothing to download, nothing seen twice.
    let restored = dv.scratch().join("restored");
    stdout_of(&restore(&done, &restored));
    assert_eq!(stats(&restored), original);
    let again = json_of(
        &bin()
            .args(["run", "--once", "--json", "--config"])
            .arg(config_for(&restored, "restored.toml"))
            .envs(pw)
            .output()
            .unwrap(),
    );
    assert_eq!(again["stored"], 0, "{again}");
    assert_eq!(again["duplicates"], 0, "the cursor came along: {again}");
    assert_eq!(stats(&restored), original);
    assert_eq!(assert_consistent(&restored), n as u64);

    // Taken mid-sync: the cursor matches the messages it covers, so the rest comes exactly once.
    let partial = dv.scratch().join("restored-mid");
    stdout_of(&restore(&mid, &partial));
    let had = assert_consistent(&partial);
    eprintln!("the mid-sync backup holds {had} of {n} messages");
    let rest = json_of(
        &bin()
            .args(["run", "--once", "--json", "--config"])
            .arg(config_for(&partial, "partial.toml"))
            .envs(pw)
            .output()
            .unwrap(),
    );
    assert_eq!(rest["stored"], n as u64 - had, "{rest}");
    assert_eq!(rest["duplicates"], 0, "{rest}");
    assert_eq!(stats(&partial), original);
}

#[test]
fn a_backup_while_serve_holds_the_store_goes_through_its_control_socket() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    stdout_of(&run(None, &["ingest", "--data", s(&data), s(&fixtures())]));
    let before = stats(&data);
    let log = dir.path().join("serve.log");
    let mut serve = bin()
        .env("DESKMAIL_LOG", "info")
        .args(["serve", "--listen", "127.0.0.1:0", "--data", s(&data)])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let socket = data.join("control.sock");
    let start = Instant::now();
    while !socket.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "serve made no control socket: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let archive = dir.path().join("b.tar.zst");
    let said = backup(None, &data, &archive);
    assert!(said.contains("backup written"), "{said}");
    let _ = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status();
    assert!(serve.wait().unwrap().success());
    let served = std::fs::read_to_string(&log).unwrap();
    assert!(
        served.contains("Backup written"),
        "serve wrote it:\n{served}"
    );
    assert!(!socket.exists(), "the socket goes with serve");
    let restored = dir.path().join("restored");
    stdout_of(&restore(&archive, &restored));
    assert_eq!(stats(&restored), before);
}
