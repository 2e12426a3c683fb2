//! Invoice fields without a template: every labelled value in a document's layout becomes a
//! scored candidate, then the candidates are cross-checked and the best consistent set wins.
//!
//! A document is a PDF attachment's layout (words with positions, from `parse::layout`) or the
//! message body's text laid out by lines and columns. For each phrase that starts with a label
//! (EN, DE, FR, NL, ES, IT: [`labels`]), the value is looked for in the rest of the phrase, to the
//! right on the same line (the rightmost amount, for totals in tables), or below in the same
//! column ("Invoice Date:  Due Date:" over their values). Each candidate's score is the label's
//! certainty × the direction's × the value's format, plus where totals usually are (late on the
//! last page). Then: net + tax = total lifts a triple of amounts above any single higher score;
//! a due date before the invoice date is dropped; the invoice number is not the PO. VAT IDs and
//! IBANs are found by format (an IBAN must pass its checksum) outside the buyer's block, and the
//! vendor comes from the document ([`vendor`]).
//!
//! Every value carries its provenance: rule `layout`, source like
//! `layout: below "Invoice Date:" on page 1 of RE-2026-9356.pdf`. Rules written by accountants
//! keep priority: the rules stage only fills the fields they left empty.

pub mod ids;
pub mod labels;
pub mod vendor;

mod choose;
use choose::{amount_fields, date_fields, number_fields, party_fields};

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::OnceLock;

use regex::Regex;
use rust_decimal::Decimal;

use crate::model::{ExtractedField, FieldValue, Message, Provenance, TextLayout};
use crate::normalize::{self, DateOrder, OrderEvidence};
use crate::parse::layout::text_layout;
use labels::{Field, Kind, LabelMatch, is_buyer_label, is_non_label, match_labels};

/// Phrases read per document: a newsletter-length body classified as an invoice costs at most
/// this much.
const MAX_PHRASES: usize = 4000;

/// The `rule` named in the provenance of every value found here.
pub const LAYOUT_RULE: &str = "layout";

/// Every field the extractor may fill (what a reply template of an invoice rule may use).
pub const FIELD_NAMES: &[&str] = &[
    "invoice_number",
    "invoice_date",
    "due_date",
    "payment_terms",
    "amount_total",
    "amount_net",
    "amount_tax",
    "amount_due",
    "currency",
    "po_number",
    "vendor",
    "vendor_vat_id",
    "iban",
];

/// A document to read: a PDF's layout or the body's text.
pub struct Doc<'a> {
    /// "RE-2026-9356.pdf" or "the message body".
    pub name: String,
    pub layout: Cow<'a, TextLayout>,
    pub pdf: bool,
    /// Per page, line and phrase: the labels it starts with, and whether it is a label at all
    /// (matched once; every direction and block looks them up).
    labels: Vec<Vec<Vec<PhraseLabels>>>,
}

#[derive(Debug, Clone, Default)]
struct PhraseLabels {
    matches: Vec<LabelMatch>,
    is_label: bool,
}

