//! bytes → [`Message`]: headers, addresses, dates, body text, attachments with extracted text,
//! and the threading keys. Lenient like mail-parser (a broken part becomes a warning), but input
//! that is not mail at all is rejected with a precise reason. Never panics on any input.

pub mod html;
pub mod layout;
pub mod pdf;

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, Utc};
use mail_parser::{Addr, HeaderValue, MessageParser, MessagePart, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use crate::einvoice;
use crate::model::{Address, Attachment, Message, MessageId, RawMail};

pub use pdf::PdfLimits;

/// Why bytes could not become a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("empty input (0 bytes)")]
    Empty,
    #[error("message is {size} bytes, over the {limit}-byte size limit")]
    TooLarge { size: usize, limit: usize },
    #[error("not an email message: {0}")]
    NotMail(String),
    #[error("the MIME parser failed: {0}")]
    ParserFailed(String),
}

#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Messages larger than this are rejected whole.
    pub max_message_bytes: usize,
    /// Text kept per attachment (text parts and PDFs).
    pub max_attachment_text: usize,
    /// How many attachments get text extraction (the rest are listed without text).
    pub max_text_attachments: usize,
    pub pdf: PdfLimits,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_message_bytes: 50 * 1024 * 1024,
            max_attachment_text: 256 * 1024,
            max_text_attachments: 20,
            pdf: PdfLimits::default(),
        }
    }
}

/// Parse one raw mail. Every input gives a Message or a Rejection.
pub fn parse(raw: &RawMail, limits: &ParseLimits) -> Result<Message, Rejection> {
    let bytes = raw.bytes.as_slice();
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Rejection::Empty);
    }
    if bytes.len() > limits.max_message_bytes {
        return Err(Rejection::TooLarge {
            size: bytes.len(),
            limit: limits.max_message_bytes,
        });
    }
    check_header_block(bytes)?;
    match catch_unwind(AssertUnwindSafe(|| parse_unchecked(raw, limits))) {
        Ok(result) => result,
        Err(_) => Err(Rejection::ParserFailed(
            "panic inside the MIME parser".into(),
        )),
    }
}

/// Mail starts with header fields (`Name: value`), optionally after an mbox `From ` line.
/// Anything else (binary junk, a plain text file) is not a message.
fn check_header_block(bytes: &[u8]) -> Result<(), Rejection> {
    let mut rest = bytes;
    if rest.starts_with(b"From ") {
        rest = match memchr::memchr(b'\n', rest) {
            Some(nl) => &rest[nl + 1..],
            None => &[],
        };
    }
    let line_end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    let line = &rest[..line_end];
    let colon = memchr::memchr(b':', line);
    let is_field = match colon {
        Some(0) | None => false,
        Some(c) => line[..c].iter().all(|&b| b.is_ascii_graphic() && b != b':'),
    };
    if is_field {
        Ok(())
    } else {
        let nul = bytes.iter().take(4096).filter(|&&b| b == 0).count();
        if nul > 0 {
            Err(Rejection::NotMail(
                "binary data (NUL bytes) where header fields should be".into(),
            ))
        } else {
            Err(Rejection::NotMail(
                "the first line is not a header field (\"Name: value\")".into(),
            ))
        }
    }
}

/// mail-parser set up to decode only the headers deskmail reads (MIME, Date, Subject, the
/// addresses, the ids); every other header is skipped and read raw from its offsets
/// (`headers_raw`). Parsing Received and List-* headers into structures cost ~3 % of ingest CPU on
/// a corpus with many relays.
pub fn mail_parser() -> &'static MessageParser {
    static PARSER: std::sync::LazyLock<MessageParser> = std::sync::LazyLock::new(|| {
        use mail_parser::HeaderName as H;
        MessageParser::new()
            .with_mime_headers()
            .header_date(H::Date)
            .header_text(H::Subject)
            .header_address(H::From)
            .header_address(H::To)
            .header_address(H::Cc)
            .header_address(H::ReplyTo)
            .header_id(H::MessageId)
            .header_id(H::InReplyTo)
            .header_id(H::References)
            .default_header_ignore()
    });
    &PARSER
}

