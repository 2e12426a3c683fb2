//! bytes → [`Message`]: headers, addresses, dates, body text, attachments with extracted text,
//! and the threading keys. Lenient like mail-parser (a broken part becomes a warning), but input
//! that is not mail at all is rejected with a precise reason. Never panics on any input.

pub mod html;
pub mod pdf;

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, Utc};
use mail_parser::{Addr, HeaderValue, MessageParser, MessagePart, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

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
        Err(_) => Err(Rejection::ParserFailed("panic inside the MIME parser".into())),
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
            Err(Rejection::NotMail("binary data (NUL bytes) where header fields should be".into()))
        } else {
            Err(Rejection::NotMail("the first line is not a header field (\"Name: value\")".into()))
        }
    }
}

fn parse_unchecked(raw: &RawMail, limits: &ParseLimits) -> Result<Message, Rejection> {
    let bytes = raw.bytes.as_slice();
    let parsed = MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| Rejection::NotMail("no header fields could be parsed".into()))?;
    if parsed.headers().is_empty() {
        return Err(Rejection::NotMail("no header fields could be parsed".into()));
    }

    let mut warnings = Vec::new();
    let subject = parsed.subject().unwrap_or_default().trim().to_string();
    let (normalized_subject, subject_is_reply) = normalize_subject(&subject);

    let headers: Vec<(String, String)> = parsed
        .headers_raw()
        .map(|(name, value)| (name.to_string(), unfold(value)))
        .collect();

    let date = parsed.date().and_then(|d| DateTime::<Utc>::from_timestamp(d.to_timestamp(), 0));
    if date.is_none() && headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("date")) {
        warnings.push("Date header present but not parseable".to_string());
    }

    let (body_text, body_was_html) = body_text(&parsed, bytes, &mut warnings);
    let attachments = attachments(&parsed, limits, &mut warnings);

    if parsed.parts.iter().any(|p| p.is_encoding_problem) {
        warnings.push("a MIME part has a transfer-encoding problem (decoded leniently)".into());
    }

    Ok(Message {
        id: MessageId::of_bytes(bytes),
        mailbox: raw.mailbox.clone(),
        origin: raw.origin.clone(),
        size: bytes.len() as u64,
        message_id: parsed.message_id().map(clean_id).filter(|s| !s.is_empty()),
        in_reply_to: id_list(parsed.in_reply_to()),
        references: id_list(parsed.references()),
        subject,
        normalized_subject,
        subject_is_reply,
        from: parsed.from().and_then(|a| a.first()).map(address),
        to: parsed.to().map(|a| a.iter().map(address).collect()).unwrap_or_default(),
        cc: parsed.cc().map(|a| a.iter().map(address).collect()).unwrap_or_default(),
        date,
        headers,
        body_text,
        body_was_html,
        attachments,
        warnings,
    })
}

fn address(a: &Addr<'_>) -> Address {
    Address {
        name: a.name().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
        email: a.address().map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()),
    }
}

fn clean_id(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_string()
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
        "re", "aw", "wg", "fw", "fwd", "tr", "doorst", "antw", "sv", "vs", "rv", "enc", "réf", "ref",
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
        if rest.starts_with('[') {
            if let Some(close) = rest.find(']') {
                if rest[1..close].chars().all(|c| c.is_ascii_digit()) {
                    rest = &rest[close + 1..];
                }
            }
        }
        let trimmed = rest.trim_start();
        if let Some(after) = trimmed.strip_prefix(':') {
            s = after.trim_start();
            had_prefix = true;
        } else {
            break;
        }
    }
    let normalized = s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    (normalized, had_prefix)
}

fn body_text(parsed: &mail_parser::Message<'_>, raw: &[u8], warnings: &mut Vec<String>) -> (String, bool) {
    let mut out = String::new();
    let mut was_html = false;
    for &idx in &parsed.text_body {
        let Some(part) = parsed.parts.get(idx as usize) else { continue };
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
        if let Some(PartType::Html(h)) = parsed.html_body.first().and_then(|&i| parsed.parts.get(i as usize)).map(|p| &p.body) {
            was_html = true;
            out = html::html_to_text(h);
        }
    }
    (out, was_html)
}

