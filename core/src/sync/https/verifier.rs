//! The certificate check of the HTTPS transport: rustls's WebPKI verifier first, unchanged,
//! then the SPKI pins. It runs inside the TLS handshake, so a refused server never receives
//! a byte of the request.
//!
//! Which certificates a pin may match: those of a *verified* path — the leaf, the
//! intermediates that link it to a trusted root, and that root — as OkHttp does since it
//! started cleaning the chain. Not any certificate the server sent: an attacker holding a
//! mis-issued certificate from a trusted CA could append the real server's (public)
//! intermediate to its chain, and a pin checked against the raw list would match it.
//! webpki's path builder takes a callback that may reject a candidate path, and then tries
//! the other paths; a path with a pinned key is accepted if one exists.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme};

use super::pin::SpkiPin;

/// The error a pin mismatch travels as inside rustls, recognised again by
/// [`super::transport_error`].
#[derive(Debug, thiserror::Error)]
#[error("the certificate chain holds none of the pinned keys")]
pub(super) struct PinMismatch;

/// WebPKI validation, then pins (if any).
#[derive(Debug)]
pub(super) struct PinningVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    roots: Arc<RootCertStore>,
    algorithms: WebPkiSupportedAlgorithms,
    pins: Vec<SpkiPin>,
}

impl PinningVerifier {
    pub(super) fn new(
        roots: Arc<RootCertStore>,
        provider: Arc<CryptoProvider>,
        pins: Vec<SpkiPin>,
    ) -> Result<PinningVerifier, rustls::Error> {
        let algorithms = provider.signature_verification_algorithms;
        let webpki = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider)
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))?;
        Ok(PinningVerifier {
            webpki,
            roots,
            algorithms,
            pins,
        })
    }

    /// Whether some valid path from `end_entity` to a trusted root holds a pinned key.
    fn path_holds_pin(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> bool {
        let Ok(leaf) = webpki::EndEntityCert::try_from(end_entity) else {
            return false;
        };
        let pinned = |path: &webpki::VerifiedPath<'_>| {
            let leaf = SpkiPin::of_spki(&path.end_entity().subject_public_key_info());
            let anchor = SpkiPin::of_spki_contents(&path.anchor().subject_public_key_info);
            let mut keys = [leaf, anchor].into_iter().chain(
                path.intermediate_certificates()
                    .map(|c| SpkiPin::of_spki(&c.subject_public_key_info())),
            );
            if keys.any(|key| self.pins.contains(&key)) {
                Ok(())
            } else {
                // Any non-fatal error: webpki then tries the next candidate path.
                Err(webpki::Error::UnknownIssuer)
            }
        };
        leaf.verify_for_usage(
            self.algorithms.all,
            &self.roots.roots,
            intermediates,
            now,
            webpki::KeyUsage::server_auth(),
            None,
            Some(&pinned),
        )
        .is_ok()
    }
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        if self.pins.is_empty() || self.path_holds_pin(end_entity, intermediates, now) {
            Ok(verified)
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(PinMismatch)),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}
