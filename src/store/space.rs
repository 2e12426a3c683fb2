//! The free-space guard. sled 0.34 (the engine before format 4) did not survive running out of
//! disk: measured here, a store ingested into a full filesystem read "corrupted data" even after
//! space was freed (scripts/chaos.sh, the disk-full campaign); fjall poisons its database on a
//! failed journal write and refuses every write until reopened. So a batch is refused while it
//! still fits with room to spare: the store stays readable, nothing of the batch is written, and
//! the same batch commits once space is freed (the daemon offers it again; `ingest` says what to
//! do).

use std::path::Path;

use super::StoreError;

/// Kept free on the data directory's filesystem by default (the engine's flushes and compactions,
/// tantivy's merges, audit records and erasures all need some).
pub const DEFAULT_RESERVE_MB: u64 = 64;

const MIB: u64 = 1024 * 1024;

/// The reserve: `DESKMAIL_MIN_FREE_MB`, else the default.
pub fn reserve_bytes() -> u64 {
    std::env::var("DESKMAIL_MIN_FREE_MB")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_RESERVE_MB)
        * MIB
}

/// Bytes free to an unprivileged writer on the filesystem holding `dir`; None when the
/// filesystem cannot say (then nothing is refused).
pub fn free_bytes(dir: &Path) -> Option<u64> {
    let st = nix::sys::statvfs::statvfs(dir).ok()?;
    Some((st.blocks_available() as u64).saturating_mul(st.fragment_size() as u64))
}

/// Bytes in the files directly under `dir` (tantivy's index directory is flat); 0 if absent.
fn flat_dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Refuse a write of about `incoming` raw bytes that would leave less than the reserve. The store
/// holds each message's bytes once in the blob log, its record in the key-value tree (with the
/// engine's overhead) and its words in the index: four times the raw size is a safe upper bound.
/// The index beside the store (`DATA/index`) may merge its segments, which briefly needs room for a
/// copy of them: its size is asked for too (the campaign that found the sled corruption found this
/// as well: the guard without it let a final merge take the last bytes).
pub fn check(dir: &Path, incoming: u64) -> Result<(), StoreError> {
    let Some(free) = free_bytes(dir) else {
        return Ok(());
    };
    let reserve = reserve_bytes();
    let index = dir
        .parent()
        .map_or(0, |data| flat_dir_bytes(&data.join("index")));
    let needed = incoming.saturating_mul(4).saturating_add(index);
    if free < reserve.saturating_add(needed) {
        return Err(StoreError::DiskFull {
            path: dir.display().to_string(),
            free_mb: free / MIB,
            reserve_mb: reserve / MIB,
            needed_mb: needed.div_ceil(MIB),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_that_would_eat_into_the_reserve_is_refused_with_the_figures() {
        let dir = tempfile::tempdir().unwrap();
        let free = free_bytes(dir.path()).expect("statvfs works here");
        assert!(check(dir.path(), 0).is_ok() || free < reserve_bytes());
        // More than the whole filesystem has: refused, and the message says why.
        let err = check(dir.path(), free).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StoreError::DiskFull { .. }), "{text}");
        assert!(
            text.contains("MB free") && text.contains("DESKMAIL_MIN_FREE_MB"),
            "{text}"
        );
    }
}