impl Doc<'_> {
    fn labels_at(&self, page: usize, line: usize, phrase: usize) -> &PhraseLabels {
        static NONE: PhraseLabels = PhraseLabels {
            matches: Vec::new(),
            is_label: false,
        };
        self.labels
            .get(page)
            .and_then(|p| p.get(line))
            .and_then(|l| l.get(phrase))
            .unwrap_or(&NONE)
    }

    /// Match every phrase's labels, up to [`MAX_PHRASES`] phrases.
    fn match_all(&mut self) {
        let mut budget = MAX_PHRASES;
        self.labels = self
            .layout
            .pages
            .iter()
            .map(|page| {
                page.lines
                    .iter()
                    .map(|line| {
                        line.phrases
                            .iter()
                            .map(|p| {
                                if budget == 0 {
                                    return PhraseLabels::default();
                                }
                                budget -= 1;
                                let matches = match_labels(&p.text);
                                let is_label = !matches.is_empty() || is_non_label(&p.text);
                                PhraseLabels { matches, is_label }
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
    }
}

/// What the desk knows about itself: the buyer on every invoice is never the vendor.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Our own company names (the rules' `own_names` define).
    pub own_names: Option<Regex>,
}

/// The phrases of each page that belong to the buyer's block.
#[derive(Debug, Default)]
pub struct Zones {
    buyer: HashSet<(usize, usize, usize)>,
}

impl Zones {
    pub fn is_buyer(&self, page: usize, line: usize, phrase: usize) -> bool {
        self.buyer.contains(&(page, line, phrase))
    }

    fn of(doc: &Doc<'_>, own: Option<&Regex>) -> Zones {
        let layout = &doc.layout;
        let mut buyer = HashSet::new();
        for (pi, page) in layout.pages.iter().enumerate() {
            for (li, line) in page.lines.iter().enumerate() {
                for (pj, p) in line.phrases.iter().enumerate() {
                    // Our name as a block heading ("Ourcompany Europe GmbH"), not inside a
                    // sentence ("Hello Ourcompany Accounts Payable,").
                    let ours = own.is_some_and(|o| o.is_match(&p.text))
                        && p.text.split_whitespace().count() <= 6
                        && !p.text.trim_end().ends_with([',', '.', '!', '?', ':']);
                    if !(ours || is_buyer_label(&p.text)) {
                        continue;
                    }
                    buyer.insert((pi, li, pj));
                    // The block below it in the same column (name, street, city, VAT ID), up to
                    // a gap.
                    let mut last_y = line.y;
                    let in_column = |q: &crate::model::Phrase| {
                        q.x0 < p.x1.max(p.x0 + 40.0 * p.size.min(1.0) + 1.0) && q.x1 > p.x0 - p.size
                    };
                    for (lk, below) in page.lines.iter().enumerate().skip(li + 1).take(6) {
                        // The block ends at a gap, or where the invoice's own labels start in
                        // its column.
                        let column: Vec<(usize, &crate::model::Phrase)> = below
                            .phrases
                            .iter()
                            .enumerate()
                            .filter(|(_, q)| in_column(q))
                            .collect();
                        if below.y - last_y > 2.2 * p.size.max(1.0)
                            || column
                                .iter()
                                .any(|(k, _)| !doc.labels_at(pi, lk, *k).matches.is_empty())
                        {
                            break;
                        }
                        last_y = below.y;
                        for (pk, _) in column {
                            buyer.insert((pi, lk, pk));
                        }
                    }
                }
            }
        }
        Zones { buyer }
    }
}

/// The documents of a message: its PDFs with a text layer, then its body.
pub fn documents(msg: &Message) -> Vec<Doc<'_>> {
    let mut docs: Vec<Doc<'_>> = msg
        .attachments
        .iter()
        .filter_map(|a| {
            a.layout.as_deref().map(|l| Doc {
                name: a.display_name().to_string(),
                layout: Cow::Borrowed(l),
                pdf: true,
                labels: Vec::new(),
            })
        })
        .collect();
    let body = msg.own_text();
    if !body.trim().is_empty() {
        docs.push(Doc {
            name: "the message body".into(),
            layout: Cow::Owned(text_layout(body)),
            pdf: false,
            labels: Vec::new(),
        });
    }
    docs
}

#[derive(Debug, Clone)]
struct Candidate {
    field: Field,
    value: FieldValue,
    score: f32,
    /// `below "Invoice Date:" on page 1 of X.pdf`
    how: String,
    matched: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Inline,
    Right,
    Below,
}

impl Direction {
    fn weight(self) -> f32 {
        match self {
            Direction::Inline => 1.0,
            Direction::Right => 0.95,
            Direction::Below => 0.85,
        }
    }
    fn word(self) -> &'static str {
        match self {
            Direction::Inline => "after",
            Direction::Right => "right of",
            Direction::Below => "below",
        }
    }
}

fn amount_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(normalize::AMOUNT_PATTERN).expect("the amount pattern"))
}

fn date_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(normalize::DATE_PATTERN).expect("the date pattern"))
}

/// The rightmost amount in `texts` that is not a percentage or a quantity with a unit; None if
/// there is none. Totals sit at the right end of their row.
fn rightmost_amount(texts: &[&str]) -> Option<(normalize::ParsedAmount, String)> {
    let mut best = None;
    for t in texts {
        // "vóór 12-11-2026" holds the amount "2026": numbers inside dates are not amounts.
        let dates: Vec<(usize, usize)> = date_regex()
            .find_iter(t)
            .map(|d| (d.start(), d.end()))
            .collect();
        for m in amount_regex().find_iter(t) {
            if dates.iter().any(|&(s, e)| m.start() < e && m.end() > s) {
                continue;
            }
            let after = t[m.end()..].trim_start();
            if after.starts_with('%') {
                continue;
            }
            let text = m.as_str().trim();
            // "INV-4411" holds "-4411": a minus glued to a letter is not a sign.
            let glued = t[..m.start()]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric());
            if glued {
                continue;
            }
            if let Some(a) = normalize::parse_amount(text) {
                best = Some((a, text.to_string()));
            }
        }
    }
    best
}

