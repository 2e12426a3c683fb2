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
//! from:acme.example  to:desk.example   (every address at the domain or below it, not lookalikes)
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

use std::ops::Bound;

use chrono::{Datelike, NaiveDate};
use tantivy::tokenizer::TextAnalyzer;

use lexer::{Tok, TokKind, Value, lex};

/// The language on one screen, for `deskmail search --help` and error hints.
pub const HELP: &str = "\
Search terms (all must match; case and accents do not matter):
  acme invoice            words, in subject, body, from, to, cc, attachment names and text
  \"payment reminder\"      a phrase
  invoice OR facture      either;  (a OR b) c  groups;  -paid or NOT paid  excludes
Fields (no space after the colon; quote values with spaces: subject:\"late fee\"):
  from:acme  from:billing@acme.example  from:acme.example (its addresses and subdomains')
  to:  cc:  subject:  body:  attachment:statement (names and text)  filename:statement.pdf
  category:ap.invoice  category:ap (every ap.* category)  mailbox:ap
  invoice:4411  invoice:INV-4411  thread:ID  id:ID
  amount:500  amount:>500  amount:>=500  amount:<100  amount:[100 TO 500]  amount:[1000 TO *]
  date:2026  date:2026-11  date:2026-11-03  date:>=2026-11  date:[2026-10 TO 2026-11-15]
  after:2026-10-01 (from the next day)  before:2026-11-01 (until the day before), UTC
  has:attachment  has:invoice  has:amount  has:einvoice  vendor_vat:DE123456789
An empty query lists every thread.";

/// A syntax or value error in a search query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
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
    /// An address or a domain given to `from:` or `to:`: the address keyword `key`
    /// (`to`: of To and Cc, else of From) where the index has it, else `tokens` in `fields` as
    /// [`Leaf::Text`] ([`super::address`]).
    Address {
        to: bool,
        key: String,
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
            let tokens = self.tokens(&text, vpos)?;
            if let ("from" | "to", Some(key)) = (lname.as_str(), super::address::query_key(&text)) {
                return Ok(Leaf::Address {
                    to: lname == "to",
                    key,
                    fields,
                    tokens,
                });
            }
            return Ok(Leaf::Text { fields, tokens });
        }
        let lower = text.trim().to_lowercase();
        if !lower.chars().any(char::is_alphanumeric) {
            return err(
                vpos,
                format!("\"{text}\" has nothing searchable in it (no letters or digits)"),
            );
        }
        self.value_leaf(&lname, &text, lower, vpos)
    }

    /// A field whose value is one value, not words: a category, an invoice number, a day, a
    /// keyword (`lower`: the value trimmed and lowercased, with a letter or digit in it).
    fn value_leaf(
        &self,
        lname: &str,
        text: &str,
        lower: String,
        vpos: usize,
    ) -> Result<Leaf, QueryError> {
        match lname {
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
                let (start, end) = parse_period(text, vpos)?;
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

mod compile;
mod lexer;
#[cfg(test)]
mod tests;

pub use compile::{Compiled, compile};
