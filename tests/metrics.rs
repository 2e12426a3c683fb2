//! Prometheus metrics: `GET /metrics` on the API behind a role, and on `[metrics] listen` from
//! `deskmail run`; the text parses, the names are there, and the values move with what happens.
//! The shipped Grafana dashboard and alert rules use only names a scrape has.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use deskmail::access::Role;

mod common;
use common::api::{Server, setup};
use common::{bin, fixtures, root};

/// A scrape: every sample by `name{labels}`, and the metric names its `# TYPE` lines declare.
struct Scrape {
    samples: BTreeMap<String, f64>,
    types: BTreeSet<String>,
    text: String,
}

/// Parse Prometheus text: every line is a comment or `name{labels} value`.
fn parse(text: &str) -> Scrape {
    let mut samples = BTreeMap::new();
    let mut types = BTreeSet::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let name = it.next().unwrap();
            let kind = it.next().unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            types.insert(name.to_string());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad name in {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "bad labels in {line}");
            let labels = &series[name_end + 1..series.len() - 1];
            for pair in split_labels(labels) {
                let (k, v) = pair.split_once('=').unwrap_or_else(|| panic!("{line}"));
                assert!(
                    k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{line}"
                );
                assert!(v.starts_with('"') && v.ends_with('"'), "{line}");
            }
        }
        let v: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        samples.insert(series.to_string(), v);
    }
    Scrape {
        samples,
        types,
        text: text.to_string(),
    }
}

/// `a="x",b="y,z"` → [`a="x"`, `b="y,z"`] (commas inside quotes kept).
fn split_labels(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut escaped) = (Vec::new(), String::new(), false, false);
    for c in s.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

impl Scrape {
    fn get(&self, series: &str) -> f64 {
        *self
            .samples
            .get(series)
            .unwrap_or_else(|| panic!("no {series} in\n{}", self.text))
    }

    /// Sum of the samples of `name` whose labels include every one of `having`.
    fn sum(&self, name: &str, having: &[&str]) -> f64 {
        self.samples
            .iter()
            .filter(|(s, _)| {
                s.split('{').next() == Some(name) && having.iter().all(|h| s.contains(h))
            })
            .map(|(_, v)| v)
            .sum()
    }

    /// Whether a name used in a query (a family, or a histogram's or counter's series) is
    /// exposed.
    fn has_name(&self, name: &str) -> bool {
        self.types.contains(name)
            || ["_bucket", "_count", "_sum"]
                .iter()
                .any(|s| name.strip_suffix(s).is_some_and(|b| self.types.contains(b)))
    }
}

fn scrape(server: &Server, token: Option<&str>) -> Scrape {
    let (status, headers, body) = server.get("/metrics", token);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(
        headers["content-type"].starts_with("text/plain; version=0.0.4"),
        "{headers:?}"
    );
    parse(&String::from_utf8(body).unwrap())
}

/// What the daemon adds once its sources ran (a family without series is not in the text, and
/// `serve` has no sources and stores nothing).
const DAEMON_NAMES: &[&str] = &[
    "deskmail_messages_ingested_total",
    "deskmail_decisions_total",
    "deskmail_source_last_sync_timestamp_seconds",
    "deskmail_source_connected",
    "deskmail_source_errors_total",
    "deskmail_source_lag_messages",
];

/// What `deskmail serve` exposes.
const SERVE_NAMES: &[&str] = &[
    "deskmail_messages_rejected_total",
    "deskmail_messages_duplicate_total",
    "deskmail_intake_batch_seconds",
    "deskmail_outbox_records",
    "deskmail_send_attempts_total",
    "deskmail_send_seconds",
    "deskmail_reminders_planned_total",
    "deskmail_reminders_sent_total",
    "deskmail_review_queue_depth",
    "deskmail_rules_version_info",
    "deskmail_rules_reload_failures_total",
    "deskmail_api_requests_total",
    "deskmail_api_request_seconds",
    "deskmail_store_bytes",
    "deskmail_index_bytes",
    "deskmail_audit_head_seq",
];

#[test]
fn serve_exposes_metrics_to_admins_and_auditors_and_counts_requests_by_route() {
    let (_dir, data, tokens) = setup();
    let server = Server::start(&data);
    let admin = tokens[&Role::Admin].as_str();
    assert_eq!(server.get("/api/health", None).0, 200);

    let first = scrape(&server, Some(admin));
    for name in SERVE_NAMES {
        assert!(
            first.types.contains(*name),
            "{name} missing:\n{}",
            first.text
        );
    }
    assert!(first.get("deskmail_store_bytes") > 0.0);
    assert!(first.get("deskmail_index_bytes") > 0.0);
    assert_eq!(first.sum("deskmail_rules_version_info", &[]), 1.0);
    assert_eq!(first.get("deskmail_outbox_records{state=\"queued\"}"), 0.0);
    assert_eq!(
        first.get("deskmail_messages_rejected_total{reason=\"not_mail\"}"),
        0.0
    );
    assert_eq!(
        first.get("deskmail_send_attempts_total{result=\"5xx\"}"),
        0.0
    );
    first.get("deskmail_review_queue_depth");

    // Requests by route template: a thread by an id that is not there is counted under the
    // template, never the raw path.
    let agent = tokens[&Role::Agent].as_str();
    let stats = "deskmail_api_requests_total{route=\"/api/stats\",status=\"200\"}";
    let before = first.samples.get(stats).copied().unwrap_or(0.0);
    for _ in 0..3 {
        assert_eq!(server.get("/api/stats", Some(agent)).0, 200);
    }
    let (status, _, _) = server.get("/api/threads/ffffeeee0123", Some(agent));
    assert_eq!(status, 404);

    let second = scrape(&server, Some(tokens[&Role::Auditor].as_str()));
    assert_eq!(second.get(stats), before + 3.0, "{}", second.text);
    assert!(
        second.get("deskmail_api_requests_total{route=\"/api/threads/{id}\",status=\"404\"}")
            >= 1.0
    );
    assert!(!second.text.contains("ffffeeee0123"), "a raw path leaked");
    assert!(second.get("deskmail_api_request_seconds_count{route=\"/api/stats\"}") >= 3.0);
    assert!(
        second.get("deskmail_audit_head_seq") > first.get("deskmail_audit_head_seq"),
        "every API request is audited, so the head moves"
    );

    // Other roles and no token are refused.
    assert_eq!(server.get("/metrics", Some(agent)).0, 403);
    assert_eq!(
        server
            .get("/metrics", Some(tokens[&Role::Integration].as_str()))
            .0,
        403
    );
    assert_eq!(server.get("/metrics", None).0, 401);
    let third = scrape(&server, Some(admin));
    assert!(third.get("deskmail_api_requests_total{route=\"/metrics\",status=\"403\"}") >= 2.0);
}

