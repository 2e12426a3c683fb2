//! Compact binary values for the records there is one or more of per message (format 4):
//! Message-ID entries (`i/`), the ingest log and thread members (`q/`, `j/`: a message id),
//! and thread records (`t/`, sealed). They were JSON with ids in hex: at a million messages
//! these four key spaces were 290 of the store's 397 MB of records (docs/PERFORMANCE.md).
//! Subject entries (`s/`) are few, but one is read and written with every message whose
//! subject it is, up to 64 thread ids long: binary too (JSON parsing them was 2 % of a bulk
//! ingest's CPU at a million messages).
//!
//! A binary value starts with [`BINARY`] (0x01); a JSON value starts with `{` and an id in
//! text with a printable character, so values written by an earlier format still read: the
//! decoders take both, the encoders write binary, and a migration or `deskmail compact`
//! rewrites the old ones ([`compact_value`]).
//!
//! Ids: message ids are 32 lowercase hex digits and thread ids 16, kept as their bytes
//! (`0x80 | n`, then n bytes); any other id is kept as text (`n`, then n bytes of UTF-8).

use chrono::{DateTime, Utc};

use super::StoreError;
use super::records::{IdEntry, ThreadRecord};
use crate::model::{MessageId, ThreadId};

/// The first byte of a binary value.
pub(super) const BINARY: u8 = 0x01;
/// The first byte of a binary `t/` value of a thread named after its subject
/// ([`ThreadRecord::by_subject`]); the rest is laid out as after [`BINARY`].
const BINARY_BY_SUBJECT: u8 = 0x02;

fn bad(what: &str) -> StoreError {
    StoreError::Io {
        path: "store".into(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a damaged {what} record"),
        ),
    }
}

/// Lowercase hex of an even number of digits (at most 2 × 127) as its bytes.
fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    let lower = s
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (lower && s.len().is_multiple_of(2) && s.len() <= 254)
        .then(|| hex::decode(s).ok())
        .flatten()
}

/// An id: its bytes when it is hex, else its text (ids longer than 127 bytes are refused).
fn put_id(out: &mut Vec<u8>, id: &str) -> Option<()> {
    match hex_bytes(id) {
        Some(bytes) => {
            out.push(0x80 | bytes.len() as u8);
            out.extend_from_slice(&bytes);
        }
        None if id.len() < 0x80 => {
            out.push(id.len() as u8);
            out.extend_from_slice(id.as_bytes());
        }
        None => return None,
    }
    Some(())
}

/// The id at the start of `v` and what follows it.
fn take_id(v: &[u8]) -> Option<(String, &[u8])> {
    let (&tag, rest) = v.split_first()?;
    let n = usize::from(tag & 0x7f);
    let (bytes, rest) = (rest.get(..n)?, rest.get(n..)?);
    let id = match tag & 0x80 {
        0 => String::from_utf8(bytes.to_vec()).ok()?,
        _ => hex::encode(bytes),
    };
    Some((id, rest))
}

/// A message id as the value of a `q/` or `j/` record.
pub(super) fn message_id_value(id: &MessageId) -> Vec<u8> {
    let mut out = vec![BINARY];
    match put_id(&mut out, &id.0) {
        Some(()) => out,
        None => id.0.as_bytes().to_vec(),
    }
}

/// The message id of a `q/` or `j/` value (binary, or the id's text as earlier formats kept it).
pub(super) fn message_id_of(v: &[u8]) -> Result<MessageId, StoreError> {
    match v.first() {
        Some(&BINARY) => take_id(&v[1..])
            .filter(|(_, rest)| rest.is_empty())
            .map(|(id, _)| MessageId(id))
            .ok_or_else(|| bad("message id")),
        _ => Ok(MessageId(String::from_utf8_lossy(v).into_owned())),
    }
}

