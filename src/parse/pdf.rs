//! PDF text and embedded files, bounded in size and time.
//!
//! pdf-extract (and lopdf under it) can be slow or panic on hostile files, so the document is
//! loaded once on its own thread under `catch_unwind`, and we stop waiting after a deadline. A
//! timed-out extraction keeps running until it finishes on its own, but its result is dropped
//! and the message goes on without it.
//!
//! Embedded files are what a PDF/A-3 hybrid e-invoice (ZUGFeRD, Factur-X) carries its XML in:
//! they are listed from the document catalog's `EmbeddedFiles` name tree and its `AF`
//! (associated files) array, and their streams are inflated with a size cap, so a compressed
//! bomb stops at [`MAX_EMBEDDED_BYTES`].

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

use pdf_extract::{Dictionary, Document, Object, ObjectId};

/// Largest embedded file read out of a PDF (after decompression).
pub const MAX_EMBEDDED_BYTES: usize = crate::einvoice::MAX_XML_BYTES;
/// Most embedded files read from one PDF.
pub const MAX_EMBEDDED_FILES: usize = 16;
/// Deepest name tree walked (a loop of /Kids ends here).
const MAX_NAME_TREE_DEPTH: usize = 8;

/// A file embedded in a PDF: its name and its bytes, or why they could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedFile {
    pub name: String,
    pub bytes: Result<Vec<u8>, String>,
}

/// What a PDF holds: its text (or why none) with its layout, and its embedded files.
#[derive(Debug, Clone)]
pub struct PdfContent {
    pub text: Result<(String, crate::model::TextLayout), PdfError>,
    pub embedded: Vec<EmbeddedFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    #[error("PDF is {size} bytes, over the {limit}-byte limit for text extraction")]
    TooLarge { size: usize, limit: usize },
    #[error("PDF is encrypted and needs a password")]
    Encrypted,
    #[error("PDF is corrupt: {0}")]
    Corrupt(String),
    #[error("PDF text extraction took longer than {0:?}")]
    Timeout(Duration),
    #[error("PDF text extraction crashed: {0}")]
    Crashed(String),
}

#[derive(Debug, Clone, Copy)]
pub struct PdfLimits {
    pub max_bytes: usize,
    pub max_text_bytes: usize,
    pub timeout: Duration,
}

impl Default for PdfLimits {
    fn default() -> Self {
        PdfLimits {
            max_bytes: 20 * 1024 * 1024,
            max_text_bytes: 256 * 1024,
            timeout: Duration::from_secs(5),
        }
    }
}

/// Extract the text of a PDF, or say precisely why not.
pub fn extract_text(bytes: &[u8], limits: &PdfLimits) -> Result<String, PdfError> {
    extract(bytes, limits)?.text.map(|(text, _)| text)
}

/// Load a PDF once and read its text and its embedded files. An error here means the document
/// could not be loaded at all; a document that loads but whose text fails still yields its
/// embedded files (an XML invoice is worth more than the visual text).
pub fn extract(bytes: &[u8], limits: &PdfLimits) -> Result<PdfContent, PdfError> {
    if bytes.len() > limits.max_bytes {
        return Err(PdfError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    if !bytes.starts_with(b"%PDF-")
        && memchr::memmem::find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_none()
    {
        return Err(PdfError::Corrupt("no %PDF- header".into()));
    }
    let owned = bytes.to_vec();
    let max_text = limits.max_text_bytes;
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("pdf-text".into())
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| read_document(&owned, max_text)));
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return Err(PdfError::Crashed(format!(
            "could not start extraction thread: {e}"
        )));
    }
    let outcome = match rx.recv_timeout(limits.timeout) {
        Ok(outcome) => outcome,
        Err(mpsc::RecvTimeoutError::Timeout) => return Err(PdfError::Timeout(limits.timeout)),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            return Err(PdfError::Crashed(
                "extraction thread ended without a result".into(),
            ));
        }
    };
    outcome.unwrap_or_else(|panic| Err(classify(&panic_message(panic.as_ref()))))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// On the extraction thread: load, list the embedded files, then render the text.
fn read_document(bytes: &[u8], max_text: usize) -> Result<PdfContent, PdfError> {
    let doc = load(bytes)?;
    let embedded = embedded_files(&doc);
    let text = render_text(&doc, max_text);
    Ok(PdfContent { text, embedded })
}

