//! Data access for sync: per-record sync state and server hash, the enrolment and pull cursor,
//! the records a push sends (built from what is stored now), and the writes that apply
//! pulled records without the workflow (the server is the authority) and without outbox
//! entries. The protocol itself lives in `crate::sync`.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, named_params};
use serde::{Deserialize, Serialize};

use super::codec::{decode, encode};
use super::outbox::{Entity, OutboxEntry};
use super::reference::parse_id;
use super::visits::visit_in;
use crate::error::{Error, Result};
use fieldconsult_model::crypto::sign::{PublicKey, SEED_LEN, SigningKey};
use fieldconsult_model::wire::{PulledRecord, Record, SessionTombstone};
use fieldconsult_model::{
    ChecklistTemplate, Community, Location, ReferralService, Role, Session, SessionId, Team,
};

/// Where a record stands with the server; the app shows it and filters on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Local changes wait to be pushed.
    Pending,
    /// Pushed; the server's acknowledgement has not arrived yet.
    Sent,
    /// The server holds exactly this version.
    Synced,
    /// The server refused it or acknowledged other content; see the reason code. Kept
    /// locally; a refused record is not pushed again until it is edited.
    Error,
    /// Built on an older version than the server's: kept locally, shown to the author and
    /// the reviewer, not pushed again until it is edited.
    Conflict,
}

impl SyncState {
    /// Stable code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            SyncState::Pending => "pending",
            SyncState::Sent => "sent",
            SyncState::Synced => "synced",
            SyncState::Error => "error",
            SyncState::Conflict => "conflict",
        }
    }

    /// The state with `code`.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            SyncState::Pending,
            SyncState::Sent,
            SyncState::Synced,
            SyncState::Error,
            SyncState::Conflict,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// Reason code of an acknowledgement whose hash is not the one of the content sent.
pub(crate) const HASH_MISMATCH: &str = "hash_mismatch";
/// Reason code of a record the server refused only because a time in it is ahead of the
/// server's clock (the device clock runs fast): pushed again at every sync.
pub(crate) const CLOCK_AHEAD: &str = "clock_ahead";
/// Reason code of a record the server refused because its parent (a session's visit) was not
/// there yet, typically refused itself: pushed again at every sync, so that it follows its
/// parent once that goes through.
pub(crate) const UNKNOWN_PARENT: &str = fieldconsult_model::wire::reasons::UNKNOWN_PARENT;
/// Reason code of a record too large to fit in any push batch.
pub(crate) const TOO_LARGE: &str = "too_large";

/// SQL (over alias `s`) of a session's sync state: a session without a row has nothing to
/// push and is `synced`.
pub(crate) const SESSION_STATE_SQL: &str = "coalesce((SELECT ss.state FROM sync_state ss
    WHERE ss.entity = 'session' AND ss.entity_id = s.id), 'synced')";

/// Sets the state (and reason) of a record, keeping its server hash.
pub(crate) fn set_state(
    tx: &Transaction<'_>,
    entity: Entity,
    id: &str,
    state: SyncState,
    reason: Option<&str>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO sync_state (entity, entity_id, state, reason)
         VALUES (:entity, :id, :state, :reason)
         ON CONFLICT (entity, entity_id) DO UPDATE
         SET state = excluded.state, reason = excluded.reason",
    )?
    .execute(named_params! {
        ":entity": entity.code(), ":id": id, ":state": state.code(), ":reason": reason,
    })?;
    if state == SyncState::Sent && entity == Entity::Session {
        super::consent::mark_sent(tx, id)?;
    }
    Ok(())
}

/// Sets the state and the server's hash of a record.
pub(crate) fn set_server_hash(
    tx: &Transaction<'_>,
    entity: Entity,
    id: &str,
    state: SyncState,
    hash: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO sync_state (entity, entity_id, state, reason, server_hash)
         VALUES (:entity, :id, :state, NULL, :hash)
         ON CONFLICT (entity, entity_id) DO UPDATE
         SET state = excluded.state, reason = NULL, server_hash = excluded.server_hash",
    )?
    .execute(named_params! {
        ":entity": entity.code(), ":id": id, ":state": state.code(), ":hash": hash,
    })?;
    Ok(())
}

/// Records the server's hash of a record, keeping its state.
pub(crate) fn set_base_hash(
    tx: &Transaction<'_>,
    entity: Entity,
    id: &str,
    hash: &str,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE sync_state SET server_hash = :hash WHERE entity = :entity AND entity_id = :id",
    )?
    .execute(named_params! {":entity": entity.code(), ":id": id, ":hash": hash})?;
    Ok(())
}

