//! The state file: round trips, and every way a file can be damaged is an error
//! that names the file — never `None`, never a panic. Real files in temp dirs.

use std::fs;
use std::path::{Path, PathBuf};

use ballot::store::{Damage, FORMAT_VERSION, FileStore, MemoryStore, Store, StoreError};
use ballot::{HardState, Term};

fn hs(term: u64, vote: Option<u64>) -> HardState<u64> {
    HardState {
        term: Term(term),
        voted_for: vote,
    }
}

fn tmp_of(path: &Path) -> PathBuf {
    let mut t = path.as_os_str().to_owned();
    t.push(".tmp");
    PathBuf::from(t)
}

fn damaged(result: Result<Option<HardState<u64>>, StoreError>) -> Damage {
    match result {
        Err(StoreError::Damaged { damage, .. }) => damage,
        other => panic!("expected a damaged-file error, got {other:?}"),
    }
}

#[test]
fn no_file_is_none_and_records_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state");
    let mut store = FileStore::new(&path, 1u64).unwrap();
    assert_eq!(store.load().unwrap(), None);
    for record in [
        hs(0, None),
        hs(1, Some(1)),
        hs(u64::MAX, Some(u64::MAX)),
        hs(7, None),
    ] {
        store.save(&record).unwrap();
        assert_eq!(store.load().unwrap(), Some(record));
        // A fresh store on the same file reads the same (a restart).
        assert_eq!(
            FileStore::new(&path, 1u64).unwrap().load().unwrap(),
            Some(record)
        );
    }
    assert!(!tmp_of(&path).exists(), "no temp file left behind");
    assert_eq!(
        fs::metadata(&path).unwrap().len() as usize,
        FileStore::<u64>::record_len()
    );
}

#[test]
fn byte_array_and_small_integer_ids_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let uuid = [0xAB; 16];
    let mut store = FileStore::new(dir.path().join("uuid"), uuid).unwrap();
    let record = HardState {
        term: Term(9),
        voted_for: Some([0x01; 16]),
    };
    store.save(&record).unwrap();
    assert_eq!(store.load().unwrap(), Some(record));
    let mut small = FileStore::new(dir.path().join("u8"), 3u8).unwrap();
    small
        .save(&HardState {
            term: Term(2),
            voted_for: Some(0),
        })
        .unwrap();
    assert_eq!(small.load().unwrap().unwrap().voted_for, Some(0));
}

#[cfg(unix)] // writes single bytes in place with `FileExt::write_all_at`
#[test]
fn every_single_byte_corruption_is_an_error_naming_the_file() {
    use std::os::unix::fs::FileExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state");
    let mut store = FileStore::new(&path, 42u64).unwrap();
    store.save(&hs(123_456, Some(7))).unwrap();
    let good = fs::read(&path).unwrap();
    // Change one byte in place (no truncate/create per case: 10,000 cases stay fast).
    let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    let mut checked = 0;
    for i in 0..good.len() {
        for value in 0..=255u8 {
            if value == good[i] {
                continue;
            }
            file.write_all_at(&[value], i as u64).unwrap();
            let result = store.load();
            let message = match &result {
                Err(e @ StoreError::Damaged { .. }) => e.to_string(),
                other => panic!("byte {i} set to {value:#04x}: expected an error, got {other:?}"),
            };
            assert!(message.contains(&*path.to_string_lossy()), "{message}");
            checked += 1;
        }
        file.write_all_at(&good[i..=i], i as u64).unwrap();
    }
    assert_eq!(
        store.load().unwrap(),
        Some(hs(123_456, Some(7))),
        "restored"
    );
    assert_eq!(checked, good.len() * 255);
}