fn parse_unchecked(raw: &RawMail, limits: &ParseLimits) -> Result<Message, Rejection> {
    let bytes = raw.bytes.as_slice();
    let parsed = mail_parser()
        .parse(bytes)
        .ok_or_else(|| Rejection::NotMail("no header fields could be parsed".into()))?;
    if parsed.headers().is_empty() {
        return Err(Rejection::NotMail(
            "no header fields could be parsed".into(),
        ));
    }

    let mut warnings = Vec::new();
    let subject = parsed.subject().unwrap_or_default().trim().to_string();
    let (normalized_subject, subject_is_reply) = normalize_subject(&subject);
    let subject_is_forward = subject_is_reply && is_forward_prefix(&subject);

    let headers: Vec<(String, String)> = parsed
        .headers_raw()
        .map(|(name, value)| (name.to_string(), unfold(value)))
        .collect();

    let date = parsed
        .date()
        .and_then(|d| DateTime::<Utc>::from_timestamp(d.to_timestamp(), 0));
    if date.is_none() && headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("date")) {
        warnings.push("Date header present but not parseable".to_string());
    }

    let (body_text, body_was_html) = body_text(&parsed, bytes, &mut warnings);
    let body_new = if subject_is_reply && !subject_is_forward {
        strip_quoted(&body_text)
    } else {
        None
    };
    let mut attachments = Vec::new();
    collect_attachments(&parsed, limits, 0, &mut attachments, &mut warnings);

    if parsed.parts.iter().any(|p| p.is_encoding_problem) {
        warnings.push("a MIME part has a transfer-encoding problem (decoded leniently)".into());
    }

    Ok(Message {
        id: MessageId::of_bytes(bytes),
        mailbox: raw.mailbox.clone(),
        role: raw.role,
        origin: raw.origin.clone(),
        size: bytes.len() as u64,
        message_id: parsed.message_id().map(clean_id).filter(|s| !s.is_empty()),
        in_reply_to: id_list(parsed.in_reply_to()),
        references: id_list(parsed.references()),
        subject,
        normalized_subject,
        subject_is_reply,
        subject_is_forward,
        from: parsed.from().and_then(|a| a.first()).map(address),
        to: parsed
            .to()
            .map(|a| a.iter().map(address).collect())
            .unwrap_or_default(),
        cc: parsed
            .cc()
            .map(|a| a.iter().map(address).collect())
            .unwrap_or_default(),
        date,
        headers,
        body_text,
        body_new,
        body_was_html,
        attachments,
        warnings,
    })
}

fn address(a: &Addr<'_>) -> Address {
    Address {
        name: a
            .name()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        email: a
            .address()
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty()),
    }
}

fn clean_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_string()
}

fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![clean_id(t)],
        HeaderValue::TextList(list) => list.iter().map(|t| clean_id(t)).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect()
}

fn unfold(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, line) in value.split('\n').enumerate() {
        let line = line.trim_end_matches('\r');
        if i > 0 {
            out.push(' ');
            out.push_str(line.trim_start());
        } else {
            out.push_str(line.trim_start());
        }
    }
    out.trim_end().to_string()
}

/// Strip reply/forward prefixes (Re:, AW:, WG:, Fwd:, TR:, Doorst:, RE[2]:, "TR :"), lowercase,
/// fold whitespace. Returns the normalised subject and whether any prefix was present.
pub fn normalize_subject(subject: &str) -> (String, bool) {
    const PREFIXES: [&str; 14] = [
        "re", "aw", "wg", "fw", "fwd", "tr", "doorst", "antw", "sv", "vs", "rv", "enc", "réf",
        "ref",
    ];
    let mut s = subject.trim();
    let mut had_prefix = false;
    loop {
        let lower = s.to_lowercase();
        let word_len = lower
            .char_indices()
            .find(|(_, c)| !c.is_alphabetic())
            .map_or(lower.len(), |(i, _)| i);
        let word = &lower[..word_len];
        if word_len == 0 || !PREFIXES.contains(&word) {
            break;
        }
        // After the word: optional [N], optional spaces, then ':'.
        let mut rest = &s[word_len..];
        if rest.starts_with('[')
            && let Some(close) = rest.find(']')
            && rest[1..close].chars().all(|c| c.is_ascii_digit())
        {
            rest = &rest[close + 1..];
        }
        let trimmed = rest.trim_start();
        if let Some(after) = trimmed.strip_prefix(':') {
            s = after.trim_start();
            had_prefix = true;
        } else {
            break;
        }
    }
    let normalized = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    (normalized, had_prefix)
}

