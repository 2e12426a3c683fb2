//! End-to-end tests of the `deskmail` binary on the fixture corpus: the contract other parts of
//! the product build on (ingest/search/stats/show/rules JSON), idempotency, and bad input.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{
    KillOnDrop, bin, deskmail as run, fixtures, json_of, spawn_logged, stop_with_sigterm,
};

fn ingest(data: &Path, paths: &[&Path]) -> Value {
    let mut args = vec![
        "ingest".to_string(),
        "--json".into(),
        "--data".into(),
        data.display().to_string(),
    ];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    json_of(&bin().args(&args).output().unwrap())
}

/// A search answer without its scores (BM25 counts replaced documents an index still holds
/// until it merges them, so a rebuilt index scores otherwise).
fn without_scores(mut v: Value) -> Value {
    for t in v["threads"].as_array_mut().unwrap() {
        t.as_object_mut().unwrap().remove("score");
    }
    v
}

fn stats(data: &Path) -> Value {
    json_of(&run(&["stats", "--json", "--data", data.to_str().unwrap()]))
}

fn search(data: &Path, q: &str) -> Value {
    json_of(&run(&[
        "search",
        "--json",
        "--limit",
        "50",
        "--data",
        data.to_str().unwrap(),
        q,
    ]))
}

/// Files under fixtures/mail for which `pred` holds.
fn count_fixtures(pred: &dyn Fn(&Path) -> bool) -> u64 {
    fn walk(d: &Path, pred: &dyn Fn(&Path) -> bool) -> u64 {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                if p.is_dir() {
                    walk(&p, pred)
                } else {
                    u64::from(pred(&p))
                }
            })
            .sum()
    }
    walk(&fixtures(), pred)
}

fn eml_count() -> u64 {
    count_fixtures(&|p| p.extension().is_some_and(|e| e == "eml"))
}

/// Fixtures whose golden expectation is a rejection.
fn golden_rejections() -> u64 {
    count_fixtures(&|p| {
        p.to_string_lossy().ends_with(".expected.json")
            && std::fs::read_to_string(p)
                .unwrap()
                .contains("\"rejected\": true")
    })
}

#[test]
fn ingest_twice_adds_nothing_and_reports_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = ingest(&data, &[&fixtures()]);
    let total = eml_count();
    let ingested = first["ingested"].as_u64().unwrap();
    let rejected = first["rejected"].as_u64().unwrap();
    assert_eq!(
        ingested + rejected + first["duplicates"].as_u64().unwrap(),
        total,
        "{first}"
    );
    assert_eq!(
        rejected,
        golden_rejections(),
        "exactly the fixtures whose golden file says rejected: {first}"
    );
    let reasons: Vec<String> = first["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r["path"], r["reason"]))
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("empty") && r.contains("malformed/")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("binary-junk")),
        "{reasons:?}"
    );

    let before = stats(&data);
    assert_eq!(before["messages"].as_u64().unwrap(), ingested);
    assert_eq!(before["rejected"].as_u64().unwrap(), rejected);
    assert!(
        before["threads"].as_u64().unwrap() < ingested,
        "conversations share threads: {before}"
    );
    assert!(before["invoices"].as_u64().unwrap() >= 15, "{before}");

    let second = ingest(&data, &[&fixtures()]);
    assert_eq!(second["ingested"], 0, "{second}");
    assert_eq!(second["duplicates"].as_u64().unwrap(), ingested);
    assert_eq!(
        stats(&data),
        before,
        "a second ingest must not change what is stored"
    );
}

#[test]
fn search_answers_the_query_language_grouped_by_thread() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest(&data, &[&fixtures()]);

    let invoices = search(&data, "category:ap.invoice");
    let threads = invoices["threads"].as_array().unwrap();
    assert!(
        invoices["total_threads"].as_u64().unwrap() >= 10,
        "{invoices}"
    );
    for t in threads {
        for key in [
            "thread_id",
            "subject",
            "last_date",
            "message_count",
            "category",
            "snippet",
        ] {
            assert!(t.get(key).is_some(), "thread hit lacks {key}: {t}");
        }
    }
    // Newest first.
    let dates: Vec<&str> = threads
        .iter()
        .filter_map(|t| t["last_date"].as_str())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);

    let brightline = search(&data, "invoice:20417");
    assert_eq!(brightline["total_threads"], 1, "{brightline}");
    assert!(
        brightline["threads"][0]["message_count"].as_u64().unwrap() >= 2,
        "the resent duplicate threads with the original: {brightline}"
    );

    let ranged = search(&data, "amount:[1000 TO 1300] category:ap.invoice");
    assert!(ranged["total_threads"].as_u64().unwrap() >= 1, "{ranged}");
    let none = search(&data, "amount:>100000000");
    assert_eq!(none["total_threads"], 0);

    let from = search(&data, "from:brightline-office.example");
    assert!(from["total_threads"].as_u64().unwrap() >= 2, "{from}");
}

