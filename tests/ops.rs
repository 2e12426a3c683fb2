//! What an operator installs beside the binary: the systemd unit passes `systemd-analyze
//! verify` (with its ExecStart pointed at the binary under test, since /usr/local/bin/deskmail
//! is not installed here).

use std::io::Write;
use std::process::Command;

mod common;

#[test]
fn the_systemd_unit_verifies() {
    let Ok(version) = Command::new("systemd-analyze").arg("--version").output() else {
        if std::env::var_os("DESKMAIL_REQUIRE_SERVERS").is_some() {
            panic!("systemd-analyze is missing, and DESKMAIL_REQUIRE_SERVERS is set");
        }
        let _ = writeln!(
            std::io::stderr(),
            "skipped: systemd-analyze is missing; scripts/test.sh installs it"
        );
        return;
    };
    assert!(version.status.success());
    let unit = std::fs::read_to_string(common::root().join("examples/deskmail.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/deskmail run"));
    for hardening in [
        "NoNewPrivileges=true",
        "ProtectSystem=strict",
        "PrivateTmp=true",
        "StateDirectory=deskmail",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ] {
        assert!(unit.contains(hardening), "the unit lacks {hardening}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deskmail.service");
    let local = unit.replace("/usr/local/bin/deskmail", env!("CARGO_BIN_EXE_deskmail"));
    std::fs::write(&path, local).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let about_unit: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("deskmail.service"))
        .collect();
    assert!(out.status.success() && about_unit.is_empty(), "{said}");
}
