//! Antivirus: a small client for clamd's socket protocol (Debian's clamav-daemon) and the
//! scanner the intake workers call before the rules run.
//!
//! Why our own client and not the `clamav-client` crate: its blocking calls have no timeouts
//! (a clamd that accepts and never answers would hold a worker, and with it the whole ordered
//! intake, forever) and it answers with raw bytes; the protocol is three commands.
//!
//! What is scanned: the **whole raw message**, in one `zINSTREAM`. clamd decodes MIME itself
//! (ScanMail), opens archives and nested messages, and sees the bodies too, so nothing depends
//! on how our own parser reads a malformed message, and a message costs one round trip
//! whatever its number of attachments.
//!
//! Fail-closed: a scan that cannot be done (clamd down, timeout, protocol error) is a
//! [`ScanError`]; the intake then refuses the whole batch, which the source offers again
//! later. A message larger than clamd's `StreamMaxLength` is never passed unscanned: clamd
//! answers "size limit exceeded", which is [`Verdict::TooLarge`], quarantined like an infected
//! message (it is not retried: it would never fit).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing::{debug, warn};

/// The decision flag of a message in which clamd found a signature.
pub const FLAG_INFECTED: &str = "infected_attachment";
/// The decision flag of a message too large for clamd to scan (over its StreamMaxLength).
pub const FLAG_TOO_LARGE: &str = "too_large_to_scan";
/// The category a quarantined message gets: no rule runs on it, so no reply, invoice record or
/// receivable update can come from it.
pub const QUARANTINE_CATEGORY: &str = "quarantine";
/// What `Decision::virus` says for a message clamd refused as too large.
pub const TOO_LARGE_NAME: &str = "deskmail.TooLargeToScan";

/// Bytes per INSTREAM chunk (clamd's default StreamMaxLength is 25 MB; chunks only bound what
/// one write holds).
const CHUNK: usize = 64 * 1024;
/// The longest reply we read from clamd (a signature name is short).
const MAX_REPLY: usize = 4096;

/// `[antivirus]` in deskmail.toml. No section: off (the embedded default needs no server).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AntivirusConfig {
    /// "on" (scan every message; clamd down = mail waits) or "off". Writing the section means
    /// "on" unless it says otherwise.
    #[serde(default)]
    pub mode: Mode,
    /// `tcp://HOST:PORT` or a unix socket path (absolute, or `unix:/path`).
    #[serde(default = "default_clamd")]
    pub clamd: String,
    /// Connect, send and receive timeout for each clamd call.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    On,
    Off,
}

fn default_clamd() -> String {
    "tcp://127.0.0.1:3310".into()
}

fn default_timeout() -> u64 {
    30
}

impl AntivirusConfig {
    /// The client this section asks for, or None when scanning is off.
    pub fn client(&self) -> Result<Option<Clamd>, String> {
        if self.mode == Mode::Off {
            return Ok(None);
        }
        let endpoint = Endpoint::parse(&self.clamd)?;
        if self.timeout_secs == 0 {
            return Err("timeout_secs must be at least 1".into());
        }
        Ok(Some(Clamd {
            endpoint,
            timeout: Duration::from_secs(self.timeout_secs),
        }))
    }
}

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Tcp(String),
    Unix(PathBuf),
}

