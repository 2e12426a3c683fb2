//! Raw message bytes live outside the key-value tree, in append-only segment files: sled (the
//! engine before format 4) rewrote tree nodes on every insert, and kilobyte-sized values made
//! that the largest cost of a commit; an LSM tree would copy them at every compaction. The
//! store keeps only a small reference (segment, offset, length) per message.
//!
//! Record layout: `b"DMB1"`, length (u32 LE), CRC-32 of the bytes (u32 LE), the bytes. A
//! message's bytes are [`pack`]ed (zstd) and then sealed (`store::crypt`) before they come here.
//! Ordering for crash safety: a batch's blobs are written and `sync_data`ed before the tree's
//! batch that refers to them is applied, so a reference never points at bytes that are not on
//! disk. A crash in between leaves unreferenced bytes at the end of a segment: harmless.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock, RwLockWriteGuard};

use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 4] = b"DMB1";
/// The magic of a wiped blob.
const ERASED: &[u8; 4] = b"DMBX";
const HEADER: u64 = 12;
/// A new segment starts once the current one is this large.
const SEGMENT_BYTES: u64 = 1 << 30;

/// Where a blob is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    pub segment: u32,
    pub offset: u64,
    pub len: u32,
    /// The bytes are [`pack`]ed and sealed under the message record's data key
    /// (`store::crypt`); blobs written before encryption existed are neither.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sealed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob store I/O error at {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("a stored message or record does not unpack: {why}")]
    Unpack { why: &'static str },
    #[error("blob at segment {segment} offset {offset} is damaged: {why}")]
    Damaged {
        segment: u32,
        offset: u64,
        why: &'static str,
    },
}

struct Writer {
    segment: u32,
    len: u64,
    out: BufWriter<File>,
}

pub struct BlobLog {
    dir: PathBuf,
    writer: Mutex<Writer>,
    /// Every wipe holds this shared; a backup holds it exclusively from its snapshot until its
    /// copy of the segments is done, so no blob the snapshot refers to is zeroed under it.
    wipes: RwLock<()>,
}