#[test]
fn a_bad_query_says_where_it_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest(&data, &[&fixtures().join("ap")]);
    let out = run(&[
        "search",
        "--data",
        data.to_str().unwrap(),
        "amount:[100 TO 500",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("column"), "{err}");
    let out = run(&["search", "--data", data.to_str().unwrap(), "frm:acme"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("from"),
        "suggests the right field"
    );
}

/// `deskmail` answers a search itself and runs `deskmail-engine` for everything else: copied
/// alone into a directory it still searches, with the engine's answer (JSON and text, a bad
/// query's error too), while any other command, help included, names the executable it needs.
#[test]
fn the_front_searches_alone_and_runs_the_engine_for_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest(&data, &[&fixtures()]);
    let alone = dir.path().join("bin").join("deskmail");
    std::fs::create_dir_all(alone.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_deskmail"), &alone).unwrap();
    let command = |exe: &Path, args: &[&str]| {
        Command::new(exe)
            .args(args)
            .env_remove("DESKMAIL_DATA")
            .env_remove("DESKMAIL_CONFIG")
            .output()
            .unwrap()
    };
    let engine = Path::new(env!("CARGO_BIN_EXE_deskmail-engine"));
    let data = data.to_str().unwrap();
    for args in [
        &[
            "search", "--json", "--limit", "50", "--data", data, "invoice",
        ][..],
        &[
            "search",
            "--data",
            data,
            "from:acme OR category:ap",
            "-paid",
        ],
    ] {
        let (front, engine) = (command(&alone, args), command(engine, args));
        assert!(
            front.status.success(),
            "{}",
            String::from_utf8_lossy(&front.stderr)
        );
        assert_eq!(front.stdout, engine.stdout, "{args:?}");
        assert!(front.stdout.len() > 100, "found something");
    }
    let bad = ["search", "--data", data, "amount:[100 TO 500"];
    let (front, engine) = (command(&alone, &bad), command(engine, &bad));
    assert_eq!(
        (front.status.code(), &front.stderr),
        (Some(2), &engine.stderr)
    );

    for args in [
        &["stats", "--data", data][..],
        &["search", "--help"],
        &["--version"],
    ] {
        let out = command(&alone, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("cannot run deskmail-engine"),
            "{args:?}: {err}"
        );
    }
    // Beside the engine (as installed), the same commands are the engine's.
    let stats = json_of(&run(&["stats", "--json", "--data", data]));
    assert!(stats["messages"].as_u64().unwrap() > 0);
    let version = run(&["--version"]);
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("deskmail "));
}

/// The end of an ingest leaves each thread's activity beside the index: a search without a
/// daemon ranks newest first with it (no reading the activity back), and answers exactly what
/// it answers without it.
#[test]
fn a_search_after_an_ingest_ranks_with_the_activity_the_ingest_left() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest(&data, &[&fixtures()]);
    let table = data.join("index/thread-activity");
    let aside = dir.path().join("thread-activity");
    assert!(table.is_file());
    let searched = |q: &str| {
        let out = bin()
            .args(["search", "--json", "--limit", "50", "--data"])
            .args([data.to_str().unwrap(), q])
            .env("DESKMAIL_LOG", "deskmail::index=debug")
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        (json_of(&out), log)
    };
    for q in [
        "invoice",
        "category:ap.invoice",
        "after:2020-01-01",
        "-invoice",
    ] {
        let (with, log) = searched(q);
        assert!(log.contains("activity_table=true"), "{q}: {log}");
        assert!(with["total_threads"].as_u64().unwrap() > 0, "{q}: {with}");
        std::fs::rename(&table, &aside).unwrap();
        let (without, log) = searched(q);
        assert!(log.contains("activity_table=false"), "{q}: {log}");
        assert_eq!(with, without, "{q}");
        std::fs::rename(&aside, &table).unwrap();
    }
}

