//! The deskmail search language: a hand-written lexer and recursive-descent parser producing a
//! [`Node`] tree, and its compilation into a tantivy query.
//!
//! # The language in one minute
//!
//! ```text
//! acme invoice                  every word must match (subject, body, from, to, cc, attachments)
//! "payment reminder"            a phrase
//! invoice OR facture            either
//! -paid   NOT paid              exclude
//! (a OR b) -c                   grouping
//! from:acme  from:billing@acme-supplies.example  to:  cc:  subject:  body:
//! attachment:statement  (file names and attachment text)   filename:statement.pdf  (names only)
//! category:ap.invoice   category:ap  (ap and every ap.* category; a trailing .* is accepted)
//! invoice:4411  invoice:INV-4411   mailbox:ap   thread:<thread id>   id:<message id>
//! amount:500  amount:>500  amount:>=500  amount:<100  amount:<=100  amount:[100 TO 500]
//! amount:[1000 TO *]  amount:1,234.56
//! date:2026  date:2026-11  date:2026-11-03  date:>=2026-11  date:[2026-10 TO 2026-11-15]
//! after:2026-10-01   before:2026-11-01
//! has:attachment  has:invoice  has:amount  has:einvoice
//! vendor_vat:DE123456789   (the seller's VAT ID, from an e-invoice or the document)
//! ```
//!
//! # Grammar
//!
//! ```text
//! query    := ε                                  (empty query: matches every message)
//!           | or_expr
//! or_expr  := and_expr ( "OR" and_expr )*
//! and_expr := unary ( "AND"? unary )*            (juxtaposition means AND)
//! unary    := ( "-" | "NOT" ) unary | primary    ("-" must touch its term: -word, -(a OR b))
//! primary  := "(" or_expr ")" | field | PHRASE | WORD
//! field    := NAME ":" value                     (no space after the colon)
//! value    := PHRASE | RANGE | BARE
//! RANGE    := "[" LOW ("TO"|"to") HIGH "]"       (inclusive; LOW or HIGH may be "*")
//! BARE     := [ ">" | ">=" | "<" | "<=" | "=" ] chars up to whitespace, "(", ")" or '"'
//! PHRASE   := '"' any chars but '"' '"'
//! WORD     := chars up to whitespace, "(", ")" or '"'
//! NAME     := from | to | cc | subject | body | attachment | filename | category | invoice
//!           | amount | date | after | before | has | mailbox | thread | id | vendor_vat
//!           (case-insensitive)
//! ```
//!
//! `OR`, `AND` and `NOT` are operators only in upper case; `or` is an ordinary word. Precedence:
//! `-`/`NOT` binds tightest, then AND (implicit), then OR: `a b OR c` is `(a b) OR c`.
//!
//! # Semantics
//!
//! - Words and phrases are tokenised like the indexed text (split on non-alphanumerics,
//!   lowercased, accents folded): `acme-supplies` is the phrase `acme supplies`, `Fällig` finds
//!   `fallig`. A word that tokenises to several tokens is matched as a phrase.
//! - Free words and phrases match any of subject (boosted ×2), body, from, to, cc, attachment
//!   names and attachment text. `to:` searches to and cc.
//! - `category:X` matches category `X` and every `X.*` category (so `category:ap` matches
//!   `ap.invoice` and `ap.reminder`); case-insensitive. It adds a constant 1 to a match's score
//!   (a filter, not text).
//! - `invoice:X` matches the invoice number exactly (case-insensitive, also ignoring punctuation:
//!   `INV4411` finds `INV-4411`) or any run of its parts (`4411`, `inv`, `2026-0042`).
//! - Amounts compare as f64 (`amount:500` means exactly 500.00). Decimals use a dot; commas are
//!   accepted only as thousands separators (`1,234.56`).
//! - Dates are UTC calendar periods: `date:P` is the period P (a year, month or day);
//!   `date:>P` starts after the whole period, `date:>=P` at its start, `date:<P` ends before its
//!   start, `date:<=P` at its end; `after:P` = `date:>P` (strictly after: from the next day 00:00
//!   UTC for a day), `before:P` = `date:<P` (strictly before 00:00 UTC of P's first day).
//!   `date:[A TO B]` runs from the start of A to the end of B. Messages without a date never
//!   match date conditions.
//! - A query made only of exclusions (`-paid`) matches every message except those.
//!
//! # Errors
//!
//! Every error carries the 0-based char offset of the offending token ([`QueryError::position`]);
//! its `Display` reads `at column N: message` with N = position + 1.

use std::collections::BTreeSet;
use std::ops::Bound;

use chrono::{Datelike, NaiveDate};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, EnableScoring, Explanation,
    InvertedIndexRangeQuery, Occur, PhraseQuery, Query, RangeQuery, Scorer, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DateTime, DocId, DocSet, Score, SegmentReader, Term};

use super::schema::Fields;

/// The language on one screen, for `deskmail search --help` and error hints.
pub const HELP: &str = "\
Search terms (all must match; case and accents do not matter):
  acme invoice            words, in subject, body, from, to, cc, attachment names and text
  \"payment reminder\"      a phrase
  invoice OR facture      either;  (a OR b) c  groups;  -paid or NOT paid  excludes
Fields (no space after the colon; quote values with spaces: subject:\"late fee\"):
  from:acme  from:billing@acme.example  to:  cc:  subject:  body:
  attachment:statement (names and text)  filename:statement.pdf
  category:ap.invoice  category:ap (every ap.* category)  mailbox:ap
  invoice:4411  invoice:INV-4411  thread:ID  id:ID
  amount:500  amount:>500  amount:>=500  amount:<100  amount:[100 TO 500]  amount:[1000 TO *]
  date:2026  date:2026-11  date:2026-11-03  date:>=2026-11  date:[2026-10 TO 2026-11-15]
  after:2026-10-01 (from the next day)  before:2026-11-01 (until the day before), UTC
  has:attachment  has:invoice  has:amount  has:einvoice  vendor_vat:DE123456789
An empty query lists every thread.";

/// A syntax or value error in a search query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {}: {message}", .position + 1)]
pub struct QueryError {
    /// Char offset (0-based) of the offending part of the query.
    pub position: usize,
    pub message: String,
}

fn err<T>(position: usize, message: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError {
        position,
        message: message.into(),
    })
}

