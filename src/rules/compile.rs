//! Compiling rule files into a [`RuleSet`]: placeholders expanded, every condition pattern
//! into the `RegexSet` of the place it looks, extraction patterns on their own, and every
//! problem of every file collected (path and line) before any is reported.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use regex::{Regex, RegexBuilder};
use sha2::{Digest, Sha256};

use super::file::{
    self, Cond, DateOrderSetting, FieldSpec, FieldTest, PatternSpec, RuleError, RuleFile, RuleSpec,
    Source,
};
use super::shared_set::SharedSet;
use super::{
    Check, CompiledField, CompiledFieldTest, CompiledRule, DEFAULT_REVIEW_BELOW, OWN_NAMES_DEFINE,
    PatternSet, RuleSet, RulesError, normalize,
};

impl RuleSet {
    /// Build from (path, text) pairs; `dir` resolves example files.
    pub fn from_sources(dir: &Path, sources: &[(String, String)]) -> Result<RuleSet, RulesError> {
        let mut errors = Vec::new();
        let (files, version) = read_files(dir, sources, &mut errors);
        let settings = Settings::of(&files, &mut errors);
        check_defines(&files, &mut errors);
        let (mut rules, sets) = compile_rules(files, &settings.defines, dir, &mut errors);
        if !errors.is_empty() {
            errors.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
            return Err(RulesError { errors });
        }
        let sets = sets.map_err(|e| RulesError { errors: vec![e] })?;
        // Highest priority first; file order breaks ties (stable sort).
        rules.sort_by_key(|r| std::cmp::Reverse(r.spec.priority));
        // Our own company names: the generic extractor never takes the buyer for the vendor.
        let defines = &settings.defines;
        let own_names = defines.get(OWN_NAMES_DEFINE).and_then(|spec| {
            expand(&spec.text, defines, Mode::Condition)
                .ok()
                .and_then(|p| compile_regex(&format!("(?i){p}")).ok())
        });
        Ok(RuleSet {
            rules,
            sets,
            extract: crate::extract::Settings { own_names },
            date_order: settings.date_order.unwrap_or(DateOrderSetting::Auto),
            review_below: settings.review_below.unwrap_or(DEFAULT_REVIEW_BELOW),
            version,
            files: sources.iter().map(|(p, _)| p.clone()).collect(),
        })
    }
}

