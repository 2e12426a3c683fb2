//! Small helpers over roxmltree: find children by local name (the root element already fixed
//! the syntax and its namespaces, and senders vary prefixes and namespace versions), read
//! trimmed text, decimals and dates.

use std::str::FromStr;

use chrono::NaiveDate;
use roxmltree::Node;
use rust_decimal::Decimal;

pub const UBL_INVOICE_NS: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
pub const UBL_CREDIT_NOTE_NS: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
pub const CII_NS: &str = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100";
pub const ZUGFERD1_NS: &str = "urn:ferd:CrossIndustryDocument:invoice:1p0";

/// Longest text value kept from one element (a line description, a note).
const MAX_TEXT_CHARS: usize = 1000;

/// The first child element with this local name.
pub fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// Every child element with this local name, in document order.
pub fn children<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// Follow a path of child names; the first match at each step.
pub fn path<'a, 'i>(node: Node<'a, 'i>, names: &[&str]) -> Option<Node<'a, 'i>> {
    names.iter().try_fold(node, |n, name| child(n, name))
}

/// The first child among several possible names (a term's name differs between CII versions).
pub fn child_any<'a, 'i>(node: Node<'a, 'i>, names: &[&str]) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && names.contains(&c.tag_name().name()))
}

/// The element's text, whitespace-trimmed and folded, bounded; None when empty.
pub fn text(node: Option<Node<'_, '_>>) -> Option<String> {
    let node = node?;
    let mut out = String::new();
    for t in node.descendants().filter(|d| d.is_text()) {
        out.push_str(t.text().unwrap_or(""));
    }
    let folded = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let folded: String = folded.chars().take(MAX_TEXT_CHARS).collect();
    (!folded.is_empty()).then_some(folded)
}

/// Text at a path below `node`.
pub fn text_at(node: Node<'_, '_>, names: &[&str]) -> Option<String> {
    text(path(node, names))
}

/// A decimal exactly as written (scale kept: "2.000" stays 2.000). Malformed numbers are None;
/// the caller's arithmetic check then reports the term as missing rather than guessing.
pub fn decimal(node: Option<Node<'_, '_>>) -> Option<Decimal> {
    let t = text(node)?;
    let t = t.strip_prefix('+').unwrap_or(&t);
    Decimal::from_str(t).ok()
}

/// A date: ISO `YYYY-MM-DD` (UBL) or CII's `DateTimeString format="102"` (`YYYYMMDD`),
/// also accepting the other form when a sender mixes them up.
pub fn date(node: Option<Node<'_, '_>>) -> Option<NaiveDate> {
    let node = node?;
    // CII wraps the string: <ram:IssueDateTime><udt:DateTimeString format="102">…
    let inner = child(node, "DateTimeString").unwrap_or(node);
    let t = text(Some(inner))?;
    let t = t.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y%m%d"))
        .ok()
}

/// The value of an attribute of the node, if any.
pub fn attr(node: Option<Node<'_, '_>>, name: &str) -> Option<String> {
    node?.attribute(name).map(|s| s.trim().to_string())
}
