//! The sync protocol between a device and the mission server: HTTP/JSON under `/v1/`.
//!
//! Both sides use these types, so a request one side builds is a request the other reads.
//!
//! - `POST /v1/enrol` ([`EnrolRequest`] → [`EnrolResponse`]): a one-time, expiring code from
//!   a mission admin buys a device id, a role and a bearer token.
//! - `POST /v1/push` ([`PushRequest`] → [`PushResponse`]): outbox records, urgent first, in
//!   batches bounded in count and bytes. Each gets an [`Ack`] carrying the hash of what the
//!   server durably stored; the device marks a record synced only when that hash is its own.
//! - `GET /v1/pull?after=N&limit=M` (→ [`PullResponse`]): records in the device's scope
//!   changed after the server-issued cursor, reference data included, in pages.
//! - Errors are RFC 9457 `application/problem+json` ([`ProblemDetails`]) with a stable `type`.
//! - Headquarters and admin devices ([`Role::HqAnalyst`], [`Role::Admin`]) push and pull
//!   nothing (403): they use the server's reports, export and admin endpoints, which are
//!   the server's own (`fieldconsult_server::routes`).
//!
//! Signatures (issue 7): a device generates an Ed25519 key pair at enrolment and sends the
//! public half in [`EnrolRequest::public_key`]. Every [`PushChange`] carries a
//! [`ChangeNonce`] and the device's [`Signature`] over the canonical bytes of
//! [`crate::crypto::sign::SignedChange`] (device id, nonce, kind, id, content hash, base
//! hash). The server checks them before anything else and refuses a change, stored nothing,
//! with [`reasons::UNSIGNED`], [`reasons::BAD_SIGNATURE`] or [`reasons::REPLAYED`]; the
//! same signed change sent again is answered as before (`AlreadyStored`).
//!
//! Reference bundles (issue 7): [`EnrolResponse::root_key`] carries the mission root public
//! key, which the device pins; reference data then travels by pull as
//! [`Record::Bundle`] ([`SignedBundle`]: sequence, time, records, root signature). A device
//! with a pinned key applies teams, checklists and referral services only from a bundle
//! that verifies and whose sequence is higher than the last it applied; the bare records
//! it may still receive change nothing. A device enrolled with a server that has no root
//! key pins nothing and applies bare reference records as before.
//!
//! Bodies may be compressed (`Content-Encoding`); every request but enrolment carries
//! `Authorization: Bearer <token>`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checklist::ChecklistTemplate;
use crate::crypto::bundle::{BUNDLE_ID, SignedBundle};
use crate::crypto::sign::{ChangeNonce, PublicKey, Signature, SignedChange, SigningKey};
use crate::ids::{SessionId, VisitId};
use crate::reference::{Community, ReferralService, SealingKeys, Team};
use crate::review::{Addendum, Review};
use crate::session::Session;
use crate::status::Role;
use crate::time::Timestamp;
use crate::validation::FieldError;
use crate::visit::Visit;

/// Path prefix of every endpoint.
pub const API_PREFIX: &str = "/v1";
/// Most records one push batch may carry.
pub const MAX_BATCH_RECORDS: usize = 500;
/// Most bytes (uncompressed JSON) one push batch may carry.
pub const MAX_BATCH_BYTES: usize = 1 << 20;
/// Most records one pull page returns.
pub const MAX_PULL_PAGE: u32 = 1000;

/// A deleted draft: what is left of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTombstone {
    /// The deleted session.
    pub id: SessionId,
    /// Its visit.
    pub visit_id: VisitId,
}

/// What is left of a session whose participants withdrew their consent after it reached the
/// server: ids and a time, nothing of its content. The server deletes the session, its
/// reviews, addenda and stored versions, keeps only this, and serves it by pull so that
/// every device in scope deletes its copy. Only the authoring team withdraws
/// ([`crate::status::Action::WithdrawConsent`]); a resend is acknowledged as already stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentWithdrawal {
    /// The withdrawn session (also the record's id).
    pub session_id: SessionId,
    /// Its visit, which says whose it was.
    pub visit_id: VisitId,
    /// When the team recorded the withdrawal.
    pub withdrawn_at: Timestamp,
}

