//! What lists, badges, the outbox and the history return, and how lists are filtered.

use fieldconsult_core as core;
use fieldconsult_core::{BadgeCounts, Entity, OutboxEntry, SyncState};
use fieldconsult_model::wire::{ConflictNotice, Record};
use fieldconsult_model::{Group, Status};

use crate::lift::{Lift, time_string};
use crate::session::{Addendum, Review, Session};

/// A session with everything recorded about it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SessionRecord {
    /// The session.
    pub session: Session,
    /// Increases with every change.
    pub revision: i64,
    /// Last change, RFC 3339 (UTC).
    pub updated_at: String,
    /// Reviews, oldest first.
    pub reviews: Vec<Review>,
    /// Addenda, oldest first.
    pub addenda: Vec<Addendum>,
    /// Local changes wait to be pushed.
    pub sync_pending: bool,
    /// Whether it reached the server.
    pub sync_state: SyncState,
    /// Reason code when `sync_state` is `Error` (`hash_mismatch`, `validation`, ...).
    pub sync_error: Option<String>,
    /// Edits the server did not apply because they were built on an older version than the
    /// one it kept, oldest first: show them to the team and the reviewer.
    pub conflicts: Vec<SessionConflict>,
    /// Whether it carries a sealed sensitive note (open it with `openSensitiveNote` on a
    /// focal point's device; a team device cannot).
    pub has_sealed_note: bool,
}

/// An edit of a session the server did not apply: it was built on an older version.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SessionConflict {
    /// The edit as it was sent; `null` if the edit deleted the draft.
    pub edit: Option<Session>,
    /// The device that sent it.
    pub device_id: String,
    /// When the server received it, RFC 3339.
    pub detected_at: String,
    /// Content hash of the edit.
    pub lost_hash: String,
    /// Content hash of the version the server kept.
    pub kept_hash: String,
}

/// A list row.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SessionSummary {
    /// Session id.
    pub id: String,
    /// Visit id.
    pub visit_id: String,
    /// Team id.
    pub team_id: String,
    /// Community id.
    pub community_id: String,
    /// Group.
    pub group: Group,
    /// Status.
    pub status: Status,
    /// Start, RFC 3339 with offset.
    pub started_at: String,
    /// Participants.
    pub participants: u64,
    /// Records an urgent concern.
    pub has_urgent_concern: bool,
    /// Revision.
    pub revision: i64,
    /// Local changes wait to be pushed.
    pub sync_pending: bool,
    /// Whether it reached the server.
    pub sync_state: SyncState,
    /// Reason code when `sync_state` is `Error`.
    pub sync_error: Option<String>,
    /// Number of edits the server did not apply (see `SessionRecord.conflicts`).
    pub conflicts: u64,
}

/// Which sessions a list shows; empty fields do not filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct SessionFilter {
    /// Team id.
    #[uniffi(default = None)]
    pub team_id: Option<String>,
    /// Community id.
    #[uniffi(default = None)]
    pub community_id: Option<String>,
    /// Visit id.
    #[uniffi(default = None)]
    pub visit_id: Option<String>,
    /// Group.
    #[uniffi(default = None)]
    pub group: Option<Group>,
    /// Status.
    #[uniffi(default = None)]
    pub status: Option<Status>,
    /// Started at or after (RFC 3339).
    #[uniffi(default = None)]
    pub started_from: Option<String>,
    /// Started before (RFC 3339).
    #[uniffi(default = None)]
    pub started_before: Option<String>,
    /// Only sessions with an urgent concern.
    #[uniffi(default = false)]
    pub urgent_only: bool,
    /// Only sessions in this sync state.
    #[uniffi(default = None)]
    pub sync_state: Option<SyncState>,
}

/// One page of a list, newest first.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SessionPage {
    /// The rows.
    pub items: Vec<SessionSummary>,
    /// Cursor of the next page; `null` on the last page.
    pub next: Option<String>,
}

