//! Compiling rule files into a [`RuleSet`]: placeholders expanded, every condition pattern
//! into the `RegexSet` of the place it looks, extraction patterns on their own, and every
//! problem of every file collected (path and line) before any is reported.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use regex::{Regex, RegexBuilder};
use sha2::{Digest, Sha256};

use super::file::{
    self, Cond, DateOrderSetting, FieldTest, PatternSpec, RuleError, RuleFile, Source,
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
        let mut builder = SetBuilder::default();
        let mut rules = compile_rules(files, &settings.defines, &mut builder, &mut errors);
        if !errors.is_empty() {
            errors.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
            return Err(RulesError { errors });
        }
        let sets = builder
            .build(dir)
            .map_err(|e| RulesError { errors: vec![e] })?;
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

/// Every rule's condition and extractions compiled (its condition patterns into `builder`'s
/// sets); disabled rules are checked but not kept; a rule name used twice is an error.
fn compile_rules(
    files: Vec<RuleFile>,
    defines: &BTreeMap<String, PatternSpec>,
    builder: &mut SetBuilder,
    errors: &mut Vec<RuleError>,
) -> Vec<CompiledRule> {
    let mut rules = Vec::new();
    let mut names: HashMap<String, (String, usize)> = HashMap::new();
    let mut compiled = HashMap::new();
    for spec in files.into_iter().flat_map(|f| f.rules) {
        if let Some((p, l)) = names.get(&spec.name) {
            errors.push(RuleError {
                path: spec.path.clone(),
                line: spec.line,
                message: format!("rule name {:?} is already used at {p}:{l}", spec.name),
            });
        }
        names
            .entry(spec.name.clone())
            .or_insert((spec.path.clone(), spec.line));
        let mut ctx = CompileCtx {
            path: &spec.path,
            defines,
            case_sensitive: spec.case_sensitive,
            errors: &mut *errors,
            builder: &mut *builder,
            compiled: &mut compiled,
        };
        let check = ctx.cond(&spec.when);
        let fields = spec
            .extract
            .iter()
            .map(|f| CompiledField {
                name: f.name.clone(),
                kind: f.kind,
                patterns: f
                    .patterns
                    .iter()
                    .filter_map(|p| ctx.extract_regex(p))
                    .collect(),
                unless: f
                    .unless
                    .iter()
                    .filter_map(|p| ctx.extract_regex(p))
                    .collect(),
                from: f.from.clone(),
            })
            .collect();
        if !spec.disabled {
            rules.push(CompiledRule {
                spec,
                check,
                fields,
            });
        }
    }
    rules
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
    builder: &'a mut SetBuilder,
    /// Patterns compiled so far, by their full text (flags and placeholders expanded): rules
    /// share extraction patterns (`{invoice_no}{sep}{ref}` in five AR rules), each of them a
    /// large regex once its placeholders are in, and compiling them was most of the time the
    /// rules took to load, before any message is read.
    compiled: &'a mut HashMap<String, Regex>,
}

impl CompileCtx<'_> {
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

    fn cond(&mut self, c: &Cond) -> Check {
        match c {
            Cond::All(list) => Check::All(list.iter().map(|c| self.cond(c)).collect()),
            Cond::Any(list) => Check::Any(list.iter().map(|c| self.cond(c)).collect()),
            Cond::Not(list) => Check::Not(list.iter().map(|c| self.cond(c)).collect()),
            Cond::AtLeast(n, list) => {
                Check::AtLeast(*n, list.iter().map(|c| self.cond(c)).collect())
            }
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
                            slots.push(self.builder.add(key, full.clone(), (self.path, p)));
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
