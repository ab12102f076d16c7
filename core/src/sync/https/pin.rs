//! SPKI pins in the HPKP / OkHttp notation: `sha256/` and the base64 of the SHA-256 of a
//! certificate's DER-encoded SubjectPublicKeyInfo. A pin names a key, not a certificate, so
//! it survives the server's certificate being renewed with the same key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::sync::transport::TransportError;

const PREFIX: &str = "sha256/";

/// The SHA-256 of one SubjectPublicKeyInfo, written `sha256/<base64>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpkiPin([u8; 32]);

impl SpkiPin {
    /// Reads `sha256/<base64 of 32 bytes>`; anything else is
    /// [`TransportError::InvalidPin`] with `index` (the pin's place in the caller's list).
    pub fn parse(pin: &str, index: usize) -> Result<SpkiPin, TransportError> {
        let invalid = TransportError::InvalidPin { index };
        let encoded = pin.trim().strip_prefix(PREFIX).ok_or(invalid.clone())?;
        let bytes = STANDARD.decode(encoded).map_err(|_| invalid.clone())?;
        let digest: [u8; 32] = bytes.try_into().map_err(|_| invalid)?;
        Ok(SpkiPin(digest))
    }

    /// The pin of a DER-encoded SubjectPublicKeyInfo (outer `SEQUENCE` included).
    pub fn of_spki(spki_der: &[u8]) -> SpkiPin {
        SpkiPin(Sha256::digest(spki_der).into())
    }

    /// The pin of the key in a DER-encoded X.509 certificate, or `None` if it does not parse.
    pub fn of_certificate(certificate_der: &[u8]) -> Option<SpkiPin> {
        let der = rustls::pki_types::CertificateDer::from(certificate_der);
        let cert = webpki::EndEntityCert::try_from(&der).ok()?;
        Some(SpkiPin::of_spki(&cert.subject_public_key_info()))
    }

    /// The pin of a trust anchor's key. webpki keeps an anchor's SubjectPublicKeyInfo
    /// without its outer `SEQUENCE` header, so it is put back first: the pin must be the
    /// same one `openssl` computes from the root certificate.
    pub(super) fn of_spki_contents(contents: &[u8]) -> SpkiPin {
        let mut der = Vec::with_capacity(contents.len() + 6);
        der.push(0x30);
        let len = contents.len();
        if len < 0x80 {
            der.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            der.push(0x80 | (bytes.len() - skip) as u8);
            der.extend_from_slice(&bytes[skip..]);
        }
        der.extend_from_slice(contents);
        SpkiPin::of_spki(&der)
    }
}

impl std::fmt::Display for SpkiPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{PREFIX}{}", STANDARD.encode(self.0))
    }
}

impl std::fmt::Debug for SpkiPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_reads_back_as_written() {
        let pin = SpkiPin::of_spki(b"key");
        assert_eq!(SpkiPin::parse(&pin.to_string(), 0), Ok(pin));
        assert!(pin.to_string().starts_with("sha256/"));
    }

    #[test]
    fn malformed_pins_are_refused_with_their_index() {
        let bad = TransportError::InvalidPin { index: 3 };
        // No prefix, another hash, not base64, a digest of the wrong length.
        for pin in [
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "sha1/AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "sha256/not base64!",
            "sha256/AAAA",
        ] {
            assert_eq!(SpkiPin::parse(pin, 3), Err(bad.clone()), "{pin}");
        }
    }

    #[test]
    fn an_anchor_pin_equals_the_pin_of_the_whole_spki() {
        // Short form and long form lengths both rebuild the same DER.
        for len in [10usize, 0x7f, 0x80, 300, 70_000] {
            let contents = vec![7u8; len];
            let mut der = vec![0x30];
            if len < 0x80 {
                der.push(len as u8);
            } else if len < 0x100 {
                der.extend([0x81, len as u8]);
            } else if len < 0x1_0000 {
                der.extend([0x82, (len >> 8) as u8, len as u8]);
            } else {
                der.extend([0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8]);
            }
            der.extend(&contents);
            assert_eq!(
                SpkiPin::of_spki_contents(&contents),
                SpkiPin::of_spki(&der),
                "{len}"
            );
        }
    }
}