/// A record's sync bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RecordSync {
    pub state: SyncState,
    /// Reason code, for `Error`.
    pub reason: Option<String>,
    /// Hash of the server's last acknowledged version.
    pub server_hash: Option<String>,
}

/// A record's sync state, reason and server hash; `None` when it has no row.
pub(crate) fn state_of(
    tx: &Transaction<'_>,
    entity: Entity,
    id: &str,
) -> Result<Option<RecordSync>> {
    let row: Option<(String, Option<String>, Option<String>)> = tx
        .prepare_cached(
            "SELECT state, reason, server_hash FROM sync_state
             WHERE entity = :entity AND entity_id = :id",
        )?
        .query_row(named_params! {":entity": entity.code(), ":id": id}, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    Ok(row.map(|(state, reason, server_hash)| RecordSync {
        state: SyncState::from_code(&state).unwrap_or(SyncState::Pending),
        reason,
        server_hash,
    }))
}

/// Forgets the server's version of a record, so that the next pull that brings it applies
/// it (a refused local deletion gives way to the server's session).
pub(crate) fn forget_server_version(tx: &Transaction<'_>, entity: Entity, id: &str) -> Result<()> {
    tx.prepare_cached(
        "UPDATE sync_state SET state = 'synced', reason = NULL, server_hash = NULL
         WHERE entity = :entity AND entity_id = :id",
    )?
    .execute(named_params! {":entity": entity.code(), ":id": id})?;
    Ok(())
}

/// Puts records left `sent` by an interrupted sync back to `pending`.
pub(crate) fn reset_sent(tx: &Transaction<'_>) -> Result<()> {
    tx.execute(
        "UPDATE sync_state SET state = 'pending', reason = NULL WHERE state = 'sent'",
        [],
    )?;
    Ok(())
}

/// The device's enrolment and pull cursor.
#[derive(Clone, Debug)]
pub(crate) struct Credentials {
    pub device_id: String,
    pub token: String,
    pub role: Role,
    pub server_url: Option<String>,
    pub cursor: u64,
    /// The key pushes are signed with; `None` for an enrolment older than signing.
    pub signing_key: Option<std::sync::Arc<SigningKey>>,
}

/// The stored enrolment, if any.
pub(crate) fn credentials(tx: &Transaction<'_>) -> Result<Option<Credentials>> {
    type Row = (
        Option<String>,
        String,
        String,
        String,
        i64,
        Option<zeroize::Zeroizing<Vec<u8>>>,
    );
    let row: Option<Row> = tx
        .prepare_cached(
            "SELECT server_url, device_id, token, role, pull_cursor, signing_seed
             FROM sync_meta WHERE id = 1",
        )?
        .query_row([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get::<_, Option<Vec<u8>>>(5)?.map(zeroize::Zeroizing::new),
            ))
        })
        .optional()?;
    row.map(|(server_url, device_id, token, role, cursor, seed)| {
        let signing_key = match seed {
            None => None,
            Some(seed) => {
                let seed: &[u8; SEED_LEN] =
                    seed.as_slice().try_into().map_err(|_| Error::Corrupt {
                        entity: "enrolment",
                        id: device_id.clone(),
                    })?;
                Some(std::sync::Arc::new(SigningKey::from_seed(seed)))
            }
        };
        Ok(Credentials {
            signing_key,
            role: decode(&role, "enrolment", &device_id)?,
            device_id,
            token,
            server_url,
            cursor: u64::try_from(cursor).unwrap_or(0),
        })
    })
    .transpose()
}

/// Stores a new enrolment; pulling starts again from the beginning (the scope may differ).
pub(crate) fn save_enrolment(
    tx: &Transaction<'_>,
    server_url: Option<&str>,
    device_id: &str,
    token: &str,
    role: &Role,
    signing_key: &SigningKey,
    root_key: Option<&PublicKey>,
) -> Result<()> {
    let seed = signing_key.seed();
    tx.prepare_cached(
        "INSERT INTO sync_meta (id, server_url, device_id, token, role, pull_cursor,
                                signing_seed, root_key, bundle_sequence)
         VALUES (1, :url, :device, :token, :role, 0, :seed, :root, 0)
         ON CONFLICT (id) DO UPDATE SET server_url = excluded.server_url,
             device_id = excluded.device_id, token = excluded.token, role = excluded.role,
             pull_cursor = 0, signing_seed = excluded.signing_seed,
             root_key = excluded.root_key, bundle_sequence = 0",
    )?
    .execute(named_params! {
        ":url": server_url,
        ":device": device_id,
        ":token": token,
        ":role": encode(role, "enrolment", device_id)?,
        ":seed": &seed[..],
        ":root": root_key.map(PublicKey::to_hex),
    })?;
    Ok(())
}