/// `deskmail run` with `[metrics] listen` and no `[api]`: a dropped invoice shows up as an
/// ingested message, an `ap.invoice` decision and a committed intake batch.
#[test]
fn the_daemon_serves_metrics_on_its_own_address() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("deskmail.toml");
    std::fs::write(
        &config,
        format!(
            "data = \"data\"\nrules = \"{}\"\n\n[[drop_folder]]\nname = \"ap\"\npath = \"drop\"\n\
             interval_secs = 1\n\n[metrics]\nlisten = \"127.0.0.1:0\"\n",
            root().join("rules").display()
        ),
    )
    .unwrap();
    let drop = dir.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    std::fs::copy(
        fixtures().join("ap/invoice-en-us-plain-text-net30.eml"),
        drop.join("i.eml"),
    )
    .unwrap();
    let mut child = bin()
        .args(["run", "--config", config.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The bound port, from "metrics on http://ADDR" on stdout.
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("metrics on http://") {
                let _ = tx.send(addr.to_string());
            }
        }
    });
    let addr = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(a) => a,
        Err(e) => {
            let _ = child.kill();
            panic!("the daemon did not say where its metrics are: {e}");
        }
    };
    let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
    let server = Server { child, port };

    let start = Instant::now();
    let s = loop {
        let s = scrape(&server, None);
        if s.sum("deskmail_messages_ingested_total", &[]) >= 1.0
            && s.sum("deskmail_source_last_sync_timestamp_seconds", &[]) > 0.0
        {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "nothing ingested:\n{}",
            s.text
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(s.get("deskmail_messages_ingested_total{mailbox=\"ap\"}") >= 1.0);
    assert!(
        s.sum("deskmail_decisions_total", &["category=\"ap.invoice\""]) >= 1.0,
        "{}",
        s.text
    );
    assert!(s.get("deskmail_intake_batch_seconds_count") >= 1.0);
    assert_eq!(
        s.get("deskmail_source_connected{mailbox=\"ap\",folder=\"drop\"}"),
        1.0
    );
    assert_eq!(
        s.get("deskmail_source_errors_total{mailbox=\"ap\",folder=\"drop\"}"),
        0.0
    );
    assert_eq!(s.sum("deskmail_rules_version_info", &[]), 1.0);
    // The API's series appear with the first API request; this daemon has no [api] (the
    // serve test checks them).
    let api_only = |name: &str| name.starts_with("deskmail_api_");
    for name in SERVE_NAMES.iter().chain(DAEMON_NAMES) {
        if !api_only(name) {
            assert!(s.types.contains(*name), "{name} missing:\n{}", s.text);
        }
    }

    // Every name the shipped dashboard and alerts query is exposed.
    let dashboard =
        std::fs::read_to_string(root().join("examples/grafana-dashboard.json")).unwrap();
    let parsed: serde_json::Value =
        serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    assert!(parsed["panels"].as_array().is_some_and(|p| p.len() >= 7));
    let alerts = std::fs::read_to_string(root().join("examples/alerts.yml")).unwrap();
    check_yaml(&root().join("examples/alerts.yml"));
    for (file, text) in [("dashboard", &dashboard), ("alerts", &alerts)] {
        let names = metric_names(text);
        assert!(names.len() >= 4, "{file}: {names:?}");
        for name in names {
            let served = api_only(&name) && SERVE_NAMES.iter().any(|n| name.starts_with(n));
            assert!(
                served || s.has_name(&name),
                "{file} uses {name}, which no scrape has"
            );
        }
    }

    let mut server = server;
    assert!(
        Command::new("kill")
            .args(["-TERM", &server.child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(server.child.wait().unwrap().success());
}

fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("deskmail_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

/// The alert rules parse as YAML and have the Prometheus rule-file shape. No YAML crate is a
/// dependency, so Python's yaml module checks it where it exists.
fn check_yaml(path: &std::path::Path) {
    let script = "import sys, yaml\n\
        d = yaml.safe_load(open(sys.argv[1]))\n\
        rules = [r for g in d['groups'] for r in g['rules']]\n\
        assert len(rules) >= 4, rules\n\
        for r in rules:\n    assert r['alert'] and r['expr'], r\n";
    match Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
    {
        Ok(out) if out.status.success() => {}
        Ok(out) if String::from_utf8_lossy(&out.stderr).contains("No module named") => {
            eprintln!("python3 has no yaml module: alerts.yml checked for names only");
        }
        Ok(out) => panic!("alerts.yml: {}", String::from_utf8_lossy(&out.stderr)),
        Err(_) => eprintln!("no python3: alerts.yml checked for names only"),
    }
}
