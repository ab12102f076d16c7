//! `GET /healthz` (the process answers) and `GET /readyz` (the storage answers too).

use axum::extract::State;
use axum::http::StatusCode;

use crate::app::{AppState, blocking};
use crate::problem::ApiError;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The storage answers; 500 problem otherwise.
pub async fn readyz(State(state): State<AppState>) -> Result<(StatusCode, &'static str), ApiError> {
    let storage = state.storage.clone();
    blocking(move || storage.ping().map_err(ApiError::from)).await?;
    Ok((StatusCode::OK, "ready"))
}