/// Whether the outermost subject prefix is a forward.
fn is_forward_prefix(subject: &str) -> bool {
    let lower = subject.trim_start().to_lowercase();
    [
        "fwd",
        "fw",
        "wg",
        "tr",
        "doorst",
        "enc",
        "rv",
        "weitergeleitet",
    ]
    .iter()
    .any(|p| {
        lower
            .strip_prefix(p)
            .is_some_and(|rest| rest.trim_start().starts_with(':') || rest.starts_with('['))
    })
}

/// The text of a reply without its quoted history, or None when nothing is quoted.
/// History starts at an "Original Message" separator, an Outlook `From:`/`Sent:` block, or an
/// "On … wrote:" line (English, German, French, Dutch); `>` lines are dropped wherever they are.
pub fn strip_quoted(body: &str) -> Option<String> {
    let lines: Vec<&str> = body.lines().collect();
    let lower: Vec<String> = lines.iter().map(|l| l.trim().to_lowercase()).collect();
    let is_from = |l: &str| {
        ["from:", "von:", "de :", "de:", "van:"]
            .iter()
            .any(|p| l.starts_with(p))
    };
    let is_sent = |l: &str| {
        [
            "sent:",
            "gesendet:",
            "envoyé :",
            "envoyé:",
            "verzonden:",
            "date:",
            "datum:",
        ]
        .iter()
        .any(|p| l.starts_with(p))
    };
    let is_wrote = |l: &str| {
        ["on ", "am ", "le ", "op "]
            .iter()
            .any(|p| l.starts_with(p))
            && l.ends_with(':')
            && [
                " wrote",
                " schrieb ",
                " a écrit",
                " schreef ",
                " geschreven",
            ]
            .iter()
            .any(|w| l.contains(w))
    };
    let mut cut = None;
    for i in 0..lines.len() {
        let l = &lower[i];
        let separator = l.starts_with("-----")
            && [
                "original message",
                "ursprüngliche nachricht",
                "message d'origine",
                "oorspronkelijk bericht",
            ]
            .iter()
            .any(|m| l.contains(m));
        let outlook = is_from(l) && lower.iter().skip(i + 1).take(3).any(|n| is_sent(n));
        let wrote =
            is_wrote(l) || (i + 1 < lines.len() && is_wrote(&format!("{l} {}", lower[i + 1])));
        let rule = l.len() >= 10
            && l.chars().all(|c| c == '_')
            && lower.get(i + 1).is_some_and(|n| is_from(n));
        if separator || outlook || wrote || rule {
            cut = Some(i);
            break;
        }
    }
    let quoted_lines = lines.iter().any(|l| l.trim_start().starts_with('>'));
    if cut.is_none() && !quoted_lines {
        return None;
    }
    let kept: Vec<&str> = lines[..cut.unwrap_or(lines.len())]
        .iter()
        .filter(|l| !l.trim_start().starts_with('>'))
        .copied()
        .collect();
    let text = kept.join("\n").trim_end().to_string();
    (!text.trim().is_empty()).then_some(text)
}

