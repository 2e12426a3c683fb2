//! Structured e-invoices (EN 16931): XML bytes → [`EInvoice`], or a precise reason why not.
//!
//! Two syntaxes carry the same semantic model: OASIS UBL 2.1 (`Invoice`, `CreditNote`: XRechnung
//! UBL, Peppol BIS Billing 3.0) and UN/CEFACT CII (`CrossIndustryInvoice` D16B: XRechnung CII,
//! ZUGFeRD 2.x, Factur-X in every profile; the legacy ZUGFeRD 1.0 `CrossIndustryDocument`).
//! The format is recognised by the root element, never by a file name or MIME type.
//!
//! Vendors' XML is untrusted. roxmltree never fetches anything and, with `allow_dtd = false`,
//! refuses any document type declaration, so entity bombs and external entities (XXE) are
//! refused before a single entity is expanded; input size and node count are bounded.
//!
//! Values are kept exactly as written (amounts keep the document's decimals). The EN 16931
//! arithmetic (BR-CO-10 … BR-CO-17) is checked in [`checks`]; a failed check is reported with
//! its numbers and nothing is corrected.
//!
//! | field (decision)   | BT     | UBL                                               | CII                                              |
//! |--------------------|--------|---------------------------------------------------|--------------------------------------------------|
//! | invoice_number     | BT-1   | cbc:ID                                            | ExchangedDocument/ID                             |
//! | invoice_date       | BT-2   | cbc:IssueDate                                     | ExchangedDocument/IssueDateTime                  |
//! | due_date           | BT-9   | cbc:DueDate, PaymentMeans/PaymentDueDate          | SpecifiedTradePaymentTerms/DueDateDateTime       |
//! | currency           | BT-5   | cbc:DocumentCurrencyCode                          | InvoiceCurrencyCode                              |
//! | buyer_reference    | BT-10  | cbc:BuyerReference                                | BuyerReference                                   |
//! | po_number          | BT-13  | OrderReference/ID                                 | BuyerOrderReferencedDocument/IssuerAssignedID    |
//! | preceding_invoice  | BT-25  | BillingReference/InvoiceDocumentReference/ID      | InvoiceReferencedDocument/IssuerAssignedID       |
//! | vendor             | BT-27  | AccountingSupplierParty…/RegistrationName         | SellerTradeParty/Name                            |
//! | vendor_vat_id      | BT-31  | …/PartyTaxScheme/CompanyID (scheme VAT)           | SellerTradeParty/SpecifiedTaxRegistration/ID[VA] |
//! | iban               | BT-84  | PaymentMeans/PayeeFinancialAccount/ID             | PayeePartyCreditorFinancialAccount/IBANID        |
//! | bic                | BT-86  | …/FinancialInstitutionBranch/ID                   | PayeeSpecifiedCreditorFinancialInstitution/BICID |
//! | amount_net         | BT-109 | LegalMonetaryTotal/TaxExclusiveAmount             | …MonetarySummation/TaxBasisTotalAmount           |
//! | amount_tax         | BT-110 | TaxTotal/TaxAmount in the document currency       | TaxTotalAmount in the invoice currency           |
//! | amount_total       | BT-112 | LegalMonetaryTotal/TaxInclusiveAmount             | GrandTotalAmount                                 |
//! | amount_due         | BT-115 | LegalMonetaryTotal/PayableAmount                  | DuePayableAmount                                 |

pub mod checks;
mod cii;
mod summary;
mod ubl;
mod xml;

#[cfg(test)]
pub(crate) mod tests;

use crate::model::{EInvoice, EInvoiceKind, EInvoiceSyntax};

pub use summary::summary_text;

/// Largest XML read as an e-invoice. Real ones are tens of kilobytes; a few megabytes covers
/// invoices with thousands of lines.
pub const MAX_XML_BYTES: usize = 10 * 1024 * 1024;
/// Most XML nodes (elements, attributes, text) parsed in one document.
pub const MAX_XML_NODES: u32 = 2_000_000;