/// Each file read (its problems added to `errors`), and the version of the whole set: a hash
/// of the files' names and texts.
fn read_files(
    dir: &Path,
    sources: &[(String, String)],
    errors: &mut Vec<RuleError>,
) -> (Vec<RuleFile>, String) {
    let mut files = Vec::new();
    let mut hasher = Sha256::new();
    for (path, text) in sources {
        hasher.update(path.rsplit('/').next().unwrap_or(path).as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
        let file_dir = Path::new(path).parent().unwrap_or(dir);
        let (f, mut e) = file::read_rule_file(path, file_dir, text);
        errors.append(&mut e);
        files.push(f);
    }
    (files, hex::encode(&hasher.finalize()[..6]))
}

/// What is global across the files: the defines, `date_order` and `review_below` (each set
/// at most once).
struct Settings {
    defines: BTreeMap<String, PatternSpec>,
    date_order: Option<DateOrderSetting>,
    review_below: Option<u8>,
}

impl Settings {
    fn of(files: &[RuleFile], errors: &mut Vec<RuleError>) -> Settings {
        let mut settings = Settings {
            defines: BTreeMap::new(),
            date_order: None,
            review_below: None,
        };
        let mut define_origin: HashMap<String, String> = HashMap::new();
        let mut error = |f: &RuleFile, line: usize, message: String| {
            errors.push(RuleError {
                path: f.path.clone(),
                line,
                message,
            })
        };
        for f in files {
            for (name, spec) in &f.defines {
                if builtin(name).is_some() {
                    error(
                        f,
                        spec.line,
                        format!("{{{name}}} is built in and cannot be redefined"),
                    );
                } else if let Some(first) = define_origin.get(name) {
                    error(
                        f,
                        spec.line,
                        format!("{{{name}}} is already defined in {first}"),
                    );
                } else {
                    define_origin.insert(name.clone(), f.path.clone());
                    settings.defines.insert(name.clone(), spec.clone());
                }
            }
            if let Some((order, line)) = f.date_order {
                if settings.date_order.is_some() {
                    let message = "date_order is set in more than one rule file";
                    error(f, line, message.into());
                }
                settings.date_order = Some(order);
            }
            if let Some((n, line)) = f.review_below {
                if settings.review_below.is_some() {
                    let message = "review_below is set in more than one rule file";
                    error(f, line, message.into());
                }
                settings.review_below = Some(n);
            }
        }
        settings
    }
}

/// Each define must compile on its own (its problem reported at its line, not at every use).
fn check_defines(files: &[RuleFile], errors: &mut Vec<RuleError>) {
    for f in files {
        for (name, spec) in &f.defines {
            if let Err(e) = expand(&spec.text, &BTreeMap::new(), Mode::Condition)
                .and_then(|p| check_syntax(&p).map_err(|e| regex_message(&e)))
            {
                errors.push(RuleError {
                    path: f.path.clone(),
                    line: spec.line,
                    message: format!("{{{name}}}: {e}"),
                });
            }
        }
    }
}

/// Every rule's condition and extractions compiled (its condition patterns into the sets of
/// the places they look); disabled rules are checked but not kept; a rule name used twice is
/// an error.
///
/// The conditions are read first; their sets are then built on a thread of their own while
/// this one compiles the extraction patterns: the two are most of the time the rules take to
/// load, before any message is read (an ingest of an empty folder with the built-in rules
/// 89 -> 69 ms). The sets' result counts only when no rule has an error (`errors` first).
fn compile_rules(
    files: Vec<RuleFile>,
    defines: &BTreeMap<String, PatternSpec>,
    dir: &Path,
    errors: &mut Vec<RuleError>,
) -> (Vec<CompiledRule>, Result<Vec<PatternSet>, RuleError>) {
    let specs: Vec<_> = files.into_iter().flat_map(|f| f.rules).collect();
    let mut names: HashMap<&str, (&str, usize)> = HashMap::new();
    for spec in &specs {
        match names.get(spec.name.as_str()) {
            Some((p, l)) => errors.push(RuleError {
                path: spec.path.clone(),
                line: spec.line,
                message: format!("rule name {:?} is already used at {p}:{l}", spec.name),
            }),
            None => {
                names.insert(&spec.name, (&spec.path, spec.line));
            }
        }
    }
    let mut compiled = HashMap::new();
    let mut builder = SetBuilder::default();
    let checks: Vec<Check> = specs
        .iter()
        .map(|spec| {
            CompileCtx::of(spec, defines, errors, &mut compiled).cond(&spec.when, &mut builder)
        })
        .collect();
    let (fields, sets) = beside(
        || builder.build(dir),
        || {
            specs
                .iter()
                .map(|spec| {
                    let mut ctx = CompileCtx::of(spec, defines, errors, &mut compiled);
                    spec.extract
                        .iter()
                        .map(|f| ctx.field(f))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        },
    );
    let rules = specs
        .into_iter()
        .zip(checks)
        .zip(fields)
        .filter(|((spec, _), _)| !spec.disabled)
        .map(|((spec, check), fields)| CompiledRule {
            spec,
            check,
            fields,
        })
        .collect();
    (rules, sets)
}

/// `side()` on a thread of its own while this one runs `main()`; both on this one when the
/// thread cannot start.
fn beside<S: Send, M>(side: impl FnOnce() -> S + Send, main: impl FnOnce() -> M) -> (M, S) {
    let side = std::sync::Mutex::new(Some(side));
    let take = |side: &std::sync::Mutex<Option<_>>| side.lock().ok().and_then(|mut f| f.take());
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("rules-sets".into())
            .spawn_scoped(scope, || take(&side).map(|f| f()));
        let m = main();
        let done = match thread {
            Ok(t) => t
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => None,
        };
        // The thread did not start: the side work runs here.
        let s = done.unwrap_or_else(|| take(&side).expect("the side work runs once")());
        (m, s)
    })
}

/// Built-in placeholders: `{amount}`, `{date}`, `{ref}`, `{terms}`.
fn builtin(name: &str) -> Option<&'static str> {
    match name {
        "amount" => Some(normalize::AMOUNT_PATTERN),
        "date" => Some(normalize::DATE_PATTERN),
        "ref" => Some(normalize::REF_PATTERN),
        "terms" => Some(r"\d{1,3}"),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Condition,
    Extract,
}

/// Replace `{name}` placeholders. In extract mode the first built-in placeholder becomes the
/// `value` capture unless the author wrote `(?P<value>...)` themselves.
pub(super) fn expand(
    pattern: &str,
    defines: &BTreeMap<String, PatternSpec>,
    mode: Mode,
) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut captured = pattern.contains("(?P<value>") || pattern.contains("(?<value>");
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let ident_len = after
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map_or(after.len(), |(i, _)| i);
        let is_placeholder = ident_len > 0
            && after[..ident_len].starts_with(|c: char| c.is_ascii_alphabetic())
            && after[ident_len..].starts_with('}')
            && !rest[..open].ends_with('\\');
        if !is_placeholder {
            out.push_str(&rest[..open + 1]);
            rest = after;
            continue;
        }
        let name = &after[..ident_len];
        out.push_str(&rest[..open]);
        if let Some(b) = builtin(name) {
            if mode == Mode::Extract && !captured {
                out.push_str("(?P<value>");
                captured = true;
            } else {
                out.push_str("(?:");
            }
            out.push_str(b);
            out.push(')');
        } else if let Some(d) = defines.get(name) {
            // Defines may use built-ins but never capture.
            let inner = expand(&d.text, &BTreeMap::new(), Mode::Condition)?;
            out.push_str("(?:");
            out.push_str(&inner);
            out.push(')');
        } else {
            let mut known: Vec<&str> = vec!["amount", "date", "ref", "terms"];
            known.extend(defines.keys().map(|k| k.as_str()));
            return Err(format!(
                "unknown placeholder {{{name}}} (known: {})",
                known.join(", ")
            ));
        }
        rest = &after[ident_len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The built-in placeholders are large once compiled (~100 KB each); a rule set with many of
/// them in one RegexSet passes the regex crate's 10 MiB default.
const REGEX_SIZE_LIMIT: usize = 256 << 20;

/// Patterns per RegexSet. One set per place made one huge lazy DFA that kept building states on
/// every new message; sets of 8 scan a little more often but saturate (rules −16 % CPU on the
/// SpamAssassin corpus; 2 or 4 per set were slower again).
const PATTERNS_PER_SET: usize = 8;

/// Lazy-DFA cache per set (the one the workers share, and one more for a worker that finds it
/// taken; `shared_set`): large sets thrash the 2 MB default.
const DFA_CACHE_BYTES: usize = 16 << 20;

fn compile_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// A pattern's syntax checked without compiling it: for condition patterns and placeholders,
/// which their sets compile; a set that is too large once compiled names its pattern
/// ([`SetBuilder::build`]).
fn check_syntax(pattern: &str) -> Result<(), regex::Error> {
    SharedSet::check_syntax(pattern)
}

/// Unicode word boundaries stop regex's fast lazy DFA on any non-ASCII text and fall back to an
/// engine ~100× slower; mail is full of non-ASCII, so `\b` means an ASCII word boundary here.
pub(super) fn ascii_word_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(b @ ('b' | 'B')) => {
                    out.push_str("(?-u:\\");
                    out.push(b);
                    out.push(')');
                }
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn flags(case_sensitive: bool) -> &'static str {
    if case_sensitive { "(?m)" } else { "(?im)" }
}

/// The places a RegexSet scans: `Text` conditions are spread over Subject, Body and
/// AttachmentText, so no set is keyed by `Text` itself.
fn set_keys(source: &Source) -> Vec<Source> {
    match source {
        Source::Text => vec![Source::Subject, Source::Body, Source::AttachmentText],
        Source::Header(h) => vec![Source::Header(h.to_ascii_lowercase())],
        other => vec![other.clone()],
    }
}

fn regex_message(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => {
            // The regex crate's message spans several lines with a caret; keep the last line.
            let last = s
                .lines()
                .rev()
                .find(|l| l.starts_with("error:"))
                .unwrap_or(s.as_str());
            format!(
                "invalid pattern: {}",
                last.trim_start_matches("error:").trim()
            )
        }
        regex::Error::CompiledTooBig(_) => "pattern is too large once compiled".to_string(),
        other => format!("invalid pattern: {other}"),
    }
}

