//! Sessions: save drafts, submit, delete drafts (tombstones), read and list them.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, named_params};
use serde::{Deserialize, Serialize};

use super::codec::{decode, encode, timestamp};
use super::conflicts::notices_for;
use super::history::{self, Change, changed_fields};
use super::outbox::{self, Entity};
use super::reference::{checklist_in, parse_id, referral_service_exists, team_in};
use super::reviews::{addenda_in, reviews_in};
use super::sealing::seal_fields;
use super::sync::{SESSION_STATE_SQL, SyncState, state_of};
use super::visits::{unknown, visit_in};
use super::warnings::require_confirmed;
use super::{Store, now};
use crate::error::{Error, Result};
use crate::progress::Progress;
use fieldconsult_model::validation::{
    Completeness, PLAINTEXT_ELSEWHERE_FIELD, session_warnings, validate_session,
};
use fieldconsult_model::wire::ConflictNotice;
use fieldconsult_model::{
    Action, Actor, Addendum, CommunityId, FieldError, FieldWarning, Group, Problem, Review,
    Session, SessionId, Status, TeamId, Timestamp, ValidationErrors, VisitId, status::authorize,
};

/// A session with everything recorded about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The session.
    pub session: Session,
    /// Increases with every change.
    pub revision: i64,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Review decisions, oldest first.
    pub reviews: Vec<Review>,
    /// Addenda, oldest first.
    pub addenda: Vec<Addendum>,
    /// Whether local changes still wait to be pushed.
    pub sync_pending: bool,
    /// Where the session stands with the server.
    pub sync_state: SyncState,
    /// Stable reason code when `sync_state` is `Error` (`hash_mismatch`, `validation`, ...).
    pub sync_error: Option<String>,
    /// Edits of this session the server did not apply because they were built on an older
    /// version than the one kept, oldest first: shown to the team and the reviewer so that
    /// nothing written disappears unseen.
    pub conflicts: Vec<ConflictNotice>,
}

/// What a list shows of a session, read from indexed columns without decoding its body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// Session id.
    pub id: SessionId,
    /// Its visit.
    pub visit_id: VisitId,
    /// The team of the visit.
    pub team_id: TeamId,
    /// The community visited.
    pub community_id: CommunityId,
    /// Women, men or mixed.
    pub group: Group,
    /// Workflow status.
    pub status: Status,
    /// When it started.
    pub started_at: Timestamp,
    /// Number of participants.
    pub participants: u64,
    /// Whether it records an urgent concern.
    pub has_urgent_concern: bool,
    /// Revision.
    pub revision: i64,
    /// Whether local changes still wait to be pushed.
    pub sync_pending: bool,
    /// Where the session stands with the server.
    pub sync_state: SyncState,
    /// Stable reason code when `sync_state` is `Error` (`hash_mismatch`, `validation`, ...).
    pub sync_error: Option<String>,
    /// Number of edits of this session the server did not apply (see
    /// [`SessionRecord::conflicts`]).
    pub conflicts: u64,
}

/// Which sessions a list shows. Empty fields do not filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionFilter {
    /// Only this team's.
    pub team_id: Option<TeamId>,
    /// Only in this community.
    pub community_id: Option<CommunityId>,
    /// Only of this visit.
    pub visit_id: Option<VisitId>,
    /// Only of this group.
    pub group: Option<Group>,
    /// Only in this status.
    pub status: Option<Status>,
    /// Only started at or after this instant.
    pub started_from: Option<DateTime<Utc>>,
    /// Only started before this instant.
    pub started_before: Option<DateTime<Utc>>,
    /// Only those with an urgent concern.
    pub urgent_only: bool,
    /// Only those in this sync state.
    pub sync_state: Option<SyncState>,
}

/// One page of a list, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass to the next call to get the following page; `None` on the last page.
    pub next: Option<String>,
}