/// Why some bytes could not be read as an e-invoice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EInvoiceError {
    /// The bytes do not start like XML: not a candidate at all (callers stay silent).
    #[error("not XML")]
    NotXml,
    #[error("XML is {size} bytes, over the {limit}-byte limit for e-invoices")]
    TooLarge { size: usize, limit: usize },
    #[error(
        "XML with a document type declaration (DOCTYPE) is refused: e-invoices never need one, \
         and its entities could expand without bound or read local files"
    )]
    Dtd,
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("XML is {0}, not an invoice")]
    NotAnInvoice(String),
}

impl EInvoiceError {
    /// A short kind name for reports and tests: `dtd`, `malformed`, `not_an_invoice`, …
    pub fn kind(&self) -> &'static str {
        match self {
            EInvoiceError::NotXml => "not_xml",
            EInvoiceError::TooLarge { .. } => "too_large",
            EInvoiceError::Dtd => "dtd",
            EInvoiceError::Malformed(_) => "malformed",
            EInvoiceError::NotAnInvoice(_) => "not_an_invoice",
        }
    }
}

/// Does this look like XML (a BOM, whitespace, then `<`)? Cheap: decides whether an attachment
/// of any name and type is worth parsing.
pub fn looks_like_xml(bytes: &[u8]) -> bool {
    // UTF-16 XML starts with a BOM and `<` as two bytes.
    if bytes.starts_with(&[0xFF, 0xFE, b'<', 0]) || bytes.starts_with(&[0xFE, 0xFF, 0, b'<']) {
        return true;
    }
    let b = strip_bom(bytes);
    match b.iter().position(|c| !c.is_ascii_whitespace()) {
        Some(i) => {
            b[i] == b'<'
                && b.get(i + 1)
                    .is_some_and(|c| matches!(c, b'?' | b'!') || c.is_ascii_alphabetic())
        }
        None => false,
    }
}

/// Is this attachment worth reading as an e-invoice? XML by content, and either declared as XML
/// (type or name) or showing an invoice root element near its start. An HTML page or an SVG
/// that happens to start with `<` is not a candidate, so it gets no "not an invoice" note.
pub fn is_candidate(bytes: &[u8], content_type: &str, name: Option<&str>) -> bool {
    if !looks_like_xml(bytes) || content_type.contains("html") {
        return false;
    }
    let declared = content_type.contains("xml")
        || name.is_some_and(|n| n.to_ascii_lowercase().ends_with(".xml"));
    declared || {
        let head = &bytes[..bytes.len().min(8192)];
        [
            b"Invoice".as_slice(),
            b"CreditNote",
            b"CrossIndustryDocument",
        ]
        .iter()
        .any(|marker| memchr::memmem::find(head, marker).is_some())
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes)
}

