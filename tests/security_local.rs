//! Issue 17, what a local user could do: read the data directory (finding 6), and talk to the
//! daemon's control socket under another name or with an endless request line (finding 9).
//! deskmail is started with umask 022 (what most shells and services give) throughout: what it
//! creates must not depend on that.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{fixtures, root};

/// `deskmail ARGS` under `sh -c 'umask 022; exec "$@"'`, from the repository root, with no
/// DESKMAIL_* settings from the caller.
fn deskmail_umask_022(args: &[&str]) -> Command {
    let mut c = Command::new("sh");
    c.current_dir(root())
        .args(["-c", "umask 022; exec \"$@\"", "sh"])
        .arg(env!("CARGO_BIN_EXE_deskmail"))
        .args(args)
        .env_remove("DESKMAIL_DATA")
        .env_remove("DESKMAIL_RULES")
        .env_remove("DESKMAIL_CONFIG")
        .env_remove("DESKMAIL_DROP")
        .env_remove("DESKMAIL_LOG");
    c
}

fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// `root` and everything below it that the group or others may access, with its mode.
fn open_to_others(root: &Path) -> Vec<(PathBuf, u32)> {
    fn walk(p: &Path, out: &mut Vec<(PathBuf, u32)>, seen: &mut usize) {
        // A running daemon renames and removes files as we go: what is gone is skipped.
        let Ok(meta) = std::fs::symlink_metadata(p) else {
            return;
        };
        *seen += 1;
        let m = meta.permissions().mode() & 0o7777;
        if m & 0o077 != 0 {
            out.push((p.to_path_buf(), m));
        }
        if meta.is_dir() {
            for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
                walk(&e.path(), out, seen);
            }
        }
    }
    let (mut out, mut seen) = (Vec::new(), 0);
    walk(root, &mut out, &mut seen);
    assert!(seen > 1, "{} is empty", root.display());
    out
}