// ---------------------------------------------------------------------------------------------
// AST

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// The empty query: every message.
    All,
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Leaf(Leaf),
}

/// The text fields a word or phrase can be searched in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Subject,
    Body,
    From,
    To,
    Cc,
    AttachmentName,
    AttachmentText,
}

/// Fields searched by free words and phrases.
pub const DEFAULT_FIELDS: &[TextField] = &[
    TextField::Subject,
    TextField::Body,
    TextField::From,
    TextField::To,
    TextField::Cc,
    TextField::AttachmentName,
    TextField::AttachmentText,
];

/// Keyword (exact, lowercased) fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeywordField {
    Mailbox,
    Thread,
    Id,
    Has,
    VendorVat,
}

/// A search condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Leaf {
    /// Analysed tokens to find in any of `fields`; several tokens form a phrase.
    Text {
        fields: &'static [TextField],
        tokens: Vec<String>,
    },
    /// An exact (lowercased) keyword.
    Keyword {
        field: KeywordField,
        value: String,
    },
    /// A category or category prefix (lowercased, without a trailing `.`/`.*`).
    Category(String),
    /// An invoice number: `whole` lowercased, `compact` its alphanumerics only, `tokens` analysed.
    Invoice {
        whole: String,
        compact: String,
        tokens: Vec<String>,
    },
    Amount {
        lo: Bound<f64>,
        hi: Bound<f64>,
    },
    /// Unix seconds (UTC).
    Date {
        lo: Bound<i64>,
        hi: Bound<i64>,
    },
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Bare(String),
    Quoted(String),
    Range {
        lo: (String, usize),
        hi: (String, usize),
    },
}