/// A date at the start of `text` (after at most a short word like "le", "am").
fn leading_date(text: &str, order: &LazyOrder<'_>) -> Option<(chrono::NaiveDate, String)> {
    let m = date_regex().find(text)?;
    if text[..m.start()]
        .chars()
        .filter(|c| c.is_alphanumeric())
        .count()
        > 3
    {
        return None;
    }
    order
        .parse(m.as_str())
        .map(|d| (d, m.as_str().trim().to_string()))
}

/// A reference (invoice or order number): the first token with a digit in it, not a date.
fn leading_reference(text: &str) -> Option<String> {
    let token = text.split_whitespace().find(|t| {
        !matches!(
            fold_token(t).as_str(),
            "nr" | "no" | "n°" | "nº" | "#" | "n" | "num"
        )
    })?;
    let token = token.trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '(' | ')' | '.' | '#'));
    let ok = token.len() >= 2
        && token.len() <= 40
        && token.chars().any(|c| c.is_ascii_digit())
        && token
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '/' | '.' | '_'))
        && normalize::parse_date(token, DateOrder::DayFirst).is_none();
    ok.then(|| token.to_string())
}

fn fold_token(t: &str) -> String {
    t.trim_matches(|c: char| matches!(c, '.' | ':'))
        .to_lowercase()
}

/// A value and the text it was read from.
struct Found(FieldValue, String);

/// Where a candidate was found: how, relative to which label, on which page.
#[derive(Clone, Copy)]
struct At<'l> {
    dir: Direction,
    label: &'l str,
    page: u32,
}

/// The document's day/month order, worked out only when a date is ambiguous (`03/04/2026`):
/// reading the whole message for it costs more than everything else the extractor does.
struct LazyOrder<'t> {
    text: &'t str,
    order: std::cell::OnceCell<Option<(DateOrder, OrderEvidence)>>,
}

impl LazyOrder<'_> {
    fn evidence(&self) -> Option<(DateOrder, OrderEvidence)> {
        *self
            .order
            .get_or_init(|| normalize::date_order_evidence(self.text))
    }

    fn get(&self) -> DateOrder {
        self.evidence().map_or(DateOrder::DayFirst, |(o, _)| o)
    }

    /// Why a date read from `matched` may have its day and month swapped.
    fn doubt(&self, matched: &str) -> Option<String> {
        normalize::swapped_doubt(matched, self.evidence())
    }

    /// A date in `text`, read in the document's order when its numbers allow both readings.
    fn parse(&self, text: &str) -> Option<chrono::NaiveDate> {
        let day_first = normalize::parse_date(text, DateOrder::DayFirst);
        let month_first = normalize::parse_date(text, DateOrder::MonthFirst);
        if day_first == month_first {
            day_first
        } else {
            normalize::parse_date(text, self.get())
        }
    }
}

struct Finder<'a> {
    order: &'a LazyOrder<'a>,
    candidates: Vec<Candidate>,
    currencies: Vec<String>,
    doc: &'a Doc<'a>,
}