#[derive(Default)]
struct SetBuilder {
    keys: Vec<Source>,
    patterns: Vec<Vec<String>>,
    /// Where each pattern was written first: (path, line, the pattern as written).
    origins: Vec<Vec<(String, usize, String)>>,
}

impl SetBuilder {
    fn add(
        &mut self,
        key: Source,
        pattern: String,
        origin: (&str, &PatternSpec),
    ) -> (usize, usize) {
        // Same pattern, same place: share the slot.
        for (set, k) in self.keys.iter().enumerate() {
            if *k == key
                && let Some(i) = self.patterns[set].iter().position(|p| *p == pattern)
            {
                return (set, i);
            }
        }
        let set = match self
            .keys
            .iter()
            .rposition(|k| *k == key)
            .filter(|&i| self.patterns[i].len() < PATTERNS_PER_SET)
        {
            Some(i) => i,
            None => {
                self.keys.push(key);
                self.patterns.push(Vec::new());
                self.origins.push(Vec::new());
                self.keys.len() - 1
            }
        };
        let (path, spec) = origin;
        self.origins[set].push((path.to_string(), spec.line, spec.text.clone()));
        let list = &mut self.patterns[set];
        list.push(pattern);
        (set, list.len() - 1)
    }

    /// Every set compiled. A set that cannot be is reported at the first of its patterns that
    /// cannot be compiled alone (the one too large once compiled), or at `dir` if each can.
    fn build(self, dir: &Path) -> Result<Vec<PatternSet>, RuleError> {
        let mut sets = Vec::with_capacity(self.keys.len());
        for ((key, pats), origins) in self.keys.into_iter().zip(self.patterns).zip(self.origins) {
            let built = SharedSet::new(&pats, REGEX_SIZE_LIMIT, DFA_CACHE_BYTES);
            match built {
                Ok(set) => sets.push(PatternSet { key, set }),
                Err(set_error) => {
                    let culprit = pats.iter().zip(&origins).find_map(|(pattern, origin)| {
                        compile_regex(pattern).err().map(|e| (e, origin))
                    });
                    return Err(match culprit {
                        Some((e, (path, line, text))) => RuleError {
                            path: path.clone(),
                            line: *line,
                            message: format!("{} in {text:?}", regex_message(&e)),
                        },
                        None => RuleError {
                            path: dir.display().to_string(),
                            line: 0,
                            message: regex_message(&set_error),
                        },
                    });
                }
            }
        }
        Ok(sets)
    }
}

