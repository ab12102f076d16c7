//! Consent withdrawal: the participants of a session take back their consent, and the
//! session goes, everywhere, without a trace of its content.
//!
//! - Never acknowledged by the server: the session, its outbox and sync rows, its history
//!   lines, its conflict notices, its reviews and addenda are deleted in one transaction and
//!   nothing is pushed (not even a tombstone: the server never knew it).
//! - Possibly on the server (acknowledged once, or sent without an answer yet): deleted
//!   locally the same way, and a [`ConsentWithdrawal`] (ids and a time) is queued; the
//!   server deletes its copies and serves the withdrawal to the other devices in scope,
//!   which delete theirs ([`erase_session`] again, from `crate::sync::apply`).
//!
//! `secure_delete` overwrites the freed pages; a checkpoint then moves the WAL into the
//! database and truncates it, so that no older page image of the session stays in the WAL.

use rusqlite::{Transaction, named_params};
use serde::{Deserialize, Serialize};

use super::codec::{decode, encode};
use super::reference::team_in;
use super::retention::DELETE_SESSION;
use super::sessions::live_in;
use super::visits::visit_in;
use super::{Store, now};
use crate::error::Result;
use fieldconsult_model::wire::ConsentWithdrawal;
use fieldconsult_model::{Action, Actor, SessionId, status::authorize};

/// What [`Store::withdraw_consent`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Withdrawal {
    /// The server never had the session: it is gone, and nothing will be sent.
    Erased,
    /// The server may hold the session: it is gone from this device, and the withdrawal
    /// (ids and time only) goes out with the next sync.
    Queued,
}

impl Store {
    /// Deletes session `id` because its participants withdrew their consent. Only the
    /// authoring team may, in any status (even accepted). See the module documentation.
    pub fn withdraw_consent(&self, actor: &Actor, id: &SessionId) -> Result<Withdrawal> {
        let (at, _) = now();
        let outcome = self.write(|tx| {
            let (session, _) = live_in(tx, id)?;
            let visit = visit_in(tx, &session.visit_id)?;
            authorize(
                actor,
                Action::WithdrawConsent,
                session.status,
                &team_in(tx, &visit.team_id)?,
            )?;
            let on_server = may_be_on_server(tx, id)?;
            erase_session(tx, id)?;
            if !on_server {
                return Ok(Withdrawal::Erased);
            }
            let mut withdrawn_at = at.fixed_offset();
            fieldconsult_model::time::round_to_stored_precision(&mut withdrawn_at);
            queue(
                tx,
                &ConsentWithdrawal {
                    session_id: *id,
                    visit_id: session.visit_id,
                    withdrawn_at,
                },
            )?;
            Ok(Withdrawal::Queued)
        })?;
        // Older page images of the session may sit in the WAL: fold it in and truncate it.
        self.checkpoint()?;
        Ok(outcome)
    }

    /// Withdrawals waiting to be sent, oldest first.
    pub fn pending_withdrawals(&self) -> Result<Vec<ConsentWithdrawal>> {
        self.read(pending_in)
    }
}

/// Whether the server may hold session `id`: it acknowledged a version once (the device
/// holds the server's hash of it), or a push ever carried it (its answer may have been
/// lost after the server stored it: an interrupted sync leaves no other sign).
fn may_be_on_server(tx: &Transaction<'_>, id: &SessionId) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT 1 FROM sync_state
             WHERE entity = 'session' AND entity_id = :id
               AND (server_hash IS NOT NULL OR state = 'sent')
             UNION ALL SELECT 1 FROM sessions_sent WHERE session_id = :id",
        )?
        .exists(named_params! {":id": id.to_string()})?)
}

/// Notes that a push carries session `id`, within the caller's transaction.
pub(crate) fn mark_sent(tx: &Transaction<'_>, id: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO sessions_sent (session_id) VALUES (:id) ON CONFLICT DO NOTHING",
    )?
    .execute(named_params! {":id": id})?;
    Ok(())
}

/// Deletes session `id` and everything recorded about it on this device, within the caller's
/// transaction: its reviews and addenda, their and its outbox and sync rows, history lines,
/// conflict notices, and pulled records parked for it. Nothing is left to push.
pub(crate) fn erase_session(tx: &Transaction<'_>, id: &SessionId) -> Result<()> {
    let id = id.to_string();
    // What a retention purge leaves alone, because it purges only what the server has: the
    // outbox, conflict notices on the children, parked pulls. Then the purge's own steps.
    let extra = [
        "DELETE FROM outbox WHERE (entity = 'review' AND entity_id IN
             (SELECT id FROM reviews WHERE session_id = :id))
            OR (entity = 'addendum' AND entity_id IN
             (SELECT id FROM addenda WHERE session_id = :id))
            OR (entity = 'session' AND entity_id = :id)",
        "DELETE FROM conflicts WHERE record_id = :id
            OR record_id IN (SELECT id FROM reviews WHERE session_id = :id)
            OR record_id IN (SELECT id FROM addenda WHERE session_id = :id)",
        // A parked review or addendum waits for this session: it names it in its body.
        "DELETE FROM sync_parked WHERE record_id = :id OR instr(body, :id) > 0",
    ];
    for sql in extra.iter().chain(DELETE_SESSION) {
        tx.prepare_cached(sql)?.execute(named_params! {":id": id})?;
    }
    Ok(())
}

/// Queues a withdrawal to send (once: a second one for the same session keeps the first).
fn queue(tx: &Transaction<'_>, w: &ConsentWithdrawal) -> Result<()> {
    let id = w.session_id.to_string();
    tx.prepare_cached(
        "INSERT INTO consent_withdrawals (session_id, withdrawn_ms, body)
         VALUES (:id, :ms, :body)
         ON CONFLICT (session_id) DO NOTHING",
    )?
    .execute(named_params! {
        ":id": id,
        ":ms": w.withdrawn_at.timestamp_millis(),
        ":body": encode(w, "consent withdrawal", &id)?,
    })?;
    Ok(())
}

/// The queued withdrawals, oldest first.
pub(crate) fn pending_in(tx: &Transaction<'_>) -> Result<Vec<ConsentWithdrawal>> {
    let mut stmt = tx.prepare_cached(
        "SELECT session_id, body FROM consent_withdrawals ORDER BY withdrawn_ms, session_id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, body) = row?;
        out.push(decode(&body, "consent withdrawal", &id)?);
    }
    Ok(out)
}

/// Forgets a queued withdrawal: the server applied it (or never held the session).
pub(crate) fn sent(tx: &Transaction<'_>, session_id: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM consent_withdrawals WHERE session_id = :id")?
        .execute(named_params! {":id": session_id})?;
    Ok(())
}

/// Whether the device withdrew session `id` and has not yet heard the server apply it: a
/// pulled version of it, or of its reviews, must not bring it back.
pub(crate) fn is_withdrawn(tx: &Transaction<'_>, id: &SessionId) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM consent_withdrawals WHERE session_id = :id")?
        .exists(named_params! {":id": id.to_string()})?)
}
