//! The directory a writing process opens the index through: tantivy's memory-mapped one, except
//! that a segment's doc store (`.store`, more than half of the index's bytes), its postings
//! (`.idx`) and its positions (`.pos`) are read with plain reads.
//!
//! Why (issue 14: an ingest's peak memory): a merge copies its sources' doc stores whole.
//! Through a memory map every page it read stays resident in this process until every reader of
//! the segment has let go of it: at a million messages a merge's three sources held 127 MiB of
//! doc-store pages at the end of an ingest, on top of its own memory. Read by calls, a source's
//! bytes pass through a buffer that is freed once the merge has written them. A search reads a
//! few blocks of a store (its hits' documents) and pays a call per block instead of a page fault.
//!
//! Postings and positions the same, for the same reason: the postings and positions of the
//! merge in progress were the rest of an ingest's mapped pages (57–126 MiB at a million). A
//! merge reads them a term at a time, in the order of the file, so they are read through a
//! window ([`ReadThroughWindow`]): a read inside the window last filled is a slice of it, any
//! other read shorter than [`WINDOW`] fills a new one from where it starts, and a longer one (a
//! common word's postings) is read alone.
//!
//! A CLI search without a writer keeps the plain memory-mapped directory
//! (`MailIndex::open_read_only`): it reads a few blocks, and a map of the store's index of
//! blocks costs it only the pages it looks at.

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tantivy::HasLen;
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback,
    WatchHandle, WritePtr,
};

/// The files read by calls rather than through a map: doc stores, a buffer per read.
const READ_BY_CALLS: &str = "store";
/// The files read by calls through a window: postings and positions.
const READ_THROUGH_WINDOW: [&str; 2] = ["idx", "pos"];
/// The least a call reads for postings or positions: a merge's next terms are most often in
/// it, and a search's read of a rare term's postings costs this much copying at most.
const WINDOW: usize = 64 * 1024;

#[derive(Clone, Debug)]
pub(super) struct WriterDirectory {
    root: PathBuf,
    mapped: MmapDirectory,
}

impl WriterDirectory {
    pub(super) fn open(root: &Path) -> tantivy::Result<Self> {
        Ok(WriterDirectory {
            root: root.to_path_buf(),
            mapped: MmapDirectory::open(root)?,
        })
    }
}

/// A read past the end is an error, not a short read.
fn within(range: &Range<usize>, len: usize) -> std::io::Result<()> {
    if range.end > len || range.start > range.end {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("read of {range:?} in a file of {len} bytes"),
        ));
    }
    Ok(())
}

/// A file read with `pread`: each read is a buffer of its own.
#[derive(Debug)]
struct ReadByCalls {
    file: File,
    len: usize,
}

impl FileHandle for ReadByCalls {
    fn read_bytes(&self, range: Range<usize>) -> std::io::Result<OwnedBytes> {
        within(&range, self.len)?;
        let mut buffer = vec![0; range.len()];
        self.file.read_exact_at(&mut buffer, range.start as u64)?;
        Ok(OwnedBytes::new(buffer))
    }
}

impl HasLen for ReadByCalls {
    fn len(&self) -> usize {
        self.len
    }
}

impl ReadByCalls {
    fn open(path: &Path) -> std::io::Result<ReadByCalls> {
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len()).map_err(std::io::Error::other)?;
        Ok(ReadByCalls { file, len })
    }
}

/// A file read with `pread` through a window: a read inside the window last filled is a slice
/// of it (no call, no copy); any other read shorter than [`WINDOW`] fills a new window of
/// [`WINDOW`] bytes from its start, and a longer one is read alone. A window lives as long as
/// a slice of it does.
#[derive(Debug)]
struct ReadThroughWindow {
    file: ReadByCalls,
    /// Where the last window starts in the file, and its bytes.
    window: Mutex<Option<(usize, OwnedBytes)>>,
}

impl FileHandle for ReadThroughWindow {
    fn read_bytes(&self, range: Range<usize>) -> std::io::Result<OwnedBytes> {
        within(&range, self.file.len)?;
        if range.len() >= WINDOW {
            // Read alone and not kept: a window holds its memory for as long as it is kept.
            return self.file.read_bytes(range);
        }
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((start, bytes)) = window.as_ref()
            && range.start >= *start
            && range.end <= *start + bytes.len()
        {
            return Ok(bytes.slice(range.start - start..range.end - start));
        }
        let end = (range.start + WINDOW).min(self.file.len);
        let filled = self.file.read_bytes(range.start..end)?;
        let read = filled.slice(0..range.len());
        *window = Some((range.start, filled));
        Ok(read)
    }
}

