//! The outbox: what sync will push. One row per record with unacknowledged local changes,
//! urgent first. Follows the change-counter scheme: [`Store::acknowledge`] subtracts the count
//! captured when the batch was read, so a write made while an upload was in flight keeps its
//! row and goes out in the next one.

use rusqlite::{Transaction, named_params};
use serde::{Deserialize, Serialize};

use super::Store;
use crate::error::Result;

/// Kinds of record that travel in the outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A community added on the device.
    Community,
    /// A visit.
    Visit,
    /// A session (including its tombstone).
    Session,
    /// A review decision.
    Review,
    /// An addendum.
    Addendum,
}

impl Entity {
    /// Stable code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            Entity::Community => "community",
            Entity::Visit => "visit",
            Entity::Session => "session",
            Entity::Review => "review",
            Entity::Addendum => "addendum",
        }
    }

    pub(crate) fn from_code(code: &str) -> Option<Self> {
        [
            Entity::Community,
            Entity::Visit,
            Entity::Session,
            Entity::Review,
            Entity::Addendum,
        ]
        .into_iter()
        .find(|e| e.code() == code)
    }
}

/// One record waiting to be pushed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Kind of record.
    pub entity: Entity,
    /// Its id.
    pub id: String,
    /// Whether it carries an urgent concern (or is the visit of one).
    pub urgent: bool,
    /// Local changes counted when this entry was read; pass the entry back to
    /// [`Store::acknowledge`] unchanged.
    pub changes: i64,
}

/// Records a change of `entity` `id` in the outbox, within the caller's transaction.
pub(crate) fn enqueue(tx: &Transaction<'_>, entity: Entity, id: &str, urgent: bool) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO outbox (entity, entity_id, urgent, changes)
         VALUES (:entity, :id, :urgent, 1)
         ON CONFLICT (entity, entity_id) DO UPDATE
         SET changes = changes + 1, urgent = max(urgent, excluded.urgent)",
    )?
    .execute(named_params! {":entity": entity.code(), ":id": id, ":urgent": urgent})?;
    // A new edit clears a conflict or an error: the author has acted on it.
    tx.prepare_cached(
        "INSERT INTO sync_state (entity, entity_id, state) VALUES (:entity, :id, 'pending')
         ON CONFLICT (entity, entity_id) DO UPDATE SET state = 'pending', reason = NULL",
    )?
    .execute(named_params! {":entity": entity.code(), ":id": id})?;
    Ok(())
}

/// Marks an already queued record urgent (the visit of an urgent session goes with it).
pub(crate) fn make_urgent(tx: &Transaction<'_>, entity: Entity, id: &str) -> Result<()> {
    tx.prepare_cached("UPDATE outbox SET urgent = 1 WHERE entity = :entity AND entity_id = :id")?
        .execute(named_params! {":entity": entity.code(), ":id": id})?;
    Ok(())
}

/// Whether `entity` `id` has unacknowledged changes.
pub(crate) fn is_pending(tx: &Transaction<'_>, entity: Entity, id: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM outbox WHERE entity = :entity AND entity_id = :id")?
        .exists(named_params! {":entity": entity.code(), ":id": id})?)
}

impl Store {
    /// Up to `limit` records waiting to be pushed: urgent ones first, then in the order they
    /// were first changed.
    pub fn pending_changes(&self, limit: u32) -> Result<Vec<OutboxEntry>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT entity, entity_id, urgent, changes FROM outbox
                 ORDER BY urgent DESC, seq LIMIT :limit",
            )?;
            let rows = stmt.query_map(named_params! {":limit": limit}, |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (entity, id, urgent, changes) = row?;
                // The CHECK constraint admits only known codes.
                if let Some(entity) = Entity::from_code(&entity) {
                    out.push(OutboxEntry {
                        entity,
                        id,
                        urgent,
                        changes,
                    });
                }
            }
            Ok(out)
        })
    }

    /// Number of records waiting to be pushed.
    pub fn pending_count(&self) -> Result<u32> {
        self.read(|tx| Ok(tx.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?))
    }

    /// Records that the server durably committed `entries` as read by
    /// [`Store::pending_changes`]. A record changed again since it was read stays queued.
    pub fn acknowledge(&self, entries: &[OutboxEntry]) -> Result<()> {
        self.write(|tx| {
            for e in entries {
                let still_pending = acknowledge_in(tx, e)?;
                super::sync::set_state(
                    tx,
                    e.entity,
                    &e.id,
                    if still_pending {
                        super::sync::SyncState::Pending
                    } else {
                        super::sync::SyncState::Synced
                    },
                    None,
                )?;
            }
            Ok(())
        })
    }
}

/// Subtracts the changes captured in `e` from its outbox row, deleting the row when nothing
/// is left; returns whether the record still has unacknowledged changes.
pub(crate) fn acknowledge_in(tx: &Transaction<'_>, e: &OutboxEntry) -> Result<bool> {
    let params = named_params! {
        ":entity": e.entity.code(), ":id": e.id, ":captured": e.changes,
    };
    // Delete first: decrementing first would bring a re-edited row down to the captured
    // count and delete it with its unsent edit.
    tx.prepare_cached(
        "DELETE FROM outbox
         WHERE entity = :entity AND entity_id = :id AND changes <= :captured",
    )?
    .execute(params)?;
    tx.prepare_cached(
        "UPDATE outbox SET changes = changes - :captured
         WHERE entity = :entity AND entity_id = :id AND changes > :captured",
    )?
    .execute(params)?;
    is_pending(tx, e.entity, &e.id)
}
