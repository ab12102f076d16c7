//! Where the server keeps its data: one trait, [`Storage`], with the embedded SQLite backend
//! in [`sqlite`]. A PostgreSQL backend implements the same trait; the rules of a push live in
//! [`crate::push_rules`] and run against the small transaction interface [`RecordTx`], so a
//! backend provides storage, not policy.
//!
//! Every method is synchronous: the HTTP layer calls them through
//! `tokio::task::spawn_blocking`.

pub mod schema;
pub mod sqlite;

use chrono::{DateTime, Utc};
use fieldconsult_model::crypto::sign::{ChangeNonce, PublicKey};
use fieldconsult_model::wire::{Ack, PullResponse, PushChange, Record};
use fieldconsult_model::{Role, Team};

pub use sqlite::SqliteStorage;

use crate::audit::{AuditEntry, StoredAuditEntry};

/// Why a storage operation failed. Carries no record content.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// A schema migration failed.
    #[error("migration error: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// A stored body could not be read back (a bug or a damaged file).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// An immutable record (a published checklist version) already exists with other content.
    #[error("{kind} {id} already exists with different content and cannot be changed")]
    Immutable {
        /// Kind of the record.
        kind: String,
        /// Its id.
        id: String,
    },
    /// The storage lock was poisoned by a panic in another request.
    #[error("storage lock poisoned")]
    Poisoned,
    /// The push was applied in a group with others whose commit failed: nothing of it was
    /// stored, and the device sends it again.
    #[error("the group commit carrying this push failed")]
    GroupCommitFailed,
}

/// An enrolled device, as authentication finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// Device id.
    pub id: String,
    /// What it may do and see.
    pub role: Role,
    /// Whether an admin revoked it.
    pub revoked: bool,
    /// The Ed25519 key it registered at enrolment; `None` for a device enrolled before
    /// pushes were signed (everything it pushes is refused).
    pub public_key: Option<PublicKey>,
}

/// One row of the admin's device list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Device id.
    pub id: String,
    /// Label given at enrolment.
    pub label: String,
    /// Role.
    pub role: Role,
    /// When it enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A record as stored, with its hash and owner team.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRecord {
    /// The record.
    pub record: Record,
    /// Its content hash.
    pub hash: String,
    /// The team owning it; `None` for reference data.
    pub team_id: Option<String>,
}

/// Why a version left the current records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryOutcome {
    /// Replaced by a newer version.
    Superseded,
    /// A pushed edit built on an older version: the server kept its own.
    ConflictLost,
}

impl HistoryOutcome {
    /// Stable code stored in `record_history.outcome`.
    pub fn code(self) -> &'static str {
        match self {
            HistoryOutcome::Superseded => "superseded",
            HistoryOutcome::ConflictLost => "conflict_lost",
        }
    }
}

/// One entry of a record's history.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEntry {
    /// Content hash of that version.
    pub hash: String,
    /// That version.
    pub record: Record,
    /// `superseded` or `conflict_lost`.
    pub outcome: String,
    /// When it was filed.
    pub at: DateTime<Utc>,
}

