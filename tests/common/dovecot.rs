//! A private, real Dovecot for tests that only need a filled mailbox and a config pointing at
//! it (tests/imap.rs keeps its fuller helper: LMTP, doveadm, restarts, STARTTLS).
//! Needs root: check `skip_without(Needs::MailServers)` first.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::root;

/// Started by scripts/dovecot.sh in a temporary directory; stopped when dropped.
pub struct Dovecot {
    dir: PathBuf,
    env: HashMap<String, String>,
    _tmp: tempfile::TempDir,
}

impl Dovecot {
    pub fn start() -> Dovecot {
        let tmp = tempfile::Builder::new()
            .prefix("deskmail-dovecot-")
            .tempdir()
            .unwrap();
        let dir = tmp.path().join("dovecot");
        let out = Command::new(root().join("scripts/dovecot.sh"))
            .args(["start", dir.to_str().unwrap()])
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

    /// A directory beside the server's for the test's own files.
    pub fn scratch(&self) -> PathBuf {
        self.dir.parent().unwrap().to_path_buf()
    }

    /// Deliver straight into `user`'s maildir (how a backlog looks to the server).
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

    /// `[[mailbox]]` lines for `user` over IMAPS to "localhost" with the test CA; the password
    /// comes from `PW_<NAME>` ("secret-USER").
    pub fn imaps(&self, name: &str, user: &str) -> String {
        format!(
            "name = \"{name}\"\nhost = \"localhost\"\nport = {}\ntls = \"implicit\"\nca_file = \"{}\"\nusername = \"{user}\"\npassword_env = \"PW_{}\"",
            self.var("IMAPS_PORT"),
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
