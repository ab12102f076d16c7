//! The HTTP application: the router under `/v1`, health endpoints, and the layers around
//! them (trace logs without bodies or tokens, timeout, body limits, request decompression,
//! response compression, problem documents for bare errors), and [`serve`] with graceful
//! shutdown. [`endpoints`] lists every `/v1` endpoint; the router is built from that list.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{Method, StatusCode};
use axum::routing::{MethodRouter, get, post};
use serde::de::DeserializeOwned;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::problem::{ApiError, problemize};
use crate::rate_limit::{Limit, Limiters};
use crate::routes;
use crate::storage::Storage;

/// Default limit of a request body, compressed and decompressed: 8 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 8 << 20;
/// Default time a request may take, body upload included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Default enrolment attempts per client address and minute: a mission enrols a handful
/// of devices at a time; a guesser needs billions.
pub const DEFAULT_ENROLMENT_LIMIT: Limit = Limit::per_minute(10);
/// Default failed authentications per client address and minute.
pub const DEFAULT_FAILED_AUTH_LIMIT: Limit = Limit::per_minute(10);

/// Tunables of the HTTP layer.
#[derive(Clone, Copy, Debug)]
pub struct HttpConfig {
    /// Most bytes of a request body, both as sent (compressed) and decompressed.
    pub body_limit: usize,
    /// Most time a request may take before it is answered 408.
    pub timeout: Duration,
    /// Enrolment attempts per client address; over it, 429 with `Retry-After`.
    pub enrolment_limit: Limit,
    /// Failed authentications per client address; over it, 429 with `Retry-After`.
    /// Requests with a valid token are never throttled.
    pub failed_auth_limit: Limit,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_limit: DEFAULT_BODY_LIMIT,
            timeout: DEFAULT_TIMEOUT,
            enrolment_limit: DEFAULT_ENROLMENT_LIMIT,
            failed_auth_limit: DEFAULT_FAILED_AUTH_LIMIT,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The storage.
    pub storage: Arc<dyn Storage>,
    /// The HTTP tunables (the decompressed body limit is enforced by [`WireJson`]).
    pub config: HttpConfig,
    /// The per-client rate limiters.
    pub limits: Arc<Limiters>,
}

/// Every endpoint under `/v1`, with its handler. The router is built from this list alone,
/// and the access matrix test (`tests/access_matrix.rs`) fails on an endpoint it has no row
/// for: add endpoints here, never with a bare `.route`.
fn v1_routes() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (Method::POST, "/enrol", post(routes::enrol::enrol)),
        (Method::POST, "/push", post(routes::push::push)),
        (Method::GET, "/pull", get(routes::pull::pull)),
        (
            Method::GET,
            routes::reports::PATH,
            get(routes::reports::monthly),
        ),
        (
            Method::GET,
            routes::export::PATH,
            get(routes::export::export),
        ),
        (
            Method::GET,
            routes::admin::DEVICES,
            get(routes::admin::devices),
        ),
        (
            Method::POST,
            routes::admin::REVOKE,
            post(routes::admin::revoke),
        ),
        (
            Method::POST,
            routes::admin::ENROLMENT_CODES,
            post(routes::admin::enrolment_code),
        ),
        (Method::GET, routes::admin::AUDIT, get(routes::admin::audit)),
    ]
}

/// Every endpoint under `/v1` as (method, path below `/v1`), in the router's order.
pub fn endpoints() -> Vec<(Method, &'static str)> {
    v1_routes().into_iter().map(|(m, p, _)| (m, p)).collect()
}

/// The application with the default [`HttpConfig`].
pub fn app(storage: Arc<dyn Storage>) -> Router {
    app_with(storage, HttpConfig::default())
}

/// The application with `config`.
pub fn app_with(storage: Arc<dyn Storage>, config: HttpConfig) -> Router {
    let limits = Arc::new(Limiters::new(
        config.enrolment_limit,
        config.failed_auth_limit,
    ));
    let state = AppState {
        storage,
        config,
        limits,
    };
    let v1 = v1_routes()
        .into_iter()
        .fold(Router::new(), |r, (_, path, handler)| {
            r.route(path, handler)
        });
    Router::new()
        .nest(fieldconsult_model::wire::API_PREFIX, v1)
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .map_response(problemize)
                .layer(CompressionLayer::new().gzip(true).zstd(true))
                .layer(RequestBodyLimitLayer::new(config.body_limit))
                .layer(RequestDecompressionLayer::new().gzip(true).zstd(true))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    config.timeout,
                )),
        )
}

/// Serves `app(storage)` on `listener` until `shutdown` completes, then stops accepting
/// connections and finishes the requests in flight.
pub async fn serve(
    storage: Arc<dyn Storage>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(storage, HttpConfig::default(), listener, shutdown).await
}

/// [`serve`] with `config`. Each request knows its peer's address (for the rate limits).
pub async fn serve_with(
    storage: Arc<dyn Storage>,
    config: HttpConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app_with(storage, config).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// A JSON body read within the body limit, whose every failure is a problem document:
/// too large → 413 `TOO_LARGE`, anything unreadable → 400 `MALFORMED`.
pub struct WireJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for WireJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let body: Body = req.into_body();
        let bytes = axum::body::to_bytes(body, state.config.body_limit)
            .await
            .map_err(|e| {
                if is_length_limit(&e) {
                    ApiError::TooLarge
                } else {
                    ApiError::Malformed("the body could not be read or decompressed".to_owned())
                }
            })?;
        serde_json::from_slice(&bytes)
            .map(WireJson)
            .map_err(|e| ApiError::Malformed(json_error_detail(&e)))
    }
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// Where and what kind of JSON error, without echoing values from the body (they may be
/// sensitive). Unknown and missing field names are kept: they come from the schema.
fn json_error_detail(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let schema_hint = ["unknown field `", "missing field `", "unknown variant `"]
        .iter()
        .find_map(|p| {
            msg.find(p).and_then(|i| {
                let rest = &msg[i + p.len()..];
                rest.find('`').map(|j| format!("{}{}`", p, &rest[..j]))
            })
        });
    let what = match e.classify() {
        serde_json::error::Category::Io => "unreadable body",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Eof => "truncated JSON",
        serde_json::error::Category::Data => "JSON does not match the expected shape",
    };
    match schema_hint {
        Some(h) => format!("{what}: {h} at line {} column {}", e.line(), e.column()),
        None => format!("{what} at line {} column {}", e.line(), e.column()),
    }
}

/// Runs storage work on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::Task)?
}
