//! Automatic replies through a real Postfix (scripts/postfix.sh) delivering over LMTP into a
//! real Dovecot (scripts/dovecot.sh); each test reads what arrived back over IMAP, as a person
//! would. deskmail reads its input from a drop folder here (IMAP intake has tests/imap.rs).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{bin, deskmail, fixtures, import_invoices, invoice_statuses, json_of, root};

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

    /// Run a Python snippet logged in over IMAPS as `user` (as `m`, INBOX selected), with
    /// `input` on its standard input; its standard output.
    fn imap(&self, user: &str, snippet: &str, input: &[u8]) -> Vec<u8> {
        let script = format!(
            "import imaplib, ssl, sys, json\n\
             ctx = ssl.create_default_context(cafile=sys.argv[2])\n\
             m = imaplib.IMAP4_SSL('localhost', int(sys.argv[1]), ssl_context=ctx)\n\
             m.login(sys.argv[3], 'secret-' + sys.argv[3])\n\
             m.select('INBOX')\n{snippet}"
        );
        let mut child = Command::new("python3")
            .args(["-c", &script])
            .args([&self.env["IMAPS_PORT"], &self.env["CA_FILE"], user])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "IMAP as {user}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Messages in a user's INBOX, read over IMAPS.
    fn inbox(&self, user: &str) -> Vec<String> {
        let out = self.imap(
            user,
            "_, ids = m.search(None, 'ALL')\n\
             out = []\n\
             for i in ids[0].split():\n    \
             _, d = m.fetch(i, '(BODY.PEEK[])')\n    \
             out.append(d[0][1].decode('utf-8', 'replace'))\n\
             print(json.dumps(out))\n",
            b"",
        );
        serde_json::from_slice(&out).unwrap()
    }

    /// Put a message into a user's INBOX (IMAP APPEND), as if a customer had written.
    fn append(&self, user: &str, raw: &str) {
        self.imap(
            user,
            "m.append('INBOX', None, None, sys.stdin.buffer.read())\n",
            raw.replace('\n', "\r\n").as_bytes(),
        );
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
    if common::skip_without(common::Needs::MailServers) {
        return;
    }
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

/// Robots, lists and ourselves get nothing. Postfix hands every address it is given to some
/// mailbox (unknown ones to the catch-all), so a wrong reply could not hide: after a vendor
/// invoice (the control) is acknowledged, the acknowledgement is the only mail anywhere.
#[test]
fn scenario2_no_reply_to_a_bounce_an_out_of_office_a_list_or_ourselves() {
    if common::skip_without(common::Needs::MailServers) {
        return;
    }
    let s = Servers::start();
    let d = Daemon::start(&s);
    let drop = s.dir.join("drop");
    for (src, name) in [
        (
            "auto/bounce-delivery-status-with-original-invoice.eml",
            "bounce.eml",
        ),
        (
            "auto/out-of-office-en-automatic-reply-mentions-invoice.eml",
            "ooo.eml",
        ),
    ] {
        std::fs::copy(fixtures().join(src), drop.join(name)).unwrap();
    }
    let invoice =
        std::fs::read_to_string(fixtures().join("ap/invoice-en-us-plain-text-net30.eml")).unwrap();
    let listed = invoice
        .replace("billing@brightline-office.example", "vendor@example.test")
        .replace(
            "Message-ID: <",
            "List-Id: <vendors.lists.example>\r\nMessage-ID: <list-",
        );
    std::fs::write(drop.join("list.eml"), listed).unwrap();
    let own = invoice
        .replace("billing@brightline-office.example", "ap@example.test")
        .replace("Message-ID: <", "Message-ID: <own-");
    std::fs::write(drop.join("own.eml"), own).unwrap();
    wait_for("the robots and copies processed", 20, || {
        ["bounce", "ooo", "list", "own"]
            .iter()
            .all(|n| drop.join(format!("processed/{n}.eml")).exists())
    });
    // The control is another invoice: the "own" copy above carries INV-20417, and a second
    // INV-20417 would be a duplicate, which waits in review instead of being acknowledged.
    let control = invoice
        .replace("billing@brightline-office.example", "vendor@example.test")
        .replace("INV-20417", "INV-20418")
        .replace("Message-ID: <", "Message-ID: <control-");
    std::fs::write(drop.join("control.eml"), control).unwrap();
    wait_for("the control's acknowledgement", 20, || {
        s.inbox("vendor").len() == 1
    });
    std::thread::sleep(Duration::from_secs(2));
    let everywhere: usize = ["vendor", "catchall", "ap", "ar", "billing", "customer"]
        .iter()
        .map(|u| s.inbox(u).len())
        .sum();
    assert_eq!(everywhere, 1, "only the control was answered");
    assert!(s.inbox("vendor")[0].contains("In-Reply-To: <control-"));
    assert_eq!(d.outbox().len(), 1);
    d.stop();
}

#[test]
fn scenario3_replies_wait_while_smtp_is_down_and_go_once_when_it_is_back() {
    if common::skip_without(common::Needs::MailServers) {
        return;
    }
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
    if common::skip_without(common::Needs::MailServers) {
        return;
    }
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
    if common::skip_without(common::Needs::MailServers) {
        return;
    }
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

/// An AR desk: ar@ read over IMAP, reminders out through Postfix as ar, the team at billing@.
fn ar_config(s: &Servers) -> PathBuf {
    let config = s.dir.join("ar-desk.toml");
    std::fs::write(
        &config,
        format!(
            r#"data = "data"
rules = "{rules}"

[[mailbox]]
name = "ar"
host = "localhost"
port = {imaps}
tls = "implicit"
ca_file = "{ca}"
username = "ar"
password_env = "PW_AR"

[outbound]
from = "ar@example.test"
templates = "{templates}"
transport = {{ type = "smtp", host = "localhost", port = {smtp}, tls = "starttls", ca_file = "{ca}", username = "ar", password_env = "PW_AR" }}

[dunning]
steps = [
  {{ offset = -3, template = "ar-friendly" }},
  {{ offset = 0, template = "ar-due" }},
  {{ offset = 7, template = "ar-reminder" }},
  {{ offset = 14, template = "ar-second" }},
  {{ offset = 30, template = "ar-final" }},
]
holidays = [2027-03-26, 2027-03-29]   # Good Friday, Easter Monday
notify = "billing@example.test"
"#,
            rules = root().join("rules").display(),
            templates = root().join("templates").display(),
            imaps = s.env["IMAPS_PORT"],
            smtp = s.env["SMTP_PORT"],
            ca = s.env["CA_FILE"],
        ),
    )
    .unwrap();
    config
}

const AR_CSV: &str = "\
invoice_number,customer,customer_email,amount,currency,issue_date,due_date,timezone
INV-27001,Acme GmbH,customer@example.test,1200.00,EUR,2027-02-08,2027-03-10,
INV-27002,Acme GmbH,customer@example.test,310.50,EUR,2027-02-15,2027-03-17,
INV-27003,Beta Ltd,beta@beta.test,980.00,GBP,2027-02-03,2027-03-05,
INV-27004,Gamma Inc,gamma@gamma.test,4500.00,USD,2027-02-01,2027-03-03,America/New_York
INV-27005,Delta BV,delta@delta.test,75.00,EUR,2027-03-01,2027-03-31,
INV-27006,Delta BV,delta@delta.test,120.00,EUR,2027-02-27,2027-03-29,
";

const PROMISE: &str = "From: Gamma Finance <gamma@gamma.test>
To: ar@example.test
Subject: Re: Payment reminder
Date: Thu, 11 Mar 2027 13:00:00 +0000
Message-ID: <promise-27004@gamma.test>

Hello,

sorry for the delay. We will pay invoice INV-27004 on 22 March 2027.

Best, Gamma
";

const DISPUTE: &str = "From: Beta Purchasing <beta@beta.test>
To: ar@example.test
Subject: Dispute: invoice INV-27003
Date: Mon, 15 Mar 2027 08:30:00 +0000
Message-ID: <dispute-27003@beta.test>

Hello,

we dispute invoice INV-27003: we were charged twice for the same delivery.

Regards, Beta
";

const REMITTANCE: &str = "From: Acme Accounts <customer@example.test>
To: ar@example.test
Subject: Remittance advice
Date: Fri, 19 Mar 2027 09:12:00 +0000
Message-ID: <remit-27001@acme.example>

Hello,

we have paid invoice INV-27001 today.
Amount paid: 1200.00 EUR

Regards, Acme
";

/// (day, recipient, subject start, invoices named) of one delivered message.
type Delivered = (chrono::NaiveDate, String, String, Vec<String>);

const SUBJECT_STARTS: &[&str] = &[
    "Friendly reminder",
    "Payment due today",
    "Payment reminder",
    "Second reminder",
    "Final notice",
    "Disputed: invoice INV-27003",
];

/// A delivered message as a row of the table, and its Message-ID.
fn delivered(raw: &str) -> (Delivered, String) {
    let m = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("a message");
    let date = m.date().expect("Date");
    let day = chrono::NaiveDate::from_ymd_opt(
        i32::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    )
    .unwrap();
    let to = m
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_string();
    let subject = m.subject().unwrap_or_default();
    // The rest of a subject counts invoices; the table names them.
    let subject = SUBJECT_STARTS
        .iter()
        .find(|p| subject.starts_with(*p))
        .map_or(subject, |p| p)
        .to_string();
    let mut invoices: Vec<String> = regex::Regex::new(r"INV-\d{5}")
        .unwrap()
        .find_iter(&m.body_text(0).unwrap_or_default())
        .map(|x| x.as_str().to_string())
        .collect();
    invoices.sort();
    invoices.dedup();
    let id = m.message_id().unwrap_or_default().to_string();
    ((day, to, subject, invoices), id)
}

/// Scenario 6: a CSV of six invoices for four customers, the cadence -3/0/+7/+14/+30 on business
/// days (two holidays), run once per simulated day at 14:00 UTC for 60 days, with a week of
/// downtime. The customers' mail arrives in ar@ over IMAP; reminders go out through Postfix and
/// are read back from the customers' mailboxes. The expected table is worked out by hand from the
/// calendar (2027-03-01 is a Monday).
#[test]
fn scenario6_sixty_days_of_reminders_follow_the_calendar_and_the_inbox() {
    if common::skip_without(common::Needs::MailServers) {
        return;
    }
    let s = Servers::start();
    let config = ar_config(&s);
    let csv = s.dir.join("receivables.csv");
    std::fs::write(&csv, AR_CSV).unwrap();
    let data = s.dir.join("data");
    import_invoices(&data, &csv);
    let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let customer_mail = [
        (d("2027-03-11"), PROMISE),
        (d("2027-03-15"), DISPUTE),
        (d("2027-03-19"), REMITTANCE),
    ];
    let downtime = d("2027-04-05")..=d("2027-04-11");
    let mut queued = 0;
    for day in d("2027-03-01").iter_days().take(60) {
        if downtime.contains(&day) {
            continue;
        }
        for (_, raw) in customer_mail.iter().filter(|(on, _)| *on == day) {
            s.append("ar", raw);
        }
        let out = bin()
            .current_dir(&s.dir)
            .args(["run", "--once", "--json", "--config"])
            .arg(&config)
            .args(["--now", &format!("{day}T14:00:00Z")])
            .env("PW_AR", "secret-ar")
            .output()
            .unwrap();
        let summary = json_of(&out);
        assert!(
            summary["failures"].as_array().unwrap().is_empty(),
            "{day}: {summary}"
        );
        let tick = &summary["dunning"];
        let made = tick["reminders"].as_u64().unwrap() + tick["notices"].as_u64().unwrap();
        assert_eq!(
            summary["sent"]["sent"].as_u64(),
            Some(made),
            "{day}: {summary}"
        );
        queued += made;
    }

    let row = |day: &str, to: &str, subject: &str, invoices: &[&str]| -> Delivered {
        (
            d(day),
            to.to_string(),
            subject.to_string(),
            invoices.iter().map(|s| s.to_string()).collect(),
        )
    };
    let (acme, beta, gamma, delta) = (
        "customer@example.test",
        "beta@beta.test",
        "gamma@gamma.test",
        "delta@delta.test",
    );
    let mut expected = vec![
        // Gamma: -3 falls on Sunday 02-28, so Monday; then the promise (03-11) to pay by 03-22
        // pauses it; +14 (03-17) is held back and goes out the day after the promised date.
        row("2027-03-01", gamma, "Friendly reminder", &["INV-27004"]),
        row("2027-03-03", gamma, "Payment due today", &["INV-27004"]),
        row("2027-03-10", gamma, "Payment reminder", &["INV-27004"]),
        row("2027-03-23", gamma, "Second reminder", &["INV-27004"]),
        row("2027-04-02", gamma, "Final notice", &["INV-27004"]),
        // Beta: disputed on 03-15, so +14 (03-19) and later never go; the team hears once.
        row("2027-03-02", beta, "Friendly reminder", &["INV-27003"]),
        row("2027-03-05", beta, "Payment due today", &["INV-27003"]),
        row("2027-03-12", beta, "Payment reminder", &["INV-27003"]),
        row(
            "2027-03-15",
            "billing@example.test",
            "Disputed: invoice INV-27003",
            &["INV-27003"],
        ),
        // Acme: -3 steps fall on Sundays (Monday instead); 03-17 carries both invoices in one
        // email; the remittance on 03-19 stops INV-27001, INV-27002 goes on alone.
        row("2027-03-08", acme, "Friendly reminder", &["INV-27001"]),
        row("2027-03-10", acme, "Payment due today", &["INV-27001"]),
        row("2027-03-15", acme, "Friendly reminder", &["INV-27002"]),
        row(
            "2027-03-17",
            acme,
            "Payment reminder",
            &["INV-27001", "INV-27002"],
        ),
        row("2027-03-24", acme, "Payment reminder", &["INV-27002"]),
        row("2027-03-31", acme, "Second reminder", &["INV-27002"]),
        row("2027-04-16", acme, "Final notice", &["INV-27002"]),
        // Delta: Good Friday and Easter Monday push INV-27005's -3 and INV-27006's 0 to Tuesday
        // 03-30 (one email). Downtime 04-05..04-11 swallows both +7 steps: on 04-12 one catch-up
        // email carries only the latest due step of each (INV-27006 is at +14 by then).
        row(
            "2027-03-30",
            delta,
            "Payment due today",
            &["INV-27005", "INV-27006"],
        ),
        row("2027-03-31", delta, "Payment due today", &["INV-27005"]),
        row(
            "2027-04-12",
            delta,
            "Second reminder",
            &["INV-27005", "INV-27006"],
        ),
        row("2027-04-14", delta, "Second reminder", &["INV-27005"]),
        row("2027-04-28", delta, "Final notice", &["INV-27006"]),
    ];
    assert_eq!(queued as usize, expected.len(), "queued in all");

    let read_all = || {
        let mut all = Vec::new();
        for user in ["customer", "catchall", "billing"] {
            all.extend(s.inbox(user));
        }
        all
    };
    wait_for("every reminder delivered", 30, || {
        read_all().len() >= expected.len()
    });
    std::thread::sleep(Duration::from_secs(1));
    let mut ids = std::collections::HashSet::new();
    let mut actual: Vec<Delivered> = Vec::new();
    for raw in read_all() {
        assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");
        let (row, id) = delivered(&raw);
        assert!(ids.insert(id.clone()), "sent twice: {id}");
        actual.push(row);
    }
    actual.sort();
    expected.sort();
    assert_eq!(actual, expected);

    let statuses = invoice_statuses(&data);
    let status = |n: &str| statuses[n].as_str();
    assert_eq!(status("INV-27001"), "paid");
    assert_eq!(status("INV-27003"), "disputed");
    assert_eq!(status("INV-27004"), "promised");
    assert_eq!(status("INV-27002"), "open");
}
