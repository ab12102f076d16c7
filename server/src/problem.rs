//! Errors as RFC 9457 `application/problem+json` documents with the stable types of
//! [`fieldconsult_model::wire::problem_types`]. Details never carry user text.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fieldconsult_model::validation::{FieldError, Problem};
use fieldconsult_model::wire::{ProblemDetails, problem_types};

use crate::rate_limit::RetryAfter;
use crate::storage::StorageError;

/// Media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No bearer token, or one the server does not know.
    #[error("unauthorized")]
    Unauthorized,
    /// The device was revoked: it must wipe its data.
    #[error("device revoked")]
    Revoked,
    /// The enrolment code is unknown, used or expired.
    #[error("invalid enrolment code")]
    InvalidEnrolmentCode,
    /// The body is not what the endpoint reads.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The body is over the size limit.
    #[error("request body too large")]
    TooLarge,
    /// A push batch over the record limit.
    #[error("batch of {0} records is over the limit")]
    BatchTooLarge(usize),
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// A blocking task failed (panicked or was cancelled).
    #[error("internal task failed")]
    Task,
    /// A query parameter is missing, unknown or invalid; `field` names it.
    #[error("invalid parameter `{field}`: {detail}")]
    InvalidParameter {
        /// The parameter, as written in the query (`month`).
        field: &'static str,
        /// What is wrong with it, for programs.
        problem: Problem,
        /// What is wrong with it, for people; never echoes the value sent.
        detail: &'static str,
    },
    /// The device's role does not allow the request; `field` names the parameter that asked
    /// for too much.
    #[error("forbidden by `{field}`: {detail}")]
    Forbidden {
        /// The parameter (`scope`, `team`, `sector`, `min_cell`).
        field: &'static str,
        /// Why, for people; the same for every value a device may not see, so that a refusal
        /// tells nothing about what exists.
        detail: &'static str,
        /// The allowed range when the parameter is a number (`min_cell`).
        allowed: Option<Problem>,
    },
    /// A report could not be rendered (a bug, or no font for PDF and PNG on this server).
    #[error("report rendering failed: {0}")]
    Render(String),
    /// The audit log could not take the entry of this read: the read is not served.
    #[error("audit log: {0}")]
    Audit(#[from] crate::audit::AuditError),
    /// Too many enrolment attempts or failed authentications from this client.
    #[error("rate limited")]
    RateLimited(RetryAfter),
    /// No such thing, or not one this device may know of: the same answer for both.
    #[error("not found")]
    NotFound(&'static str),
}

impl ApiError {
    /// The problem document of this error.
    pub fn problem(&self) -> ProblemDetails {
        let (status, kind, title, detail) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                problem_types::UNAUTHORIZED,
                "Unauthorized",
                "A valid device token is required: Authorization: Bearer <token>.".to_owned(),
            ),
            ApiError::Revoked => (
                StatusCode::FORBIDDEN,
                problem_types::REVOKED,
                "Device revoked",
                "This device was revoked by the mission admin; it must wipe its data.".to_owned(),
            ),
            ApiError::InvalidEnrolmentCode => (
                StatusCode::FORBIDDEN,
                problem_types::INVALID_ENROLMENT_CODE,
                "Invalid enrolment code",
                "The enrolment code is unknown, already used or expired.".to_owned(),
            ),
            ApiError::Malformed(detail) => (
                StatusCode::BAD_REQUEST,
                problem_types::MALFORMED,
                "Malformed request",
                detail.clone(),
            ),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                problem_types::TOO_LARGE,
                "Request too large",
                String::new(),
            ),
            ApiError::BatchTooLarge(n) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                problem_types::BATCH_TOO_LARGE,
                "Batch too large",
                format!(
                    "{n} records; at most {} per batch",
                    fieldconsult_model::wire::MAX_BATCH_RECORDS
                ),
            ),
            ApiError::InvalidParameter {
                field,
                problem,
                detail,
            } => {
                return ProblemDetails {
                    kind: problem_types::MALFORMED.to_owned(),
                    title: "Invalid parameter".to_owned(),
                    status: StatusCode::BAD_REQUEST.as_u16(),
                    detail: format!("{field}: {detail}"),
                    problems: vec![FieldError {
                        field: (*field).to_owned(),
                        problem: problem.clone(),
                    }],
                };
            }
            ApiError::Forbidden {
                field,
                detail,
                allowed,
            } => {
                return ProblemDetails {
                    kind: problem_types::FORBIDDEN.to_owned(),
                    title: "Forbidden".to_owned(),
                    status: StatusCode::FORBIDDEN.as_u16(),
                    detail: format!("{field}: {detail}"),
                    problems: allowed
                        .iter()
                        .map(|p| FieldError {
                            field: (*field).to_owned(),
                            problem: p.clone(),
                        })
                        .collect(),
                };
            }
            ApiError::RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                problem_types::TOO_MANY_REQUESTS,
                "Too many requests",
                "Too many attempts from this address; wait for Retry-After seconds.".to_owned(),
            ),
            ApiError::NotFound(detail) => (
                StatusCode::NOT_FOUND,
                problem_types::NOT_FOUND,
                "Not found",
                (*detail).to_owned(),
            ),
            ApiError::Storage(_) | ApiError::Task | ApiError::Render(_) | ApiError::Audit(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                problem_types::INTERNAL,
                "Internal error",
                String::new(),
            ),
        };
        ProblemDetails {
            kind: kind.to_owned(),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            problems: Vec::new(),
        }
    }
}

/// A response carrying `problem`.
pub fn problem_response(problem: &ProblemDetails) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Storage(e) = &self {
            tracing::error!(error = %e, "storage failure");
        }
        if let ApiError::Render(e) = &self {
            tracing::error!(error = %e, "report rendering failure");
        }
        if let ApiError::Audit(e) = &self {
            tracing::error!(error = %e, "audit log failure: the read was not served");
        }
        let mut response = problem_response(&self.problem());
        if let ApiError::RateLimited(wait) = &self
            && let Ok(v) = HeaderValue::from_str(&wait.seconds().to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// Turns the bare error responses of layers and routing (413 from the body limit, 408 from
/// the timeout, 404, 405, 415) into problem documents, so that every error a client sees is
/// `application/problem+json`.
pub fn problemize<B>(response: axum::http::Response<B>) -> Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let response = response.map(axum::body::Body::new);
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let problem = if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge.problem()
    } else {
        let kind = match status {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => problem_types::UNSUPPORTED_ENCODING,
            StatusCode::REQUEST_TIMEOUT => problem_types::TIMEOUT,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => problem_types::NOT_FOUND,
            _ => "about:blank",
        };
        ProblemDetails {
            kind: kind.to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: String::new(),
            problems: Vec::new(),
        }
    };
    problem_response(&problem)
}