struct CompileCtx<'a> {
    path: &'a str,
    defines: &'a BTreeMap<String, PatternSpec>,
    case_sensitive: bool,
    errors: &'a mut Vec<RuleError>,
    /// Patterns compiled so far, by their full text (flags and placeholders expanded): rules
    /// share extraction patterns (`{invoice_no}{sep}{ref}` in five AR rules), each of them a
    /// large regex once its placeholders are in, and compiling them was most of the time the
    /// rules took to load, before any message is read.
    compiled: &'a mut HashMap<String, Regex>,
}

impl<'a> CompileCtx<'a> {
    /// The context of `spec`'s patterns.
    fn of(
        spec: &'a RuleSpec,
        defines: &'a BTreeMap<String, PatternSpec>,
        errors: &'a mut Vec<RuleError>,
        compiled: &'a mut HashMap<String, Regex>,
    ) -> Self {
        CompileCtx {
            path: &spec.path,
            defines,
            case_sensitive: spec.case_sensitive,
            errors,
            compiled,
        }
    }

    /// An extraction field's patterns compiled.
    fn field(&mut self, f: &FieldSpec) -> CompiledField {
        CompiledField {
            name: f.name.clone(),
            kind: f.kind,
            patterns: f
                .patterns
                .iter()
                .filter_map(|p| self.extract_regex(p))
                .collect(),
            unless: f
                .unless
                .iter()
                .filter_map(|p| self.extract_regex(p))
                .collect(),
            from: f.from.clone(),
        }
    }

    /// Expand and compile a pattern; errors are recorded with the pattern's line.
    fn compile(&mut self, p: &PatternSpec, mode: Mode) -> Option<Regex> {
        let full = self.expanded(p, mode)?;
        if let Some(re) = self.compiled.get(&full) {
            return Some(re.clone());
        }
        match compile_regex(&full) {
            Ok(re) => {
                self.compiled.insert(full, re.clone());
                Some(re)
            }
            Err(e) => {
                self.invalid(p, &e);
                None
            }
        }
    }

    /// A condition pattern expanded and its syntax checked; its set compiles it.
    fn checked(&mut self, p: &PatternSpec) -> Option<String> {
        let full = self.expanded(p, Mode::Condition)?;
        match check_syntax(&full) {
            Ok(()) => Some(full),
            Err(e) => {
                self.invalid(p, &e);
                None
            }
        }
    }

