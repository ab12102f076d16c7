//! The default transport: HTTPS with rustls (no OpenSSL for TLS), on ureq's blocking client.

use std::time::Duration;

use ureq::http;

use super::transport::{HttpRequest, HttpResponse, Method, Transport, TransportError};

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

impl HttpsTransport {
    /// A transport to `base_url` (`https://mission.example.org`, or `http://127.0.0.1:8080`
    /// on this device). Refuses plain `http://` to any other host with
    /// [`TransportError::InsecureUrl`].
    pub fn new(base_url: &str) -> Result<Self, TransportError> {
        Self::with_timeouts(base_url, CONNECT_TIMEOUT, REQUEST_TIMEOUT)
    }

    /// [`HttpsTransport::new`] with other timeouts.
    pub fn with_timeouts(
        base_url: &str,
        connect: Duration,
        request: Duration,
    ) -> Result<Self, TransportError> {
        let (base, https) = check_base_url(base_url)?;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .https_only(https)
            .max_redirects(0)
            .timeout_connect(Some(connect))
            .timeout_global(Some(request))
            .user_agent(concat!("fieldconsult-core/", env!("CARGO_PKG_VERSION")))
            // Sync sets Accept-Encoding and decodes bodies itself.
            .accept_encoding("")
            .build();
        Ok(HttpsTransport {
            base,
            agent: config.new_agent(),
        })
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

/// The base URL without a trailing `/`, and whether it is `https`. Plain `http` passes only
/// for `localhost`, `127.0.0.0/8` and `::1`.
pub(crate) fn check_base_url(url: &str) -> Result<(String, bool), TransportError> {
    let url = url.trim().trim_end_matches('/');
    let lower = url.to_ascii_lowercase();
    let (https, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(TransportError::InvalidUrl);
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || rest.contains(['?', '#']) {
        return Err(TransportError::InvalidUrl);
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return Err(TransportError::InvalidUrl);
    }
    if !https && !is_loopback(host) {
        return Err(TransportError::InsecureUrl);
    }
    Ok((url.to_owned(), https))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let ok = |u: &str| check_base_url(u).map(|(b, _)| b);
        assert_eq!(
            ok("https://mission.example.org/"),
            Ok("https://mission.example.org".into())
        );
        assert_eq!(
            ok("http://127.0.0.1:8080"),
            Ok("http://127.0.0.1:8080".into())
        );
        assert!(ok("http://localhost:1/").is_ok());
        assert!(ok("http://[::1]:9000").is_ok());
        assert_eq!(
            ok("http://mission.example.org"),
            Err(TransportError::InsecureUrl)
        );
        assert_eq!(ok("http://10.0.0.1"), Err(TransportError::InsecureUrl));
        assert_eq!(
            ok("http://127.0.0.1.evil.org"),
            Err(TransportError::InsecureUrl)
        );
        assert_eq!(
            ok("http://localhost@evil.org"),
            Err(TransportError::InvalidUrl)
        );
        assert_eq!(ok("ftp://x"), Err(TransportError::InvalidUrl));
        assert_eq!(ok("https://"), Err(TransportError::InvalidUrl));
    }
}