/// The mission root key pinned at enrolment and the sequence of the last bundle applied;
/// `None` when the device pinned no key.
pub(crate) fn root_pin(tx: &Transaction<'_>) -> Result<Option<(PublicKey, u64)>> {
    let row: Option<(Option<String>, i64)> = tx
        .prepare_cached("SELECT root_key, bundle_sequence FROM sync_meta WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        Some((Some(hex), sequence)) => {
            let key = PublicKey::from_hex(&hex).map_err(|_| Error::Corrupt {
                entity: "enrolment",
                id: "root key".to_owned(),
            })?;
            Ok(Some((key, u64::try_from(sequence).unwrap_or(0))))
        }
        _ => Ok(None),
    }
}

/// Records that the bundle with `sequence` was applied.
pub(crate) fn set_bundle_sequence(tx: &Transaction<'_>, sequence: u64) -> Result<()> {
    tx.prepare_cached("UPDATE sync_meta SET bundle_sequence = :s WHERE id = 1")?
        .execute(named_params! {":s": i64::try_from(sequence).unwrap_or(i64::MAX)})?;
    Ok(())
}

/// Advances the pull cursor.
pub(crate) fn set_cursor(tx: &Transaction<'_>, cursor: u64) -> Result<()> {
    tx.prepare_cached("UPDATE sync_meta SET pull_cursor = :c WHERE id = 1")?
        .execute(named_params! {":c": i64::try_from(cursor).unwrap_or(i64::MAX)})?;
    Ok(())
}

/// An outbox row a push may send, with its position in push order and its base hash.
#[derive(Clone, Debug)]
pub(crate) struct Queued {
    pub entry: OutboxEntry,
    pub seq: i64,
    pub base_hash: Option<String>,
}

/// Up to `limit` outbox rows after position `after` (urgent first, then by first change),
/// leaving out those held until edited (conflicts, and refused records other than for a hash
/// mismatch, a fast device clock or a missing parent).
pub(crate) fn queued_after(
    tx: &Transaction<'_>,
    after: Option<(bool, i64)>,
    limit: usize,
) -> Result<Vec<Queued>> {
    let (urgent, seq) = after.unwrap_or((true, i64::MIN));
    let mut stmt = tx.prepare_cached(
        "SELECT o.entity, o.entity_id, o.urgent, o.changes, o.seq, st.server_hash
         FROM outbox o LEFT JOIN sync_state st
             ON st.entity = o.entity AND st.entity_id = o.entity_id
         WHERE (o.urgent < :urgent OR (o.urgent = :urgent AND o.seq > :seq))
           AND coalesce(st.state, 'pending') <> 'conflict'
           AND NOT (coalesce(st.state, 'pending') = 'error'
                    AND st.reason NOT IN (:retry, :clock_ahead, :unknown_parent))
         ORDER BY o.urgent DESC, o.seq LIMIT :limit",
    )?;
    let rows = stmt.query_map(
        named_params! {
            ":urgent": urgent, ":seq": seq, ":retry": HASH_MISMATCH, ":clock_ahead": CLOCK_AHEAD,
            ":unknown_parent": UNKNOWN_PARENT,
            ":limit": i64::try_from(limit).unwrap_or(i64::MAX),
        },
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (entity, id, urgent, changes, seq, base_hash) = row?;
        if let Some(entity) = Entity::from_code(&entity) {
            out.push(Queued {
                entry: OutboxEntry {
                    entity,
                    id,
                    urgent,
                    changes,
                },
                seq,
                base_hash,
            });
        }
    }
    Ok(out)
}

