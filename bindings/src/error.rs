//! The one error type apps see, mapped from the core's in one place. Cases are the ones an
//! app acts on differently; messages carry no user text.

use std::panic::{AssertUnwindSafe, catch_unwind};

use fieldconsult_core::{Error as CoreError, TransportError};
use fieldconsult_model::{SealError, TransitionError, ValidationErrors};

/// One invalid field.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct FieldProblem {
    /// Path of the field (`participants.male.age_18_29`, `priorities[2].rank`).
    pub field: String,
    /// Stable code of the problem (`required`, `out_of_range`, `wrong_sex_for_group`, ...).
    pub code: String,
    /// What is wrong, in English, for logs and developers.
    pub description: String,
}

/// Everything a FieldConsult call can fail with. Kotlin sees `FieldConsultException`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum FieldConsultError {
    /// The record breaks validation rules; every problem is listed.
    #[error("{} invalid field(s)", problems.len())]
    Validation {
        /// Every problem, each naming its field.
        problems: Vec<FieldProblem>,
    },
    /// Free text of the session being submitted or of the visit being saved looks like a
    /// phone number, an e-mail address or precise coordinates and the author has not
    /// confirmed it: show the fields, then submit with `submitSessionConfirming` or save with
    /// `saveVisitConfirming`.
    #[error("{} warning(s) to confirm", warnings.len())]
    UnconfirmedWarnings {
        /// The unconfirmed warnings (field and kind, never the text).
        warnings: Vec<crate::warnings::FieldWarning>,
    },
    /// The key does not open this database; the file was left untouched.
    #[error("the key does not open this database")]
    WrongKey,
    /// No key was given (the platform keystore lost it); nothing was opened or created. With
    /// `store_exists`, the store at the path can no longer be read: reset the device and
    /// enrol it again.
    #[error("no database key is available (a store exists: {store_exists})")]
    KeyUnavailable {
        /// Whether a database is at the path.
        store_exists: bool,
    },
    /// The key given is not 32 bytes.
    #[error("a database key must be 32 bytes, got {length}")]
    InvalidKey {
        /// Length given.
        length: u32,
    },
    /// This build lacks SQLCipher; nothing is stored unencrypted.
    #[error("encryption unavailable in this build")]
    EncryptionUnavailable,
    /// The database was written by a newer app version.
    #[error("database schema {found} is newer than this app supports ({supported})")]
    NewerSchema {
        /// Schema version in the file.
        found: u32,
        /// Newest this build knows.
        supported: u32,
    },
    /// No such record.
    #[error("{entity} {id} not found")]
    NotFound {
        /// Kind of record.
        entity: String,
        /// Its id.
        id: String,
    },
    /// The workflow does not allow this action in this status.
    #[error("cannot {action:?} a session that is {from:?}")]
    InvalidTransition {
        /// Current status.
        from: fieldconsult_model::Status,
        /// The refused action.
        action: fieldconsult_model::Action,
    },
    /// The actor's role does not allow this action on this record.
    #[error("not permitted to {action:?}")]
    NotPermitted {
        /// The refused action.
        action: fieldconsult_model::Action,
    },
    /// The store was closed or wiped.
    #[error("the store is closed")]
    Closed,
    /// A pagination cursor this store did not issue.
    #[error("invalid page cursor")]
    InvalidCursor,
    /// The device is out of storage; nothing was saved.
    #[error("the device is out of storage space")]
    DiskFull,
    /// The operation was cancelled and changed nothing.
    #[error("cancelled")]
    Cancelled,
    /// A sync is already running on this store.
    #[error("a sync is already running")]
    Busy,
    /// The device has not enrolled with a mission server.
    #[error("the device is not enrolled")]
    NotEnrolled,
    /// The server's mission root key is not the one the enrolment QR code names: it is not
    /// the mission's server. Nothing was stored.
    #[error("the server's mission root key does not match the enrolment code")]
    RootKeyMismatch,
    /// The server refused the device's credentials or the enrolment code: enrol again.
    #[error("the server refused the device's credentials")]
    Unauthorized,
    /// The mission revoked the device: its data was wiped and the store is unusable.
    #[error("the device was revoked; its data was wiped")]
    Revoked,
    /// The server's certificate was refused (`expired`, `not_yet_valid`, `wrong_host`,
    /// `unknown_issuer`, ...) during the TLS handshake; nothing was sent. Not a passing
    /// network fault: the connection may be intercepted. Do not retry in a loop.
    #[error("the server's certificate was rejected ({problem})")]
    CertificateRejected {
        /// Which check failed.
        problem: String,
    },
    /// The server's certificate is valid but holds none of the pinned keys; nothing was
    /// sent. The connection may be intercepted, or the server's keys changed without the
    /// app's pins being updated.
    #[error("the server's certificate matches none of the pinned keys")]
    PinMismatch,
    /// The app's TLS options are invalid (a malformed pin, a single pin without backup, a
    /// trust root that is not a certificate): fix the app's configuration.
    #[error("invalid TLS options: {reason}")]
    InvalidTlsOptions {
        /// What is wrong (which pin or root, by its place in the list).
        reason: String,
    },
    /// The network failed; nothing was lost: sync again later.
    #[error("network error: {reason}")]
    Network {
        /// What failed (no user data).
        reason: String,
    },
    /// The server refused or failed a request.
    #[error("the server answered {status} ({problem})")]
    Server {
        /// HTTP status.
        status: u16,
        /// Stable problem type (`/problems/...`).
        problem: String,
    },
    /// The session has a sensitive note and no sealing keys have arrived for its team's
    /// sector: it stays a draft, its note on this device. Sync, or ask the mission admin.
    #[error("no sealing keys for sector {sector}; the session stays a draft")]
    NoSealingKeys {
        /// The team's sector.
        sector: String,
    },
    /// The session carries nothing sealed in this field.
    #[error("the session has no sealed {field}")]
    NothingSealed {
        /// The field (`sensitive_note`, `referral.service_id`).
        field: String,
    },
    /// This device holds no key the field was sealed to.
    #[error("this device is not a recipient of the sealed field")]
    NotARecipient,
    /// The sealed field does not open: altered, or moved from another record or field.
    #[error("the sealed field was tampered with or moved")]
    SealedFieldTampered,
    /// The store failed (I/O, corruption, SQLite), or the server broke the protocol.
    #[error("storage error: {reason}")]
    Storage {
        /// What failed, without user data.
        reason: String,
    },
    /// A bug: a panic in the library, caught before it could crash the app, or a report the
    /// library could not render.
    #[error("internal error: {reason}")]
    Internal {
        /// The panic's literal message, or `panic` when it was formatted (and so may hold data).
        reason: String,
    },
}

