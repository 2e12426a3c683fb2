//! Antivirus end to end against a real clamd (Debian's clamav-daemon), started per test by
//! scripts/clamd.sh with a signature database it writes (EICAR and a deskmail marker): infected
//! mail is quarantined, flagged with the signature, never answered and never served; clean mail
//! passes; clamd down means nothing is stored and nothing is lost; `mode = "off"` needs no
//! clamd; `config check` tells.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::api::{Server, create_token};
use common::clamd::{
    Clamd, MARKER, antivirus_section, eicar, invoice_with_attachment, write_config,
};
use common::{bin, deskmail, fixtures, json_of};
use deskmail::access::Role;

fn show(data: &Path, id: &str) -> Value {
    json_of(&deskmail(&[
        "show",
        "--json",
        "--data",
        data.to_str().unwrap(),
        id,
    ]))
}

fn stored_messages(data: &Path) -> u64 {
    let out = deskmail(&["stats", "--json", "--data", data.to_str().unwrap()]);
    if !out.status.success() {
        return 0; // no store yet: nothing was stored
    }
    json_of(&out)["messages"].as_u64().unwrap()
}

fn outbox_sources(data: &Path) -> Vec<String> {
    let list = json_of(&deskmail(&[
        "outbox",
        "list",
        "--json",
        "--data",
        data.to_str().unwrap(),
    ]));
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r.to_string())
        .collect()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn eicar_and_custom_signature_messages_are_quarantined_never_answered_and_never_served() {
    if common::skip_without(common::Needs::Clamd) {
        return;
    }
    let clamd = Clamd::start();
    let dir = tempfile::tempdir().unwrap();
    // The unix socket here; the TCP port in the tests below.
    let config = write_config(dir.path(), &antivirus_section(clamd.var("CLAMD_SOCKET")));
    let mails = [
        (
            "clean",
            invoice_with_attachment("INV-30001", b"just a statement"),
        ),
        ("eicar", invoice_with_attachment("INV-30002", &eicar())),
        ("marker", invoice_with_attachment("INV-30003", MARKER)),
    ];
    for (name, bytes) in &mails {
        std::fs::write(dir.path().join("drop").join(format!("{name}.eml")), bytes).unwrap();
    }
    let out = bin()
        .args(["run", "--once", "--json", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let data = dir.path().join("data");
    assert_eq!(stored_messages(&data), 3, "all three stored");
    let id = |bytes: &[u8]| deskmail::model::MessageId::of_bytes(bytes).to_string();

    let clean = show(&data, &id(&mails[0].1));
    assert_ne!(clean["decision"]["category"], "quarantine", "{clean}");
    assert!(clean["decision"]["virus"].is_null(), "{clean}");
    let outbox = outbox_sources(&data);
    assert!(
        outbox.iter().any(|r| r.contains(&id(&mails[0].1))),
        "the clean invoice is acknowledged: {outbox:?}"
    );
    for ((_, bytes), signature) in mails[1..]
        .iter()
        .zip(["Deskmail.Test.EICAR", "Deskmail.Test.Marker"])
    {
        let m = show(&data, &id(bytes));
        let d = &m["decision"];
        assert_eq!(d["category"], "quarantine", "{m}");
        assert!(
            d["virus"].as_str().unwrap().starts_with(signature),
            "{signature}: {m}"
        );
        assert!(
            d["flags"]
                .as_array()
                .unwrap()
                .contains(&"infected_attachment".into()),
            "{m}"
        );
        assert!(
            d["review_reasons"]
                .as_array()
                .unwrap()
                .contains(&"infected_attachment".into()),
            "{m}"
        );
        assert!(
            !outbox.iter().any(|r| r.contains(&id(bytes))),
            "an infected message is never answered: {outbox:?}"
        );
        let text = String::from_utf8(
            bin()
                .args(["show", "--data"])
                .arg(&data)
                .arg(id(bytes))
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        assert!(
            text.starts_with("WARNING: quarantined by the antivirus scan: "),
            "{text}"
        );
    }

    // The API: the JSON carries the signature; attachments and raw bytes are refused.
    let token = create_token(&data, Role::Agent, "agent-1");
    let server = Server::start(&data);
    let (status, _, _) = server.get(
        &format!("/api/messages/{}/attachments/0", id(&mails[0].1)),
        Some(&token),
    );
    assert_eq!(status, 200, "a clean message's attachment is served");
    let eicar_id = id(&mails[1].1);
    let m = server.json(&format!("/api/messages/{eicar_id}"), &token);
    assert!(
        m["decision"]["virus"]
            .as_str()
            .unwrap()
            .starts_with("Deskmail.Test.EICAR")
    );
    for path in [
        format!("/api/messages/{eicar_id}/attachments/0"),
        format!("/api/messages/{eicar_id}/raw"),
    ] {
        let (status, _, body) = server.get(&path, Some(&token));
        assert_eq!(status, 403, "{path}");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert!(
            body["error"].as_str().unwrap().contains("quarantined"),
            "{body}"
        );
        assert!(
            !String::from_utf8_lossy(&serde_json::to_vec(&body).unwrap())
                .contains("EICAR-STANDARD"),
            "the virus itself is not in the answer"
        );
    }
}

#[test]
fn clamd_down_ingest_fails_clearly_and_stores_nothing_and_mode_off_needs_no_clamd() {
    if common::skip_without(common::Needs::Clamd) {
        return;
    }
    let mut clamd = Clamd::start();
    let tcp = clamd.var("CLAMD_TCP").to_string();
    clamd.script("stop");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write_config(dir.path(), &antivirus_section(&tcp));
    let out = bin()
        .args(["ingest", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(&config)
        .arg(fixtures())
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("could not be scanned for viruses, so none of them was stored")
            && err.contains(&format!("cannot reach clamd at {tcp}")),
        "{err}"
    );
    assert_eq!(stored_messages(&data), 0, "nothing half-stored");

    // mode = "off": the same clamd-less machine ingests normally.
    let off = write_config(
        dir.path(),
        &format!("[antivirus]\nmode = \"off\"\nclamd = \"{tcp}\"\n"),
    );
    let out = bin()
        .args(["ingest", "--json", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(&off)
        .arg(fixtures().join("ap"))
        .output()
        .unwrap();
    let summary = json_of(&out);
    assert!(summary["ingested"].as_u64().unwrap() > 10, "{summary}");
}

#[test]
fn clamd_down_the_daemon_keeps_the_file_and_stores_it_once_clamd_is_back() {
    if common::skip_without(common::Needs::Clamd) {
        return;
    }
    let mut clamd = Clamd::start();
    let tcp = clamd.var("CLAMD_TCP").to_string();
    clamd.script("stop");
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &antivirus_section(&tcp));
    let drop = dir.path().join("drop");
    let mail = invoice_with_attachment("INV-30010", &eicar());
    std::fs::write(drop.join("a.eml"), &mail).unwrap();
    let mut child = bin()
        .args(["run", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let data = dir.path().join("data");
    let status = || {
        String::from_utf8_lossy(&deskmail(&["status", "--data", data.to_str().unwrap()]).stdout)
            .into_owned()
    };
    let wait = |what: &str, done: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !done() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out waiting for {what}; status:\n{}",
                status()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait("the antivirus error in status", &|| {
        status().contains("last error: drop/") || status().contains("cannot reach clamd")
    });
    let s = status();
    assert!(
        s.contains("antivirus: on") && s.contains("cannot reach clamd"),
        "{s}"
    );
    assert!(
        drop.join("a.eml").exists(),
        "the file waits in the drop folder"
    );
    assert!(!drop.join("processed/a.eml").exists());
    assert!(!drop.join("failed/a.eml").exists());

    clamd.script("restart");
    wait("the file to be stored", &|| {
        drop.join("processed/a.eml").exists()
    });
    let s = status();
    assert!(s.contains("1 infected"), "{s}");
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());
    let id = deskmail::model::MessageId::of_bytes(&mail).to_string();
    assert_eq!(show(&data, &id)["decision"]["category"], "quarantine");
    assert!(outbox_sources(&data).is_empty(), "never answered");
}

#[test]
fn config_check_reports_an_unreachable_clamd_and_a_live_ones_version() {
    if common::skip_without(common::Needs::Clamd) {
        return;
    }
    let mut clamd = Clamd::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &antivirus_section(clamd.var("CLAMD_TCP")));
    let check = |config: &Path| {
        bin()
            .args(["config", "check"])
            .arg(config)
            .output()
            .unwrap()
    };
    let out = check(&config);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("antivirus: clamd ClamAV 1."),
        "{}",
        text(&out)
    );
    let tcp = clamd.var("CLAMD_TCP").to_string();
    clamd.script("stop");
    let out = check(&config);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("[antivirus]: cannot reach clamd at {tcp}")),
        "{}",
        text(&out)
    );
}

#[test]
fn a_message_over_clamds_stream_limit_is_quarantined_not_passed_unscanned() {
    if common::skip_without(common::Needs::Clamd) {
        return;
    }
    let clamd = Clamd::start_with(&[("CLAMD_STREAM_MAX", "4K")]);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &antivirus_section(clamd.var("CLAMD_TCP")));
    let small = invoice_with_attachment("INV-30020", b"small");
    let big = invoice_with_attachment("INV-30021", &vec![b'x'; 64 * 1024]);
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("small.eml"), &small).unwrap();
    std::fs::write(input.join("big.eml"), &big).unwrap();
    let data = dir.path().join("data");
    let out = bin()
        .args(["ingest", "--json", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(&config)
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(json_of(&out)["ingested"], 2);
    let id = |b: &[u8]| deskmail::model::MessageId::of_bytes(b).to_string();
    assert_ne!(
        show(&data, &id(&small))["decision"]["category"],
        "quarantine"
    );
    let d = show(&data, &id(&big))["decision"].clone();
    assert_eq!(d["category"], "quarantine", "{d}");
    assert_eq!(d["virus"], "deskmail.TooLargeToScan", "{d}");
    assert!(
        d["flags"]
            .as_array()
            .unwrap()
            .contains(&"too_large_to_scan".into()),
        "{d}"
    );
}