/// The record `entity` `id` as stored now, as it travels; `None` if it no longer exists.
/// This device's id, once it is enrolled.
pub(crate) fn own_device_id(tx: &Transaction<'_>) -> Result<Option<String>> {
    Ok(tx
        .prepare_cached("SELECT device_id FROM sync_meta WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?)
}

/// The record as this device (`device_id`) sends it, or `None` when it is gone.
pub(crate) fn load_record(
    tx: &Transaction<'_>,
    entity: Entity,
    id: &str,
    device_id: &str,
) -> Result<Option<Record>> {
    let body = |sql: &str| -> Result<Option<String>> {
        Ok(tx
            .prepare_cached(sql)?
            .query_row(named_params! {":id": id}, |r| r.get(0))
            .optional()?)
    };
    Ok(match entity {
        Entity::Community => {
            let row: Option<(String, String, Option<f64>, Option<f64>)> = tx
                .prepare_cached(
                    "SELECT name, admin_area, lat, lon FROM communities WHERE id = :id",
                )?
                .query_row(named_params! {":id": id}, |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            row.map(|(name, admin_area, lat, lon)| {
                Ok::<_, Error>(Record::Community(Community {
                    id: parse_id(id, "community")?,
                    name,
                    admin_area,
                    location: lat.zip(lon).map(|(lat, lon)| Location { lat, lon }),
                }))
            })
            .transpose()?
        }
        Entity::Visit => body("SELECT body FROM visits WHERE id = :id")?
            .map(|b| decode(&b, "visit", id).map(Record::Visit))
            .transpose()?,
        Entity::Session => {
            let row: Option<(String, bool, Option<String>)> = tx
                .prepare_cached("SELECT visit_id, deleted, body FROM sessions WHERE id = :id")?
                .query_row(named_params! {":id": id}, |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            match row {
                None => None,
                Some((visit_id, true, _)) => Some(Record::SessionTombstone(SessionTombstone {
                    id: parse_id(id, "session")?,
                    visit_id: parse_id(&visit_id, "session")?,
                })),
                // The plaintext sensitive note never leaves the device (see `store::sealing`).
                Some((_, false, Some(b))) => Some(Record::Session(Box::new(
                    decode::<Session>(&b, "session", id)?.as_sent(device_id),
                ))),
                Some((_, false, None)) => {
                    return Err(Error::Corrupt {
                        entity: "session",
                        id: id.to_owned(),
                    });
                }
            }
        }
        Entity::Review => body("SELECT body FROM reviews WHERE id = :id")?
            .map(|b| decode(&b, "review", id).map(Record::Review))
            .transpose()?,
        Entity::Addendum => body("SELECT body FROM addenda WHERE id = :id")?
            .map(|b| decode(&b, "addendum", id).map(Record::Addendum))
            .transpose()?,
    })
}

/// The outbox kind a record travels under; `None` for what only the server writes.
pub(crate) fn entity_of(record: &Record) -> Option<Entity> {
    match record {
        Record::Community(_) => Some(Entity::Community),
        Record::Visit(_) => Some(Entity::Visit),
        Record::Session(_) | Record::SessionTombstone(_) => Some(Entity::Session),
        Record::Review(_) => Some(Entity::Review),
        Record::Addendum(_) => Some(Entity::Addendum),
        Record::Team(_)
        | Record::Checklist(_)
        | Record::ReferralService(_)
        | Record::SealingKeys(_)
        | Record::Conflict(_)
        | Record::ConsentWithdrawal(_)
        | Record::Bundle(_) => None,
    }
}

/// What became of a pulled record written to the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Written {
    /// Stored.
    Stored,
    /// Its parent has not arrived yet: park it and retry later.
    MissingParent,
}

/// Writes a pulled record as the server holds it: no workflow, no outbox, no history.
pub(crate) fn write_pulled(
    tx: &Transaction<'_>,
    record: &Record,
    now: DateTime<Utc>,
) -> Result<Written> {
    match record {
        Record::Team(t) => write_team(tx, t)?,
        Record::Community(c) => {
            tx.prepare_cached(
                "INSERT INTO communities (id, name, admin_area, lat, lon)
                 VALUES (:id, :name, :area, :lat, :lon)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                     admin_area = excluded.admin_area, lat = excluded.lat, lon = excluded.lon",
            )?
            .execute(named_params! {
                ":id": c.id.to_string(),
                ":name": c.name,
                ":area": c.admin_area,
                ":lat": c.location.map(|l| l.lat),
                ":lon": c.location.map(|l| l.lon),
            })?;
        }
        Record::Checklist(c) => write_checklist(tx, c)?,
        Record::ReferralService(s) => write_referral_service(tx, s)?,
        Record::SealingKeys(k) => super::sealing::write_sealing_keys(tx, k)?,
        Record::Visit(v) => {
            if !exists(
                tx,
                "SELECT 1 FROM teams WHERE id = :id",
                &v.team_id.to_string(),
            )? || !exists(
                tx,
                "SELECT 1 FROM communities WHERE id = :id",
                &v.community_id.to_string(),
            )? {
                return Ok(Written::MissingParent);
            }
            let id = v.id.to_string();
            tx.prepare_cached(
                "INSERT INTO visits (id, team_id, community_id, started_ms, body, revision)
                 VALUES (:id, :team, :community, :started, :body, 1)
                 ON CONFLICT (id) DO UPDATE SET team_id = excluded.team_id,
                     community_id = excluded.community_id, started_ms = excluded.started_ms,
                     body = excluded.body, revision = visits.revision + 1",
            )?
            .execute(named_params! {
                ":id": id,
                ":team": v.team_id.to_string(),
                ":community": v.community_id.to_string(),
                ":started": v.started_at.timestamp_millis(),
                ":body": encode(v, "visit", &id)?,
            })?;
        }
        Record::Session(s) => return write_session(tx, s, now),
        Record::SessionTombstone(t) => {
            tx.prepare_cached(
                "UPDATE sessions SET deleted = 1, body = NULL, participants = 0, has_urgent = 0,
                     revision = revision + 1, updated_ms = :now
                 WHERE id = :id AND deleted = 0",
            )?
            .execute(named_params! {":id": t.id.to_string(), ":now": now.timestamp_millis()})?;
        }
        Record::Review(r) => {
            if !session_exists(tx, &r.session_id)? {
                return Ok(Written::MissingParent);
            }
            let id = r.id.to_string();
            // Reviews are append-only: one already here is this one.
            tx.prepare_cached(
                "INSERT INTO reviews (id, session_id, at_ms, body) VALUES (:id, :s, :at, :body)
                 ON CONFLICT (id) DO NOTHING",
            )?
            .execute(named_params! {
                ":id": id,
                ":s": r.session_id.to_string(),
                ":at": r.at.timestamp_millis(),
                ":body": encode(r, "review", &id)?,
            })?;
        }
        Record::Conflict(c) => super::conflicts::write_notice(tx, c)?,
        Record::ConsentWithdrawal(w) => {
            // Consent withdrawn on another device of the team: this copy goes too, with
            // whatever was recorded about it here.
            super::consent::erase_session(tx, &w.session_id)?;
            super::consent::sent(tx, &w.session_id.to_string())?;
        }
        // A bundle is unpacked (after verification) by the pull, never written as such.
        Record::Bundle(_) => {}
        Record::Addendum(a) => {
            if !session_exists(tx, &a.session_id)? {
                return Ok(Written::MissingParent);
            }
            let id = a.id.to_string();
            tx.prepare_cached(
                "INSERT INTO addenda (id, session_id, at_ms, body) VALUES (:id, :s, :at, :body)
                 ON CONFLICT (id) DO NOTHING",
            )?
            .execute(named_params! {
                ":id": id,
                ":s": a.session_id.to_string(),
                ":at": a.at.timestamp_millis(),
                ":body": encode(a, "addendum", &id)?,
            })?;
        }
    }
    Ok(Written::Stored)
}

fn write_session(tx: &Transaction<'_>, s: &Session, now: DateTime<Utc>) -> Result<Written> {
    let visit = match visit_in(tx, &s.visit_id) {
        Ok(v) => v,
        Err(Error::NotFound { .. }) => return Ok(Written::MissingParent),
        Err(e) => return Err(e),
    };
    let id = s.id.to_string();
    let s = &super::sealing::keep_local_plaintext(tx, s)?;
    tx.prepare_cached(
        "INSERT INTO sessions (id, visit_id, team_id, community_id, grp, status, started_ms,
             started_offset_s, participants, has_urgent, revision, updated_ms,
             status_changed_ms, deleted, body)
         VALUES (:id, :visit, :team, :community, :grp, :status, :started, :offset,
             :participants, :urgent, 1, :now, :now, 0, :body)
         ON CONFLICT (id) DO UPDATE SET visit_id = excluded.visit_id,
             team_id = excluded.team_id, community_id = excluded.community_id,
             grp = excluded.grp, status = excluded.status, started_ms = excluded.started_ms,
             started_offset_s = excluded.started_offset_s,
             participants = excluded.participants, has_urgent = excluded.has_urgent,
             revision = sessions.revision + 1, updated_ms = excluded.updated_ms,
             status_changed_ms = CASE WHEN sessions.status = excluded.status
                 THEN sessions.status_changed_ms ELSE excluded.status_changed_ms END,
             deleted = 0, body = excluded.body",
    )?
    .execute(named_params! {
        ":id": id,
        ":visit": s.visit_id.to_string(),
        ":team": visit.team_id.to_string(),
        ":community": visit.community_id.to_string(),
        ":grp": s.group.code(),
        ":status": s.status.code(),
        ":started": s.started_at.timestamp_millis(),
        ":offset": s.started_at.offset().local_minus_utc(),
        ":participants": i64::try_from(s.participants.total()).unwrap_or(i64::MAX),
        ":urgent": s.has_urgent_concern(),
        ":now": now.timestamp_millis(),
        ":body": encode(s, "session", &id)?,
    })?;
    Ok(Written::Stored)
}

fn write_team(tx: &Transaction<'_>, t: &Team) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO teams (id, name, sector) VALUES (:id, :name, :sector)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, sector = excluded.sector",
    )?
    .execute(named_params! {":id": t.id.to_string(), ":name": t.name, ":sector": t.sector})?;
    Ok(())
}

fn write_checklist(tx: &Transaction<'_>, c: &ChecklistTemplate) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO checklists (version, body) VALUES (:v, :body)
         ON CONFLICT (version) DO UPDATE SET body = excluded.body",
    )?
    .execute(named_params! {
        ":v": c.version, ":body": encode(c, "checklist", &c.version.to_string())?,
    })?;
    Ok(())
}

