//! The HTTPS transport against a real TLS server on 127.0.0.1, with certificates made on the
//! fly (rcgen): every bad certificate is refused with its own typed error, and the server
//! never receives a single byte of application data (the request is not sent); pins are
//! checked on top of chain validation, never instead of it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine as _;
use fieldconsult_core::{
    CertificateProblem, HttpRequest, HttpsTransport, Method, SpkiPin, TlsOptions, Transport,
    TransportError,
};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, PublicKeyData, date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

/// A pin of a key that signs nothing here.
const UNRELATED_PIN: &str = "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

// --- certificates -----------------------------------------------------------------------

type Issuer = CertifiedIssuer<'static, KeyPair>;

fn ca(name: &str) -> Issuer {
    CertifiedIssuer::self_signed(ca_params(name), KeyPair::generate().unwrap()).unwrap()
}

fn intermediate(name: &str, parent: &Issuer) -> Issuer {
    CertifiedIssuer::signed_by(ca_params(name), KeyPair::generate().unwrap(), parent).unwrap()
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

/// A server certificate and its key.
struct Leaf {
    der: CertificateDer<'static>,
    key: KeyPair,
}

/// Validity of a server certificate.
#[derive(Clone, Copy)]
enum Validity {
    Current,
    Expired,
    NotYetValid,
}

fn leaf_params(host: &str, validity: Validity) -> CertificateParams {
    let mut params = CertificateParams::new(vec![host.to_owned()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, host);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    match validity {
        Validity::Current => {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2090, 1, 1);
        }
        Validity::Expired => {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        }
        Validity::NotYetValid => {
            params.not_before = date_time_ymd(2090, 1, 1);
            params.not_after = date_time_ymd(2091, 1, 1);
        }
    }
    params
}

fn leaf(host: &str, validity: Validity, issuer: &Issuer) -> Leaf {
    let key = KeyPair::generate().unwrap();
    let cert = leaf_params(host, validity).signed_by(&key, issuer).unwrap();
    Leaf {
        der: cert.der().clone(),
        key,
    }
}

fn self_signed_leaf(host: &str) -> Leaf {
    let key = KeyPair::generate().unwrap();
    let cert = leaf_params(host, Validity::Current)
        .self_signed(&key)
        .unwrap();
    Leaf {
        der: cert.der().clone(),
        key,
    }
}

/// The pin as `openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst
/// -sha256 -binary | base64` computes it: from the key itself, not through the library.
fn pin_of_key(key: &impl PublicKeyData) -> String {
    let digest = Sha256::digest(key.subject_public_key_info());
    format!(
        "sha256/{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn pin_of_issuer(issuer: &Issuer) -> String {
    pin_of_key(issuer.key())
}

// --- the server ---------------------------------------------------------------------------

/// What the server saw of one connection.
#[derive(Debug)]
struct Seen {
    /// The TLS handshake completed on the server's side.
    handshake_completed: bool,
    /// Application bytes (decrypted) received after the handshake.
    application_bytes: Vec<u8>,
}

struct Server {
    port: u16,
    thread: JoinHandle<Seen>,
}

impl Server {
    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    fn seen(self) -> Seen {
        self.thread.join().unwrap()
    }
}

/// A TLS server on 127.0.0.1 for one connection, presenting `chain` (leaf first) and
/// answering `200 ok` to the first request. `tls12_only` forces TLS 1.2, where the client's
/// verification comes at another point of the handshake.
fn serve(chain: Vec<CertificateDer<'static>>, key: &KeyPair, tls12_only: bool) -> Server {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12_only {
        &[&rustls::version::TLS12]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        // A safety net so that a broken client cannot hang the test run; no test relies on it.
        tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut tls = rustls::ServerConnection::new(Arc::new(config)).unwrap();
        let mut seen = Seen {
            handshake_completed: false,
            application_bytes: Vec::new(),
        };
        while tls.is_handshaking() {
            if tls.complete_io(&mut tcp).is_err() {
                // Whatever arrived before the failure: rustls buffers early plaintext.
                let _ = tls.reader().read_to_end(&mut seen.application_bytes);
                return seen;
            }
        }
        seen.handshake_completed = true;
        let mut stream = rustls::Stream::new(&mut tls, &mut tcp);
        let mut buf = [0u8; 4096];
        while !seen.application_bytes.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return seen,
                Ok(n) => seen.application_bytes.extend_from_slice(&buf[..n]),
            }
        }
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        let _ = stream.flush();
        tls.send_close_notify();
        let _ = tls.complete_io(&mut tcp);
        seen
    });
    Server { port, thread }
}