impl From<ValidationErrors> for FieldConsultError {
    fn from(e: ValidationErrors) -> Self {
        FieldConsultError::Validation {
            problems: e
                .0
                .into_iter()
                .map(|p| FieldProblem {
                    field: p.field,
                    code: p.problem.code().to_owned(),
                    description: p.problem.to_string(),
                })
                .collect(),
        }
    }
}

impl From<fieldconsult_report::RenderError> for FieldConsultError {
    /// A report that cannot be rendered is a bug in the renderer, like a caught panic; the
    /// message names what failed and holds no report content.
    fn from(e: fieldconsult_report::RenderError) -> Self {
        FieldConsultError::Internal {
            reason: e.to_string(),
        }
    }
}

impl From<CoreError> for FieldConsultError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::WrongKey => FieldConsultError::WrongKey,
            CoreError::KeyUnavailable { store_exists } => {
                FieldConsultError::KeyUnavailable { store_exists }
            }
            CoreError::InvalidKeyLength { len } => FieldConsultError::InvalidKey {
                length: u32::try_from(len).unwrap_or(u32::MAX),
            },
            CoreError::EncryptionUnavailable => FieldConsultError::EncryptionUnavailable,
            CoreError::NewerSchema { found, supported } => {
                FieldConsultError::NewerSchema { found, supported }
            }
            CoreError::Validation(v) => v.into(),
            CoreError::UnconfirmedWarnings { warnings } => FieldConsultError::UnconfirmedWarnings {
                warnings: warnings.into_iter().map(Into::into).collect(),
            },
            CoreError::Transition(TransitionError::NotAllowed { from, action }) => {
                FieldConsultError::InvalidTransition { from, action }
            }
            CoreError::Transition(TransitionError::NotPermitted { action }) => {
                FieldConsultError::NotPermitted { action }
            }
            CoreError::NotFound { entity, id } => FieldConsultError::NotFound {
                entity: entity.to_owned(),
                id,
            },
            CoreError::InvalidCursor => FieldConsultError::InvalidCursor,
            CoreError::DiskFull => FieldConsultError::DiskFull,
            CoreError::Cancelled => FieldConsultError::Cancelled,
            CoreError::Busy => FieldConsultError::Busy,
            CoreError::NotEnrolled => FieldConsultError::NotEnrolled,
            CoreError::RootKeyMismatch => FieldConsultError::RootKeyMismatch,
            CoreError::Unauthorized => FieldConsultError::Unauthorized,
            CoreError::Revoked => FieldConsultError::Revoked,
            CoreError::Transport(TransportError::CertificateRejected { problem }) => {
                FieldConsultError::CertificateRejected {
                    problem: problem.as_str().to_owned(),
                }
            }
            CoreError::Transport(TransportError::PinMismatch) => FieldConsultError::PinMismatch,
            CoreError::Transport(
                e @ (TransportError::InvalidPin { .. }
                | TransportError::TooFewPins { .. }
                | TransportError::InvalidTrustRoot { .. }),
            ) => FieldConsultError::InvalidTlsOptions {
                reason: e.to_string(),
            },
            CoreError::Transport(t) => FieldConsultError::Network {
                reason: t.to_string(),
            },
            CoreError::Server { status, problem } => FieldConsultError::Server { status, problem },
            CoreError::NoSealingKeys { sector } => FieldConsultError::NoSealingKeys { sector },
            CoreError::NothingSealed { field, .. } => FieldConsultError::NothingSealed {
                field: field.to_owned(),
            },
            CoreError::Seal(SealError::NoCopyForKey { .. }) => FieldConsultError::NotARecipient,
            CoreError::Seal(SealError::Tampered | SealError::Malformed { .. }) => {
                FieldConsultError::SealedFieldTampered
            }
            CoreError::Seal(
                e @ (SealError::NoRecipients
                | SealError::TooManyRecipients { .. }
                | SealError::TooLong { .. }
                | SealError::Randomness),
            ) => FieldConsultError::Internal {
                reason: e.to_string(),
            },
            e @ (CoreError::Corrupt { .. }
            | CoreError::Migration(_)
            | CoreError::Storage(_)
            | CoreError::Io(_)
            | CoreError::Protocol { .. }) => FieldConsultError::Storage {
                reason: e.to_string(),
            },
        }
    }
}

