//! The append-only history: who changed what, and when. It names the fields that changed,
//! never their values, so it holds nothing sensitive. A trigger refuses updates.

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, named_params};
use serde::{Deserialize, Serialize};

use super::Store;
use crate::error::Result;
use fieldconsult_model::{Actor, Status};

/// One line of history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Pseudonymous id of who acted.
    pub actor: String,
    /// Kind of record (`session`, `visit`, ...).
    pub entity: String,
    /// The record's id.
    pub entity_id: String,
    /// What was done (`create`, `edit`, `submit`, `accept`, `return`, `delete`, ...).
    pub action: String,
    /// The record's revision after the change, where it has one.
    pub revision: Option<i64>,
    /// Status before, for workflow changes.
    pub from_status: Option<Status>,
    /// Status after, for workflow changes.
    pub to_status: Option<Status>,
    /// Names of the fields that changed.
    pub fields: Vec<String>,
}

/// What one write did, for the history.
pub(crate) struct Change<'a> {
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub action: &'a str,
    pub revision: Option<i64>,
    pub from_status: Option<Status>,
    pub to_status: Option<Status>,
    pub fields: Vec<String>,
}

/// Appends one line, within the caller's transaction.
pub(crate) fn append(
    tx: &Transaction<'_>,
    actor: &Actor,
    at: DateTime<Utc>,
    change: Change<'_>,
) -> Result<()> {
    let fields = serde_json::to_string(&change.fields).unwrap_or_else(|_| "[]".to_owned());
    tx.prepare_cached(
        "INSERT INTO history
            (at_ms, actor, entity, entity_id, action, revision, from_status, to_status, fields)
         VALUES
            (:at, :actor, :entity, :id, :action, :revision, :from, :to, :fields)",
    )?
    .execute(named_params! {
        ":at": at.timestamp_millis(),
        ":actor": actor.id,
        ":entity": change.entity,
        ":id": change.entity_id,
        ":action": change.action,
        ":revision": change.revision,
        ":from": change.from_status.map(Status::code),
        ":to": change.to_status.map(Status::code),
        ":fields": fields,
    })?;
    Ok(())
}

/// Names of the top-level fields whose values differ between two JSON objects.
pub(crate) fn changed_fields(
    before: Option<&serde_json::Value>,
    after: &serde_json::Value,
) -> Vec<String> {
    let empty = serde_json::Map::new();
    let before = before.and_then(|b| b.as_object()).unwrap_or(&empty);
    let Some(after) = after.as_object() else {
        return Vec::new();
    };
    after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect()
}

impl Store {
    /// The history of one record, oldest first.
    pub fn history(&self, entity_id: &str) -> Result<Vec<HistoryEntry>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT at_ms, actor, entity, entity_id, action, revision, from_status,
                        to_status, fields
                 FROM history WHERE entity_id = :id ORDER BY seq",
            )?;
            let rows = stmt.query_map(named_params! {":id": entity_id}, |r| {
                let at_ms: i64 = r.get(0)?;
                let from: Option<String> = r.get(6)?;
                let to: Option<String> = r.get(7)?;
                let fields: String = r.get(8)?;
                Ok(HistoryEntry {
                    at: DateTime::from_timestamp_millis(at_ms).unwrap_or_default(),
                    actor: r.get(1)?,
                    entity: r.get(2)?,
                    entity_id: r.get(3)?,
                    action: r.get(4)?,
                    revision: r.get(5)?,
                    from_status: from.as_deref().and_then(Status::from_code),
                    to_status: to.as_deref().and_then(Status::from_code),
                    fields: serde_json::from_str(&fields).unwrap_or_default(),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}
