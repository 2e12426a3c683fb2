//! From candidates to fields: the best-ranked value of each field, the amounts' cross-check
//! (net + tax = total), the dates settling each other's day/month order, the seller's ids and
//! the vendor, each with its confidence and provenance.

use super::*;

/// What [`extract`] returns: each field's name with what was read.
type Fields = Vec<(&'static str, ExtractedField)>;

/// Keep the best-scored candidate per (field, value); best first.
fn ranked(candidates: &[Candidate], field: Field) -> Vec<&Candidate> {
    let mut list: Vec<&Candidate> = candidates.iter().filter(|c| c.field == field).collect();
    list.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut seen: Vec<&FieldValue> = Vec::new();
    list.retain(|c| {
        let same = seen.iter().any(|v| same_value(v, &c.value));
        if !same {
            seen.push(&c.value);
        }
        !same
    });
    list
}

fn same_value(a: &FieldValue, b: &FieldValue) -> bool {
    match (a, b) {
        (FieldValue::Amount { value: x, .. }, FieldValue::Amount { value: y, .. }) => x == y,
        _ => a == b,
    }
}

fn amount_of(c: &Candidate) -> Decimal {
    match &c.value {
        FieldValue::Amount { value, .. } => *value,
        _ => Decimal::ZERO,
    }
}

/// The best (total, net, tax): a triple whose net + tax = total outranks higher single scores.
fn choose_amounts<'c>(
    candidates: &'c [Candidate],
) -> (
    Option<&'c Candidate>,
    Option<&'c Candidate>,
    Option<&'c Candidate>,
) {
    let totals = ranked(candidates, Field::Total);
    let nets = ranked(candidates, Field::Net);
    let taxes = ranked(candidates, Field::Tax);
    let opt = |v: &Vec<&'c Candidate>| -> Vec<Option<&'c Candidate>> {
        std::iter::once(None)
            .chain(v.iter().take(6).map(|c| Some(*c)))
            .collect()
    };
    let mut best: (
        f32,
        Option<&Candidate>,
        Option<&Candidate>,
        Option<&Candidate>,
    ) = (f32::MIN, None, None, None);
    for t in opt(&totals) {
        for n in opt(&nets) {
            for x in opt(&taxes) {
                let mut s: f32 = [t, n, x].iter().flatten().map(|c| c.score).sum();
                if let (Some(t), Some(n), Some(x)) = (t, n, x) {
                    if amount_of(n) + amount_of(x) == amount_of(t) {
                        s += 1.5;
                    } else {
                        s -= 0.8;
                    }
                }
                if let (Some(t), Some(n)) = (t, n)
                    && amount_of(n) > amount_of(t)
                {
                    s -= 1.0;
                }
                if let (Some(n), Some(x)) = (n, x)
                    && amount_of(x) >= amount_of(n)
                {
                    s -= 1.0;
                }
                if s > best.0 {
                    best = (s, t, n, x);
                }
            }
        }
    }
    (best.1, best.2, best.3)
}

/// A candidate's score as a confidence: a strong label next to a well-formed value is ~95;
/// a weak label ("Date", a bare "Total") or a value found far from it is lower.
fn confidence_of(score: f32) -> u8 {
    (score.clamp(0.0, 1.0) * 95.0).round() as u8
}

/// The chosen candidate `c` as a field. Its confidence is its score, then weighed against the
/// other values found for the same field: a runner-up nearly as good makes it doubtful
/// (naming the other value); no real alternative makes a weak label enough.
fn field(name: &'static str, c: &Candidate, all: &[Candidate]) -> (&'static str, ExtractedField) {
    let provenance = Provenance {
        rule: LAYOUT_RULE.into(),
        source: format!("layout: {}", c.how),
        matched: c.matched.chars().take(200).collect(),
    };
    let confidence = confidence_of(c.score);
    let runner_up = ranked(all, c.field)
        .into_iter()
        .find(|o| !same_value(&o.value, &c.value));
    let f = ExtractedField::new(c.value.clone(), provenance, confidence);
    let f = match runner_up {
        Some(o) if o.score >= CONTESTED * c.score => {
            let mut f = f.doubting(format!("also found {} {}", o.value.canonical(), o.how));
            f.confidence = f.confidence.min(CONTESTED_CONFIDENCE);
            f
        }
        Some(o) if o.score >= UNCONTESTED * c.score && confidence < 80 => {
            f.doubting(format!("found {} (a weak label or a distant value)", c.how))
        }
        // Alone (or far ahead): what a reader would take too.
        _ if confidence < 80 => {
            let mut f = f;
            f.confidence = f.confidence.max(UNCONTESTED_CONFIDENCE);
            f
        }
        _ => f,
    };
    (name, f)
}

