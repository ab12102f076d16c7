//! `GET /v1/pull?after=N&limit=M`: changes in the device's scope after the cursor.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use fieldconsult_model::wire::{MAX_PULL_PAGE, PullResponse};
use serde::Deserialize;

use crate::app::{AppState, blocking};
use crate::auth::Authenticated;
use crate::problem::ApiError;

/// Query of a pull.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullParams {
    /// Cursor of the previous pull; 0 (the default) for everything.
    #[serde(default)]
    pub after: u64,
    /// Page size, capped at [`MAX_PULL_PAGE`] (the default).
    pub limit: Option<u32>,
}

/// Answers a page of changes.
pub async fn pull(
    State(state): State<AppState>,
    Authenticated(device): Authenticated,
    params: Result<Query<PullParams>, QueryRejection>,
) -> Result<Json<PullResponse>, ApiError> {
    let Query(params) = params.map_err(|_| {
        ApiError::Malformed("query must be after=<cursor>&limit=<count>".to_owned())
    })?;
    let limit = params
        .limit
        .unwrap_or(MAX_PULL_PAGE)
        .clamp(1, MAX_PULL_PAGE);
    let storage = state.storage.clone();
    let requester = device.clone();
    let page = blocking(move || {
        storage
            .pull(&requester, params.after, limit)
            .map_err(ApiError::from)
    })
    .await?;
    tracing::debug!(device = %device.id, records = page.records.len(), "pull answered");
    Ok(Json(page))
}
