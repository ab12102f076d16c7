//! The core's HTTPS transport as the app reaches it: trust settings through `TlsOptions`,
//! and a refused server as its own error case, never a retryable `Network` error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::sync::Arc;

use fieldconsult_ffi::{FieldConsultError, FieldConsultStore, TlsOptions};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const PIN_A: &str = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const PIN_B: &str = "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

struct Mission {
    root_der: Vec<u8>,
    leaf_der: CertificateDer<'static>,
    leaf_key: KeyPair,
}

fn mission() -> Mission {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &root)
        .unwrap();
    Mission {
        root_der: root.der().to_vec(),
        leaf_der: leaf.der().clone(),
        leaf_key,
    }
}

/// A TLS server for one connection; returns its URL. It answers nothing: every call here
/// is refused during the handshake.
fn serve(m: &Mission) -> String {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(m.leaf_key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![m.leaf_der.clone()], key)
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut tls = rustls::ServerConnection::new(Arc::new(config)).unwrap();
        while tls.is_handshaking() && tls.complete_io(&mut tcp).is_ok() {}
    });
    url
}

fn store() -> (tempfile::TempDir, Arc<FieldConsultStore>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fc.db").to_string_lossy().into_owned();
    let store = FieldConsultStore::open(path, Some(vec![3; 32]), false).unwrap();
    (dir, store)
}

#[test]
fn an_untrusted_server_is_certificate_rejected_not_a_network_error() {
    let m = mission();
    let (_dir, store) = store();
    let err = store
        .enrol(serve(&m), "CODE".into(), "tablet".into(), None, None)
        .unwrap_err();
    assert!(
        matches!(err, FieldConsultError::CertificateRejected { ref problem } if problem == "unknown_issuer"),
        "{err:?}"
    );
}

#[test]
fn a_trusted_server_without_a_pinned_key_is_pin_mismatch() {
    let m = mission();
    let (_dir, store) = store();
    let tls = TlsOptions {
        pins: vec![PIN_A.into(), PIN_B.into()],
        trust_roots: vec![m.root_der.clone()],
    };
    let err = store
        .enrol(serve(&m), "CODE".into(), "tablet".into(), Some(tls), None)
        .unwrap_err();
    assert!(matches!(err, FieldConsultError::PinMismatch), "{err:?}");
}

#[test]
fn malformed_tls_options_are_refused_before_connecting() {
    let (_dir, store) = store();
    // Nothing listens on this port, so only the options can be at fault.
    let url = "https://127.0.0.1:9".to_owned();
    for (tls, expected) in [
        (
            TlsOptions {
                pins: vec![PIN_A.into(), "sha1/xyz".into()],
                trust_roots: Vec::new(),
            },
            "pin 1",
        ),
        (
            TlsOptions {
                pins: vec![PIN_A.into()],
                trust_roots: Vec::new(),
            },
            "at least two",
        ),
        (
            TlsOptions {
                pins: Vec::new(),
                trust_roots: vec![b"not a certificate".to_vec()],
            },
            "trust root 0",
        ),
    ] {
        let err = store
            .enrol(url.clone(), "CODE".into(), "tablet".into(), Some(tls), None)
            .unwrap_err();
        assert!(
            matches!(err, FieldConsultError::InvalidTlsOptions { ref reason } if reason.contains(expected)),
            "{err:?}"
        );
    }
}
