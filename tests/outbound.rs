//! Automatic replies end to end on the embedded default (drop folder in, file transport out):
//! one acknowledgement per vendor invoice, threaded, with the extracted fields; none to robots,
//! lists, bounces or ourselves; never two for the same invoice, across restarts.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{bin, deskmail, fixtures, json_of, root};

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
    let outbox = json_of(&deskmail(&[
        "outbox",
        "list",
        "--json",
        "--data",
        data.to_str().unwrap(),
    ]));
    let outbox = outbox.as_array().unwrap();
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
    let outbox = json_of(&deskmail(&[
        "outbox",
        "list",
        "--json",
        "--data",
        data.to_str().unwrap(),
    ]));
    assert_eq!(outbox.as_array().unwrap().len(), 1);
}

#[test]
fn a_template_that_uses_a_field_the_rule_cannot_extract_fails_rules_check() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("ap-acknowledge.txt"),
        "Invoice {{ invoice_number }} of {{ iban }}\n",
    )
    .unwrap();
    let out = deskmail(&["rules", "check", "--templates", templates.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rules/20-ap.toml:")
            && err.contains("ap-acknowledge")
            && err.contains("undefined"),
        "{err}"
    );
    std::fs::remove_file(templates.join("ap-acknowledge.txt")).unwrap();
    let out = deskmail(&["rules", "check", "--templates", templates.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no "),
        "a missing template is reported"
    );
    let _: Option<Value> = None;
}

/// The example a new desk copies must stay valid (paths and secrets it names excepted).
#[test]
fn the_ap_desk_example_config_parses() {
    let text = std::fs::read_to_string(root().join("examples/ap-desk.toml")).unwrap();
    let errors = match deskmail::config::Config::parse("ap-desk.toml", &text, Path::new("/")) {
        Ok(c) => {
            assert_eq!(c.mailboxes.len(), 1);
            assert!(c.outbound.is_some() && c.api.is_some());
            return;
        }
        Err(e) => e.0,
    };
    // Only what needs the customer's own machine may be missing here.
    for e in &errors {
        assert!(
            e.message.contains("is not set") || e.message.contains("No such file"),
            "{e}"
        );
    }
}

#[test]
fn replies_are_dkim_signed_when_a_key_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let key = dir.path().join("dkim.pem");
    let ok = Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&key)
        .arg("2048")
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
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
