//! Push: the outbox, urgent first, in batches bounded by [`MAX_BATCH_RECORDS`] and
//! [`MAX_BATCH_BYTES`] of uncompressed JSON, each record built from what is stored now.

use std::collections::HashMap;

use rusqlite::Transaction;

use super::{SyncReport, call, checkpoint};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::store::Store;
use crate::store::outbox::{OutboxEntry, acknowledge_in};
use crate::store::sync::{
    CLOCK_AHEAD, Credentials, HASH_MISMATCH, SyncState, TOO_LARGE, UNKNOWN_PARENT,
    forget_server_version, load_record, queued_after, reset_sent, set_cursor, set_server_hash,
    set_state, state_of,
};
use fieldconsult_model::Problem;
use fieldconsult_model::wire::{
    AckOutcome, MAX_BATCH_BYTES, MAX_BATCH_RECORDS, PushChange, PushResponse, reasons,
};

/// `{"changes":[` and `]}` around the comma-separated changes: exactly what serde_json
/// writes for a `PushRequest`.
const HEAD: &[u8] = b"{\"changes\":[";
const TAIL: &[u8] = b"]}";

/// One record in a batch: its outbox entry as captured, and the hash of what was sent.
struct Sent {
    entry: OutboxEntry,
    kind: &'static str,
    hash: String,
}

/// A batch ready to send; `body` is the uncompressed `PushRequest` JSON.
struct Batch {
    items: Vec<Sent>,
    body: Vec<u8>,
    /// Whether the outbox has nothing after this batch.
    last: bool,
}

/// Pushes every pushable outbox record. Returns how many were sent.
pub(super) fn push(
    store: &Store,
    transport: &dyn super::Transport,
    creds: &Credentials,
    progress: &dyn Progress,
    report: &mut SyncReport,
) -> Result<u64> {
    // Records left `sent` by an interrupted sync were never acknowledged.
    store.write(reset_sent)?;
    let total = u64::from(store.pending_count()?);
    let mut after = None;
    let mut done = 0;
    checkpoint(progress, 0, total)?;
    loop {
        let batch = store.write(|tx| next_batch(tx, creds, &mut after))?;
        if !batch.items.is_empty() {
            done += batch.items.len() as u64;
            report.pushed += batch.items.len() as u64;
            let answer: Result<PushResponse> = call(
                transport,
                report,
                super::Method::Post,
                "/v1/push".to_owned(),
                Some(creds),
                batch.body,
            );
            match answer {
                Ok(response) => {
                    store.write(|tx| apply_acks(tx, &batch.items, response, report))?;
                }
                Err(e) => {
                    // Nothing of this batch is known to be stored: back to pending. A store
                    // that cannot even do that still returns the transport's error.
                    if !matches!(e, Error::Revoked) {
                        let _ = store.write(|tx| unsend(tx, &batch.items));
                    }
                    return Err(e);
                }
            }
            checkpoint(progress, done, total)?;
        }
        if batch.last {
            return Ok(done);
        }
    }
}

/// Reads the next batch after `after` (advancing it) and marks its records `sent`.
fn next_batch(
    tx: &Transaction<'_>,
    creds: &Credentials,
    after: &mut Option<(bool, i64)>,
) -> Result<Batch> {
    let Some(key) = creds.signing_key.as_deref() else {
        return Err(Error::NotEnrolled);
    };
    let mut items = Vec::new();
    let mut body = HEAD.to_vec();
    loop {
        let room = MAX_BATCH_RECORDS - items.len();
        let queued = queued_after(tx, *after, room)?;
        if queued.is_empty() {
            return finish(tx, items, body, true);
        }
        for q in queued {
            let Some(record) = load_record(tx, q.entry.entity, &q.entry.id, &creds.device_id)?
            else {
                // Gone from the store (nothing left to push): drop it from the outbox.
                acknowledge_in(tx, &q.entry)?;
                *after = Some((q.entry.urgent, q.seq));
                continue;
            };
            let kind = record.kind();
            let hash = record.hash();
            let change = PushChange::signed(record, &hash, q.base_hash, &creds.device_id, key);
            let json = serde_json::to_vec(&change).map_err(|_| Error::Corrupt {
                entity: q.entry.entity.code(),
                id: q.entry.id.clone(),
            })?;
            let separator = usize::from(!items.is_empty());
            if HEAD.len() + json.len() + TAIL.len() > MAX_BATCH_BYTES {
                // Could never be sent: say so on the record rather than block the outbox.
                set_state(
                    tx,
                    q.entry.entity,
                    &q.entry.id,
                    SyncState::Error,
                    Some(TOO_LARGE),
                )?;
                *after = Some((q.entry.urgent, q.seq));
                continue;
            }
            if body.len() + separator + json.len() + TAIL.len() > MAX_BATCH_BYTES {
                return finish(tx, items, body, false);
            }
            if separator == 1 {
                body.push(b',');
            }
            body.extend_from_slice(&json);
            *after = Some((q.entry.urgent, q.seq));
            items.push(Sent {
                entry: q.entry,
                kind,
                hash,
            });
            if items.len() == MAX_BATCH_RECORDS {
                return finish(tx, items, body, false);
            }
        }
    }
}

