//! The daemon's signals, sent as an operator sends them: SIGHUP reloads the rules at once (the
//! periodic check is set to an hour here, so only the signal can have done it) and the daemon
//! lives on; SIGTERM then stops it cleanly.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{deskmail as run, fixtures, json_of, spawn_logged, stop_with_sigterm};

/// A rule that files every message whose subject says `hupcheck` under `category`.
fn rule_file(category: &str) -> String {
    format!(
        "[[rule]]\nname = \"signal check\"\ncategory = \"{category}\"\npriority = 1000\n\
         when.subject = \"hupcheck\"\n"
    )
}

fn threads_in(data: &Path, query: &str) -> u64 {
    let out = run(&["search", "--json", "--data", data.to_str().unwrap(), query]);
    json_of(&out)["total_threads"].as_u64().unwrap()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sighup_reloads_the_rules_at_once_and_the_daemon_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let (data, rules, drop) = (
        dir.path().join("data"),
        dir.path().join("rules"),
        dir.path().join("drop"),
    );
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(&drop).unwrap();
    std::fs::write(rules.join("10-check.toml"), rule_file("test.before")).unwrap();
    let config = dir.path().join("deskmail.toml");
    std::fs::write(
        &config,
        format!(
            "data = \"{}\"\nrules = \"{}\"\n[daemon]\nrules_reload_secs = 3600\n\
             [[drop_folder]]\nname = \"drop\"\npath = \"{}\"\ninterval_secs = 1\n",
            data.display(),
            rules.display(),
            drop.display()
        ),
    )
    .unwrap();
    let log = dir.path().join("daemon.log");
    let (mut child, guard) = spawn_logged(
        &["run", "--config", config.to_str().unwrap()],
        "deskmail=info",
        &log,
    );
    let logged = |text: &str| std::fs::read_to_string(&log).unwrap().contains(text);
    // Signalled as soon as its control socket is there: the earliest an operator's script can
    // tell that it is up.
    wait_for("the control socket", || data.join("control.sock").exists());
    std::fs::write(rules.join("10-check.toml"), rule_file("test.after")).unwrap();
    let sent = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    wait_for("the rules to be reloaded", || {
        // SIGHUP's default action ends a process that does not listen for it.
        let exit = child.try_wait().unwrap();
        assert!(exit.is_none(), "the daemon ended on SIGHUP: {exit:?}");
        logged("Rules reloaded")
    });
    assert!(logged("SIGHUP: reloading the rules"));

    // The reloaded rules decide the next message.
    let mail = std::fs::read_to_string(fixtures().join("ap/invoice-en-us-plain-text-net30.eml"))
        .unwrap()
        .replacen("Subject: ", "Subject: hupcheck ", 1);
    std::fs::write(drop.join("a.eml"), mail).unwrap();
    wait_for("the message to be filed", || {
        drop.join("processed/a.eml").exists()
    });
    wait_for("the message to be searchable", || {
        threads_in(&data, "category:test.after") == 1
    });
    assert_eq!(threads_in(&data, "category:test.before"), 0);
    stop_with_sigterm(child, guard);
}
