//! Applying pulled records: a pure merge rule ([`plan`]) and the page transaction around it.

use chrono::Utc;
use rusqlite::Transaction;

use crate::error::{Error, Result};
use crate::store::consent::is_withdrawn;
use crate::store::outbox::is_pending;
use crate::store::sync::{
    SyncState, Written, entity_of, load_record, own_device_id, park, parked, root_pin,
    set_base_hash, set_bundle_sequence, set_cursor, set_server_hash, state_of, unpark,
    write_pulled,
};
use fieldconsult_model::SessionId;
use fieldconsult_model::crypto::bundle::SignedBundle;
use fieldconsult_model::crypto::sign::PublicKey;
use fieldconsult_model::wire::{PulledRecord, Record};

/// What the device holds of a record a pull brings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Local<'a> {
    /// Local changes wait to be pushed.
    pub pending: bool,
    /// Hash of the local version (needed only when `pending`).
    pub local_hash: Option<&'a str>,
    /// Hash of the server's version the device last saw.
    pub server_hash: Option<&'a str>,
}

/// What to do with a pulled record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Store the server's version.
    Apply,
    /// The device already holds exactly this version.
    Skip,
    /// Keep the local, unpushed version; a conflict unless it is the same content.
    KeepLocal {
        /// The server holds other content.
        conflict: bool,
    },
}

/// The merge rule: the server is the authority, except over a local change not yet pushed,
/// which is never overwritten: it is kept, and flagged as a conflict when the server moved
/// to other content than the version the change was built on.
pub(crate) fn plan(incoming_hash: &str, local: Local<'_>) -> Action {
    if local.server_hash == Some(incoming_hash) {
        // The version the device last saw (and any pending change builds on).
        Action::Skip
    } else if local.pending {
        Action::KeepLocal {
            conflict: local.local_hash != Some(incoming_hash),
        }
    } else {
        Action::Apply
    }
}

/// What applying a page did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    /// Local changes found to conflict with the server's version.
    pub conflicts: u64,
}

