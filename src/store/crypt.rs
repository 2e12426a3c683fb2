//! Encryption at rest with crypto-shredding.
//!
//! The key-value engine is log-structured (fjall's journal and tables; sled's pages before
//! format 4): a record overwritten or removed stays in old files until they are compacted or
//! reused, so deleting a key never removed its bytes from disk at once. So the records that carry
//! message content or personal metadata are sealed (AES-256-GCM, the record's key as
//! associated data) under a **data key of their own**, and erasing is destroying that key:
//! every old copy in the engine's files, and the raw message in the blob log, is then ciphertext
//! nobody can open.
//!
//! Data keys live in the **keyring** (`store/keyring`), a file of fixed-size slots deskmail
//! overwrites in place (unlike the engine): slot `n` holds a 32-byte data key wrapped
//! (AES-256-GCM, nonce = `n`) by the **master key**, which comes from outside the data
//! directory (`DESKMAIL_STORE_KEY_FILE` or `DESKMAIL_STORE_KEY_COMMAND`) or, when neither is
//! set, from `store/master.key` made on first open. Shredding a slot writes zeros over it and
//! syncs. Slot 0 holds the key that names records by HMAC (`name`): subjects, Message-IDs and
//! addresses that would otherwise be keys in clear. A wrong master key fails to unwrap
//! slot 0, so it is refused at open instead of failing later.
//!
//! Ordering: new slots are written and synced before the batch that refers to them (like
//! the blob log); a slot is shredded only after the batch that stopped using it is on
//! disk, and a slot is only ever shredded when no live record refers to it (the shred journal,
//! `store/keyring.shred`, is replayed with that check at open).
//!
//! Sealed value: `0xE1`, slot (u64 LE), nonce (12 bytes), ciphertext with its 16-byte tag.
//! AES-256-GCM rather than ChaCha20-Poly1305: with AES-NI (every x86 server deskmail targets)
//! it is the faster of ring's two; on the ingest benchmark the difference stayed inside the
//! run-to-run noise (docs/PERFORMANCE.md). Nonces are random; each data key seals one record and
//! its rewrites, far below GCM's 2^32 limit.
//! Anything else is a value written before encryption existed and is read as it is.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

const MAGIC: &[u8; 8] = b"DMKEYS01";
const DEK_BYTES: usize = 32;
const TAG_BYTES: usize = 16;
/// A wrapped data key: 32 bytes of key and the tag.
pub const SLOT_BYTES: u64 = (DEK_BYTES + TAG_BYTES) as u64;
const NONCE_BYTES: usize = 12;
/// A key name: the first 16 bytes of its HMAC (formats 2 and 3 wrote them as 32 hex digits).
pub(super) const NAME_BYTES: usize = 16;
/// The first byte of a sealed value.
pub const SEALED: u8 = 0xE1;
const ENVELOPE_HEAD: usize = 1 + 8 + NONCE_BYTES;
/// Unwrapped data keys kept in memory (threads are read again and again while mail arrives).
const CACHE_KEYS: usize = 16_384;
/// Slot 0: the key for record names.
const NAMES_SLOT: u64 = 0;

#[derive(Debug, thiserror::Error)]
pub enum CryptError {
    #[error(transparent)]
    Key(#[from] crate::secret::KeyError),
    #[error("keyring {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the master key does not open the keyring at {path}: this store was sealed with another \
         key (set DESKMAIL_STORE_KEY_FILE or DESKMAIL_STORE_KEY_COMMAND to the key it was made \
         with)"
    )]
    WrongKey { path: PathBuf },
    #[error("{path} is not a deskmail keyring")]
    NotAKeyring { path: PathBuf },
    #[error("record sealed under data key {slot}, which was destroyed (erased)")]
    Shredded { slot: u64 },
    #[error("record sealed under data key {slot} does not open: damaged or moved")]
    Damaged { slot: u64 },
}

/// Where the master key came from (for `status` and the docs; never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `DESKMAIL_STORE_KEY_FILE` / `_COMMAND`: outside the data directory.
    External,
    /// `store/master.key`, made on first open: protects against other users (with the
    /// directory's 0700), and erasure still shreds; copies of the directory carry the key.
    InDirectory(PathBuf),
}