/// Runs one exported call, turning a panic into [`FieldConsultError::Internal`].
pub(crate) fn guard<T>(
    call: impl FnOnce() -> Result<T, FieldConsultError>,
) -> Result<T, FieldConsultError> {
    catch_unwind(AssertUnwindSafe(call)).unwrap_or_else(|panic| {
        // Only a literal message: a formatted one (a `String`) may quote user text, as the
        // standard library's own string-slicing panics do.
        let reason = panic
            .downcast_ref::<&str>()
            .map_or_else(|| "panic".to_owned(), |s| (*s).to_owned());
        Err(FieldConsultError::Internal { reason })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_below_becomes_an_internal_error() {
        let result: Result<(), _> = guard(|| panic!("index out of bounds"));
        assert!(
            matches!(result, Err(FieldConsultError::Internal { ref reason }) if reason == "index out of bounds")
        );
    }

    #[test]
    fn a_formatted_panic_message_is_not_passed_on() {
        let secret = String::from("name of a survivor");
        let result: Result<(), _> = guard(|| panic!("{secret}"));
        assert!(
            matches!(result, Err(FieldConsultError::Internal { ref reason }) if reason == "panic")
        );
    }

    #[test]
    fn validation_problems_keep_field_and_code() {
        let e: FieldConsultError =
            CoreError::Validation(ValidationErrors(vec![fieldconsult_model::FieldError {
                field: "priorities[1].rank".into(),
                problem: fieldconsult_model::Problem::Duplicate,
            }]))
            .into();
        let FieldConsultError::Validation { problems } = e else {
            panic!("expected Validation");
        };
        assert_eq!(problems[0].field, "priorities[1].rank");
        assert_eq!(problems[0].code, "duplicate");
    }
}