/// A segment file and how many of its bytes belong to a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentExtent {
    pub segment: u32,
    pub path: PathBuf,
    pub len: u64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BlobError + '_ {
    move |source| BlobError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl BlobLog {
    pub fn open(dir: &Path) -> Result<BlobLog, BlobError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io(dir))?;
        let last = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_prefix("seg-"))
                    .and_then(|n| n.strip_suffix(".log"))
                    .and_then(|n| n.parse::<u32>().ok())
            })
            .max()
            .unwrap_or(1);
        let writer = Self::open_segment(dir, last)?;
        Ok(BlobLog {
            dir: dir.to_path_buf(),
            writer: Mutex::new(writer),
            wipes: RwLock::new(()),
        })
    }

    fn segment_path(dir: &Path, segment: u32) -> PathBuf {
        dir.join(format!("seg-{segment:06}.log"))
    }

    fn open_segment(dir: &Path, segment: u32) -> Result<Writer, BlobError> {
        let path = Self::segment_path(dir, segment);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)
            .map_err(io(&path))?;
        let len = file.metadata().map_err(io(&path))?.len();
        Ok(Writer {
            segment,
            len,
            out: BufWriter::with_capacity(1 << 20, file),
        })
    }

    /// Append a blob (buffered; call [`BlobLog::sync`] before referring to it durably).
    pub fn append(&self, bytes: &[u8]) -> Result<BlobRef, BlobError> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if w.len >= SEGMENT_BYTES {
            w.out.flush().map_err(io(&self.dir))?;
            let next = w.segment + 1;
            *w = Self::open_segment(&self.dir, next)?;
        }
        let len = u32::try_from(bytes.len()).map_err(|_| BlobError::Io {
            path: self.dir.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "blob larger than 4 GiB"),
        })?;
        let r = BlobRef {
            segment: w.segment,
            offset: w.len,
            len,
            sealed: false,
        };
        let mut header = [0u8; HEADER as usize];
        header[..4].copy_from_slice(MAGIC);
        header[4..8].copy_from_slice(&len.to_le_bytes());
        header[8..].copy_from_slice(&crc32fast::hash(bytes).to_le_bytes());
        w.out.write_all(&header).map_err(io(&self.dir))?;
        w.out.write_all(bytes).map_err(io(&self.dir))?;
        w.len += HEADER + u64::from(len);
        Ok(r)
    }

    /// Write buffered blobs and make them durable.
    pub fn sync(&self) -> Result<(), BlobError> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        w.out.flush().map_err(io(&self.dir))?;
        w.out.get_ref().sync_data().map_err(io(&self.dir))
    }

    /// Overwrite a blob's bytes with zeros in place and mark it erased (GDPR erasure, retention
    /// purge): the append-only log keeps its layout, the content is gone from disk.
    pub fn wipe(&self, r: BlobRef) -> Result<(), BlobError> {
        let _no_backup_copying = self.wipes.read().unwrap_or_else(|p| p.into_inner());
        {
            let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            if w.segment == r.segment {
                w.out.flush().map_err(io(&self.dir))?;
            }
        }
        let path = Self::segment_path(&self.dir, r.segment);
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        let mut header = [0u8; HEADER as usize];
        header[..4].copy_from_slice(ERASED);
        header[4..8].copy_from_slice(&r.len.to_le_bytes());
        file.write_all_at(&header, r.offset).map_err(io(&path))?;
        let zeros = vec![0u8; (r.len as usize).min(1 << 20)];
        let mut done = 0u64;
        while done < u64::from(r.len) {
            let n = (u64::from(r.len) - done).min(zeros.len() as u64) as usize;
            file.write_all_at(&zeros[..n], r.offset + HEADER + done)
                .map_err(io(&path))?;
            done += n as u64;
        }
        file.sync_data().map_err(io(&path))
    }

    /// Keep wipes out until the guard is dropped (a backup copying the segments).
    pub fn exclude_wipes(&self) -> RwLockWriteGuard<'_, ()> {
        self.wipes.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Every segment with its length now, buffered blobs written out first: the prefix of the
    /// log a snapshot taken now refers to (appends only ever go past it).
    pub fn extent(&self) -> Result<Vec<SegmentExtent>, BlobError> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        w.out.flush().map_err(io(&self.dir))?;
        let mut out = Vec::new();
        for segment in 1..w.segment {
            let path = Self::segment_path(&self.dir, segment);
            match std::fs::metadata(&path) {
                Ok(m) => out.push(SegmentExtent {
                    segment,
                    path,
                    len: m.len(),
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path)(e)),
            }
        }
        out.push(SegmentExtent {
            segment: w.segment,
            path: Self::segment_path(&self.dir, w.segment),
            len: w.len,
        });
        Ok(out)
    }

    /// Read a blob back, checking its header and checksum.
    pub fn read(&self, r: BlobRef) -> Result<Vec<u8>, BlobError> {
        {
            // Bytes still in the write buffer are not in the file yet.
            let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            if w.segment == r.segment {
                w.out.flush().map_err(io(&self.dir))?;
            }
        }
        let path = Self::segment_path(&self.dir, r.segment);
        let file = File::open(&path).map_err(io(&path))?;
        let mut header = [0u8; HEADER as usize];
        file.read_exact_at(&mut header, r.offset)
            .map_err(io(&path))?;
        let damaged = |why| BlobError::Damaged {
            segment: r.segment,
            offset: r.offset,
            why,
        };
        if &header[..4] == ERASED {
            return Err(damaged("erased"));
        }
        if &header[..4] != MAGIC {
            return Err(damaged("bad magic"));
        }
        if header[4..8] != r.len.to_le_bytes() {
            return Err(damaged("length differs from the reference"));
        }
        let mut bytes = vec![0u8; r.len as usize];
        file.read_exact_at(&mut bytes, r.offset + HEADER)
            .map_err(io(&path))?;
        if crc32fast::hash(&bytes).to_le_bytes() != header[8..12] {
            return Err(damaged("checksum mismatch"));
        }
        Ok(bytes)
    }
}

/// A packed blob's first byte: how the rest is stored.
const STORED: u8 = 0;
const ZSTD: u8 = 1;
/// zstd's fastest level: mail text still shrinks to about 40 % (2.4x on the benchmark corpus),
/// and compressing is a small part of a commit.
const ZSTD_LEVEL: i32 = 1;

thread_local! {
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    // One per thread, reused: a fresh zstd context per record is a ~100 KB allocation and was
    // 5 % of a committer's time when thread merges read many records (issue 14).
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// A message's raw bytes as the blob log keeps them (before sealing: ciphertext does not
/// compress): `1`, the raw length (u32 LE), a zstd frame; or `0` and the bytes as they are when
/// compressing does not make them smaller.
pub fn pack(raw: &[u8]) -> Vec<u8> {
    let compressed = COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = zstd::bulk::Compressor::new(ZSTD_LEVEL).ok();
        }
        c.as_mut().and_then(|c| c.compress(raw).ok())
    });
    match compressed {
        Some(z) if z.len() + 5 < raw.len() && raw.len() <= u32::MAX as usize => {
            let mut out = Vec::with_capacity(5 + z.len());
            out.push(ZSTD);
            out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
            out.extend_from_slice(&z);
            out
        }
        _ => {
            let mut out = Vec::with_capacity(1 + raw.len());
            out.push(STORED);
            out.extend_from_slice(raw);
            out
        }
    }
}

