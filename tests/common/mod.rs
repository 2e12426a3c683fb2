//! Helpers shared by the integration tests: run the deskmail binary from the repository root
//! with no DESKMAIL_* settings leaking in from the caller's environment.
#![allow(dead_code)] // each test crate uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub mod api;
pub mod ar;
pub mod clamd;
pub mod dovecot;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    root().join("fixtures/mail")
}

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_deskmail"));
    c.current_dir(root())
        .env_remove("DESKMAIL_DATA")
        .env_remove("DESKMAIL_RULES")
        .env_remove("DESKMAIL_CONFIG")
        .env_remove("DESKMAIL_DROP");
    c
}

/// Ends a daemon started by a test with SIGTERM and checks that it stopped cleanly.
pub fn stop_with_sigterm(mut child: std::process::Child, guard: KillOnDrop) {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let exit = child.wait().unwrap();
    std::mem::forget(guard);
    assert!(exit.success(), "daemon exit: {exit:?}");
}

/// `deskmail ARGS` started in the background (a daemon), its log (`DESKMAIL_LOG=filter`) in the
/// file `log`; killed when the guard drops unless stopped first ([`stop_with_sigterm`]).
pub fn spawn_logged(args: &[&str], filter: &str, log: &Path) -> (std::process::Child, KillOnDrop) {
    let child = bin()
        .args(args)
        .env("DESKMAIL_LOG", filter)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let guard = KillOnDrop(child.id());
    (child, guard)
}

/// Kills a spawned daemon if the test fails before stopping it.
pub struct KillOnDrop(pub u32);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.0.to_string()])
            .status();
    }
}

pub fn deskmail(args: &[&str]) -> Output {
    bin().args(args).output().expect("deskmail runs")
}

/// What a successful command printed on stdout (a failure shows both streams).
pub fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The JSON a successful command printed.
pub fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// Each imported receivable's status ("open", "paid", ...) by invoice number.
pub fn invoice_statuses(data: &Path) -> std::collections::BTreeMap<String, String> {
    let list = json_of(&deskmail(&[
        "invoices",
        "list",
        "--json",
        "--data",
        data.to_str().unwrap(),
    ]));
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["invoice_number"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `deskmail invoices import`, which must succeed; what it printed.
pub fn import_invoices(data: &Path, csv: &Path) -> String {
    let out = bin()
        .args(["invoices", "import", "--data"])
        .arg(data)
        .arg(csv)
        .output()
        .expect("deskmail runs");
    assert!(
        out.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a server-backed test needs from the machine.
#[derive(Debug, Clone, Copy)]
pub enum Needs {
    /// scripts/dovecot.sh and scripts/postfix.sh start real servers, which must switch users.
    MailServers,
    /// Debian's Chromium, Node.js and tests/browser's playwright-core (scripts/test.sh installs them).
    Browser,
    /// Debian's clamd (clamav-daemon), started as the current user by scripts/clamd.sh.
    Clamd,
}

/// True when the test cannot start its servers as the current user and should return at once.
/// The skip is written straight to the terminal (past the test harness's capture) so it is seen.
/// `scripts/test.sh` sets DESKMAIL_REQUIRE_SERVERS=1: there a missing server fails the test
/// instead, so CI never passes by skipping.
pub fn skip_without(needs: Needs) -> bool {
    let missing = match needs {
        Needs::MailServers => (!is_root()).then_some(
            "Dovecot and Postfix are started by scripts/dovecot.sh and scripts/postfix.sh, \
             which need root",
        ),
        Needs::Browser => {
            let ready = Path::new("/usr/bin/chromium").exists()
                && Command::new("node").arg("--version").output().is_ok()
                && root()
                    .join("tests/browser/node_modules/playwright-core")
                    .exists();
            (!ready).then_some("Chromium, Node.js or tests/browser/node_modules is missing")
        }
        Needs::Clamd => {
            let found = Path::new("/usr/sbin/clamd").exists()
                || Command::new("clamd").arg("--version").output().is_ok();
            (!found).then_some("clamd (Debian's clamav-daemon) is not installed")
        }
    };
    let Some(why) = missing else {
        return false;
    };
    if std::env::var_os("DESKMAIL_REQUIRE_SERVERS").is_some() {
        panic!("{why}, and DESKMAIL_REQUIRE_SERVERS is set");
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {why}; run scripts/test.sh (as root) to run it"
    );
    true
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
