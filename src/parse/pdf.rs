//! PDF text extraction, bounded in size and time.
//!
//! pdf-extract can be slow or panic on hostile files, so it runs on its own thread under
//! `catch_unwind`, and we stop waiting after a deadline. A timed-out extraction keeps running
//! until it finishes on its own, but its result is dropped and the message goes on without it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

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
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("pdf-text".into())
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| {
                pdf_extract::extract_text_from_mem(&owned)
            }));
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
    match outcome {
        Ok(Ok(text)) => Ok(clean(text, limits.max_text_bytes)),
        Ok(Err(e)) => Err(classify(&e.to_string())),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(classify(&msg))
        }
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
