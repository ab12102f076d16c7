//! Sync through the FFI: enrolment and sync over the core's HTTPS transport, or over one the
//! app supplies (`HttpTransport`, e.g. OkHttp or URLSession with the app's own pinning).

use std::sync::Arc;

use fieldconsult_core as core;
use fieldconsult_core::{Method, SyncReport};

use crate::error::FieldConsultError;
use crate::session::Role;

/// What one sync did.
#[uniffi::remote(Record)]
pub struct SyncReport {
    pub pushed: u64,
    pub acknowledged: u64,
    pub conflicts: u64,
    pub rejected: u64,
    pub pulled: u64,
    pub requests: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// The device's enrolment (never its token).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Enrolment {
    /// Device id issued by the server.
    pub device_id: String,
    /// What the device may do and see.
    pub role: Role,
    /// The server's address, when known.
    pub server_url: Option<String>,
}

/// One HTTP header.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    /// Name, lower case.
    pub name: String,
    /// Value.
    pub value: String,
}

/// A request the app's transport must send to the mission server.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// Path and query under the server's base address (`/v1/pull?after=0&limit=1000`).
    pub path: String,
    /// Headers to send as given.
    pub headers: Vec<HttpHeader>,
    /// Body exactly as it goes on the wire (already compressed); empty for `GET`.
    pub body: Vec<u8>,
}

/// The server's answer, whatever its status.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers as received.
    pub headers: Vec<HttpHeader>,
    /// Body exactly as received: the transport must not decompress it.
    pub body: Vec<u8>,
}

/// Why the app's transport got no answer.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum TransportFailure {
    /// No answer in time.
    #[error("timeout")]
    Timeout,
    /// No connection, TLS failure, broken connection.
    #[error("network error: {reason}")]
    Network {
        /// A short description without user data.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TransportFailure {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        TransportFailure::Network { reason: e.reason }
    }
}

/// An HTTP transport supplied by the app. Called on the thread running the sync; must block
/// until the answer is complete. Any HTTP status is an answer, not a failure.
#[uniffi::export(with_foreign)]
pub trait HttpTransport: Send + Sync {
    /// Sends `request` and returns the server's answer.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportFailure>;
}

/// The app's transport as the core's.
pub(crate) struct Foreign(pub(crate) Arc<dyn HttpTransport>);

fn headers_out(headers: Vec<(String, String)>) -> Vec<HttpHeader> {
    headers
        .into_iter()
        .map(|(name, value)| HttpHeader { name, value })
        .collect()
}

impl core::Transport for Foreign {
    fn send(&self, request: core::HttpRequest) -> Result<core::HttpResponse, core::TransportError> {
        let method = match request.method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        let answer = self.0.send(HttpRequest {
            method: method.to_owned(),
            path: request.path,
            headers: headers_out(request.headers),
            body: request.body,
        });
        match answer {
            Ok(r) => Ok(core::HttpResponse {
                status: r.status,
                headers: r
                    .headers
                    .into_iter()
                    .map(|h| (h.name.to_ascii_lowercase(), h.value))
                    .collect(),
                body: r.body,
            }),
            Err(TransportFailure::Timeout) => Err(core::TransportError::Timeout),
            Err(TransportFailure::Network { reason }) => {
                Err(core::TransportError::Network { reason })
            }
        }
    }
}

impl From<core::Enrolment> for Enrolment {
    fn from(e: core::Enrolment) -> Self {
        let role = match e.role {
            fieldconsult_model::Role::TeamMember { team_id } => Role::TeamMember {
                team_id: team_id.to_string(),
            },
            fieldconsult_model::Role::Reviewer { sector } => Role::Reviewer { sector },
            fieldconsult_model::Role::HqAnalyst => Role::HqAnalyst,
            fieldconsult_model::Role::Admin => Role::Admin,
        };
        Enrolment {
            device_id: e.device_id,
            role,
            server_url: e.server_url,
        }
    }
}

/// What the core's HTTPS transport trusts beyond the public Web PKI. Pins are checked in
/// addition to normal certificate validation, never instead of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct TlsOptions {
    /// SPKI pins, `sha256/<base64>` (the OkHttp format): the server's verified chain (leaf,
    /// intermediates or root) must hold one of these keys. Empty: no pinning; otherwise at
    /// least two (the key in use and a backup).
    #[uniffi(default = [])]
    pub pins: Vec<String>,
    /// Extra trusted root certificates of the mission's own CA, each DER or PEM.
    #[uniffi(default = [])]
    pub trust_roots: Vec<Vec<u8>>,
}

/// The core's HTTPS transport to `server_url` (`https://`, or `http://` to loopback only),
/// with the app's trust settings.
pub(crate) fn https(
    server_url: &str,
    tls: Option<TlsOptions>,
) -> Result<core::HttpsTransport, FieldConsultError> {
    let tls = tls.unwrap_or_default();
    let options = core::TlsOptions::new()
        .with_pins(&tls.pins)
        .and_then(|o| o.with_trust_roots(&tls.trust_roots))
        .and_then(|o| core::HttpsTransport::builder(server_url).tls(o).build());
    options.map_err(|e| core::Error::Transport(e).into())
}