#[derive(Debug, Clone, PartialEq)]
enum TokKind {
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
struct Tok {
    kind: TokKind,
    pos: usize,
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

fn lex(input: &str) -> Result<Vec<Tok>, QueryError> {
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

// ---------------------------------------------------------------------------------------------
// Parser

/// Every field name the language knows (for errors and suggestions).
pub const FIELD_NAMES: &[&str] = &[
    "from",
    "to",
    "cc",
    "subject",
    "body",
    "attachment",
    "filename",
    "category",
    "invoice",
    "amount",
    "date",
    "after",
    "before",
    "has",
    "mailbox",
    "thread",
    "id",
    "vendor_vat",
];

const HAS_VALUES: &[&str] = &["attachment", "invoice", "amount", "einvoice"];

/// Deepest nesting of parentheses and `-`/`NOT` a query may have. The parser and the compiler
/// recurse once per level; without a bound a 2 KB query of `NOT NOT …` overflowed the stack
/// and aborted the whole process (a search is something every agent token may send).
pub const MAX_DEPTH: usize = 32;
/// Longest query accepted, in chars: far beyond anything typed, small enough that lexing,
/// analysing and compiling it stay cheap.
pub const MAX_QUERY_CHARS: usize = 4096;
/// Most search terms (words, phrases, fields) in one query.
pub const MAX_TERMS: usize = 256;

/// Parses a query. `analyzer` must be the index's full-text analyzer (words are tokenised here).
pub fn parse(input: &str, analyzer: &TextAnalyzer) -> Result<Node, QueryError> {
    let end = input.chars().count();
    if end > MAX_QUERY_CHARS {
        return err(
            MAX_QUERY_CHARS,
            format!("query is longer than {MAX_QUERY_CHARS} characters ({end})"),
        );
    }
    let toks = lex(input)?;
    if toks.is_empty() {
        return Ok(Node::All);
    }
    let terms = toks.iter().filter(|t| t.is_term());
    if let Some(t) = terms.clone().nth(MAX_TERMS) {
        return err(
            t.pos,
            format!(
                "query has more than {MAX_TERMS} search terms ({})",
                terms.count()
            ),
        );
    }
    let mut p = Parser {
        toks,
        i: 0,
        end,
        depth: 0,
        analyzer: analyzer.clone(),
    };
    let node = p.parse_or()?;
    if let Some(t) = p.peek() {
        // parse_or stops only at the end or at a ')'.
        return err(t.pos, "unexpected ')' — no matching '('");
    }
    Ok(node)
}

struct Parser {
    toks: Vec<Tok>,
    i: usize,
    end: usize,
    /// Current nesting of `(` and `-`/`NOT`, bounded by [`MAX_DEPTH`].
    depth: usize,
    analyzer: TextAnalyzer,
}

impl Tok {
    fn is_term(&self) -> bool {
        matches!(
            self.kind,
            TokKind::Word(_) | TokKind::Phrase(_) | TokKind::Field { .. }
        )
    }
}

impl Parser {
    /// Runs `inner` one nesting level down, refusing to go past [`MAX_DEPTH`].
    fn nested(
        &mut self,
        pos: usize,
        inner: impl FnOnce(&mut Self) -> Result<Node, QueryError>,
    ) -> Result<Node, QueryError> {
        if self.depth >= MAX_DEPTH {
            return err(pos, format!("query nests deeper than {MAX_DEPTH}"));
        }
        self.depth += 1;
        let node = inner(self);
        self.depth -= 1;
        node
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    fn starts_term(&self) -> bool {
        matches!(
            self.peek().map(|t| &t.kind),
            Some(
                TokKind::LParen
                    | TokKind::Minus
                    | TokKind::Not
                    | TokKind::Word(_)
                    | TokKind::Phrase(_)
                    | TokKind::Field { .. }
            )
        )
    }

    fn parse_or(&mut self) -> Result<Node, QueryError> {
        let mut items = vec![self.parse_and()?];
        while let Some(t) = self.peek() {
            if t.kind != TokKind::Or {
                break;
            }
            let pos = t.pos;
            self.i += 1;
            if !self.starts_term() {
                return err(pos, "\"OR\" needs a search term after it");
            }
            items.push(self.parse_and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Node::Or(items)
        })
    }

    fn parse_and(&mut self) -> Result<Node, QueryError> {
        let mut items = vec![self.parse_unary()?];
        loop {
            match self.peek() {
                None => break,
                Some(t) => match t.kind {
                    TokKind::RParen | TokKind::Or => break,
                    TokKind::And => {
                        let pos = t.pos;
                        self.i += 1;
                        if !self.starts_term() {
                            return err(pos, "\"AND\" needs a search term after it");
                        }
                    }
                    _ => {}
                },
            }
            items.push(self.parse_unary()?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Node::And(items)
        })
    }

    fn parse_unary(&mut self) -> Result<Node, QueryError> {
        if let Some(t) = self.peek()
            && matches!(t.kind, TokKind::Minus | TokKind::Not)
        {
            let (pos, minus) = (t.pos, t.kind == TokKind::Minus);
            self.i += 1;
            if !self.starts_term() {
                return if minus {
                    err(pos, "expected a term right after '-' (write -word)")
                } else {
                    err(pos, "\"NOT\" needs a search term after it")
                };
            }
            let inner = self.nested(pos, Self::parse_unary)?;
            return Ok(Node::Not(Box::new(inner)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Node, QueryError> {
        let Some(tok) = self.toks.get(self.i).cloned() else {
            return err(self.end, "expected a search term");
        };
        self.i += 1;
        let pos = tok.pos;
        match tok.kind {
            TokKind::LParen => {
                if matches!(self.peek(), Some(t) if t.kind == TokKind::RParen) {
                    return err(pos, "empty parentheses '()'");
                }
                if self.peek().is_none() {
                    return err(pos, "unclosed '(' — expected a matching ')'");
                }
                let inner = self.nested(pos, Self::parse_or)?;
                match self.peek() {
                    Some(t) if t.kind == TokKind::RParen => {
                        self.i += 1;
                        Ok(inner)
                    }
                    _ => err(pos, "unclosed '(' — expected a matching ')'"),
                }
            }
            TokKind::RParen => err(pos, "unexpected ')' — no matching '('"),
            TokKind::Or => err(pos, "\"OR\" needs a search term before it"),
            TokKind::And => err(pos, "\"AND\" needs a search term before it"),
            TokKind::Minus | TokKind::Not => unreachable!("handled by parse_unary"),
            TokKind::Word(w) | TokKind::Phrase(w) => Ok(Node::Leaf(Leaf::Text {
                fields: DEFAULT_FIELDS,
                tokens: self.tokens(&w, pos)?,
            })),
            TokKind::Field {
                name,
                value,
                value_pos,
            } => self.field(&name, pos, value, value_pos).map(Node::Leaf),
        }
    }

    fn tokens(&self, text: &str, pos: usize) -> Result<Vec<String>, QueryError> {
        let tokens = analyze(&self.analyzer, text);
        if tokens.is_empty() {
            return err(
                pos,
                format!("\"{text}\" has nothing searchable in it (no letters or digits)"),
            );
        }
        Ok(tokens)
    }

    fn field(
        &self,
        name: &str,
        name_pos: usize,
        value: Value,
        vpos: usize,
    ) -> Result<Leaf, QueryError> {
        let lname = name.to_ascii_lowercase();
        let text_fields: Option<&'static [TextField]> = match lname.as_str() {
            "from" => Some(&[TextField::From]),
            "to" => Some(&[TextField::To, TextField::Cc]),
            "cc" => Some(&[TextField::Cc]),
            "subject" => Some(&[TextField::Subject]),
            "body" => Some(&[TextField::Body]),
            "attachment" => Some(&[TextField::AttachmentName, TextField::AttachmentText]),
            "filename" => Some(&[TextField::AttachmentName]),
            _ => None,
        };
        match lname.as_str() {
            "amount" => return amount_leaf(&value, vpos),
            "date" => return date_leaf(&value, vpos),
            _ => {}
        }
        if !FIELD_NAMES.contains(&lname.as_str()) {
            return err(name_pos, unknown_field_message(name));
        }
        let text = match value {
            Value::Bare(s) | Value::Quoted(s) => s,
            Value::Range { .. } => {
                return err(
                    vpos,
                    format!("a range [A TO B] works only with amount: and date:, not {lname}:"),
                );
            }
        };
        if let Some(fields) = text_fields {
            return Ok(Leaf::Text {
                fields,
                tokens: self.tokens(&text, vpos)?,
            });
        }
        let lower = text.trim().to_lowercase();
        if !lower.chars().any(char::is_alphanumeric) {
            return err(
                vpos,
                format!("\"{text}\" has nothing searchable in it (no letters or digits)"),
            );
        }
        match lname.as_str() {
            "category" => {
                let prefix = lower
                    .trim_end_matches('*')
                    .trim_end_matches('.')
                    .to_string();
                if prefix.is_empty() {
                    return err(vpos, "missing category, as in category:ap.invoice");
                }
                Ok(Leaf::Category(prefix))
            }
            "invoice" => {
                let compact: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
                if compact.is_empty() {
                    return err(
                        vpos,
                        format!("\"{text}\" has nothing searchable in it (no letters or digits)"),
                    );
                }
                Ok(Leaf::Invoice {
                    tokens: analyze(&self.analyzer, &lower),
                    whole: lower,
                    compact,
                })
            }
            "after" | "before" => {
                let (start, end) = parse_period(&text, vpos)?;
                Ok(if lname == "after" {
                    Leaf::Date {
                        lo: Bound::Included(end),
                        hi: Bound::Unbounded,
                    }
                } else {
                    Leaf::Date {
                        lo: Bound::Unbounded,
                        hi: Bound::Excluded(start),
                    }
                })
            }
            "has" => {
                let canonical = match lower.as_str() {
                    "attachment" | "attachments" => "attachment",
                    "invoice" => "invoice",
                    "amount" => "amount",
                    "einvoice" | "e-invoice" => "einvoice",
                    _ => {
                        let mut msg = format!(
                            "unknown value \"{text}\" for has: — expected one of {}",
                            HAS_VALUES.join(", ")
                        );
                        if let Some(s) = nearest(&lower, HAS_VALUES) {
                            msg = format!(
                                "unknown value \"{text}\" for has: (did you mean \"{s}\"?)"
                            );
                        }
                        return err(vpos, msg);
                    }
                };
                Ok(Leaf::Keyword {
                    field: KeywordField::Has,
                    value: canonical.to_string(),
                })
            }
            "mailbox" => Ok(Leaf::Keyword {
                field: KeywordField::Mailbox,
                value: lower,
            }),
            "thread" => Ok(Leaf::Keyword {
                field: KeywordField::Thread,
                value: lower,
            }),
            "id" => Ok(Leaf::Keyword {
                field: KeywordField::Id,
                value: lower,
            }),
            // VAT IDs are written with and without spaces: "DE 123 456 789".
            "vendor_vat" => Ok(Leaf::Keyword {
                field: KeywordField::VendorVat,
                value: lower.chars().filter(|c| !c.is_whitespace()).collect(),
            }),
            _ => unreachable!("every known field is handled"),
        }
    }
}

/// Tokenises `text` with `analyzer`.
pub fn analyze(analyzer: &TextAnalyzer, text: &str) -> Vec<String> {
    let mut analyzer = analyzer.clone();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(tok) = stream.next() {
        out.push(tok.text.clone());
    }
    out
}

fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 2 && *d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn unknown_field_message(name: &str) -> String {
    match nearest(&name.to_ascii_lowercase(), FIELD_NAMES) {
        Some(s) => format!("unknown field \"{name}\" (did you mean \"{s}\"?)"),
        None => format!(
            "unknown field \"{name}\" — fields are {}; to search for the text itself, quote it: \"{name}:…\"",
            FIELD_NAMES.join(", ")
        ),
    }
}

/// Splits a comparison operator off a bare value: (operator, rest, chars consumed).
fn split_op(s: &str) -> (&'static str, &str, usize) {
    for op in [">=", "<=", ">", "<", "="] {
        if let Some(rest) = s.strip_prefix(op) {
            return (op, rest, op.len());
        }
    }
    ("", s, 0)
}

/// Parses `500`, `-12.5`, `1234.56`, `1,234.56`.
fn parse_amount(s: &str, pos: usize) -> Result<f64, QueryError> {
    let bad = || {
        err(
            pos,
            format!("invalid amount \"{s}\" — expected a number like 500 or 1234.56"),
        )
    };
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    if let Some(f) = frac
        && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return bad();
    }
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit() || b == b',') {
        return bad();
    }
    if int.contains(',') {
        let groups: Vec<&str> = int.split(',').collect();
        let ok = !groups[0].is_empty()
            && groups[0].len() <= 3
            && groups[1..].iter().all(|g| g.len() == 3);
        if !ok {
            return err(
                pos,
                format!(
                    "invalid amount \"{s}\" — use '.' for decimals; ',' only between thousands (1,234.56)"
                ),
            );
        }
    }
    s.replace(',', "").parse::<f64>().or_else(|_| bad())
}

fn amount_leaf(value: &Value, vpos: usize) -> Result<Leaf, QueryError> {
    let bound_or_star = |s: &str, pos: usize| -> Result<Option<f64>, QueryError> {
        if s == "*" {
            Ok(None)
        } else {
            parse_amount(s, pos).map(Some)
        }
    };
    let (lo, hi) = match value {
        Value::Bare(s) | Value::Quoted(s) => {
            let (op, rest, off) = split_op(s);
            if rest.is_empty() {
                return err(vpos + off, format!("expected a number after \"{op}\""));
            }
            let n = parse_amount(rest, vpos + off)?;
            match op {
                ">" => (Bound::Excluded(n), Bound::Unbounded),
                ">=" => (Bound::Included(n), Bound::Unbounded),
                "<" => (Bound::Unbounded, Bound::Excluded(n)),
                "<=" => (Bound::Unbounded, Bound::Included(n)),
                _ => (Bound::Included(n), Bound::Included(n)),
            }
        }
        Value::Range { lo, hi } => {
            let l = bound_or_star(&lo.0, lo.1)?;
            let h = bound_or_star(&hi.0, hi.1)?;
            if let (Some(l), Some(h)) = (l, h)
                && l > h
            {
                return err(
                    vpos,
                    format!("empty range: {} is greater than {}", lo.0, hi.0),
                );
            }
            (
                l.map_or(Bound::Unbounded, Bound::Included),
                h.map_or(Bound::Unbounded, Bound::Included),
            )
        }
    };
    Ok(Leaf::Amount { lo, hi })
}

/// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD` into the half-open UTC period [start, end) in unix
/// seconds.
pub fn parse_period(s: &str, pos: usize) -> Result<(i64, i64), QueryError> {
    let shape = || {
        err(
            pos,
            format!("invalid date \"{s}\" — expected YYYY, YYYY-MM or YYYY-MM-DD"),
        )
    };
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return shape();
    }
    if parts[0].len() != 4 || parts[1..].iter().any(|p| p.len() > 2) {
        return shape();
    }
    let Ok(year) = parts[0].parse::<i32>() else {
        return shape();
    };
    // Char offsets of the month and day parts inside the value (all ASCII here).
    let month_pos = pos + 5;
    let day_pos = month_pos + parts.get(1).map_or(0, |m| m.len() + 1);
    let month: u32 = match parts.get(1) {
        Some(m) => match m.parse::<u32>() {
            Ok(m) => m,
            Err(_) => return shape(),
        },
        None => 1,
    };
    if !(1..=12).contains(&month) {
        return err(
            month_pos,
            format!("invalid date \"{s}\": month must be 01 to 12"),
        );
    }
    let day: u32 = match parts.get(2) {
        Some(d) => match d.parse::<u32>() {
            Ok(d) => d,
            Err(_) => return shape(),
        },
        None => 1,
    };
    let Some(start) = NaiveDate::from_ymd_opt(year, month, day) else {
        return err(
            day_pos,
            format!("invalid date \"{s}\": {year}-{month:02} has no day {day}"),
        );
    };
    let end = match parts.len() {
        1 => NaiveDate::from_ymd_opt(year + 1, 1, 1),
        2 => {
            if month == 12 {
                NaiveDate::from_ymd_opt(year + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(year, month + 1, 1)
            }
        }
        _ => start.succ_opt(),
    };
    let Some(end) = end else {
        return shape();
    };
    debug_assert!(end.year() >= start.year());
    let secs = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp()
    };
    Ok((secs(start), secs(end)))
}

fn date_leaf(value: &Value, vpos: usize) -> Result<Leaf, QueryError> {
    let (lo, hi) = match value {
        Value::Bare(s) | Value::Quoted(s) => {
            let (op, rest, off) = split_op(s);
            if rest.is_empty() {
                return err(vpos + off, format!("expected a date after \"{op}\""));
            }
            let (start, end) = parse_period(rest, vpos + off)?;
            match op {
                ">" => (Bound::Included(end), Bound::Unbounded),
                ">=" => (Bound::Included(start), Bound::Unbounded),
                "<" => (Bound::Unbounded, Bound::Excluded(start)),
                "<=" => (Bound::Unbounded, Bound::Excluded(end)),
                _ => (Bound::Included(start), Bound::Excluded(end)),
            }
        }
        Value::Range { lo, hi } => {
            let l = if lo.0 == "*" {
                None
            } else {
                Some(parse_period(&lo.0, lo.1)?.0)
            };
            let h = if hi.0 == "*" {
                None
            } else {
                Some(parse_period(&hi.0, hi.1)?.1)
            };
            if let (Some(l), Some(h)) = (l, h)
                && l >= h
            {
                return err(vpos, format!("empty range: {} is after {}", lo.0, hi.0));
            }
            (
                l.map_or(Bound::Unbounded, Bound::Included),
                h.map_or(Bound::Unbounded, Bound::Excluded),
            )
        }
    };
    Ok(Leaf::Date { lo, hi })
}

// ---------------------------------------------------------------------------------------------
// Compilation to tantivy

/// A compiled query plus the tokens worth highlighting (from non-negated conditions).
pub struct Compiled {
    pub query: Box<dyn Query>,
    pub body_terms: BTreeSet<String>,
    pub subject_terms: BTreeSet<String>,
}

/// Compiles a parsed query against the index fields.
pub fn compile(node: &Node, fields: &Fields) -> Compiled {
    let mut c = Compiler {
        fields,
        body_terms: BTreeSet::new(),
        subject_terms: BTreeSet::new(),
    };
    let query = c.node(node, false);
    Compiled {
        query,
        body_terms: c.body_terms,
        subject_terms: c.subject_terms,
    }
}

struct Compiler<'a> {
    fields: &'a Fields,
    body_terms: BTreeSet<String>,
    subject_terms: BTreeSet<String>,
}

fn must_not(q: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, Box::new(AllQuery)),
        (Occur::MustNot, excluded(q)),
    ]))
}

