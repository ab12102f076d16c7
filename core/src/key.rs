//! The database key: 32 raw bytes from the platform keystore (Android Keystore, iOS
//! Keychain). A raw key skips SQLCipher's passphrase derivation, so opening is fast, and it
//! is wiped from memory when dropped.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};

/// A 32-byte SQLCipher key. Its `Debug` never shows the bytes.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DatabaseKey([u8; 32]);

impl DatabaseKey {
    /// Key length in bytes.
    pub const LEN: usize = 32;

    /// A key from exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let raw: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::InvalidKeyLength { len: bytes.len() })?;
        Ok(DatabaseKey(raw))
    }

    /// The `PRAGMA key` / `PRAGMA rekey` statement for this raw key; wiped when dropped.
    pub(crate) fn pragma(&self, name: &str) -> Zeroizing<String> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = Zeroizing::new(String::with_capacity(80));
        s.push_str("PRAGMA ");
        s.push_str(name);
        s.push_str(" = \"x'");
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        s.push_str("'\";");
        s
    }
}

impl fmt::Debug for DatabaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DatabaseKey(..)")
    }
}