/// An `i/` value.
pub(super) fn id_entry_value(e: &IdEntry) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![BINARY];
    let fits = put_id(&mut out, &e.thread.0).and_then(|()| match &e.message {
        Some(m) => put_id(&mut out, &m.0),
        None => Some(()),
    });
    match fits {
        Some(()) => Ok(out),
        None => super::enc(e),
    }
}

pub(super) fn id_entry_of(v: &[u8]) -> Result<IdEntry, StoreError> {
    if v.first() != Some(&BINARY) {
        return super::dec(v);
    }
    let (thread, rest) = take_id(&v[1..]).ok_or_else(|| bad("Message-ID"))?;
    let message = match rest {
        [] => None,
        rest => match take_id(rest) {
            Some((m, [])) => Some(MessageId(m)),
            _ => return Err(bad("Message-ID")),
        },
    };
    Ok(IdEntry {
        thread: ThreadId(thread),
        message,
    })
}

fn put_date(out: &mut Vec<u8>, d: Option<DateTime<Utc>>) {
    let (secs, nanos) = d.map_or((i64::MIN, 0), |d| {
        (d.timestamp(), d.timestamp_subsec_nanos())
    });
    out.extend_from_slice(&secs.to_le_bytes());
    out.extend_from_slice(&nanos.to_le_bytes());
}

fn take_date(v: &[u8]) -> Option<(Option<DateTime<Utc>>, &[u8])> {
    let secs = i64::from_le_bytes(v.get(..8)?.try_into().ok()?);
    let nanos = u32::from_le_bytes(v.get(8..12)?.try_into().ok()?);
    let date = match secs {
        i64::MIN => None,
        s => Some(DateTime::from_timestamp(s, nanos)?),
    };
    Some((date, &v[12..]))
}

/// A `t/` value (before sealing): thread id, first and last date, count, then the subject;
/// the first byte says whether the thread is named after its subject.
pub(super) fn thread_value(t: &ThreadRecord) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(40 + t.subject.len());
    out.push(if t.by_subject {
        BINARY_BY_SUBJECT
    } else {
        BINARY
    });
    if put_id(&mut out, &t.thread_id.0).is_none() {
        return super::enc(t);
    }
    put_date(&mut out, t.first_date);
    put_date(&mut out, t.last_date);
    out.extend_from_slice(&t.count.to_le_bytes());
    out.extend_from_slice(t.subject.as_bytes());
    Ok(out)
}

pub(super) fn thread_of(v: &[u8]) -> Result<ThreadRecord, StoreError> {
    let by_subject = match v.first() {
        Some(&BINARY) => false,
        Some(&BINARY_BY_SUBJECT) => true,
        _ => return super::dec(v),
    };
    let parse = || {
        let (thread_id, rest) = take_id(&v[1..])?;
        let (first_date, rest) = take_date(rest)?;
        let (last_date, rest) = take_date(rest)?;
        let count = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
        let subject = String::from_utf8(rest[8..].to_vec()).ok()?;
        Some(ThreadRecord {
            thread_id: ThreadId(thread_id),
            subject,
            first_date,
            last_date,
            count,
            by_subject,
            messages: Vec::new(),
        })
    };
    parse().ok_or_else(|| bad("thread"))
}

/// An `s/` value: whether a reference-less reply joined the subject's thread (then its id),
/// then the threads of originals with the subject, each an id. `None` when an id does not fit
/// (the caller writes JSON).
pub(super) fn subject_value(originals: &[ThreadId], replied: Option<&ThreadId>) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(2 + 9 * (originals.len() + 1));
    out.push(BINARY);
    out.push(u8::from(replied.is_some()));
    for id in replied.into_iter().chain(originals) {
        put_id(&mut out, &id.0)?;
    }
    Some(out)
}

/// A subject entry's threads: of its originals, and the one reference-less replies joined.
pub(super) type SubjectThreads = (Vec<ThreadId>, Option<ThreadId>);