/// Counts for the app's badges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadgeCounts {
    /// Drafts not yet submitted.
    pub drafts: u32,
    /// Sessions returned by a reviewer, waiting for the team.
    pub returned: u32,
    /// Sessions with an urgent concern not yet acknowledged by the server.
    pub urgent_unsynced: u32,
}

/// Most items one page holds.
pub const MAX_PAGE: u32 = 500;

/// A stored session row.
struct Stored {
    session: Option<Session>,
    status: Status,
    revision: i64,
    deleted: bool,
}

impl Store {
    /// Saves a draft (new, or an edit of a draft or returned session) of the actor's team.
    /// Validates every value present; missing values are allowed until submission.
    pub fn save_session(&self, actor: &Actor, session: &Session) -> Result<Session> {
        let mut session = session.clone();
        session.normalize();
        let (at, ctx) = now();
        validate_session(&session, Completeness::Draft, &ctx)?;
        self.write(|tx| {
            let visit = visit_in(tx, &session.visit_id).map_err(|e| match e {
                Error::NotFound { .. } => unknown("visit_id"),
                e => e,
            })?;
            let team = team_in(tx, &visit.team_id)?;
            if let Some(service) = session
                .referral
                .as_ref()
                .and_then(|r| r.service_id.as_ref())
                && !referral_service_exists(tx, service)?
            {
                return Err(unknown("referral.service_id"));
            }
            let id = session.id.to_string();
            let stored = stored_in(tx, &session.id)?;
            let (status, revision) = match &stored {
                Some(s) if s.deleted => return Err(not_found(&session.id)),
                Some(s) => (s.status, s.revision + 1),
                None => (Status::Draft, 1),
            };
            if session.status != status {
                return Err(read_only("status"));
            }
            // Seals are set by submission only: an app that does not carry them (or carries
            // others) can neither drop nor replace them. A referral the author removes takes
            // its sealed service with it.
            let prev = stored.as_ref().and_then(|s| s.session.as_ref());
            session.sealed_note = prev.and_then(|s| s.sealed_note.clone());
            // Set by sync only: which other devices hold plaintext of the session.
            session.plaintext_held_by = prev
                .map(|s| s.plaintext_held_by.clone())
                .unwrap_or_default();
            if let Some(r) = &mut session.referral {
                r.sealed_service_id = prev
                    .and_then(|s| s.referral.as_ref())
                    .and_then(|r| r.sealed_service_id.clone());
            }
            if let Some(prev) = stored.as_ref().and_then(|s| s.session.as_ref())
                && prev.visit_id != session.visit_id
            {
                // Moving a session to a visit of another team would take it from its authors.
                let prev_visit = visit_in(tx, &prev.visit_id)?;
                authorize(
                    actor,
                    Action::Edit,
                    status,
                    &team_in(tx, &prev_visit.team_id)?,
                )?;
            }
            authorize(actor, Action::Edit, status, &team)?;

            write_row(
                tx,
                &session,
                &visit.team_id,
                &visit.community_id,
                revision,
                at,
                stored.is_none(),
            )?;
            let urgent = session.has_urgent_concern();
            outbox::enqueue(tx, Entity::Session, &id, urgent)?;
            if urgent {
                outbox::make_urgent(tx, Entity::Visit, &visit.id.to_string())?;
            }
            let before = stored
                .and_then(|s| s.session)
                .map(|s| serde_json::to_value(s).unwrap_or_default());
            history::append(
                tx,
                actor,
                at,
                Change {
                    entity: "session",
                    entity_id: &id,
                    action: if revision == 1 { "create" } else { "edit" },
                    revision: Some(revision),
                    from_status: None,
                    to_status: None,
                    fields: changed_fields(
                        before.as_ref(),
                        &serde_json::to_value(&session).unwrap_or_default(),
                    ),
                },
            )?;
            Ok(())
        })?;
        Ok(session)
    }

