//! The directory a writing process opens the index through: tantivy's memory-mapped one, except
//! that a segment's doc store (`.store`, more than half of the index's bytes) is read with
//! plain reads.
//!
//! Why (issue 14: an ingest's peak memory): a merge copies its sources' doc stores whole.
//! Through a memory map every page it read stays resident in this process until every reader of
//! the segment has let go of it: at a million messages a merge's three sources held 127 MiB of
//! doc-store pages at the end of an ingest, on top of its own memory. Read by calls, a source's
//! bytes pass through a buffer that is freed once the merge has written them. A search reads a
//! few blocks of a store (its hits' documents) and pays a call per block instead of a page fault.
//!
//! A CLI search without a writer keeps the plain memory-mapped directory
//! (`MailIndex::open_read_only`): it reads a few blocks, and a map of the store's index of
//! blocks costs it only the pages it looks at.

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::HasLen;
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback,
    WatchHandle, WritePtr,
};

/// The files read by calls rather than through a map.
const READ_BY_CALLS: &str = "store";

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

/// A file read with `pread`: each read is a buffer of its own.
#[derive(Debug)]
struct ReadByCalls {
    file: File,
    len: usize,
}

impl FileHandle for ReadByCalls {
    fn read_bytes(&self, range: Range<usize>) -> std::io::Result<OwnedBytes> {
        if range.end > self.len || range.start > range.end {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("read of {range:?} in a file of {} bytes", self.len),
            ));
        }
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

impl Directory for WriterDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        if path.extension().is_none_or(|e| e != READ_BY_CALLS) {
            return self.mapped.get_file_handle(path);
        }
        let opened = File::open(self.root.join(path)).and_then(|file| {
            let len = usize::try_from(file.metadata()?.len()).map_err(std::io::Error::other)?;
            Ok(ReadByCalls { file, len })
        });
        match opened {
            Ok(handle) => Ok(Arc::new(handle)),
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

    #[test]
    fn a_store_is_read_by_calls_and_other_files_are_mapped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.store"), b"0123456789").unwrap();
        std::fs::write(dir.path().join("a.idx"), b"abcdef").unwrap();
        let d = WriterDirectory::open(dir.path()).unwrap();

        let store = d.get_file_handle(Path::new("a.store")).unwrap();
        assert_eq!(store.len(), 10);
        assert_eq!(store.read_bytes(2..5).unwrap().as_slice(), b"234");
        assert_eq!(store.read_bytes(10..10).unwrap().as_slice(), b"");
        // A read past the end is an error, not a short read.
        assert!(store.read_bytes(8..11).is_err());
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let store_path = dir.path().join("a.store");
        assert!(
            !maps.contains(store_path.to_str().unwrap()),
            "the store is mapped"
        );

        let idx = d.get_file_handle(Path::new("a.idx")).unwrap();
        assert_eq!(idx.read_bytes(0..3).unwrap().as_slice(), b"abc");
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let idx_path = dir.path().join("a.idx");
        assert!(
            maps.contains(idx_path.to_str().unwrap()),
            "the idx is not mapped"
        );

        assert!(matches!(
            d.get_file_handle(Path::new("gone.store")),
            Err(OpenReadError::FileDoesNotExist(_))
        ));
    }
}