/// A data directory without an index (nothing ingested yet, or the index removed): search
/// says so once, with both ways to make one, and exits 2.
#[test]
fn search_without_an_index_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    for data in [dir.path().join("new"), dir.path().join("removed")] {
        if data.ends_with("removed") {
            ingest(&data, &[&fixtures().join("ap")]);
            std::fs::remove_dir_all(data.join("index")).unwrap();
        }
        let out = run(&["search", "--data", data.to_str().unwrap(), "invoice"]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.matches("no search index").count(), 1, "{err}");
        assert!(
            err.contains("deskmail ingest") && err.contains("deskmail reindex"),
            "{err}"
        );
    }
}

/// Options after the search words would be searched for (the query takes every word, so that
/// `-paid` is one): refused with the order to use, while `-word` exclusions still work.
#[test]
fn an_option_after_the_query_is_refused_not_searched_for() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest(&data, &[&fixtures().join("ap")]);
    let data = data.to_str().unwrap();
    for late in [&["--limit", "1"][..], &["--json"], &["--sort=relevance"]] {
        let mut args = vec!["search", "--data", data, "invoice"];
        args.extend_from_slice(late);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{late:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("put options first"), "{err}");
        assert!(out.stdout.is_empty(), "{late:?}");
    }
    let all = run(&["search", "--data", data, "--json", "invoice"]);
    let but = run(&[
        "search",
        "--data",
        data,
        "--json",
        "invoice",
        "-kingsbridge",
    ]);
    assert_eq!(all.status.code(), Some(0));
    assert_eq!(but.status.code(), Some(0));
    let count = |o: &std::process::Output| {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["total_messages"].as_u64().unwrap()
    };
    assert!(count(&but) < count(&all), "the exclusion excluded");
}

/// `deskmail search ... | head -1`: the reader goes away after one line and deskmail, still
/// writing, must end quietly (not panic with "failed printing to stdout: Broken pipe", exit 101).
#[test]
fn a_reader_that_stops_after_one_line_ends_search_quietly() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    // More output than a pipe holds (64 KiB), so deskmail is still writing when the reader goes.
    let mbox = dir.path().join("many.mbox");
    let mut text = String::new();
    for i in 0..1500 {
        text.push_str(&format!(
            "From a@x Thu Mar 19 10:00:00 2026\nFrom: Sender {i} <s{i}@x.example>\nSubject: \
             quarterly statement number {i} for the accounts desk\nMessage-ID: <m{i}@x>\n\n\
             Please find the quarterly statement {i} attached.\n\n"
        ));
    }
    std::fs::write(&mbox, text).unwrap();
    let data = dir.path().join("data");
    let out = ingest(&data, &[&mbox]);
    assert_eq!(out["ingested"], 1500, "{out}");

    let mut child = bin()
        .args(["search", "--limit", "1500", "--data"])
        .arg(&data)
        .arg("quarterly")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    assert_eq!(first, "1500 threads, 1500 messages\n");
    drop(reader);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    use std::os::unix::process::ExitStatusExt;
    assert!(
        out.status.success() || out.status.signal() == Some(13),
        "exit {:?}: {stderr}",
        out.status
    );
}

#[test]
fn show_and_thread_explain_the_decision() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest(&data, &[&fixtures().join("ap")]);
    let hit = search(&data, "invoice:INV-20417");
    let msg_id = hit["threads"][0]["message_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let out = run(&["show", "--data", data.to_str().unwrap(), &msg_id[..10]]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("category: ap.invoice"), "{text}");
    assert!(
        text.contains("INV-20417") && text.contains("1234.56"),
        "{text}"
    );
    assert!(text.contains("matched rule \"vendor invoice\""), "{text}");

    let tid = hit["threads"][0]["thread_id"].as_str().unwrap().to_string();
    let thread = json_of(&run(&[
        "thread",
        "--json",
        "--data",
        data.to_str().unwrap(),
        &tid,
    ]));
    assert!(
        thread["messages"].as_array().unwrap().len() >= 2,
        "{thread}"
    );
    let flags: Vec<Value> = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["flags"].as_array().cloned().unwrap_or_default())
        .collect();
    assert!(
        flags.contains(&Value::from("duplicate_invoice")),
        "the resent invoice is flagged: {thread}"
    );
}