    /// Submits a draft or returned session for review. Only a complete session passes:
    /// participants, consent, end time, and every required topic of its checklist; and only
    /// one whose free text raises no warning (a phone number, an e-mail, precise
    /// coordinates): otherwise [`Error::UnconfirmedWarnings`] lists them, and the author
    /// confirms them with [`Store::submit_session_confirming`].
    pub fn submit_session(&self, actor: &Actor, id: &SessionId) -> Result<Session> {
        self.submit_session_confirming(actor, id, &[])
    }

    /// [`Store::submit_session`], with the warnings the author has seen and confirmed
    /// (`fieldconsult_model::validation::session_warnings` of the session as shown).
    ///
    /// The confirmation travels with the submission it allows and is checked against the
    /// session as stored at that moment, so it cannot outlive an edit: a warning on a field
    /// that changed afterwards, or a new one, is unconfirmed until confirmed again with the
    /// next submission. Nothing of a confirmation is stored.
    pub fn submit_session_confirming(
        &self,
        actor: &Actor,
        id: &SessionId,
        confirmed: &[FieldWarning],
    ) -> Result<Session> {
        let (at, ctx) = now();
        self.write(|tx| {
            let (mut session, revision) = live_in(tx, id)?;
            let visit = visit_in(tx, &session.visit_id)?;
            let next = authorize(
                actor,
                Action::Submit,
                session.status,
                &team_in(tx, &visit.team_id)?,
            )?;
            let checklist = checklist_in(tx, session.checklist_version)?
                .ok_or_else(|| unknown("checklist_version"))?;
            validate_session(&session, Completeness::Submit(&checklist), &ctx)?;
            require_confirmed(session_warnings(&session), confirmed)?;
            // Confirmed: what the writing device holds stays there.
            let left_behind = !std::mem::take(&mut session.plaintext_held_by).is_empty();
            // Sealed, and the plaintext gone from the row, in this transaction: a failure
            // (no keys for the sector) leaves the session a draft with its plaintext.
            let sealed_fields =
                seal_fields(tx, &mut session, &team_in(tx, &visit.team_id)?.sector)?;
            let from = session.status;
            session.status = next;
            let mut fields = vec!["status".to_owned()];
            fields.extend(sealed_fields.iter().map(|f| (*f).to_owned()));
            if left_behind {
                fields.push(PLAINTEXT_ELSEWHERE_FIELD.to_owned());
            }
            set_status(
                tx,
                &session,
                revision + 1,
                at,
                actor,
                from,
                "submit",
                fields,
            )?;
            outbox::enqueue(
                tx,
                Entity::Session,
                &id.to_string(),
                session.has_urgent_concern(),
            )?;
            Ok((session, !sealed_fields.is_empty()))
        })
        .and_then(|(session, sealed)| {
            // The WAL still holds the frames of every draft version, plaintext note included
            // (encrypted with the database key, so readable by whoever extracts it). Copy
            // them into the database, where secure_delete zeroed the old cells, and truncate.
            if sealed {
                self.checkpoint()?;
            }
            Ok(session)
        })
    }

    /// Deletes a draft, leaving a tombstone (id, visit, team; no content) so that the
    /// deletion reaches the server.
    pub fn delete_draft(&self, actor: &Actor, id: &SessionId) -> Result<()> {
        let (at, _) = now();
        self.write(|tx| {
            let (session, revision) = live_in(tx, id)?;
            let visit = visit_in(tx, &session.visit_id)?;
            authorize(actor, Action::Delete, session.status, &team_in(tx, &visit.team_id)?)?;
            let id_s = id.to_string();
            tx.prepare_cached(
                "UPDATE sessions SET deleted = 1, body = NULL, participants = 0, has_urgent = 0,
                     revision = :revision, updated_ms = :now
                 WHERE id = :id",
            )?
            .execute(named_params! {":id": id_s, ":revision": revision + 1, ":now": at.timestamp_millis()})?;
            outbox::enqueue(tx, Entity::Session, &id_s, false)?;
            history::append(
                tx,
                actor,
                at,
                Change {
                    entity: "session",
                    entity_id: &id_s,
                    action: "delete",
                    revision: Some(revision + 1),
                    from_status: Some(session.status),
                    to_status: None,
                    fields: Vec::new(),
                },
            )
        })
    }