struct Ring {
    file: File,
    /// Slots in the file.
    on_disk: u64,
    /// Slots allocated but not yet written (written by `sync`, before the batch using them).
    pending: Vec<[u8; SLOT_BYTES as usize]>,
    cache: HashMap<u64, [u8; DEK_BYTES]>,
}

pub struct Crypt {
    path: PathBuf,
    journal: PathBuf,
    wrap: LessSafeKey,
    names: hmac::Key,
    ring: Mutex<Ring>,
    rng: SystemRandom,
    source: KeySource,
    /// Appends to the shred journal and its replays, one at a time: a replay racing a batch
    /// must not drop the entry the batch just wrote.
    journal_lock: Mutex<()>,
}

impl std::fmt::Debug for Crypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crypt").field("path", &self.path).finish()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CryptError + '_ {
    move |source| CryptError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn slot_nonce(slot: u64) -> Nonce {
    let mut n = [0u8; NONCE_BYTES];
    n[..8].copy_from_slice(&slot.to_le_bytes());
    Nonce::assume_unique_for_key(n)
}

fn aead_key(bytes: &[u8]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).expect("32-byte key"))
}

/// The key that wraps data keys, derived from the master key material (HKDF-SHA256).
fn wrapping_key(master: &[u8]) -> LessSafeKey {
    let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"deskmail store").extract(master);
    let mut out = [0u8; DEK_BYTES];
    prk.expand(&[b"keyring wrap"], ring::hkdf::HKDF_SHA256)
        .and_then(|okm| okm.fill(&mut out))
        .expect("HKDF-SHA256 gives 32 bytes");
    aead_key(&out)
}

/// The master key: the environment's, else `store/master.key` (made now if missing).
pub fn master_key(store_dir: &Path) -> Result<(Vec<u8>, KeySource), CryptError> {
    if let Some(m) = crate::secret::from_env("store master key", "DESKMAIL_STORE_KEY")? {
        return Ok((m, KeySource::External));
    }
    let path = store_dir.join("master.key");
    if !path.exists() {
        make_master_key(&path)?;
    }
    let m = crate::secret::from_file("store master key", &path)?;
    Ok((m, KeySource::InDirectory(path)))
}

