//! Retention: accepted entries that the server holds leave the device after a set period,
//! so a lost phone carries as little as possible.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Transaction, named_params};

use super::Store;
use crate::error::Result;

/// Sessions to purge: accepted before the cutoff with nothing of theirs left to push, and
/// tombstones the server has acknowledged. With each, its visit.
const SELECT_PURGE: &str = "
SELECT s.id, s.visit_id FROM sessions s
WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.entity = 'session' AND o.entity_id = s.id)
  AND (s.deleted = 1 OR (
      s.status = 'accepted' AND s.status_changed_ms < :cutoff
      AND NOT EXISTS (SELECT 1 FROM reviews r JOIN outbox o
                      ON o.entity = 'review' AND o.entity_id = r.id WHERE r.session_id = s.id)
      AND NOT EXISTS (SELECT 1 FROM addenda a JOIN outbox o
                      ON o.entity = 'addendum' AND o.entity_id = a.id WHERE a.session_id = s.id)))";

/// Deletes one session with its reviews, addenda, their history and sync bookkeeping (also
/// the last step of a consent withdrawal, `super::consent::erase_session`).
pub(crate) const DELETE_SESSION: &[&str] = &[
    "DELETE FROM history WHERE entity_id = :id
        OR entity_id IN (SELECT id FROM reviews WHERE session_id = :id)
        OR entity_id IN (SELECT id FROM addenda WHERE session_id = :id)",
    "DELETE FROM sync_state WHERE (entity = 'session' AND entity_id = :id)
        OR (entity = 'review' AND entity_id IN (SELECT id FROM reviews WHERE session_id = :id))
        OR (entity = 'addendum' AND entity_id IN (SELECT id FROM addenda WHERE session_id = :id))",
    "DELETE FROM reviews WHERE session_id = :id",
    "DELETE FROM conflicts WHERE record_kind = 'session' AND record_id = :id",
    "DELETE FROM addenda WHERE session_id = :id",
    "DELETE FROM sessions WHERE id = :id",
];

/// Deletes a visit left without sessions, unless it still waits to be pushed.
const DELETE_EMPTY_VISIT: &[&str] = &[
    "DELETE FROM history WHERE entity_id = :id
        AND NOT EXISTS (SELECT 1 FROM sessions WHERE visit_id = :id)
        AND NOT EXISTS (SELECT 1 FROM outbox WHERE entity = 'visit' AND entity_id = :id)",
    "DELETE FROM sync_state WHERE entity = 'visit' AND entity_id = :id
        AND NOT EXISTS (SELECT 1 FROM sessions WHERE visit_id = :id)
        AND NOT EXISTS (SELECT 1 FROM outbox WHERE entity = 'visit' AND entity_id = :id)",
    "DELETE FROM conflicts WHERE record_kind = 'visit' AND record_id = :id
        AND NOT EXISTS (SELECT 1 FROM sessions WHERE visit_id = :id)
        AND NOT EXISTS (SELECT 1 FROM outbox WHERE entity = 'visit' AND entity_id = :id)",
    "DELETE FROM visits WHERE id = :id
        AND NOT EXISTS (SELECT 1 FROM sessions WHERE visit_id = :id)
        AND NOT EXISTS (SELECT 1 FROM outbox WHERE entity = 'visit' AND entity_id = :id)",
];

impl Store {
    /// Deletes sessions accepted more than `days` ago that have nothing left to push (nor
    /// their reviews and addenda), with their reviews, addenda and history, the visits left
    /// without sessions, and acknowledged tombstones. Returns how many sessions left.
    pub fn purge_retention(&self, days: u32) -> Result<u64> {
        self.purge_retention_at(days, Utc::now())
    }

    /// [`Store::purge_retention`] as if the time were `now`.
    pub fn purge_retention_at(&self, days: u32, now: DateTime<Utc>) -> Result<u64> {
        let cutoff = (now - Duration::days(i64::from(days))).timestamp_millis();
        let purged = self.write(|tx| {
            // Ids only, no temporary tables: SQLCipher would key a temp database for them.
            let doomed: Vec<(String, String)> = tx
                .prepare_cached(SELECT_PURGE)?
                .query_map(named_params! {":cutoff": cutoff}, |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<Result<_, _>>()?;
            for (session, _) in &doomed {
                run_all(tx, DELETE_SESSION, session)?;
            }
            let mut visits: Vec<&String> = doomed.iter().map(|(_, v)| v).collect();
            visits.sort();
            visits.dedup();
            for visit in visits {
                run_all(tx, DELETE_EMPTY_VISIT, visit)?;
            }
            Ok(u64::try_from(doomed.len()).unwrap_or(u64::MAX))
        })?;
        // secure_delete zeroed the freed pages; checkpoint so the WAL keeps no copy of them.
        self.checkpoint()?;
        Ok(purged)
    }
}

fn run_all(tx: &Transaction<'_>, statements: &[&str], id: &str) -> Result<()> {
    for sql in statements {
        tx.prepare_cached(sql)?.execute(named_params! {":id": id})?;
    }
    Ok(())
}