fn write_referral_service(tx: &Transaction<'_>, s: &ReferralService) -> Result<()> {
    let id = s.id.to_string();
    tx.prepare_cached(
        "INSERT INTO referral_services (id, name, kind, area) VALUES (:id, :name, :kind, :area)
         ON CONFLICT (id) DO UPDATE
         SET name = excluded.name, kind = excluded.kind, area = excluded.area",
    )?
    .execute(named_params! {
        ":id": id, ":name": s.name, ":kind": encode(&s.kind, "referral service", &id)?,
        ":area": s.area,
    })?;
    Ok(())
}

fn exists(tx: &Transaction<'_>, sql: &str, id: &str) -> Result<bool> {
    Ok(tx.prepare_cached(sql)?.exists(named_params! {":id": id})?)
}

fn session_exists(tx: &Transaction<'_>, id: &SessionId) -> Result<bool> {
    exists(tx, "SELECT 1 FROM sessions WHERE id = :id", &id.to_string())
}

/// Keeps a pulled record whose parent has not arrived, to retry after the next page.
pub(crate) fn park(tx: &Transaction<'_>, pulled: &PulledRecord) -> Result<()> {
    let id = pulled.record.id();
    tx.prepare_cached(
        "INSERT INTO sync_parked (seq, kind, record_id, body, hash)
         VALUES (:seq, :kind, :id, :body, :hash)
         ON CONFLICT (kind, record_id) DO UPDATE
         SET seq = excluded.seq, body = excluded.body, hash = excluded.hash",
    )?
    .execute(named_params! {
        ":seq": i64::try_from(pulled.seq).unwrap_or(i64::MAX),
        ":kind": pulled.record.kind(),
        ":id": id,
        ":body": encode(&pulled.record, "pulled record", &id)?,
        ":hash": pulled.hash,
    })?;
    Ok(())
}

/// The parked records, oldest first.
pub(crate) fn parked(tx: &Transaction<'_>) -> Result<Vec<PulledRecord>> {
    let mut stmt =
        tx.prepare_cached("SELECT seq, record_id, body, hash FROM sync_parked ORDER BY seq")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, id, body, hash) = row?;
        out.push(PulledRecord {
            seq: u64::try_from(seq).unwrap_or(0),
            record: decode(&body, "pulled record", &id)?,
            hash,
        });
    }
    Ok(out)
}

/// Forgets a parked record (applied, or superseded).
pub(crate) fn unpark(tx: &Transaction<'_>, record: &Record) -> Result<()> {
    tx.prepare_cached("DELETE FROM sync_parked WHERE kind = :kind AND record_id = :id")?
        .execute(named_params! {":kind": record.kind(), ":id": record.id()})?;
    Ok(())
}