/// The raw bytes back from [`pack`]'s output.
pub fn unpack(packed: &[u8]) -> Result<Vec<u8>, BlobError> {
    let damaged = |why| BlobError::Unpack { why };
    match packed.split_first() {
        Some((&STORED, rest)) => Ok(rest.to_vec()),
        Some((&ZSTD, rest)) if rest.len() >= 4 => {
            let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
            let raw = DECOMPRESSOR
                .with(|d| {
                    let mut d = d.borrow_mut();
                    if d.is_none() {
                        *d = zstd::bulk::Decompressor::new().ok();
                    }
                    match d.as_mut() {
                        Some(d) => d.decompress(&rest[4..], len),
                        None => zstd::bulk::decompress(&rest[4..], len),
                    }
                })
                .map_err(|_| damaged("the zstd frame does not decompress"))?;
            if raw.len() != len {
                return Err(damaged(
                    "the decompressed length differs from the recorded one",
                ));
            }
            Ok(raw)
        }
        _ => Err(damaged("unknown packing")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_blobs_round_trip_compressed_when_that_is_smaller() {
        let text = b"Subject: Invoice 4711\n\nPlease pay invoice 4711. ".repeat(40);
        let packed = pack(&text);
        assert_eq!(packed[0], ZSTD);
        assert!(
            packed.len() * 3 < text.len(),
            "{} of {}",
            packed.len(),
            text.len()
        );
        assert_eq!(unpack(&packed).unwrap(), text);
        let noise: Vec<u8> = (0..64u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let packed = pack(&noise);
        assert_eq!(packed[0], STORED);
        assert_eq!(unpack(&packed).unwrap(), noise);
        assert!(unpack(&[ZSTD, 9, 0, 0, 0, 1, 2, 3]).is_err());
        assert!(unpack(&[7]).is_err());
    }

    #[test]
    fn blobs_round_trip_across_reopen_and_damage_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let log = BlobLog::open(dir.path()).unwrap();
        let a = log.append(b"first message").unwrap();
        let b = log.append(b"").unwrap();
        let c = log.append(&[7u8; 5000]).unwrap();
        assert_eq!(log.read(a).unwrap(), b"first message");
        log.sync().unwrap();
        drop(log);
        let log = BlobLog::open(dir.path()).unwrap();
        assert_eq!(log.read(b).unwrap(), b"");
        assert_eq!(log.read(c).unwrap(), vec![7u8; 5000]);
        let d = log.append(b"after reopen").unwrap();
        assert!(d.offset > c.offset, "appends continue at the end");
        assert_eq!(log.read(d).unwrap(), b"after reopen");

        // Flip a byte inside blob c.
        let path = dir.path().join("seg-000001.log");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[(c.offset + HEADER + 10) as usize] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        let err = log.read(c).unwrap_err();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
    }

    #[test]
    fn a_wipe_waits_for_a_backup_copying_the_segments_and_the_extent_covers_every_append() {
        let dir = tempfile::tempdir().unwrap();
        let log = std::sync::Arc::new(BlobLog::open(dir.path()).unwrap());
        let a = log.append(b"referenced by the snapshot").unwrap();
        let extent = log.extent().unwrap();
        assert_eq!(extent.len(), 1);
        assert_eq!(
            extent[0].len,
            HEADER + u64::from(a.len),
            "buffered bytes written out"
        );
        assert_eq!(
            std::fs::metadata(&extent[0].path).unwrap().len(),
            extent[0].len
        );
        let guard = log.exclude_wipes();
        let wiper = {
            let log = std::sync::Arc::clone(&log);
            std::thread::spawn(move || log.wipe(a).unwrap())
        };
        std::thread::sleep(std::time::Duration::from_millis(200));
        let copied = std::fs::read(&extent[0].path).unwrap();
        assert!(
            copied.windows(10).any(|w| w == b"referenced"),
            "the wipe waited for the copy"
        );
        drop(guard);
        wiper.join().unwrap();
        assert!(log.read(a).unwrap_err().to_string().contains("erased"));
    }

    #[test]
    fn wiped_blobs_are_zeros_on_disk_and_neighbours_survive() {
        let dir = tempfile::tempdir().unwrap();
        let log = BlobLog::open(dir.path()).unwrap();
        let a = log.append(b"keep me").unwrap();
        let b = log.append(b"secret personal data").unwrap();
        let c = log.append(b"keep me too").unwrap();
        log.sync().unwrap();
        log.wipe(b).unwrap();
        assert!(log.read(b).unwrap_err().to_string().contains("erased"));
        assert_eq!(log.read(a).unwrap(), b"keep me");
        assert_eq!(log.read(c).unwrap(), b"keep me too");
        let raw = std::fs::read(dir.path().join("seg-000001.log")).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"secret"));
    }
}
