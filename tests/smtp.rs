//! Automatic replies through a real Postfix (scripts/postfix.sh) delivering over LMTP into a
//! real Dovecot (scripts/dovecot.sh); each test reads what arrived back over IMAP, as a person
//! would. deskmail reads its input from a drop folder here (IMAP intake has tests/imap.rs).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{bin, deskmail, fixtures, json_of, root};

struct Servers {
    dir: PathBuf,
    env: HashMap<String, String>,
    _tmp: tempfile::TempDir,
}

fn script(name: &str, args: &[&str]) -> String {
    let out = Command::new(root().join("scripts").join(name))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn read_env(path: &Path, into: &mut HashMap<String, String>) {
    for line in std::fs::read_to_string(path).unwrap().lines() {
        if let Some((k, v)) = line.split_once('=') {
            into.insert(k.into(), v.into());
        }
    }
}

impl Servers {
    fn start() -> Servers {
        let tmp = tempfile::Builder::new()
            .prefix("deskmail-smtp-")
            .tempdir()
            .unwrap();
        let dir = tmp.path().to_path_buf();
        let (dv, pf) = (dir.join("dovecot"), dir.join("postfix"));
        script("dovecot.sh", &["start", dv.to_str().unwrap()]);
        script(
            "postfix.sh",
            &["start", pf.to_str().unwrap(), dv.to_str().unwrap()],
        );
        let mut env = HashMap::new();
        read_env(&dv.join("env"), &mut env);
        read_env(&pf.join("env"), &mut env);
        Servers {
            dir,
            env,
            _tmp: tmp,
        }
    }

    fn postfix(&self, verb: &str) {
        let pf = self.dir.join("postfix");
        if verb == "start" {
            script("postfix.sh", &["restart", pf.to_str().unwrap()]);
        } else {
            script("postfix.sh", &[verb, pf.to_str().unwrap()]);
        }
    }

    /// Messages in a user's INBOX, read over IMAPS.
    fn inbox(&self, user: &str) -> Vec<String> {
        let out = Command::new("python3")
            .args([
                "-c",
                r#"
import imaplib, ssl, sys, json
ctx = ssl.create_default_context(cafile=sys.argv[2])
m = imaplib.IMAP4_SSL('localhost', int(sys.argv[1]), ssl_context=ctx)
m.login(sys.argv[3], 'secret-' + sys.argv[3])
m.select('INBOX')
_, ids = m.search(None, 'ALL')
out = []
for i in ids[0].split():
    _, d = m.fetch(i, '(BODY.PEEK[])')
    out.append(d[0][1].decode('utf-8', 'replace'))
print(json.dumps(out))
"#,
                &self.env["IMAPS_PORT"],
                &self.env["CA_FILE"],
                user,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// deskmail.toml: a drop folder in, SMTP out through Postfix (STARTTLS + AUTH as ap).
    fn config(&self) -> PathBuf {
        let config = self.dir.join("deskmail.toml");
        std::fs::write(
            &config,
            format!(
                r#"data = "data"
rules = "{rules}"
[[drop_folder]]
name = "ap"
path = "drop"
interval_secs = 1

[api]
listen = "127.0.0.1:0"

[outbound]
from = "ap@example.test"
templates = "{templates}"
transport = {{ type = "smtp", host = "localhost", port = {port}, tls = "starttls", ca_file = "{ca}", username = "ap", password_env = "SMTP_PW" }}
"#,
                rules = root().join("rules").display(),
                templates = root().join("templates").display(),
                port = self.env["SMTP_PORT"],
                ca = self.env["CA_FILE"],
            ),
        )
        .unwrap();
        std::fs::create_dir_all(self.dir.join("drop")).unwrap();
        config
    }

    fn drop_invoice(&self, name: &str, vendor: &str) {
        let text =
            std::fs::read_to_string(fixtures().join("ap/invoice-en-us-plain-text-net30.eml"))
                .unwrap()
                .replace("billing@brightline-office.example", vendor)
                .replace("Message-ID: <", &format!("Message-ID: <{name}-"));
        std::fs::write(self.dir.join("drop").join(format!("{name}.eml")), text).unwrap();
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/postfix.sh"))
            .args(["stop", self.dir.join("postfix").to_str().unwrap()])
            .output();
        let _ = Command::new(root().join("scripts/dovecot.sh"))
            .args(["stop", self.dir.join("dovecot").to_str().unwrap()])
            .output();
    }
}

/// The daemon with its API (to watch the outbox while it holds the store).
struct Daemon {
    child: Child,
    port: u16,
    token: String,
}

impl Daemon {
    fn start(s: &Servers) -> Daemon {
        let token = tokens_for(s);
        let mut child = bin()
            .current_dir(&s.dir)
            .args(["run", "--config", s.config().to_str().unwrap()])
            .env("SMTP_PW", "secret-ap")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(s.dir.join("daemon.log")).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .expect("API port");
        Daemon { child, port, token }
    }

    fn outbox(&self) -> Vec<Value> {
        let out = Command::new("python3")
            .args([
                "-c",
                "import sys,urllib.request\n\
                 r=urllib.request.Request(sys.argv[1], headers={'Authorization':'Bearer '+sys.argv[2]})\n\
                 print(urllib.request.urlopen(r).read().decode())",
                &format!("http://127.0.0.1:{}/api/outbox", self.port),
                &self.token,
            ])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        v["outbox"].as_array().cloned().unwrap_or_default()
    }

    fn stop(mut self) {
        assert!(
            Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
        assert!(self.child.wait().unwrap().success());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An agent token, made before the daemon takes the store (once per data dir).
fn tokens_for(s: &Servers) -> String {
    let file = s.dir.join("token");
    if let Ok(t) = std::fs::read_to_string(&file) {
        return t;
    }
    let out = deskmail(&[
        "token",
        "create",
        "--data",
        s.data().to_str().unwrap(),
        "--role",
        "agent",
        "--name",
        "t",
    ]);
    let t = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .to_string();
    std::fs::write(&file, &t).unwrap();
    t
}

fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn scenario1_a_vendor_invoice_gets_exactly_one_threaded_acknowledgement() {
    let s = Servers::start();
    let d = Daemon::start(&s);
    s.drop_invoice("inv1", "vendor@example.test");
    wait_for("the acknowledgement", 20, || s.inbox("vendor").len() == 1);
    let ack = &s.inbox("vendor")[0];
    for expected in [
        "From: ap@example.test",
        "To: vendor@example.test",
        "Subject: Re: Invoice INV-20417",
        "In-Reply-To: <inv1-",
        "References: <inv1-",
        "Auto-Submitted: auto-replied",
        "INV-20417",
        "1234.56 USD",
        "2026-04-19",
    ] {
        assert!(ack.contains(expected), "{expected:?} missing:\n{ack}");
    }
    assert_eq!(d.outbox()[0]["state"], "sent");
    d.stop();
    // A restart sends nothing again.
    let d = Daemon::start(&s);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(s.inbox("vendor").len(), 1);
    d.stop();
}

#[test]
fn scenario3_replies_wait_while_smtp_is_down_and_go_once_when_it_is_back() {
    let s = Servers::start();
    s.postfix("stop");
    let d = Daemon::start(&s);
    s.drop_invoice("inv3", "vendor@example.test");
    wait_for("a failed attempt", 20, || {
        d.outbox()
            .first()
            .is_some_and(|r| r["state"] == "queued" && r["attempts"].as_u64() >= Some(1))
    });
    let queued = d.outbox();
    assert!(
        queued[0]["last_error"].as_str().unwrap_or_default().len() > 3,
        "{queued:?}"
    );
    s.postfix("start");
    wait_for("delivery after the restart", 30, || {
        s.inbox("vendor").len() == 1
    });
    wait_for("sent", 10, || d.outbox()[0]["state"] == "sent");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(s.inbox("vendor").len(), 1, "delivered exactly once");
    d.stop();
}

#[test]
fn scenario4_a_permanent_refusal_fails_without_retries_and_shows_in_outbox_list() {
    let s = Servers::start();
    let d = Daemon::start(&s);
    s.drop_invoice("inv4", "rejected@example.test");
    wait_for("the refusal", 20, || {
        d.outbox().first().is_some_and(|r| r["state"] == "failed")
    });
    std::thread::sleep(Duration::from_secs(3));
    let rec = &d.outbox()[0];
    assert_eq!(rec["state"], "failed");
    assert_eq!(rec["attempts"], 1, "5xx is not retried");
    assert!(rec["last_error"].as_str().unwrap().contains("550"), "{rec}");
    d.stop();
    let out = deskmail(&["outbox", "list", "--data", s.data().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("failed") && text.contains("rejected@example.test") && text.contains("550"),
        "{text}"
    );
}

/// The crash window: deskmail marked the reply `sending`, Postfix took it, and the daemon died
/// before marking it `sent`. On restart the record is `uncertain` and is not sent again.
#[test]
fn scenario5_a_crash_between_handing_over_and_marking_sent_makes_no_second_copy() {
    let s = Servers::start();
    let d = Daemon::start(&s);
    s.drop_invoice("inv5", "vendor@example.test");
    wait_for("the acknowledgement", 20, || s.inbox("vendor").len() == 1);
    let id = d.outbox()[0]["id"].as_str().unwrap().to_string();
    // SIGKILL, then put the store back in the state a kill inside the window leaves.
    let mut d = d;
    d.child.kill().unwrap();
    d.child.wait().unwrap();
    {
        let store = deskmail::store::Store::open(&s.data().join("store"), 1 << 20).unwrap();
        let mut rec = store.outbox_get(&id).unwrap().unwrap();
        rec.state = deskmail::outbound::OutboxState::Sending;
        store.outbox_put(&rec, true).unwrap();
    }
    let d2 = Daemon::start(&s);
    wait_for("uncertain", 10, || d2.outbox()[0]["state"] == "uncertain");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(s.inbox("vendor").len(), 1, "no second copy");
    d2.stop();
    // A person who checked decides: retry sends it again, once.
    let out = deskmail(&["outbox", "retry", "--data", s.data().to_str().unwrap(), &id]);
    assert!(out.status.success());
    let d3 = Daemon::start(&s);
    wait_for("the retried copy", 20, || s.inbox("vendor").len() == 2);
    d3.stop();
    let list = json_of(&deskmail(&[
        "outbox",
        "list",
        "--json",
        "--data",
        s.data().to_str().unwrap(),
    ]));
    assert_eq!(list[0]["state"], "sent");
}
