//! The default transport: HTTPS with rustls (no OpenSSL for TLS), on ureq's blocking client.
//!
//! The server's certificate is checked by rustls's WebPKI verifier against the Mozilla root
//! store (built in, so a user-installed CA on the phone is not trusted) plus any roots of the
//! mission's own CA, and then, if pins are set, against the pinned keys ([`TlsOptions`]).

mod address;
mod connector;
mod options;
mod pin;
mod verifier;

use std::time::Duration;

use ureq::http;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{Connector as _, TcpConnector};

pub(crate) use address::check_base_url;
pub use options::TlsOptions;
pub use pin::SpkiPin;

use super::transport::{
    CertificateProblem, HttpRequest, HttpResponse, Method, Transport, TransportError,
};

/// Longest a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest one request may take in all: a full 1 MiB batch, compressed to a few hundred KB,
/// over a poor satellite or 2G link.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(180);
/// Largest response body read (a pull page is far below this).
const MAX_RESPONSE_BYTES: u64 = 64 << 20;

/// HTTPS to the mission server. Plain `http://` only to a loopback host (tests, demos).
pub struct HttpsTransport {
    base: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for HttpsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsTransport")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Settings of an [`HttpsTransport`] before it is built.
#[derive(Clone, Debug)]
pub struct HttpsTransportBuilder {
    base_url: String,
    tls: TlsOptions,
    connect: Duration,
    request: Duration,
}

impl HttpsTransportBuilder {
    /// Trust and pinning settings (default: public Web PKI, no pins).
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.tls = tls;
        self
    }

    /// Longest a connection may take to open, and one request in all.
    pub fn timeouts(mut self, connect: Duration, request: Duration) -> Self {
        self.connect = connect;
        self.request = request;
        self
    }

    /// The transport. Refuses plain `http://` to any host but this device
    /// ([`TransportError::InsecureUrl`]), and plain `http://` with pins or extra roots set
    /// (there would be no certificate to check them against).
    pub fn build(self) -> Result<HttpsTransport, TransportError> {
        let (base, https) = check_base_url(&self.base_url)?;
        if !https && !self.tls.is_default() {
            return Err(TransportError::InsecureUrl);
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .https_only(https)
            .max_redirects(0)
            // The connector chain below has no proxy step: an app behind a proxy supplies
            // its own transport.
            .proxy(None)
            .timeout_connect(Some(self.connect))
            .timeout_global(Some(self.request))
            .user_agent(concat!("fieldconsult-core/", env!("CARGO_PKG_VERSION")))
            // Sync sets Accept-Encoding and decodes bodies itself.
            .accept_encoding("")
            .build();
        let tls = connector::TlsConnector::new(connector::client_config(&self.tls)?);
        let connector = ().chain(TcpConnector::default()).chain(tls);
        Ok(HttpsTransport {
            base,
            agent: ureq::Agent::with_parts(config, connector, DefaultResolver::default()),
        })
    }
}

impl HttpsTransport {
    /// A transport to `base_url` (`https://mission.example.org`, or `http://127.0.0.1:8080`
    /// on this device), trusting the public Web PKI. Refuses plain `http://` to any other
    /// host with [`TransportError::InsecureUrl`].
    pub fn new(base_url: &str) -> Result<Self, TransportError> {
        Self::builder(base_url).build()
    }

    /// [`HttpsTransport::new`] with other timeouts.
    pub fn with_timeouts(
        base_url: &str,
        connect: Duration,
        request: Duration,
    ) -> Result<Self, TransportError> {
        Self::builder(base_url).timeouts(connect, request).build()
    }

    /// Settings for a transport to `base_url`: trust roots, pins, timeouts.
    pub fn builder(base_url: &str) -> HttpsTransportBuilder {
        HttpsTransportBuilder {
            base_url: base_url.to_owned(),
            tls: TlsOptions::default(),
            connect: CONNECT_TIMEOUT,
            request: REQUEST_TIMEOUT,
        }
    }

    /// The base address, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }
}

impl Transport for HttpsTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(format!("{}{}", self.base, request.path));
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let invalid = |_| TransportError::InvalidUrl;
        let response = match request.method {
            Method::Get => self.agent.run(builder.body(()).map_err(invalid)?),
            Method::Post => self.agent.run(builder.body(request.body).map_err(invalid)?),
        };
        let mut response = response.map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(transport_error)?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    fn endpoint(&self) -> Option<String> {
        Some(self.base.clone())
    }
}

fn transport_error(e: ureq::Error) -> TransportError {
    let reason = match e {
        ureq::Error::Timeout(_) => return TransportError::Timeout,
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => return TransportError::InvalidUrl,
        ureq::Error::RequireHttpsOnly(_) => return TransportError::InsecureUrl,
        ureq::Error::Rustls(rustls::Error::InvalidCertificate(problem)) => {
            return certificate_error(&problem);
        }
        ureq::Error::HostNotFound => "host_not_found",
        ureq::Error::ConnectionFailed => "connection_failed",
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            return TransportError::Timeout;
        }
        ureq::Error::Io(_) => "io",
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::TlsRequired => "tls",
        ureq::Error::BodyExceedsLimit(_) => "response_too_large",
        ureq::Error::TooManyRedirects | ureq::Error::RedirectFailed => "redirect",
        ureq::Error::Protocol(_) => "protocol",
        _ => "other",
    };
    TransportError::Network {
        reason: reason.to_owned(),
    }
}

/// Which check refused the server's certificate; the names and dates rustls attaches are
/// dropped (they say nothing an app can act on).
fn certificate_error(e: &rustls::CertificateError) -> TransportError {
    use rustls::CertificateError as E;
    #[allow(deprecated)] // `UnsupportedSignatureAlgorithm`: still produced by older paths.
    let problem = match e {
        E::Other(other) if other.0.downcast_ref::<verifier::PinMismatch>().is_some() => {
            return TransportError::PinMismatch;
        }
        E::Expired | E::ExpiredContext { .. } => CertificateProblem::Expired,
        E::NotValidYet | E::NotValidYetContext { .. } => CertificateProblem::NotYetValid,
        E::NotValidForName | E::NotValidForNameContext { .. } => CertificateProblem::WrongHost,
        E::UnknownIssuer => CertificateProblem::UnknownIssuer,
        E::Revoked => CertificateProblem::Revoked,
        E::BadSignature
        | E::UnsupportedSignatureAlgorithm
        | E::UnsupportedSignatureAlgorithmContext { .. }
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            CertificateProblem::BadSignature
        }
        E::InvalidPurpose | E::InvalidPurposeContext { .. } => CertificateProblem::WrongPurpose,
        _ => CertificateProblem::Invalid,
    };
    TransportError::CertificateRejected { problem }
}