/// A daemon config on `dir`: data in `dir/data`, a drop folder, replies through the file
/// transport into `dir/data/sent` (inside the data directory).
fn write_config(dir: &Path) -> PathBuf {
    let config = dir.join("deskmail.toml");
    std::fs::write(
        &config,
        format!(
            r#"data = "{d}/data"
rules = "{rules}"
[[drop_folder]]
name = "ap"
path = "{d}/drop"
interval_secs = 1

[outbound]
from = "ap@ourcompany.example"
templates = "{templates}"
transport = {{ type = "file", dir = "{d}/data/sent" }}
"#,
            d = dir.display(),
            rules = root().join("rules").display(),
            templates = root().join("templates").display()
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("drop")).unwrap();
    config
}

/// `deskmail run` under umask 022; SIGTERMed (and must exit 0) by [`Daemon::stop`], killed
/// if a test fails first.
struct Daemon(Option<Child>);

impl Daemon {
    fn start(config: &Path) -> Daemon {
        let child = deskmail_umask_022(&["run", "--config", config.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Daemon(Some(child))
    }

    /// Wait (polling every `every`) until `done`; panics with the daemon's log after 20 s.
    fn wait_for(&mut self, every: Duration, mut done: impl FnMut() -> bool) {
        let start = Instant::now();
        while !done() {
            if start.elapsed() > Duration::from_secs(20) {
                let mut child = self.0.take().unwrap();
                let _ = child.kill();
                let mut log = String::new();
                let _ = child.stderr.take().unwrap().read_to_string(&mut log);
                let _ = child.wait();
                panic!("timed out; daemon log:\n{log}");
            }
            std::thread::sleep(every);
        }
    }

    /// SIGTERM, and the daemon's log.
    fn stop(mut self) -> String {
        let mut child = self.0.take().unwrap();
        assert!(
            Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
        let mut log = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        assert!(child.wait().unwrap().success(), "{log}");
        log
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One request line to the control socket, raw; its answer.
fn ask_raw(socket: &Path, request: &str) -> Value {
    let mut stream = UnixStream::connect(socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(b"\n").unwrap();
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).unwrap();
    serde_json::from_str(&answer).unwrap()
}

/// Finding 6: a fresh data directory filled by `ingest` (store/, the engine's files, blobs/,
/// index/) and an export are the user's alone, although the shell's umask would have made them 0755
/// and 0644.
#[test]
fn finding_6_ingest_under_umask_022_leaves_nothing_readable_by_others() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    succeeded(
        &deskmail_umask_022(&["ingest", "--data", d, fixtures().to_str().unwrap()])
            .output()
            .unwrap(),
    );
    for part in ["store", "store/blobs", "index"] {
        assert!(data.join(part).is_dir(), "no {part}");
    }
    assert_eq!(open_to_others(&data), vec![]);
    assert_eq!(mode(&data), 0o700);
    // A data-protection export names a person: it is private too.
    let tar = dir.path().join("export.tar");
    succeeded(
        &deskmail_umask_022(&[
            "export",
            "--data",
            d,
            "--out",
            tar.to_str().unwrap(),
            "billing@brightline-office.example",
        ])
        .output()
        .unwrap(),
    );
    assert_eq!(mode(&tar), 0o600);
}

/// Findings 6 and 9: the running daemon's own files (status.json, the outbox's file transport
/// inside the data directory, its replies) are private, and its control socket has no group or
/// other bit from the first moment it can be seen, inside a data directory nobody else can
/// enter.
#[test]
fn finding_6_and_9_a_daemon_under_umask_022_creates_its_files_and_socket_private() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let socket = data.join("control.sock");
    std::fs::copy(
        fixtures().join("ap/invoice-en-us-plain-text-net30.eml"),
        dir.path().join("drop/invoice.eml"),
    )
    .unwrap();
    let mut daemon = Daemon::start(&config);
    // Poll fast: the first sight of the socket is as close to its creation as a test gets.
    let mut first_seen = None;
    daemon.wait_for(Duration::from_millis(1), || {
        first_seen = std::fs::symlink_metadata(&socket)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777);
        first_seen.is_some()
    });
    let first_seen = first_seen.unwrap();
    assert_eq!(first_seen & 0o077, 0, "socket first seen as {first_seen:o}");
    assert_eq!(mode(&data), 0o700);
    let sent = data.join("sent");
    daemon.wait_for(Duration::from_millis(100), || {
        data.join("status.json").exists()
            && std::fs::read_dir(&sent).is_ok_and(|mut rd| {
                rd.any(|e| e.unwrap().path().extension().is_some_and(|x| x == "eml"))
            })
    });
    assert_eq!(mode(&socket), 0o600);
    assert_eq!(open_to_others(&data), vec![], "while running");
    daemon.stop();
    assert_eq!(open_to_others(&data), vec![], "after a stop");
}

/// Finding 6, the upgrade: a data directory an older release left open (0755, files 0644) is
/// reported on start, each open entry with its path and mode, and the directory itself is
/// closed (0700); the daemon starts all the same.
#[test]
fn finding_6_an_open_data_dir_is_warned_about_and_closed_on_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    succeeded(
        &deskmail_umask_022(&[
            "ingest",
            "--data",
            d,
            fixtures().join("ap").to_str().unwrap(),
        ])
        .output()
        .unwrap(),
    );
    // What an older release left behind.
    let db = data.join("store/kv/version");
    assert!(db.is_file());
    for (p, m) in [(&data, 0o755), (&data.join("store"), 0o755), (&db, 0o644)] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    }
    let out = deskmail_umask_022(&["run", "--once", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let log = succeeded(&out);
    let warned = |path: &Path, m: &str| {
        let said = format!("path={} mode={m}", path.display());
        log.lines().any(|l| l.contains("WARN") && l.contains(&said))
    };
    assert!(warned(&data, "0755"), "{log}");
    assert!(warned(&data.join("store"), "0755"), "{log}");
    assert!(warned(&db, "0644"), "{log}");
    assert_eq!(mode(&data), 0o700);
    // Closed once: the next start finds nothing open to others (the files below the closed
    // directory are out of their reach) and says nothing.
    let again = deskmail_umask_022(&["run", "--once", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let log = succeeded(&again);
    assert!(!log.contains("open to other users"), "{log}");
}

/// Finding 9: the control socket records a change under the caller's user as the kernel
/// reports it (peer credentials), not under the `actor` the request claims.
#[test]
fn finding_9_control_actions_are_audited_under_the_peer_not_the_claimed_actor() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let socket = data.join("control.sock");
    let mut daemon = Daemon::start(&config);
    daemon.wait_for(Duration::from_millis(50), || socket.exists());
    let answer = ask_raw(
        &socket,
        r#"{"view":"invoices_import","receivables":[],"source":"forged.csv","actor":"cli:mallory"}"#,
    );
    assert_eq!(answer["ok"], true, "{answer}");
    daemon.stop();

    let id = Command::new("id").arg("-un").output().unwrap();
    let me = format!("cli:{}", String::from_utf8_lossy(&id.stdout).trim());
    let store = deskmail::store::Store::open(&data.join("store"), 1 << 20).unwrap();
    let audit = store.audit_records(0, 100).unwrap();
    let import = audit
        .iter()
        .find(|r| r.entry.action == "invoices import")
        .unwrap_or_else(|| panic!("not audited: {audit:?}"));
    assert_eq!(import.entry.actor, me);
    assert_eq!(import.entry.targets, vec!["forged.csv".to_string()]);
    assert!(
        !audit.iter().any(|r| r.entry.actor.contains("mallory")),
        "{audit:?}"
    );
}

/// Finding 9: a request line longer than the bound gets a clear refusal, the daemon stops
/// reading it (its memory does not follow the line) and closes that connection, and it goes
/// on answering others.
#[test]
fn finding_9_an_oversized_control_request_is_refused_and_the_daemon_keeps_answering() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let socket = data.join("control.sock");
    let mut daemon = Daemon::start(&config);
    daemon.wait_for(Duration::from_millis(50), || socket.exists());

    const OFFERED: usize = 64 << 20;
    let limit = deskmail::daemon::control::MAX_REQUEST_BYTES;
    assert!(limit < OFFERED / 2);
    let stream = UnixStream::connect(&socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    // No newline, ever: the line only ends when the daemon stops reading it.
    let offer = std::thread::spawn(move || {
        let chunk = vec![b'x'; 1 << 20];
        let mut written = 0;
        while written < OFFERED {
            match writer.write(&chunk) {
                Ok(n) => written += n,
                Err(_) => break,
            }
        }
        written
    });
    let mut answer = String::new();
    BufReader::new(&stream).read_line(&mut answer).unwrap();
    let written = offer.join().unwrap();
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["ok"], false);
    let error = answer["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("at most {} MiB", limit >> 20)),
        "{error}"
    );
    assert!(
        written < OFFERED,
        "the daemon read all {written} bytes of a line it should have refused"
    );
    // The connection is closed: nothing more comes.
    let mut rest = Vec::new();
    let _ = (&stream).read_to_end(&mut rest);
    assert!(rest.is_empty());

    let stats = ask_raw(&socket, r#"{"view":"stats","json":true}"#);
    assert_eq!(stats["ok"], true, "{stats}");
    daemon.stop();
}
