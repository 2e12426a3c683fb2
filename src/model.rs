//! Plain data shared by every stage: no I/O here.
//!
//! `RawMail` enters the pipeline, `parse` turns it into a [`Message`], `rules` turns that into a
//! [`Decision`], and `store` commits both. Ids are content-derived so the same input always maps to
//! the same key (idempotent ingest).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What a shared mailbox is for: accounts payable (vendors write to it) or accounts receivable
/// (customers write to it). Rules can test it (`role = "ar"`): the same words mean different
/// things in ap@ and ar@.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailboxRole {
    Ap,
    Ar,
}

impl MailboxRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MailboxRole::Ap => "ap",
            MailboxRole::Ar => "ar",
        }
    }
}

impl fmt::Display for MailboxRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MailboxRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ap" => Ok(MailboxRole::Ap),
            "ar" => Ok(MailboxRole::Ar),
            other => Err(format!(
                "unknown mailbox role {other:?} (expected ap or ar)"
            )),
        }
    }
}

/// Bytes handed over by a source, with where they came from.
#[derive(Debug, Clone, Default)]
pub struct RawMail {
    /// Logical mailbox name (e.g. "ap", or the directory an ingest came from).
    pub mailbox: String,
    /// The mailbox's role, when its configuration (or `ingest --role`) names one.
    pub role: Option<MailboxRole>,
    /// Where the bytes came from: a file path, `path#N` inside an mbox, or `imap:UID`.
    pub origin: String,
    pub bytes: Vec<u8>,
}

/// Content id of a stored message: the first 16 bytes of the SHA-256 of its raw bytes, hex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub String);

impl MessageId {
    pub fn of_bytes(bytes: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(bytes);
        MessageId(hex::encode(&digest[..16]))
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an erased person's address becomes in records kept for the books: `erased-` and the
/// first 4 bytes of its SHA-256, hex. Stable, so records about the same person still group, and
/// never an address (no `@`), so nothing is ever sent to it.
pub fn pseudonym(address: &str) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "erased-{}",
        &hex::encode(Sha256::digest(address.as_bytes()))[..8]
    )
}

/// Is this a [`pseudonym`] rather than an address?
pub fn is_pseudonym(s: &str) -> bool {
    s.starts_with("erased-") && !s.contains('@')
}

/// Thread id: the first 8 bytes of the SHA-256 of the thread's root key, hex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ThreadId(pub String);

impl ThreadId {
    pub fn of_key(key: &str) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(key.as_bytes());
        ThreadId(hex::encode(&digest[..8]))
    }

    /// The id as a number, for tantivy fast fields.
    pub fn as_u64(&self) -> u64 {
        u64::from_str_radix(&self.0, 16).unwrap_or(0)
    }
}

impl fmt::Display for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub name: Option<String>,
    pub email: Option<String>,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.name, &self.email) {
            (Some(n), Some(e)) => write!(f, "{n} <{e}>"),
            (Some(n), None) => f.write_str(n),
            (None, Some(e)) => f.write_str(e),
            (None, None) => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    /// Text extracted from the attachment (PDF or text parts), bounded in size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Why no text could be extracted, when extraction was attempted and failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_error: Option<String>,
    /// The structured e-invoice this attachment is (an XML invoice) or carries (a PDF/A-3
    /// hybrid's embedded XML). Re-derived from the raw bytes; the decision keeps its own copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub einvoice: Option<Box<EInvoice>>,
    /// Why an attachment that looked like an e-invoice (XML, or a PDF with an embedded XML)
    /// could not be read as one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub einvoice_error: Option<String>,
    /// The text with its positions (a PDF's words on each page), for the generic extractor.
    /// Derived, never stored.
    #[serde(skip)]
    pub layout: Option<std::sync::Arc<TextLayout>>,
}

impl Attachment {
    fn clone_without_text(&self) -> Attachment {
        Attachment {
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
            sha256: self.sha256.clone(),
            text: None,
            text_error: self.text_error.clone(),
            einvoice: None,
            einvoice_error: self.einvoice_error.clone(),
            layout: None,
        }
    }

    /// The attachment's file name, or `(unnamed)`.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("(unnamed)")
    }
}

