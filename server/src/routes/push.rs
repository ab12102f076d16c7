//! `POST /v1/push`: a batch of outbox records, applied in one transaction; one ack per
//! record, sent only after the commit.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use fieldconsult_model::wire::{AckOutcome, MAX_BATCH_RECORDS, PushRequest, PushResponse};

use crate::app::{AppState, WireJson, blocking};
use crate::auth::{Authenticated, SYNCING_ROLES, require_role};
use crate::problem::ApiError;
use fieldconsult_model::Role;

/// Applies a push batch.
pub async fn push(
    State(state): State<AppState>,
    Authenticated(device): Authenticated,
    req: Result<WireJson<PushRequest>, ApiError>,
) -> Result<Json<PushResponse>, ApiError> {
    require_role(&device, Role::syncs_records, SYNCING_ROLES)?;
    let WireJson(req) = req?;
    if req.changes.len() > MAX_BATCH_RECORDS {
        return Err(ApiError::BatchTooLarge(req.changes.len()));
    }
    let storage = state.storage.clone();
    let device_id = device.id.clone();
    let acks = blocking(move || {
        storage
            .push(&device, &req.changes, Utc::now())
            .map_err(ApiError::from)
    })
    .await?;
    let count = |f: fn(&AckOutcome) -> bool| acks.iter().filter(|a| f(&a.outcome)).count();
    tracing::info!(
        device = %device_id,
        records = acks.len(),
        stored = count(|o| *o == AckOutcome::Stored),
        already = count(|o| *o == AckOutcome::AlreadyStored),
        conflicts = count(|o| *o == AckOutcome::Conflict),
        rejected = count(|o| matches!(o, AckOutcome::Rejected { .. })),
        "push applied"
    );
    Ok(Json(PushResponse { acks }))
}
