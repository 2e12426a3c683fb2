//! TEMPORARY stub: replaced by the real normalisers.
use chrono::NaiveDate;
use rust_decimal::Decimal;
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAmount { pub value: Decimal, pub currency: Option<&'static str> }
pub fn parse_amount(s: &str) -> Option<ParsedAmount> { s.trim().parse().ok().map(|value| ParsedAmount { value, currency: None }) }
pub fn currency_code(s: &str) -> Option<&'static str> { match s { "EUR" | "€" => Some("EUR"), _ => None } }
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder { DayFirst, MonthFirst }
pub fn parse_date(s: &str, _order: DateOrder) -> Option<NaiveDate> { NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok() }
pub fn infer_date_order(_text: &str) -> Option<DateOrder> { None }
pub fn parse_payment_terms(_s: &str) -> Option<u32> { None }
pub const AMOUNT_PATTERN: &str = r"[0-9][0-9.,]*";
pub const DATE_PATTERN: &str = r"\d{4}-\d{2}-\d{2}";
pub const REF_PATTERN: &str = r"[A-Za-z0-9][A-Za-z0-9/._-]{2,29}";