/// An edit the server did not apply because it was built on an older version than the one
/// the server holds. The server keeps its version, files the pushed one in its history, and
/// sends this notice, carrying the edit, to the record's team and its sector's reviewers, so
/// that nothing a team wrote disappears unseen. Only the server writes notices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConflictNotice {
    /// Hash of the edit that was not applied; also the notice's id, so a resent push files
    /// no second notice.
    pub lost_hash: String,
    /// Hash of the version the server kept.
    pub kept_hash: String,
    /// Hash of the version the edit was built on; `None` if the device had never seen one.
    pub base_hash: Option<String>,
    /// The device that sent the edit.
    pub device_id: String,
    /// When the server received it.
    pub detected_at: Timestamp,
    /// The edit as it was pushed.
    pub lost: Box<Record>,
}

impl ConflictNotice {
    /// Kind of the record the edit was for (`session`, `visit`, ...).
    pub fn record_kind(&self) -> &'static str {
        self.lost.kind()
    }

    /// Id of the record the edit was for.
    pub fn record_id(&self) -> String {
        self.lost.id()
    }
}

/// Any record that travels between device and server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "record")]
pub enum Record {
    /// A team (reference data, server → device).
    Team(Team),
    /// A community (reference data; devices may add them).
    Community(Community),
    /// A checklist version (reference data, server → device).
    Checklist(ChecklistTemplate),
    /// A service of the referral directory (reference data, server → device).
    ReferralService(ReferralService),
    /// The keys a sector's sensitive notes are sealed to (reference data, server → device).
    SealingKeys(SealingKeys),
    /// A visit.
    Visit(Visit),
    /// A session.
    Session(Box<Session>),
    /// A deleted draft.
    SessionTombstone(SessionTombstone),
    /// A review decision.
    Review(Review),
    /// An addendum.
    Addendum(Addendum),
    /// An edit the server did not apply (server → device).
    Conflict(ConflictNotice),
    /// A session deleted everywhere because consent was withdrawn.
    ConsentWithdrawal(ConsentWithdrawal),
    /// Reference data signed by the mission root key (server → device).
    Bundle(Box<SignedBundle>),
}

impl Record {
    /// The kind, as a stable code (`session`, `visit`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Team(_) => "team",
            Record::Community(_) => "community",
            Record::Checklist(_) => "checklist",
            Record::ReferralService(_) => "referral_service",
            Record::SealingKeys(_) => "sealing_keys",
            Record::Visit(_) => "visit",
            Record::Session(_) => "session",
            Record::SessionTombstone(_) => "session_tombstone",
            Record::Review(_) => "review",
            Record::Addendum(_) => "addendum",
            Record::Conflict(_) => "conflict",
            Record::ConsentWithdrawal(_) => "consent_withdrawal",
            Record::Bundle(_) => "bundle",
        }
    }

    /// The record's id (a checklist's is its version).
    pub fn id(&self) -> String {
        match self {
            Record::Team(t) => t.id.to_string(),
            Record::Community(c) => c.id.to_string(),
            Record::Checklist(c) => c.version.to_string(),
            Record::ReferralService(s) => s.id.to_string(),
            Record::SealingKeys(k) => k.sector.clone(),
            Record::Visit(v) => v.id.to_string(),
            Record::Session(s) => s.id.to_string(),
            Record::SessionTombstone(t) => t.id.to_string(),
            Record::Review(r) => r.id.to_string(),
            Record::Addendum(a) => a.id.to_string(),
            Record::Conflict(c) => c.lost_hash.clone(),
            Record::ConsentWithdrawal(w) => w.session_id.to_string(),
            Record::Bundle(_) => BUNDLE_ID.to_owned(),
        }
    }

    /// Reference data only the mission admin issues (devices never write it): a device
    /// that pinned a mission root key takes it only from a verified [`SignedBundle`].
    pub fn is_mission_reference(&self) -> bool {
        matches!(
            self,
            Record::Team(_)
                | Record::Checklist(_)
                | Record::ReferralService(_)
                | Record::SealingKeys(_)
        )
    }

    /// Records a [`SignedBundle`] may carry: the admin's reference data, and communities
    /// (which devices may also add).
    pub fn is_reference(&self) -> bool {
        self.is_mission_reference() || matches!(self, Record::Community(_))
    }

    /// The content hash of this record: see [`content_hash`].
    pub fn hash(&self) -> String {
        content_hash(self)
    }
}

