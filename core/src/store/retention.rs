//! Retention: accepted entries that the server holds leave the device after a set period,
//! so a lost phone carries as little as possible.

use chrono::{DateTime, Duration, Utc};
use rusqlite::named_params;

use super::Store;
use crate::error::Result;

/// Selects the sessions to purge into `temp.purge`: accepted before the cutoff, with nothing of
/// theirs left to push; and tombstones the server has acknowledged.
const SELECT_PURGE: &str = "
INSERT INTO temp.purge (id)
SELECT s.id FROM sessions s
WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.entity = 'session' AND o.entity_id = s.id)
  AND (s.deleted = 1 OR (
      s.status = 'accepted' AND s.status_changed_ms < :cutoff
      AND NOT EXISTS (SELECT 1 FROM reviews r JOIN outbox o
                      ON o.entity = 'review' AND o.entity_id = r.id WHERE r.session_id = s.id)
      AND NOT EXISTS (SELECT 1 FROM addenda a JOIN outbox o
                      ON o.entity = 'addendum' AND o.entity_id = a.id WHERE a.session_id = s.id)))";

/// Deletes the selected sessions with everything hanging off them, then the visits they
/// leave empty (unless those still wait to be pushed).
const DELETE_PURGED: &str = "
INSERT INTO temp.purge_visits (id)
    SELECT DISTINCT visit_id FROM sessions WHERE id IN (SELECT id FROM temp.purge);
DELETE FROM history WHERE entity_id IN (SELECT id FROM temp.purge)
    OR entity_id IN (SELECT id FROM reviews WHERE session_id IN (SELECT id FROM temp.purge))
    OR entity_id IN (SELECT id FROM addenda WHERE session_id IN (SELECT id FROM temp.purge));
DELETE FROM reviews WHERE session_id IN (SELECT id FROM temp.purge);
DELETE FROM addenda WHERE session_id IN (SELECT id FROM temp.purge);
DELETE FROM sessions WHERE id IN (SELECT id FROM temp.purge);
DELETE FROM temp.purge_visits WHERE id IN (SELECT visit_id FROM sessions)
    OR id IN (SELECT entity_id FROM outbox WHERE entity = 'visit');
DELETE FROM history WHERE entity_id IN (SELECT id FROM temp.purge_visits);
DELETE FROM visits WHERE id IN (SELECT id FROM temp.purge_visits);
DELETE FROM temp.purge;
DELETE FROM temp.purge_visits;";

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
            tx.execute_batch(
                "CREATE TEMP TABLE IF NOT EXISTS purge (id TEXT PRIMARY KEY) STRICT;
                 CREATE TEMP TABLE IF NOT EXISTS purge_visits (id TEXT PRIMARY KEY) STRICT;",
            )?;
            let purged = tx
                .prepare_cached(SELECT_PURGE)?
                .execute(named_params! {":cutoff": cutoff})?;
            tx.execute_batch(DELETE_PURGED)?;
            Ok(u64::try_from(purged).unwrap_or(u64::MAX))
        })?;
        // secure_delete zeroed the freed pages; checkpoint so the WAL keeps no copy of them.
        self.checkpoint()?;
        Ok(purged)
    }
}
