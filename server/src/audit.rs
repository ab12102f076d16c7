//! The audit log: every read of consultation data (pull pages, reports, exports), every admin
//! action (enrolment code issued, device revoked, audit log read) and every decryption
//! request, appended with who, what, when and why.
//!
//! Entries are hash-chained: each stores `SHA-256(previous hash ‖ canonical entry)`, the
//! canonical entry being every column but the hashes, length-prefixed so no two entries
//! encode alike. Editing any column, deleting an entry or reordering entries breaks the
//! chain at the first entry touched, and [`verify`] names it. Removing entries from the end
//! leaves a valid shorter chain: compare the head ([`Verification::head`]) with one written
//! down elsewhere to detect that.
//!
//! [`append`] is the one way to write: the storage reads the head and inserts the new entry
//! in one write transaction, so concurrent requests never fork the chain. Nothing in an
//! entry is note text, a token or a code: `target` holds scopes, ids and counts only.

use chrono::{DateTime, Utc};
use fieldconsult_model::Role;
use sha2::{Digest, Sha256};

use crate::storage::{Storage, StorageError};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A page of records served to a device (`why`: `sync`).
    Pull,
    /// A monthly report served.
    Report,
    /// An export of accepted sessions served.
    Export,
    /// An enrolment code issued.
    EnrolmentCodeIssued,
    /// A device revoked.
    DeviceRevoked,
    /// The audit log read.
    AuditRead,
    /// A sealed field's decryption requested (escrow).
    DecryptionRequested,
    /// How a requested decryption ended (`outcome:opened`, or why it did not open).
    DecryptionOutcome,
}

impl AuditAction {
    /// Stable code stored in the log.
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::Pull => "pull",
            AuditAction::Report => "report",
            AuditAction::Export => "export",
            AuditAction::EnrolmentCodeIssued => "enrolment_code_issued",
            AuditAction::DeviceRevoked => "device_revoked",
            AuditAction::AuditRead => "audit_read",
            AuditAction::DecryptionRequested => "decryption_requested",
            AuditAction::DecryptionOutcome => "decryption_outcome",
        }
    }
}

/// Who acted: a device, or the admin at the server's command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Who {
    /// The device id, or `cli`.
    pub id: String,
    /// The role's kind code (`team_member`, `hq_analyst`, ...), or `cli`.
    pub role: String,
}

impl Who {
    /// A device of `role`.
    pub fn device(id: &str, role: &Role) -> Self {
        Who {
            id: id.to_owned(),
            role: role.kind_code().to_owned(),
        }
    }

    /// The admin at the server's command line.
    pub fn cli() -> Self {
        Who {
            id: "cli".to_owned(),
            role: "cli".to_owned(),
        }
    }
}

/// An entry to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// Who.
    pub who: Who,
    /// What was done.
    pub action: AuditAction,
    /// To what: a scope, record ids, counts. Never note text, tokens or codes.
    pub target: String,
    /// Why, as the requester stated it (`sync` for pulls).
    pub why: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An entry as stored: every column as text, exactly as hashed, so that verification
/// reads what is there rather than what a parser would make of it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StoredAuditEntry {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Device id, or `cli`.
    pub device_id: String,
    /// Role kind code, or `cli`.
    pub role: String,
    /// [`AuditAction::code`].
    pub action: String,
    /// Scope, ids, counts.
    pub target: String,
    /// Stated reason.
    pub why: String,
    /// Hash of the entry before ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// `SHA-256(prev_hash ‖ canonical entry)`, hex.
    pub hash: String,
}

impl StoredAuditEntry {
    /// Builds the entry at `seq` after `prev_hash`, with its hash.
    pub fn chain(entry: &AuditEntry, seq: u64, prev_hash: &str) -> Self {
        let mut e = StoredAuditEntry {
            seq,
            at: entry
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            device_id: entry.who.id.clone(),
            role: entry.who.role.clone(),
            action: entry.action.code().to_owned(),
            target: entry.target.clone(),
            why: entry.why.clone(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        e.hash = e.expected_hash();
        e
    }

    /// The hash this entry's columns and `prev_hash` call for.
    pub fn expected_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.prev_hash.as_bytes());
        let seq = self.seq.to_string();
        for field in [
            seq.as_str(),
            &self.at,
            &self.device_id,
            &self.role,
            &self.action,
            &self.target,
            &self.why,
        ] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Why an audit operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Appends `entry` to the chain; the one way to write the audit log.
pub fn append(storage: &dyn Storage, entry: &AuditEntry) -> Result<StoredAuditEntry, AuditError> {
    Ok(storage.audit_append(entry)?)
}

/// How the chain was found broken at an entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "problem")]
pub enum Break {
    /// Entries are missing before this one (deleted, or rows moved).
    Gap {
        /// The position the entry should have.
        expected_seq: u64,
    },
    /// The entry does not follow the one before it (reordered, or an entry before it was
    /// removed and the rest renumbered).
    NotChained,
    /// The entry's columns were changed after it was written.
    Altered,
}

/// The first entry where the chain breaks.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BrokenAt {
    /// The entry's `seq` as stored.
    pub seq: u64,
    /// How.
    #[serde(flatten)]
    pub problem: Break,
}

/// The result of checking the chain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    /// Entries checked.
    pub entries: u64,
    /// Hash of the last entry ([`GENESIS`] when empty): write it down to detect truncation.
    pub head: String,
    /// The first broken entry; `None` when the chain holds.
    pub first_broken: Option<BrokenAt>,
}

/// Checks the whole chain, in `seq` order, and names the first entry that breaks it.
pub fn verify(storage: &dyn Storage) -> Result<Verification, AuditError> {
    Ok(verify_entries(&storage.audit_entries(0, u32::MAX)?))
}

/// Checks `entries` (the whole log, in stored order) as a chain from [`GENESIS`].
pub fn verify_entries(entries: &[StoredAuditEntry]) -> Verification {
    let mut prev = GENESIS.to_owned();
    let mut first_broken = None;
    for (i, e) in entries.iter().enumerate() {
        let expected_seq = i as u64 + 1;
        let problem = if e.seq != expected_seq {
            Some(Break::Gap { expected_seq })
        } else if e.prev_hash != prev {
            Some(Break::NotChained)
        } else if e.hash != e.expected_hash() {
            Some(Break::Altered)
        } else {
            None
        };
        if let Some(problem) = problem {
            first_broken = Some(BrokenAt {
                seq: e.seq,
                problem,
            });
            break;
        }
        prev = e.hash.clone();
    }
    Verification {
        entries: entries.len() as u64,
        head: entries
            .last()
            .map_or_else(|| GENESIS.to_owned(), |e| e.hash.clone()),
        first_broken,
    }
}