/// A parsed message: everything later stages need, owned, no borrowed parser state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub mailbox: String,
    /// The role of the mailbox it arrived in (ap@ or ar@), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<MailboxRole>,
    pub origin: String,
    pub size: u64,
    /// The Message-ID header without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub subject: String,
    /// Subject without Re:/AW:/Fwd:/WG:/TR:/Doorst: prefixes, lowercased, whitespace folded.
    pub normalized_subject: String,
    /// Whether the subject carried a reply or forward prefix.
    pub subject_is_reply: bool,
    /// Whether the outermost prefix is a forward (Fwd:, WG:, TR:, Doorst:): the quoted message
    /// is then the content, not history.
    #[serde(default)]
    pub subject_is_forward: bool,
    pub from: Option<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub date: Option<DateTime<Utc>>,
    /// Headers in order, names as written, values unfolded and decoded.
    pub headers: Vec<(String, String)>,
    /// Plain-text body; for HTML-only messages, the HTML rendered to text.
    pub body_text: String,
    /// For replies: the body without the quoted history (`>` lines, "-----Original Message-----",
    /// "On … wrote:" and what follows). None when nothing was quoted. Rules read this as `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_new: Option<String>,
    pub body_was_html: bool,
    pub attachments: Vec<Attachment>,
    /// Non-fatal problems met while parsing (broken boundary, undeclared charset, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Message {
    /// When the message's retention period starts: its Date header, or when it was stored
    /// when it has none or claims a date after that (a future date would keep it too long).
    pub fn retention_from(&self, stored_at: DateTime<Utc>) -> DateTime<Utc> {
        match self.date {
            Some(d) if d <= stored_at => d,
            _ => stored_at,
        }
    }

    /// A copy without what is re-derived from the raw bytes (headers, body and attachment text),
    /// built field by field so the large parts are never copied.
    pub fn without_derived_text(&self) -> Message {
        Message {
            id: self.id.clone(),
            mailbox: self.mailbox.clone(),
            role: self.role,
            origin: self.origin.clone(),
            size: self.size,
            message_id: self.message_id.clone(),
            in_reply_to: self.in_reply_to.clone(),
            references: self.references.clone(),
            subject: self.subject.clone(),
            normalized_subject: self.normalized_subject.clone(),
            subject_is_reply: self.subject_is_reply,
            subject_is_forward: self.subject_is_forward,
            from: self.from.clone(),
            to: self.to.clone(),
            cc: self.cc.clone(),
            date: self.date,
            headers: Vec::new(),
            body_text: String::new(),
            body_new: None,
            body_was_html: self.body_was_html,
            attachments: self
                .attachments
                .iter()
                .map(Attachment::clone_without_text)
                .collect(),
            warnings: self.warnings.clone(),
        }
    }

    /// What this message itself says: the body without quoted history.
    pub fn own_text(&self) -> &str {
        self.body_new.as_deref().unwrap_or(&self.body_text)
    }

    /// The first e-invoice the message carries (attachments in order).
    pub fn einvoice(&self) -> Option<&EInvoice> {
        self.attachments.iter().find_map(|a| a.einvoice.as_deref())
    }

    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A typed, normalised extracted value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldValue {
    Text {
        value: String,
    },
    Amount {
        value: Decimal,
        currency: Option<String>,
    },
    Date {
        value: NaiveDate,
    },
    Days {
        value: u32,
    },
    Currency {
        value: String,
    },
}

impl FieldValue {
    /// The canonical string form used in JSON output and rule examples.
    pub fn canonical(&self) -> String {
        match self {
            FieldValue::Text { value } | FieldValue::Currency { value } => value.clone(),
            FieldValue::Amount { value, .. } => value.to_string(),
            FieldValue::Date { value } => value.format("%Y-%m-%d").to_string(),
            FieldValue::Days { value } => value.to_string(),
        }
    }
}

/// Where a field came from: the rule, the source part, and the text that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub rule: String,
    /// "subject", "body", "attachment:NAME", "from_name", "header:NAME" or "derived".
    pub source: String,
    /// The matched text (bounded), so an agent sees why.
    pub matched: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractedField {
    pub value: FieldValue,
    pub provenance: Provenance,
    /// How sure deskmail is of the value, 0–100: 100 for an e-invoice's exact XML or a
    /// person's correction, a rule's own certainty, the extractor's score and cross-checks.
    #[serde(default = "full_confidence")]
    pub confidence: u8,
    /// Why it is not sure, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doubt: Option<String>,
}

fn full_confidence() -> u8 {
    100
}

impl ExtractedField {
    /// A value with its provenance, as sure as `confidence` says.
    pub fn new(value: FieldValue, provenance: Provenance, confidence: u8) -> Self {
        ExtractedField {
            value,
            provenance,
            confidence: confidence.min(100),
            doubt: None,
        }
    }

    /// The same, with the reason for doubt.
    pub fn doubting(mut self, why: impl Into<String>) -> Self {
        self.doubt = Some(why.into());
        self
    }
}

