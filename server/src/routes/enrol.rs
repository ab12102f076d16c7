//! `POST /v1/enrol`: a one-time code buys a device id, a role and a bearer token.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use fieldconsult_model::wire::{EnrolRequest, EnrolResponse};

use crate::app::{AppState, WireJson, blocking};
use crate::auth::{canonical_code, new_token, secret_hash};
use crate::problem::ApiError;
use crate::rate_limit::ClientIp;

/// Most characters of a device label.
pub const MAX_LABEL: usize = 100;

/// Enrols a device.
pub async fn enrol(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Result<WireJson<EnrolRequest>, ApiError>,
) -> Result<Json<EnrolResponse>, ApiError> {
    // Every attempt counts, readable or not, before anything is looked up.
    state
        .limits
        .enrolment
        .check(ip)
        .map_err(ApiError::RateLimited)?;
    let WireJson(req) = req?;
    let label = req.device_label.trim().to_owned();
    if label.is_empty() || label.chars().count() > MAX_LABEL || label.chars().any(char::is_control)
    {
        return Err(ApiError::Malformed(format!(
            "device_label must be 1 to {MAX_LABEL} characters without control characters"
        )));
    }
    let code_hash = secret_hash(&canonical_code(&req.code));
    let token = new_token().map_err(|_| ApiError::Task)?;
    let token_hash = secret_hash(&token);
    let storage = state.storage.clone();
    let (device, root_key) = blocking(move || {
        let device = storage
            .enrol(&code_hash, &label, &token_hash, &req.public_key, Utc::now())
            .map_err(ApiError::from)?;
        Ok((device, storage.root_key().map_err(ApiError::from)?))
    })
    .await?;
    let device = device.ok_or(ApiError::InvalidEnrolmentCode)?;
    tracing::info!(device = %device.id, "device enrolled");
    Ok(Json(EnrolResponse {
        device_id: device.id,
        token,
        role: device.role,
        root_key,
    }))
}
