//! Automatic replies end to end on the embedded default (drop folder in, file transport out):
//! one acknowledgement per vendor invoice, threaded, with the extracted fields; none to robots,
//! lists, bounces or ourselves; never two for the same invoice, across restarts.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{bin, deskmail, fixtures, import_invoices, invoice_statuses, json_of, root};

fn write_config(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("deskmail.toml");
    std::fs::write(
        &config,
        format!(
            r#"data = "data"
rules = "{rules}"
[[drop_folder]]
name = "ap"
path = "drop"
interval_secs = 1

[outbound]
from = "ap@ourcompany.example"
templates = "{templates}"
transport = {{ type = "file", dir = "sent" }}
"#,
            rules = root().join("rules").display(),
            templates = root().join("templates").display()
        ),
    )
    .unwrap();
    config
}

/// Run the daemon until `done`, then SIGTERM it.
fn run_daemon_until(config: &Path, done: impl Fn() -> bool) {
    let mut child = bin()
        .args(["run", "--config", config.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !done() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let mut log = String::new();
            for l in BufReader::new(child.stderr.take().unwrap())
                .lines()
                .map_while(Result::ok)
            {
                log.push_str(&l);
                log.push('\n');
            }
            panic!("timed out; daemon log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());
}

/// A `[dunning]` section with these steps, no business-day shift and no quiet hours (the tests
/// run on any day, at any hour), telling the AR team of disputes.
fn dunning_section(steps: &str) -> String {
    format!(
        "[dunning]\nsteps = [ {steps} ]\nbusiness_days_only = false\n\
         send_from = 00:00:00\nsend_until = 23:59:59\nnotify = \"ar-team@ourcompany.example\"\n"
    )
}

/// `deskmail run --once --json --config F [--now T]`: its summary.
fn run_once(config: &Path, now: Option<&str>) -> Value {
    let mut cmd = bin();
    cmd.args(["run", "--once", "--json", "--config"])
        .arg(config);
    if let Some(t) = now {
        cmd.args(["--now", t]);
    }
    json_of(&cmd.output().unwrap())
}

/// `deskmail outbox list --json`: every outbox record.
fn outbox_records(data: &Path) -> Vec<Value> {
    let list = json_of(&deskmail(&[
        "outbox",
        "list",
        "--json",
        "--data",
        data.to_str().unwrap(),
    ]));
    list.as_array().expect("a JSON array").clone()
}

fn sent(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("sent"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .map(|e| std::fs::read_to_string(e.path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn one_acknowledgement_per_vendor_invoice_and_none_to_robots_lists_or_ourselves() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let drop = dir.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    let mail = fixtures();
    for (src, name) in [
        ("ap/invoice-en-us-plain-text-net30.eml", "invoice.eml"),
        (
            "auto/bounce-delivery-status-with-original-invoice.eml",
            "bounce.eml",
        ),
        (
            "auto/out-of-office-en-automatic-reply-mentions-invoice.eml",
            "ooo.eml",
        ),
    ] {
        std::fs::copy(mail.join(src), drop.join(name)).unwrap();
    }
    let invoice =
        std::fs::read_to_string(mail.join("ap/invoice-en-us-plain-text-net30.eml")).unwrap();
    // The same invoice from a mailing list, and one of our own messages quoting it.
    let listed = invoice
        .replace(
            "Message-ID: <",
            "List-Id: <vendors.lists.example>\r\nMessage-ID: <list-",
        )
        .replacen("Message-ID: <", "Message-ID: <list-", 0);
    std::fs::write(drop.join("list.eml"), listed).unwrap();
    let own = invoice
        .replace("billing@brightline-office.example", "ap@ourcompany.example")
        .replace("Message-ID: <", "Message-ID: <own-");
    std::fs::write(drop.join("own.eml"), own).unwrap();

    let data = dir.path().join("data");
    run_daemon_until(&config, || {
        drop.join("processed/own.eml").exists() && !sent(dir.path()).is_empty()
    });
    let replies = sent(dir.path());
    assert_eq!(replies.len(), 1, "{replies:#?}");
    let reply = &replies[0];
    for expected in [
        "From: ap@ourcompany.example",
        "To: billing@brightline-office.example",
        "Subject: Re: Invoice INV-20417",
        "Auto-Submitted: auto-replied",
        "INV-20417",
        "1234.56 USD",
        "2026-04-19",
        "PO-7784",
    ] {
        assert!(
            reply.contains(expected),
            "{expected:?} missing in:\n{reply}"
        );
    }
    let original_id = invoice
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap()
        .trim()
        .to_string();
    assert!(
        reply.contains(&format!("In-Reply-To: {original_id}")),
        "{reply}"
    );
    assert!(
        reply.contains(&format!("References: {original_id}")),
        "{reply}"
    );
    assert!(!reply.contains("{{"), "template syntax leaked: {reply}");
    let outbox = outbox_records(&data);
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0]["state"], "sent");
    let id = outbox[0]["id"].as_str().unwrap().to_string();
    // The thread shows what was sent.
    let hits = json_of(&deskmail(&[
        "search",
        "--json",
        "--data",
        data.to_str().unwrap(),
        "invoice:INV-20417",
    ]));
    let tid = hits["threads"][0]["thread_id"].as_str().unwrap();
    let thread = json_of(&deskmail(&[
        "thread",
        "--json",
        "--data",
        data.to_str().unwrap(),
        tid,
    ]));
    assert_eq!(thread["replies"][0]["id"], id.as_str());

    // The invoice again (a resend, a restart): no second acknowledgement.
    std::fs::copy(
        mail.join("ap/invoice-en-us-plain-text-net30.eml"),
        drop.join("again.eml"),
    )
    .unwrap();
    run_daemon_until(&config, || drop.join("processed/again.eml").exists());
    assert_eq!(sent(dir.path()).len(), 1);
    let outbox = outbox_records(&data);
    assert_eq!(outbox.len(), 1);
    // Erasing the vendor's contact takes the reply to them (it names them) with the message.
    let out = deskmail(&[
        "erase",
        "--data",
        data.to_str().unwrap(),
        "billing@brightline-office.example",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outbox = outbox_records(&data);
    assert!(outbox.is_empty(), "{outbox:?}");
}

#[test]
fn a_template_that_uses_a_field_the_rule_cannot_extract_fails_rules_check() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("ap-acknowledge.txt"),
        "Invoice {{ invoice_number }} promised {{ promised_date }}\n",
    )
    .unwrap();
    let out = deskmail(&["rules", "check", "--templates", templates.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("<built-in>/20-ap.toml:")
            && err.contains("ap-acknowledge")
            && err.contains("unknown variable promised_date"),
        "{err}"
    );
    std::fs::remove_file(templates.join("ap-acknowledge.txt")).unwrap();
    let out = deskmail(&["rules", "check", "--templates", templates.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no "),
        "a missing template is reported"
    );
}

/// The examples a new desk copies must stay valid (paths and secrets they name excepted).
#[test]
fn the_example_configs_parse() {
    for name in ["ap-desk.toml", "ar-desk.toml"] {
        // Secrets come from the desk's environment; any variable that is set will do here.
        let text = std::fs::read_to_string(root().join("examples").join(name))
            .unwrap()
            .replace("DESKMAIL_AR_PASSWORD", "PATH")
            .replace("DESKMAIL_AP_PASSWORD", "PATH");
        let errors = match deskmail::config::Config::parse(name, &text, Path::new("/")) {
            Ok(c) => {
                assert_eq!(c.mailboxes.len(), 1, "{name}");
                assert!(c.outbound.is_some(), "{name}");
                if name == "ar-desk.toml" {
                    let d = c.dunning.expect("a cadence");
                    assert_eq!(d.steps.len(), 5);
                    assert_eq!(d.holidays.len(), 4);
                    assert_eq!(d.send_from.to_string(), "08:00:00");
                }
                continue;
            }
            Err(e) => e.0,
        };
        // Only what needs the customer's own machine may be missing here (TLS files).
        assert_ne!(name, "ar-desk.toml", "{errors:?}");
        for e in &errors {
            assert!(e.message.contains("No such file"), "{name}: {e}");
        }
    }
}

/// A fresh 2048-bit RSA key in PKCS#1 PEM, as a DKIM signing key.
fn make_dkim_key(path: &Path) {
    let ok = Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(path)
        .arg("2048")
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn replies_are_dkim_signed_when_a_key_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let key = dir.path().join("dkim.pem");
    make_dkim_key(&key);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "dkim = {{ domain = \"ourcompany.example\", selector = \"desk2026\", private_key_file = \"{}\" }}\n",
        key.display()
    ));
    std::fs::write(&config, text).unwrap();
    let drop = dir.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    std::fs::copy(
        fixtures().join("ap/invoice-en-us-plain-text-net30.eml"),
        drop.join("i.eml"),
    )
    .unwrap();
    run_daemon_until(&config, || !sent(dir.path()).is_empty());
    let reply = &sent(dir.path())[0];
    let sig = reply
        .split("\r\n")
        .skip_while(|l| !l.starts_with("DKIM-Signature:"))
        .take_while(|l| {
            l.starts_with("DKIM-Signature:") || l.starts_with(' ') || l.starts_with('\t')
        })
        .collect::<String>();
    assert!(
        sig.contains("d=ourcompany.example") && sig.contains("s=desk2026"),
        "{reply}"
    );
    assert!(sig.contains("a=rsa-sha256") && sig.contains("b="), "{sig}");
}

/// Receivables from the ERP, and what the inbox says about them, drive the reminder plan.
#[test]
fn imported_receivables_follow_the_inbox_in_the_reminder_preview() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let csv = dir.path().join("ar.csv");
    std::fs::write(
        &csv,
        "invoice_number,customer,customer_email,amount,currency,issue_date,due_date\n\
         OC-2026-1010,Northwind,ap@northwind.example,1500.00,USD,2026-10-01,2026-11-02\n\
         OC-2026-1020,Contoso,ap@contoso.example,800.00,GBP,2026-10-01,2026-11-02\n\
         OC-2026-1099,Fabrikam,ap@fabrikam.example,99.00,EUR,2026-10-01,2026-11-02\n",
    )
    .unwrap();
    assert!(import_invoices(&data, &csv).contains("3 new"));
    let config = dir.path().join("deskmail.toml");
    std::fs::write(
        &config,
        "[outbound]\nfrom = \"ar@ourcompany.example\"\ntransport = { type = \"file\", dir = \"sent\" }\n\
         [dunning]\nsteps = [ { offset = -3, template = \"ar-friendly\" }, { offset = 7, template = \"ar-reminder\" }, { offset = 30, template = \"ar-final\" } ]\nholidays = [2026-11-09]\n",
    )
    .unwrap();
    let preview = |day: &str| -> Value {
        json_of(&deskmail(&[
            "reminders",
            "preview",
            "--json",
            "--data",
            data.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--on",
            day,
        ]))
    };
    // +7 after Monday 2026-11-02 is Monday 11-09, a holiday: the reminder moves to the 10th.
    let on_9th = preview("2026-11-09");
    assert_eq!(on_9th.as_array().unwrap().len(), 3);
    assert!(
        on_9th
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["template"] == "ar-friendly"),
        "only the -3 step is due yet: {on_9th}"
    );
    let on_10th = preview("2026-11-10");
    assert_eq!(on_10th.as_array().unwrap().len(), 3);
    assert!(
        on_10th
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["template"] == "ar-reminder")
    );
    // The inbox: a dispute pauses 1010, a promise to pay until 15 December pauses 1020.
    let mail = fixtures().join("ar");
    let out = deskmail(&[
        "ingest",
        "--data",
        data.to_str().unwrap(),
        mail.join("dispute-en-us-incorrect-amount.eml")
            .to_str()
            .unwrap(),
        mail.join("promise-to-pay-en-gb-by-15-december.eml")
            .to_str()
            .unwrap(),
    ]);
    assert!(out.status.success());
    let statuses = invoice_statuses(&data);
    let status = |n: &str| statuses[n].as_str();
    assert_eq!(status("OC-2026-1010"), "disputed");
    assert_eq!(status("OC-2026-1020"), "promised");
    let customers = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["customer"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(customers(&preview("2026-11-10")), vec!["Fabrikam"]);
    // After the promised date has passed, Contoso's reminders resume (one catch-up: the latest step).
    let after = preview("2026-12-16");
    assert_eq!(customers(&after), vec!["Contoso", "Fabrikam"]);
    assert!(
        after
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["template"] == "ar-final")
    );
    // A bad file: every problem, nothing imported.
    std::fs::write(&csv, "invoice_number,customer,customer_email,amount,currency,issue_date,due_date\nX,Y,nope,1,EUR,2026-13-01,2026-11-02\n").unwrap();
    let out = deskmail(&[
        "invoices",
        "import",
        "--data",
        data.to_str().unwrap(),
        csv.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ar.csv:2:"));
}

/// Reminders on the embedded default (file transport): the daemon's own tick on the real clock
/// sends the due step once; a dispute from the inbox pauses the invoice and tells the team once;
/// an invoice reopened by hand gets its reminder; a dry run records reminders as held.
#[test]
fn reminders_go_out_once_and_a_dispute_tells_the_team_on_the_embedded_default() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let with_dunning = |dry_run: bool| {
        let mut text = std::fs::read_to_string(&config).unwrap();
        text = text.replace("dry_run = true\n", "");
        if dry_run {
            text = text.replace("[outbound]\n", "[outbound]\ndry_run = true\n");
        }
        if !text.contains("[dunning]") {
            text.push_str(&dunning_section(
                r#"{ offset = -3, template = "ar-friendly" }, { offset = 7, template = "ar-reminder" }"#,
            ));
        }
        std::fs::write(&config, text).unwrap();
    };
    with_dunning(false);
    let data = dir.path().join("data");
    let due = (chrono::Utc::now().date_naive() - chrono::Duration::days(8)).to_string();
    let csv = dir.path().join("ar.csv");
    std::fs::write(
        &csv,
        format!(
            "invoice_number,customer,customer_email,amount,currency,issue_date,due_date,status\n\
             OC-2026-1010,Lakeside Medical,rachel.kim@lakeside-medical.example,8640.00,USD,2026-01-01,{due},open\n\
             OC-2026-1020,Contoso,ap@contoso.example,800.00,GBP,2026-01-01,{due},disputed\n"
        ),
    )
    .unwrap();
    let import = deskmail(&["invoices", "import", "--data", data.to_str().unwrap()]);
    assert!(!import.status.success(), "a file is required");
    import_invoices(&data, &csv);

    run_daemon_until(&config, || sent(dir.path()).len() == 1);
    let reminder = &sent(dir.path())[0];
    for expected in [
        "To: rachel.kim@lakeside-medical.example",
        "From: ap@ourcompany.example",
        "Subject: Payment reminder: 1 overdue invoice",
        "Auto-Submitted: auto-generated",
        "OC-2026-1010",
        "8 days overdue",
    ] {
        assert!(
            reminder.contains(expected),
            "{expected:?} missing:\n{reminder}"
        );
    }
    assert!(
        !reminder.contains("OC-2026-1020"),
        "the disputed invoice waits"
    );

    // The customer disputes it: the next run reads the mail, pauses the invoice, tells the team.
    let drop = dir.path().join("drop");
    std::fs::copy(
        fixtures().join("ar/dispute-en-us-incorrect-amount.eml"),
        drop.join("d.eml"),
    )
    .unwrap();
    let run_once = || run_once(&config, None);
    let summary = run_once();
    assert_eq!(summary["stored"], 1, "{summary}");
    assert_eq!(summary["dunning"]["notices"], 1, "{summary}");
    let notice = sent(dir.path())
        .into_iter()
        .find(|m| m.contains("To: ar-team@ourcompany.example"))
        .expect("a notice to the team");
    assert!(notice.contains("Subject: Disputed: invoice OC-2026-1010 (Lakeside Medical)"));
    assert!(
        notice.contains("Invoice OC-2026-1010 - incorrect amount"),
        "{notice}"
    );
    assert_eq!(run_once()["dunning"]["notices"], 0, "told once");
    assert_eq!(sent(dir.path()).len(), 2);

    // Someone settles the other dispute and reopens that invoice: its reminder goes.
    let out = deskmail(&[
        "invoices",
        "status",
        "--data",
        data.to_str().unwrap(),
        "OC-2026-1020",
        "open",
    ]);
    assert!(out.status.success());
    let out = deskmail(&[
        "invoices",
        "status",
        "--data",
        data.to_str().unwrap(),
        "NO-SUCH-1",
        "open",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no imported invoice"));
    assert_eq!(run_once()["dunning"]["reminders"], 1);
    assert_eq!(sent(dir.path()).len(), 3);
    assert!(
        sent(dir.path())
            .iter()
            .any(|m| m.contains("To: ap@contoso.example"))
    );

    // Dry run: a new invoice's reminder is recorded as held and nothing is written.
    with_dunning(true);
    std::fs::write(
        &csv,
        format!(
            "invoice_number,customer,customer_email,amount,currency,issue_date,due_date\n\
             OC-2026-1030,Fabrikam,ap@fabrikam.example,99.00,EUR,2026-01-01,{due}\n"
        ),
    )
    .unwrap();
    import_invoices(&data, &csv);
    let summary = run_once();
    assert_eq!(summary["dunning"]["reminders"], 1, "{summary}");
    assert!(
        summary["sent"].is_null(),
        "a dry run sends nothing: {summary}"
    );
    assert_eq!(sent(dir.path()).len(), 3);
    let outbox = outbox_records(&data);
    let held: Vec<&Value> = outbox.iter().filter(|r| r["state"] == "held").collect();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["to"], "ap@fabrikam.example");
}

/// `config check` builds what `run` builds: a reply template the rules need but the template
/// directory lacks, and a DKIM key that is not a key, are both reported by the check, and `run`
/// refuses with the same lines before it touches the data directory. Fixed, both pass.
#[test]
fn config_check_refuses_exactly_what_run_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    for entry in std::fs::read_dir(root().join("templates")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "ap-acknowledge.txt" {
            std::fs::copy(entry.path(), templates.join(entry.file_name())).unwrap();
        }
    }
    let key = dir.path().join("dkim.pem");
    std::fs::write(&key, "not a key\n").unwrap();
    let config = dir.path().join("deskmail.toml");
    std::fs::write(
        &config,
        format!(
            "data = \"data\"\nrules = \"{rules}\"\n[[drop_folder]]\nname = \"ap\"\npath = \"drop\"\n\
             [outbound]\nfrom = \"ap@ourcompany.example\"\ntemplates = \"templates\"\n\
             transport = {{ type = \"file\", dir = \"sent\" }}\n\
             dkim = {{ domain = \"ourcompany.example\", selector = \"s\", private_key_file = \"{key}\" }}\n",
            rules = root().join("rules").display(),
            key = key.display()
        ),
    )
    .unwrap();
    let check = deskmail(&["config", "check", config.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(1));
    let check_err = String::from_utf8_lossy(&check.stderr).to_string();
    assert!(check_err.contains("ap-acknowledge"), "{check_err}");
    assert!(check_err.contains("DKIM key"), "{check_err}");
    // Two rules reply with the missing template, and the key: three problems, all at once.
    assert!(check_err.contains("3 problem(s)"), "{check_err}");

    let run = bin()
        .args(["run", "--once", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let run_err = String::from_utf8_lossy(&run.stderr);
    for line in check_err.lines().filter(|l| !l.contains("problem(s)")) {
        assert!(
            run_err.contains(line),
            "run does not say {line:?}:\n{run_err}"
        );
    }
    assert!(
        !dir.path().join("data").exists(),
        "run refused but opened the store"
    );

    std::fs::copy(
        root().join("templates/ap-acknowledge.txt"),
        templates.join("ap-acknowledge.txt"),
    )
    .unwrap();
    make_dkim_key(&key);
    let check = deskmail(&["config", "check", config.to_str().unwrap()]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("OK (0 mailboxes, 1 drop folders"));
    let run = bin()
        .args([
            "run",
            "--once",
            "--json",
            "--config",
            config.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// A reminder template with a misspelt variable fails `config check`, naming it.
#[test]
fn config_check_catches_a_misspelt_variable_in_a_reminder_template() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::copy(
        root().join("templates/ap-acknowledge.txt"),
        templates.join("ap-acknowledge.txt"),
    )
    .unwrap();
    std::fs::write(
        templates.join("ar-due.txt"),
        "Dear {{ custmer }},\n{{ invoice_table }}",
    )
    .unwrap();
    let config = dir.path().join("deskmail.toml");
    std::fs::write(
        &config,
        "[[drop_folder]]\nname = \"d\"\npath = \"drop\"\n[outbound]\nfrom = \"ar@ourcompany.example\"\n\
         transport = { type = \"file\", dir = \"sent\" }\n\
         [dunning]\nsteps = [ { offset = 0, template = \"ar-due\" } ]\n",
    )
    .unwrap();
    let out = deskmail(&["config", "check", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("step +0") && err.contains("unknown variable custmer"),
        "{err}"
    );
    std::fs::write(
        templates.join("ar-due.txt"),
        "Dear {{ customer }},\n{{ invoice_table }}",
    )
    .unwrap();
    let out = deskmail(&["config", "check", config.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The daemon holds the store (sled admits one process): the AR desk's daily import, status
/// changes and lists go through its control socket, and land in the audit log under the caller.
#[test]
fn invoices_and_the_outbox_are_managed_while_the_daemon_runs() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("[dunning]\nsteps = [ { offset = 7, template = \"ar-reminder\" } ]\n");
    std::fs::write(&config, text).unwrap();
    let data = dir.path().join("data");
    let csv = dir.path().join("ar.csv");
    std::fs::write(
        &csv,
        "invoice_number,customer,customer_email,amount,currency,issue_date,due_date\n\
         OC-7,Contoso,ap@contoso.example,800.00,GBP,2026-10-01,2026-11-02\n",
    )
    .unwrap();
    let d = data.to_str().unwrap();
    let outputs = std::cell::RefCell::new(Vec::new());
    run_daemon_until(&config, || {
        if !data.join("control.sock").exists() {
            return false;
        }
        let run = |args: &[&str]| deskmail(args);
        let mut o = outputs.borrow_mut();
        o.push(run(&[
            "invoices",
            "import",
            "--data",
            d,
            csv.to_str().unwrap(),
        ]));
        o.push(run(&[
            "invoices", "status", "--data", d, "OC-7", "disputed",
        ]));
        o.push(run(&["invoices", "list", "--json", "--data", d]));
        o.push(run(&["outbox", "list", "--data", d]));
        o.push(run(&[
            "reminders",
            "preview",
            "--data",
            d,
            "--config",
            config.to_str().unwrap(),
            "--on",
            "2026-11-09",
        ]));
        o.push(run(&["outbox", "retry", "--data", d, "nope"]));
        o.push(run(&["review", "list", "--data", d]));
        o.push(run(&["vendors", "list", "--data", d]));
        o.push(run(&["review", "confirm", "--data", d, "ffff"]));
        o.push(run(&["audit", "verify", "--data", d]));
        true
    });
    let o = outputs.into_inner();
    let text = |i: usize| String::from_utf8_lossy(&o[i].stdout).into_owned();
    for (i, out) in o.iter().take(5).enumerate() {
        assert!(
            out.status.success(),
            "{i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        text(0).contains("imported 1 invoices: 1 new"),
        "{}",
        text(0)
    );
    assert_eq!(text(1).trim(), "OC-7: disputed");
    let list: Value = serde_json::from_str(&text(2)).unwrap();
    assert_eq!(list[0]["status"], "disputed");
    assert!(text(3).contains("the outbox is empty"));
    assert!(text(4).contains("no reminders"), "disputed: {}", text(4));
    assert!(!o[5].status.success());
    assert!(String::from_utf8_lossy(&o[5].stderr).contains("no outbox message \"nope\""));
    // The review queue and the registry answer through the daemon's socket too.
    assert!(
        o[6].status.success() && text(6).starts_with("0 open"),
        "{}",
        text(6)
    );
    // The audit chain is checked on the live store, through the socket.
    assert!(
        o[9].status.success() && text(9).contains("audit log intact"),
        "{}",
        String::from_utf8_lossy(&o[9].stderr)
    );
    assert!(
        o[7].status.success() && text(7).contains("no vendors yet"),
        "{}",
        text(7)
    );
    assert!(!o[8].status.success());
    assert!(
        String::from_utf8_lossy(&o[8].stderr).contains("no single message"),
        "{}",
        String::from_utf8_lossy(&o[8].stderr)
    );
    let store = deskmail::store::Store::open(&data.join("store"), 1 << 20).unwrap();
    let audit = store.audit_records(0, 100).unwrap();
    for action in ["invoices import", "invoices status disputed"] {
        assert!(
            audit
                .iter()
                .any(|r| r.entry.action == action && r.entry.actor.starts_with("cli:")),
            "{action} not audited: {audit:?}"
        );
    }
}

/// A data-protection erasure of a customer's address reaches beyond their messages: the
/// reminders sent to them and the team's dispute notice naming them go, their receivables stay
/// for the books with the address pseudonymised (also through a later ERP import), and they get
/// no more reminders while other customers do. The export before it carries all of that.
#[test]
fn erasing_a_customer_removes_their_reminders_and_keeps_their_invoices_pseudonymised() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&dunning_section(
        r#"{ offset = 7, template = "ar-reminder" }, { offset = 14, template = "ar-second" }"#,
    ));
    std::fs::write(&config, text).unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let rachel = "rachel.kim@lakeside-medical.example";
    let csv = dir.path().join("ar.csv");
    std::fs::write(
        &csv,
        "invoice_number,customer,customer_email,amount,currency,issue_date,due_date\n\
         OC-2026-1010,Lakeside Medical,rachel.kim@lakeside-medical.example,8640.00,USD,2027-02-01,2027-03-01\n\
         OC-2026-1011,Lakeside Medical,Rachel.Kim@lakeside-medical.example,120.00,USD,2027-02-01,2027-03-01\n\
         OC-2026-1020,Contoso,ap@contoso.example,800.00,GBP,2027-02-01,2027-03-01\n",
    )
    .unwrap();
    import_invoices(&data, &csv);
    let to_rachel = || {
        sent(dir.path())
            .iter()
            .filter(|m| m.contains(&format!("To: {rachel}")))
            .count()
    };

    // Day +9: one reminder each. Then a colleague of Rachel's disputes one invoice by mail, so
    // the team's notice names her address without being about a message of hers.
    let summary = run_once(&config, Some("2027-03-10T14:00:00Z"));
    assert_eq!(summary["dunning"]["reminders"], 2, "{summary}");
    assert_eq!(to_rachel(), 1);
    let dispute = std::fs::read_to_string(fixtures().join("ar/dispute-en-us-incorrect-amount.eml"))
        .unwrap()
        .replacen(rachel, "accounts@lakeside-medical.example", 1);
    std::fs::write(dir.path().join("drop/d.eml"), dispute).unwrap();
    let summary = run_once(&config, Some("2027-03-11T14:00:00Z"));
    assert_eq!(summary["dunning"]["notices"], 1, "{summary}");
    assert_eq!(outbox_records(&data).len(), 3);

    // The export holds her receivables, what was sent to her and the notice naming her.
    let archive = dir.path().join("rachel.tar");
    let out = deskmail(&[
        "export",
        "--data",
        d,
        "--out",
        archive.to_str().unwrap(),
        rachel,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut tar = tar::Archive::new(std::fs::File::open(&archive).unwrap());
    let mut summary = None;
    for entry in tar.entries().unwrap() {
        let entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some("export.json") {
            summary = Some(serde_json::from_reader::<_, Value>(entry).unwrap());
        }
    }
    let summary = summary.expect("export.json in the archive");
    let numbers: Vec<&str> = summary["receivables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["invoice_number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers.len(), 2, "{summary}");
    assert!(numbers.contains(&"OC-2026-1010") && numbers.contains(&"OC-2026-1011"));
    let mut exported_to: Vec<&str> = summary["outbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["to"].as_str().unwrap())
        .collect();
    exported_to.sort();
    assert_eq!(exported_to, ["ar-team@ourcompany.example", rachel]);

    // Erase: the reminder to her goes; the notice naming her stays with a pseudonym (so it is
    // not sent again); Contoso's reminder is untouched.
    let out = deskmail(&["erase", "--data", d, rachel]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outbox_removed"], 1, "{report}");
    assert_eq!(report["outbox_redacted"], 1, "{report}");
    assert_eq!(report["receivables_pseudonymised"], 2, "{report}");
    let left = outbox_records(&data);
    let text = serde_json::to_string(&left).unwrap().to_lowercase();
    assert!(!text.contains(rachel), "{text}");
    let mut to: Vec<&str> = left.iter().map(|r| r["to"].as_str().unwrap()).collect();
    to.sort();
    assert_eq!(to, ["ap@contoso.example", "ar-team@ourcompany.example"]);
    let notice = left
        .iter()
        .find(|r| r["to"] == "ar-team@ourcompany.example")
        .unwrap();
    assert!(
        notice["body_text"].as_str().unwrap().contains("<erased-"),
        "{notice}"
    );
    let invoices = || deskmail(&["invoices", "list", "--json", "--data", d]);
    let check_invoices = |why: &str| {
        let out = invoices();
        let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert!(!text.contains(rachel), "{why}: {text}");
        let list = json_of(&out);
        let theirs: Vec<&Value> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["customer"] == "Lakeside Medical")
            .collect();
        assert_eq!(theirs.len(), 2, "{why}: the invoices stay for the books");
        for r in &theirs {
            let email = r["customer_email"].as_str().unwrap();
            assert!(
                email.starts_with("erased-") && !email.contains('@'),
                "{why}: {email}"
            );
        }
        let amounts: Vec<&str> = theirs
            .iter()
            .map(|r| r["amount"].as_str().unwrap())
            .collect();
        assert!(
            amounts.contains(&"8640.00") && amounts.contains(&"120.00"),
            "{why}"
        );
    };
    check_invoices("after the erasure");
    import_invoices(&data, &csv);
    check_invoices("after the ERP sends the same invoices again");

    // Day +15: the +14 step is due for everyone, but only Contoso is reminded.
    let summary = run_once(&config, Some("2027-03-16T14:00:00Z"));
    assert_eq!(summary["dunning"]["reminders"], 1, "{summary}");
    assert_eq!(
        summary["dunning"]["notices"], 0,
        "the team was told already: {summary}"
    );
    assert_eq!(to_rachel(), 1, "nothing more goes to an erased customer");
    assert_eq!(
        sent(dir.path())
            .iter()
            .filter(|m| m.contains("To: ap@contoso.example"))
            .count(),
        2
    );
}
