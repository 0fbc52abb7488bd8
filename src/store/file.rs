//! [`FileStore`]: one fixed-size, checksummed record, replaced atomically.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::vec::Vec;

use super::{Damage, Store, StoreError};
use crate::{HardState, IdBytes, Term};

/// The first bytes of every state file.
const MAGIC: [u8; 8] = *b"BALLOTHS";

/// The record format [`FileStore`] writes and reads.
pub const FORMAT_VERSION: u16 = 1;

/// Magic (8), version (2), id length (2).
const HEADER: usize = 12;

/// A node's [`HardState`] in one small file, written crash-safely.
///
/// **Record** (little-endian, `L` = [`IdBytes::LEN`] of the id type, 25 + 2L bytes):
///
/// | bytes | field |
/// | --- | --- |
/// | 8 | magic `BALLOTHS` |
/// | 2 | format version ([`FORMAT_VERSION`]) |
/// | 2 | `L` |
/// | L | the node's id (a file of another node is refused) |
/// | 8 | term |
/// | 1 | vote present (0 or 1) |
/// | L | the vote (zeros when absent) |
/// | 4 | CRC-32 (IEEE) of everything before it |
///
/// **Save** writes the record to `<file>.tmp`, fsyncs it, renames it over the file
/// and fsyncs the directory, so after a crash at any point the file holds the old
/// record or the new one. **Load**: no file ⇒ `None`; a file that is truncated,
/// damaged (any changed byte fails the checksum or a header check), of another
/// format version or another node's ⇒ a [`StoreError::Damaged`] naming the file
/// and the damage — never `None`, never a panic. A `.tmp` file left by a crash
/// before the rename is never read; [`FileStore::new`] removes it.
///
/// ```
/// use ballot::store::{FileStore, Store};
/// use ballot::{HardState, Term};
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = FileStore::new(dir.path().join("node-1.state"), 1u64).unwrap();
/// assert_eq!(store.load().unwrap(), None); // first start
/// let hs = HardState { term: Term(3), voted_for: Some(2u64) };
/// store.save(&hs).unwrap();
/// assert_eq!(store.load().unwrap(), Some(hs));
/// ```
#[derive(Debug)]
pub struct FileStore<I> {
    path: PathBuf,
    tmp: PathBuf,
    id: I,
}

impl<I: IdBytes> FileStore<I> {
    /// A store for node `id` in the file `path` (created on the first save; its
    /// directory must exist). Removes a temporary file left by a crash during a
    /// save.
    pub fn new(path: impl Into<PathBuf>, id: I) -> Result<Self, StoreError> {
        let path = path.into();
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        match fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(StoreError::Write {
                    path: tmp,
                    source: e,
                });
            }
            _ => {}
        }
        Ok(FileStore { path, tmp, id })
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The length of a record for this id type.
    pub const fn record_len() -> usize {
        HEADER + 8 + 1 + 2 * I::LEN + 4
    }

    fn encode(&self, hs: &HardState<I>) -> Vec<u8> {
        let l = I::LEN;
        let mut rec = std::vec![0u8; Self::record_len()];
        rec[..8].copy_from_slice(&MAGIC);
        rec[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        rec[10..12].copy_from_slice(&u16::try_from(l).unwrap_or(u16::MAX).to_le_bytes());
        self.id.write_bytes(&mut rec[HEADER..HEADER + l]);
        let t = HEADER + l;
        rec[t..t + 8].copy_from_slice(&hs.term.get().to_le_bytes());
        if let Some(vote) = hs.voted_for {
            rec[t + 8] = 1;
            vote.write_bytes(&mut rec[t + 9..t + 9 + l]);
        }
        let body = rec.len() - 4;
        let crc = crc32fast::hash(&rec[..body]);
        rec[body..].copy_from_slice(&crc.to_le_bytes());
        rec
    }

    fn decode(&self, rec: &[u8]) -> Result<HardState<I>, Damage> {
        let l = I::LEN;
        let expected = Self::record_len();
        if rec.len() >= 10 {
            if rec[..8] != MAGIC {
                return Err(Damage::Magic);
            }
            let version = u16::from_le_bytes([rec[8], rec[9]]);
            if version != FORMAT_VERSION {
                return Err(Damage::Version {
                    found: version,
                    supported: FORMAT_VERSION,
                });
            }
        }
        if rec.len() != expected {
            return Err(Damage::Length {
                expected,
                found: rec.len(),
            });
        }
        let id_len = usize::from(u16::from_le_bytes([rec[10], rec[11]]));
        if id_len != l {
            return Err(Damage::IdLength {
                expected: l,
                found: id_len,
            });
        }
        let body = expected - 4;
        let stored = u32::from_le_bytes([rec[body], rec[body + 1], rec[body + 2], rec[body + 3]]);
        let computed = crc32fast::hash(&rec[..body]);
        if stored != computed {
            return Err(Damage::Checksum { stored, computed });
        }
        let owner = I::read_bytes(&rec[HEADER..HEADER + l]).ok_or(Damage::Field("node id"))?;
        if owner != self.id {
            return Err(Damage::OtherNode);
        }
        let t = HEADER + l;
        let mut term = [0u8; 8];
        term.copy_from_slice(&rec[t..t + 8]);
        let voted_for = match rec[t + 8] {
            0 if rec[t + 9..t + 9 + l].iter().all(|b| *b == 0) => None,
            1 => Some(I::read_bytes(&rec[t + 9..t + 9 + l]).ok_or(Damage::Field("vote"))?),
            _ => return Err(Damage::Field("vote")),
        };
        Ok(HardState {
            term: Term(u64::from_le_bytes(term)),
            voted_for,
        })
    }

    fn write_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
        move |source| StoreError::Write {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl<I: IdBytes + Send + 'static> Store<I> for FileStore<I> {
    fn load(&mut self) -> Result<Option<HardState<I>>, StoreError> {
        let rec = match fs::read(&self.path) {
            Ok(rec) => rec,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StoreError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        self.decode(&rec)
            .map(Some)
            .map_err(|damage| StoreError::Damaged {
                path: self.path.clone(),
                damage,
            })
    }

    fn save(&mut self, hard_state: &HardState<I>) -> Result<(), StoreError> {
        let rec = self.encode(hard_state);
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&self.tmp)
            .map_err(Self::write_err(&self.tmp))?;
        file.write_all(&rec).map_err(Self::write_err(&self.tmp))?;
        file.sync_all().map_err(Self::write_err(&self.tmp))?;
        drop(file);
        fs::rename(&self.tmp, &self.path).map_err(Self::write_err(&self.path))?;
        sync_dir(&self.path).map_err(Self::write_err(&self.path))
    }
}

/// Makes the rename durable: fsync the directory holding `file`.
fn sync_dir(file: &Path) -> io::Result<()> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        // Directories cannot be opened for fsync on this platform; the rename is
        // as durable as the file system makes it.
        let _ = dir;
        Ok(())
    }
}
