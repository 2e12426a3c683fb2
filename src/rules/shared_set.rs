//! A condition `RegexSet` whose lazy DFA the parse-and-rules workers share.
//!
//! The regex crate gives each thread that searches a set a cache of its own, and the lazy DFA
//! builds its states in that cache the first time it meets each: with two workers every state
//! of every set was built twice (state building was about 10 % of a 6k ingest's CPU). Here a
//! set keeps one cache behind a lock; a worker that finds it taken searches with a cache of
//! its own rather than wait, so no worker ever waits for another.

use std::sync::Mutex;

use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind, PatternSet};

pub(super) struct SharedSet {
    regex: Regex,
    shared: Mutex<meta::Cache>,
}

impl SharedSet {
    /// The patterns compiled as `regex::RegexSetBuilder` compiles them (the same engines and
    /// match semantics), with these limits.
    pub(super) fn new(
        patterns: &[String],
        size_limit: usize,
        dfa_cache_bytes: usize,
    ) -> Result<SharedSet, regex::Error> {
        let config = meta::Config::new()
            .nfa_size_limit(Some(size_limit))
            .hybrid_cache_capacity(dfa_cache_bytes)
            .match_kind(MatchKind::All)
            .utf8_empty(true)
            .which_captures(regex_automata::nfa::thompson::WhichCaptures::None);
        let regex = meta::Builder::new()
            .configure(config)
            .syntax(syntax_config())
            .build_many(patterns)
            .map_err(|e| match (e.size_limit(), e.syntax_error()) {
                (Some(limit), _) => regex::Error::CompiledTooBig(limit),
                (None, Some(syntax)) => regex::Error::Syntax(syntax.to_string()),
                (None, None) => regex::Error::Syntax(e.to_string()),
            })?;
        let shared = Mutex::new(regex.create_cache());
        Ok(SharedSet { regex, shared })
    }

    /// `pattern`'s syntax checked as compiling it in a set would check it (the same parser
    /// and settings, the regex crate's error text), without compiling it.
    pub(super) fn check_syntax(pattern: &str) -> Result<(), regex::Error> {
        syntax::parse_with(pattern, &syntax_config())
            .map(|_| ())
            .map_err(|e| regex::Error::Syntax(e.to_string()))
    }

    pub(super) fn len(&self) -> usize {
        self.regex.pattern_len()
    }

    /// Mark in `found` (one flag per pattern) every pattern that matches somewhere in `hay`.
    pub(super) fn mark_matches(&self, hay: &str, found: &mut [bool]) {
        let input = Input::new(hay);
        let mut hits = PatternSet::new(self.regex.pattern_len());
        match self.shared.try_lock() {
            Ok(mut cache) => self
                .regex
                .which_overlapping_matches_with(&mut cache, &input, &mut hits),
            // Taken by the other worker, or poisoned by a panic in a search (a cache is only
            // ever states already built, so a poisoned one would be as good; this is simpler).
            Err(_) => self.regex.which_overlapping_matches(&input, &mut hits),
        }
        for id in hits.iter() {
            found[id.as_usize()] = true;
        }
    }
}

/// How a set's patterns are parsed: as `regex::RegexSetBuilder` parses them (matches are UTF-8).
fn syntax_config() -> syntax::Config {
    syntax::Config::new().utf8(true)
}

impl std::fmt::Debug for SharedSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSet")
            .field("patterns", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(patterns: &[&str]) -> SharedSet {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        SharedSet::new(&patterns, 256 << 20, 16 << 20).unwrap()
    }

    fn marked(s: &SharedSet, hay: &str) -> Vec<bool> {
        let mut found = vec![false; s.len()];
        s.mark_matches(hay, &mut found);
        found
    }

    #[test]
    fn every_matching_pattern_is_marked_as_regex_set_marks_it() {
        let patterns = [
            r"(?im)^\s*invoice",
            r"(?i)due",
            r"\d{4}",
            r"(?i)gutschrift",
            "x?",
        ];
        let s = set(&patterns);
        let reference = regex::RegexSet::new(patterns).unwrap();
        for hay in [
            "Invoice 1234 is due",
            "  INVOICE",
            "nothing here",
            "",
            "Ihre GUTSCHRIFT über 12,00 €",
            "line\n  invoice on the second line",
        ] {
            let expected: Vec<bool> = (0..patterns.len())
                .map(|i| reference.matches(hay).matched(i))
                .collect();
            assert_eq!(marked(&s, hay), expected, "{hay:?}");
        }
    }

    #[test]
    fn a_set_taken_by_another_search_still_answers() {
        let s = set(&["(?i)statement", "(?i)remittance"]);
        let held = s.shared.lock().unwrap();
        assert_eq!(marked(&s, "Your STATEMENT"), vec![true, false]);
        drop(held);
        assert_eq!(marked(&s, "remittance advice"), vec![false, true]);
    }

    #[test]
    fn errors_read_as_the_regex_crate_words_them() {
        let too_big = SharedSet::new(&[r"\w{40000}".to_string()], 1 << 20, 16 << 20);
        assert!(matches!(too_big, Err(regex::Error::CompiledTooBig(_))));
        // Built at run time: clippy rejects an invalid regex written as a literal.
        let unclosed = ["(", "unclosed"].concat();
        let bad = SharedSet::new(std::slice::from_ref(&unclosed), 1 << 20, 16 << 20);
        let Err(regex::Error::Syntax(text)) = bad else {
            panic!("{bad:?}")
        };
        assert_eq!(text, regex::Regex::new(&unclosed).unwrap_err().to_string());
    }
}