impl Finder<'_> {
    fn push(&mut self, field: Field, found: Found, score: f32, at: At<'_>) {
        let place = if self.doc.pdf {
            format!("on page {} of {}", at.page, self.doc.name)
        } else {
            format!("in {}", self.doc.name)
        };
        self.candidates.push(Candidate {
            field,
            value: found.0,
            score,
            how: format!("{} \"{}\" {place}", at.dir.word(), at.label.trim()),
            matched: found.1,
        });
    }

    /// Parse a value of `field`'s kind out of `texts` (the rest of the phrase, or neighbours).
    fn value(&mut self, field: Field, texts: &[&str]) -> Option<(FieldValue, String, f32)> {
        match field.kind() {
            Kind::Amount => {
                let (a, text) = rightmost_amount(texts)?;
                if let Some(c) = a.currency {
                    self.currencies.push(c.to_string());
                }
                Some((
                    FieldValue::Amount {
                        value: a.value,
                        currency: a.currency.map(str::to_string),
                    },
                    text,
                    1.0,
                ))
            }
            Kind::Date => {
                let (d, text) = leading_date(texts.first()?, self.order)?;
                Some((FieldValue::Date { value: d }, text, 1.0))
            }
            Kind::Reference => {
                let r = leading_reference(texts.first()?)?;
                Some((FieldValue::Text { value: r.clone() }, r, 1.0))
            }
        }
    }

    /// Due dates written as a sentence, and PO numbers written as such ("(PO-7784)"),
    /// anywhere on a line.
    fn scan_sentences(&mut self) {
        static PO: OnceLock<Regex> = OnceLock::new();
        let po = PO.get_or_init(|| {
            Regex::new(r"\bP\.?O\.?[-#:\s]?\d{3,}[A-Z0-9-]*\b").expect("the PO token pattern")
        });
        let layout = self.doc.layout.clone();
        for page in &layout.pages {
            for line in &page.lines {
                let text = line_text(line);
                for m in po.find_iter(&text) {
                    let found = Found(
                        FieldValue::Text {
                            value: m.as_str().to_string(),
                        },
                        m.as_str().to_string(),
                    );
                    let at = At {
                        dir: Direction::Inline,
                        label: "a PO number",
                        page: page.number,
                    };
                    self.push(Field::Po, found, 0.5, at);
                }
                if discount_words().is_match(&text) {
                    continue;
                }
                if let Some(c) = due_sentence().captures(&text)
                    && let Some(d) = c.name("date")
                    && let Some(date) = self.order.parse(d.as_str())
                {
                    let phrase: String = c[0].chars().take(60).collect();
                    let found = Found(
                        FieldValue::Date { value: date },
                        d.as_str().trim().to_string(),
                    );
                    let at = At {
                        dir: Direction::Inline,
                        label: &phrase,
                        page: page.number,
                    };
                    self.push(Field::DueDate, found, 0.7, at);
                }
            }
        }
    }

    fn scan(&mut self, zones: &Zones) {
        self.scan_sentences();
        let layout = self.doc.layout.clone();
        let pages = layout.pages.len().max(1) as f32;
        for (pi, page) in layout.pages.iter().enumerate() {
            for (li, line) in page.lines.iter().enumerate() {
                for (pj, p) in line.phrases.iter().enumerate() {
                    if zones.is_buyer(pi, li, pj) {
                        continue;
                    }
                    for m in self.doc.labels_at(pi, li, pj).matches.clone() {
                        // Totals are late in a document: on the last page, low on it.
                        let late = if m.field.kind() == Kind::Amount && page.height > 0.0 {
                            0.08 * (pi as f32 + 1.0) / pages + 0.08 * (p.y / page.height)
                        } else {
                            0.0
                        };
                        let label = &m.label;
                        let at = |dir| At {
                            dir,
                            label,
                            page: page.number,
                        };
                        // 1. The same phrase: "Invoice No.: INV-4411". An amount is the
                        //    rightmost one of the row ("USt. 19 %   573,04").
                        let right: Vec<&str> = line.phrases[pj + 1..]
                            .iter()
                            .enumerate()
                            .take_while(|(k, _)| !self.doc.labels_at(pi, li, pj + 1 + k).is_label)
                            .map(|(_, q)| q.text.as_str())
                            .collect();
                        if !m.rest.is_empty() {
                            let found = if m.field.kind() == Kind::Amount {
                                let row: Vec<&str> = std::iter::once(m.rest.as_str())
                                    .chain(right.iter().copied())
                                    .collect();
                                self.value(m.field, &row)
                            } else {
                                self.value(m.field, &[&m.rest])
                            };
                            if let Some((v, text, q)) = found {
                                let s = m.weight * Direction::Inline.weight() * q + late;
                                self.push(m.field, Found(v, text), s, at(Direction::Inline));
                                continue;
                            }
                            if m.field.kind() == Kind::Amount {
                                continue;
                            }
                        }
                        // 2. To the right, up to the next label.
                        let take = if m.field.kind() == Kind::Amount {
                            right.len()
                        } else {
                            right.len().min(1)
                        };
                        if take > 0
                            && let Some((v, text, q)) = self.value(m.field, &right[..take])
                        {
                            let s = m.weight * Direction::Right.weight() * q + late;
                            self.push(m.field, Found(v, text), s, at(Direction::Right));
                            continue;
                        }
                        // 3. Below, in the same column.
                        if let Some((lk, k, q)) = below(page, li, p) {
                            if self.doc.labels_at(pi, lk, k).is_label {
                                continue;
                            }
                            if let Some((v, text, quality)) = self.value(m.field, &[&q.text]) {
                                let s = m.weight * Direction::Below.weight() * quality + late;
                                self.push(m.field, Found(v, text), s, at(Direction::Below));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A due date stated in a sentence: "zahlbar bis 19.04.2026 ohne Abzug", "please pay by
/// 3 December 2026", "à payer avant le 03/12/2026". Early-payment discounts are not due dates.
fn due_sentence() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!(
            r"(?i)\b(?:zahlbar|payable|pay|payment|due|f[äa]llig|[üu]berweisen|zahlung|payer|r[èe]glement|paiement|betalen|betaling|voldoen|pagar|pago|pagare|pagamento)\b[^\n]{{0,60}}?\b(?:bis(?:\s*zum)?|by|before|until|no\s*later\s*than|avant\s*le|au\s*plus\s*tard\s*le|v[óo]{{1,2}}r|uiterlijk(?:\s*op)?|antes\s*del?|hasta\s*el|entro\s*il)\s+(?P<date>{})",
            normalize::DATE_PATTERN
        ))
        .expect("the due-date sentence pattern")
    })
}

fn discount_words() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)skonto|escompte|discount|korting|descuento|sconto|rabatt|remise")
            .expect("discount words")
    })
}