/// A query as the excluded side of a `MustNot` clause: wrapped in [`ForwardOnly`] unless it is a
/// single term (tantivy's term exclusion is specialised, and its postings seek correctly from
/// any position).
fn excluded(q: Box<dyn Query>) -> Box<dyn Query> {
    if q.is::<TermQuery>() {
        q
    } else {
        Box::new(ForwardOnly(q))
    }
}

/// An excluded clause whose scorer is only ever moved forward.
///
/// tantivy 0.27's `Exclude` asks the excluded scorer `seek_danger(d)` for each included document
/// `d`, but a phrase scorer has already moved to its own first match when it is built (or to the
/// end, when the words never stand side by side), so that seek can go backwards. PhraseScorer
/// guards against it only with a `debug_assert!`: a debug build (every `cargo test`) panicked on
/// `-"statement quarterly"`, and release builds relied on behaviour tantivy does not promise.
/// Found by the query_search fuzz target (`NOT o&d`). The wrapper's scorer keeps `DocSet`'s
/// default `seek_danger`, which seeks only when the target is ahead and otherwise answers with the
/// current document as the lower bound: correct for any target and any inner scorer.
#[derive(Debug)]
struct ForwardOnly(Box<dyn Query>);

impl Clone for ForwardOnly {
    fn clone(&self) -> Self {
        ForwardOnly(self.0.box_clone())
    }
}

