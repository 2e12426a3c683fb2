//! `rules check`, `rules test` and `rules export`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};

use deskmail::model::RawMail;
use deskmail::parse::{ParseLimits, parse};
use deskmail::rules::{RuleSet, RuleSource};

use super::args::{RulesArg, RulesCommand};
use super::common::{load_rules, print_json_pretty};

pub fn run(command: RulesCommand) -> Result<ExitCode> {
    match command {
        RulesCommand::Check { rules, templates } => check(&rules, templates.as_deref()),
        RulesCommand::Test { rules, json, file } => test(&rules, json, &file),
        RulesCommand::Export { dir } => export(&dir),
    }
}

/// Every rule file, every example and the reply templates; problems on stderr, exit 1.
fn check(rules: &RulesArg, templates: Option<&Path>) -> Result<ExitCode> {
    let source = RuleSource::from_option(rules.rules.clone());
    let set = match source.load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("{} error(s) in {source}", e.errors.len());
            return Ok(ExitCode::from(1));
        }
    };
    let outcomes = set.run_examples(&ParseLimits::default());
    let failed = outcomes.iter().filter(|o| !o.mismatches.is_empty()).count();
    for o in &outcomes {
        for m in &o.mismatches {
            eprintln!("{}:{}: rule {:?}: {m}", o.path, o.line, o.rule);
        }
    }
    if !templates_ok(&set, templates) {
        return Ok(ExitCode::from(1));
    }
    if failed > 0 {
        eprintln!("{failed} of {} examples failed", outcomes.len());
        return Ok(ExitCode::from(1));
    }
    outln!(
        "rules OK: {} rules in {} files, {} examples passed (rules version {}, {source})",
        set.rule_count(),
        set.files().len(),
        outcomes.len(),
        set.version()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The reply templates load and give every rule's reply what it needs; problems on stderr.
fn templates_ok(set: &RuleSet, templates: Option<&Path>) -> bool {
    let errors: Vec<String> = match deskmail::outbound::Templates::from_option(templates) {
        Ok(t) => t.check(set).into_iter().map(|e| e.to_string()).collect(),
        Err(e) => vec![e.to_string()],
    };
    for e in &errors {
        eprintln!("{e}");
    }
    if !errors.is_empty() {
        eprintln!("{} reply template problem(s)", errors.len());
    }
    errors.is_empty()
}

/// What the rules make of one message, stored nowhere.
fn test(rules: &RulesArg, json: bool, file: &Path) -> Result<ExitCode> {
    let set = load_rules(rules.rules.as_deref())?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let raw = RawMail {
        role: None,
        mailbox: "test".into(),
        origin: file.display().to_string(),
        bytes,
    };
    let msg =
        parse(&raw, &ParseLimits::default()).map_err(|e| anyhow!("{}: {e}", file.display()))?;
    let d = set.evaluate(&msg);
    if json {
        print_json_pretty(&deskmail::views::decision_json(&d))?;
    } else {
        out!("{}", deskmail::views::decision_text(&d))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The built-in rules (and their examples) into DIR/rules, the templates into DIR/templates.
fn export(dir: &Path) -> Result<ExitCode> {
    let rules_dir: PathBuf = dir.join("rules");
    let templates_dir: PathBuf = dir.join("templates");
    // Both checked before either is written: a half export would be worse than none.
    for d in [&rules_dir, &templates_dir] {
        if d.exists() {
            anyhow::bail!(
                "{} exists; choose another directory (nothing was written)",
                d.display()
            );
        }
    }
    let rules = deskmail::rules::builtin::export(&rules_dir)?;
    let templates = deskmail::outbound::builtin::export(&templates_dir)?;
    outln!(
        "wrote {} rule files and {} example messages to {}, {} templates to {}",
        rules.rule_files.len(),
        rules.examples.len(),
        rules_dir.display(),
        templates.len(),
        templates_dir.display()
    )?;
    outln!(
        "use them with: deskmail rules check --rules {} --templates {}",
        rules_dir.display(),
        templates_dir.display()
    )?;
    outln!("(and `rules = ...` and `[outbound] templates = ...` in deskmail.toml)")?;
    Ok(ExitCode::SUCCESS)
}
