//! The rule files deskmail ships (`rules/*.toml`) and the example messages they cite, compiled
//! into the binary: the embedded default works from any directory, and `deskmail rules export`
//! writes them out for an accountant to edit. A test keeps these lists equal to `rules/`.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{RuleSet, RulesError};

/// Where built-in rule files say they come from (in messages and example paths).
pub const BUILTIN_DIR: &str = "<built-in>";

/// `rules/*.toml`, by file name, in load order.
pub const RULE_FILES: &[(&str, &str)] = &[
    ("00-common.toml", include_str!("../../rules/00-common.toml")),
    ("10-auto.toml", include_str!("../../rules/10-auto.toml")),
    ("20-ap.toml", include_str!("../../rules/20-ap.toml")),
    ("30-ar.toml", include_str!("../../rules/30-ar.toml")),
];

/// The example messages the rule files cite, by the path the rule files give (relative to
/// `rules/`).
pub const EXAMPLES: &[(&str, &[u8])] = &[
    (
        "../fixtures/einvoice/mail/peppol-ubl-credit-note-be.eml",
        include_bytes!("../../fixtures/einvoice/mail/peppol-ubl-credit-note-be.eml"),
    ),
    (
        "../fixtures/einvoice/mail/xrechnung-cii-invoice.eml",
        include_bytes!("../../fixtures/einvoice/mail/xrechnung-cii-invoice.eml"),
    ),
    (
        "../fixtures/mail/ap/credit-note-fr-avoir.eml",
        include_bytes!("../../fixtures/mail/ap/credit-note-fr-avoir.eml"),
    ),
    (
        "../fixtures/mail/ap/invoice-de-plain-text-skonto-not-total.eml",
        include_bytes!("../../fixtures/mail/ap/invoice-de-plain-text-skonto-not-total.eml"),
    ),
    (
        "../fixtures/mail/ap/invoice-en-us-plain-text-net30.eml",
        include_bytes!("../../fixtures/mail/ap/invoice-en-us-plain-text-net30.eml"),
    ),
    (
        "../fixtures/mail/ap/payment-inquiry-en-gb-overdue-quotes-invoice.eml",
        include_bytes!("../../fixtures/mail/ap/payment-inquiry-en-gb-overdue-quotes-invoice.eml"),
    ),
    (
        "../fixtures/mail/ap/statement-en-us-open-items-plain.eml",
        include_bytes!("../../fixtures/mail/ap/statement-en-us-open-items-plain.eml"),
    ),
    (
        "../fixtures/mail/other/newsletter-invoice-word-in-footer.eml",
        include_bytes!("../../fixtures/mail/other/newsletter-invoice-word-in-footer.eml"),
    ),
    (
        "../fixtures/mail/threads/oc-1040-1-our-payment-reminder.eml",
        include_bytes!("../../fixtures/mail/threads/oc-1040-1-our-payment-reminder.eml"),
    ),
];

/// The rules a command uses: a directory someone gave (`--rules`, `$DESKMAIL_RULES`, the
/// config's `rules`), or the set compiled into the binary when nobody gave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSource {
    BuiltIn,
    Dir(PathBuf),
}

impl RuleSource {
    /// `None` (no flag, no variable, no config key) means the built-in rules.
    pub fn from_option(dir: Option<PathBuf>) -> RuleSource {
        dir.map_or(RuleSource::BuiltIn, RuleSource::Dir)
    }

    pub fn load(&self) -> Result<RuleSet, RulesError> {
        match self {
            RuleSource::BuiltIn => Ok(builtin()),
            RuleSource::Dir(dir) => RuleSet::load_dir(dir),
        }
    }

    /// Names, sizes and modification times of the rule files: a change means "reload". The
    /// built-in set never changes while the process runs.
    pub fn fingerprint(&self) -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
        let RuleSource::Dir(dir) = self else {
            return Vec::new();
        };
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .map(|p| {
                        let meta = std::fs::metadata(&p).ok();
                        let len = meta.as_ref().map_or(0, |m| m.len());
                        let modified = meta.and_then(|m| m.modified().ok());
                        (p, len, modified)
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

impl fmt::Display for RuleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleSource::BuiltIn => f.write_str("the built-in rules"),
            RuleSource::Dir(dir) => write!(f, "{}", dir.display()),
        }
    }
}

/// The shipped rule set. It is checked by this crate's tests (every example passes), so a
/// failure here is a build defect, not a user's mistake.
pub fn builtin() -> RuleSet {
    let sources: Vec<(String, String)> = RULE_FILES
        .iter()
        .map(|(name, text)| (format!("{BUILTIN_DIR}/{name}"), text.to_string()))
        .collect();
    RuleSet::from_sources(Path::new(BUILTIN_DIR), &sources)
        .unwrap_or_else(|e| panic!("the built-in rules do not load:\n{e}"))
}

/// The bytes of a built-in example, by the path an example of the built-in set resolved to
/// (`<built-in>/../fixtures/...`).
pub fn example(resolved: &Path) -> Option<&'static [u8]> {
    let rel = resolved.strip_prefix(BUILTIN_DIR).ok()?;
    EXAMPLES
        .iter()
        .find(|(path, _)| Path::new(path) == rel)
        .map(|(_, bytes)| *bytes)
}