fn body_text(
    parsed: &mail_parser::Message<'_>,
    raw: &[u8],
    warnings: &mut Vec<String>,
) -> (String, bool) {
    let mut out = String::new();
    let mut was_html = false;
    for &idx in &parsed.text_body {
        let Some(part) = parsed.parts.get(idx as usize) else {
            continue;
        };
        let text = match &part.body {
            PartType::Text(t) => redecode_if_undeclared(part, t, raw, warnings),
            PartType::Html(h) => {
                was_html = true;
                html::html_to_text(h)
            }
            _ => continue,
        };
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&text);
    }
    if out.is_empty() {
        // Some messages only have an HTML body that mail-parser did not list as text.
        if let Some(PartType::Html(h)) = parsed
            .html_body
            .first()
            .and_then(|&i| parsed.parts.get(i as usize))
            .map(|p| &p.body)
        {
            was_html = true;
            out = html::html_to_text(h);
        }
    }
    (out, was_html)
}

/// A text part with 8-bit bytes and no declared charset decodes as lossy UTF-8; real-world senders
/// of such mail almost always meant Windows-1252, so decode the raw bytes that way instead.
fn redecode_if_undeclared(
    part: &MessagePart<'_>,
    text: &str,
    raw: &[u8],
    warnings: &mut Vec<String>,
) -> String {
    if text.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)) {
        // C1 controls never appear in real text: the sender said ISO-8859-1 but wrote
        // Windows-1252 (€ is 0x80 there), as browsers assume too.
        warnings.push("C1 control characters decoded as windows-1252".into());
        return text.chars().map(cp1252_c1).collect();
    }
    if !text.contains('\u{fffd}') {
        return text.to_string();
    }
    let declared = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .is_some();
    let cte = part
        .content_transfer_encoding()
        .unwrap_or("7bit")
        .to_ascii_lowercase();
    if declared {
        warnings.push("text part has bytes invalid in its declared charset".into());
        return text.to_string();
    }
    let (start, end) = (part.offset_body as usize, part.offset_end as usize);
    if (cte == "8bit" || cte == "7bit" || cte == "binary")
        && start <= end
        && end <= raw.len()
        && let Some(decode) = mail_parser::decoders::charsets::map::charset_decoder(b"windows-1252")
    {
        warnings.push("8-bit text without a declared charset, decoded as windows-1252".into());
        return decode(&raw[start..end]).trim_end().to_string();
    }
    warnings.push("8-bit text without a declared charset; invalid bytes replaced".into());
    text.to_string()
}

/// Windows-1252's printable characters in the 0x80–0x9F range.
fn cp1252_c1(c: char) -> char {
    const TABLE: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match c as u32 {
        n @ 0x80..=0x9f => TABLE[(n - 0x80) as usize],
        _ => c,
    }
}

/// The bytes of the attachment with this SHA-256 (as listed in [`Message::attachments`]),
/// found by walking the parts the way the listing did.
pub fn attachment_bytes(raw: &[u8], sha256: &str) -> Option<Vec<u8>> {
    fn walk(m: &mail_parser::Message<'_>, sha256: &str, depth: usize) -> Option<Vec<u8>> {
        for part in m.attachments() {
            let nested = part.message();
            let contents: &[u8] = match nested {
                Some(n) => n.raw_message(),
                None => part.contents(),
            };
            if hex::encode(Sha256::digest(contents)) == sha256 {
                return Some(contents.to_vec());
            }
            if let Some(n) = nested
                && depth + 1 < MAX_NESTED_MESSAGES
                && let Some(found) = walk(n, sha256, depth + 1)
            {
                return Some(found);
            }
        }
        None
    }
    let parsed = mail_parser().parse(raw)?;
    walk(&parsed, sha256, 0)
}

/// Nested messages (message/rfc822, e.g. a forward as attachment) are opened up to this depth.
const MAX_NESTED_MESSAGES: usize = 3;