fn serve_leaf(leaf: &Leaf, chain_above: &[&Issuer]) -> Server {
    let mut chain = vec![leaf.der.clone()];
    chain.extend(chain_above.iter().map(|c| c.der().clone()));
    serve(chain, &leaf.key, false)
}

fn health() -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        path: "/v1/health".into(),
        headers: Vec::new(),
        body: Vec::new(),
    }
}

fn transport(url: &str, tls: TlsOptions) -> HttpsTransport {
    HttpsTransport::builder(url)
        .tls(tls)
        .timeouts(Duration::from_secs(30), Duration::from_secs(60))
        .build()
        .unwrap()
}

fn trusting(root: &Issuer) -> TlsOptions {
    TlsOptions::new().with_trust_roots([root.der()]).unwrap()
}

/// Sends one request to `server` and returns the client's result and what the server saw.
fn request(server: Server, tls: TlsOptions) -> (Result<u16, TransportError>, Seen) {
    let result = transport(&server.url(), tls)
        .send(health())
        .map(|r| r.status);
    (result, server.seen())
}

fn assert_refused(outcome: (Result<u16, TransportError>, Seen), expected: TransportError) {
    let (result, seen) = outcome;
    assert_eq!(result, Err(expected));
    assert!(!seen.handshake_completed, "{seen:?}");
    assert!(
        seen.application_bytes.is_empty(),
        "the server received {} application bytes",
        seen.application_bytes.len()
    );
}

fn rejected(problem: CertificateProblem) -> TransportError {
    TransportError::CertificateRejected { problem }
}

fn assert_served(outcome: (Result<u16, TransportError>, Seen)) {
    let (result, seen) = outcome;
    assert_eq!(result, Ok(200));
    assert!(seen.handshake_completed);
    assert!(
        seen.application_bytes
            .starts_with(b"GET /v1/health HTTP/1.1\r\n"),
        "{:?}",
        String::from_utf8_lossy(&seen.application_bytes)
    );
}

// --- chain validation ---------------------------------------------------------------------

#[test]
fn a_valid_chain_from_the_mission_ca_is_served() {
    let root = ca("mission root");
    let server = serve_leaf(&leaf("127.0.0.1", Validity::Current, &root), &[]);
    assert_served(request(server, trusting(&root)));
}

#[test]
fn a_valid_chain_through_an_intermediate_is_served() {
    let root = ca("mission root");
    let mid = intermediate("mission issuing CA", &root);
    let server = serve_leaf(&leaf("127.0.0.1", Validity::Current, &mid), &[&mid]);
    assert_served(request(server, trusting(&root)));
}

#[test]
fn a_pem_trust_root_works_as_its_der() {
    let root = ca("mission root");
    let server = serve_leaf(&leaf("127.0.0.1", Validity::Current, &root), &[]);
    let tls = TlsOptions::new()
        .with_trust_roots([root.pem().into_bytes()])
        .unwrap();
    assert_served(request(server, tls));
}

#[test]
fn an_expired_certificate_is_refused_before_any_request_byte() {
    let root = ca("mission root");
    let server = serve_leaf(&leaf("127.0.0.1", Validity::Expired, &root), &[]);
    assert_refused(
        request(server, trusting(&root)),
        rejected(CertificateProblem::Expired),
    );
}

#[test]
fn an_expired_certificate_is_refused_over_tls12_too() {
    let root = ca("mission root");
    let leaf = leaf("127.0.0.1", Validity::Expired, &root);
    let server = serve(vec![leaf.der.clone()], &leaf.key, true);
    assert_refused(
        request(server, trusting(&root)),
        rejected(CertificateProblem::Expired),
    );
}