impl Query for ForwardOnly {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(ForwardOnlyWeight(self.0.weight(scoring)?)))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.0.query_terms(visitor);
    }
}

struct ForwardOnlyWeight(Box<dyn Weight>);

impl Weight for ForwardOnlyWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(ForwardOnlyScorer(self.0.scorer(reader, boost)?)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.0.explain(reader, doc)
    }
}

struct ForwardOnlyScorer(Box<dyn Scorer>);

impl DocSet for ForwardOnlyScorer {
    fn advance(&mut self) -> DocId {
        self.0.advance()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        // Never hand the inner scorer a target behind it (see the type's comment).
        let doc = self.0.doc();
        if doc >= target {
            doc
        } else {
            self.0.seek(target)
        }
    }

    fn doc(&self) -> DocId {
        self.0.doc()
    }

    fn size_hint(&self) -> u32 {
        self.0.size_hint()
    }

    fn cost(&self) -> u64 {
        self.0.cost()
    }
}

impl Scorer for ForwardOnlyScorer {
    fn score(&mut self) -> Score {
        self.0.score()
    }
}

impl Compiler<'_> {
    fn node(&mut self, node: &Node, negated: bool) -> Box<dyn Query> {
        match node {
            Node::All => Box::new(AllQuery),
            Node::Not(inner) => must_not(self.node(inner, !negated)),
            Node::Or(items) => {
                let clauses = items.iter().map(|n| self.node(n, negated)).collect();
                Box::new(BooleanQuery::union(clauses))
            }
            Node::And(items) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for item in items {
                    match item {
                        Node::Not(inner) => {
                            clauses.push((Occur::MustNot, excluded(self.node(inner, !negated))));
                        }
                        _ => clauses.push((Occur::Must, self.node(item, negated))),
                    }
                }
                if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                Box::new(BooleanQuery::new(clauses))
            }
            Node::Leaf(leaf) => self.leaf(leaf, negated),
        }
    }

    fn text_field(&self, f: TextField) -> Field {
        let fs = self.fields;
        match f {
            TextField::Subject => fs.subject,
            TextField::Body => fs.body,
            TextField::From => fs.from,
            TextField::To => fs.to,
            TextField::Cc => fs.cc,
            TextField::AttachmentName => fs.attachment,
            TextField::AttachmentText => fs.attachment_text,
        }
    }

    fn leaf(&mut self, leaf: &Leaf, negated: bool) -> Box<dyn Query> {
        let fs = self.fields;
        match leaf {
            Leaf::Text { fields, tokens } => {
                if !negated {
                    for f in *fields {
                        match f {
                            TextField::Body => self.body_terms.extend(tokens.iter().cloned()),
                            TextField::Subject => self.subject_terms.extend(tokens.iter().cloned()),
                            _ => {}
                        }
                    }
                }
                let mut per_field: Vec<Box<dyn Query>> = fields
                    .iter()
                    .map(|&f| {
                        let q = tokens_query(self.text_field(f), tokens);
                        if f == TextField::Subject && fields.len() > 1 {
                            Box::new(BoostQuery::new(q, 2.0)) as Box<dyn Query>
                        } else {
                            q
                        }
                    })
                    .collect();
                if per_field.len() == 1 {
                    per_field.pop().expect("one field")
                } else {
                    Box::new(BooleanQuery::union(per_field))
                }
            }
            Leaf::Keyword { field, value } => {
                let f = match field {
                    KeywordField::Mailbox => fs.mailbox,
                    KeywordField::Thread => fs.thread,
                    KeywordField::Id => fs.id,
                    KeywordField::Has => fs.has,
                    KeywordField::VendorVat => fs.vendor_vat,
                };
                keyword_query(f, value)
            }
            Leaf::Category(prefix) => Box::new(CategoryQuery {
                field: fs.category,
                prefix: prefix.clone(),
            }),
            Leaf::Invoice {
                whole,
                compact,
                tokens,
            } => {
                if !negated {
                    // The number usually appears in the text too: highlight it there.
                    self.body_terms.extend(tokens.iter().cloned());
                    self.subject_terms.extend(tokens.iter().cloned());
                }
                let mut alts = vec![keyword_query(fs.invoice_exact, whole)];
                if compact != whole {
                    alts.push(keyword_query(fs.invoice_exact, compact));
                }
                if !tokens.is_empty() {
                    alts.push(tokens_query(fs.invoice, tokens));
                }
                Box::new(BooleanQuery::union(alts))
            }
            Leaf::Amount { lo, hi } => {
                if matches!((lo, hi), (Bound::Unbounded, Bound::Unbounded)) {
                    return keyword_query(fs.has, "amount");
                }
                let t = |v: &f64| Term::from_field_f64(fs.amount, *v);
                Box::new(RangeQuery::new(lo.as_ref().map(t), hi.as_ref().map(t)))
            }
            Leaf::Date { lo, hi } => {
                if matches!((lo, hi), (Bound::Unbounded, Bound::Unbounded)) {
                    // `date:[* TO *]`: any dated message.
                    return Box::new(RangeQuery::new(
                        Bound::Included(Term::from_field_date_for_search(fs.date, DateTime::MIN)),
                        Bound::Unbounded,
                    ));
                }
                let t = |v: &i64| date_term(fs.date, *v);
                Box::new(RangeQuery::new(lo.as_ref().map(t), hi.as_ref().map(t)))
            }
        }
    }
}

