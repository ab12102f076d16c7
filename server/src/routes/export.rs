//! `GET /v1/export?month=YYYY-MM&why=...&format=csv|jsonl`: the accepted sessions of a
//! month for mission headquarters, notes emptied (the export the `export` command makes).
//!
//! HQ analyst devices only; `why` is required and goes to the audit log with who asked and
//! for which month. The export is audited before it is sent, and not sent if the audit log
//! cannot take the entry. Answers carry `Cache-Control: no-store`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use fieldconsult_model::report::Month;
use fieldconsult_model::{Problem, Role};
use serde::Deserialize;

use crate::app::{AppState, blocking};
use crate::audit::{self, AuditAction, AuditEntry, Who};
use crate::auth::{Authenticated, HQ_ONLY, require_role};
use crate::export::{ExportError, Format, export_month};
use crate::problem::ApiError;

/// The path of this endpoint under `/v1`.
pub const PATH: &str = "/export";

/// Longest `why` read.
pub const MAX_WHY_CHARS: usize = 500;

/// Query of an export.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `YYYY-MM`.
    pub month: String,
    /// Why the export is needed (audit log).
    pub why: String,
    /// `csv` (default) or `jsonl`.
    pub format: Option<String>,
}

/// Answers the export, or a problem document.
pub async fn export(
    State(state): State<AppState>,
    Authenticated(device): Authenticated,
    query: Result<Query<ExportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    require_role(&device, |r| matches!(r, Role::HqAnalyst), HQ_ONLY)?;
    let Query(params) = query.map_err(|_| ApiError::InvalidParameter {
        field: "query",
        problem: Problem::InvalidFormat,
        detail: "query must be month=YYYY-MM&why=<reason>[&format=csv|jsonl]",
    })?;
    let month: Month = params
        .month
        .parse()
        .map_err(|_| ApiError::InvalidParameter {
            field: "month",
            problem: Problem::InvalidFormat,
            detail: "must be written YYYY-MM, for example 2026-10",
        })?;
    let why = checked_why(&params.why)?;
    let format = match params.format.as_deref() {
        None | Some("csv") => Format::Csv,
        Some("jsonl") => Format::Jsonl,
        Some(_) => {
            return Err(ApiError::InvalidParameter {
                field: "format",
                problem: Problem::Unknown,
                detail: "must be csv or jsonl",
            });
        }
    };
    let storage = state.storage.clone();
    let who = device.clone();
    let (bytes, count) = blocking(move || {
        let mut bytes = Vec::new();
        let count = export_month(storage.as_ref(), format, Some(month), &mut bytes).map_err(
            |e| match e {
                ExportError::Storage(e) => ApiError::Storage(e),
                ExportError::Io(_) | ExportError::Json => ApiError::Render(e.to_string()),
            },
        )?;
        audit::append(
            storage.as_ref(),
            &AuditEntry {
                who: Who::device(&who.id, &who.role),
                action: AuditAction::Export,
                target: format!(
                    "mission month={month} format={} sessions={count}",
                    format.code()
                ),
                why,
                at: Utc::now(),
            },
        )?;
        Ok((bytes, count))
    })
    .await?;
    tracing::info!(device = %device.id, %month, sessions = count, "export served");
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"accepted-sessions-{month}.{}\"",
        format.code()
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A stated reason: 1 to [`MAX_WHY_CHARS`] characters without control characters.
pub fn checked_why(why: &str) -> Result<String, ApiError> {
    let why = why.trim();
    if why.is_empty() {
        return Err(ApiError::InvalidParameter {
            field: "why",
            problem: Problem::Required,
            detail: "say why the data is needed; it is kept in the audit log",
        });
    }
    let chars = why.chars().count();
    if chars > MAX_WHY_CHARS {
        return Err(ApiError::InvalidParameter {
            field: "why",
            problem: Problem::TooLong {
                max: MAX_WHY_CHARS,
                actual: chars,
            },
            detail: "too long",
        });
    }
    if why.chars().any(char::is_control) {
        return Err(ApiError::InvalidParameter {
            field: "why",
            problem: Problem::ControlCharacter,
            detail: "must not hold control characters",
        });
    }
    Ok(why.to_owned())
}