#[test]
fn every_truncation_and_an_appended_byte_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state");
    let mut store = FileStore::new(&path, [7u8; 16]).unwrap();
    store
        .save(&HardState {
            term: Term(5),
            voted_for: Some([1u8; 16]),
        })
        .unwrap();
    let good = fs::read(&path).unwrap();
    for len in 0..good.len() {
        fs::write(&path, &good[..len]).unwrap();
        match store.load() {
            Err(StoreError::Damaged {
                damage: Damage::Length { expected, found },
                ..
            }) => {
                assert_eq!((expected, found), (good.len(), len));
            }
            other => panic!("truncated to {len} bytes: expected a length error, got {other:?}"),
        }
    }
    let mut longer = good.clone();
    longer.push(0);
    fs::write(&path, &longer).unwrap();
    assert!(matches!(
        store.load(),
        Err(StoreError::Damaged {
            damage: Damage::Length { .. },
            ..
        })
    ));
}

#[test]
fn another_nodes_file_another_version_and_other_id_types_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state");
    FileStore::new(&path, 1u64)
        .unwrap()
        .save(&hs(3, Some(1)))
        .unwrap();
    assert_eq!(
        damaged(FileStore::new(&path, 2u64).unwrap().load()),
        Damage::OtherNode
    );
    let mut bytes = fs::read(&path).unwrap();
    bytes[8..10].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    fs::write(&path, &bytes).unwrap();
    assert_eq!(
        damaged(FileStore::new(&path, 1u64).unwrap().load()),
        Damage::Version {
            found: FORMAT_VERSION + 1,
            supported: FORMAT_VERSION
        }
    );
    // A u64 node's file read as a u32 node's: a different record length.
    FileStore::new(&path, 1u64)
        .unwrap()
        .save(&hs(3, Some(1)))
        .unwrap();
    let as_u32 = FileStore::new(&path, 1u32).unwrap().load();
    assert!(
        matches!(as_u32, Err(StoreError::Damaged { .. })),
        "{as_u32:?}"
    );
}

#[test]
fn a_crash_between_the_temp_write_and_the_rename_keeps_the_previous_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state");
    let mut store = FileStore::new(&path, 1u64).unwrap();
    store.save(&hs(4, Some(2))).unwrap();
    // What a save of (5, 1) leaves when the process dies after writing and syncing
    // the temp file but before the rename: the new record in `state.tmp`.
    let other = dir.path().join("other");
    FileStore::new(&other, 1u64)
        .unwrap()
        .save(&hs(5, Some(1)))
        .unwrap();
    fs::copy(&other, tmp_of(&path)).unwrap();
    assert_eq!(
        store.load().unwrap(),
        Some(hs(4, Some(2))),
        "the old record"
    );
    // And a crash half-way through writing the temp file.
    fs::write(tmp_of(&path), b"BALLOT").unwrap();
    let mut restarted = FileStore::new(&path, 1u64).unwrap();
    assert!(!tmp_of(&path).exists(), "the stale temp file is removed");
    assert_eq!(restarted.load().unwrap(), Some(hs(4, Some(2))));
    restarted.save(&hs(6, None)).unwrap();
    assert_eq!(restarted.load().unwrap(), Some(hs(6, None)));
}

#[test]
fn a_write_that_cannot_happen_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-dir").join("state");
    let mut store = FileStore::new(&path, 1u64).unwrap();
    let err = store.save(&hs(1, Some(1))).unwrap_err();
    assert!(matches!(err, StoreError::Write { .. }), "{err:?}");
    assert!(err.to_string().contains("missing-dir"), "{err}");
    // A directory where the file should be: a read error, not `None`.
    let dir_path = dir.path().join("a-dir");
    fs::create_dir(&dir_path).unwrap();
    let read = FileStore::new(&dir_path, 1u64).unwrap().load();
    assert!(matches!(read, Err(StoreError::Read { .. })), "{read:?}");
}

#[test]
fn the_memory_store_shares_its_record_between_clones() {
    let mut store = MemoryStore::new();
    let view = store.clone();
    assert_eq!(store.load().unwrap(), None);
    store.save(&hs(2, Some(3))).unwrap();
    assert_eq!(view.get(), Some(hs(2, Some(3))));
    assert_eq!(
        MemoryStore::with(hs(1, None)).load().unwrap(),
        Some(hs(1, None))
    );
}