    /// One session with its reviews and addenda.
    pub fn get_session(&self, id: &SessionId) -> Result<SessionRecord> {
        self.read(|tx| {
            let (session, revision) = live_in(tx, id)?;
            let id_s = id.to_string();
            let updated_ms: i64 = tx
                .prepare_cached("SELECT updated_ms FROM sessions WHERE id = :id")?
                .query_row(named_params! {":id": id_s}, |r| r.get(0))?;
            let (sync_state, sync_error) = state_of(tx, Entity::Session, &id_s)?
                .map(|r| (r.state, r.reason))
                .unwrap_or((SyncState::Synced, None));
            Ok(SessionRecord {
                sync_state,
                sync_error,
                session,
                revision,
                updated_at: DateTime::from_timestamp_millis(updated_ms).unwrap_or_default(),
                reviews: reviews_in(tx, id)?,
                addenda: addenda_in(tx, id)?,
                sync_pending: outbox::is_pending(tx, Entity::Session, &id_s)?,
                conflicts: notices_for(tx, "session", &id_s)?,
            })
        })
    }

    /// A page of sessions matching `filter`, newest first. Pass the previous page's `next`
    /// as `after` to continue; pages stay consistent while new sessions are added.
    pub fn list_sessions(
        &self,
        filter: &SessionFilter,
        limit: u32,
        after: Option<&str>,
    ) -> Result<Page<SessionSummary>> {
        let limit = limit.clamp(1, MAX_PAGE);
        let cursor = after.map(Cursor::parse).transpose()?;
        let (mut sql, mut params) = filter_sql(filter);
        if cursor.is_some() {
            sql.push_str(" AND (s.started_ms, s.id) < (:cursor_ms, :cursor_id)");
        }
        sql.push_str(" ORDER BY s.started_ms DESC, s.id DESC LIMIT :limit");
        let (cursor_ms, cursor_id) = cursor.map(|c| (c.ms, c.id)).unwrap_or_default();
        params.push((":cursor_ms", Param::Int(cursor_ms)));
        params.push((":cursor_id", Param::Text(cursor_id)));
        // One extra row tells whether another page follows.
        params.push((":limit", Param::Int(i64::from(limit) + 1)));
        let select = format!(
            "SELECT s.id, s.visit_id, s.team_id, s.community_id, s.grp, s.status, s.started_ms,
                    s.started_offset_s, s.participants, s.has_urgent, s.revision,
                    EXISTS (SELECT 1 FROM outbox o WHERE o.entity = 'session' AND o.entity_id = s.id),
                    {SESSION_STATE_SQL},
                    (SELECT ss.reason FROM sync_state ss
                     WHERE ss.entity = 'session' AND ss.entity_id = s.id),
                    (SELECT count(*) FROM conflicts c
                     WHERE c.record_kind = 'session' AND c.record_id = s.id)
             FROM sessions s WHERE {sql}"
        );
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(&select)?;
            let bound = bind(&stmt, &params);
            let mut rows = stmt.query(bound.as_slice())?;
            let mut items = Vec::new();
            while let Some(r) = rows.next()? {
                items.push(summary_from_row(r)?);
            }
            let next = if items.len() > limit as usize {
                items.truncate(limit as usize);
                items.last().map(|s| {
                    Cursor {
                        ms: s.started_at.timestamp_millis(),
                        id: s.id.to_string(),
                    }
                    .encode()
                })
            } else {
                None
            };
            Ok(Page { items, next })
        })
    }

    /// Counts for the app's badges.
    pub fn badge_counts(&self) -> Result<BadgeCounts> {
        self.read(|tx| {
            Ok(tx.query_row(
                "SELECT
                    (SELECT count(*) FROM sessions WHERE deleted = 0 AND status = 'draft'),
                    (SELECT count(*) FROM sessions WHERE deleted = 0 AND status = 'returned'),
                    (SELECT count(*) FROM sessions s WHERE s.deleted = 0 AND s.has_urgent = 1
                        AND EXISTS (SELECT 1 FROM outbox o
                                    WHERE o.entity = 'session' AND o.entity_id = s.id))",
                [],
                |r| {
                    Ok(BadgeCounts {
                        drafts: r.get(0)?,
                        returned: r.get(1)?,
                        urgent_unsynced: r.get(2)?,
                    })
                },
            )?)
        })
    }

    /// Sessions (not deleted) matching `filter`, fully decoded, oldest first: for reports.
    /// Reads in chunks, each in its own read transaction, reporting progress and checking
    /// for cancellation between chunks, outside the database lock.
    pub(crate) fn sessions_matching(
        &self,
        filter: &SessionFilter,
        progress: &dyn Progress,
    ) -> Result<Vec<Session>> {
        const CHUNK: i64 = 500;
        let (sql, mut params) = filter_sql(filter);
        let count = format!("SELECT count(*) FROM sessions s WHERE {sql}");
        let select = format!(
            "SELECT s.id, s.started_ms, s.body FROM sessions s
             WHERE {sql} AND (s.started_ms, s.id) > (:cursor_ms, :cursor_id)
             ORDER BY s.started_ms, s.id LIMIT :chunk"
        );
        let total: u64 = self
            .read(|tx| {
                let stmt = tx.prepare(&count)?;
                let bound = bind(&stmt, &params);
                let mut stmt = stmt;
                Ok(stmt.query_row(bound.as_slice(), |r| r.get::<_, i64>(0))?)
            })
            .map(|n| u64::try_from(n).unwrap_or(0))?;
        params.push((":chunk", Param::Int(CHUNK)));
        let mut out = Vec::new();
        let mut cursor = (i64::MIN, String::new());
        let mut done = 0u64;
        loop {
            if progress.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let mut chunk_params: Vec<(&'static str, Param)> = Vec::with_capacity(params.len() + 2);
            chunk_params.extend(params.iter().map(|(n, p)| (*n, p.clone())));
            chunk_params.push((":cursor_ms", Param::Int(cursor.0)));
            chunk_params.push((":cursor_id", Param::Text(cursor.1.clone())));
            let rows: Vec<(String, i64, Option<String>)> = self.read(|tx| {
                let mut stmt = tx.prepare_cached(&select)?;
                let bound = bind(&stmt, &chunk_params);
                let rows =
                    stmt.query_map(bound.as_slice(), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })?;
            let Some((last_id, last_ms, _)) = rows.last() else {
                break;
            };
            cursor = (*last_ms, last_id.clone());
            let n = rows.len();
            for (id, _, body) in rows {
                if let Some(body) = body {
                    out.push(decode(&body, "session", &id)?);
                }
            }
            done += n as u64;
            progress.on_progress(done, total.max(done));
            if (n as i64) < CHUNK {
                break;
            }
        }
        Ok(out)
    }
}

/// Stores a session's new status, with its history line naming `fields`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn set_status(
    tx: &Transaction<'_>,
    session: &Session,
    revision: i64,
    at: DateTime<Utc>,
    actor: &Actor,
    from: Status,
    action: &str,
    fields: Vec<String>,
) -> Result<()> {
    let id = session.id.to_string();
    let body = encode(session, "session", &id)?;
    tx.prepare_cached(
        "UPDATE sessions SET status = :status, body = :body, revision = :revision,
             updated_ms = :now, status_changed_ms = :now
         WHERE id = :id",
    )?
    .execute(named_params! {
        ":id": id,
        ":status": session.status.code(),
        ":body": body,
        ":revision": revision,
        ":now": at.timestamp_millis(),
    })?;
    history::append(
        tx,
        actor,
        at,
        Change {
            entity: "session",
            entity_id: &id,
            action,
            revision: Some(revision),
            from_status: Some(from),
            to_status: Some(session.status),
            fields,
        },
    )
}