/// The originals and the replied thread of a binary `s/` value (`None`: not binary, read it
/// as JSON).
pub(super) fn subject_of(v: &[u8]) -> Option<Result<SubjectThreads, StoreError>> {
    if v.first() != Some(&BINARY) {
        return None;
    }
    let parse = || {
        let (&flag, mut rest) = v.get(1..)?.split_first()?;
        let mut replied = None;
        if flag == 1 {
            let (id, r) = take_id(rest)?;
            replied = Some(ThreadId(id));
            rest = r;
        } else if flag != 0 {
            return None;
        }
        let mut originals = Vec::with_capacity(rest.len() / 9);
        while !rest.is_empty() {
            let (id, r) = take_id(rest)?;
            originals.push(ThreadId(id));
            rest = r;
        }
        Some((originals, replied))
    };
    Some(parse().ok_or_else(|| bad("subject")))
}

/// A value of key `k` as format 4 keeps it, opened: `i/`, `q/`, `j/`, `t/` and `s/` values of an
/// earlier format re-encoded, anything else (and what is already binary) as it is. The
/// caller seals a `t/` value again.
pub(super) fn compact_value(space: u8, plain: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    if plain.first() == Some(&BINARY) {
        return Ok(None);
    }
    Ok(match space {
        super::S_IDS => Some(id_entry_value(&id_entry_of(plain)?)?),
        super::S_LOG | super::S_MEMBERS => Some(message_id_value(&message_id_of(plain)?)),
        super::S_THREADS => Some(thread_value(&thread_of(plain)?)?),
        super::S_SUBJECTS => super::threads::compact_subject(plain)?,
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_binary_and_earlier_json_still_reads() {
        let hex_thread = ThreadId("41d9354fd674d7fd".into());
        let hex_message = MessageId("04a9425a58aeaad88076f2c1dfb00182".into());
        for (thread, message) in [
            (hex_thread.clone(), Some(hex_message.clone())),
            (hex_thread.clone(), None),
            (ThreadId("Thread-Ä".into()), Some(MessageId("m1".into()))),
        ] {
            let e = IdEntry { thread, message };
            let v = id_entry_value(&e).unwrap();
            assert_eq!(v[0], BINARY);
            let back = id_entry_of(&v).unwrap();
            assert_eq!(
                (back.thread, back.message),
                (e.thread.clone(), e.message.clone())
            );
            let json = id_entry_of(&super::super::enc(&e).unwrap()).unwrap();
            assert_eq!((json.thread, json.message), (e.thread, e.message));
        }
        // 74 bytes of JSON for a hex pair, 27 binary.
        let pair = IdEntry {
            thread: hex_thread.clone(),
            message: Some(hex_message.clone()),
        };
        assert_eq!(id_entry_value(&pair).unwrap().len(), 27);

        for id in [hex_message.clone(), MessageId("not-hex".into())] {
            let v = message_id_value(&id);
            assert_eq!(message_id_of(&v).unwrap(), id);
            assert_eq!(message_id_of(id.0.as_bytes()).unwrap(), id, "as text");
        }
        assert_eq!(message_id_value(&hex_message).len(), 18);

        let date = |s: &str| Some(DateTime::parse_from_rfc3339(s).unwrap().to_utc());
        for (first_date, last_date, by_subject) in [
            (
                date("2002-08-21T10:11:12.123456789Z"),
                date("2002-09-01T00:00:00Z"),
                false,
            ),
            (None, None, true),
            (date("1969-12-31T23:59:59Z"), None, false),
            (date("2026-12-06T16:00:00Z"), None, true),
        ] {
            let t = ThreadRecord {
                thread_id: hex_thread.clone(),
                subject: "Invoice 7 — Zahlung überfällig".into(),
                first_date,
                last_date,
                count: 165,
                by_subject,
                messages: Vec::new(),
            };
            let back = thread_of(&thread_value(&t).unwrap()).unwrap();
            assert_eq!(
                (
                    back.thread_id,
                    back.subject,
                    back.first_date,
                    back.last_date,
                    back.count,
                    back.by_subject
                ),
                (
                    t.thread_id.clone(),
                    t.subject.clone(),
                    first_date,
                    last_date,
                    165,
                    by_subject
                )
            );
            let json = super::super::enc(&t).unwrap();
            let from_json = thread_of(&json).unwrap();
            assert_eq!(
                (from_json.last_date, from_json.by_subject),
                (last_date, by_subject)
            );
            let compacted = compact_value(super::super::S_THREADS, &json)
                .unwrap()
                .unwrap();
            assert!(compacted.len() < json.len());
            let back = thread_of(&compacted).unwrap();
            assert_eq!((back.first_date, back.by_subject), (first_date, by_subject));
        }
    }

    #[test]
    fn subject_entries_round_trip_and_earlier_json_compacts() {
        let ids: Vec<ThreadId> = (0..64u64)
            .map(|n| ThreadId(format!("{:016x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15))))
            .collect();
        let text = ThreadId("not-hex thread".into());
        for (originals, replied) in [
            (ids.clone(), None),
            (Vec::new(), Some(ids[3].clone())),
            (vec![text.clone(), ids[1].clone()], Some(text.clone())),
            (Vec::new(), None),
        ] {
            let v = subject_value(&originals, replied.as_ref()).unwrap();
            let back = subject_of(&v).unwrap().unwrap();
            assert_eq!(back, (originals.clone(), replied.clone()));
        }
        // 64 thread ids: 9 bytes each instead of JSON's 19.
        assert_eq!(subject_value(&ids, None).unwrap().len(), 2 + 64 * 9);
        assert!(subject_value(&[ThreadId("x".repeat(200))], None).is_none());

        let json = br#"{"originals":["00000000000000aa","00000000000000bb"],"replied":"00000000000000cc"}"#;
        assert!(
            subject_of(json).is_none(),
            "JSON is left to the JSON reader"
        );
        let compacted = compact_value(super::super::S_SUBJECTS, json)
            .unwrap()
            .unwrap();
        let (originals, replied) = subject_of(&compacted).unwrap().unwrap();
        assert_eq!(
            (originals, replied),
            (
                vec![
                    ThreadId("00000000000000aa".into()),
                    ThreadId("00000000000000bb".into())
                ],
                Some(ThreadId("00000000000000cc".into()))
            )
        );
        // The shape before threads merged: one thread and whether a reply made it.
        let oldest = br#"{"thread":"00000000000000dd","by_reply":true}"#;
        let compacted = compact_value(super::super::S_SUBJECTS, oldest)
            .unwrap()
            .unwrap();
        assert_eq!(
            subject_of(&compacted).unwrap().unwrap(),
            (Vec::new(), Some(ThreadId("00000000000000dd".into())))
        );
    }

    #[test]
    fn a_damaged_binary_record_is_an_error_not_a_wrong_value() {
        let e = IdEntry {
            thread: ThreadId("41d9354fd674d7fd".into()),
            message: Some(MessageId("04a9425a58aeaad88076f2c1dfb00182".into())),
        };
        let v = id_entry_value(&e).unwrap();
        for cut in 1..v.len() {
            if cut == 10 {
                continue; // the thread id alone is a valid entry without a message
            }
            assert!(id_entry_of(&v[..cut]).is_err(), "cut at {cut}");
        }
        assert!(message_id_of(&[BINARY, 0x90, 1, 2]).is_err());
        assert!(thread_of(&[BINARY, 0x88, 0, 0]).is_err());
        let subject = subject_value(&[ThreadId("41d9354fd674d7fd".into())], None).unwrap();
        assert!(subject_of(&subject[..subject.len() - 1]).unwrap().is_err());
        assert!(
            subject_of(&[BINARY, 2]).unwrap().is_err(),
            "an unknown flag"
        );
        assert!(subject_of(&[BINARY]).unwrap().is_err());
    }
}
