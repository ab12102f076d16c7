//! The mission admin's endpoints, for admin devices only (authorised from the role alone):
//!
//! - `GET /v1/admin/devices`: every enrolled device (id, label, role, enrolled, revoked);
//! - `POST /v1/admin/devices/{id}/revoke`: revokes a device (404 when there is no such
//!   device not yet revoked);
//! - `POST /v1/admin/enrolment-codes` with `{"role": <Role>, "ttl_hours": n}`: a one-time
//!   code (201), shown once and never logged;
//! - `GET /v1/admin/audit?after=N&limit=M`: a page of the audit log and the verification of
//!   the whole chain (the first broken entry, if any).
//!
//! Issuing a code, revoking a device and reading the audit log are themselves audited. None
//! of these endpoints reads consultation data.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use fieldconsult_model::{Problem, Role};
use serde::{Deserialize, Serialize};

use crate::admin::{self, AdminError};
use crate::app::{AppState, WireJson, blocking};
use crate::audit::{self, AuditAction, AuditEntry, StoredAuditEntry, Verification, Who};
use crate::auth::{ADMIN_ONLY, Authenticated, require_role};
use crate::problem::ApiError;
use crate::storage::Device;

/// `GET`: the device list.
pub const DEVICES: &str = "/admin/devices";
/// `POST`: revoke one device.
pub const REVOKE: &str = "/admin/devices/{id}/revoke";
/// `POST`: issue an enrolment code.
pub const ENROLMENT_CODES: &str = "/admin/enrolment-codes";
/// `GET`: the audit log.
pub const AUDIT: &str = "/admin/audit";

/// Longest a code may stay valid: 30 days, as the `enrol` command allows.
pub const MAX_TTL_HOURS: i64 = 24 * 30;
/// Most audit entries one page returns.
pub const MAX_AUDIT_PAGE: u32 = 1000;

fn is_admin(role: &Role) -> bool {
    matches!(role, Role::Admin)
}

fn who(device: &Device) -> Who {
    Who::device(&device.id, &device.role)
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// One device as listed.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceRow {
    /// Device id.
    pub id: String,
    /// Label given at enrolment.
    pub label: String,
    /// Role.
    pub role: Role,
    /// When it enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Answer of the device list.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceList {
    /// Devices, oldest enrolment first.
    pub devices: Vec<DeviceRow>,
}

/// Lists the enrolled devices.
pub async fn devices(
    State(state): State<AppState>,
    Authenticated(device): Authenticated,
) -> Result<Response, ApiError> {
    require_role(&device, is_admin, ADMIN_ONLY)?;
    let storage = state.storage.clone();
    let list = blocking(move || Ok(storage.devices()?)).await?;
    let devices = list
        .into_iter()
        .map(|d| DeviceRow {
            id: d.id,
            label: d.label,
            role: d.role,
            enrolled_at: d.enrolled_at,
            revoked_at: d.revoked_at,
        })
        .collect();
    Ok(no_store(Json(DeviceList { devices }).into_response()))
}

/// Answer of a revocation.
#[derive(Clone, Debug, Serialize)]
pub struct Revoked {
    /// The device revoked.
    pub device_id: String,
}

/// Revokes a device.
pub async fn revoke(
    State(state): State<AppState>,
    Authenticated(device): Authenticated,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    require_role(&device, is_admin, ADMIN_ONLY)?;
    let Path(id) = id.map_err(|_| ApiError::NotFound("no such device"))?;
    let storage = state.storage.clone();
    let target = id.clone();
    let revoked = blocking(move || {
        let revoked = admin::revoke(storage.as_ref(), &target).map_err(admin_error)?;
        if revoked {
            audit::append(
                storage.as_ref(),
                &AuditEntry {
                    who: who(&device),
                    action: AuditAction::DeviceRevoked,
                    target: format!("device:{target}"),
                    why: String::new(),
                    at: Utc::now(),
                },
            )?;
            tracing::info!(admin = %device.id, device = %target, "device revoked");
        }
        Ok(revoked)
    })
    .await?;
    if !revoked {
        return Err(ApiError::NotFound(
            "no such device, or it is revoked already",
        ));
    }
    Ok(no_store(Json(Revoked { device_id: id }).into_response()))
}

