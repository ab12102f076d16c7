//! SQLCipher 4 pages decrypted with the raw key, as a thief who extracted the key from the
//! phone would read them: every page of the database file and every frame of its WAL, free
//! pages and superseded frames included. Shared by the tests that prove deleted text is gone
//! (`core/tests/consent.rs`, `tests/tests/residue.rs`).
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use aes::Aes256;
use aes::cipher::{Array, BlockCipherDecrypt, KeyInit};

/// SQLCipher 4 defaults: 4 KiB pages, each ending in a 16-byte IV and a 64-byte HMAC; page
/// 1 starts with the 16-byte salt in clear instead of the SQLite header.
const PAGE: usize = 4096;
const RESERVE: usize = 80;
const SALT: usize = 16;
const WAL_HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

/// Decrypts page `number` (from 1) with a raw key (no KDF: the key is the AES key).
pub fn decrypt_page(key: &[u8; 32], number: u32, page: &[u8]) -> Vec<u8> {
    assert_eq!(page.len(), PAGE, "page {number} has the wrong size");
    let cipher = Aes256::new(&Array::from(*key));
    let start = if number == 1 { SALT } else { 0 };
    let mut prev: [u8; 16] = page[PAGE - RESERVE..PAGE - RESERVE + 16]
        .try_into()
        .unwrap();
    let mut out = Vec::with_capacity(PAGE);
    // AES-256-CBC, written out: each plaintext block is the decrypted block XOR the
    // previous ciphertext block (the IV for the first).
    for block in page[start..PAGE - RESERVE].chunks(16) {
        let c: [u8; 16] = block.try_into().unwrap();
        let mut b = Array::from(c);
        cipher.decrypt_block(&mut b);
        out.extend(b.iter().zip(prev).map(|(p, x)| p ^ x));
        prev = c;
    }
    if number == 1 {
        // The header proves key and layout: page size 4096 at offset 16 (0 here, after
        // the salt), then the fixed payload fractions 64/32/32 at 21..24.
        assert_eq!(&out[0..2], &[0x10, 0x00], "page 1 did not decrypt");
        assert_eq!(&out[5..8], &[64, 32, 32], "page 1 did not decrypt");
    }
    out
}

/// `(where, plaintext)` of every page of `db` and every whole frame of `db`-wal.
pub fn decrypted_pages(db: &Path, key: &[u8; 32]) -> Vec<(String, Vec<u8>)> {
    let mut pages = Vec::new();
    let bytes = std::fs::read(db).unwrap();
    assert_eq!(bytes.len() % PAGE, 0, "the database is not whole pages");
    for (i, page) in bytes.chunks(PAGE).enumerate() {
        let number = u32::try_from(i + 1).unwrap();
        pages.push((format!("db page {number}"), decrypt_page(key, number, page)));
    }
    if let Ok(bytes) = std::fs::read(wal_path(db))
        && bytes.len() > WAL_HEADER
    {
        for (i, frame) in bytes[WAL_HEADER..].chunks(FRAME_HEADER + PAGE).enumerate() {
            if frame.len() < FRAME_HEADER + PAGE {
                continue;
            }
            let number = u32::from_be_bytes(frame[0..4].try_into().unwrap());
            let plain = decrypt_page(key, number, &frame[FRAME_HEADER..]);
            pages.push((format!("wal frame {i} (page {number})"), plain));
        }
    }
    pages
}

/// The WAL beside `db`.
pub fn wal_path(db: &Path) -> PathBuf {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