/// Makes `path` a new random key, whole or not at all: written and synced under a name of its
/// own, then linked to `path` (which fails when another opener made one first: that one is
/// kept) and the directory synced. A crash leaves at most the temporary file, never an empty
/// or partial key that every later open would refuse.
fn make_master_key(path: &Path) -> Result<(), CryptError> {
    let rng = SystemRandom::new();
    let mut key = [0u8; 32];
    let mut tag = [0u8; 4];
    rng.fill(&mut key)
        .and_then(|()| rng.fill(&mut tag))
        .expect("the system's random source");
    let tmp = path.with_extension(format!(
        "key.tmp-{}-{}",
        std::process::id(),
        hex::encode(tag)
    ));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(format!("{}\n", hex::encode(key)).as_bytes())?;
            f.sync_all()
        });
    let linked = written.and_then(|()| match std::fs::hard_link(&tmp, path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = std::fs::remove_file(&tmp);
    linked.map_err(io(path))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

impl Crypt {
    /// Open (or make) the keyring in `store_dir` with the master key the environment names.
    pub fn open(store_dir: &Path) -> Result<Crypt, CryptError> {
        let (master, source) = master_key(store_dir)?;
        Crypt::open_with(store_dir, &master, source)
    }

    pub fn open_with(
        store_dir: &Path,
        master: &[u8],
        source: KeySource,
    ) -> Result<Crypt, CryptError> {
        let path = store_dir.join("keyring");
        let file = super::permissions::open_private_rw(&path).map_err(io(&path))?;
        let len = file.metadata().map_err(io(&path))?.len();
        let head = MAGIC.len() as u64;
        let wrap = wrapping_key(master);
        let rng = SystemRandom::new();
        let mut crypt = Crypt {
            journal: store_dir.join("keyring.shred"),
            path: path.clone(),
            wrap,
            names: hmac::Key::new(hmac::HMAC_SHA256, &[0u8; 32]),
            ring: Mutex::new(Ring {
                file,
                on_disk: 0,
                pending: Vec::new(),
                cache: HashMap::new(),
            }),
            rng,
            source,
            journal_lock: Mutex::new(()),
        };
        if len == 0 {
            // A new keyring: its magic, then slot 0 with the names key.
            let ring = crypt.ring.get_mut().expect("not shared yet");
            ring.file.write_all_at(MAGIC, 0).map_err(io(&path))?;
            let slot = crypt.allocate()?;
            debug_assert_eq!(slot.0, NAMES_SLOT);
            crypt.sync()?;
        } else {
            let ring = crypt.ring.get_mut().expect("not shared yet");
            let mut magic = [0u8; 8];
            ring.file.read_exact_at(&mut magic, 0).map_err(io(&path))?;
            if &magic != MAGIC {
                return Err(CryptError::NotAKeyring { path });
            }
            // A slot torn by a crash while appending was never referred to: drop it.
            ring.on_disk = (len.saturating_sub(head)) / SLOT_BYTES;
            let whole = head + ring.on_disk * SLOT_BYTES;
            if whole != len {
                ring.file.set_len(whole).map_err(io(&path))?;
            }
        }
        let names = match crypt.data_key(NAMES_SLOT) {
            Ok(k) => k,
            Err(CryptError::Damaged { .. }) => return Err(CryptError::WrongKey { path }),
            Err(e) => return Err(e),
        };
        crypt.names = hmac::Key::new(hmac::HMAC_SHA256, &names);
        Ok(crypt)
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    pub fn keyring_path(&self) -> &Path {
        &self.path
    }

    /// A new data key in a new slot (written at the next [`Crypt::sync`]).
    pub fn allocate(&self) -> Result<(u64, [u8; DEK_BYTES]), CryptError> {
        let mut dek = [0u8; DEK_BYTES];
        self.rng.fill(&mut dek).expect("the system's random source");
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let slot = ring.on_disk + ring.pending.len() as u64;
        let mut wrapped = dek.to_vec();
        self.wrap
            .seal_in_place_append_tag(slot_nonce(slot), Aad::from(MAGIC), &mut wrapped)
            .expect("sealing 32 bytes");
        let mut cell = [0u8; SLOT_BYTES as usize];
        cell.copy_from_slice(&wrapped);
        ring.pending.push(cell);
        remember(&mut ring.cache, slot, dek);
        Ok((slot, dek))
    }

    /// Write the slots allocated since the last sync and make them durable. Called before the
    /// batch that refers to them is applied.
    pub fn sync(&self) -> Result<(), CryptError> {
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if ring.pending.is_empty() {
            return Ok(());
        }
        let bytes: Vec<u8> = ring.pending.iter().flatten().copied().collect();
        let at = MAGIC.len() as u64 + ring.on_disk * SLOT_BYTES;
        ring.file
            .write_all_at(&bytes, at)
            .and_then(|()| ring.file.sync_data())
            .map_err(io(&self.path))?;
        ring.on_disk += ring.pending.len() as u64;
        ring.pending.clear();
        Ok(())
    }

    /// The data key in a slot.
    pub fn data_key(&self, slot: u64) -> Result<[u8; DEK_BYTES], CryptError> {
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = ring.cache.get(&slot) {
            return Ok(*k);
        }
        let mut cell = [0u8; SLOT_BYTES as usize];
        if slot < ring.on_disk {
            ring.file
                .read_exact_at(&mut cell, MAGIC.len() as u64 + slot * SLOT_BYTES)
                .map_err(io(&self.path))?;
        } else if let Some(p) = ring.pending.get((slot - ring.on_disk) as usize) {
            cell = *p;
        } else {
            return Err(CryptError::Damaged { slot });
        }
        if cell.iter().all(|b| *b == 0) {
            return Err(CryptError::Shredded { slot });
        }
        let dek = self
            .wrap
            .open_in_place(slot_nonce(slot), Aad::from(MAGIC), &mut cell)
            .map_err(|_| CryptError::Damaged { slot })?;
        let mut key = [0u8; DEK_BYTES];
        key.copy_from_slice(dek);
        remember(&mut ring.cache, slot, key);
        Ok(key)
    }

    /// Seal `plain` under the data key in `slot`, bound to `aad` (the record's key).
    pub fn seal(&self, slot: u64, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, CryptError> {
        let dek = self.data_key(slot)?;
        let mut nonce = [0u8; NONCE_BYTES];
        self.rng
            .fill(&mut nonce)
            .expect("the system's random source");
        let mut out = Vec::with_capacity(ENVELOPE_HEAD + plain.len() + TAG_BYTES);
        out.push(SEALED);
        out.extend_from_slice(&slot.to_le_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let mut body = out.split_off(ENVELOPE_HEAD);
        aead_key(&dek)
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut body,
            )
            .expect("sealing in memory");
        out.append(&mut body);
        Ok(out)
    }

    /// Open a value: sealed ones are decrypted, values from before encryption returned as
    /// they are.
    pub fn unseal<'v>(
        &self,
        aad: &[u8],
        value: &'v [u8],
    ) -> Result<std::borrow::Cow<'v, [u8]>, CryptError> {
        let Some(slot) = sealed_slot(value) else {
            return Ok(std::borrow::Cow::Borrowed(value));
        };
        let dek = self.data_key(slot)?;
        let mut nonce = [0u8; NONCE_BYTES];
        nonce.copy_from_slice(&value[9..ENVELOPE_HEAD]);
        let mut body = value[ENVELOPE_HEAD..].to_vec();
        let plain = aead_key(&dek)
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut body,
            )
            .map_err(|_| CryptError::Damaged { slot })?;
        let n = plain.len();
        body.truncate(n);
        Ok(std::borrow::Cow::Owned(body))
    }

    /// Destroy data keys: zeros over their slots, synced. What they sealed is unreadable.
    pub fn shred(&self, slots: &[u64]) -> Result<(), CryptError> {
        if slots.is_empty() {
            return Ok(());
        }
        self.sync()?;
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let zeros = [0u8; SLOT_BYTES as usize];
        for &slot in slots {
            if slot == NAMES_SLOT || slot >= ring.on_disk {
                continue;
            }
            ring.cache.remove(&slot);
            ring.file
                .write_all_at(&zeros, MAGIC.len() as u64 + slot * SLOT_BYTES)
                .map_err(io(&self.path))?;
        }
        ring.file.sync_data().map_err(io(&self.path))
    }

    /// A record name (subject, Message-ID, address) as it is kept in a key: the first 16
    /// bytes of HMAC-SHA256 under the names key, so the key space holds no text in clear.
    pub fn name(&self, space: u8, clear: &[u8]) -> Vec<u8> {
        let mut ctx = hmac::Context::with_key(&self.names);
        ctx.update(&[space]);
        ctx.update(clear);
        ctx.sign().as_ref()[..NAME_BYTES].to_vec()
    }

    /// Remember slots to shred once the batch that stopped using them is durable; the journal
    /// survives a crash in between (replayed by [`Crypt::replay_journal`]).
    pub fn journal(&self, entries: &[(u64, Vec<u8>)]) -> Result<(), CryptError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::new();
        for (slot, key) in entries {
            buf.extend_from_slice(&slot.to_le_bytes());
            buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
            buf.extend_from_slice(key);
        }
        let _one_at_a_time = self.journal_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut f = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.journal)
            .map_err(io(&self.journal))?;
        f.write_all(&buf)
            .and_then(|()| f.sync_data())
            .map_err(io(&self.journal))
    }

    /// Shred what the journal lists whose record no longer refers to it (`live` answers which
    /// slot the record at a key is sealed under now). Entries whose record still uses its
    /// slot (a batch not applied yet, or one that failed) stay for the next replay.
    pub fn replay_journal(
        &self,
        live: impl Fn(&[u8]) -> Result<Option<u64>, CryptError>,
    ) -> Result<usize, CryptError> {
        let _one_at_a_time = self.journal_lock.lock().unwrap_or_else(|p| p.into_inner());
        let bytes = match std::fs::read(&self.journal) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io(&self.journal)(e)),
        };
        if bytes.is_empty() {
            return Ok(0);
        }
        let mut dead = Vec::new();
        let mut keep = Vec::new();
        let mut at = 0;
        while at + 12 <= bytes.len() {
            let slot = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
            let n = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().expect("4 bytes"));
            let end = at + 12 + n as usize;
            if end > bytes.len() {
                break; // torn by a crash: its batch never applied, nothing to shred
            }
            if live(&bytes[at + 12..end])? == Some(slot) {
                keep.extend_from_slice(&bytes[at..end]);
            } else {
                dead.push(slot);
            }
            at = end;
        }
        self.shred(&dead)?;
        // The entries still waiting replace the journal in one rename.
        let tmp = self.journal.with_extension("shred.tmp");
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io(&tmp))?;
        f.write_all(&keep)
            .and_then(|()| f.sync_data())
            .map_err(io(&tmp))?;
        std::fs::rename(&tmp, &self.journal).map_err(io(&self.journal))?;
        Ok(dead.len())
    }

    /// Slots in the keyring and how many are shredded (for `status`).
    pub fn counts(&self) -> Result<(u64, u64), CryptError> {
        self.sync()?;
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let mut all = vec![0u8; (ring.on_disk * SLOT_BYTES) as usize];
        ring.file
            .read_exact_at(&mut all, MAGIC.len() as u64)
            .map_err(io(&self.path))?;
        let shredded = all
            .chunks(SLOT_BYTES as usize)
            .filter(|c| c.iter().all(|b| *b == 0))
            .count() as u64;
        Ok((ring.on_disk, shredded))
    }

    /// Wrap every live data key under a new master key into `out` (key rotation; the data is
    /// not touched). Shredded slots stay zeros.
    pub fn rewrap_into(&self, new_master: &[u8], out: &Path) -> Result<u64, CryptError> {
        self.sync()?;
        let on_disk = self.ring.lock().unwrap_or_else(|p| p.into_inner()).on_disk;
        let new_wrap = wrapping_key(new_master);
        let mut bytes = MAGIC.to_vec();
        let mut live = 0;
        for slot in 0..on_disk {
            match self.data_key(slot) {
                Ok(dek) => {
                    let mut cell = dek.to_vec();
                    new_wrap
                        .seal_in_place_append_tag(slot_nonce(slot), Aad::from(MAGIC), &mut cell)
                        .expect("sealing 32 bytes");
                    bytes.extend_from_slice(&cell);
                    live += 1;
                }
                Err(CryptError::Shredded { .. }) => {
                    bytes.extend_from_slice(&[0u8; SLOT_BYTES as usize]);
                }
                Err(e) => return Err(e),
            }
        }
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(out)
            .map_err(io(out))?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .map_err(io(out))?;
        Ok(live)
    }
}