#[test]
fn rules_test_prints_the_contract_json() {
    let out = run(&[
        "rules",
        "test",
        "--json",
        "fixtures/mail/ap/invoice-en-us-plain-text-net30.eml",
    ]);
    let v = json_of(&out);
    assert_eq!(v["category"], "ap.invoice");
    assert_eq!(v["fields"]["invoice_number"], "INV-20417");
    assert_eq!(v["fields"]["amount_total"], "1234.56");
    assert_eq!(v["fields"]["currency"], "USD");
    assert_eq!(v["fields"]["due_date"], "2026-04-19");
    assert!(
        v["matched_rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "vendor invoice")
    );
    assert!(v["actions"].is_array());
}

#[test]
fn shipped_rules_check_and_a_broken_rule_dir_reports_every_error() {
    let ok = run(&["rules", "check"]);
    assert!(
        ok.status.success(),
        "shipped rules fail their own check:\n{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[rule]]\nname = \"a\"\ncategory = \"ap.invoice\"\nwhen = { subjct = \"invoice\" }\n\n[[rule]]\nname = \"b\"\ncategory = \"ap.invoice\"\nwhen = { body = \"(unclosed\" }\n",
    )
    .unwrap();
    let out = run(&["rules", "check", "--rules", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let path = dir.path().join("bad.toml").display().to_string();
    assert!(
        err.contains(&format!(
            "{path}:4: unknown condition \"subjct\" (did you mean \"subject\"?)"
        )),
        "{err}"
    );
    assert!(err.contains(&format!("{path}:9: invalid pattern")), "{err}");
}

#[test]
fn oversized_and_junk_input_is_rejected_and_nothing_stored_changes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest(&data, &[&fixtures().join("ap")]);
    let before = stats(&data);

    let big = dir.path().join("big.eml");
    let mut bytes = b"From: a@x.example\r\nSubject: huge\r\n\r\n".to_vec();
    bytes.resize(60 * 1024 * 1024, b'a');
    std::fs::write(&big, &bytes).unwrap();
    let junk = dir.path().join("junk.eml");
    std::fs::write(&junk, [0u8, 159, 146, 150, 0, 1, 2, 3]).unwrap();
    let out = ingest(&data, &[&big, &junk]);
    assert_eq!(out["ingested"], 0);
    assert_eq!(out["rejected"], 2, "{out}");
    let reasons = out["rejections"].to_string();
    assert!(reasons.contains("size limit"), "{reasons}");
    assert!(reasons.contains("not an email message"), "{reasons}");
    let after = stats(&data);
    assert_eq!(after["messages"], before["messages"]);
    assert_eq!(
        after["rejected"].as_u64().unwrap(),
        before["rejected"].as_u64().unwrap() + 2
    );
}

#[test]
fn mbox_and_maildir_inputs_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("export.mbox");
    std::fs::write(
        &mbox,
        "From a@x Thu Mar 19 10:00:00 2026\nFrom: A <a@x.example>\nSubject: first in mbox\nMessage-ID: <m1@x>\n\nhello\n>From the quoted line\n\nFrom b@x Thu Mar 19 10:00:00 2026\nFrom: B <b@x.example>\nSubject: second in mbox\nMessage-ID: <m2@x>\n\nbye\n",
    )
    .unwrap();
    let md = dir.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(md.join(sub)).unwrap();
    }
    std::fs::write(
        md.join("new/1.host"),
        "From: C <c@x.example>\nSubject: maildir new\nMessage-ID: <m3@x>\n\nx\n",
    )
    .unwrap();
    std::fs::write(
        md.join("cur/2.host:2,S"),
        "From: D <d@x.example>\nSubject: maildir cur\nMessage-ID: <m4@x>\n\nx\n",
    )
    .unwrap();
    std::fs::write(
        md.join("tmp/3.host"),
        "From: E <e@x.example>\nSubject: still being written\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let out = ingest(&data, &[&mbox, &md]);
    assert_eq!(out["ingested"], 4, "{out}");
    assert_eq!(search(&data, "subject:mbox")["total_threads"], 2);
}

#[test]
fn run_watches_the_drop_folder_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let drop = dir.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    let log = dir.path().join("daemon.log");
    let (child, guard) = spawn_logged(
        &[
            "run",
            "--interval",
            "1",
            "--data",
            data.to_str().unwrap(),
            "--drop",
            drop.to_str().unwrap(),
        ],
        "deskmail::daemon::control=debug",
        &log,
    );
    std::fs::copy(
        fixtures().join("ap/invoice-en-us-plain-text-net30.eml"),
        drop.join("a.eml"),
    )
    .unwrap();
    std::fs::write(drop.join("junk.eml"), [0u8, 1, 2, 3]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(drop.join("processed/a.eml").exists() && drop.join("failed/junk.eml.reason").exists()) {
        assert!(
            Instant::now() < deadline,
            "drop folder not processed in time"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let reason = std::fs::read_to_string(drop.join("failed/junk.eml.reason")).unwrap();
    assert!(reason.contains("not an email message"), "{reason}");
    // While the daemon holds the store, store commands and searches go through its control
    // socket.
    assert_eq!(stats(&data)["messages"], 1);
    let hits = searched_through_the_daemon(&data, &log, "invoice:INV-20417");
    // A bad query through the daemon is said as the CLI says its own.
    let bad = run(&["search", "--data", data.to_str().unwrap(), "date:2026-13"]);
    assert_eq!(bad.status.code(), Some(2));
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(
        said.contains("month must be 01 to 12") && said.contains('^'),
        "{said}"
    );
    let thread_id = hits["threads"][0]["thread_id"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = run(&["thread", "--data", data.to_str().unwrap(), &thread_id]);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert!(String::from_utf8_lossy(&shown.stdout).contains("INV-20417"));
    let missing = run(&["show", "--data", data.to_str().unwrap(), "ffffffff"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no single message"));
    the_front_alone_asks_the_daemon(dir.path(), &data, &thread_id, &missing);
    let status = drop_status(&data);
    assert_eq!(status["name"], "drop");
    assert_eq!(status["connected"], true);
    assert_eq!(status["messages_stored"], 1);
    stop_with_sigterm(child, guard);
    assert_eq!(stats(&data)["messages"], 1);
    // Stopped: the CLI searches the index itself and finds what the daemon answered.
    assert_the_same_threads(&search(&data, "invoice:INV-20417"), &hits);
    // Stopped: status says so, and still counts from the store.
    let status = drop_status(&data);
    assert_eq!(status["connected"], false);
    assert_eq!(status["messages_stored"], 1);
}

/// The first thread of `query` once the index has its message (the file is moved once the
/// store has it; the index commits within a second after), asked of the daemon (its log, at
/// debug, names the control request).
fn searched_through_the_daemon(data: &Path, log: &Path, query: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    let hits = loop {
        let out = run(&["search", "--json", "--data", data.to_str().unwrap(), query]);
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            if v["total_threads"] == 1 {
                break v;
            }
        }
        assert!(Instant::now() < deadline, "not searchable within 5 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    let daemon_log = std::fs::read_to_string(log).unwrap();
    assert!(
        daemon_log.contains("Control request") && daemon_log.contains(query),
        "the search did not go through the daemon: {daemon_log}"
    );
    hits
}

/// What `deskmail status` says of the first (here the only) source, the drop folder.
fn drop_status(data: &Path) -> Value {
    let out = run(&["status", "--data", data.to_str().unwrap(), "--json"]);
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    status[0].clone()
}

/// The `deskmail` front asks a running daemon itself: a copy without the engine beside it
/// answers as the engine does, errors included (`missing`: the engine's `show` of an unknown id).
fn the_front_alone_asks_the_daemon(dir: &Path, data: &Path, thread_id: &str, missing: &Output) {
    let alone = dir.join("alone").join("deskmail");
    std::fs::create_dir_all(alone.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_deskmail"), &alone).unwrap();
    let front = |args: &[&str]| Command::new(&alone).args(args).output().unwrap();
    let data_arg = data.to_str().unwrap();
    for args in [
        &["stats", "--json", "--data", data_arg][..],
        &["thread", "--data", data_arg, thread_id],
    ] {
        assert_eq!(front(args).stdout, run(args).stdout, "{args:?}");
    }
    let missing_alone = front(&["show", "--data", data_arg, "ffffffff"]);
    assert_eq!(
        (missing_alone.status.code(), &missing_alone.stderr),
        (Some(2), &missing.stderr)
    );
}

/// Two search answers found the same threads (totals, and the first thread's ids, subject,
/// snippet and date).
fn assert_the_same_threads(own: &Value, hits: &Value) {
    for key in ["total_threads", "total_messages"] {
        assert_eq!(own[key], hits[key], "{key}");
    }
    for key in [
        "thread_id",
        "message_ids",
        "subject",
        "snippet",
        "last_date",
    ] {
        assert_eq!(own["threads"][0][key], hits["threads"][0][key], "{key}");
    }
}

/// The engine's long-running commands run with glibc's malloc thresholds fixed, started on their
/// own (the engine runs itself again with them, same process id) or by the front, added to
/// tunables already set and never replacing thresholds chosen.
#[test]
fn long_running_commands_get_fixed_malloc_thresholds() {
    use deskmail::exe::{MALLOC_TUNABLES, TUNABLES_VAR};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let drop = dir.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    // The daemon's environment once it is up, read from /proc under the id it was started as.
    let tunables_of_daemon = |exe: &str, set: Option<&str>| {
        let mut command = Command::new(exe);
        command
            .args(["run", "--interval", "1", "--data", data.to_str().unwrap()])
            .args(["--drop", drop.to_str().unwrap()])
            .env_remove(TUNABLES_VAR)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if let Some(set) = set {
            command.env(TUNABLES_VAR, set);
        }
        // The socket appears once the daemon is up, and so after any second start.
        let socket = data.join("control.sock");
        let _ = std::fs::remove_file(&socket);
        let child = command.spawn().unwrap();
        let guard = KillOnDrop(child.id());
        let environ = format!("/proc/{}/environ", child.id());
        let deadline = Instant::now() + Duration::from_secs(20);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "the daemon did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        // glibc, parsing the variable at start, ends each tunable in the process's copy with a
        // NUL: in /proc the value reads as entries of their own.
        let env = std::fs::read(&environ).unwrap();
        let entries: Vec<String> = env
            .split(|&b| b == 0)
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect();
        let prefix = format!("{TUNABLES_VAR}=");
        let found = entries
            .iter()
            .position(|e| e.starts_with(&prefix))
            .map(|at| {
                let rest = entries[at + 1..]
                    .iter()
                    .take_while(|e| e.starts_with("glibc.") && !e.contains(&prefix));
                std::iter::once(&entries[at][prefix.len()..])
                    .chain(rest.map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(":")
            });
        stop_with_sigterm(child, guard);
        found
    };
    let engine = env!("CARGO_BIN_EXE_deskmail-engine");
    let front = env!("CARGO_BIN_EXE_deskmail");
    assert_eq!(
        tunables_of_daemon(engine, None).as_deref(),
        Some(MALLOC_TUNABLES)
    );
    assert_eq!(
        tunables_of_daemon(front, None).as_deref(),
        Some(MALLOC_TUNABLES)
    );
    let other = "glibc.malloc.arena_max=2";
    assert_eq!(
        tunables_of_daemon(front, Some(other)),
        Some(format!("{other}:{MALLOC_TUNABLES}"))
    );
    let chosen = "glibc.malloc.trim_threshold=0";
    assert_eq!(
        tunables_of_daemon(engine, Some(chosen)).as_deref(),
        Some(chosen)
    );
}

/// Stops a daemon with SIGTERM (its guard is no longer needed): it must exit cleanly.
#[test]
fn reindex_rebuilds_a_damaged_index_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest(&data, &[&fixtures().join("ap")]);
    let before = search(&data, "category:ap.invoice");
    assert!(before["total_threads"].as_u64().unwrap() >= 10);

    // Damage the index: its metadata no longer parses.
    std::fs::write(data.join("index/meta.json"), "{ not json").unwrap();
    let broken = run(&[
        "search",
        "--data",
        data.to_str().unwrap(),
        "category:ap.invoice",
    ]);
    assert!(!broken.status.success(), "a damaged index must not answer");

    let out = run(&["reindex", "--data", data.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n = stats(&data)["messages"].as_u64().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("reindexed {n} messages")
    );
    // The same threads and hits; scores may differ (BM25 counts documents a thread merge
    // replaced until the index merges its segments, and a rebuilt index has none).
    assert_eq!(
        without_scores(search(&data, "category:ap.invoice")),
        without_scores(before)
    );
}

/// Issue 15's finding: `deskmail ingest DIR` where DIR/cur holds symlinks printed "ingested 0"
/// and exited 0. The links are followed, and what cannot be followed is named.
#[test]
fn a_maildir_of_symlinks_is_ingested_and_a_dangling_link_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cur = dir.path().join("Maildir/cur");
    std::fs::create_dir_all(&cur).unwrap();
    let sources = [
        "ap/invoice-en-us-plain-text-net30.eml",
        "ap/credit-note-fr-avoir.eml",
    ];
    for (i, f) in sources.iter().enumerate() {
        std::os::unix::fs::symlink(fixtures().join(f), cur.join(format!("{i}:2,S"))).unwrap();
    }
    std::os::unix::fs::symlink(dir.path().join("gone.eml"), cur.join("9:2,S")).unwrap();
    let data = dir.path().join("data");
    let out = bin()
        .args(["ingest", "--json", "--data", data.to_str().unwrap()])
        .arg(dir.path().join("Maildir"))
        .output()
        .unwrap();
    let summary = json_of(&out);
    assert_eq!(summary["ingested"], 2, "{summary}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("9:2,S") && err.contains("link to nothing readable"),
        "{err}"
    );
}

#[test]
fn an_index_of_an_earlier_schema_is_rebuilt_by_the_next_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ap = fixtures().join("ap");
    ingest(&data, &[&ap]);
    let before = search(&data, "from:brightline-office.example");
    assert!(before["total_messages"].as_u64().unwrap() >= 2);

    // The index as the release before address keywords wrote it: its schema has no
    // `from_addr`/`to_addr` (the segments are never read: the schema is compared first).
    let meta_path = data.join("index/meta.json");
    let mut meta: Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    meta["schema"]
        .as_array_mut()
        .unwrap()
        .retain(|f| !matches!(f["name"].as_str(), Some("from_addr" | "to_addr")));
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();

    let refused = run(&[
        "search",
        "--data",
        data.to_str().unwrap(),
        "from:brightline-office.example",
    ]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("another release") && said.contains("deskmail reindex"),
        "{said}"
    );

    // The next ingest (here: nothing new) rebuilds it from the store before it goes on. The
    // same threads and hits; scores may differ (a rebuilt index holds no replaced documents).
    ingest(&data, &[&ap]);
    assert_eq!(
        without_scores(search(&data, "from:brightline-office.example")),
        without_scores(before)
    );
}

/// `export` archives every message with the address in From, To or Cc (found by the index)
/// with its original bytes, as `search` counts them; a write that fails says so, exits
/// non-zero, and never removes what it was told to write to when that is not a file.
#[test]
fn export_archives_a_person_s_mail_and_a_failed_write_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest(&data, &[&fixtures()]);
    let d = data.to_str().unwrap();
    let who = "markus.weber@ourcompany.example";
    let out = dir.path().join("export.tar");
    let o = run(&["export", "--data", d, "--out", out.to_str().unwrap(), who]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let mut summary = Value::Null;
    let mut emls = 0;
    let mut archive = tar::Archive::new(std::fs::File::open(&out).unwrap());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        if name == "export.json" {
            summary = serde_json::from_slice(&bytes).unwrap();
        } else {
            assert!(
                name.starts_with("messages/") && name.ends_with(".eml"),
                "{name}"
            );
            let text = String::from_utf8_lossy(&bytes).to_lowercase();
            let head = text.split("\n\n").next().unwrap_or_default().to_string();
            assert!(head.contains(who), "{name} does not name {who}");
            emls += 1;
        }
    }
    let messages = summary["messages"].as_array().unwrap().len();
    assert!(messages >= 4, "{messages}");
    assert_eq!(emls, messages);
    let found = search(&data, &format!("from:{who} OR to:{who}"));
    assert_eq!(found["total_messages"].as_u64(), Some(messages as u64));
    // Another export to the same path replaces the archive whole, and leaves nothing beside it.
    let first = std::fs::read(&out).unwrap();
    let o = run(&["export", "--data", d, "--out", out.to_str().unwrap(), who]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&out).unwrap().len(), first.len());
    let beside: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(beside.len(), 2, "the data directory and the archive only");

    let full = Path::new("/dev/full");
    let o = bin()
        .args(["export", "--data", d, "--out", "/dev/full", who])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot write /dev/full"), "{err}");
    assert!(full.exists(), "the device is still there");
}