impl Endpoint {
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        if let Some(addr) = s.strip_prefix("tcp://") {
            let ok = addr
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            if !ok {
                return Err(format!("clamd {s:?}: expected tcp://HOST:PORT"));
            }
            return Ok(Endpoint::Tcp(addr.to_string()));
        }
        let path = s.strip_prefix("unix:").unwrap_or(s);
        if path.starts_with('/') {
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        Err(format!(
            "clamd {s:?}: expected tcp://HOST:PORT or an absolute unix socket path"
        ))
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp(a) => write!(f, "tcp://{a}"),
            Endpoint::Unix(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Why a scan could not be done. Every variant means "not scanned": the message must wait.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot reach clamd at {endpoint}: {source}")]
    Connect {
        endpoint: String,
        source: std::io::Error,
    },
    #[error("clamd at {endpoint}: {source}")]
    Io {
        endpoint: String,
        source: std::io::Error,
    },
    #[error("clamd at {endpoint} answered {answer:?}")]
    Protocol { endpoint: String, answer: String },
}

/// What clamd said about a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The signature's name, e.g. "Eicar-Signature".
    Infected(String),
    /// Over clamd's StreamMaxLength: not scanned, so not trusted.
    TooLarge,
}

trait Conn: Read + Write {}
impl<T: Read + Write> Conn for T {}

/// A clamd endpoint with a timeout on every step. One connection per call: clamd's
/// connections are cheap and a broken one never outlives a message.
#[derive(Debug, Clone)]
pub struct Clamd {
    pub endpoint: Endpoint,
    pub timeout: Duration,
}

impl Clamd {
    fn connect(&self) -> Result<Box<dyn Conn>, ScanError> {
        let err = |source| ScanError::Connect {
            endpoint: self.endpoint.to_string(),
            source,
        };
        let t = Some(self.timeout);
        match &self.endpoint {
            Endpoint::Tcp(addr) => {
                let sa = addr
                    .to_socket_addrs()
                    .map_err(err)?
                    .next()
                    .ok_or_else(|| err(std::io::ErrorKind::NotFound.into()))?;
                let s = TcpStream::connect_timeout(&sa, self.timeout).map_err(err)?;
                s.set_read_timeout(t).map_err(err)?;
                s.set_write_timeout(t).map_err(err)?;
                Ok(Box::new(s))
            }
            Endpoint::Unix(p) => {
                let s = UnixStream::connect(p).map_err(err)?;
                s.set_read_timeout(t).map_err(err)?;
                s.set_write_timeout(t).map_err(err)?;
                Ok(Box::new(s))
            }
        }
    }

    fn io(&self, source: std::io::Error) -> ScanError {
        ScanError::Io {
            endpoint: self.endpoint.to_string(),
            source,
        }
    }

    /// One NUL-terminated reply (the `z` form of the commands), without the NUL.
    fn reply(&self, conn: &mut dyn Conn) -> Result<String, ScanError> {
        let mut buf = Vec::new();
        let mut byte = [0u8; 256];
        loop {
            let n = conn.read(&mut byte).map_err(|e| self.io(e))?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&byte[..n]);
            if buf.contains(&0) || buf.len() > MAX_REPLY {
                break;
            }
        }
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        Ok(String::from_utf8_lossy(&buf[..end]).trim().to_string())
    }

    fn command(&self, cmd: &str) -> Result<String, ScanError> {
        let mut conn = self.connect()?;
        conn.write_all(format!("z{cmd}\0").as_bytes())
            .map_err(|e| self.io(e))?;
        self.reply(conn.as_mut())
    }

    /// `PING` → `PONG`.
    pub fn ping(&self) -> Result<(), ScanError> {
        match self.command("PING")? {
            a if a == "PONG" => Ok(()),
            answer => Err(ScanError::Protocol {
                endpoint: self.endpoint.to_string(),
                answer,
            }),
        }
    }

    /// `VERSION`, e.g. "ClamAV 1.4.6/27000/Thu Dec  3 09:00:00 2026".
    pub fn version(&self) -> Result<String, ScanError> {
        self.command("VERSION")
    }

    /// Scan bytes with `zINSTREAM`: chunks of `<u32 big-endian length><data>`, then a zero
    /// length.
    pub fn scan(&self, bytes: &[u8]) -> Result<Verdict, ScanError> {
        let mut conn = self.connect()?;
        let sent = (|| -> std::io::Result<()> {
            conn.write_all(b"zINSTREAM\0")?;
            for chunk in bytes.chunks(CHUNK) {
                conn.write_all(&(chunk.len() as u32).to_be_bytes())?;
                conn.write_all(chunk)?;
            }
            conn.write_all(&[0, 0, 0, 0])
        })();
        // Past StreamMaxLength clamd answers and closes while we still write: the write fails,
        // and the answer that explains it is waiting to be read.
        let answer = match (sent, self.reply(conn.as_mut())) {
            (_, Ok(a)) if !a.is_empty() => a,
            (Err(e), _) => return Err(self.io(e)),
            (Ok(()), Err(e)) => return Err(e),
            (Ok(()), Ok(a)) => a,
        };
        parse_scan_reply(&answer).ok_or_else(|| ScanError::Protocol {
            endpoint: self.endpoint.to_string(),
            answer,
        })
    }
}

