//! File intake: single .eml files, maildir folders (cur/ new/), mbox files, and directory trees
//! of any of them. Files are discovered first (cheap), then read one at a time so memory stays
//! bounded by one file.

use std::fs;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};

use crate::model::{MailboxRole, RawMail};

/// Files that sit beside mail in real folders but are never mail themselves.
const NOT_MAIL_EXTENSIONS: &[&str] = &[
    "json", "md", "toml", "pdf", "py", "sh", "rs", "failed", "zip", "gz",
];

#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct InputError {
    pub path: String,
    pub source: io::Error,
}

/// How deep directories (symlinked ones included) are followed.
const MAX_DEPTH: usize = 32;

/// What discovery found, and what it passed over with the reason (a broken link, a loop).
#[derive(Debug, Default)]
pub struct Discovered {
    pub files: Vec<PathBuf>,
    pub skipped: Vec<(PathBuf, String)>,
}

/// Expand the command-line paths into the files to read, in a stable order. A path named
/// explicitly is always read; inside directories hidden files, maildir `tmp/` and obvious
/// non-mail files (by extension) are skipped. Symbolic links are followed (a maildir whose
/// `cur/` holds links to messages is common with archive tools); a directory reached twice (a
/// link loop) or deeper than 32 levels, and a dangling link, are skipped and logged.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let found = discover_all(paths)?;
    for (path, why) in &found.skipped {
        tracing::warn!(path = %path.display(), reason = %why, "Skipped");
    }
    Ok(found.files)
}