fn collect_attachments(
    parsed: &mail_parser::Message<'_>,
    limits: &ParseLimits,
    depth: usize,
    out: &mut Vec<Attachment>,
    warnings: &mut Vec<String>,
) {
    for part in parsed.attachments() {
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_ascii_lowercase();
        let nested = part.message();
        let contents: &[u8] = match nested {
            Some(m) => m.raw_message(),
            None => part.contents(),
        };
        let mut att = Attachment {
            name: part
                .attachment_name()
                .map(|n| n.trim().to_string())
                .or_else(|| {
                    nested
                        .and_then(|m| m.subject())
                        .map(|s| format!("{}.eml", s.trim()))
                }),
            content_type: if nested.is_some() {
                "message/rfc822".into()
            } else {
                content_type
            },
            size: contents.len() as u64,
            sha256: hex::encode(Sha256::digest(contents)),
            text: None,
            text_error: None,
            einvoice: None,
            einvoice_error: None,
            layout: None,
        };
        let text_budget = out.len() < limits.max_text_attachments;
        if let Some(m) = nested {
            if text_budget {
                att.text = Some(truncate(nested_summary(m), limits.max_attachment_text));
            }
            out.push(att);
            if depth + 1 < MAX_NESTED_MESSAGES {
                collect_attachments(m, limits, depth + 1, out, warnings);
            } else {
                warnings.push("messages nested deeper than 3 levels were not opened".into());
            }
            continue;
        }
        if text_budget {
            extract_attachment_text(part, &mut att, limits);
        }
        if let Some(err) = &att.text_error {
            warnings.push(format!(
                "attachment {}: {err}",
                att.name.as_deref().unwrap_or("(unnamed)")
            ));
        }
        out.push(att);
    }
}

/// An attached message as text: its main headers, then its body.
fn nested_summary(m: &mail_parser::Message<'_>) -> String {
    let mut s = String::new();
    if let Some(a) = m.from().and_then(|a| a.first()) {
        s.push_str(&format!("From: {}\n", address(a)));
    }
    if let Some(d) = m.date() {
        s.push_str(&format!("Date: {}\n", d.to_rfc3339()));
    }
    if let Some(subj) = m.subject() {
        s.push_str(&format!("Subject: {subj}\n"));
    }
    s.push('\n');
    let mut ignored = Vec::new();
    s.push_str(&body_text(m, m.raw_message(), &mut ignored).0);
    s
}

fn extract_attachment_text(part: &MessagePart<'_>, att: &mut Attachment, limits: &ParseLimits) {
    let name = att.name.as_deref().unwrap_or("").to_ascii_lowercase();
    let contents = part.contents();
    let is_pdf = att.content_type == "application/pdf"
        || name.ends_with(".pdf")
        || contents.starts_with(b"%PDF-");
    if is_pdf {
        match pdf::extract(contents, &limits.pdf) {
            Ok(pdf) => {
                match pdf.text {
                    Ok((text, layout)) => {
                        if text.trim().is_empty() {
                            att.text_error = Some(NO_TEXT_LAYER.into());
                        } else {
                            att.layout = Some(std::sync::Arc::new(layout));
                        }
                        att.text = Some(text);
                    }
                    Err(e) => att.text_error = Some(e.to_string()),
                }
                read_embedded_einvoice(att, &pdf.embedded);
            }
            Err(e) => att.text_error = Some(e.to_string()),
        }
        return;
    }
    if einvoice::is_candidate(contents, &att.content_type, att.name.as_deref()) {
        let source = format!("attachment {}", att.display_name());
        match einvoice::read(contents, &source) {
            Ok(e) => {
                // What the XML says, as text: rules read it as attachment text and search
                // finds its parties and line items (the raw tags would only be noise).
                att.text = Some(truncate(
                    einvoice::summary_text(&e),
                    limits.max_attachment_text,
                ));
                att.einvoice = Some(Box::new(e));
                return;
            }
            Err(e) => att.einvoice_error = Some(e.to_string()),
        }
    }
    let texty =
        att.content_type.starts_with("text/") || name.ends_with(".csv") || name.ends_with(".txt");
    if texty {
        let text = match &part.body {
            PartType::Text(t) => t.to_string(),
            PartType::Html(h) => html::html_to_text(h),
            _ => String::from_utf8_lossy(contents).into_owned(),
        };
        att.text = Some(truncate(text, limits.max_attachment_text));
    }
}