impl HasLen for ReadThroughWindow {
    fn len(&self) -> usize {
        self.file.len
    }
}

impl Directory for WriterDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let windowed = READ_THROUGH_WINDOW.contains(&extension);
        if extension != READ_BY_CALLS && !windowed {
            return self.mapped.get_file_handle(path);
        }
        let opened = ReadByCalls::open(&self.root.join(path)).map(|file| -> Arc<dyn FileHandle> {
            if windowed {
                Arc::new(ReadThroughWindow {
                    file,
                    window: Mutex::new(None),
                })
            } else {
                Arc::new(file)
            }
        });
        match opened {
            Ok(handle) => Ok(handle),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(OpenReadError::FileDoesNotExist(path.to_path_buf()))
            }
            Err(e) => Err(OpenReadError::wrap_io_error(e, path.to_path_buf())),
        }
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.mapped.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.mapped.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.mapped.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.mapped.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        self.mapped.atomic_write(path, data)
    }

    fn sync_directory(&self) -> std::io::Result<()> {
        self.mapped.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.mapped.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.mapped.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(path: &Path) -> bool {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        maps.contains(path.to_str().unwrap())
    }

    /// Postings and positions read through a window give the file's bytes for any range: inside
    /// a window, across its end, longer than one, at the end of the file; and are not mapped.
    #[test]
    fn postings_and_positions_are_read_through_a_window_and_give_the_files_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let bytes: Vec<u8> = (0..5 * WINDOW + 123).map(|_| next() as u8).collect();
        let d = WriterDirectory::open(dir.path()).unwrap();
        for name in ["a.idx", "a.pos"] {
            std::fs::write(dir.path().join(name), &bytes).unwrap();
            let handle = d.get_file_handle(Path::new(name)).unwrap();
            assert_eq!(handle.len(), bytes.len());
            let mut ranges = vec![
                0..10,
                5..WINDOW,
                WINDOW - 3..WINDOW + 3,
                10..3 * WINDOW,
                bytes.len() - 7..bytes.len(),
                bytes.len()..bytes.len(),
            ];
            // In the order of the file, as a merge reads, and anywhere, as a search does.
            let mut at = 0;
            while at < bytes.len() {
                let len = (next() % 900) as usize;
                ranges.push(at..(at + len).min(bytes.len()));
                at += len + (next() % 300) as usize;
            }
            for _ in 0..300 {
                let start = (next() % bytes.len() as u64) as usize;
                let len = (next() % (2 * WINDOW as u64)) as usize;
                ranges.push(start..(start + len).min(bytes.len()));
            }
            for range in ranges {
                let read = handle.read_bytes(range.clone()).unwrap();
                assert_eq!(read.as_slice(), &bytes[range.clone()], "{name} {range:?}");
            }
            assert!(handle.read_bytes(bytes.len() - 2..bytes.len() + 1).is_err());
            #[allow(clippy::reversed_empty_ranges)]
            let reversed = 9..3;
            assert!(handle.read_bytes(reversed).is_err());
            assert!(!mapped(&dir.path().join(name)), "{name} is mapped");
        }
    }

    #[test]
    fn a_store_is_read_by_calls_and_other_files_are_mapped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.store"), b"0123456789").unwrap();
        std::fs::write(dir.path().join("a.term"), b"abcdef").unwrap();
        let d = WriterDirectory::open(dir.path()).unwrap();

        let store = d.get_file_handle(Path::new("a.store")).unwrap();
        assert_eq!(store.len(), 10);
        assert_eq!(store.read_bytes(2..5).unwrap().as_slice(), b"234");
        assert_eq!(store.read_bytes(10..10).unwrap().as_slice(), b"");
        // A read past the end is an error, not a short read.
        assert!(store.read_bytes(8..11).is_err());
        assert!(!mapped(&dir.path().join("a.store")), "the store is mapped");

        // Term dictionaries (and fast fields, field norms) are looked up anywhere: mapped.
        let term = d.get_file_handle(Path::new("a.term")).unwrap();
        assert_eq!(term.read_bytes(0..3).unwrap().as_slice(), b"abc");
        assert!(
            mapped(&dir.path().join("a.term")),
            "the term file is not mapped"
        );

        assert!(matches!(
            d.get_file_handle(Path::new("gone.store")),
            Err(OpenReadError::FileDoesNotExist(_))
        ));
    }
}