/// A person's correction of an extracted value, kept beside the decision: the original stays
/// for the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub field: String,
    /// The value before (None: the field was missing).
    pub before: Option<String>,
    pub after: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Something the daemon should do for a message; carried out by later stages (outbox, source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Reply { template: String },
    MoveTo { folder: String },
    Flag { keyword: String },
    Notify { to: String },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Reply { template } => write!(f, "reply with template {template:?}"),
            Action::MoveTo { folder } => write!(f, "move to folder {folder:?}"),
            Action::Flag { keyword } => write!(f, "flag with keyword {keyword:?}"),
            Action::Notify { to } => write!(f, "notify {to}"),
        }
    }
}

/// A rule that matched, with the conditions that made it match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMatch {
    pub rule: String,
    pub file: String,
    /// Human-readable reasons, e.g. `subject matches "(?i)\binvoice\b"`.
    pub why: Vec<String>,
}

pub const CATEGORY_OTHER: &str = "other";

/// What the rules made of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub category: String,
    /// The rule that set the category (None for "other").
    pub category_rule: Option<String>,
    pub fields: BTreeMap<String, ExtractedField>,
    pub matched_rules: Vec<RuleMatch>,
    pub actions: Vec<Action>,
    /// Flags raised at store time, e.g. "duplicate_invoice".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// Version (content hash) of the rule set that made this decision.
    pub rules_version: String,
    /// The e-invoice the fields were read from: its parties, line items, VAT breakdown and
    /// totals, kept with the decision so views and the index need not re-read the XML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub einvoice: Option<Box<EInvoice>>,
    /// Why an attachment that looked like an e-invoice was not read as one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub einvoice_errors: Vec<String>,
    /// How sure the category is, 0–100 (the deciding rule's certainty; 0 when no rule decided).
    #[serde(default = "full_confidence")]
    pub confidence: u8,
    /// A rule asked for review whatever the confidence (`review = true`), or a threshold:
    /// fields below it go to review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_below: Option<u8>,
    /// Why the message went to review (set when it is committed); empty: it did not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub review_reasons: Vec<String>,
    /// The vendor in the registry, when the invoice was recognised as one of theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    /// What the registry knew when a bank-details or sender check fired: shown side by side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardFinding>,
    /// Corrections made in review, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corrections: Vec<Correction>,
    /// Quarantined by the antivirus scan: the signature clamd found (or
    /// `deskmail.TooLargeToScan`). Such a message had no rule run on it, queued no reply, and
    /// its attachments are not served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virus: Option<String>,
}

impl Decision {
    /// True when the antivirus scan quarantined the message.
    pub fn quarantined(&self) -> bool {
        self.virus.is_some()
    }
}

/// What the vendor guard found: the vendor, what the registry knows and what this message says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardFinding {
    pub vendor_id: String,
    pub vendor: String,
    /// IBANs the registry has confirmed for the vendor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_ibans: Vec<String>,
    /// The IBAN this message gives, when it is not one of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_iban: Option<String>,
    /// The vendor's known sending domains and this sender's, for a lookalike.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_domains: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_domain: Option<String>,
    /// One line per finding, for people.
    pub findings: Vec<String>,
}

impl Decision {
    /// How sure the whole decision is: its category's confidence or its least sure field's,
    /// whichever is lower (a sure category with a doubtful total is a doubtful decision).
    pub fn overall_confidence(&self) -> u8 {
        self.fields
            .values()
            .map(|f| f.confidence)
            .fold(self.confidence, u8::min)
    }

    /// Fields as canonical strings (currency included), for JSON output and examples.
    pub fn field_strings(&self) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .map(|(k, f)| (k.clone(), f.value.canonical()))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Text with its layout

/// Text with positions: pages of lines of phrases. For a PDF, coordinates are points from the
/// page's top-left corner; for text (a mail body), `x` counts characters (a tab-separated cell
/// starts a new column) and `y` lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextLayout {
    pub pages: Vec<LayoutPage>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayoutPage {
    /// 1-based.
    pub number: u32,
    pub width: f32,
    pub height: f32,
    /// Top to bottom.
    pub lines: Vec<LayoutLine>,
}

/// Words that share a baseline, grouped into phrases (words closer than about a space).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayoutLine {
    /// Baseline, from the top.
    pub y: f32,
    /// Left to right.
    pub phrases: Vec<Phrase>,
}

/// A run of words printed close together: a label ("Invoice Date:"), a value ("03.11.2026"), or
/// both ("Total: 1,190.00 EUR").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Phrase {
    pub text: String,
    pub x0: f32,
    pub x1: f32,
    pub y: f32,
    /// Font size (points), or 1 for text layouts.
    pub size: f32,
}

