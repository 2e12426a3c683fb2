//! The embedded default outside the checkout: the binary carries the shipped rules, their
//! example messages and the reply and reminder templates, uses them when no directory is
//! given, and `deskmail rules export` writes them out for an accountant to edit.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{fixtures, json_of, root};

/// The binary run from an empty directory (no ./rules, no ./templates), with none of
/// deskmail's variables set: what a user gets after `cargo install` or from the image.
fn elsewhere(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .current_dir(cwd)
        .env_remove("DESKMAIL_DATA")
        .env_remove("DESKMAIL_RULES")
        .env_remove("DESKMAIL_CONFIG")
        .env_remove("DESKMAIL_TEMPLATES")
        .env_remove("DESKMAIL_DROP")
        .args(args)
        .output()
        .expect("deskmail runs")
}

/// What the rules decided, as counts: stats, and the threads of each category family.
fn decided(cwd: &Path, data: &Path) -> Vec<Value> {
    let data = data.to_str().unwrap();
    let mut found = vec![json_of(&elsewhere(
        cwd,
        &["stats", "--json", "--data", data],
    ))];
    for q in [
        "category:ap.invoice",
        "category:ap.credit_note",
        "category:ap.statement",
        "category:ar",
        "category:auto",
        "has:einvoice",
    ] {
        let out = json_of(&elsewhere(cwd, &["search", "--json", "--data", data, q]));
        found.push(out["total_threads"].clone());
    }
    found
}

#[test]
fn ingest_and_rules_check_work_from_any_directory_with_the_builtin_rules() {
    let cwd = tempfile::tempdir().unwrap();
    let mail = fixtures();
    let check = elsewhere(cwd.path(), &["rules", "check"]);
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(said.contains("built-in rules"), "{said}");

    // The built-in rules decide exactly as the repository's rules/ do.
    let builtin = cwd.path().join("builtin-data");
    let out = elsewhere(
        cwd.path(),
        &[
            "ingest",
            "--json",
            "--data",
            builtin.to_str().unwrap(),
            mail.to_str().unwrap(),
        ],
    );
    let summary = json_of(&out);
    assert!(summary["ingested"].as_u64().unwrap() > 90, "{summary}");
    let from_dir = cwd.path().join("dir-data");
    let rules = root().join("rules");
    let out = elsewhere(
        cwd.path(),
        &[
            "ingest",
            "--json",
            "--rules",
            rules.to_str().unwrap(),
            "--data",
            from_dir.to_str().unwrap(),
            mail.to_str().unwrap(),
        ],
    );
    assert_eq!(json_of(&out)["ingested"], summary["ingested"]);
    let (a, b) = (
        decided(cwd.path(), &builtin),
        decided(cwd.path(), &from_dir),
    );
    assert!(a[0]["invoices"].as_u64().unwrap() > 10, "{a:?}");
    assert!(
        a[1].as_u64().unwrap() > 5 && a[4].as_u64().unwrap() > 0,
        "{a:?}"
    );
    assert_eq!(a, b);
}