fn finish(tx: &Transaction<'_>, items: Vec<Sent>, mut body: Vec<u8>, last: bool) -> Result<Batch> {
    body.extend_from_slice(TAIL);
    for s in &items {
        set_state(tx, s.entry.entity, &s.entry.id, SyncState::Sent, None)?;
    }
    Ok(Batch { items, body, last })
}

/// Puts the records of a failed batch back to `pending`.
fn unsend(tx: &Transaction<'_>, items: &[Sent]) -> Result<()> {
    for s in items {
        if still_sent(tx, s)? {
            set_state(tx, s.entry.entity, &s.entry.id, SyncState::Pending, None)?;
        }
    }
    Ok(())
}

/// Whether the record is as it was sent: not edited since (an edit sets it `pending`).
fn still_sent(tx: &Transaction<'_>, s: &Sent) -> Result<bool> {
    Ok(state_of(tx, s.entry.entity, &s.entry.id)?.is_some_and(|r| r.state == SyncState::Sent))
}

/// Drops a local deletion the server did not apply, so that the session comes back as the
/// server holds it: a deleted draft leaves nothing on this device to show or edit, and its
/// reviews would wait for it forever. The next pull starts from the beginning (this device
/// had skipped the session's later versions); records already held are skipped by hash.
fn give_way(tx: &Transaction<'_>, s: &Sent) -> Result<()> {
    acknowledge_in(tx, &s.entry)?;
    forget_server_version(tx, s.entry.entity, &s.entry.id)?;
    set_cursor(tx, 0)
}

/// Applies the server's acknowledgements of one batch, in one transaction.
fn apply_acks(
    tx: &Transaction<'_>,
    items: &[Sent],
    response: PushResponse,
    report: &mut SyncReport,
) -> Result<()> {
    let mut acks: HashMap<(String, String), _> = response
        .acks
        .into_iter()
        .map(|a| ((a.kind.clone(), a.id.clone()), a))
        .collect();
    for s in items {
        let (entity, id) = (s.entry.entity, s.entry.id.as_str());
        let Some(ack) = acks.remove(&(s.kind.to_owned(), s.entry.id.clone())) else {
            // No word on it: not known to be stored.
            if still_sent(tx, s)? {
                set_state(tx, entity, id, SyncState::Pending, None)?;
            }
            continue;
        };
        match ack.outcome {
            AckOutcome::Stored | AckOutcome::AlreadyStored if ack.hash == s.hash => {
                // Exactly what was read for this batch is acknowledged; an edit made since
                // keeps the record queued.
                let still_pending = acknowledge_in(tx, &s.entry)?;
                let state = if still_pending {
                    SyncState::Pending
                } else {
                    SyncState::Synced
                };
                set_server_hash(tx, entity, id, state, &ack.hash)?;
                report.acknowledged += 1;
            }
            AckOutcome::Stored | AckOutcome::AlreadyStored => {
                report.rejected += 1;
                if still_sent(tx, s)? {
                    set_state(tx, entity, id, SyncState::Error, Some(HASH_MISMATCH))?;
                }
            }
            AckOutcome::Conflict => {
                report.conflicts += 1;
                if s.kind == "session_tombstone" && still_sent(tx, s)? {
                    // A deletion built on a version a colleague has since edited: their
                    // session stands (the server filed the deletion), and comes back here.
                    give_way(tx, s)?;
                    continue;
                }
                if still_sent(tx, s)? {
                    // The version the server kept is now the one the device has seen: a
                    // pull bringing it is no second conflict, and an edit made after
                    // looking at both builds on it.
                    if ack.hash.is_empty() {
                        set_state(tx, entity, id, SyncState::Conflict, None)?;
                    } else {
                        set_server_hash(tx, entity, id, SyncState::Conflict, &ack.hash)?;
                    }
                }
            }
            AckOutcome::Rejected { reason, problems } => {
                report.rejected += 1;
                if s.kind == "session_tombstone" && reason != UNKNOWN_PARENT && still_sent(tx, s)? {
                    // A deletion the server refused (a colleague submitted the draft in the
                    // meantime): their session stands, and comes back here.
                    give_way(tx, s)?;
                    continue;
                }
                if still_sent(tx, s)? {
                    // Refused only for times ahead of the server's clock: the device clock
                    // runs fast. Kept and pushed again at each sync, it goes through once
                    // the server's time passes it, or as soon as the team corrects it; a
                    // submitted session could not otherwise be edited and would never leave.
                    let clock_ahead = reason == reasons::VALIDATION
                        && !problems.is_empty()
                        && problems.iter().all(|p| p.problem == Problem::InFuture);
                    let reason = if clock_ahead {
                        CLOCK_AHEAD.to_owned()
                    } else {
                        reason_code(&reason)
                    };
                    set_state(tx, entity, id, SyncState::Error, Some(&reason))?;
                }
            }
        }
    }
    Ok(())
}

/// The server's reason as a short stable code (never free text).
fn reason_code(reason: &str) -> String {
    let code: String = reason
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(64)
        .collect();
    if code.is_empty() {
        "rejected".to_owned()
    } else {
        code
    }
}