fn remember(cache: &mut HashMap<u64, [u8; DEK_BYTES]>, slot: u64, key: [u8; DEK_BYTES]) {
    if cache.len() >= CACHE_KEYS {
        cache.clear();
    }
    cache.insert(slot, key);
}

/// The slot a sealed value names; `None` for a value from before encryption.
pub fn sealed_slot(value: &[u8]) -> Option<u64> {
    (value.len() >= ENVELOPE_HEAD + TAG_BYTES && value[0] == SEALED)
        .then(|| u64::from_le_bytes(value[1..9].try_into().expect("8 bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many openers of a new directory at once (the link that loses keeps the winner's key):
    /// one key for all, whole, private, and no temporary file left beside it.
    #[test]
    fn a_new_master_key_is_made_whole_once_for_every_opener() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<Vec<u8>> = std::thread::scope(|s| {
            let openers: Vec<_> = (0..8)
                .map(|_| s.spawn(|| master_key(dir.path()).unwrap().0))
                .collect();
            openers.into_iter().map(|o| o.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| k == &keys[0] && k.len() == 32));
        let path = dir.path().join("master.key");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim_end().len(), 64, "{text:?}");
        assert_eq!(hex::decode(text.trim_end()).unwrap(), keys[0]);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["master.key"]);
        // And the next open reads the same key.
        assert_eq!(master_key(dir.path()).unwrap().0, keys[0]);
    }

    fn crypt(dir: &Path, master: u8) -> Result<Crypt, CryptError> {
        Crypt::open_with(dir, &[master; 32], KeySource::External)
    }

    #[test]
    fn sealed_values_open_across_reopen_and_not_under_another_record_key() {
        let dir = tempfile::tempdir().unwrap();
        let c = crypt(dir.path(), 1).unwrap();
        let (slot, _) = c.allocate().unwrap();
        let sealed = c.seal(slot, b"m/abc", b"Invoice 4711 from Jane").unwrap();
        assert!(!sealed.windows(4).any(|w| w == b"Jane"));
        c.sync().unwrap();
        drop(c);
        let c = crypt(dir.path(), 1).unwrap();
        assert_eq!(
            &*c.unseal(b"m/abc", &sealed).unwrap(),
            b"Invoice 4711 from Jane"
        );
        assert!(matches!(
            c.unseal(b"m/other", &sealed),
            Err(CryptError::Damaged { .. })
        ));
        // A value from before encryption reads as it is.
        assert_eq!(
            &*c.unseal(b"m/abc", b"{\"plain\":1}").unwrap(),
            b"{\"plain\":1}"
        );
    }

    #[test]
    fn a_shredded_key_leaves_its_records_unreadable_and_its_neighbours_readable() {
        let dir = tempfile::tempdir().unwrap();
        let c = crypt(dir.path(), 1).unwrap();
        let (a, _) = c.allocate().unwrap();
        let (b, _) = c.allocate().unwrap();
        let sa = c.seal(a, b"k", b"erase me").unwrap();
        let sb = c.seal(b, b"k", b"keep me").unwrap();
        c.shred(&[a]).unwrap();
        drop(c);
        let c = crypt(dir.path(), 1).unwrap();
        assert!(matches!(
            c.unseal(b"k", &sa),
            Err(CryptError::Shredded { slot }) if slot == a
        ));
        assert_eq!(&*c.unseal(b"k", &sb).unwrap(), b"keep me");
        assert_eq!(c.counts().unwrap(), (3, 1));
    }

    #[test]
    fn another_master_key_is_refused_at_open_and_rotation_keeps_every_live_key() {
        let dir = tempfile::tempdir().unwrap();
        let c = crypt(dir.path(), 1).unwrap();
        let (a, _) = c.allocate().unwrap();
        let (b, _) = c.allocate().unwrap();
        let sb = c.seal(b, b"k", b"kept").unwrap();
        c.shred(&[a]).unwrap();
        assert!(matches!(
            crypt(dir.path(), 2),
            Err(CryptError::WrongKey { .. })
        ));
        let new = dir.path().join("keyring.new");
        assert_eq!(c.rewrap_into(&[2; 32], &new).unwrap(), 2);
        drop(c);
        std::fs::rename(&new, dir.path().join("keyring")).unwrap();
        let c = crypt(dir.path(), 2).unwrap();
        assert_eq!(&*c.unseal(b"k", &sb).unwrap(), b"kept");
        assert!(matches!(c.data_key(a), Err(CryptError::Shredded { .. })));
    }

    #[test]
    fn the_journal_shreds_only_slots_no_live_record_uses() {
        let dir = tempfile::tempdir().unwrap();
        let c = crypt(dir.path(), 1).unwrap();
        let (gone, _) = c.allocate().unwrap();
        let (still, _) = c.allocate().unwrap();
        c.journal(&[(gone, b"t/1".to_vec()), (still, b"t/2".to_vec())])
            .unwrap();
        // t/2's batch never landed: it still uses its slot.
        let n = c
            .replay_journal(|k| Ok((k == b"t/2").then_some(still)))
            .unwrap();
        assert_eq!(n, 1);
        assert!(matches!(c.data_key(gone), Err(CryptError::Shredded { .. })));
        assert!(c.data_key(still).is_ok());
        // t/2's entry waits for its batch; once the record no longer uses the slot, it goes.
        assert_eq!(c.replay_journal(|_| Ok(None)).unwrap(), 1);
        assert!(matches!(
            c.data_key(still),
            Err(CryptError::Shredded { .. })
        ));
        assert_eq!(
            c.replay_journal(|_| Ok(None)).unwrap(),
            0,
            "journal emptied"
        );
    }

    #[test]
    fn a_torn_slot_at_the_end_is_dropped_and_names_are_stable_per_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let c = crypt(dir.path(), 1).unwrap();
        let name = c.name(b's', b"invoice 4711");
        assert_eq!(name.len(), NAME_BYTES);
        assert_ne!(name, c.name(b'i', b"invoice 4711"));
        drop(c);
        let f = OpenOptions::new()
            .append(true)
            .open(dir.path().join("keyring"))
            .unwrap();
        (&f).write_all(&[9u8; 20]).unwrap();
        let c = crypt(dir.path(), 1).unwrap();
        assert_eq!(c.name(b's', b"invoice 4711"), name);
        assert_eq!(c.counts().unwrap(), (1, 0));
    }
}
