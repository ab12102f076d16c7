//! Which server addresses the transport accepts: `https://` anywhere, plain `http://` only to
//! this device (tests, demos), checked on the host part alone so that look-alike names
//! (`localhost.evil.com`, `127.0.0.1.nip.io`) do not pass as loopback.

use crate::sync::transport::TransportError;

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
    // Host, then nothing or `:port`: anything else after the host (`[::1].evil.com`, a
    // second colon) is not an address this check could vouch for.
    let (host, after) = match authority.strip_prefix('[') {
        Some(v6) => v6.split_once(']').ok_or(TransportError::InvalidUrl)?,
        None => authority
            .find(':')
            .map_or((authority, ""), |i| authority.split_at(i)),
    };
    let port_ok = after
        .strip_prefix(':')
        .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    if host.is_empty() || !(after.is_empty() || port_ok) {
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

    #[test]
    fn look_alike_loopback_names_need_https() {
        let insecure = Err(TransportError::InsecureUrl);
        for url in [
            "http://localhost.evil.com",
            "http://localhost.evil.com:8080/",
            "http://127.0.0.1.nip.io",
            "http://127.0.0.1.nip.io:80",
            "http://0.0.0.0:8080",
            "http://[::]:8080",
            "http://[::ffff:10.0.0.1]",
            "http://192.168.1.10:8080",
        ] {
            assert_eq!(check_base_url(url), insecure, "{url}");
        }
        for url in [
            "http://localhost",
            "http://LOCALHOST:8080",
            "http://127.0.0.1",
            "http://127.1.2.3:9",
            "http://[::1]",
            "http://[::1]:8080/",
        ] {
            assert!(check_base_url(url).is_ok(), "{url}");
        }
        for url in [
            "http://[::1].evil.com",
            "http://[::1]evil.com:80",
            "http://localhost:80:81",
            "http://localhost:",
            "http://[::1",
        ] {
            assert_eq!(
                check_base_url(url),
                Err(TransportError::InvalidUrl),
                "{url}"
            );
        }
        // The same look-alike names are fine over https: the certificate decides.
        assert!(check_base_url("https://localhost.evil.com").is_ok());
    }
}