/// SHA-256 (hex) of a value's JSON. The model's types serialise deterministically (fields in
/// declaration order, sets and maps sorted), so equal content gives equal hashes on every
/// device and on the server: the basis of acknowledgements and convergence checks.
pub fn content_hash<T: Serialize>(value: &T) -> String {
    let mut hasher = Sha256::new();
    // Serialising the model's plain types cannot fail; an empty hash would never match.
    if serde_json::to_writer(HashWriter(&mut hasher), value).is_err() {
        return String::new();
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `POST /v1/enrol`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// The one-time code a mission admin issued.
    pub code: String,
    /// A label for the admin's device list (`Team 3 tablet 2`); never a person's name.
    pub device_label: String,
    /// The public half of the key pair the device generated for this enrolment: the
    /// server accepts only pushes signed with its secret half.
    pub public_key: PublicKey,
}

/// What an enrolled device is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    /// The mission root public key that signs reference bundles, if the mission has one:
    /// the device pins it (after comparing its fingerprint with the one from the
    /// enrolment QR code, when it has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_key: Option<PublicKey>,
    /// The device's id.
    pub device_id: String,
    /// Bearer token for every later request; the server keeps only its hash.
    pub token: String,
    /// What the device may do and see.
    pub role: Role,
}

/// One record pushed, with the hashes that make pushes idempotent and conflicts visible.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushChange {
    /// The record as the device holds it now.
    pub record: Record,
    /// Hash of the server's version this edit was built on; `None` for a record the server
    /// has never acknowledged.
    pub base_hash: Option<String>,
    /// Identifies this change among the device's; the same when the same change is sent
    /// again. `None` only from a device that does not sign (refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<ChangeNonce>,
    /// The device's signature of [`crate::crypto::sign::SignedChange`] for this change.
    /// `None` only from a device that does not sign (refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<Signature>,
}

impl PushChange {
    /// The change of `record` (whose content hash the caller has computed as
    /// `content_hash`), built on `base_hash`, with its nonce and `device_id`'s signature.
    pub fn signed(
        record: Record,
        content_hash: &str,
        base_hash: Option<String>,
        device_id: &str,
        key: &SigningKey,
    ) -> Self {
        let kind = record.kind();
        let id = record.id();
        let nonce = key.change_nonce(device_id, kind, &id, content_hash, base_hash.as_deref());
        let signature = key.sign_change(&SignedChange {
            device_id,
            nonce: &nonce,
            kind,
            id: &id,
            content_hash,
            base_hash: base_hash.as_deref(),
        });
        PushChange {
            record,
            base_hash,
            nonce: Some(nonce),
            signature: Some(signature),
        }
    }

    /// Checks that this change was signed, as it is now, by the holder of `key` for
    /// `device_id`. Returns its nonce and [`SignedChange::content_digest`], which the
    /// server remembers to refuse the nonce for other content.
    pub fn verify(
        &self,
        device_id: &str,
        key: &PublicKey,
    ) -> Result<VerifiedChange, ChangeSignatureError> {
        let (Some(nonce), Some(signature)) = (&self.nonce, &self.signature) else {
            return Err(ChangeSignatureError::Unsigned);
        };
        let id = self.record.id();
        let content_hash = self.record.hash();
        let signed = SignedChange {
            device_id,
            nonce,
            kind: self.record.kind(),
            id: &id,
            content_hash: &content_hash,
            base_hash: self.base_hash.as_deref(),
        };
        key.verify_change(&signed, signature)
            .map_err(|_| ChangeSignatureError::BadSignature)?;
        Ok(VerifiedChange {
            nonce: *nonce,
            content_digest: signed.content_digest(),
        })
    }
}

/// A pushed change whose signature verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedChange {
    /// Its nonce.
    pub nonce: ChangeNonce,
    /// Digest of what it signed, nonce aside.
    pub content_digest: String,
}

/// Why a pushed change's signature was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangeSignatureError {
    /// No nonce or no signature.
    #[error("the change carries no nonce or no signature")]
    Unsigned,
    /// The signature does not verify for this device's key and this content.
    #[error("the change's signature does not verify")]
    BadSignature,
}

impl ChangeSignatureError {
    /// The stable reason code of the refusal ([`reasons`]).
    pub fn reason(self) -> &'static str {
        match self {
            ChangeSignatureError::Unsigned => reasons::UNSIGNED,
            ChangeSignatureError::BadSignature => reasons::BAD_SIGNATURE,
        }
    }
}

/// `POST /v1/push`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The records, urgent first; at most [`MAX_BATCH_RECORDS`].
    pub changes: Vec<PushChange>,
}

/// What became of one pushed record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum AckOutcome {
    /// Durably stored now.
    Stored,
    /// Already stored with this exact content (a resent batch): nothing changed.
    AlreadyStored,
    /// Built on a version older than the server's: the server kept its version, filed the
    /// pushed one in its history, and flags the record to the author and the reviewer.
    Conflict,
    /// Refused: invalid, or outside the device's rights. Nothing was stored.
    Rejected {
        /// Stable reason code (`validation`, `forbidden`, `invalid_transition`, ...).
        reason: String,
        /// Field problems, for `validation`.
        problems: Vec<FieldError>,
    },
}