#[test]
fn a_not_yet_valid_certificate_is_refused_before_any_request_byte() {
    let root = ca("mission root");
    let server = serve_leaf(&leaf("127.0.0.1", Validity::NotYetValid, &root), &[]);
    assert_refused(
        request(server, trusting(&root)),
        rejected(CertificateProblem::NotYetValid),
    );
}

#[test]
fn a_certificate_for_another_host_is_refused_before_any_request_byte() {
    let root = ca("mission root");
    let server = serve_leaf(&leaf("mission.example.org", Validity::Current, &root), &[]);
    assert_refused(
        request(server, trusting(&root)),
        rejected(CertificateProblem::WrongHost),
    );
}

#[test]
fn a_self_signed_certificate_is_refused_before_any_request_byte() {
    let leaf = self_signed_leaf("127.0.0.1");
    let server = serve_leaf(&leaf, &[]);
    assert_refused(
        request(server, TlsOptions::new()),
        rejected(CertificateProblem::UnknownIssuer),
    );
}

#[test]
fn a_chain_from_an_unknown_ca_is_refused_before_any_request_byte() {
    // A well-formed chain, but its root is trusted neither by the Web PKI nor the mission.
    let stranger = ca("someone else's root");
    let mid = intermediate("someone else's issuing CA", &stranger);
    let server = serve_leaf(
        &leaf("127.0.0.1", Validity::Current, &mid),
        &[&mid, &stranger],
    );
    assert_refused(
        request(server, trusting(&ca("mission root"))),
        rejected(CertificateProblem::UnknownIssuer),
    );
}

// --- pinning ------------------------------------------------------------------------------

fn pinned(root: &Issuer, pins: [&str; 2]) -> TlsOptions {
    trusting(root).with_pins(pins).unwrap()
}

#[test]
fn a_pin_computed_from_the_key_equals_the_pin_of_the_certificate() {
    let root = ca("mission root");
    let leaf = leaf("127.0.0.1", Validity::Current, &root);
    let of_cert = SpkiPin::of_certificate(&leaf.der).unwrap().to_string();
    assert_eq!(of_cert, pin_of_key(&leaf.key));
    assert_eq!(SpkiPin::of_certificate(b"not a certificate"), None);
}

#[test]
fn a_pinned_leaf_key_is_served() {
    let root = ca("mission root");
    let leaf = leaf("127.0.0.1", Validity::Current, &root);
    let pins = [pin_of_key(&leaf.key).as_str(), UNRELATED_PIN].map(str::to_owned);
    let server = serve_leaf(&leaf, &[]);
    assert_served(request(server, pinned(&root, [&pins[0], &pins[1]])));
}

#[test]
fn a_pinned_intermediate_key_is_served() {
    let root = ca("mission root");
    let mid = intermediate("mission issuing CA", &root);
    let pin = pin_of_issuer(&mid);
    let server = serve_leaf(&leaf("127.0.0.1", Validity::Current, &mid), &[&mid]);
    assert_served(request(server, pinned(&root, [&pin, UNRELATED_PIN])));
}

#[test]
fn a_pinned_root_key_is_served() {
    let root = ca("mission root");
    let mid = intermediate("mission issuing CA", &root);
    let pin = pin_of_issuer(&root);
    let server = serve_leaf(&leaf("127.0.0.1", Validity::Current, &mid), &[&mid]);
    assert_served(request(server, pinned(&root, [&pin, UNRELATED_PIN])));
}

#[test]
fn a_wrong_primary_pin_with_the_right_backup_pin_is_served() {
    let root = ca("mission root");
    let leaf = leaf("127.0.0.1", Validity::Current, &root);
    let backup = pin_of_key(&leaf.key);
    let server = serve_leaf(&leaf, &[]);
    assert_served(request(server, pinned(&root, [UNRELATED_PIN, &backup])));
}