/// What a PDF without any text says about itself: a scan (an image of the page) or a document
/// printed as curves. Rules and the extractor get nothing from it; a person must read it.
pub const NO_TEXT_LAYER: &str =
    "the PDF has no text layer (a scanned image?): nothing can be read from it";

/// The decision flag for a message with such a PDF.
pub const FLAG_NO_TEXT_LAYER: &str = "no_text_layer";

/// File names hybrid e-invoices embed their XML under (ZUGFeRD 1.0/2.x, Factur-X, XRechnung).
const EINVOICE_EMBEDDED_NAMES: &[&str] = &["factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml"];

/// The first embedded file that reads as an e-invoice becomes the attachment's e-invoice. An
/// embedded file that should have been one (a known name, or XML) but is broken is reported.
fn read_embedded_einvoice(att: &mut Attachment, embedded: &[pdf::EmbeddedFile]) {
    let mut problems = Vec::new();
    for file in embedded {
        let lower = file.name.to_ascii_lowercase();
        let known = EINVOICE_EMBEDDED_NAMES.contains(&lower.as_str());
        let source = format!("attachment {}, embedded {}", att.display_name(), file.name);
        match &file.bytes {
            Err(e) if known || lower.ends_with(".xml") => {
                problems.push(format!("embedded {}: {e}", file.name));
            }
            Err(_) => {}
            Ok(bytes) => match einvoice::read(bytes, &source) {
                Ok(e) => {
                    att.einvoice = Some(Box::new(e));
                    return;
                }
                Err(einvoice::EInvoiceError::NotXml) if known => {
                    problems.push(format!("embedded {} is not XML", file.name));
                }
                Err(einvoice::EInvoiceError::NotXml) => {}
                Err(e) if known || lower.ends_with(".xml") => {
                    problems.push(format!("embedded {}: {e}", file.name));
                }
                Err(_) => {}
            },
        }
    }
    if !problems.is_empty() {
        att.einvoice_error = Some(problems.join("; "));
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(bytes: &[u8]) -> RawMail {
        RawMail {
            role: None,
            mailbox: "test".into(),
            origin: "mem".into(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn subject_prefixes_in_four_languages_are_stripped() {
        assert_eq!(
            normalize_subject("RE: AW: Invoice 4411"),
            ("invoice 4411".into(), true)
        );
        assert_eq!(
            normalize_subject("TR : Facture  F-12"),
            ("facture f-12".into(), true)
        );
        assert_eq!(
            normalize_subject("Doorst: Re[2]: Factuur"),
            ("factuur".into(), true)
        );
        assert_eq!(
            normalize_subject("Invoice 4411"),
            ("invoice 4411".into(), false)
        );
        assert_eq!(
            normalize_subject("Reminder: pay"),
            ("reminder: pay".into(), false)
        );
        assert_eq!(normalize_subject(""), (String::new(), false));
    }

    #[test]
    fn corrupt_and_encrypted_pdfs_are_named_and_the_message_still_parses() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mail/ap");
        let load = |name: &str| {
            parse(
                &raw(&std::fs::read(root.join(name)).unwrap()),
                &ParseLimits::default(),
            )
            .unwrap()
        };
        let enc = load("invoice-en-gb-encrypted-pdf-fields-in-body.eml");
        let pdf = enc
            .attachments
            .iter()
            .find(|a| a.content_type == "application/pdf")
            .unwrap();
        assert_eq!(pdf.text, None);
        assert_eq!(
            pdf.text_error.as_deref(),
            Some("PDF is encrypted and needs a password")
        );
        assert!(
            enc.body_text.contains("SLS/2026/0311"),
            "the body is still there"
        );

        let bad = load("invoice-en-us-corrupt-pdf-fields-in-body.eml");
        let pdf = bad
            .attachments
            .iter()
            .find(|a| a.content_type == "application/pdf")
            .unwrap();
        assert!(
            pdf.text_error
                .as_deref()
                .is_some_and(|e| e.starts_with("PDF is corrupt")),
            "{pdf:?}"
        );
        assert!(bad.warnings.iter().any(|w| w.contains("PDF is corrupt")));

        let good = load("invoice-de-pdf-only-fields.eml");
        let pdf = good
            .attachments
            .iter()
            .find(|a| a.content_type == "application/pdf")
            .unwrap();
        assert!(
            pdf.text.as_deref().is_some_and(|t| t.contains("26-00731")),
            "{pdf:?}"
        );
    }

    #[test]
    fn every_fixture_parses_without_a_caught_panic() {
        // A panic inside parse would surface as ParserFailed: none of the hostile fixtures may.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mail");
        for group in ["hostile", "malformed"] {
            for e in std::fs::read_dir(root.join(group)).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "eml") {
                    let r = parse(&raw(&std::fs::read(&p).unwrap()), &ParseLimits::default());
                    assert!(
                        !matches!(r, Err(Rejection::ParserFailed(_))),
                        "{}: {r:?}",
                        p.display()
                    );
                }
            }
        }
    }

    #[test]
    fn empty_and_junk_are_rejected_precisely() {
        assert_eq!(
            parse(&raw(b""), &ParseLimits::default()).unwrap_err(),
            Rejection::Empty
        );
        assert_eq!(
            parse(&raw(b" \r\n"), &ParseLimits::default()).unwrap_err(),
            Rejection::Empty
        );
        let err = parse(&raw(b"\x00\x01\x02binary\x00"), &ParseLimits::default()).unwrap_err();
        assert!(
            matches!(err, Rejection::NotMail(ref m) if m.contains("NUL")),
            "{err}"
        );
        let err = parse(
            &raw(b"just some text\nwith lines\n"),
            &ParseLimits::default(),
        )
        .unwrap_err();
        assert!(matches!(err, Rejection::NotMail(_)), "{err}");
    }

    #[test]
    fn size_cap_rejects_with_sizes() {
        let limits = ParseLimits {
            max_message_bytes: 10,
            ..ParseLimits::default()
        };
        let err = parse(&raw(b"Subject: hello there\n\nbody"), &limits).unwrap_err();
        assert_eq!(
            err,
            Rejection::TooLarge {
                size: 26,
                limit: 10
            }
        );
    }

    #[test]
    fn html_only_body_becomes_text() {
        let m = parse(
            &raw(b"From: A <a@x.example>\nSubject: hi\nContent-Type: text/html\n\n<p>Total&nbsp;due</p><table><tr><td>EUR</td><td>5</td></tr></table>"),
            &ParseLimits::default(),
        )
        .unwrap();
        assert!(m.body_was_html);
        assert_eq!(m.body_text, "Total\u{a0}due\nEUR\t5");
        assert_eq!(m.from.unwrap().email.as_deref(), Some("a@x.example"));
    }

    #[test]
    fn undeclared_8bit_is_decoded_as_windows_1252() {
        let m = parse(
            &raw(b"Subject: x\nContent-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\nF\xe4llig am 3. M\xe4rz \x80 5\n"),
            &ParseLimits::default(),
        )
        .unwrap();
        assert_eq!(m.body_text, "Fällig am 3. März € 5");
        assert!(m.warnings.iter().any(|w| w.contains("windows-1252")));
    }

    #[test]
    fn latin1_declared_but_windows_1252_written_is_repaired() {
        let m = parse(
            &raw(b"Subject: x\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nTotaal \x80 1.234,56 \x93ok\x94\n"),
            &ParseLimits::default(),
        )
        .unwrap();
        assert_eq!(m.body_text.trim_end(), "Totaal € 1.234,56 “ok”");
    }

    #[test]
    fn reply_history_is_separated_from_what_the_reply_says() {
        let body = "We will pay on 15 December.\n\nKind regards\n\n-----Original Message-----\nFrom: AR <ar@x>\nSent: today\n\ninvoice is overdue since 14 November";
        assert_eq!(
            strip_quoted(body).as_deref(),
            Some("We will pay on 15 December.\n\nKind regards")
        );
        let de =
            "Danke.\n\nAm 16.03.2026 um 08:15 schrieb Keller GmbH:\n> Rechnung RE-1\n> Betrag 5 €";
        assert_eq!(strip_quoted(de).as_deref(), Some("Danke."));
        let inline = "> question?\nanswer\n> more?\nmore answer";
        assert_eq!(strip_quoted(inline).as_deref(), Some("answer\nmore answer"));
        assert_eq!(strip_quoted("nothing quoted here"), None);
    }

    #[test]
    fn forwards_keep_the_forwarded_message_as_content() {
        assert!(is_forward_prefix("Fwd: Invoice"));
        assert!(is_forward_prefix("WG: Rechnung"));
        assert!(is_forward_prefix("TR : Facture"));
        assert!(!is_forward_prefix("Re: Fwd: Invoice"));
        assert!(!is_forward_prefix("Tracking number"));
    }

    #[test]
    fn an_attached_message_is_opened_with_its_attachments() {
        let mail = b"From: Jan <jan@ours.example>\nSubject: WG: Factuur\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nSee attached.\n--b\nContent-Type: message/rfc822\n\nFrom: Bakker BV <f@bakker.example>\nSubject: Factuur 20260244\nContent-Type: multipart/mixed; boundary=\"c\"\n\n--c\nContent-Type: text/plain\n\nTotaal: 7.865,00\n--c\nContent-Type: text/csv; name=\"lines.csv\"\nContent-Disposition: attachment; filename=\"lines.csv\"\n\na;b\n--c--\n--b--\n";
        let m = parse(&raw(mail), &ParseLimits::default()).unwrap();
        assert_eq!(m.attachments.len(), 2, "{:?}", m.attachments);
        assert_eq!(m.attachments[0].content_type, "message/rfc822");
        let text = m.attachments[0].text.as_deref().unwrap();
        assert!(
            text.starts_with("From: Bakker BV <f@bakker.example>\nSubject: Factuur 20260244"),
            "{text}"
        );
        assert!(text.contains("Totaal: 7.865,00"), "{text}");
        assert_eq!(m.attachments[1].name.as_deref(), Some("lines.csv"));
    }

    #[test]
    fn references_and_message_id_lose_their_brackets() {
        let m = parse(
            &raw(b"Message-ID: <b@x>\nIn-Reply-To: <a@x>\nReferences: <r@x> <a@x>\nSubject: Re: y\n\nhi"),
            &ParseLimits::default(),
        )
        .unwrap();
        assert_eq!(m.message_id.as_deref(), Some("b@x"));
        assert_eq!(m.in_reply_to, vec!["a@x"]);
        assert_eq!(m.references, vec!["r@x", "a@x"]);
        assert!(m.subject_is_reply);
    }
}

#[cfg(test)]
mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn fixture_bytes() -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mail/ap");
        let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        out.sort();
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_give_a_message_or_a_rejection(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let raw = RawMail { role: None, mailbox: "p".into(), origin: "p".into(), bytes };
            // `parse` turns a panic into ParserFailed; none may happen at all.
            let result = parse(&raw, &ParseLimits::default());
            prop_assert!(!matches!(result, Err(Rejection::ParserFailed(_))), "{:?}", result.err());
        }

        #[test]
        fn damaged_real_messages_never_panic(which in 0usize..64, cuts in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..16), truncate in any::<u16>()) {
            let all = fixture_bytes();
            let mut bytes = all[which % all.len()].clone();
            for (pos, byte) in cuts {
                if !bytes.is_empty() {
                    let i = usize::from(pos) % bytes.len();
                    bytes[i] = byte;
                }
            }
            let keep = usize::from(truncate) % (bytes.len() + 1);
            bytes.truncate(keep.max(bytes.len() / 2));
            let raw = RawMail { role: None, mailbox: "p".into(), origin: "p".into(), bytes };
            let result = parse(&raw, &ParseLimits::default());
            prop_assert!(!matches!(result, Err(Rejection::ParserFailed(_))), "{:?}", result.err());
        }
    }
}