/// Applies one page and moves the cursor to `cursor`, within the caller's transaction:
/// parents before children within the page, records whose parent has not arrived parked
/// and retried after it.
pub(crate) fn apply_page(
    tx: &Transaction<'_>,
    records: &[PulledRecord],
    cursor: u64,
) -> Result<Applied> {
    let mut applied = Applied::default();
    let mut pin = root_pin(tx)?;
    let mut order: Vec<&PulledRecord> = records.iter().collect();
    order.sort_by_key(|p| rank(&p.record));
    for pulled in order {
        if let Record::Bundle(bundle) = &pulled.record {
            apply_bundle(tx, &mut pin, bundle, pulled.seq, &mut applied)?;
            continue;
        }
        if pin.is_some() && pulled.record.is_mission_reference() {
            // A device that pinned the mission root key takes reference data only from a
            // verified bundle: a bare team, checklist or referral service changes nothing.
            continue;
        }
        match apply_one(tx, pulled, &mut applied)? {
            Written::Stored => unpark(tx, &pulled.record)?,
            Written::MissingParent => park(tx, pulled)?,
        }
    }
    // Parents of parked records may have come with this page.
    loop {
        let mut progressed = false;
        for pulled in parked(tx)? {
            if apply_one(tx, &pulled, &mut applied)? == Written::Stored {
                unpark(tx, &pulled.record)?;
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    set_cursor(tx, cursor)?;
    Ok(applied)
}

/// Applies the reference records of `bundle` if it verifies against the pinned root key and
/// is newer than the last bundle applied; otherwise changes nothing. Without a pinned key
/// there is nothing to verify against, and the bundle is ignored.
fn apply_bundle(
    tx: &Transaction<'_>,
    pin: &mut Option<(PublicKey, u64)>,
    bundle: &SignedBundle,
    seq: u64,
    applied: &mut Applied,
) -> Result<()> {
    let Some((root, last)) = pin.as_ref() else {
        return Ok(());
    };
    if bundle.sequence <= *last || bundle.verify(root).is_err() {
        return Ok(());
    }
    for record in bundle.records.iter().filter(|r| r.is_reference()) {
        let pulled = PulledRecord {
            seq,
            hash: record.hash(),
            record: record.clone(),
        };
        // Reference records have no parent to wait for.
        apply_one(tx, &pulled, applied)?;
    }
    set_bundle_sequence(tx, bundle.sequence)?;
    *pin = Some((*root, bundle.sequence));
    Ok(())
}

fn apply_one(
    tx: &Transaction<'_>,
    pulled: &PulledRecord,
    applied: &mut Applied,
) -> Result<Written> {
    let now = Utc::now();
    if let Some(session_id) = withdrawn_session(&pulled.record)
        && is_withdrawn(tx, session_id)?
    {
        // Withdrawn here, the withdrawal not yet applied by the server: nothing of the
        // session comes back.
        return Ok(Written::Stored);
    }
    let Some(entity) = entity_of(&pulled.record) else {
        // Reference data only the server writes.
        return write_pulled(tx, &pulled.record, now);
    };
    let id = pulled.record.id();
    let pending = is_pending(tx, entity, &id)?;
    let sync = state_of(tx, entity, &id)?;
    let refused = sync.as_ref().is_some_and(|r| r.state == SyncState::Error);
    let server_hash = sync.and_then(|r| r.server_hash);
    let local_hash = if pending {
        let device = own_device_id(tx)?.ok_or(Error::NotEnrolled)?;
        load_record(tx, entity, &id, &device)?.map(|r| r.hash())
    } else {
        None
    };
    let action = plan(
        &pulled.hash,
        Local {
            pending,
            local_hash: local_hash.as_deref(),
            server_hash: server_hash.as_deref(),
        },
    );
    match action {
        Action::Skip => {}
        Action::KeepLocal { conflict: true } if refused => {
            // A local version the server refused stays as it is, with its reason and its
            // base: once the team edits it, the push meets the newer version and the server
            // files it as a conflict that the reviewer sees.
        }
        Action::KeepLocal { conflict: true } => {
            applied.conflicts += 1;
            set_server_hash(tx, entity, &id, SyncState::Conflict, &pulled.hash)?;
        }
        Action::KeepLocal { conflict: false } => {
            // The server holds our content already: the next push is acknowledged as
            // already stored. The record's state (pending, or an error) stays as it is.
            set_base_hash(tx, entity, &id, &pulled.hash)?;
        }
        Action::Apply => {
            if write_pulled(tx, &pulled.record, now)? == Written::MissingParent {
                return Ok(Written::MissingParent);
            }
            set_server_hash(tx, entity, &id, SyncState::Synced, &pulled.hash)?;
        }
    }
    Ok(Written::Stored)
}

/// Parents first: reference data, then visits, sessions, and what hangs off sessions.
fn rank(record: &Record) -> u8 {
    match record {
        Record::Bundle(_)
        | Record::Team(_)
        | Record::Checklist(_)
        | Record::ReferralService(_)
        | Record::SealingKeys(_) => 0,
        Record::Community(_) => 1,
        Record::Visit(_) => 2,
        Record::Session(_) | Record::SessionTombstone(_) => 3,
        Record::Review(_) | Record::Addendum(_) | Record::Conflict(_) => 4,
        // Last: a session arriving in the same page is erased, not left behind.
        Record::ConsentWithdrawal(_) => 5,
    }
}

/// The session a pulled record is, or hangs off.
fn withdrawn_session(record: &Record) -> Option<&SessionId> {
    match record {
        Record::Session(s) => Some(&s.id),
        Record::SessionTombstone(t) => Some(&t.id),
        Record::Review(r) => Some(&r.session_id),
        Record::Addendum(a) => Some(&a.session_id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local<'a>(pending: bool, local: Option<&'a str>, server: Option<&'a str>) -> Local<'a> {
        Local {
            pending,
            local_hash: local,
            server_hash: server,
        }
    }

    #[test]
    fn merge_table() {
        let cases = [
            // never seen: apply
            (local(false, None, None), Action::Apply),
            // already hold this version: skip
            (local(false, None, Some("h1")), Action::Skip),
            // server moved on, nothing local: apply
            (local(false, None, Some("h0")), Action::Apply),
            // local edit not pushed, server holds other content: keep local, conflict
            (
                local(true, Some("h2"), Some("h0")),
                Action::KeepLocal { conflict: true },
            ),
            // local edit built on the version pulled (our own, just acknowledged): no conflict
            (local(true, Some("h2"), Some("h1")), Action::Skip),
            // local edit equals the server's content: keep, no conflict
            (
                local(true, Some("h1"), Some("h0")),
                Action::KeepLocal { conflict: false },
            ),
            // new local record the server somehow holds differently: conflict
            (
                local(true, Some("h2"), None),
                Action::KeepLocal { conflict: true },
            ),
        ];
        for (l, expected) in cases {
            assert_eq!(plan("h1", l), expected, "{l:?}");
        }
    }
}
