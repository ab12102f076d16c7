//! Escrow decryption: the one audited way to read a sealed field (a sensitive note, or the
//! service a referral went to) away from a focal point's phone (issue 7).
//!
//! The server never holds a key that opens a sealed field. A mission that keeps an escrow key
//! makes it with `escrow-key generate` (the secret goes into a 0600 file, ideally on a machine
//! other than the server; its public half is passed to `keys set --escrow-key`), and every
//! note sealed afterwards carries a copy for it. `unseal` opens that copy with the key file
//! and prints the plaintext to stdout only.
//!
//! **Every request is audited before anything is read.** Once the reason (`why`) and the
//! session id are usable, a [`AuditAction::DecryptionRequested`] entry naming who, the session,
//! the escrow key's id and the reason is appended to the hash-chained audit log; only then is
//! the session loaded and its copy opened. If the append fails, nothing is opened. A request
//! that then fails (unknown session, no sealed note, no copy for this key, tampered) stays in
//! the log as a request: probing for sessions or trying someone else's key is exactly what an
//! auditor must see. A [`AuditAction::DecryptionOutcome`] entry then says how it ended
//! (`outcome:opened`, `outcome:no_copy_for_key`, ...); a plaintext whose outcome the log
//! cannot take is not printed. A request without a reason is refused and not audited: it
//! asked for nothing the log could justify.
//!
//! No error or log line ever carries the plaintext or key bytes; errors name the session and
//! at most the key's public id.

use std::path::Path;

use fieldconsult_model::crypto::seal::{
    self, REFERRAL_SERVICE_FIELD, RecipientKey, RecipientSecret, SENSITIVE_NOTE_FIELD, SealContext,
    SealedField,
};
use fieldconsult_model::wire::Record;
use fieldconsult_model::{SealError, Session, SessionId};
use zeroize::Zeroizing;

use crate::audit::{self, AuditAction, AuditEntry, AuditError, Who};
use crate::key_file::{self, KeyFileError};
use crate::storage::{Storage, StorageError};

/// Which sealed field of a session to open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SealedPart {
    /// The sensitive note.
    SensitiveNote,
    /// The service of the referral directory the session's referral went to (its id).
    ReferralService,
}

impl SealedPart {
    /// The field name bound into the seal and named in the audit log and errors.
    pub fn field(self) -> &'static str {
        match self {
            SealedPart::SensitiveNote => SENSITIVE_NOTE_FIELD,
            SealedPart::ReferralService => REFERRAL_SERVICE_FIELD,
        }
    }

    fn of(self, s: &Session) -> Option<&SealedField> {
        match self {
            SealedPart::SensitiveNote => s.sealed_note.as_ref(),
            SealedPart::ReferralService => s
                .referral
                .as_ref()
                .and_then(|r| r.sealed_service_id.as_ref()),
        }
    }
}

/// Longest reason accepted, in characters: a sentence or two, not a document.
pub const MAX_WHY_CHARS: usize = 1_000;

/// Who the audit log names for a command-line request: `admin-cli`, followed by the operating
/// system user when one is known (`admin-cli:alice`). The user name comes from the
/// environment (`USER`, `LOGNAME`, `USERNAME`) and is only as trustworthy as the shell the
/// admin runs in; it is kept only when it is a plain account name.
pub fn requester() -> Who {
    let user = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|u| {
            !u.is_empty()
                && u.len() <= 64
                && u.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        });
    Who {
        id: match user {
            Some(u) => format!("admin-cli:{u}"),
            None => "admin-cli".to_owned(),
        },
        role: "cli".to_owned(),
    }
}

/// Why an escrow key operation or a decryption request failed. Never carries plaintext or
/// key bytes.
#[derive(Debug, thiserror::Error)]
pub enum UnsealError {
    /// No reason was given: `--why` is required and must not be blank.
    #[error("why: a reason is required for a decryption (it is kept in the audit log)")]
    MissingWhy,
    /// The reason is not usable.
    #[error("why: {reason}")]
    InvalidWhy {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The session id is not a session id.
    #[error("session: not a session id")]
    BadSessionId,
    /// The escrow key file could not be written or read, or holds no key.
    #[error("escrow key file: {0}")]
    KeyFile(#[from] KeyFileError),
    /// The escrow key file holds bytes that are not an X25519 secret.
    #[error("escrow key file: not an escrow key")]
    NotAnEscrowKey,
    /// The random source failed: no key was made.
    #[error("the random source failed; no key was made")]
    Randomness,
    /// No session with this id is stored.
    #[error("no session {id}")]
    UnknownSession {
        /// The session id.
        id: String,
    },
    /// The session has nothing sealed in this field.
    #[error("session {id} has no sealed {field}")]
    NothingSealed {
        /// The session id.
        id: String,
        /// The field.
        field: &'static str,
    },
    /// The field was not sealed to this escrow key (another key, or sealed before the mission
    /// set one).
    #[error("session {id}: the sealed {field} has no copy for escrow key {key_id}")]
    NoCopyForKey {
        /// The session id.
        id: String,
        /// The field.
        field: &'static str,
        /// The public id of the key tried.
        key_id: String,
    },
    /// The copy does not open: tampered with, or moved from another session or field.
    #[error(
        "session {id}: the sealed {field} does not open: tampered with, or moved from another \
         session or field"
    )]
    Tampered {
        /// The session id.
        id: String,
        /// The field.
        field: &'static str,
    },
    /// The sealed field is not well formed.
    #[error("session {id}: malformed sealed {field}: {what}")]
    Malformed {
        /// The session id.
        id: String,
        /// The field.
        field: &'static str,
        /// What is malformed.
        what: &'static str,
    },
    /// The audit log could not take the request: nothing was opened.
    #[error("the audit log could not record the request, nothing was opened: {0}")]
    Audit(#[from] AuditError),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl UnsealError {
    /// The outcome code a failed opening leaves in the audit log.
    fn outcome(&self) -> &'static str {
        match self {
            UnsealError::UnknownSession { .. } => "unknown_session",
            UnsealError::NothingSealed { .. } => "nothing_sealed",
            UnsealError::NoCopyForKey { .. } => "no_copy_for_key",
            UnsealError::Tampered { .. } => "tampered",
            UnsealError::Malformed { .. } => "malformed",
            UnsealError::Storage(_) => "storage_error",
            UnsealError::MissingWhy
            | UnsealError::InvalidWhy { .. }
            | UnsealError::BadSessionId
            | UnsealError::KeyFile(_)
            | UnsealError::NotAnEscrowKey
            | UnsealError::Randomness
            | UnsealError::Audit(_) => "refused",
        }
    }
}