#[test]
fn a_chain_holding_no_pinned_key_is_refused_before_any_request_byte() {
    let root = ca("mission root");
    let mid = intermediate("mission issuing CA", &root);
    let other_key = pin_of_key(&KeyPair::generate().unwrap());
    let server = serve_leaf(&leaf("127.0.0.1", Validity::Current, &mid), &[&mid]);
    assert_refused(
        request(server, pinned(&root, [UNRELATED_PIN, &other_key])),
        TransportError::PinMismatch,
    );
}

#[test]
fn a_pin_never_replaces_chain_validation() {
    // The server's own key is pinned, but its certificate is self-signed: still refused,
    // and for the certificate, not the pin.
    let leaf = self_signed_leaf("127.0.0.1");
    let pin = pin_of_key(&leaf.key);
    let server = serve_leaf(&leaf, &[]);
    let tls = TlsOptions::new().with_pins([&pin, UNRELATED_PIN]).unwrap();
    assert_refused(
        request(server, tls),
        rejected(CertificateProblem::UnknownIssuer),
    );
}

#[test]
fn a_pinned_key_on_an_expired_certificate_is_still_refused() {
    let root = ca("mission root");
    let leaf = leaf("127.0.0.1", Validity::Expired, &root);
    let pin = pin_of_key(&leaf.key);
    let server = serve_leaf(&leaf, &[]);
    assert_refused(
        request(server, pinned(&root, [&pin, UNRELATED_PIN])),
        rejected(CertificateProblem::Expired),
    );
}

#[test]
fn a_pinned_certificate_sent_outside_the_verified_chain_does_not_count() {
    // An interceptor with a certificate from a CA the device trusts appends the real
    // server's (public) pinned intermediate to its chain. The pin is checked only on the
    // path that was verified, so the extra certificate does not help.
    let real_root = ca("real root");
    let real_mid = intermediate("real issuing CA", &real_root);
    let other_root = ca("another trusted root");
    let forged = leaf("127.0.0.1", Validity::Current, &other_root);
    let pin = pin_of_issuer(&real_mid);
    let server = serve_leaf(&forged, &[&real_mid]);
    let tls = TlsOptions::new()
        .with_trust_roots([real_root.der(), other_root.der()])
        .unwrap()
        .with_pins([&pin, UNRELATED_PIN])
        .unwrap();
    assert_refused(request(server, tls), TransportError::PinMismatch);
}

// --- plain http -----------------------------------------------------------------------------

#[test]
fn plain_http_to_a_host_other_than_this_device_is_refused_before_connecting() {
    for url in [
        "http://mission.example.org",
        "http://localhost.evil.com",
        "http://127.0.0.1.nip.io:8080",
        "http://10.0.0.1",
    ] {
        assert_eq!(
            HttpsTransport::new(url).unwrap_err(),
            TransportError::InsecureUrl,
            "{url}"
        );
    }
}

#[test]
fn plain_http_to_this_device_is_allowed_only_without_pins_or_roots() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let root = ca("mission root");
    let pins = TlsOptions::new()
        .with_pins([
            UNRELATED_PIN,
            "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ])
        .unwrap();
    for tls in [trusting(&root), pins] {
        let refused = HttpsTransport::builder(&url).tls(tls).build().unwrap_err();
        assert_eq!(refused, TransportError::InsecureUrl);
    }
    // Nothing tried to connect.
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err());
    assert!(HttpsTransport::new(&url).is_ok());
    assert!(HttpsTransport::new("http://[::1]:8080").is_ok());
}

#[test]
fn an_https_address_never_falls_back_to_plain_http() {
    // A plain HTTP server where https was asked for: the TLS handshake fails, and the
    // server gets a ClientHello, never a readable request.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let server = std::thread::spawn(move || {
        let (mut tcp, _): (TcpStream, _) = listener.accept().unwrap();
        let mut first = [0u8; 5];
        tcp.read_exact(&mut first).unwrap();
        let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        first
    });
    let result = transport(&url, TlsOptions::new()).send(health());
    assert!(
        matches!(result, Err(TransportError::Network { ref reason }) if reason == "tls"),
        "{result:?}"
    );
    // 0x16: a TLS handshake record, not `GET /`.
    assert_eq!(server.join().unwrap()[0], 0x16);
}