/// Load a document and decrypt it with the empty password, as viewers do. Unbounded in time:
/// callers outside [`extract`] (benchmarks) run it on trusted files only.
pub fn load(bytes: &[u8]) -> Result<Document, PdfError> {
    let mut doc = Document::load_mem(bytes).map_err(|e| classify(&e.to_string()))?;
    if doc.is_encrypted() {
        doc.decrypt("").map_err(|e| classify(&e.to_string()))?;
    }
    Ok(doc)
}

/// The document's text, blank-line runs folded and cut to `max_text` bytes, and its layout
/// (words with positions), from one rendering pass.
pub fn render_text(
    doc: &Document,
    max_text: usize,
) -> Result<(String, crate::model::TextLayout), PdfError> {
    let text = catch_unwind(AssertUnwindSafe(|| {
        let mut text = String::new();
        let mut layout = super::layout::LayoutCollector::default();
        let result = {
            let mut plain = pdf_extract::PlainTextOutput::new(&mut text);
            pdf_extract::output_doc(doc, &mut super::layout::Tee(&mut plain, &mut layout))
        };
        result.map(|()| (text, layout.finish()))
    }));
    match text {
        Ok(Ok((text, layout))) => Ok((clean(text, max_text), layout)),
        Ok(Err(e)) => Err(classify(&e.to_string())),
        Err(panic) => Err(classify(&panic_message(panic.as_ref()))),
    }
}

/// The document's plain text alone, without the layout: what rendering cost before layouts were
/// collected (`deskmail bench documents` compares the two).
pub fn render_plain_text(doc: &Document) -> Result<String, PdfError> {
    let mut text = String::new();
    let result = {
        let mut plain = pdf_extract::PlainTextOutput::new(&mut text);
        catch_unwind(AssertUnwindSafe(|| {
            pdf_extract::output_doc(doc, &mut plain)
        }))
    };
    match result {
        Ok(Ok(())) => Ok(text),
        Ok(Err(e)) => Err(classify(&e.to_string())),
        Err(panic) => Err(classify(&panic_message(panic.as_ref()))),
    }
}

/// The file specifications of the catalog's `EmbeddedFiles` name tree and `AF` array, each once.
pub fn embedded_files(doc: &Document) -> Vec<EmbeddedFile> {
    let Ok(catalog) = doc.catalog() else {
        return Vec::new();
    };
    let mut specs: Vec<(Option<String>, &Object)> = Vec::new();
    if let Some(tree) = get(doc, catalog, b"Names").and_then(|n| as_dict(doc, n))
        && let Some(files) = get(doc, tree, b"EmbeddedFiles")
    {
        walk_name_tree(doc, files, 0, &mut specs);
    }
    if let Some(Object::Array(af)) = get(doc, catalog, b"AF") {
        specs.extend(af.iter().map(|o| (None, o)));
    }
    let mut seen: Vec<ObjectId> = Vec::new();
    let mut out = Vec::new();
    for (tree_name, spec) in specs {
        if let Object::Reference(id) = spec {
            if seen.contains(id) {
                continue;
            }
            seen.push(*id);
        }
        let Some(dict) = as_dict(doc, spec) else {
            continue;
        };
        let name = [b"UF".as_slice(), b"F"]
            .iter()
            .find_map(|k| get(doc, dict, k).and_then(pdf_string))
            .or(tree_name)
            .unwrap_or_else(|| "(unnamed)".into());
        if out.iter().any(|f: &EmbeddedFile| f.name == name) {
            continue;
        }
        let bytes = get(doc, dict, b"EF")
            .and_then(|ef| as_dict(doc, ef))
            .and_then(|ef| get(doc, ef, b"UF").or_else(|| get(doc, ef, b"F")))
            .ok_or_else(|| "the file specification has no embedded stream".to_string())
            .and_then(|stream| stream_bytes(doc, stream));
        out.push(EmbeddedFile { name, bytes });
        if out.len() == MAX_EMBEDDED_FILES {
            break;
        }
    }
    out
}