fn write_row(
    tx: &Transaction<'_>,
    s: &Session,
    team_id: &TeamId,
    community_id: &CommunityId,
    revision: i64,
    at: DateTime<Utc>,
    is_new: bool,
) -> Result<()> {
    let id = s.id.to_string();
    let body = encode(s, "session", &id)?;
    let sql = if is_new {
        "INSERT INTO sessions (id, visit_id, team_id, community_id, grp, status, started_ms,
             started_offset_s, participants, has_urgent, revision, updated_ms, status_changed_ms,
             body)
         VALUES (:id, :visit, :team, :community, :grp, :status, :started, :offset,
             :participants, :urgent, :revision, :now, :now, :body)"
    } else {
        "UPDATE sessions SET visit_id = :visit, team_id = :team, community_id = :community,
             grp = :grp, status = :status, started_ms = :started, started_offset_s = :offset,
             participants = :participants, has_urgent = :urgent, revision = :revision,
             updated_ms = :now, body = :body
         WHERE id = :id"
    };
    tx.prepare_cached(sql)?.execute(named_params! {
        ":id": id,
        ":visit": s.visit_id.to_string(),
        ":team": team_id.to_string(),
        ":community": community_id.to_string(),
        ":grp": s.group.code(),
        ":status": s.status.code(),
        ":started": s.started_at.timestamp_millis(),
        ":offset": s.started_at.offset().local_minus_utc(),
        ":participants": i64::try_from(s.participants.total()).unwrap_or(i64::MAX),
        ":urgent": s.has_urgent_concern(),
        ":revision": revision,
        ":now": at.timestamp_millis(),
        ":body": body,
    })?;
    Ok(())
}