/// The server's answer for one pushed record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Kind of the record (`session`, ...).
    pub kind: String,
    /// Its id.
    pub id: String,
    /// What became of it.
    pub outcome: AckOutcome,
    /// Hash of the version the server holds now (empty when it holds none).
    pub hash: String,
}

/// Answer to `POST /v1/push`: one ack per pushed record, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// The acks.
    pub acks: Vec<Ack>,
}

/// One record changed on the server, as pulled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PulledRecord {
    /// Position in the server's change log.
    pub seq: u64,
    /// The record.
    pub record: Record,
    /// Its content hash on the server.
    pub hash: String,
}

/// Answer to `GET /v1/pull`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Changes in the device's scope, oldest first.
    pub records: Vec<PulledRecord>,
    /// Cursor to send as `after` next time.
    pub cursor: u64,
    /// Whether more changes wait after this page.
    pub more: bool,
}

/// Stable reason codes of [`AckOutcome::Rejected`]: the server sends them, devices act on
/// them (some refusals are sent again at the next sync).
pub mod reasons {
    /// The record breaks a validation rule; `problems` say which fields.
    pub const VALIDATION: &str = "validation";
    /// The device's role does not allow this record.
    pub const FORBIDDEN: &str = "forbidden";
    /// The status change is not allowed by the workflow.
    pub const INVALID_TRANSITION: &str = "invalid_transition";
    /// The record refers to a visit or session the server does not hold.
    pub const UNKNOWN_PARENT: &str = "unknown_parent";
    /// Reviews and addenda are append-only: an existing one cannot be changed.
    pub const IMMUTABLE: &str = "immutable";
    /// The session's consent was withdrawn: it is deleted and cannot come back.
    pub const CONSENT_WITHDRAWN: &str = "consent_withdrawn";
    /// The change carries no nonce or no signature, or the device registered no key.
    pub const UNSIGNED: &str = "unsigned";
    /// The signature does not verify against the device's registered key: signed by
    /// another key, or the record, its base or its nonce changed after signing.
    pub const BAD_SIGNATURE: &str = "bad_signature";
    /// The nonce was already used by this device for other content.
    pub const REPLAYED: &str = "replayed";
}

/// An RFC 9457 problem document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemDetails {
    /// Stable URI reference of the problem type (`/problems/revoked`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened here, without user data.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// Field problems, for validation errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<FieldError>,
}

/// Stable problem types.
pub mod problem_types {
    /// No or unknown bearer token.
    pub const UNAUTHORIZED: &str = "/problems/unauthorized";
    /// The device was revoked: it must wipe its data.
    pub const REVOKED: &str = "/problems/revoked";
    /// The enrolment code is unknown, used or expired.
    pub const INVALID_ENROLMENT_CODE: &str = "/problems/invalid-enrolment-code";
    /// The body is not what the endpoint reads.
    pub const MALFORMED: &str = "/problems/malformed-request";
    /// The body is over the size limit.
    pub const TOO_LARGE: &str = "/problems/too-large";
    /// A batch over the record limit.
    pub const BATCH_TOO_LARGE: &str = "/problems/batch-too-large";
    /// The role does not allow this request.
    pub const FORBIDDEN: &str = "/problems/forbidden";
    /// The body's `Content-Encoding` is not one the server reads (gzip, zstd).
    pub const UNSUPPORTED_ENCODING: &str = "/problems/unsupported-encoding";
    /// The request took longer than the server allows; send it again.
    pub const TIMEOUT: &str = "/problems/timeout";
    /// No such endpoint (or method on it): a client of another protocol version.
    pub const NOT_FOUND: &str = "/problems/not-found";
    /// Too many enrolment attempts or failed authentications from this client: wait for
    /// the `Retry-After` seconds.
    pub const TOO_MANY_REQUESTS: &str = "/problems/too-many-requests";
    /// Anything else went wrong on the server.
    pub const INTERNAL: &str = "/problems/internal";
}

/// Whether `role` may see records of a visit of `owner` (DESIGN.md guarantee 7): a team
/// member sees their team's, a reviewer their sector's. HQ analysts and admins see no
/// record: headquarters reads aggregates and exports, built on the server, never pulls.
pub fn in_scope(role: &Role, owner: &Team) -> bool {
    match role {
        Role::TeamMember { team_id } => *team_id == owner.id,
        Role::Reviewer { sector } => *sector == owner.sector,
        Role::HqAnalyst | Role::Admin => false,
    }
}
