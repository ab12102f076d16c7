//! The core's error type. Messages name what was wrong and where, never user text: they are
//! safe to log and to show.

use fieldconsult_model::{FieldWarning, TransitionError, ValidationErrors};

/// Result with the core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the device core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key does not open this database. The file is left untouched.
    #[error("the key does not open this database")]
    WrongKey,
    /// No key was given: the platform keystore lost it (a restored backup, a reset lock
    /// screen). Nothing was opened or created. When `store_exists`, a database is at the path
    /// that no one can read any more: the device must be reset and enrolled again.
    #[error("no database key is available (a store exists at the path: {store_exists})")]
    KeyUnavailable {
        /// Whether a database (or one of its companion files) is at the path.
        store_exists: bool,
    },
    /// The key is not 32 bytes.
    #[error("a database key must be 32 bytes, got {len}")]
    InvalidKeyLength {
        /// Length given.
        len: usize,
    },
    /// The library was linked against plain SQLite, without SQLCipher: refusing to store
    /// anything unencrypted.
    #[error("SQLCipher is not available in this build; refusing to open an unencrypted store")]
    EncryptionUnavailable,
    /// The database was written by a newer version of the app.
    #[error(
        "the database has schema version {found}; this version of the app supports up to {supported}"
    )]
    NewerSchema {
        /// Schema version found in the file.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
    /// The record breaks validation rules; every problem is listed.
    #[error("{0}")]
    Validation(#[from] ValidationErrors),
    /// Free text of the session being submitted, or of the visit being saved, looks like a
    /// phone number, an e-mail address or precise coordinates, and the author has not
    /// confirmed it; every such field is listed (path and kind, never the text). Submit or
    /// save again confirming them once checked.
    #[error("{} warning(s) to confirm: {}", warnings.len(), list_warnings(warnings))]
    UnconfirmedWarnings {
        /// The unconfirmed warnings.
        warnings: Vec<FieldWarning>,
    },
    /// The workflow or the actor's role does not allow this action.
    #[error("{0}")]
    Transition(#[from] TransitionError),
    /// No such record.
    #[error("{entity} {id} not found")]
    NotFound {
        /// Kind of record.
        entity: &'static str,
        /// Its id.
        id: String,
    },
    /// A pagination cursor that this store did not issue.
    #[error("invalid page cursor")]
    InvalidCursor,
    /// The device is out of storage space. Nothing of the failed write was stored.
    #[error("the device is out of storage space; nothing was saved")]
    DiskFull,
    /// The operation was cancelled through its [`crate::Progress`]; it changed nothing.
    #[error("cancelled")]
    Cancelled,
    /// A stored record could not be decoded.
    #[error("stored {entity} {id} could not be decoded")]
    Corrupt {
        /// Kind of record.
        entity: &'static str,
        /// Its id.
        id: String,
    },
    /// Schema migration failed.
    #[error("schema migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// Any other SQLite failure.
    #[error("storage error: {0}")]
    Storage(rusqlite::Error),
    /// A file operation failed.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    /// A sync (or enrolment) is already running on this store.
    #[error("a sync is already running")]
    Busy,
    /// The device has not enrolled with a mission server yet.
    #[error("the device is not enrolled")]
    NotEnrolled,
    /// The server does not know the device's token (or the enrolment code was refused):
    /// enrol again.
    #[error("the server refused the device's credentials")]
    Unauthorized,
    /// The device was revoked by the mission: its local data has been wiped and this store
    /// can no longer be used.
    #[error("the device was revoked; its data was wiped")]
    Revoked,
    /// The network failed (no connection, timeout, TLS). Nothing was lost; sync again later.
    #[error("{0}")]
    Transport(#[from] crate::sync::TransportError),
    /// The server refused or failed a request, with its stable problem type.
    #[error("the server answered {status} ({problem})")]
    Server {
        /// HTTP status.
        status: u16,
        /// The problem type (`/problems/...`), or empty when the server sent none.
        problem: String,
    },
    /// A non-empty sensitive note or a referral's service cannot be sealed: no sealing keys
    /// have arrived for the team's sector. The session stays a draft, its plaintext on this
    /// device; sync to receive the keys, or ask the mission admin to set them.
    #[error("no sealing keys for sector {sector}: the session stays a draft")]
    NoSealingKeys {
        /// The team's sector.
        sector: String,
    },
    /// The session carries no sealed value in this field to open.
    #[error("session {id} has no sealed {field}")]
    NothingSealed {
        /// The session id.
        id: String,
        /// The sealed field (`sensitive_note`, `referral.service_id`).
        field: &'static str,
    },
    /// Sealing or opening failed (no copy for this device's key, tampered, malformed).
    #[error("{0}")]
    Seal(#[from] fieldconsult_model::SealError),
    /// The server announced another mission root key than the fingerprint the enrolment
    /// QR code carries (or none): it is not the mission's server. Nothing was stored.
    #[error("the server's mission root key does not match the enrolment code")]
    RootKeyMismatch,
    /// The server's answer does not follow the sync protocol.
    #[error("unexpected answer from the server: {what}")]
    Protocol {
        /// What was wrong.
        what: &'static str,
    },
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => Error::DiskFull,
            Some(rusqlite::ErrorCode::NotADatabase) => Error::WrongKey,
            _ => Error::Storage(e),
        }
    }
}

fn list_warnings(warnings: &[FieldWarning]) -> String {
    warnings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