fn stored_in(tx: &Transaction<'_>, id: &SessionId) -> Result<Option<Stored>> {
    let id_s = id.to_string();
    let row: Option<(Option<String>, String, i64, bool)> = tx
        .prepare_cached("SELECT body, status, revision, deleted FROM sessions WHERE id = :id")?
        .query_row(named_params! {":id": id_s}, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((body, status, revision, deleted)) = row else {
        return Ok(None);
    };
    Ok(Some(Stored {
        session: body.map(|b| decode(&b, "session", &id_s)).transpose()?,
        status: Status::from_code(&status).ok_or(Error::Corrupt {
            entity: "session",
            id: id_s.clone(),
        })?,
        revision,
        deleted,
    }))
}

/// A session that exists and is not deleted, with its revision, within a transaction.
pub(crate) fn live_in(tx: &Transaction<'_>, id: &SessionId) -> Result<(Session, i64)> {
    live_or_none_in(tx, id)?.ok_or_else(|| not_found(id))
}

/// [`live_in`], with `None` for a session not held here or deleted.
pub(crate) fn live_or_none_in(
    tx: &Transaction<'_>,
    id: &SessionId,
) -> Result<Option<(Session, i64)>> {
    Ok(match stored_in(tx, id)? {
        Some(Stored {
            session: Some(s),
            deleted: false,
            revision,
            ..
        }) => Some((s, revision)),
        _ => None,
    })
}

fn not_found(id: &SessionId) -> Error {
    Error::NotFound {
        entity: "session",
        id: id.to_string(),
    }
}

fn read_only(field: &str) -> Error {
    Error::Validation(ValidationErrors(vec![FieldError {
        field: field.into(),
        problem: Problem::ReadOnly,
    }]))
}

fn summary_from_row(r: &rusqlite::Row<'_>) -> Result<SessionSummary> {
    let id: String = r.get(0)?;
    let corrupt = || Error::Corrupt {
        entity: "session",
        id: id.clone(),
    };
    let group: String = r.get(4)?;
    let status: String = r.get(5)?;
    let participants: i64 = r.get(8)?;
    Ok(SessionSummary {
        id: parse_id(&id, "session")?,
        visit_id: parse_id(&r.get::<_, String>(1)?, "session")?,
        team_id: parse_id(&r.get::<_, String>(2)?, "session")?,
        community_id: parse_id(&r.get::<_, String>(3)?, "session")?,
        group: Group::from_code(&group).ok_or_else(corrupt)?,
        status: Status::from_code(&status).ok_or_else(corrupt)?,
        started_at: timestamp(r.get(6)?, r.get(7)?),
        participants: u64::try_from(participants).unwrap_or(0),
        has_urgent_concern: r.get(9)?,
        revision: r.get(10)?,
        sync_pending: r.get(11)?,
        sync_state: SyncState::from_code(&r.get::<_, String>(12)?).ok_or_else(corrupt)?,
        sync_error: r.get(13)?,
        conflicts: u64::try_from(r.get::<_, i64>(14)?).unwrap_or(0),
    })
}

/// A bound value of a dynamically assembled query.
#[derive(Clone)]
enum Param {
    Int(i64),
    Text(String),
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Param::Int(i) => i.to_sql(),
            Param::Text(s) => s.to_sql(),
        }
    }
}

