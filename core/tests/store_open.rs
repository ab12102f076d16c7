//! Opening, keying, re-keying and wiping the encrypted store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Fixture, key};
use fieldconsult_core::{DatabaseKey, Error, Store};
use fieldconsult_model::Group;

fn file_bytes(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn database_file_does_not_look_like_sqlite() {
    let f = Fixture::new();
    f.saved_session(Group::Women);
    f.store.checkpoint().unwrap();
    let bytes = file_bytes(&f.path);
    assert!(bytes.len() >= 4096, "database holds at least one page");
    assert_ne!(&bytes[..16], b"SQLite format 3\0");
}

#[test]
fn wrong_key_is_a_typed_error_and_leaves_the_file_intact() {
    let f = Fixture::new();
    let s = f.saved_session(Group::Women);
    let (path, _dir) = f.close();
    let before: Vec<Vec<u8>> = Store::files(&path)
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_default())
        .collect();

    let err = Store::open(&path, &key(8)).unwrap_err();
    assert!(matches!(err, Error::WrongKey), "got {err:?}");

    let after: Vec<Vec<u8>> = Store::files(&path)
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_default())
        .collect();
    assert_eq!(before, after, "a failed open must not write a byte");
    let store = Store::open(&path, &key(7)).unwrap();
    assert_eq!(store.get_session(&s.id).unwrap().session.id, s.id);
}

#[test]
fn key_must_be_32_bytes() {
    for len in [0, 16, 31, 33, 64] {
        let err = DatabaseKey::from_bytes(&vec![1; len]).unwrap_err();
        assert!(matches!(err, Error::InvalidKeyLength { len: l } if l == len));
    }
}

#[test]
fn key_debug_never_shows_the_bytes() {
    assert_eq!(format!("{:?}", key(0xab)), "DatabaseKey(..)");
}

#[test]
fn change_key_reencrypts_in_place() {
    let f = Fixture::new();
    let s = f.saved_session(Group::Men);
    f.store.change_key(&key(9)).unwrap();
    // The open store keeps working after the re-key.
    let s2 = f.saved_session(Group::Women);
    let (path, _dir) = f.close();

    assert!(matches!(
        Store::open(&path, &key(7)).unwrap_err(),
        Error::WrongKey
    ));
    let store = Store::open(&path, &key(9)).unwrap();
    assert_eq!(store.get_session(&s.id).unwrap().session, s);
    assert_eq!(store.get_session(&s2.id).unwrap().session, s2);
}

#[test]
fn store_runs_with_durable_and_secure_settings() {
    let f = Fixture::new();
    let settings = f.store.settings().unwrap();
    assert!(!settings.cipher_version.is_empty(), "SQLCipher linked");
    assert_eq!(settings.journal_mode, "wal");
    assert!(settings.synchronous_full);
    assert!(settings.foreign_keys);
    assert!(settings.secure_delete);
    assert!(settings.temp_store_memory);
    assert_eq!(
        settings.schema_version,
        fieldconsult_core::store::schema::latest_version()
    );
}

#[test]
fn database_from_a_newer_app_is_refused_and_left_alone() {
    let f = Fixture::new();
    let Fixture {
        store,
        path,
        dir: _dir,
        ..
    } = f;
    let newer = fieldconsult_core::store::schema::latest_version() + 1;
    {
        let conn = common::raw_connection(&path);
        conn.execute_batch(&format!("PRAGMA user_version = {newer};"))
            .unwrap();
    }
    drop(store);
    let err = Store::open(&path, &key(7)).unwrap_err();
    assert!(
        matches!(err, Error::NewerSchema { found, supported } if found == newer && supported == newer - 1),
        "got {err:?}"
    );
    let conn = common::raw_connection(&path);
    let v: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, newer, "the newer database was not downgraded");
}