/// Generates an escrow key pair, writes the secret as hex to `out` (a new file readable by
/// its owner only; an existing file is never overwritten) and returns the public half, for
/// `keys set --escrow-key`.
pub fn generate_escrow_key(out: &Path) -> Result<RecipientKey, UnsealError> {
    let secret = RecipientSecret::generate().map_err(|_| UnsealError::Randomness)?;
    key_file::create_secret_file(out, &secret.to_bytes())?;
    Ok(secret.public_key().clone())
}

/// Reads the escrow secret [`generate_escrow_key`] wrote.
pub fn read_escrow_key(path: &Path) -> Result<RecipientSecret, UnsealError> {
    let bytes = key_file::read_secret_file(path)?;
    RecipientSecret::from_bytes(bytes.as_slice()).map_err(|_| UnsealError::NotAnEscrowKey)
}

/// The reason as it is audited (trimmed), or why it is refused.
pub fn check_why(why: &str) -> Result<&str, UnsealError> {
    let why = why.trim();
    if why.is_empty() {
        return Err(UnsealError::MissingWhy);
    }
    if why.chars().count() > MAX_WHY_CHARS {
        return Err(UnsealError::InvalidWhy {
            reason: "longer than 1000 characters",
        });
    }
    if why.chars().any(char::is_control) {
        // A line break would let a reason forge what looks like a second entry in a printout.
        return Err(UnsealError::InvalidWhy {
            reason: "contains control characters or line breaks",
        });
    }
    Ok(why)
}

/// Opens the escrow copy of session `session`'s sealed `part` with `escrow`, after appending
/// a [`AuditAction::DecryptionRequested`] entry for `who` with the reason `why` (naming the
/// session, the field and the key), and then a [`AuditAction::DecryptionOutcome`] entry
/// saying whether it opened (or why not). The plaintext is wiped from memory when the
/// returned value is dropped.
///
/// Refused without an audit entry: a blank or unusable `why`, a `session` that is not a
/// session id. Everything after the request entry fails with the entry kept; a plaintext whose
/// outcome the log cannot take is not handed out.
pub fn unseal(
    storage: &dyn Storage,
    session: &str,
    part: SealedPart,
    why: &str,
    who: Who,
    escrow: &RecipientSecret,
) -> Result<Zeroizing<String>, UnsealError> {
    let why = check_why(why)?;
    let session_id: SessionId = session
        .trim()
        .parse()
        .map_err(|_| UnsealError::BadSessionId)?;
    let id = session_id.to_string();
    let field = part.field();
    let key_id = escrow.public_key().key_id();
    let target = format!("session:{id} field:{field} key:{key_id}");
    let entry = |action, target: String| AuditEntry {
        who: who.clone(),
        action,
        target,
        why: why.to_owned(),
        at: chrono::Utc::now(),
    };
    audit::append(
        storage,
        &entry(AuditAction::DecryptionRequested, target.clone()),
    )?;
    let opened = open_stored(storage, &id, part, escrow);
    let outcome = match &opened {
        Ok(_) => "opened",
        Err(e) => e.outcome(),
    };
    audit::append(
        storage,
        &entry(
            AuditAction::DecryptionOutcome,
            format!("{target} outcome:{outcome}"),
        ),
    )?;
    opened
}

/// Opens the escrow copy of the stored session `id`'s sealed `part`.
fn open_stored(
    storage: &dyn Storage,
    id: &str,
    part: SealedPart,
    escrow: &RecipientSecret,
) -> Result<Zeroizing<String>, UnsealError> {
    let field = part.field();
    let id = id.to_owned();
    let stored = storage
        .get_record("session", &id)?
        .ok_or_else(|| UnsealError::UnknownSession { id: id.clone() })?;
    let Record::Session(s) = stored.record else {
        return Err(UnsealError::UnknownSession { id });
    };
    let sealed = part.of(&s).ok_or_else(|| UnsealError::NothingSealed {
        id: id.clone(),
        field,
    })?;
    seal::open(sealed, &SealContext::session_field(&id, field), escrow).map_err(|e| match e {
        SealError::NoCopyForKey { key_id } => UnsealError::NoCopyForKey {
            id: id.clone(),
            field,
            key_id,
        },
        SealError::Malformed { what } => UnsealError::Malformed {
            id: id.clone(),
            field,
            what,
        },
        // Opening only fails the ways above; anything else is a ciphertext that does not open.
        _ => UnsealError::Tampered {
            id: id.clone(),
            field,
        },
    })
}