    /// Placeholders expanded, the rule's flags and ASCII word boundaries in.
    fn expanded(&mut self, p: &PatternSpec, mode: Mode) -> Option<String> {
        match expand(&p.text, self.defines, mode) {
            Ok(s) => Some(format!(
                "{}{}",
                flags(self.case_sensitive),
                ascii_word_boundaries(&s)
            )),
            Err(message) => {
                self.errors.push(RuleError {
                    path: self.path.to_string(),
                    line: p.line,
                    message,
                });
                None
            }
        }
    }

    fn invalid(&mut self, p: &PatternSpec, e: &regex::Error) {
        self.errors.push(RuleError {
            path: self.path.to_string(),
            line: p.line,
            message: format!("{} in {:?}", regex_message(e), p.text),
        });
    }

    fn extract_regex(&mut self, p: &PatternSpec) -> Option<Regex> {
        self.compile(p, Mode::Extract)
    }

    fn conds(&mut self, list: &[Cond], builder: &mut SetBuilder) -> Vec<Check> {
        list.iter().map(|c| self.cond(c, builder)).collect()
    }

    /// A condition compiled, its patterns into `builder`'s sets.
    fn cond(&mut self, c: &Cond, builder: &mut SetBuilder) -> Check {
        match c {
            Cond::All(list) => Check::All(self.conds(list, builder)),
            Cond::Any(list) => Check::Any(self.conds(list, builder)),
            Cond::Not(list) => Check::Not(self.conds(list, builder)),
            Cond::AtLeast(n, list) => Check::AtLeast(*n, self.conds(list, builder)),
            Cond::HasAttachment(b) => Check::HasAttachment(*b),
            Cond::Field { name, test } => {
                let (test, shown) = match test {
                    FieldTest::Patterns(patterns) => (
                        CompiledFieldTest::Patterns(
                            patterns
                                .iter()
                                .filter_map(|p| self.compile(p, Mode::Condition))
                                .collect(),
                        ),
                        format!(
                            "matches {}",
                            patterns
                                .iter()
                                .map(|p| format!("{:?}", p.text))
                                .collect::<Vec<_>>()
                                .join(" or ")
                        ),
                    ),
                    FieldTest::Number { min, max } => (
                        CompiledFieldTest::Number {
                            min: *min,
                            max: *max,
                        },
                        range_text(min.map(|m| m.to_string()), max.map(|m| m.to_string())),
                    ),
                    FieldTest::Date { min, max } => (
                        CompiledFieldTest::Date {
                            min: *min,
                            max: *max,
                        },
                        range_text(min.map(|m| m.to_string()), max.map(|m| m.to_string())),
                    ),
                };
                Check::Field {
                    name: name.clone(),
                    test,
                    describe: format!("field {name} {shown}"),
                }
            }
            Cond::Match { source, patterns } => {
                let mut slots = Vec::new();
                for p in patterns {
                    if let Some(full) = self.checked(p) {
                        for key in set_keys(source) {
                            slots.push(builder.add(key, full.clone(), (self.path, p)));
                        }
                    }
                }
                let shown: Vec<String> = patterns.iter().map(|p| format!("{:?}", p.text)).collect();
                Check::Match {
                    slots,
                    describe: format!("{} matches {}", source.name(), shown.join(" or ")),
                }
            }
        }
    }
}

fn range_text(min: Option<String>, max: Option<String>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("between {a} and {b}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(b)) => format!("at most {b}"),
        (None, None) => "present".into(),
    }
}

#[cfg(test)]
mod beside_tests {
    use super::beside;

    #[test]
    fn the_side_work_runs_on_its_own_thread_while_this_one_works() {
        let here = std::thread::current().id();
        let (main, side) = beside(
            || {
                (
                    std::thread::current().id(),
                    std::thread::current().name().map(String::from),
                )
            },
            || std::thread::current().id(),
        );
        assert_eq!(main, here);
        assert_ne!(side.0, here);
        assert_eq!(side.1.as_deref(), Some("rules-sets"));
    }

    #[test]
    fn a_panic_on_the_side_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| beside(|| panic!("side failed"), || 1));
        let panic = caught.expect_err("the side's panic is resumed here");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"side failed"));
    }
}