fn walk_name_tree<'d>(
    doc: &'d Document,
    node: &'d Object,
    depth: usize,
    out: &mut Vec<(Option<String>, &'d Object)>,
) {
    if depth > MAX_NAME_TREE_DEPTH || out.len() > MAX_EMBEDDED_FILES {
        return;
    }
    let Some(dict) = as_dict(doc, node) else {
        return;
    };
    if let Some(Object::Array(names)) = get(doc, dict, b"Names") {
        for pair in names.chunks(2) {
            if let [key, spec] = pair {
                out.push((pdf_string(key), spec));
            }
        }
    }
    if let Some(Object::Array(kids)) = get(doc, dict, b"Kids") {
        for kid in kids {
            walk_name_tree(doc, kid, depth + 1, out);
        }
    }
}

/// A dictionary entry, references followed.
fn get<'d>(doc: &'d Document, dict: &'d Dictionary, key: &[u8]) -> Option<&'d Object> {
    let value = dict.get(key).ok()?;
    doc.dereference(value).ok().map(|(_, o)| o)
}

fn as_dict<'d>(doc: &'d Document, o: &'d Object) -> Option<&'d Dictionary> {
    match doc.dereference(o).ok()?.1 {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

/// A PDF text string: UTF-16BE with a byte-order mark, else PDFDocEncoding (Latin-1 for the
/// characters file names use).
fn pdf_string(o: &Object) -> Option<String> {
    let Object::String(bytes, _) = o else {
        return None;
    };
    let s = if let Some(utf16) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units = utf16
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]));
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    } else {
        bytes.iter().map(|&b| char::from(b)).collect::<String>()
    };
    Some(s.trim_matches(char::from(0)).to_string())
}

/// An embedded file's bytes: unfiltered, or FlateDecode inflated up to the cap.
fn stream_bytes(doc: &Document, o: &Object) -> Result<Vec<u8>, String> {
    let Ok((_, Object::Stream(stream))) = doc.dereference(o) else {
        return Err("the embedded file is not a stream".into());
    };
    let filters: Vec<Vec<u8>> = match stream.dict.get(b"Filter") {
        Err(_) => Vec::new(),
        Ok(Object::Name(n)) => vec![n.clone()],
        Ok(Object::Array(a)) => a
            .iter()
            .filter_map(|f| match f {
                Object::Name(n) => Some(n.clone()),
                _ => None,
            })
            .collect(),
        Ok(_) => return Err("the embedded file has an unreadable /Filter".into()),
    };
    let too_large = || format!("the embedded file is over {MAX_EMBEDDED_BYTES} bytes");
    match filters.as_slice() {
        [] if stream.content.len() > MAX_EMBEDDED_BYTES => Err(too_large()),
        [] => Ok(stream.content.clone()),
        [f] if f == b"FlateDecode" => {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(stream.content.as_slice())
                .take(MAX_EMBEDDED_BYTES as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| format!("the embedded file does not inflate: {e}"))?;
            if out.len() > MAX_EMBEDDED_BYTES {
                return Err(too_large());
            }
            Ok(out)
        }
        other => Err(format!(
            "the embedded file uses filters deskmail does not read: {}",
            other
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn classify(msg: &str) -> PdfError {
    let lower = msg.to_ascii_lowercase();
    if lower.contains("encrypt") || lower.contains("password") || lower.contains("decrypt") {
        PdfError::Encrypted
    } else {
        PdfError::Corrupt(msg.chars().take(200).collect())
    }
}

/// Fold runs of blank lines and cap the size (on a char boundary).
fn clean(text: String, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        if out.len() + line.len() + 1 > max {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_corrupt_not_a_panic() {
        let err =
            extract_text(b"%PDF-1.4\nthis is not a pdf body", &PdfLimits::default()).unwrap_err();
        assert!(matches!(err, PdfError::Corrupt(_)), "{err:?}");
        let err = extract_text(b"hello", &PdfLimits::default()).unwrap_err();
        assert_eq!(err, PdfError::Corrupt("no %PDF- header".into()));
    }

    #[test]
    fn size_limit_is_enforced_before_parsing() {
        let limits = PdfLimits {
            max_bytes: 10,
            ..PdfLimits::default()
        };
        let err = extract_text(b"%PDF-1.4 0123456789", &limits).unwrap_err();
        assert_eq!(
            err,
            PdfError::TooLarge {
                size: 19,
                limit: 10
            }
        );
    }
}
