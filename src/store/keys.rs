//! Record keys as the engine keeps them (format 6): the ids that start the keys of the
//! per-message and per-thread key spaces in bytes, not in hex. Everything above the engine
//! ([`super::kv::Kv`]) sees the keys as they always were (`m/` and 32 hex digits), so the
//! sealed values, bound to those keys, are not sealed again, and backup archives keep them.
//!
//! Why: at a million messages these keys were 71 MB of the 255 MB of records in the engine
//! (`m/` 34 bytes, `j/` 27, `t/` 18); in bytes they are 29.5 MB smaller. With the tables'
//! settings (`kv`) that keeps the engine's files under 300 MB however full its journal is when
//! a million-message ingest ends (issue 14; docs/PERFORMANCE.md).
//!
//! Ids in these key spaces are hashes ([`crate::model::MessageId::of_bytes`],
//! [`crate::model::ThreadId::of_key`]): a key whose id is not one (a name someone typed) names
//! no record here, so it is not looked for, and a record cannot be written under it.

use std::borrow::Cow;

/// Messages: `m/` + the message id (32 hex digits; 16 bytes kept).
const MESSAGES: u8 = b'm';
/// Threads: `t/` + the thread id (16 hex digits; 8 bytes kept).
const THREADS: u8 = b't';
/// Thread members: `j/` + thread id + `\0` + log number (u64 BE); kept as 8 bytes of thread
/// id and the log number (the separator says nothing when the id has a fixed length).
const MEMBERS: u8 = b'j';

const MESSAGE_DIGITS: usize = 32;
const THREAD_DIGITS: usize = 16;
const SEQ_BYTES: usize = 8;

/// The hex digits that start a key of `space`, or None for a key space kept as it is.
fn digits(space: u8) -> Option<usize> {
    match space {
        MESSAGES => Some(MESSAGE_DIGITS),
        THREADS | MEMBERS => Some(THREAD_DIGITS),
        _ => None,
    }
}

/// The key space and what follows its `/`, for a key of a key space kept in bytes.
fn split(key: &[u8]) -> Option<(u8, usize, &[u8])> {
    let (&space, rest) = key.split_first()?;
    let n = digits(space)?;
    Some((space, n, rest.strip_prefix(b"/")?))
}

fn nibble(d: u8) -> Option<u8> {
    match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        _ => None,
    }
}

/// Lowercase hex digits (an even number of them) as bytes, appended to `out`.
fn push_hex(out: &mut Vec<u8>, hex: &[u8]) -> Option<()> {
    for pair in hex.chunks_exact(2) {
        out.push(nibble(pair[0])? << 4 | nibble(pair[1])?);
    }
    Some(())
}

fn push_digits(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
}

/// The key the engine keeps for `key`: the same key for a key space kept as it is; None for
/// a key of a key space kept in bytes whose id is not a hash of the right length (no record
/// has it).
pub(super) fn stored(key: &[u8]) -> Option<Cow<'_, [u8]>> {
    let Some((space, n, rest)) = split(key) else {
        return Some(Cow::Borrowed(key));
    };
    let (id, tail) = (rest.get(..n)?, &rest[n..]);
    let tail = match space {
        MEMBERS => match tail.split_first() {
            Some((0, seq)) if seq.len() == SEQ_BYTES => seq,
            _ => return None,
        },
        _ if tail.is_empty() => tail,
        _ => return None,
    };
    let mut out = Vec::with_capacity(2 + n / 2 + tail.len());
    out.extend_from_slice(&[space, b'/']);
    push_hex(&mut out, id)?;
    out.extend_from_slice(tail);
    Some(Cow::Owned(out))
}

/// The key a key the engine keeps stands for ([`stored`] undone). A key of a key space kept in
/// bytes that is not of their length (none is written) comes back as it is.
pub(super) fn logical(stored: &[u8]) -> Cow<'_, [u8]> {
    let Some((space, n, rest)) = split(stored) else {
        return Cow::Borrowed(stored);
    };
    let tail_len = if space == MEMBERS { SEQ_BYTES } else { 0 };
    if rest.len() != n / 2 + tail_len {
        return Cow::Borrowed(stored);
    }
    let (id, tail) = rest.split_at(n / 2);
    let mut out = Vec::with_capacity(2 + n + 1 + tail.len());
    out.extend_from_slice(&[space, b'/']);
    push_digits(&mut out, id);
    if space == MEMBERS {
        out.push(0);
    }
    out.extend_from_slice(tail);
    Cow::Owned(out)
}

/// What the engine scans for the keys that start with a prefix.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Scan<'a> {
    /// Every key starting with these bytes.
    Prefix(Cow<'a, [u8]>),
    /// Every key from the first (included) to the second (excluded): an odd number of hex
    /// digits asked for, whose last one is the high half of a byte.
    Range(Vec<u8>, Vec<u8>),
    /// No key can start with the prefix.
    Nothing,
}

/// The first key after every key that starts with `prefix` (a key space's prefix and bytes:
/// the space's letter and `/` are never 0xFF, so there is one).
fn after(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while end.last() == Some(&0xff) {
        end.pop();
    }
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    end
}