/// `category:X`: the category `X` and every `X.*` category, expanded when it is weighed into
/// the category terms the index holds (a handful).
///
/// A union with a range over the term dictionary, the obvious compilation, costs far more than
/// it finds: the range's scorer is a constant scorer over a bit set, even when no `X.*`
/// category exists, so `category:other` ran as a two-clause union over every message (a pass
/// over a million matches, and every seek of the read-back filled a window of 4,096 documents,
/// scoring each). Expanded, it is one term's postings, or a union of the few terms there are.
#[derive(Debug, Clone)]
struct CategoryQuery {
    field: Field,
    prefix: String,
}

impl CategoryQuery {
    /// The category terms of the index under the prefix (needs the searcher; without one, the
    /// union with the range).
    fn expanded(&self, scoring: &EnableScoring<'_>) -> tantivy::Result<Box<dyn Query>> {
        let Some(searcher) = scoring.searcher() else {
            let sub = InvertedIndexRangeQuery::new(
                Bound::Included(Term::from_field_text(
                    self.field,
                    &format!("{}.", self.prefix),
                )),
                Bound::Excluded(Term::from_field_text(
                    self.field,
                    &format!("{}/", self.prefix),
                )),
            );
            return Ok(Box::new(BooleanQuery::union(vec![
                keyword_query(self.field, &self.prefix),
                Box::new(sub),
            ])));
        };
        let (below, above) = (format!("{}.", self.prefix), format!("{}/", self.prefix));
        let mut values = BTreeSet::new();
        for reader in searcher.segment_readers() {
            let terms = reader.inverted_index(self.field)?.terms().clone();
            if terms.get(self.prefix.as_bytes())?.is_some() {
                values.insert(self.prefix.clone());
            }
            let mut stream = terms
                .range()
                .ge(below.as_bytes())
                .lt(above.as_bytes())
                .into_stream()?;
            while stream.advance() {
                values.insert(String::from_utf8_lossy(stream.key()).into_owned());
            }
        }
        let mut terms: Vec<Box<dyn Query>> = values
            .iter()
            .map(|v| keyword_query(self.field, v))
            .collect();
        Ok(match terms.len() {
            0 => Box::new(EmptyQuery),
            1 => terms.pop().expect("one term"),
            _ => Box::new(BooleanQuery::union(terms)),
        })
    }
}

impl Query for CategoryQuery {
    /// A category scores as a filter, a constant 1: a label the rules gave a message says
    /// nothing about how well it matches (and `ap` and `ap.invoice` then weigh the same).
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        ConstScoreQuery::new(self.expanded(&scoring)?, 1.0).weight(scoring)
    }
}

fn date_term(field: Field, secs: i64) -> Term {
    Term::from_field_date_for_search(field, super::clamped_date(secs))
}