/// Body of a code request.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The role the enrolled device will have.
    pub role: Role,
    /// Hours until the code expires, 1 to [`MAX_TTL_HOURS`].
    pub ttl_hours: i64,
}

/// Answer of a code request.
#[derive(Clone, Debug, Serialize)]
pub struct IssuedCode {
    /// The one-time code: hand it to the device holder. The server keeps only its hash.
    pub code: String,
    /// The role it enrols.
    pub role: Role,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

/// Issues a one-time enrolment code.
pub async fn enrolment_code(
    State(state): State<AppState>,
    Authenticated(device): Authenticated,
    req: Result<WireJson<CodeRequest>, ApiError>,
) -> Result<Response, ApiError> {
    require_role(&device, is_admin, ADMIN_ONLY)?;
    let WireJson(req) = req?;
    if !(1..=MAX_TTL_HOURS).contains(&req.ttl_hours) {
        return Err(ApiError::InvalidParameter {
            field: "ttl_hours",
            problem: Problem::OutOfRange {
                min: 1,
                max: MAX_TTL_HOURS,
            },
            detail: "must be between 1 and 720 hours",
        });
    }
    let storage = state.storage.clone();
    let role = req.role.clone();
    let now = Utc::now();
    let code = blocking(move || {
        let code =
            admin::enrolment_code(storage.as_ref(), &role, req.ttl_hours).map_err(admin_error)?;
        audit::append(
            storage.as_ref(),
            &AuditEntry {
                who: who(&device),
                action: AuditAction::EnrolmentCodeIssued,
                target: format!(
                    "role:{} ttl_hours={}",
                    admin::role_label(&role),
                    req.ttl_hours
                ),
                why: String::new(),
                at: now,
            },
        )?;
        Ok(code)
    })
    .await?;
    let issued = IssuedCode {
        code,
        role: req.role,
        expires_at: now + chrono::Duration::hours(req.ttl_hours),
    };
    Ok(no_store(
        (StatusCode::CREATED, Json(issued)).into_response(),
    ))
}

fn admin_error(e: AdminError) -> ApiError {
    match e {
        AdminError::Storage(e) => ApiError::Storage(e),
        AdminError::UnknownTeam(_) => ApiError::InvalidParameter {
            field: "role.team_id",
            problem: Problem::Unknown,
            detail: "no team with this id",
        },
        AdminError::Invalid { .. } | AdminError::Secret(_) => ApiError::Task,
    }
}

/// Query of an audit page.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Entries after this `seq`; 0 (the default) from the start.
    #[serde(default)]
    pub after: u64,
    /// Page size, capped at [`MAX_AUDIT_PAGE`] (the default).
    pub limit: Option<u32>,
}

/// Answer of the audit log.
#[derive(Clone, Debug, Serialize)]
pub struct AuditPage {
    /// The whole chain checked, before this read was appended.
    pub verification: Verification,
    /// Entries after `after`.
    pub entries: Vec<StoredAuditEntry>,
}

/// A page of the audit log, with the verification of the whole chain.
pub async fn audit(
    State(state): State<AppState>,
    Authenticated(device): Authenticated,
    query: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    require_role(&device, is_admin, ADMIN_ONLY)?;
    let Query(params) = query
        .map_err(|_| ApiError::Malformed("query must be after=<seq>&limit=<count>".to_owned()))?;
    let limit = params
        .limit
        .unwrap_or(MAX_AUDIT_PAGE)
        .clamp(1, MAX_AUDIT_PAGE);
    let storage = state.storage.clone();
    let page = blocking(move || {
        let verification = audit::verify(storage.as_ref())?;
        let entries = storage.audit_entries(params.after, limit)?;
        audit::append(
            storage.as_ref(),
            &AuditEntry {
                who: who(&device),
                action: AuditAction::AuditRead,
                target: format!("after={} entries={}", params.after, entries.len()),
                why: String::new(),
                at: Utc::now(),
            },
        )?;
        Ok(AuditPage {
            verification,
            entries,
        })
    })
    .await?;
    Ok(no_store(Json(page).into_response()))
}
