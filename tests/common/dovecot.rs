//! A private, real Dovecot (Debian's dovecot-imapd + dovecot-lmtpd) for the tests: started by
//! scripts/dovecot.sh on 127.0.0.1 high ports, filled by maildir delivery or LMTP, inspected
//! with doveadm. Needs root: check `skip_without(Needs::MailServers)` first.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::root;

/// Started by scripts/dovecot.sh in a temporary directory; stopped when dropped.
pub struct Dovecot {
    dir: PathBuf,
    env: HashMap<String, String>,
    _tmp: tempfile::TempDir,
}

impl Dovecot {
    pub fn start() -> Dovecot {
        Dovecot::start_with(&[])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Dovecot {
        let tmp = tempfile::Builder::new()
            .prefix("deskmail-dovecot-")
            .tempdir()
            .unwrap();
        let dir = tmp.path().join("dovecot");
        let out = Command::new(root().join("scripts/dovecot.sh"))
            .args(["start", dir.to_str().unwrap()])
            .envs(env.iter().copied())
            .output()
            .expect("scripts/dovecot.sh runs");
        assert!(
            out.status.success(),
            "dovecot did not start:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let env = std::fs::read_to_string(dir.join("env"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Dovecot {
            dir,
            env,
            _tmp: tmp,
        }
    }

    pub fn var(&self, k: &str) -> &str {
        &self.env[k]
    }

    pub fn script(&self, verb: &str) {
        let out = Command::new(root().join("scripts/dovecot.sh"))
            .args([verb, self.dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "dovecot {verb}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn scratch(&self) -> PathBuf {
        self.dir.parent().unwrap().to_path_buf()
    }

    /// Deliver straight into the user's maildir (how a backlog looks to the server).
    pub fn fill(&self, user: &str, messages: &[Vec<u8>]) {
        let new = Path::new(self.var("MAIL_ROOT"))
            .join(user)
            .join("Maildir/new");
        std::fs::create_dir_all(&new).unwrap();
        for (i, m) in messages.iter().enumerate() {
            std::fs::write(new.join(format!("1700000000.M{i}P1.deskmail-test")), m).unwrap();
        }
        let status = Command::new("chown")
            .args(["-R", "65534:65534", self.var("MAIL_ROOT")])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Deliver one message over LMTP, as an MTA would.
    pub fn lmtp(&self, user: &str, message: &[u8]) {
        let mut child = Command::new("python3")
            .args([
                "-c",
                "import smtplib,sys\n\
                 s=smtplib.LMTP('127.0.0.1', int(sys.argv[1]))\n\
                 s.sendmail('vendor@example.net', [sys.argv[2]], sys.stdin.buffer.read())\n\
                 s.quit()",
                self.var("LMTP_PORT"),
                user,
            ])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(message).unwrap();
        assert!(child.wait().unwrap().success(), "LMTP delivery failed");
    }

    pub fn doveadm(&self, args: &[&str]) -> String {
        let out = Command::new("doveadm")
            .args(["-c", self.var("DOVECOT_CONF")])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "doveadm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn count(&self, user: &str, folder: &str) -> u64 {
        let out = self.doveadm(&[
            "-f", "flow", "mailbox", "status", "-u", user, "messages", folder,
        ]);
        out.split("messages=")
            .nth(1)
            .unwrap_or_default()
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("doveadm said {out:?}"))
    }

    /// The flags of every message in a folder.
    pub fn flags(&self, user: &str, folder: &str) -> Vec<String> {
        self.doveadm(&[
            "-f", "flow", "fetch", "-u", user, "flags", "mailbox", folder, "all",
        ])
        .lines()
        .map(|l| l.trim_start_matches("flags=").to_string())
        .collect()
    }

    /// A deskmail.toml with the given [[mailbox]] bodies (name/host/port/... lines).
    pub fn config(&self, data: &Path, mailboxes: &[String]) -> PathBuf {
        let mut text = format!(
            "data = \"{}\"\n[daemon]\nio_timeout_secs = 10\nbackoff_initial_secs = 0.2\nbackoff_max_secs = 1\nidle_renew_secs = 60\nrules_reload_secs = 1\n",
            data.display()
        );
        for m in mailboxes {
            text.push_str("\n[[mailbox]]\n");
            text.push_str(m);
            text.push('\n');
        }
        let path = self.scratch().join("deskmail.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A mailbox over IMAPS to "localhost" with the test CA.
    pub fn imaps(&self, name: &str, user: &str) -> String {
        format!(
            "name = \"{name}\"\nhost = \"localhost\"\nport = {}\ntls = \"implicit\"\nca_file = \"{}\"\nusername = \"{user}\"\npassword_env = \"PW_{}\"",
            self.var("IMAPS_PORT"),
            self.var("CA_FILE"),
            name.to_uppercase()
        )
    }

    /// A mailbox over STARTTLS on the plain port.
    pub fn starttls(&self, name: &str, user: &str) -> String {
        format!(
            "name = \"{name}\"\nhost = \"localhost\"\nport = {}\ntls = \"starttls\"\nca_file = \"{}\"\nusername = \"{user}\"\npassword_env = \"PW_{}\"",
            self.var("IMAP_PORT"),
            self.var("CA_FILE"),
            name.to_uppercase()
        )
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/dovecot.sh"))
            .args(["stop", self.dir.to_str().unwrap()])
            .output();
    }
}
