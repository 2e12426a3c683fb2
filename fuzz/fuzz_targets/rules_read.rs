//! Bytes as a rule file → `rules::file::read_rule_file` (rules or every error with its line),
//! then, when the file reads cleanly, the compile step `RuleSet::from_sources` (patterns into
//! RegexSets, templates, `[define]` fragments). A rule directory is edited by hand while the
//! daemon runs: a broken file must be reported, never bring the reload down.
#![no_main]

use std::path::Path;

use deskmail::rules::RuleSet;
use deskmail::rules::file::read_rule_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Rule files are read as UTF-8 text (`read_to_string`); other bytes never reach the reader.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A directory that does not exist: example files named in the rules are then reported as
    // missing, never read from the machine.
    let dir = Path::new("/nonexistent/deskmail-fuzz-rules");
    let (_file, errors) = read_rule_file("fuzz.toml", dir, text);
    if errors.is_empty() {
        let _ = RuleSet::from_sources(dir, &[("fuzz.toml".to_string(), text.to_string())]);
    }
});
