//! Conflict notices: edits the server did not apply because they were built on an older
//! version than its own. The author's device learns it from the push acknowledgement (its
//! record's sync state becomes `conflict`); the notices, pulled, let the rest of the team and
//! the sector's reviewers see the edit that was not applied, next to the version kept.

use rusqlite::{Transaction, named_params};

use super::codec::{decode, encode};
use crate::error::Result;
use fieldconsult_model::wire::ConflictNotice;

/// Stores a pulled notice; one already held (same edit) is kept as it is.
pub(crate) fn write_notice(tx: &Transaction<'_>, notice: &ConflictNotice) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO conflicts (lost_hash, record_kind, record_id, detected_ms, body)
         VALUES (:hash, :kind, :id, :at, :body)
         ON CONFLICT (lost_hash) DO NOTHING",
    )?
    .execute(named_params! {
        ":hash": notice.lost_hash,
        ":kind": notice.record_kind(),
        ":id": notice.record_id(),
        ":at": notice.detected_at.timestamp_millis(),
        ":body": encode(notice, "conflict", &notice.lost_hash)?,
    })?;
    Ok(())
}

/// The notices about record `kind` `id`, oldest first.
pub(crate) fn notices_for(
    tx: &Transaction<'_>,
    kind: &str,
    id: &str,
) -> Result<Vec<ConflictNotice>> {
    let mut stmt = tx.prepare_cached(
        "SELECT lost_hash, body FROM conflicts
         WHERE record_kind = :kind AND record_id = :id
         ORDER BY detected_ms, lost_hash",
    )?;
    let rows = stmt.query_map(named_params! {":kind": kind, ":id": id}, |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (hash, body) = row?;
        out.push(decode(&body, "conflict", &hash)?);
    }
    Ok(out)
}
