//! `GET /v1/pull?after=N&limit=M`: changes in the device's scope after the cursor.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::Utc;
use fieldconsult_model::wire::{MAX_PULL_PAGE, PullResponse};
use serde::Deserialize;

use crate::app::{AppState, blocking};
use crate::audit::{self, AuditAction, AuditEntry, Who};
use crate::auth::{Authenticated, SYNCING_ROLES, require_role};
use crate::problem::ApiError;
use fieldconsult_model::Role;

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
    require_role(&device, Role::syncs_records, SYNCING_ROLES)?;
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
        let page = storage.pull(&requester, params.after, limit)?;
        // A page that serves records is a read of them: audited before it leaves, and not
        // served if the audit log cannot take it. An empty page reads nothing.
        if !page.records.is_empty() {
            let entry = AuditEntry {
                who: Who::device(&requester.id, &requester.role),
                action: AuditAction::Pull,
                target: format!(
                    "{} after={} cursor={} records={}",
                    scope_label(&requester.role),
                    params.after,
                    page.cursor,
                    page.records.len()
                ),
                why: "sync".to_owned(),
                at: Utc::now(),
            };
            audit::append(storage.as_ref(), &entry)?;
        }
        Ok(page)
    })
    .await?;
    tracing::debug!(device = %device.id, records = page.records.len(), "pull answered");
    Ok(Json(page))
}

/// The scope a role pulls, for the audit log: `team:<id>`, `sector:<name>`.
fn scope_label(role: &Role) -> String {
    match role {
        Role::TeamMember { team_id } => format!("team:{team_id}"),
        Role::Reviewer { sector } => format!("sector:{sector}"),
        Role::HqAnalyst | Role::Admin => role.kind_code().to_owned(),
    }
}