/// What a backend offers inside one write transaction, for [`crate::push_rules`].
pub trait RecordTx {
    /// The current version of a record.
    fn get(&mut self, kind: &str, id: &str) -> Result<Option<StoredRecord>, StorageError>;
    /// Inserts or replaces a record and appends an entry to the change log, visible to
    /// `owner`'s team and sector (`None`: reference data, visible to all).
    fn put(
        &mut self,
        record: &Record,
        hash: &str,
        owner: Option<&Team>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
    /// Like [`RecordTx::put`], for a version the push caused but did not carry (a session a
    /// review moved): its change is for every device in scope, the pusher included, which
    /// does not hold that version.
    fn put_derived(
        &mut self,
        record: &Record,
        hash: &str,
        owner: Option<&Team>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
    /// The device whose push wrote the latest version of record `id` under any of `kinds`
    /// (a session and its tombstone share an id); `None` for reference data, derived
    /// versions and unknown records.
    fn last_author(&mut self, kinds: &[&str], id: &str) -> Result<Option<String>, StorageError>;
    /// Removes a record from the current records (its change-log entries then point at
    /// nothing and are skipped by pull).
    fn remove(&mut self, kind: &str, id: &str) -> Result<(), StorageError>;
    /// Deletes session `session_id` (or its tombstone) with its reviews, addenda and the
    /// conflict notices carrying any of them, their stored versions in `record_history`, and
    /// their change-log entries: consent was withdrawn, nothing of it may stay.
    fn erase_session(&mut self, session_id: &str) -> Result<(), StorageError>;
    /// The digest of what `device_id` signed with `nonce`, if it used that nonce before.
    fn nonce_digest(
        &mut self,
        device_id: &str,
        nonce: &ChangeNonce,
    ) -> Result<Option<String>, StorageError>;
    /// Remembers that `device_id` signed `content_digest` with `nonce`.
    fn remember_nonce(
        &mut self,
        device_id: &str,
        nonce: &ChangeNonce,
        content_digest: &str,
    ) -> Result<(), StorageError>;
    /// Files a version in `record_history`.
    fn file_history(
        &mut self,
        record: &Record,
        hash: &str,
        outcome: HistoryOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// The team with `id`, if it is known.
    fn team(&mut self, id: &str) -> Result<Option<Team>, StorageError> {
        Ok(match self.get("team", id)? {
            Some(StoredRecord {
                record: Record::Team(t),
                ..
            }) => Some(t),
            _ => None,
        })
    }
}

/// The server's storage. Implementations are shared between requests (`Arc<dyn Storage>`).
pub trait Storage: Send + Sync + 'static {
    /// Checks that the storage answers (readiness).
    fn ping(&self) -> Result<(), StorageError>;

    /// Stores reference data (teams, communities, checklists, referral services) in one
    /// transaction, each with a change-log entry visible to all devices. A record already
    /// stored with the same content is skipped; with other content it is replaced, unless
    /// `immutable`, which refuses the whole call. Returns how many records changed.
    fn put_reference(&self, records: &[Record], immutable: bool) -> Result<usize, StorageError>;

    /// Stores a one-time enrolment code (its hash) for `role`, valid until `expires_at`.
    fn insert_enrolment_code(
        &self,
        code_hash: &str,
        role: &Role,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Spends an enrolment code and enrols a device with the token hash and the public key
    /// it will sign its pushes with, atomically. `None` when the code is unknown, used or
    /// expired.
    fn enrol(
        &self,
        code_hash: &str,
        label: &str,
        token_hash: &str,
        public_key: &PublicKey,
        now: DateTime<Utc>,
    ) -> Result<Option<Device>, StorageError>;

    /// The device holding the token with this hash.
    fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, StorageError>;

    /// Revokes a device; `false` when no such device exists.
    fn revoke(&self, device_id: &str, now: DateTime<Utc>) -> Result<bool, StorageError>;

    /// Every enrolled device.
    fn devices(&self) -> Result<Vec<DeviceInfo>, StorageError>;

    /// Applies a push batch in one transaction (see [`crate::push_rules`]) and commits it
    /// durably before returning the acks.
    fn push(
        &self,
        device: &Device,
        changes: &[PushChange],
        now: DateTime<Utc>,
    ) -> Result<Vec<Ack>, StorageError>;

    /// Records in `role`'s scope changed after `after`, at most `limit` of them.
    fn pull(&self, device: &Device, after: u64, limit: u32) -> Result<PullResponse, StorageError>;

    /// The current version of one record.
    fn get_record(&self, kind: &str, id: &str) -> Result<Option<StoredRecord>, StorageError>;

    /// Every current record of a kind.
    fn records_of_kind(&self, kind: &str) -> Result<Vec<StoredRecord>, StorageError>;

    /// Every current record that belongs to no team (reference data, and the communities
    /// devices added), for a reference bundle.
    fn reference_records(&self) -> Result<Vec<Record>, StorageError>;

    /// The mission root public key devices pin at enrolment, once an admin signed a bundle.
    fn root_key(&self) -> Result<Option<PublicKey>, StorageError>;

    /// Registers `key` as the mission root key if none is; `false` when another one is.
    fn register_root_key(&self, key: &PublicKey) -> Result<bool, StorageError>;

    /// The filed versions of one record, oldest first.
    fn history(&self, kind: &str, id: &str) -> Result<Vec<HistoryEntry>, StorageError>;

    /// Appends `entry` to the audit log after its head, in one write transaction that
    /// reads the head, so that concurrent appends never fork the chain. The chaining itself
    /// is [`crate::audit::StoredAuditEntry::chain`]; call [`crate::audit::append`].
    fn audit_append(&self, entry: &AuditEntry) -> Result<StoredAuditEntry, StorageError>;

    /// Audit entries with `seq > after`, in `seq` order, at most `limit` of them.
    fn audit_entries(&self, after: u64, limit: u32) -> Result<Vec<StoredAuditEntry>, StorageError>;
}
