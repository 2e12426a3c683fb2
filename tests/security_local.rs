//! Issue 17, what a local user could do: read the data directory (finding 6).
//! deskmail is started with umask 022 (what most shells and services give) throughout: what it
//! creates must not depend on that.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// Finding 6: a fresh data directory filled by `ingest` (store/, sled's files, blobs/, index/)
/// and an export are the user's alone, although the shell's umask would have made them 0755
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
    let db = data.join("store/db");
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
    // Closed once: the next start no longer finds the directory itself open.
    let again = deskmail_umask_022(&["run", "--once", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let log = succeeded(&again);
    assert!(!log.contains("was open to other users"), "{log}");
}
