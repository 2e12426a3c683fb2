//! Where the store's bytes go: records, key bytes and value bytes per key space, for
//! `deskmail bench store` (issue 14's "find where disk goes"). Values are counted as stored
//! (sealed and packed), which is what the engine writes.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Store, StoreError};

/// One key space's share of the tree.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SpaceUsage {
    pub records: u64,
    pub key_bytes: u64,
    pub value_bytes: u64,
    pub max_value: u64,
}

/// The whole tree, by key space (`m`, `i`, `t`, ...), and the engine's files.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StoreUsage {
    pub spaces: BTreeMap<String, SpaceUsage>,
    /// Keys plus values of every record.
    pub logical_bytes: u64,
    /// The key-value engine's files (`store/kv`: tables and journal).
    pub kv_bytes: u64,
    /// The blob log's segments.
    pub blob_bytes: u64,
}

impl Store {
    /// A full scan of the tree (a diagnostic, not for request paths): keys as the engine keeps
    /// them (ids in bytes, [`super::keys`]).
    pub fn usage(&self) -> Result<StoreUsage, StoreError> {
        let mut usage = StoreUsage::default();
        for kv in self.tree.iter_kept() {
            let (k, v) = kv?;
            let space = match k.first() {
                Some(b) if b.is_ascii_graphic() => (*b as char).to_string(),
                Some(b) => format!("0x{b:02x}"),
                None => "(empty)".into(),
            };
            let s = usage.spaces.entry(space).or_default();
            s.records += 1;
            s.key_bytes += k.len() as u64;
            s.value_bytes += v.len() as u64;
            s.max_value = s.max_value.max(v.len() as u64);
            usage.logical_bytes += (k.len() + v.len()) as u64;
        }
        usage.kv_bytes = super::kv::disk_bytes(&self.dir);
        usage.blob_bytes = crate::metrics::dir_size(&self.dir.join("blobs"), 100_000);
        Ok(usage)
    }
}

impl std::fmt::Display for StoreUsage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<6} {:>10} {:>12} {:>14} {:>10}",
            "space", "records", "key bytes", "value bytes", "max value"
        )?;
        for (name, s) in &self.spaces {
            writeln!(
                f,
                "{:<6} {:>10} {:>12} {:>14} {:>10}",
                name, s.records, s.key_bytes, s.value_bytes, s.max_value
            )?;
        }
        let ratio = self.kv_bytes as f64 / self.logical_bytes.max(1) as f64;
        writeln!(
            f,
            "records {} bytes; key-value files {} bytes ({ratio:.2}x); blob log {} bytes",
            self.logical_bytes, self.kv_bytes, self.blob_bytes
        )
    }
}
