//! Compiling a parsed query ([`Node`]) into a tantivy query, with the words worth highlighting.

use std::collections::BTreeSet;
use std::ops::Bound;

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, EnableScoring, Explanation,
    InvertedIndexRangeQuery, Occur, PhraseQuery, Query, RangeQuery, Scorer, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, Term};

use super::{KeywordField, Leaf, Node, TextField};
use crate::index::schema::Fields;

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
                // The date conditions of a conjunction are one range: `after:X before:Y` as two
                // ranges intersected read the date column twice and walked every document on
                // either side (at a million messages, three times the time of `date:` for the
                // same month).
                let mut dates: Option<(Bound<i64>, Bound<i64>)> = None;
                for item in items {
                    match item {
                        Node::Not(inner) => {
                            clauses.push((Occur::MustNot, excluded(self.node(inner, !negated))));
                        }
                        Node::Leaf(Leaf::Date { lo, hi }) => {
                            dates = Some(match dates {
                                None => (*lo, *hi),
                                Some((l, h)) => (tighter(l, *lo, true), tighter(h, *hi, false)),
                            });
                        }
                        _ => clauses.push((Occur::Must, self.node(item, negated))),
                    }
                }
                if let Some((lo, hi)) = dates {
                    clauses.push((Occur::Must, self.leaf(&Leaf::Date { lo, hi }, negated)));
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

    /// `tokens` (a phrase when several) in any of `fields`, the subject weighing double.
    fn text_query(&self, fields: &[TextField], tokens: &[String]) -> Box<dyn Query> {
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
                self.text_query(fields, tokens)
            }
            Leaf::Address {
                to,
                key,
                fields,
                tokens,
            } => Box::new(AddressQuery {
                key: Term::from_field_text(if *to { fs.to_addr } else { fs.from_addr }, key),
                words: self.text_query(fields, tokens),
            }),
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
                // From the first second a message's date can be (`date:[* TO *]`, `date:<P`):
                // the undated mark lies below it.
                let t = |v: &i64| date_term(fs.date, *v);
                let lo = match lo {
                    Bound::Unbounded => Bound::Included(date_term(fs.date, i64::MIN)),
                    lo => lo.as_ref().map(t),
                };
                Box::new(RangeQuery::new(lo, hi.as_ref().map(t)))
            }
        }
    }
}

/// The tighter of two lower (`lower`) or two upper bounds: the higher lower bound, the lower
/// upper one; at the same value the excluding one.
fn tighter(a: Bound<i64>, b: Bound<i64>, lower: bool) -> Bound<i64> {
    let (x, y) = match (a, b) {
        (Bound::Unbounded, other) | (other, Bound::Unbounded) => return other,
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => {
            (x, y)
        }
    };
    if x == y {
        return if matches!(a, Bound::Excluded(_)) {
            a
        } else {
            b
        };
    }
    if (x > y) == lower { a } else { b }
}

/// An address or domain: its keyword where the index holds it (one term, no positions read),
/// else the words as before ([`crate::index::address`]). Decided once for the whole index,
/// so every segment answers the same question.
#[derive(Debug)]
struct AddressQuery {
    key: Term,
    words: Box<dyn Query>,
}

impl Query for AddressQuery {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let known = match scoring.searcher() {
            Some(searcher) => searcher.doc_freq(&self.key)? > 0,
            // Without a searcher there is no telling: the words, which find what they always did.
            None => false,
        };
        if known {
            TermQuery::new(self.key.clone(), IndexRecordOption::Basic).weight(scoring)
        } else {
            self.words.weight(scoring)
        }
    }
}

impl Clone for AddressQuery {
    fn clone(&self) -> Self {
        AddressQuery {
            key: self.key.clone(),
            words: self.words.box_clone(),
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
    Term::from_field_date_for_search(field, crate::index::clamped_date(secs))
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
mod bound_tests {
    use super::*;

    #[test]
    fn the_tighter_bound_is_the_narrower_range() {
        use Bound::{Excluded as E, Included as I, Unbounded as U};
        for (a, b, lower, want) in [
            (U, I(5), true, I(5)),
            (I(5), U, false, I(5)),
            (I(3), I(5), true, I(5)),
            (I(3), I(5), false, I(3)),
            (I(5), E(5), true, E(5)),
            (E(5), I(5), false, E(5)),
            (E(4), I(5), true, I(5)),
            (E(4), I(5), false, E(4)),
        ] {
            assert_eq!(tighter(a, b, lower), want, "{a:?} {b:?} lower {lower}");
        }
    }
}
