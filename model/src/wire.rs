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
//! Bodies may be compressed (`Content-Encoding`); every request but enrolment carries
//! `Authorization: Bearer <token>`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checklist::ChecklistTemplate;
use crate::ids::{SessionId, VisitId};
use crate::reference::{Community, ReferralService, Team};
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
}

impl Record {
    /// The kind, as a stable code (`session`, `visit`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Team(_) => "team",
            Record::Community(_) => "community",
            Record::Checklist(_) => "checklist",
            Record::ReferralService(_) => "referral_service",
            Record::Visit(_) => "visit",
            Record::Session(_) => "session",
            Record::SessionTombstone(_) => "session_tombstone",
            Record::Review(_) => "review",
            Record::Addendum(_) => "addendum",
            Record::Conflict(_) => "conflict",
        }
    }

    /// The record's id (a checklist's is its version).
    pub fn id(&self) -> String {
        match self {
            Record::Team(t) => t.id.to_string(),
            Record::Community(c) => c.id.to_string(),
            Record::Checklist(c) => c.version.to_string(),
            Record::ReferralService(s) => s.id.to_string(),
            Record::Visit(v) => v.id.to_string(),
            Record::Session(s) => s.id.to_string(),
            Record::SessionTombstone(t) => t.id.to_string(),
            Record::Review(r) => r.id.to_string(),
            Record::Addendum(a) => a.id.to_string(),
            Record::Conflict(c) => c.lost_hash.clone(),
        }
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
}

/// What an enrolled device is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
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