/// The XML as text: UTF-8 (with or without BOM) or UTF-16 with a BOM. EN 16931 syntaxes are
/// UTF-8 in practice (XRechnung requires it).
fn decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, EInvoiceError> {
    use std::borrow::Cow;
    let utf16 = |le: bool| {
        let units = bytes[2..].chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map(Cow::Owned)
            .map_err(|_| EInvoiceError::Malformed("invalid UTF-16".into()))
    };
    if bytes.starts_with(&[0xFF, 0xFE]) {
        return utf16(true);
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return utf16(false);
    }
    std::str::from_utf8(strip_bom(bytes))
        .map(Cow::Borrowed)
        .map_err(|e| {
            EInvoiceError::Malformed(format!(
                "not UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ))
        })
}

/// Read `bytes` as an e-invoice. `source` says where it came from (`attachment invoice.xml`,
/// `attachment a.pdf, embedded factur-x.xml`) and is kept on the result for provenance.
pub fn read(bytes: &[u8], source: &str) -> Result<EInvoice, EInvoiceError> {
    if !looks_like_xml(bytes) {
        return Err(EInvoiceError::NotXml);
    }
    if bytes.len() > MAX_XML_BYTES {
        return Err(EInvoiceError::TooLarge {
            size: bytes.len(),
            limit: MAX_XML_BYTES,
        });
    }
    let text = decode(bytes)?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_XML_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(&text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => EInvoiceError::Dtd,
        e => EInvoiceError::Malformed(e.to_string()),
    })?;
    let root = doc.root_element();
    let ns = root.tag_name().namespace().unwrap_or("");
    let name = root.tag_name().name();
    let mut invoice = match (name, ns) {
        ("Invoice", xml::UBL_INVOICE_NS) => ubl::read(root, EInvoiceKind::Invoice),
        ("CreditNote", xml::UBL_CREDIT_NOTE_NS) => ubl::read(root, EInvoiceKind::CreditNote),
        ("CrossIndustryInvoice", xml::CII_NS) => cii::read(root, EInvoiceSyntax::Cii),
        ("CrossIndustryDocument", xml::ZUGFERD1_NS) => cii::read(root, EInvoiceSyntax::Zugferd1),
        _ => return Err(EInvoiceError::NotAnInvoice(describe_root(name, ns))),
    };
    invoice.profile = profile_name(invoice.guideline.as_deref(), invoice.syntax);
    invoice.source = source.to_string();
    invoice.arithmetic = checks::arithmetic(&invoice);
    Ok(invoice)
}

/// "a UBL Order", "an RSS document (rss)", "a CII document without a known root (Foo)".
fn describe_root(name: &str, ns: &str) -> String {
    if ns.starts_with("urn:oasis:names:specification:ubl:schema:xsd:") {
        return format!("a UBL {name}");
    }
    if ns.starts_with("urn:un:unece:uncefact:") {
        return format!("a UN/CEFACT {name}");
    }
    match name {
        "rss" | "feed" => format!("a news feed ({name})"),
        "html" => "an HTML page".into(),
        "svg" => "an SVG image".into(),
        _ if ns.is_empty() => format!("an XML document with root <{name}>"),
        _ => format!("an XML document with root <{name}> in namespace {ns}"),
    }
}

/// The profile's human name from the specification identifier (BT-24).
pub fn profile_name(guideline: Option<&str>, syntax: EInvoiceSyntax) -> String {
    let Some(id) = guideline.map(str::trim).filter(|g| !g.is_empty()) else {
        return match syntax {
            EInvoiceSyntax::Ubl => "UBL 2.1 (no specification id)".into(),
            EInvoiceSyntax::Cii => "CII (no specification id)".into(),
            EInvoiceSyntax::Zugferd1 => "ZUGFeRD 1.0".into(),
        };
    };
    let lower = id.to_ascii_lowercase();
    if let Some(at) = lower.find("xrechnung_") {
        let version: String = lower[at + "xrechnung_".len()..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let version = version.trim_end_matches('.');
        return if version.contains('.') || version.is_empty() {
            format!("XRechnung {version}").trim_end().to_string()
        } else {
            format!("XRechnung {version}.0")
        };
    }
    if lower.contains("peppol.eu:2017:poacc:billing:3.0") {
        return "Peppol BIS Billing 3.0".into();
    }
    if let Some(rest) = lower.strip_prefix("urn:ferd:crossindustrydocument:invoice:1p0:") {
        return format!("ZUGFeRD 1.0 {}", rest.to_ascii_uppercase());
    }
    for (key, name) in [
        ("factur-x.eu:1p0:minimum", "Factur-X MINIMUM"),
        ("factur-x.eu:1p0:basicwl", "Factur-X BASIC WL"),
        ("factur-x.eu:1p0:basic", "Factur-X BASIC"),
        ("factur-x.eu:1p0:extended", "Factur-X EXTENDED"),
        ("zugferd.de:2p0:minimum", "ZUGFeRD 2.0 MINIMUM"),
        ("zugferd.de:2p0:basicwl", "ZUGFeRD 2.0 BASIC WL"),
        ("zugferd.de:2p0:basic", "ZUGFeRD 2.0 BASIC"),
        ("zugferd.de:2p0:extended", "ZUGFeRD 2.0 EXTENDED"),
    ] {
        if lower.contains(key) {
            return name.into();
        }
    }
    if lower == "urn:cen.eu:en16931:2017" {
        return "EN 16931 (Factur-X/ZUGFeRD COMFORT)".into();
    }
    if lower.starts_with("urn:cen.eu:en16931:2017") {
        return format!("EN 16931 ({id})");
    }
    id.to_string()
}

/// "UBL, XRechnung 3.0": the syntax and profile, for provenance lines.
pub fn format_label(e: &EInvoice) -> String {
    format!("{}, {}", e.syntax, e.profile)
}