/// A text part with 8-bit bytes and no declared charset decodes as lossy UTF-8; real-world senders
/// of such mail almost always meant Windows-1252, so decode the raw bytes that way instead.
fn redecode_if_undeclared(part: &MessagePart<'_>, text: &str, raw: &[u8], warnings: &mut Vec<String>) -> String {
    if !text.contains('\u{fffd}') {
        return text.to_string();
    }
    let declared = part.content_type().and_then(|ct| ct.attribute("charset")).is_some();
    let cte = part.content_transfer_encoding().unwrap_or("7bit").to_ascii_lowercase();
    if declared {
        warnings.push("text part has bytes invalid in its declared charset".into());
        return text.to_string();
    }
    let (start, end) = (part.offset_body as usize, part.offset_end as usize);
    if (cte == "8bit" || cte == "7bit" || cte == "binary") && start <= end && end <= raw.len() {
        if let Some(decode) = mail_parser::decoders::charsets::map::charset_decoder(b"windows-1252") {
            warnings.push("8-bit text without a declared charset, decoded as windows-1252".into());
            return decode(&raw[start..end]).trim_end().to_string();
        }
    }
    warnings.push("8-bit text without a declared charset; invalid bytes replaced".into());
    text.to_string()
}

fn attachments(parsed: &mail_parser::Message<'_>, limits: &ParseLimits, warnings: &mut Vec<String>) -> Vec<Attachment> {
    let mut out = Vec::new();
    for part in parsed.attachments() {
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_ascii_lowercase();
        let contents = part.contents();
        let mut att = Attachment {
            name: part.attachment_name().map(|n| n.trim().to_string()),
            content_type,
            size: contents.len() as u64,
            sha256: hex::encode(Sha256::digest(contents)),
            text: None,
            text_error: None,
        };
        if out.len() < limits.max_text_attachments {
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
    out
}

fn extract_attachment_text(part: &MessagePart<'_>, att: &mut Attachment, limits: &ParseLimits) {
    let name = att.name.as_deref().unwrap_or("").to_ascii_lowercase();
    let is_pdf = att.content_type == "application/pdf" || name.ends_with(".pdf");
    if is_pdf {
        match pdf::extract_text(part.contents(), &limits.pdf) {
            Ok(text) => att.text = Some(text),
            Err(e) => att.text_error = Some(e.to_string()),
        }
        return;
    }
    let texty = att.content_type.starts_with("text/") || name.ends_with(".csv") || name.ends_with(".txt");
    if texty {
        let text = match &part.body {
            PartType::Text(t) => t.to_string(),
            PartType::Html(h) => html::html_to_text(h),
            _ => String::from_utf8_lossy(part.contents()).into_owned(),
        };
        att.text = Some(truncate(text, limits.max_attachment_text));
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
        RawMail { mailbox: "test".into(), origin: "mem".into(), bytes: bytes.to_vec() }
    }

    #[test]
    fn subject_prefixes_in_four_languages_are_stripped() {
        assert_eq!(normalize_subject("RE: AW: Invoice 4411"), ("invoice 4411".into(), true));
        assert_eq!(normalize_subject("TR : Facture  F-12"), ("facture f-12".into(), true));
        assert_eq!(normalize_subject("Doorst: Re[2]: Factuur"), ("factuur".into(), true));
        assert_eq!(normalize_subject("Invoice 4411"), ("invoice 4411".into(), false));
        assert_eq!(normalize_subject("Reminder: pay"), ("reminder: pay".into(), false));
        assert_eq!(normalize_subject(""), (String::new(), false));
    }

    #[test]
    fn empty_and_junk_are_rejected_precisely() {
        assert_eq!(parse(&raw(b""), &ParseLimits::default()).unwrap_err(), Rejection::Empty);
        assert_eq!(parse(&raw(b" \r\n"), &ParseLimits::default()).unwrap_err(), Rejection::Empty);
        let err = parse(&raw(b"\x00\x01\x02binary\x00"), &ParseLimits::default()).unwrap_err();
        assert!(matches!(err, Rejection::NotMail(ref m) if m.contains("NUL")), "{err}");
        let err = parse(&raw(b"just some text\nwith lines\n"), &ParseLimits::default()).unwrap_err();
        assert!(matches!(err, Rejection::NotMail(_)), "{err}");
    }

    #[test]
    fn size_cap_rejects_with_sizes() {
        let limits = ParseLimits { max_message_bytes: 10, ..ParseLimits::default() };
        let err = parse(&raw(b"Subject: hello there\n\nbody"), &limits).unwrap_err();
        assert_eq!(err, Rejection::TooLarge { size: 26, limit: 10 });
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