// ---------------------------------------------------------------------------------------------
// Structured e-invoices (EN 16931)

/// The XML syntax an e-invoice is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EInvoiceSyntax {
    /// OASIS UBL 2.1 `Invoice` or `CreditNote` (XRechnung UBL, Peppol BIS Billing 3.0).
    Ubl,
    /// UN/CEFACT CII D16B `CrossIndustryInvoice` (XRechnung CII, ZUGFeRD 2.x, Factur-X).
    Cii,
    /// The legacy ZUGFeRD 1.0 `CrossIndustryDocument`.
    Zugferd1,
}

impl fmt::Display for EInvoiceSyntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EInvoiceSyntax::Ubl => "UBL",
            EInvoiceSyntax::Cii => "CII",
            EInvoiceSyntax::Zugferd1 => "ZUGFeRD 1.0 CII",
        })
    }
}

/// Invoice or credit note (UBL `CreditNote`, CII type code 381).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EInvoiceKind {
    Invoice,
    CreditNote,
}

/// A seller or buyer (BG-4 / BG-7).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EInvoiceParty {
    /// Legal registration name (BT-27 / BT-44).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Trading name (BT-28 / BT-45).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trading_name: Option<String>,
    /// VAT identifier (BT-31 / BT-48), with its country prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
    /// Postal address lines, city and country, as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub address: Vec<String>,
    /// Electronic address or contact e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl EInvoiceParty {
    /// The legal name, else the trading name.
    pub fn display_name(&self) -> Option<&str> {
        self.name.as_deref().or(self.trading_name.as_deref())
    }
}

/// One invoice line (BG-25).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EInvoiceLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Item name (BT-153), or its description when it has no name.
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Net unit price (BT-146).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    /// Net line amount (BT-131).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_rate: Option<Decimal>,
}

/// One VAT breakdown entry (BG-23).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EInvoiceVat {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Decimal>,
    /// Taxable amount (BT-116).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxable: Option<Decimal>,
    /// Tax amount (BT-117).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<Decimal>,
}

/// The document totals (BG-22), exactly as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EInvoiceTotals {
    /// Sum of line net amounts (BT-106).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_total: Option<Decimal>,
    /// Document-level allowances (BT-107).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowances: Option<Decimal>,
    /// Document-level charges (BT-108).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charges: Option<Decimal>,
    /// Total without VAT (BT-109).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<Decimal>,
    /// VAT total in the invoice currency (BT-110).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<Decimal>,
    /// VAT total in the tax accounting currency (BT-111), with that currency (BT-6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_in_accounting_currency: Option<(Decimal, String)>,
    /// Total with VAT (BT-112).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Decimal>,
    /// Paid amount (BT-113).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepaid: Option<Decimal>,
    /// Rounding amount (BT-114).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounding: Option<Decimal>,
    /// Amount due for payment (BT-115).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Decimal>,
}

/// A document-level allowance (a discount) or charge (BG-20 / BG-21).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EInvoiceAllowanceCharge {
    /// true: a charge (BG-21); false: an allowance (BG-20).
    pub charge: bool,
    pub amount: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A structured e-invoice read from XML (EN 16931 semantic model, the parts a desk reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EInvoice {
    pub syntax: EInvoiceSyntax,
    pub kind: EInvoiceKind,
    /// Document type code (BT-3) as written: 380, 381, 384, 389, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_code: Option<String>,
    /// Specification identifier (BT-24) as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guideline: Option<String>,
    /// Human name of the profile: "XRechnung 3.0", "Peppol BIS Billing 3.0", "Factur-X BASIC", …
    pub profile: String,
    /// Where it was read from: `attachment NAME` or `attachment PDF, embedded FILE`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    /// Preceding invoice (BT-25), for credit notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preceding_invoice: Option<String>,
    /// Payment terms (BT-20) as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<String>,
    pub seller: EInvoiceParty,
    pub buyer: EInvoiceParty,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<EInvoiceLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowances_charges: Vec<EInvoiceAllowanceCharge>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vat: Vec<EInvoiceVat>,
    pub totals: EInvoiceTotals,
    /// Failed EN 16931 arithmetic checks (BR-CO-10 …), each with its numbers. Values are never
    /// "fixed": what the document says is what is kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arithmetic: Vec<String>,
    /// For a hybrid PDF: where its visual text disagrees with the XML (another invoice number,
    /// no amount equal to the total). Filled in by the rules stage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub visual_mismatch: Vec<String>,
}