/// Counts for the app's badges.
#[uniffi::remote(Record)]
pub struct BadgeCounts {
    pub drafts: u32,
    pub returned: u32,
    pub urgent_unsynced: u32,
}

/// One record waiting to be pushed; hand it back unchanged to acknowledge it.
#[uniffi::remote(Record)]
pub struct OutboxEntry {
    pub entity: Entity,
    pub id: String,
    pub urgent: bool,
    pub changes: i64,
}

/// One line of history.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HistoryEntry {
    /// When, RFC 3339 (UTC).
    pub at: String,
    /// Who.
    pub actor: String,
    /// Kind of record.
    pub entity: String,
    /// Its id.
    pub entity_id: String,
    /// What was done.
    pub action: String,
    /// Revision after the change.
    pub revision: Option<i64>,
    /// Status before.
    pub from_status: Option<Status>,
    /// Status after.
    pub to_status: Option<Status>,
    /// Names of the changed fields.
    pub fields: Vec<String>,
}

impl From<core::SessionRecord> for SessionRecord {
    fn from(r: core::SessionRecord) -> Self {
        SessionRecord {
            has_sealed_note: r.session.sealed_note.is_some(),
            session: r.session.into(),
            revision: r.revision,
            updated_at: time_string(&r.updated_at.fixed_offset()),
            reviews: r.reviews.into_iter().map(Into::into).collect(),
            addenda: r.addenda.into_iter().map(Into::into).collect(),
            sync_pending: r.sync_pending,
            sync_state: r.sync_state,
            sync_error: r.sync_error,
            conflicts: r.conflicts.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<ConflictNotice> for SessionConflict {
    fn from(c: ConflictNotice) -> Self {
        SessionConflict {
            edit: match *c.lost {
                Record::Session(s) => Some((*s).into()),
                _ => None,
            },
            device_id: c.device_id,
            detected_at: time_string(&c.detected_at),
            lost_hash: c.lost_hash,
            kept_hash: c.kept_hash,
        }
    }
}

impl From<core::SessionSummary> for SessionSummary {
    fn from(s: core::SessionSummary) -> Self {
        SessionSummary {
            id: s.id.to_string(),
            visit_id: s.visit_id.to_string(),
            team_id: s.team_id.to_string(),
            community_id: s.community_id.to_string(),
            group: s.group,
            status: s.status,
            started_at: time_string(&s.started_at),
            participants: s.participants,
            has_urgent_concern: s.has_urgent_concern,
            revision: s.revision,
            sync_pending: s.sync_pending,
            sync_state: s.sync_state,
            sync_error: s.sync_error,
            conflicts: s.conflicts,
        }
    }
}

impl From<core::Page<core::SessionSummary>> for SessionPage {
    fn from(p: core::Page<core::SessionSummary>) -> Self {
        SessionPage {
            items: p.items.into_iter().map(Into::into).collect(),
            next: p.next,
        }
    }
}

impl SessionFilter {
    pub(crate) fn lift(self, l: &mut Lift) -> core::SessionFilter {
        let utc = |t: fieldconsult_model::Timestamp| t.with_timezone(&chrono::Utc);
        core::SessionFilter {
            team_id: self.team_id.map(|id| l.id("team_id", &id)),
            community_id: self.community_id.map(|id| l.id("community_id", &id)),
            visit_id: self.visit_id.map(|id| l.id("visit_id", &id)),
            group: self.group,
            status: self.status,
            started_from: l.opt_time("started_from", &self.started_from).map(utc),
            started_before: l.opt_time("started_before", &self.started_before).map(utc),
            urgent_only: self.urgent_only,
            sync_state: self.sync_state,
        }
    }
}

impl From<core::HistoryEntry> for HistoryEntry {
    fn from(h: core::HistoryEntry) -> Self {
        HistoryEntry {
            at: time_string(&h.at.fixed_offset()),
            actor: h.actor,
            entity: h.entity,
            entity_id: h.entity_id,
            action: h.action,
            revision: h.revision,
            from_status: h.from_status,
            to_status: h.to_status,
            fields: h.fields,
        }
    }
}
