//! A private clamd for a test (scripts/clamd.sh with the signature database it writes: EICAR
//! and a deskmail marker), and the mail and config the antivirus tests give it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{fixtures, root};

/// The EICAR test string, assembled here so this file itself is not flagged by scanners.
pub fn eicar() -> Vec<u8> {
    let mut v = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$".to_vec();
    v.extend_from_slice(b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
    v
}

/// What scripts/clamd.sh's custom signature matches.
pub const MARKER: &[u8] = b"DESKMAIL-AV-TEST-MARKER";

/// A private clamd; stopped when dropped.
pub struct Clamd {
    dir: PathBuf,
    env: HashMap<String, String>,
    _tmp: tempfile::TempDir,
}

impl Clamd {
    pub fn start() -> Clamd {
        Clamd::start_with(&[])
    }

    /// With scripts/clamd.sh's environment settings (e.g. CLAMD_STREAM_MAX).
    pub fn start_with(env: &[(&str, &str)]) -> Clamd {
        let tmp = tempfile::Builder::new()
            .prefix("deskmail-clamd-")
            .tempdir()
            .unwrap();
        let dir = tmp.path().join("clamd");
        let mut clamd = Clamd {
            dir,
            env: HashMap::new(),
            _tmp: tmp,
        };
        clamd.script_with("start", env);
        clamd
    }

    pub fn script(&mut self, verb: &str) {
        self.script_with(verb, &[])
    }

    pub fn script_with(&mut self, verb: &str, env: &[(&str, &str)]) {
        let out = Command::new(root().join("scripts/clamd.sh"))
            .args([verb, self.dir.to_str().unwrap()])
            .envs(env.iter().copied())
            .output()
            .expect("scripts/clamd.sh runs");
        assert!(
            out.status.success(),
            "clamd.sh {verb}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if verb != "stop" {
            self.env = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        }
    }

    pub fn var(&self, k: &str) -> &str {
        &self.env[k]
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/clamd.sh"))
            .args(["stop", self.dir.to_str().unwrap()])
            .output();
    }
}

/// The vendor invoice the shipped rules acknowledge, renumbered to `number` (so each variant is
/// its own invoice) and sent with one base64 attachment holding `attachment`.
pub fn invoice_with_attachment(number: &str, attachment: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let original =
        std::fs::read_to_string(fixtures().join("ap/invoice-en-us-plain-text-net30.eml")).unwrap();
    let original = original
        .replace("\r\n", "\n")
        .replace("INV-20417", number)
        .replace("inv-20417", &number.to_lowercase());
    let (head, body) = original.split_once("\n\n").unwrap();
    let head: String = head
        .lines()
        .filter(|l| {
            !l.starts_with("MIME-Version")
                && !l.starts_with("Content-Type")
                && !l.starts_with("Content-Transfer-Encoding")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(attachment);
    format!(
        "{head}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\n\
         Content-Type: text/plain; charset=us-ascii\n\n{body}\n--b1\n\
         Content-Type: application/octet-stream; name=\"statement.bin\"\n\
         Content-Disposition: attachment; filename=\"statement.bin\"\n\
         Content-Transfer-Encoding: base64\n\n{b64}\n--b1--\n"
    )
    .into_bytes()
}

/// A config watching `drop` once per second, replying through the file transport, with this
/// `[antivirus]` section.
pub fn write_config(dir: &Path, antivirus: &str) -> PathBuf {
    let config = dir.join("deskmail.toml");
    std::fs::write(
        &config,
        format!(
            "data = \"data\"\nrules = \"{rules}\"\n[[drop_folder]]\nname = \"ap\"\npath = \"drop\"\n\
             interval_secs = 1\n\n[outbound]\nfrom = \"ap@ourcompany.example\"\n\
             templates = \"{templates}\"\ntransport = {{ type = \"file\", dir = \"sent\" }}\n\n{antivirus}",
            rules = root().join("rules").display(),
            templates = root().join("templates").display()
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("drop")).unwrap();
    config
}

pub fn antivirus_section(clamd: &str) -> String {
    format!("[antivirus]\nmode = \"on\"\nclamd = \"{clamd}\"\ntimeout_secs = 5\n")
}