/// The nearest phrase under `p` that shares its column, within a few lines.
fn below<'p>(
    page: &'p crate::model::LayoutPage,
    li: usize,
    p: &crate::model::Phrase,
) -> Option<(usize, usize, &'p crate::model::Phrase)> {
    let line_y = page.lines[li].y;
    for (lk, line) in page.lines.iter().enumerate().skip(li + 1).take(3) {
        if line.y - line_y > 3.5 * p.size.max(1.0) {
            return None;
        }
        let hit = line.phrases.iter().enumerate().find(|(_, q)| {
            // Overlapping extents (left-, right- or centre-aligned columns).
            q.x0 < p.x1 + 0.5 * p.size && q.x1 > p.x0 - 0.5 * p.size
        });
        if let Some((k, q)) = hit {
            return Some((lk, k, q));
        }
    }
    None
}

/// A layout line's phrases as one text, two spaces between them (the gap a cell leaves).
fn line_text(line: &crate::model::LayoutLine) -> String {
    line.phrases
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("  ")
}

/// The message's text, for the date order and for payment terms.
fn all_text(msg: &Message) -> String {
    let mut text = String::with_capacity(msg.body_text.len() + 1024);
    text.push_str(&msg.subject);
    text.push('\n');
    text.push_str(msg.own_text());
    for a in &msg.attachments {
        if let Some(t) = &a.text {
            text.push('\n');
            text.push_str(t);
        }
    }
    text
}

/// Read an invoice's fields from the message's documents, best consistent set first.
pub fn extract(msg: &Message, settings: &Settings) -> Vec<(&'static str, ExtractedField)> {
    let mut docs = documents(msg);
    if docs.is_empty() {
        return Vec::new();
    }
    for d in &mut docs {
        d.match_all();
    }
    let own = settings.own_names.as_ref();
    let text = all_text(msg);
    let order = LazyOrder {
        text: &text,
        order: std::cell::OnceCell::new(),
    };
    let zones: Vec<Zones> = docs.iter().map(|d| Zones::of(d, own)).collect();
    let (candidates, currencies) = candidates_of(&docs, &zones, &order);
    let mut out = Vec::new();
    amount_fields(&candidates, &currencies, &mut out);
    date_fields(&candidates, &order, &text, &mut out);
    number_fields(&candidates, &mut out);
    party_fields(msg, &docs, &zones, own, &mut out);
    out
}

/// Every candidate value of every document (a PDF's weighed above the body around it), with the
/// currencies seen; an amount due stands for the total when no total is written.
fn candidates_of(
    docs: &[Doc<'_>],
    zones: &[Zones],
    order: &LazyOrder<'_>,
) -> (Vec<Candidate>, Vec<String>) {
    let mut candidates = Vec::new();
    let mut currencies = Vec::new();
    for (doc, zone) in docs.iter().zip(zones) {
        let mut finder = Finder {
            order,
            candidates: Vec::new(),
            currencies: Vec::new(),
            doc,
        };
        finder.scan(zone);
        // A PDF invoice is the document; the body around it is a cover note.
        let prior = if doc.pdf { 1.0 } else { 0.9 };
        candidates.extend(finder.candidates.into_iter().map(|mut c| {
            c.score *= prior;
            c
        }));
        currencies.extend(finder.currencies);
    }

    // "Totaal te betalen", "Amount due" and no other total: the amount to pay is the total.
    if !candidates.iter().any(|c| c.field == Field::Total) {
        let dues: Vec<Candidate> = candidates
            .iter()
            .filter(|c| c.field == Field::Due)
            .map(|c| Candidate {
                field: Field::Total,
                score: c.score * 0.9,
                ..c.clone()
            })
            .collect();
        candidates.extend(dues);
    }
    (candidates, currencies)
}