/// A runner-up scoring this share of the chosen candidate's score contests it.
const CONTESTED: f32 = 0.85;
const CONTESTED_CONFIDENCE: u8 = 60;
/// Below this share the runner-up is no real alternative.
const UNCONTESTED: f32 = 0.6;
/// A weak label's value with no real alternative (on the development split such values were
/// all right; docs/EXTRACTION.md has the figures).
const UNCONTESTED_CONFIDENCE: u8 = 75;

/// Read in the order not taken, are an invoice date and a due date impossible together?
fn swap_impossible(issue: &str, due: &str, taken: DateOrder) -> bool {
    let other = match taken {
        DateOrder::DayFirst => DateOrder::MonthFirst,
        DateOrder::MonthFirst => DateOrder::DayFirst,
    };
    match (
        normalize::parse_date(issue, other),
        normalize::parse_date(due, other),
    ) {
        (Some(i), Some(d)) => d < i || (d - i).num_days() > 180,
        _ => true,
    }
}

/// A date field: as [`field`], and doubtful when its day and month could be swapped.
fn date_field(
    name: &'static str,
    c: &Candidate,
    all: &[Candidate],
    order: &LazyOrder<'_>,
    order_settled: bool,
) -> (&'static str, ExtractedField) {
    let (n, f) = field(name, c, all);
    match order.doubt(&c.matched).filter(|_| !order_settled) {
        Some(why) => {
            let mut f = f.doubting(why);
            f.confidence = f.confidence.min(normalize::SWAPPED_CONFIDENCE);
            (n, f)
        }
        None => (n, f),
    }
}

fn simple(
    name: &'static str,
    value: FieldValue,
    how: String,
    matched: String,
    confidence: u8,
) -> (&'static str, ExtractedField) {
    let provenance = Provenance {
        rule: LAYOUT_RULE.into(),
        source: format!("layout: {how}"),
        matched,
    };
    (name, ExtractedField::new(value, provenance, confidence))
}

/// Total, net and tax, as sure as their cross-check makes them; the amount due when it differs
/// from the total; the currency.
pub(super) fn amount_fields(candidates: &[Candidate], currencies: &[String], out: &mut Fields) {
    let (total, net, tax) = choose_amounts(candidates);
    // The cross-check decides how sure the amounts are: net + tax = total makes all three
    // near-certain; three that disagree are doubtful whatever their labels said.
    let sums = match (total, net, tax) {
        (Some(t), Some(n), Some(x)) if amount_of(n) + amount_of(x) == amount_of(t) => Some(true),
        (Some(_), Some(_), Some(_)) => Some(false),
        _ => None,
    };
    for (name, c) in [
        ("amount_total", total),
        ("amount_net", net),
        ("amount_tax", tax),
    ] {
        if let Some(c) = c {
            let (n, mut f) = field(name, c, candidates);
            match sums {
                Some(true) => {
                    f.confidence = 98;
                    f.doubt = None;
                }
                Some(false) => {
                    f.confidence = f.confidence.min(60);
                    f.doubt = Some("net + tax ≠ total on the document".into());
                }
                None if name == "amount_total" && f.confidence > 85 => {
                    f.confidence = 85;
                    f.doubt = Some("no net and tax amounts to check the total against".into());
                }
                None => {}
            }
            out.push((n, f));
        }
    }
    if let Some(t) = total
        && let Some(due) = ranked(candidates, Field::Due)
            .into_iter()
            .find(|d| amount_of(d) != amount_of(t) && amount_of(d) > Decimal::ZERO)
    {
        out.push(field("amount_due", due, candidates));
    }
    let currency = [total, net, tax]
        .into_iter()
        .flatten()
        .find_map(|c| match &c.value {
            FieldValue::Amount {
                currency: Some(cur),
                ..
            } => Some(cur.clone()),
            _ => None,
        })
        .or_else(|| most_common(currencies));
    if let Some(cur) = currency {
        let sure = if total.is_some() { 95 } else { 80 };
        out.push(simple(
            "currency",
            FieldValue::Currency { value: cur.clone() },
            "the currency of the amounts".into(),
            cur,
            sure,
        ));
    }
}

