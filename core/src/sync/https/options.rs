//! What the HTTPS transport trusts beyond the public Web PKI: a mission's own certificate
//! authority, and the keys the server's chain must contain (pinning).

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use super::pin::SpkiPin;
use crate::sync::transport::TransportError;

/// Trust settings of [`super::HttpsTransport`]. The default trusts the public Web PKI (the
/// Mozilla root store, built into the library) and pins nothing.
///
/// Pins are checked in addition to the normal validation, never instead of it: a chain must
/// first be valid (dates, host name, signatures, up to a trusted root), then hold a pinned key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    pins: Vec<SpkiPin>,
    extra_roots: Vec<CertificateDer<'static>>,
}

impl TlsOptions {
    /// Trust the public Web PKI, pin nothing.
    pub fn new() -> TlsOptions {
        TlsOptions::default()
    }

    /// Requires the server's verified chain to hold one of `pins` (`sha256/<base64>`, see
    /// [`SpkiPin`]). At least two distinct pins: the key in use and a backup key kept
    /// offline, so that losing or rotating one key does not cut every device off. An empty
    /// list turns pinning off.
    pub fn with_pins<S: AsRef<str>>(
        mut self,
        pins: impl IntoIterator<Item = S>,
    ) -> Result<TlsOptions, TransportError> {
        let mut parsed = Vec::new();
        for (index, pin) in pins.into_iter().enumerate() {
            let pin = SpkiPin::parse(pin.as_ref(), index)?;
            if !parsed.contains(&pin) {
                parsed.push(pin);
            }
        }
        if parsed.len() == 1 {
            return Err(TransportError::TooFewPins { given: 1 });
        }
        self.pins = parsed;
        Ok(self)
    }

    /// Also trusts the certificate authorities in `roots` (each DER, or PEM holding one or
    /// more certificates): a mission running its own CA. The public roots stay trusted.
    pub fn with_trust_roots<B: AsRef<[u8]>>(
        mut self,
        roots: impl IntoIterator<Item = B>,
    ) -> Result<TlsOptions, TransportError> {
        for (index, root) in roots.into_iter().enumerate() {
            let invalid = TransportError::InvalidTrustRoot { index };
            let bytes = root.as_ref();
            let certs: Vec<CertificateDer<'static>> = if bytes.starts_with(b"-----BEGIN") {
                CertificateDer::pem_slice_iter(bytes)
                    .collect::<Result<_, _>>()
                    .map_err(|_| invalid.clone())?
            } else {
                vec![CertificateDer::from(bytes.to_vec())]
            };
            if certs.is_empty() {
                return Err(invalid);
            }
            for cert in certs {
                // Parsed now so that a bad root is refused here, not silently dropped later.
                webpki::anchor_from_trusted_cert(&cert).map_err(|_| invalid.clone())?;
                self.extra_roots.push(cert);
            }
        }
        Ok(self)
    }

    /// The pins, empty when pinning is off.
    pub fn pins(&self) -> &[SpkiPin] {
        &self.pins
    }

    /// Whether anything differs from the default (public Web PKI, no pins).
    pub fn is_default(&self) -> bool {
        self.pins.is_empty() && self.extra_roots.is_empty()
    }

    pub(super) fn extra_roots(&self) -> &[CertificateDer<'static>] {
        &self.extra_roots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    const B: &str = "sha256/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=";

    #[test]
    fn a_single_pin_without_a_backup_is_refused() {
        assert_eq!(
            TlsOptions::new().with_pins([A]),
            Err(TransportError::TooFewPins { given: 1 })
        );
        // The same pin twice is still one key.
        assert_eq!(
            TlsOptions::new().with_pins([A, A]),
            Err(TransportError::TooFewPins { given: 1 })
        );
        assert_eq!(
            TlsOptions::new().with_pins([A, B]).map(|o| o.pins.len()),
            Ok(2)
        );
        assert_eq!(
            TlsOptions::new().with_pins(Vec::<String>::new()),
            Ok(TlsOptions::new())
        );
    }

    #[test]
    fn a_root_that_is_not_a_certificate_is_refused_with_its_index() {
        let pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(
            TlsOptions::new().with_trust_roots([&b"not a certificate"[..], &pem[..]]),
            Err(TransportError::InvalidTrustRoot { index: 0 })
        );
        assert_eq!(
            TlsOptions::new().with_trust_roots([&b"-----BEGIN nothing"[..]]),
            Err(TransportError::InvalidTrustRoot { index: 0 })
        );
    }
}