fn keyword_query(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

fn tokens_query(field: Field, tokens: &[String]) -> Box<dyn Query> {
    if let [one] = tokens {
        Box::new(TermQuery::new(
            Term::from_field_text(field, one),
            IndexRecordOption::WithFreqs,
        ))
    } else {
        Box::new(PhraseQuery::new(
            tokens
                .iter()
                .map(|t| Term::from_field_text(field, t))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::schema::text_analyzer;

    fn p(q: &str) -> Result<Node, QueryError> {
        parse(q, &text_analyzer())
    }

    fn e(q: &str) -> QueryError {
        match p(q) {
            Ok(n) => panic!("{q:?} parsed to {n:?}, expected an error"),
            Err(e) => e,
        }
    }

    fn text(fields: &'static [TextField], toks: &[&str]) -> Node {
        Node::Leaf(Leaf::Text {
            fields,
            tokens: toks.iter().map(|s| s.to_string()).collect(),
        })
    }

    fn word(t: &str) -> Node {
        text(DEFAULT_FIELDS, &[t])
    }

    #[test]
    fn empty_query_matches_all() {
        assert_eq!(p("").unwrap(), Node::All);
        assert_eq!(p("   ").unwrap(), Node::All);
    }

    #[test]
    fn precedence_and_grouping() {
        assert_eq!(
            p("a b OR c").unwrap(),
            Node::Or(vec![Node::And(vec![word("a"), word("b")]), word("c")])
        );
        assert_eq!(
            p("a (b OR c)").unwrap(),
            Node::And(vec![word("a"), Node::Or(vec![word("b"), word("c")])])
        );
        assert_eq!(
            p("a AND -b NOT c").unwrap(),
            Node::And(vec![
                word("a"),
                Node::Not(Box::new(word("b"))),
                Node::Not(Box::new(word("c")))
            ])
        );
        assert_eq!(
            p("-(a OR b)").unwrap(),
            Node::Not(Box::new(Node::Or(vec![word("a"), word("b")])))
        );
        // lower-case operators are words
        assert_eq!(
            p("a or b").unwrap(),
            Node::And(vec![word("a"), word("or"), word("b")])
        );
    }

    #[test]
    fn words_are_analysed_like_the_index() {
        assert_eq!(p("Fällig").unwrap(), word("fallig"));
        assert_eq!(
            p("acme-supplies").unwrap(),
            text(DEFAULT_FIELDS, &["acme", "supplies"])
        );
        assert_eq!(
            p("\"Payment  Reminder\"").unwrap(),
            text(DEFAULT_FIELDS, &["payment", "reminder"])
        );
        // a colon after digits is not a field
        assert_eq!(p("10:30").unwrap(), text(DEFAULT_FIELDS, &["10", "30"]));
    }

    #[test]
    fn fields() {
        assert_eq!(
            p("from:billing@acme-supplies.example").unwrap(),
            text(
                &[TextField::From],
                &["billing", "acme", "supplies", "example"]
            )
        );
        assert_eq!(
            p("to:bob").unwrap(),
            text(&[TextField::To, TextField::Cc], &["bob"])
        );
        assert_eq!(
            p("Subject:\"late fee\"").unwrap(),
            text(&[TextField::Subject], &["late", "fee"])
        );
        assert_eq!(
            p("category:AP.*").unwrap(),
            Node::Leaf(Leaf::Category("ap".into()))
        );
        assert_eq!(
            p("invoice:INV-4411").unwrap(),
            Node::Leaf(Leaf::Invoice {
                whole: "inv-4411".into(),
                compact: "inv4411".into(),
                tokens: vec!["inv".into(), "4411".into()],
            })
        );
        assert_eq!(
            p("has:attachments").unwrap(),
            Node::Leaf(Leaf::Keyword {
                field: KeywordField::Has,
                value: "attachment".into()
            })
        );
        assert_eq!(
            p("(mailbox:AP)").unwrap(),
            Node::Leaf(Leaf::Keyword {
                field: KeywordField::Mailbox,
                value: "ap".into()
            })
        );
    }

    #[test]
    fn amounts() {
        let a = |q: &str| match p(q).unwrap() {
            Node::Leaf(Leaf::Amount { lo, hi }) => (lo, hi),
            n => panic!("{n:?}"),
        };
        use Bound::*;
        assert_eq!(a("amount:500"), (Included(500.0), Included(500.0)));
        assert_eq!(a("amount:>500"), (Excluded(500.0), Unbounded));
        assert_eq!(a("amount:>=500"), (Included(500.0), Unbounded));
        assert_eq!(a("amount:<100"), (Unbounded, Excluded(100.0)));
        assert_eq!(a("amount:<=100.5"), (Unbounded, Included(100.5)));
        assert_eq!(a("amount:1,234.56"), (Included(1234.56), Included(1234.56)));
        assert_eq!(a("amount:[100 TO 500]"), (Included(100.0), Included(500.0)));
        assert_eq!(a("amount:[100 to *]"), (Included(100.0), Unbounded));
    }

    #[test]
    fn dates() {
        let d = |q: &str| match p(q).unwrap() {
            Node::Leaf(Leaf::Date { lo, hi }) => (lo, hi),
            n => panic!("{n:?}"),
        };
        let ts = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp();
        use Bound::*;
        assert_eq!(
            d("date:2026-11"),
            (
                Included(ts("2026-11-01T00:00:00Z")),
                Excluded(ts("2026-12-01T00:00:00Z"))
            )
        );
        assert_eq!(
            d("date:2026-12"),
            (
                Included(ts("2026-12-01T00:00:00Z")),
                Excluded(ts("2027-01-01T00:00:00Z"))
            )
        );
        assert_eq!(
            d("date:2026"),
            (
                Included(ts("2026-01-01T00:00:00Z")),
                Excluded(ts("2027-01-01T00:00:00Z"))
            )
        );
        assert_eq!(
            d("date:2026-11-03"),
            (
                Included(ts("2026-11-03T00:00:00Z")),
                Excluded(ts("2026-11-04T00:00:00Z"))
            )
        );
        assert_eq!(
            d("after:2026-10-01"),
            (Included(ts("2026-10-02T00:00:00Z")), Unbounded)
        );
        assert_eq!(
            d("before:2026-11-01"),
            (Unbounded, Excluded(ts("2026-11-01T00:00:00Z")))
        );
        assert_eq!(
            d("date:<=2026-11"),
            (Unbounded, Excluded(ts("2026-12-01T00:00:00Z")))
        );
        assert_eq!(
            d("date:[2026-10 TO 2026-11-15]"),
            (
                Included(ts("2026-10-01T00:00:00Z")),
                Excluded(ts("2026-11-16T00:00:00Z"))
            )
        );
    }

    #[test]
    fn errors_have_positions() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "frm:acme",
                0,
                "unknown field \"frm\" (did you mean \"from\"?)",
            ),
            ("invoice sbject:late", 8, "did you mean \"subject\"?"),
            ("xyzzy:1", 0, "unknown field \"xyzzy\""),
            ("(acme OR beta", 0, "unclosed '('"),
            ("a (b (c) d", 2, "unclosed '('"),
            ("acme)", 4, "unexpected ')'"),
            (
                "amount:[100 TO 500",
                7,
                "unbalanced '[' — expected \"TO\" and a closing ']'",
            ),
            ("amount:[100 500]", 12, "expected \"TO\""),
            ("amount:[100 TO]", 14, "upper bound"),
            ("amount:[500 TO 100]", 7, "empty range"),
            ("say \"hello", 4, "unclosed '\"'"),
            ("date:2026-13", 10, "month must be 01 to 12"),
            ("date:2026-02-30", 13, "has no day 30"),
            ("date:26-11", 5, "expected YYYY, YYYY-MM or YYYY-MM-DD"),
            ("after:soon", 6, "invalid date"),
            ("amount:>abc", 8, "invalid amount \"abc\""),
            ("amount:>", 8, "expected a number"),
            ("amount:1,5", 7, "use '.' for decimals"),
            ("()", 0, "empty parentheses"),
            ("a OR", 2, "\"OR\" needs a search term after it"),
            ("OR a", 0, "\"OR\" needs a search term before it"),
            ("a OR OR b", 2, "after it"),
            ("(a OR) b", 3, "after it"),
            ("a AND", 2, "\"AND\" needs a search term after it"),
            ("a - b", 2, "expected a term right after '-'"),
            ("NOT", 0, "\"NOT\" needs a search term"),
            ("from: acme", 5, "no space allowed after the colon"),
            ("from:", 5, "missing value after \"from:\""),
            ("from:(a OR b)", 5, "repeat the field"),
            ("subject:[a TO b]", 8, "only with amount: and date:"),
            ("has:atachment", 4, "did you mean \"attachment\"?"),
            ("!!!", 0, "nothing searchable"),
            ("\"\"", 0, "empty phrase"),
            ("amount:[1 TO 2]x", 15, "expected a space after ']'"),
            ("mailbox:_", 8, "nothing searchable"),
            ("_", 0, "nothing searchable"),
            ("category:.*", 9, "nothing searchable"),
        ];
        for (q, pos, msg) in cases {
            let e = e(q);
            assert_eq!(e.position, *pos, "position for {q:?}: {e}");
            assert!(e.message.contains(msg), "message for {q:?}: {e}");
        }
    }

    #[test]
    fn help_examples_parse() {
        for q in [
            "acme invoice",
            "\"payment reminder\"",
            "invoice OR facture",
            "(a OR b) c",
            "-paid",
            "NOT paid",
            "subject:\"late fee\"",
            "from:acme from:billing@acme.example to:x cc:x subject:x body:x",
            "attachment:statement filename:statement.pdf",
            "category:ap.invoice category:ap mailbox:ap",
            "invoice:4411 invoice:INV-4411 thread:0123abcd id:0123abcd",
            "amount:500 amount:>500 amount:>=500 amount:<100 amount:[100 TO 500] amount:[1000 TO *]",
            "date:2026 date:2026-11 date:2026-11-03 date:>=2026-11 date:[2026-10 TO 2026-11-15]",
            "after:2026-10-01 before:2026-11-01",
            "has:attachment has:invoice has:amount",
        ] {
            assert!(p(q).is_ok(), "{q}: {:?}", p(q));
        }
    }

    #[test]
    fn error_display_uses_one_based_columns() {
        let e = e("invoice amount:[100 TO");
        assert_eq!(
            e.to_string(),
            "at column 16: unbalanced '[' — expected \"TO\" and a closing ']'"
        );
        assert_eq!(
            self::e("frm:acme").to_string(),
            "at column 1: unknown field \"frm\" (did you mean \"from\"?)"
        );
    }

    #[test]
    fn positions_count_chars_not_bytes() {
        // "é" is two bytes; positions are char offsets, not byte offsets.
        let e = e("café (x");
        assert_eq!(e.position, 5);
        let e = self::e("éé frm:x");
        assert_eq!(e.position, 3);
    }

    /// Security finding 1: `NOT ` 400 times and a word (1.6 KB) overflowed the parser's stack
    /// and aborted the process; now it is a query error like any other.
    #[test]
    fn a_deep_not_chain_is_refused_not_a_stack_overflow() {
        let q = format!("{}paid", "NOT ".repeat(400));
        let e = e(&q);
        assert_eq!(e.message, format!("query nests deeper than {MAX_DEPTH}"));
        assert_eq!(
            e.position,
            4 * MAX_DEPTH,
            "points at the first NOT too many"
        );
        let q = format!("{}paid", "-".repeat(5000));
        assert!(
            self::e(&q).message.contains("longer than"),
            "{:?}",
            self::e(&q)
        );
        let q = format!("{}paid", "-".repeat(1000));
        assert_eq!(
            self::e(&q).message,
            format!("query nests deeper than {MAX_DEPTH}")
        );
    }

    #[test]
    fn deep_parentheses_are_refused_and_the_limit_itself_parses() {
        let q = "(".repeat(1800);
        assert_eq!(
            e(&q).message,
            format!("query nests deeper than {MAX_DEPTH}")
        );
        let at_limit = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(p(&at_limit).is_ok());
        let over = format!(
            "{}a{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(e(&over).position, MAX_DEPTH);
        let nots = format!("{}a", "NOT ".repeat(MAX_DEPTH));
        assert!(p(&nots).is_ok());
        // Siblings do not add up: depth is nesting, not count.
        let wide = "(a) ".repeat(100);
        assert!(p(&wide).is_ok());
    }

    #[test]
    fn too_many_terms_are_refused_with_the_position_of_the_first_extra() {
        let q = "w ".repeat(MAX_TERMS + 10);
        let e = e(&q);
        assert_eq!(e.position, 2 * MAX_TERMS);
        assert!(
            e.message.contains(&format!("more than {MAX_TERMS}")),
            "{e:?}"
        );
        assert!(p(&"w ".repeat(MAX_TERMS)).is_ok());
    }

    /// Found by the query_parse fuzz target: a date bound past 2262 (or before 1678) overflowed
    /// tantivy's nanosecond timestamp while compiling (a panic in debug builds, a wrapped bound
    /// in release). Such bounds are clamped to what tantivy can hold.
    #[test]
    fn a_date_past_2262_compiles_without_overflow() {
        let fields = crate::index::schema::build_schema().1;
        for q in [
            "before:2602-11-01",
            "after:6781-10-01",
            "date:9999",
            "date:>=9999-12-31",
            "date:1000",
            "date:<0001-01-01",
            "date:[0000 TO 9999-12]",
            "date:[1677-09 TO 2262-04]",
        ] {
            let node = p(q).unwrap_or_else(|e| panic!("{q:?}: {e}"));
            compile(&node, &fields);
        }
    }
}
