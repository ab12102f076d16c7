//! Secret key files the admin keeps (the mission root key, the escrow key): 32 bytes as 64
//! lowercase hex characters and a newline, in a file created for its owner only (0600) and
//! never overwritten, since devices or sealed notes depend on the key it already holds.

use std::io::Write;
use std::path::Path;

use zeroize::Zeroizing;

/// Length of every secret these files hold.
pub const SECRET_LEN: usize = 32;

/// Why a key file could not be written or read. Never carries key bytes.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be created, written or read.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The file does not hold 64 lowercase hex characters.
    #[error("the key file does not hold a key (64 lowercase hex characters)")]
    NotAKey,
}

/// Creates `out` readable and writable by its owner only and writes `secret` into it as hex.
/// Fails, writing nothing, if `out` exists.
pub fn create_secret_file(out: &Path, secret: &[u8; SECRET_LEN]) -> Result<(), KeyFileError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let io = |what| move |source| KeyFileError::Io { what, source };
    let mut file = options.open(out).map_err(io("create the key file"))?;
    // Built in place, so that no unwiped copy of the hex is left behind.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = Zeroizing::new(String::with_capacity(SECRET_LEN * 2 + 1));
    for b in secret {
        hex.push(char::from(DIGITS[usize::from(b >> 4)]));
        hex.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    hex.push('\n');
    file.write_all(hex.as_bytes())
        .map_err(io("write the key file"))?;
    file.sync_all().map_err(io("write the key file"))
}

/// Reads the secret [`create_secret_file`] wrote; it is wiped from memory when dropped.
pub fn read_secret_file(path: &Path) -> Result<Zeroizing<[u8; SECRET_LEN]>, KeyFileError> {
    let text =
        Zeroizing::new(
            std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
                what: "read the key file",
                source,
            })?,
        );
    let text = text.trim();
    if text.len() != SECRET_LEN * 2 {
        return Err(KeyFileError::NotAKey);
    }
    let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
    for (i, pair) in text.as_bytes().chunks_exact(2).enumerate() {
        let digits = std::str::from_utf8(pair).map_err(|_| KeyFileError::NotAKey)?;
        if digits.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(KeyFileError::NotAKey);
        }
        secret[i] = u8::from_str_radix(digits, 16).map_err(|_| KeyFileError::NotAKey)?;
    }
    Ok(secret)
}