/// [`discover`], returning what was skipped instead of logging it.
pub fn discover_all(paths: &[PathBuf]) -> Result<Discovered, InputError> {
    let mut found = Discovered::default();
    for p in paths {
        let meta = fs::metadata(p).map_err(|source| InputError {
            path: p.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            let mut seen = std::collections::HashSet::new();
            walk(p, 0, &mut seen, &mut found)?;
        } else {
            found.files.push(p.clone());
        }
    }
    Ok(found)
}

fn walk(
    dir: &Path,
    depth: usize,
    seen: &mut std::collections::HashSet<PathBuf>,
    found: &mut Discovered,
) -> Result<(), InputError> {
    let real = fs::canonicalize(dir).map_err(|source| InputError {
        path: dir.display().to_string(),
        source,
    })?;
    if !seen.insert(real) {
        found.skipped.push((
            dir.to_path_buf(),
            "a directory already read (a link loop)".into(),
        ));
        return Ok(());
    }
    if depth > MAX_DEPTH {
        found.skipped.push((
            dir.to_path_buf(),
            format!("deeper than {MAX_DEPTH} directories"),
        ));
        return Ok(());
    }
    // Each entry's type as the directory gives it (no call per file; a maildir of 6,000
    // messages cost 6,000 `stat`s, about 20 ms of the 100 before its first message).
    let mut entries: Vec<(PathBuf, Option<fs::FileType>)> = fs::read_dir(dir)
        .map_err(|source| InputError {
            path: dir.display().to_string(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| (e.path(), e.file_type().ok())))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, listed) in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        // Through symbolic links: what the link points at decides.
        let ft = match listed
            .filter(|t| !t.is_symlink())
            .map_or_else(|| fs::metadata(&path).map(|m| m.file_type()), Ok)
        {
            Ok(t) => t,
            Err(e) if fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink()) => {
                found
                    .skipped
                    .push((path.clone(), format!("a link to nothing readable ({e})")));
                continue;
            }
            Err(source) => {
                return Err(InputError {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        if ft.is_dir() {
            // Maildir's tmp/ holds messages still being written.
            if name == "tmp" && dir.join("cur").is_dir() {
                continue;
            }
            walk(&path, depth + 1, seen, found)?;
        } else if ft.is_file() {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            if !NOT_MAIL_EXTENSIONS.contains(&ext.as_str()) {
                found.files.push(path);
            }
        }
    }
    Ok(())
}

/// Read one file into raw messages: an mbox gives several, anything else one.
pub fn read_file(
    path: &Path,
    mailbox: &str,
    role: Option<MailboxRole>,
) -> Result<Vec<RawMail>, InputError> {
    read_file_mails(path, mailbox, role)?.collect()
}

/// The raw messages of one file as they are read: an mbox past [`READ_WHOLE_BYTES`] is read
/// message by message (memory: one message, not the file; a 50 MB mbox read whole and split
/// took twice its size, issue 14), a smaller one from one buffer; anything else is one message.
pub fn read_file_mails(
    path: &Path,
    mailbox: &str,
    role: Option<MailboxRole>,
) -> Result<Box<dyn Iterator<Item = Result<RawMail, InputError>> + Send>, InputError> {
    let failed = |source| InputError {
        path: path.display().to_string(),
        source,
    };
    let mut file = fs::File::open(path).map_err(failed)?;
    let origin = path.display().to_string();
    let mailbox = mailbox.to_string();
    let len = file.metadata().map_err(failed)?.len();
    if len <= READ_WHOLE_BYTES {
        let mut bytes = Vec::with_capacity(len as usize + 1);
        file.read_to_end(&mut bytes).map_err(failed)?;
        if is_mbox(&bytes) {
            return Ok(mbox_mails(io::Cursor::new(bytes), origin, mailbox, role));
        }
        return Ok(one_mail(bytes, origin, mailbox, role));
    }
    let mut reader = io::BufReader::with_capacity(1 << 18, file);
    if is_mbox(reader.fill_buf().map_err(failed)?) {
        return Ok(mbox_mails(reader, origin, mailbox, role));
    }
    let mut bytes = Vec::with_capacity(len as usize + 1);
    reader.read_to_end(&mut bytes).map_err(failed)?;
    Ok(one_mail(bytes, origin, mailbox, role))
}

type Mails = Box<dyn Iterator<Item = Result<RawMail, InputError>> + Send>;

/// A file that is one message.
fn one_mail(bytes: Vec<u8>, origin: String, mailbox: String, role: Option<MailboxRole>) -> Mails {
    Box::new(std::iter::once(Ok(RawMail {
        role,
        mailbox,
        origin,
        bytes,
    })))
}

/// Files up to this size are read whole into one buffer of their size: nearly every message
/// of a maildir, with one allocation instead of a 256 KiB reader and a copy out of it. Larger
/// files (an mbox) are read through a reader, message by message.
const READ_WHOLE_BYTES: u64 = 4 << 20;

/// The messages of an mbox, numbered from 1 in their origin (`path#3`).
fn mbox_mails<R: BufRead + Send + 'static>(
    reader: R,
    origin: String,
    mailbox: String,
    role: Option<MailboxRole>,
) -> Mails {
    let path = origin.clone();
    Box::new(
        MboxMessages::new(reader)
            .enumerate()
            .map(move |(i, m)| match m {
                Ok(bytes) => Ok(RawMail {
                    role,
                    mailbox: mailbox.clone(),
                    origin: format!("{origin}#{}", i + 1),
                    bytes,
                }),
                Err(source) => Err(InputError {
                    path: path.clone(),
                    source,
                }),
            }),
    )
}

/// An mbox starts with a `From ` separator line followed by a header line on the next line.
fn is_mbox(bytes: &[u8]) -> bool {
    if !bytes.starts_with(b"From ") {
        return false;
    }
    let Some(nl) = memchr::memchr(b'\n', bytes) else {
        return false;
    };
    let next = &bytes[nl + 1..];
    let end = memchr::memchr(b'\n', next).unwrap_or(next.len());
    let line = &next[..end];
    matches!(memchr::memchr(b':', line), Some(c) if c > 0 && line[..c].iter().all(|b| b.is_ascii_graphic()))
}

/// Split an mbox (mboxrd/mboxo) into messages, separator lines removed and `>From ` unquoted.
pub fn split_mbox(bytes: &[u8]) -> Vec<Vec<u8>> {
    MboxMessages::new(bytes)
        .collect::<io::Result<_>>()
        .expect("reading from memory")
}

/// The messages of an mbox (mboxrd/mboxo), read line by line: a `From ` line after a blank line
/// (or first in the file) separates messages and is dropped; a body line `>From ` (with any
/// number of `>`) loses one `>`; the blank lines before a separator are not the message's.
pub struct MboxMessages<R> {
    reader: R,
    line: Vec<u8>,
    /// The message being read; None before the first separator.
    current: Option<Vec<u8>>,
    prev_blank: bool,
    done: bool,
}

impl<R: io::BufRead> MboxMessages<R> {
    pub fn new(reader: R) -> Self {
        MboxMessages {
            reader,
            line: Vec::new(),
            current: None,
            prev_blank: false,
            done: false,
        }
    }

    /// A message without its trailing blank lines; None when nothing is left.
    fn finish(mut msg: Vec<u8>) -> Option<Vec<u8>> {
        while msg.ends_with(b"\n\n") || msg.ends_with(b"\r\n\r\n") {
            msg.pop();
            if msg.ends_with(b"\r") {
                msg.pop();
            }
        }
        (!msg.is_empty()).then_some(msg)
    }
}

impl<R: io::BufRead> Iterator for MboxMessages<R> {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<io::Result<Vec<u8>>> {
        while !self.done {
            self.line.clear();
            match self.reader.read_until(b'\n', &mut self.line) {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(0) => {
                    self.done = true;
                    return self.current.take().and_then(Self::finish).map(Ok);
                }
                Ok(_) => {}
            }
            let line = &self.line[..];
            if line.starts_with(b"From ") && (self.prev_blank || self.current.is_none()) {
                self.prev_blank = false;
                if let Some(done) = self.current.replace(Vec::new()).and_then(Self::finish) {
                    return Some(Ok(done));
                }
                continue;
            }
            self.prev_blank = line == b"\n" || line == b"\r\n";
            let Some(msg) = self.current.as_mut() else {
                continue;
            };
            let gt = line.iter().take_while(|&&b| b == b'>').count();
            if gt > 0 && line[gt..].starts_with(b"From ") {
                msg.extend_from_slice(&line[1..]);
            } else {
                msg.extend_from_slice(line);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_splits_on_separator_lines_and_unquotes_from() {
        let mbox = b"From a@x Mon Jan  1 00:00:00 2026\nSubject: one\n\nhello\n>From the start\n\nFrom b@x Mon Jan  1 00:00:00 2026\nSubject: two\n\nbye\n";
        let msgs = split_mbox(mbox);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0], b"Subject: one\n\nhello\nFrom the start\n".to_vec());
        assert_eq!(msgs[1], b"Subject: two\n\nbye\n".to_vec());
    }

    #[test]
    fn crlf_mboxes_split_the_same_read_whole_or_from_a_file() {
        let mbox = b"From a@x Mon\r\nSubject: one\r\n\r\nhello\r\n\r\n\r\nFrom b@x Mon\r\nFrom c@x Mon\r\nSubject: three\r\n\r\nx";
        let msgs = split_mbox(mbox);
        assert_eq!(
            msgs,
            vec![
                b"Subject: one\r\n\r\nhello\r\n".to_vec(),
                b"From c@x Mon\r\nSubject: three\r\n\r\nx".to_vec()
            ]
        );
        // Read from a file message by message: the same messages, numbered in the origin.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("box.mbox");
        fs::write(&path, mbox).unwrap();
        let mails = read_file(&path, "files", None).unwrap();
        let bytes: Vec<_> = mails.iter().map(|m| m.bytes.clone()).collect();
        assert_eq!(bytes, msgs);
        assert!(
            mails[1].origin.ends_with("box.mbox#2"),
            "{}",
            mails[1].origin
        );
    }

    #[test]
    fn files_past_the_whole_read_bound_give_the_same_messages_through_a_buffer() {
        // Over READ_WHOLE_BYTES the file is read through a reader, not in one buffer: an mbox
        // still splits the same, a single message comes back byte for byte.
        let big_body = "0123456789abcdef\n".repeat((READ_WHOLE_BYTES as usize / 17) + 4096);
        let mbox = format!(
            "From a@x Mon\nSubject: big\n\n{big_body}>From quoted\n\nFrom b@x Mon\nSubject: two\n\nbye\n"
        );
        assert!(mbox.len() as u64 > READ_WHOLE_BYTES);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.mbox");
        fs::write(&path, &mbox).unwrap();
        let mails = read_file(&path, "files", None).unwrap();
        assert_eq!(
            mails.iter().map(|m| m.bytes.clone()).collect::<Vec<_>>(),
            split_mbox(mbox.as_bytes())
        );
        assert_eq!(mails.len(), 2);
        assert!(mails[0].bytes.ends_with(b"From quoted\n"));

        let single = format!("Subject: big\n\n{big_body}");
        let path = dir.path().join("big.eml");
        fs::write(&path, &single).unwrap();
        let mails = read_file(&path, "files", None).unwrap();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].bytes, single.as_bytes());
    }

    #[test]
    fn a_from_line_inside_a_paragraph_is_not_a_separator() {
        let mbox = b"From a@x Mon Jan  1 00:00:00 2026\nSubject: one\n\nline\nFrom here on\n";
        assert_eq!(split_mbox(mbox).len(), 1);
    }

    #[test]
    fn discovery_walks_trees_skips_hidden_tmp_and_non_mail() {
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("box");
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(md.join(sub)).unwrap();
        }
        fs::write(md.join("cur/1:2,S"), "Subject: a\n\nx").unwrap();
        fs::write(md.join("new/2"), "Subject: b\n\nx").unwrap();
        fs::write(md.join("tmp/3"), "Subject: partial").unwrap();
        fs::write(dir.path().join("x.expected.json"), "{}").unwrap();
        fs::write(dir.path().join(".hidden"), "x").unwrap();
        fs::write(dir.path().join("a.eml"), "Subject: c\n\nx").unwrap();
        let found = discover(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(names, vec!["a.eml", "box/cur/1:2,S", "box/new/2"]);
    }

    #[test]
    fn a_missing_path_is_a_clear_error() {
        let err = discover(&[PathBuf::from("/nonexistent/deskmail")]).unwrap_err();
        assert!(
            err.to_string().starts_with("/nonexistent/deskmail: "),
            "{err}"
        );
    }

    /// Reliability finding: a maildir whose cur/ held symlinks was silently empty.
    #[test]
    fn symlinked_messages_are_read_and_loops_and_dangling_links_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("archive");
        fs::create_dir_all(&store).unwrap();
        fs::write(store.join("m1"), "Subject: one\n\nbody\n").unwrap();
        fs::write(store.join("m2"), "Subject: two\n\nbody\n").unwrap();
        let cur = dir.path().join("Maildir/cur");
        fs::create_dir_all(&cur).unwrap();
        std::os::unix::fs::symlink(store.join("m1"), cur.join("1:2,S")).unwrap();
        std::os::unix::fs::symlink(store.join("m2"), cur.join("2:2,S")).unwrap();
        std::os::unix::fs::symlink(store.join("gone"), cur.join("3:2,S")).unwrap();
        // A link back up the tree.
        std::os::unix::fs::symlink(dir.path().join("Maildir"), cur.join("loop")).unwrap();
        let found = discover_all(&[dir.path().join("Maildir")]).unwrap();
        assert_eq!(found.files, vec![cur.join("1:2,S"), cur.join("2:2,S")]);
        let reasons: Vec<String> = found
            .skipped
            .iter()
            .map(|(p, why)| format!("{}: {why}", p.file_name().unwrap().to_string_lossy()))
            .collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(
            reasons[0].starts_with("3:2,S: a link to nothing readable"),
            "{reasons:?}"
        );
        assert!(
            reasons[1].starts_with("loop: a directory already read"),
            "{reasons:?}"
        );
    }
}