/// Where an exported example goes, relative to the exported rule directory.
fn exported_example(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    format!("examples/{name}")
}

/// What `export` wrote.
#[derive(Debug, Default)]
pub struct Exported {
    pub rule_files: Vec<PathBuf>,
    pub examples: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0} exists; choose an empty directory (nothing was written)")]
    Exists(PathBuf),
    #[error("cannot write {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
}

/// Write the built-in rule files into `dir` (created), with their examples under
/// `dir/examples/` and the rule files' `file = ...` lines pointing there, so the exported
/// directory passes `deskmail rules check --rules DIR` anywhere. Refuses to overwrite anything.
pub fn export(dir: &Path) -> Result<Exported, ExportError> {
    let mut planned: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for (name, text) in RULE_FILES {
        let mut text = text.to_string();
        for (path, _) in EXAMPLES {
            text = text.replace(
                &format!("file = \"{path}\""),
                &format!("file = \"{}\"", exported_example(path)),
            );
        }
        planned.push((dir.join(name), text.into_bytes()));
    }
    for (path, bytes) in EXAMPLES {
        planned.push((dir.join(exported_example(path)), bytes.to_vec()));
    }
    write_new_files(&planned)?;
    let (rule_files, examples) = planned
        .into_iter()
        .map(|(p, _)| p)
        .partition(|p| p.extension().is_some_and(|e| e == "toml"));
    Ok(Exported {
        rule_files,
        examples,
    })
}

/// Write every file or none: all targets are checked before the first byte is written.
pub fn write_new_files(files: &[(PathBuf, Vec<u8>)]) -> Result<(), ExportError> {
    if let Some((p, _)) = files.iter().find(|(p, _)| p.exists()) {
        return Err(ExportError::Exists(p.clone()));
    }
    for (path, bytes) in files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ExportError::Io(parent.into(), e))?;
        }
        std::fs::write(path, bytes).map_err(|e| ExportError::Io(path.clone(), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
    }

    /// A rule file added to (or removed from) rules/ without this list would ship a binary
    /// whose default differs from the repository's rules.
    #[test]
    fn builtin_rule_files_are_exactly_the_rules_directory() {
        let mut on_disk: Vec<(String, String)> = std::fs::read_dir(repo("rules"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        on_disk.sort();
        let built_in: Vec<(String, String)> = RULE_FILES
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        assert_eq!(built_in, on_disk);
    }

    #[test]
    fn builtin_examples_are_every_example_the_rules_cite() {
        let set = builtin();
        let cited: Vec<PathBuf> = set.example_files();
        assert!(!cited.is_empty());
        for file in &cited {
            assert!(
                example(file).is_some(),
                "{} is not embedded",
                file.display()
            );
        }
        assert_eq!(
            cited.len(),
            EXAMPLES.len(),
            "an embedded example no rule cites"
        );
    }

    #[test]
    fn builtin_rules_equal_the_directory_and_pass_their_examples() {
        let set = builtin();
        let dir = RuleSet::load_dir(&repo("rules")).unwrap();
        assert_eq!(set.version(), dir.version());
        assert_eq!(set.rule_count(), dir.rule_count());
        let outcomes = set.run_examples(&crate::parse::ParseLimits::default());
        assert_eq!(outcomes.len(), EXAMPLES.len());
        for o in outcomes {
            assert!(o.mismatches.is_empty(), "{}: {:?}", o.rule, o.mismatches);
        }
    }

    #[test]
    fn exported_rules_load_and_pass_their_examples_elsewhere() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("my-rules");
        let written = export(&dir).unwrap();
        assert_eq!(written.rule_files.len(), RULE_FILES.len());
        assert_eq!(written.examples.len(), EXAMPLES.len());
        let set = RuleSet::load_dir(&dir).unwrap();
        assert_eq!(set.rule_count(), builtin().rule_count());
        for o in set.run_examples(&crate::parse::ParseLimits::default()) {
            assert!(o.mismatches.is_empty(), "{}: {:?}", o.rule, o.mismatches);
        }
    }

    #[test]
    fn export_refuses_to_overwrite_and_writes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("examples")).unwrap();
        let kept = tmp.path().join("20-ap.toml");
        std::fs::write(&kept, "# mine").unwrap();
        let err = export(tmp.path()).unwrap_err();
        assert!(
            matches!(err, ExportError::Exists(ref p) if p == &kept),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&kept).unwrap(), "# mine");
        assert!(!tmp.path().join("00-common.toml").exists());
    }

    #[test]
    fn the_source_says_which_rules_it_is() {
        assert_eq!(RuleSource::from_option(None), RuleSource::BuiltIn);
        assert_eq!(RuleSource::BuiltIn.to_string(), "the built-in rules");
        assert!(RuleSource::BuiltIn.fingerprint().is_empty());
        let dir = RuleSource::from_option(Some(repo("rules")));
        assert_eq!(dir.fingerprint().len(), RULE_FILES.len());
        assert_eq!(
            dir.load().unwrap().version(),
            RuleSource::BuiltIn.load().unwrap().version()
        );
    }
}
