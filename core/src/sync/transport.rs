//! The network behind a trait: sync builds plain requests and reads plain responses, so the
//! default [`super::HttpsTransport`] and one the host app supplies (through the bindings) are
//! interchangeable. Bodies travel as given: compression is sync's business, not the
//! transport's (a transport must not decompress responses itself).

/// HTTP method of a sync request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET`, without a body.
    Get,
    /// `POST`, with a body.
    Post,
}

impl Method {
    /// `GET` or `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// A request to the mission server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// Path and query under the server's base address (`/v1/pull?after=0&limit=1000`).
    pub path: String,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body, exactly as it goes on the wire (already compressed); empty for `GET`.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }
}

/// The server's answer, whatever its status (a 4xx or 5xx is an answer, not a
/// [`TransportError`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body exactly as received (still compressed if `content-encoding` says so).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why no answer came back. Messages carry no user data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The server address is not a valid `https://` (or loopback `http://`) URL.
    #[error("the server address is not valid")]
    InvalidUrl,
    /// Plain `http://` to a host other than this device: refused, use `https://`.
    #[error("plain http is allowed only to a loopback address; use https")]
    InsecureUrl,
    /// No answer in time.
    #[error("the server did not answer in time")]
    Timeout,
    /// The server's certificate failed validation during the TLS handshake; the request was
    /// not sent. Not a passing network fault: someone may be intercepting the connection.
    #[error("the server's certificate was rejected ({problem})")]
    CertificateRejected {
        /// Which check failed.
        problem: CertificateProblem,
    },
    /// The server's certificate chain is valid but holds none of the pinned keys; the
    /// request was not sent.
    #[error("the server's certificate matches none of the pinned keys")]
    PinMismatch,
    /// A pin is not `sha256/` followed by the base64 of 32 bytes.
    #[error("pin {index} is not `sha256/` followed by the base64 of 32 bytes")]
    InvalidPin {
        /// The pin's place in the list given (from 0).
        index: usize,
    },
    /// Pinning needs a backup: at least two distinct pins.
    #[error("pinning needs at least two distinct pins (in use and backup); {given} given")]
    TooFewPins {
        /// Distinct pins given.
        given: usize,
    },
    /// An extra trust root is not a DER or PEM X.509 certificate.
    #[error("trust root {index} is not a DER or PEM certificate")]
    InvalidTrustRoot {
        /// The root's place in the list given (from 0).
        index: usize,
    },
    /// The connection could not be made or broke (no network, host unknown, TLS failure...).
    #[error("network error ({reason})")]
    Network {
        /// A short, stable description (`connection_failed`, `tls`, `io`, ...).
        reason: String,
    },
}

/// Why the server's certificate was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateProblem {
    /// Past its `notAfter` date.
    Expired,
    /// Before its `notBefore` date (or the device clock is wrong).
    NotYetValid,
    /// Not issued for the server's host name or address.
    WrongHost,
    /// Not issued by a trusted authority (self-signed, or an unknown CA).
    UnknownIssuer,
    /// Revoked by its issuer.
    Revoked,
    /// A signature in the chain does not verify or uses an unsupported algorithm.
    BadSignature,
    /// Not issued for TLS servers.
    WrongPurpose,
    /// Malformed, or refused for another reason.
    Invalid,
}

impl CertificateProblem {
    /// A short, stable name (`expired`, `wrong_host`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateProblem::Expired => "expired",
            CertificateProblem::NotYetValid => "not_yet_valid",
            CertificateProblem::WrongHost => "wrong_host",
            CertificateProblem::UnknownIssuer => "unknown_issuer",
            CertificateProblem::Revoked => "revoked",
            CertificateProblem::BadSignature => "bad_signature",
            CertificateProblem::WrongPurpose => "wrong_purpose",
            CertificateProblem::Invalid => "invalid",
        }
    }
}

impl std::fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sends one request and returns the server's answer. Implementations block until the
/// answer is complete; they must be safe to call from any thread.
pub trait Transport: Send + Sync {
    /// Sends `request`; any HTTP status is an `Ok` answer.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;

    /// The server's base address, if the transport knows it (stored at enrolment so that
    /// the app can rebuild the transport on the next launch).
    fn endpoint(&self) -> Option<String> {
        None
    }
}