/// clamd's INSTREAM answer: "stream: OK", "stream: NAME FOUND", or "... size limit exceeded.
/// ERROR"; anything else is not a verdict.
fn parse_scan_reply(answer: &str) -> Option<Verdict> {
    if answer.contains("size limit exceeded") {
        return Some(Verdict::TooLarge);
    }
    let rest = answer.strip_prefix("stream: ")?;
    if rest == "OK" {
        return Some(Verdict::Clean);
    }
    let name = rest.strip_suffix(" FOUND")?;
    (!name.is_empty()).then(|| Verdict::Infected(name.to_string()))
}

/// What the scanner has done since start, for `deskmail status`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScanStats {
    pub clamd: String,
    pub clean: u64,
    pub infected: u64,
    pub too_large: u64,
    pub errors: u64,
    /// The last scan error, cleared by the next successful scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// The client the intake workers share, with its counters.
#[derive(Debug)]
pub struct Scanner {
    clamd: Clamd,
    clean: AtomicU64,
    infected: AtomicU64,
    too_large: AtomicU64,
    errors: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Scanner {
    pub fn new(clamd: Clamd) -> Scanner {
        Scanner {
            clamd,
            clean: AtomicU64::new(0),
            infected: AtomicU64::new(0),
            too_large: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            last_error: Mutex::new(None),
        }
    }

    /// Scan one message, counting the result (and recording it in the metrics).
    pub fn scan(&self, bytes: &[u8]) -> Result<Verdict, ScanError> {
        let result = self.clamd.scan(bytes);
        let last =
            |v: Option<String>| *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = v;
        let (counter, label) = match &result {
            Ok(Verdict::Clean) => (&self.clean, "clean"),
            Ok(Verdict::Infected(name)) => {
                warn!(signature = %name, "clamd found a signature; the message is quarantined");
                (&self.infected, "infected")
            }
            Ok(Verdict::TooLarge) => {
                warn!(
                    bytes = bytes.len(),
                    "Too large for clamd to scan; the message is quarantined"
                );
                (&self.too_large, "too_large")
            }
            Err(e) => {
                last(Some(e.to_string()));
                (&self.errors, "error")
            }
        };
        if result.is_ok() {
            last(None);
        }
        debug!(result = label, "Scanned");
        counter.fetch_add(1, Ordering::Relaxed);
        crate::metrics::antivirus_scan(label);
        result
    }

    pub fn stats(&self) -> ScanStats {
        ScanStats {
            clamd: self.clamd.endpoint.to_string(),
            clean: self.clean.load(Ordering::Relaxed),
            infected: self.infected.load(Ordering::Relaxed),
            too_large: self.too_large.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_tcp_or_absolute_unix_paths() {
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:3310"),
            Ok(Endpoint::Tcp("127.0.0.1:3310".into()))
        );
        assert_eq!(
            Endpoint::parse("unix:/run/clamd.sock"),
            Ok(Endpoint::Unix("/run/clamd.sock".into()))
        );
        assert_eq!(
            Endpoint::parse("/run/clamd.sock"),
            Ok(Endpoint::Unix("/run/clamd.sock".into()))
        );
        assert!(Endpoint::parse("tcp://127.0.0.1").is_err());
        assert!(Endpoint::parse("clamd.sock").is_err());
    }

    #[test]
    fn scan_replies_are_verdicts_or_nothing() {
        assert_eq!(parse_scan_reply("stream: OK"), Some(Verdict::Clean));
        assert_eq!(
            parse_scan_reply("stream: Eicar-Signature FOUND"),
            Some(Verdict::Infected("Eicar-Signature".into()))
        );
        assert_eq!(
            parse_scan_reply("INSTREAM size limit exceeded. ERROR"),
            Some(Verdict::TooLarge)
        );
        assert_eq!(parse_scan_reply("UNKNOWN COMMAND"), None);
        assert_eq!(parse_scan_reply("stream:  FOUND"), None);
    }
}
