//! The query language's lexer: words, phrases, operators and `field:value` tokens, each with
//! its position for error messages (the parser is in `mod.rs`).

use super::{QueryError, err};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Bare(String),
    Quoted(String),
    Range {
        lo: (String, usize),
        hi: (String, usize),
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum TokKind {
    LParen,
    RParen,
    Minus,
    Or,
    And,
    Not,
    Word(String),
    Phrase(String),
    Field {
        name: String,
        value: Value,
        value_pos: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tok {
    pub(super) kind: TokKind,
    pub(super) pos: usize,
}

impl Tok {
    /// A search term (what [`super::MAX_TERMS`] counts), not an operator or a parenthesis.
    pub(super) fn is_term(&self) -> bool {
        matches!(
            self.kind,
            TokKind::Word(_) | TokKind::Phrase(_) | TokKind::Field { .. }
        )
    }
}

fn ends_word(c: char) -> bool {
    c.is_whitespace() || c == '(' || c == ')' || c == '"'
}

/// Reads a quoted string whose opening quote is at `q`; returns its text and the index after the
/// closing quote.
fn lex_quoted(chars: &[char], q: usize) -> Result<(String, usize), QueryError> {
    let Some(len) = chars[q + 1..].iter().position(|&c| c == '"') else {
        return err(q, "unclosed '\"' — expected a closing '\"'");
    };
    let text: String = chars[q + 1..q + 1 + len].iter().collect();
    if text.trim().is_empty() {
        return err(q, "empty phrase \"\"");
    }
    Ok((text, q + len + 2))
}

/// Reads a field value starting at `v`; returns it and the index after it.
fn lex_value(chars: &[char], v: usize, name: &str) -> Result<(Value, usize), QueryError> {
    match chars.get(v) {
        None => err(v, format!("missing value after \"{name}:\"")),
        Some(c) if c.is_whitespace() => err(
            v,
            format!("missing value after \"{name}:\" (no space allowed after the colon)"),
        ),
        Some(')') => err(v, format!("missing value after \"{name}:\"")),
        Some('(') => err(
            v,
            format!(
                "a field value cannot be a group — repeat the field instead: ({name}:a OR {name}:b)"
            ),
        ),
        Some('"') => {
            let (text, next) = lex_quoted(chars, v)?;
            Ok((Value::Quoted(text), next))
        }
        Some('[') => {
            let Some(len) = chars[v + 1..].iter().position(|&c| c == ']') else {
                return err(v, "unbalanced '[' — expected \"TO\" and a closing ']'");
            };
            let close = v + 1 + len;
            // Split the inside into whitespace-separated parts with their positions.
            let mut parts: Vec<(String, usize)> = Vec::new();
            let mut i = v + 1;
            while i < close {
                if chars[i].is_whitespace() {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < close && !chars[i].is_whitespace() {
                    i += 1;
                }
                parts.push((chars[start..i].iter().collect(), start));
            }
            match parts.len() {
                0 => return err(v, "empty range — expected [LOW TO HIGH]"),
                1 => return err(close, "expected \"TO\" and an upper bound before ']'"),
                _ if !parts[1].0.eq_ignore_ascii_case("TO") => {
                    return err(
                        parts[1].1,
                        format!(
                            "expected \"TO\" in the range, as in [100 TO 500], found \"{}\"",
                            parts[1].0
                        ),
                    );
                }
                2 => {
                    return err(
                        close,
                        "expected an upper bound after \"TO\" (use * for none)",
                    );
                }
                3 => {}
                _ => {
                    return err(
                        parts[3].1,
                        format!("unexpected \"{}\" in the range — expected ']'", parts[3].0),
                    );
                }
            }
            if let Some(&c) = chars.get(close + 1)
                && !(c.is_whitespace() || c == ')')
            {
                return err(close + 1, "expected a space after ']'");
            }
            let hi = parts.pop().expect("3 parts");
            parts.pop();
            let lo = parts.pop().expect("3 parts");
            Ok((Value::Range { lo, hi }, close + 1))
        }
        Some(_) => {
            let mut i = v;
            while i < chars.len() && !ends_word(chars[i]) {
                i += 1;
            }
            Ok((Value::Bare(chars[v..i].iter().collect()), i))
        }
    }
}

pub(super) fn lex(input: &str) -> Result<Vec<Tok>, QueryError> {
    let chars: Vec<char> = input.chars().collect();
    let n = chars.len();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < n {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let pos = i;
        let kind = match c {
            '(' => {
                i += 1;
                TokKind::LParen
            }
            ')' => {
                i += 1;
                TokKind::RParen
            }
            '"' => {
                let (text, next) = lex_quoted(&chars, i)?;
                i = next;
                TokKind::Phrase(text)
            }
            '-' => {
                match chars.get(i + 1) {
                    None => return err(i, "expected a term right after '-' (write -word)"),
                    Some(&c) if c.is_whitespace() || c == ')' => {
                        return err(i, "expected a term right after '-' (write -word)");
                    }
                    _ => {}
                }
                i += 1;
                TokKind::Minus
            }
            _ => {
                let mut j = i;
                while j < n && (chars[j].is_ascii_alphabetic() || chars[j] == '_') {
                    j += 1;
                }
                if j > i && j < n && chars[j] == ':' {
                    let name: String = chars[i..j].iter().collect();
                    let (value, next) = lex_value(&chars, j + 1, &name)?;
                    i = next;
                    TokKind::Field {
                        name,
                        value,
                        value_pos: j + 1,
                    }
                } else {
                    while i < n && !ends_word(chars[i]) {
                        i += 1;
                    }
                    let word: String = chars[pos..i].iter().collect();
                    match word.as_str() {
                        "OR" => TokKind::Or,
                        "AND" => TokKind::And,
                        "NOT" => TokKind::Not,
                        _ => TokKind::Word(word),
                    }
                }
            }
        };
        toks.push(Tok { kind, pos });
    }
    Ok(toks)
}
