//! Push of queued consent withdrawals, before the outbox: a withdrawal goes out at the first
//! sync after it, and the server deletes the session before anything else of this sync can
//! touch it. They are few and small (ids and a time), so they travel in one batch.

use super::{SyncReport, call};
use crate::error::Result;
use crate::store::Store;
use crate::store::consent::{pending_in, sent};
use crate::store::sync::Credentials;
use fieldconsult_model::wire::{
    AckOutcome, MAX_BATCH_RECORDS, PushChange, PushRequest, PushResponse, Record, reasons,
};

/// Sends the queued withdrawals; forgets each one the server applied, or refused because
/// it never had the session's visit (so never the session). Others stay queued and go again
/// at the next sync.
pub(super) fn push_withdrawals(
    store: &Store,
    transport: &dyn super::Transport,
    creds: &Credentials,
    report: &mut SyncReport,
) -> Result<()> {
    let pending = store.read(pending_in)?;
    if pending.is_empty() {
        return Ok(());
    }
    let Some(key) = creds.signing_key.as_deref() else {
        return Err(crate::Error::NotEnrolled);
    };
    for chunk in pending.chunks(MAX_BATCH_RECORDS) {
        let request = PushRequest {
            changes: chunk
                .iter()
                .map(|w| {
                    let record = Record::ConsentWithdrawal(w.clone());
                    let hash = record.hash();
                    PushChange::signed(record, &hash, None, &creds.device_id, key)
                })
                .collect(),
        };
        let body = serde_json::to_vec(&request).map_err(|_| crate::Error::Protocol {
            what: "push request",
        })?;
        report.pushed += chunk.len() as u64;
        let response: PushResponse = call(
            transport,
            report,
            super::Method::Post,
            "/v1/push".to_owned(),
            Some(creds),
            body,
        )?;
        store.write(|tx| {
            for ack in response
                .acks
                .iter()
                .filter(|a| a.kind == "consent_withdrawal")
            {
                match &ack.outcome {
                    AckOutcome::Stored | AckOutcome::AlreadyStored => {
                        report.acknowledged += 1;
                        sent(tx, &ack.id)?;
                    }
                    AckOutcome::Rejected { reason, .. } if reason == reasons::UNKNOWN_PARENT => {
                        report.acknowledged += 1;
                        sent(tx, &ack.id)?;
                    }
                    AckOutcome::Rejected { .. } | AckOutcome::Conflict => report.rejected += 1,
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}