/// The WHERE clause of `filter` (over alias `s`) and its named parameters. Only fragments of
/// fixed SQL are joined; every value is bound.
fn filter_sql(f: &SessionFilter) -> (String, Vec<(&'static str, Param)>) {
    let mut sql = String::from("s.deleted = 0");
    let mut params = Vec::new();
    let mut text = |sql: &mut String, clause: &str, name: &'static str, value: String| {
        sql.push_str(clause);
        params.push((name, Param::Text(value)));
    };
    if let Some(t) = &f.team_id {
        text(&mut sql, " AND s.team_id = :team", ":team", t.to_string());
    }
    if let Some(c) = &f.community_id {
        text(
            &mut sql,
            " AND s.community_id = :community",
            ":community",
            c.to_string(),
        );
    }
    if let Some(v) = &f.visit_id {
        text(
            &mut sql,
            " AND s.visit_id = :visit",
            ":visit",
            v.to_string(),
        );
    }
    if let Some(g) = f.group {
        text(&mut sql, " AND s.grp = :grp", ":grp", g.code().to_owned());
    }
    if let Some(st) = f.status {
        text(
            &mut sql,
            " AND s.status = :status",
            ":status",
            st.code().to_owned(),
        );
    }
    if let Some(from) = f.started_from {
        sql.push_str(" AND s.started_ms >= :from");
        params.push((":from", Param::Int(from.timestamp_millis())));
    }
    if let Some(before) = f.started_before {
        sql.push_str(" AND s.started_ms < :before");
        params.push((":before", Param::Int(before.timestamp_millis())));
    }
    if f.urgent_only {
        sql.push_str(" AND s.has_urgent = 1");
    }
    if let Some(state) = f.sync_state {
        sql.push_str(" AND ");
        sql.push_str(SESSION_STATE_SQL);
        sql.push_str(" = :sync_state");
        params.push((":sync_state", Param::Text(state.code().to_owned())));
    }
    (sql, params)
}

/// The parameters the statement actually uses (named parameters it lacks are skipped).
fn bind<'a>(
    stmt: &rusqlite::Statement<'_>,
    params: &'a [(&'static str, Param)],
) -> Vec<(&'a str, &'a dyn rusqlite::ToSql)> {
    params
        .iter()
        .filter(|(name, _)| stmt.parameter_index(name).ok().flatten().is_some())
        .map(|(name, value)| (*name, value as &dyn rusqlite::ToSql))
        .collect()
}

/// Position in a list: the last item's start time and id.
struct Cursor {
    ms: i64,
    id: String,
}

impl Cursor {
    fn encode(&self) -> String {
        format!("{}_{}", self.ms, self.id)
    }

    fn parse(s: &str) -> Result<Self> {
        let (ms, id) = s.split_once('_').ok_or(Error::InvalidCursor)?;
        let ms = ms.parse().map_err(|_| Error::InvalidCursor)?;
        let id: SessionId = id.parse().map_err(|_| Error::InvalidCursor)?;
        Ok(Cursor {
            ms,
            id: id.to_string(),
        })
    }
}