#[test]
fn wipe_removes_the_database_and_every_companion_file() {
    let f = Fixture::new();
    f.saved_session(Group::Women);
    let Fixture {
        store, path, dir, ..
    } = f;
    assert!(path.exists());
    assert!(Store::files(&path)[1].exists(), "WAL exists while open");
    store.wipe().unwrap();
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

#[test]
fn reopening_keeps_everything_committed() {
    let f = Fixture::new();
    let s = f.submitted_session(Group::Women);
    let (path, _dir) = f.close();
    let store = Store::open(&path, &key(7)).unwrap();
    let rec = store.get_session(&s.id).unwrap();
    assert_eq!(rec.session, s);
    assert_eq!(rec.revision, 2);
}

#[test]
fn integrity_check_finds_a_page_altered_on_disk() {
    let f = Fixture::new();
    for _ in 0..20 {
        f.saved_session(Group::Women);
    }
    assert_eq!(f.store.integrity_check().unwrap(), Vec::<String>::new());
    let (path, _dir) = f.close();
    // One byte in the middle of the last page: the first page, which opening reads, is
    // untouched, so only the check can notice.
    let mut bytes = file_bytes(&path);
    let pages = bytes.len() / 4096;
    assert!(pages >= 3, "a store of {pages} pages");
    let at = (pages - 1) * 4096 + 2000;
    bytes[at] ^= 0x5a;
    std::fs::write(&path, &bytes).unwrap();

    let store = Store::open(&path, &key(7)).unwrap();
    let problems = store.integrity_check().unwrap();
    assert!(!problems.is_empty(), "the altered page went unnoticed");
    assert!(
        problems.iter().any(|p| p.contains(&pages.to_string())),
        "names the page: {problems:?}"
    );
}

#[test]
fn panic_wipe_leaves_zeros_where_the_database_was_and_no_file() {
    let f = Fixture::new();
    for _ in 0..10 {
        f.saved_session(Group::Men);
    }
    let Fixture {
        store, path, dir, ..
    } = f;
    // A second name for the same blocks, as an attacker's copy would be: after the wipe it
    // must hold nothing of the database.
    let witness = dir.path().join("witness");
    std::fs::hard_link(&path, &witness).unwrap();
    let before = file_bytes(&witness);
    assert!(before.iter().any(|b| *b != 0));
    store.panic_wipe().unwrap();
    for file in Store::files(&path) {
        assert!(!file.exists(), "{} left behind", file.display());
    }
    let after = file_bytes(&witness);
    assert!(
        after.len() >= before.len(),
        "the file was overwritten, not truncated"
    );
    assert!(after.iter().all(|b| *b == 0), "ciphertext left on disk");
}

#[test]
fn destroy_files_needs_no_key_and_ignores_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("never-created.db");
    Store::destroy_files(&path).unwrap();
    std::fs::write(&path, b"ciphertext").unwrap();
    Store::destroy_files(&path).unwrap();
    assert!(!path.exists());
}

#[test]
fn a_lost_key_is_key_unavailable_and_never_a_new_empty_store() {
    use fieldconsult_core::StoreOptions;
    let f = Fixture::new();
    let s = f.saved_session(Group::Women);
    let (path, _dir) = f.close();
    let before = file_bytes(&path);
    let err = Store::open_with_key(&path, None, StoreOptions::default()).unwrap_err();
    assert!(
        matches!(err, Error::KeyUnavailable { store_exists: true }),
        "got {err:?}"
    );
    assert_eq!(
        file_bytes(&path),
        before,
        "the locked store is left as it was"
    );
    let store = Store::open_with_key(&path, Some(&key(7)), StoreOptions::default()).unwrap();
    assert_eq!(store.get_session(&s.id).unwrap().session.id, s.id);

    let fresh = path.with_file_name("never-created.db");
    let err = Store::open_with_key(&fresh, None, StoreOptions::default()).unwrap_err();
    assert!(matches!(
        err,
        Error::KeyUnavailable {
            store_exists: false
        }
    ));
    assert!(!fresh.exists(), "nothing is created without a key");
}