/// The invoice date, the due date (or else payment terms in the text), each settling the
/// other's day/month order where it can.
pub(super) fn date_fields(
    candidates: &[Candidate],
    order: &LazyOrder<'_>,
    text: &str,
    out: &mut Fields,
) {
    let invoice_date = ranked(candidates, Field::InvoiceDate).into_iter().next();
    let issued = invoice_date.and_then(|c| match c.value {
        FieldValue::Date { value } => Some(value),
        _ => None,
    });
    let due_date =
        ranked(candidates, Field::DueDate)
            .into_iter()
            .find(|c| match (&c.value, issued) {
                (FieldValue::Date { value }, Some(i)) => *value >= i,
                _ => true,
            });
    // The invoice and due dates settle the day/month order when the other reading makes
    // them impossible together (due before issue, or months apart).
    let order_settled = match (invoice_date, due_date) {
        (Some(i), Some(d)) => swap_impossible(&i.matched, &d.matched, order.get()),
        _ => false,
    };
    if let Some(c) = invoice_date {
        out.push(date_field(
            "invoice_date",
            c,
            candidates,
            order,
            order_settled,
        ));
    }
    match due_date {
        Some(c) => {
            let (n, mut f) = date_field("due_date", c, candidates, order, order_settled);
            if issued.is_some() {
                // It follows the invoice date, as it must.
                f.confidence = (f.confidence + 5).min(95);
            }
            out.push((n, f));
        }
        None => {
            if let Some(days) = normalize::parse_payment_terms(text) {
                out.push(simple(
                    "payment_terms",
                    FieldValue::Days { value: days },
                    "payment terms in the text".into(),
                    format!("{days} days"),
                    80,
                ));
            }
        }
    }
}

/// The invoice number, and the PO number when it is another value.
pub(super) fn number_fields(candidates: &[Candidate], out: &mut Fields) {
    let number = ranked(candidates, Field::InvoiceNumber).into_iter().next();
    let po = ranked(candidates, Field::Po)
        .into_iter()
        .find(|p| number.is_none_or(|n| n.value != p.value));
    if let Some(c) = number {
        out.push(field("invoice_number", c, candidates));
    }
    if let Some(c) = po {
        out.push(field("po_number", c, candidates));
    }
}

/// The seller's VAT id and IBAN, and the vendor's name.
pub(super) fn party_fields(
    msg: &Message,
    docs: &[Doc<'_>],
    zones: &[Zones],
    own: Option<&Regex>,
    out: &mut Fields,
) {
    if let Some((vat, how)) = seller_id(docs, zones, own, ids::vat_ids) {
        out.push(simple(
            "vendor_vat_id",
            FieldValue::Text { value: vat.clone() },
            how,
            vat,
            90,
        ));
    }
    if let Some((iban, how)) = seller_id(docs, zones, own, ids::ibans) {
        out.push(simple(
            "iban",
            FieldValue::Text {
                value: iban.clone(),
            },
            how,
            iban,
            95,
        ));
    }
    let sender = msg.from.as_ref().and_then(|a| a.name.as_deref());
    let vendor = vendor::vendor(docs, zones, own, sender);
    if let Some((name, how, score)) = vendor {
        let confidence = (50.0 + 40.0 * score).clamp(0.0, 95.0).round() as u8;
        let (n, f) = simple(
            "vendor",
            FieldValue::Text {
                value: name.clone(),
            },
            how.clone(),
            name,
            confidence,
        );
        out.push((
            n,
            if confidence < 80 {
                f.doubting(format!("the vendor's name is only {how}"))
            } else {
                f
            },
        ));
    }
}

fn most_common(list: &[String]) -> Option<String> {
    let mut counts: Vec<(&String, usize)> = Vec::new();
    for c in list {
        match counts.iter_mut().find(|(k, _)| *k == c) {
            Some((_, n)) => *n += 1,
            None => counts.push((c, 1)),
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(c, _)| c.clone())
}

/// The first identifier (VAT ID or IBAN) printed outside the buyer's block, PDFs first.
fn seller_id(
    docs: &[Doc<'_>],
    zones: &[Zones],
    own: Option<&Regex>,
    find: fn(&str) -> Vec<String>,
) -> Option<(String, String)> {
    let mut buyer_ids: Vec<String> = Vec::new();
    let mut found: Vec<(String, String)> = Vec::new();
    for (doc, zone) in docs.iter().zip(zones) {
        for (pi, page) in doc.layout.pages.iter().enumerate() {
            for (li, line) in page.lines.iter().enumerate() {
                // Identifiers have digits: most phrases are skipped without a regex.
                if !line
                    .phrases
                    .iter()
                    .any(|p| p.text.bytes().any(|b| b.is_ascii_digit()))
                {
                    continue;
                }
                let line_text = line_text(line);
                let buyer_line = std::cell::OnceCell::new();
                let buyer_line = || {
                    *buyer_line.get_or_init(|| {
                        own.is_some_and(|o| o.is_match(&line_text))
                            || labels::names_the_buyer(&line_text)
                    })
                };
                for (pj, p) in line.phrases.iter().enumerate() {
                    if !p.text.bytes().any(|b| b.is_ascii_digit()) {
                        continue;
                    }
                    for id in find(&p.text) {
                        if zone.is_buyer(pi, li, pj) || buyer_line() {
                            buyer_ids.push(id);
                        } else {
                            let place = if doc.pdf {
                                format!("on page {} of {}", page.number, doc.name)
                            } else {
                                format!("in {}", doc.name)
                            };
                            found.push((id, format!("printed {place}")));
                        }
                    }
                }
            }
        }
    }
    found.into_iter().find(|(id, _)| !buyer_ids.contains(id))
}