#[test]
fn a_rules_directory_that_is_not_there_is_an_error_not_the_builtin_rules() {
    let cwd = tempfile::tempdir().unwrap();
    let out = elsewhere(cwd.path(), &["rules", "check", "--rules", "no-such-dir"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read rule directory"), "{err}");
}

#[test]
fn rules_export_writes_an_editable_copy_that_checks_and_never_overwrites() {
    let cwd = tempfile::tempdir().unwrap();
    let out = elsewhere(cwd.path(), &["rules", "export", "desk"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let desk = cwd.path().join("desk");
    for name in ["00-common.toml", "20-ap.toml", "30-ar.toml"] {
        assert!(desk.join("rules").join(name).is_file(), "{name}");
    }
    assert!(desk.join("templates/ap-acknowledge.txt").is_file());
    // An accountant's edit takes effect: a rule that renames a category.
    let ap = desk.join("rules/20-ap.toml");
    let text = std::fs::read_to_string(&ap).unwrap();
    assert!(
        !text.contains("../fixtures"),
        "example paths must point inside the export"
    );
    let check = elsewhere(
        cwd.path(),
        &[
            "rules",
            "check",
            "--rules",
            "desk/rules",
            "--templates",
            "desk/templates",
        ],
    );
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // A template removed from the copy is missed by the check: the copy, not the built-in
    // set, is what is checked.
    std::fs::remove_file(desk.join("templates/ap-acknowledge.txt")).unwrap();
    let check = elsewhere(
        cwd.path(),
        &[
            "rules",
            "check",
            "--rules",
            "desk/rules",
            "--templates",
            "desk/templates",
        ],
    );
    assert_eq!(check.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&check.stderr).contains("ap-acknowledge"));

    std::fs::write(&ap, "# my edit\n").unwrap();
    let again = elsewhere(cwd.path(), &["rules", "export", "desk"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
    assert_eq!(std::fs::read_to_string(&ap).unwrap(), "# my edit\n");
}

/// The image's build stage compiles what `include_str!`/`include_bytes!` name: every such file
/// must be under a path the Dockerfile copies into the build stage, or the image build fails.
#[test]
fn every_file_the_binary_embeds_is_copied_into_the_image_build() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let build_stage = dockerfile
        .split("FROM debian")
        .next()
        .expect("a build stage before the runtime stage");
    let copied: Vec<String> = build_stage
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() >= 3 && w[0] == "COPY" && !w[1].starts_with("--")).then(|| {
                w[1..w.len() - 1]
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
            })
        })
        .flatten()
        .collect();
    let mut embedded = 0;
    let mut stack = vec![root().join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for (i, _) in text.match_indices("include_") {
                let rest = &text[i..];
                let Some(open) = rest.find("!(\"") else {
                    continue;
                };
                if !rest.starts_with("include_str!") && !rest.starts_with("include_bytes!") {
                    continue;
                }
                let arg = &rest[open + 3..];
                let Some(end) = arg.find('"') else { continue };
                let target = path.parent().unwrap().join(&arg[..end]);
                let target = target.canonicalize().unwrap_or_else(|e| {
                    panic!("{} embeds {}: {e}", path.display(), target.display())
                });
                let rel = target.strip_prefix(root().canonicalize().unwrap()).unwrap();
                let rel = rel.to_string_lossy();
                assert!(
                    copied
                        .iter()
                        .any(|c| rel.starts_with(c.trim_end_matches('/'))),
                    "{rel} is embedded by {} but the Dockerfile's build stage copies only {copied:?}",
                    path.display()
                );
                embedded += 1;
            }
        }
    }
    assert!(embedded >= 10, "found only {embedded} embedded files");
}

/// A desk config that sends replies but names no templates, in a directory without any: the
/// built-in templates render the built-in rules' acknowledgement.
#[test]
fn replies_use_the_builtin_templates_when_the_config_names_none() {
    let dir = tempfile::tempdir().unwrap();
    let drop = dir.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    std::fs::copy(
        fixtures().join("ap/invoice-en-us-plain-text-net30.eml"),
        drop.join("invoice.eml"),
    )
    .unwrap();
    let config = dir.path().join("deskmail.toml");
    std::fs::write(
        &config,
        "data = \"data\"\n[[drop_folder]]\nname = \"d\"\npath = \"drop\"\n\
         [outbound]\nfrom = \"ap@ourcompany.example\"\n\
         transport = { type = \"file\", dir = \"sent\" }\n",
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let check = elsewhere(dir.path(), &["config", "check", cfg]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let run = elsewhere(dir.path(), &["run", "--config", cfg, "--once"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let data = dir.path().join("data");
    let outbox = json_of(&elsewhere(
        dir.path(),
        &["outbox", "list", "--json", "--data", data.to_str().unwrap()],
    ));
    let records = outbox.as_array().expect("a list");
    assert_eq!(records.len(), 1, "{outbox}");
    assert!(records[0].to_string().contains("INV-20417"), "{outbox}");
}