/// What the engine scans for the keys starting with `prefix`.
pub(super) fn scan(prefix: &[u8]) -> Scan<'_> {
    let Some((space, n, rest)) = split(prefix) else {
        return Scan::Prefix(Cow::Borrowed(prefix));
    };
    let mut out = vec![space, b'/'];
    let (hex, tail) = rest.split_at(rest.len().min(n));
    let odd = hex.len() % 2 == 1;
    if push_hex(&mut out, &hex[..hex.len() - usize::from(odd)]).is_none() {
        return Scan::Nothing;
    }
    if odd {
        let Some(d) = nibble(hex[hex.len() - 1]) else {
            return Scan::Nothing;
        };
        let mut from = out.clone();
        from.push(d << 4);
        let to = match d {
            0xf => after(&out),
            _ => [out.as_slice(), &[(d + 1) << 4]].concat(),
        };
        return Scan::Range(from, to);
    }
    match (space, tail.split_first()) {
        (_, None) => Scan::Prefix(Cow::Owned(out)),
        (MEMBERS, Some((0, seq))) if seq.len() <= SEQ_BYTES => {
            out.extend_from_slice(seq);
            Scan::Prefix(Cow::Owned(out))
        }
        _ => Scan::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &str = "04a9425a58aeaad88076f2c1dfb00182";
    const THREAD: &str = "41d9354fd674d7fd";

    fn member(thread: &str, seq: u64) -> Vec<u8> {
        let mut k = format!("j/{thread}\0").into_bytes();
        k.extend_from_slice(&seq.to_be_bytes());
        k
    }

    #[test]
    fn ids_are_kept_in_bytes_and_read_back_as_they_were() {
        let m = format!("m/{MSG}").into_bytes();
        let t = format!("t/{THREAD}").into_bytes();
        let j = member(THREAD, 7);
        for (key, len) in [(&m, 18), (&t, 10), (&j, 18)] {
            let kept = stored(key).unwrap();
            assert_eq!(kept.len(), len, "{}", String::from_utf8_lossy(key));
            assert_eq!(&kept[..2], &key[..2]);
            assert_eq!(logical(&kept).as_ref(), key.as_slice());
        }
        assert_eq!(&stored(&j).unwrap()[10..], 7u64.to_be_bytes().as_slice());
        // Other key spaces, and keys without a space, are kept as they are.
        for key in [
            &b"q/\0\0\0\0\0\0\0\x01"[..],
            b"p/41d9354fd674d7fd\0x",
            b"seq",
            b"m",
        ] {
            assert!(matches!(stored(key), Some(Cow::Borrowed(k)) if k == key));
            assert!(matches!(logical(key), Cow::Borrowed(k) if k == key));
        }
    }

    #[test]
    fn a_key_whose_id_is_not_a_hash_names_nothing() {
        for key in [
            "m/ABCDEF0123456789abcdef0123456789",
            "m/04a9425a58aeaad88076f2c1dfb0018",
            "m/04a9425a58aeaad88076f2c1dfb001822",
            "m/not-a-message-id",
            "t/41D9354FD674D7FD",
            "t/",
            "j/41d9354fd674d7fd",
            "j/41d9354fd674d7fdx\0\0\0\0\0\0\0\x01",
            "j/41d9354fd674d7fd\0\x01",
        ] {
            assert_eq!(stored(key.as_bytes()), None, "{key:?}");
        }
    }

    #[test]
    fn kept_ids_sort_as_their_hex_did() {
        let mut ids: Vec<String> = (0u64..200)
            .map(|i| format!("{:016x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
            .collect();
        let mut kept: Vec<Vec<u8>> = ids
            .iter()
            .map(|id| stored(format!("t/{id}").as_bytes()).unwrap().into_owned())
            .collect();
        ids.sort();
        kept.sort();
        let back: Vec<String> = kept
            .iter()
            .map(|k| String::from_utf8(logical(k)[2..].to_vec()).unwrap())
            .collect();
        assert_eq!(back, ids);
    }

    #[test]
    fn a_prefix_of_hex_digits_scans_their_bytes_and_an_odd_one_a_range() {
        assert_eq!(scan(b"m/"), Scan::Prefix(Cow::Owned(b"m/".to_vec())));
        assert_eq!(
            scan(b"m/04a9"),
            Scan::Prefix(Cow::Owned(vec![b'm', b'/', 0x04, 0xa9]))
        );
        assert_eq!(
            scan(b"t/41d"),
            Scan::Range(vec![b't', b'/', 0x41, 0xd0], vec![b't', b'/', 0x41, 0xe0])
        );
        // The last half-byte: up to the next prefix, carried past bytes of 0xFF.
        assert_eq!(
            scan(b"t/f"),
            Scan::Range(vec![b't', b'/', 0xf0], vec![b't', b'0'])
        );
        assert_eq!(
            scan(b"t/4ffff"),
            Scan::Range(vec![b't', b'/', 0x4f, 0xff, 0xf0], vec![b't', b'/', 0x50])
        );
        // A thread's members: the thread's bytes, and a log number's leading bytes if asked.
        let mut members = vec![b'j', b'/'];
        members.extend_from_slice(&hex::decode(THREAD).unwrap());
        assert_eq!(
            scan(format!("j/{THREAD}\0").as_bytes()),
            Scan::Prefix(Cow::Owned(members.clone()))
        );
        members.extend_from_slice(&[0, 0]);
        assert_eq!(
            scan(format!("j/{THREAD}\0\0\0").as_bytes()),
            Scan::Prefix(Cow::Owned(members))
        );
        // What no kept key can start with.
        for prefix in [
            "m/xyz",
            "m/ABC",
            "t/41d9354fd674d7fd0",
            "j/41d9354fd674d7fd-",
        ] {
            assert_eq!(scan(prefix.as_bytes()), Scan::Nothing, "{prefix:?}");
        }
        // Other key spaces as they are.
        assert_eq!(scan(b"h/"), Scan::Prefix(Cow::Borrowed(b"h/")));
        assert_eq!(scan(b""), Scan::Prefix(Cow::Borrowed(b"")));
    }
}
