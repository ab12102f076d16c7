//! Ed25519 signatures (RFC 8032): a device signs every change it pushes, the mission root
//! key signs reference bundles (see [`super::bundle`]).
//!
//! What is signed is never a record's JSON but a canonical byte string: a domain tag (so a
//! signature made for one purpose can never be replayed as another), then each field as a
//! 4-byte big-endian length and its bytes (so no two field lists frame to the same bytes).
//! Keys, signatures and nonces travel as lowercase hex.
//!
//! Verification is `verify_strict`: it refuses the malleable and small-order encodings that
//! plain RFC 8032 verification lets through, so one change has one valid signature per key.

use std::fmt;

use ed25519_dalek::{Signer, SigningKey as DalekSigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Bytes of an Ed25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Bytes of an Ed25519 secret seed.
pub const SEED_LEN: usize = 32;
/// Bytes of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Bytes of a change nonce.
pub const NONCE_LEN: usize = 16;

/// Domain tag of a pushed change's signed bytes.
const PUSH_CHANGE_TAG: &[u8] = b"FieldConsult push change v1\0";
/// Domain tag of the key a device derives its change nonces from.
const NONCE_KEY_TAG: &[u8] = b"FieldConsult change nonce key v1\0";

/// Why a key, signature or nonce was refused. Names what, never the bytes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// Not the expected number of hex characters, or not hex.
    #[error("{what} must be {expected} lowercase hex characters")]
    BadHex {
        /// What was being read (`public key`, `signature`, `nonce`).
        what: &'static str,
        /// How many hex characters it takes.
        expected: usize,
    },
    /// Bytes that are no Ed25519 public key (not a curve point).
    #[error("public key is not a valid Ed25519 point")]
    BadKey,
    /// The signature does not verify against the key for these bytes.
    #[error("signature does not verify")]
    BadSignature,
}

/// An Ed25519 public key: a device's (registered at enrolment) or the mission root's.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; PUBLIC_KEY_LEN]);

impl PublicKey {
    /// The key with these bytes, if they are a curve point.
    pub fn from_bytes(bytes: [u8; PUBLIC_KEY_LEN]) -> Result<Self, SignError> {
        VerifyingKey::from_bytes(&bytes).map_err(|_| SignError::BadKey)?;
        Ok(PublicKey(bytes))
    }

    /// The key from its hex form.
    pub fn from_hex(hex: &str) -> Result<Self, SignError> {
        Self::from_bytes(from_hex(hex, "public key")?)
    }

    /// The key's 32 bytes.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.0
    }

    /// The key as lowercase hex (its wire form).
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    /// SHA-256 (hex) of the key's bytes: short enough for an enrolment QR code and for an
    /// admin to read out, and what a device compares before trusting a key it was sent.
    pub fn fingerprint(&self) -> String {
        to_hex(&Sha256::digest(self.0))
    }

    /// Checks `signature` over the framed `parts` under the domain `tag`.
    pub(crate) fn verify_framed(
        &self,
        tag: &[u8],
        parts: &[&[u8]],
        signature: &Signature,
    ) -> Result<(), SignError> {
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| SignError::BadKey)?;
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(&framed(tag, parts), &sig)
            .map_err(|_| SignError::BadSignature)
    }

    /// Checks a device's signature of one pushed change.
    pub fn verify_change(
        &self,
        change: &SignedChange<'_>,
        signature: &Signature,
    ) -> Result<(), SignError> {
        self.verify_framed(PUSH_CHANGE_TAG, &change.parts(), signature)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

/// An Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; SIGNATURE_LEN]);

impl Signature {
    /// The signature with these bytes (checked only when verified).
    pub fn from_bytes(bytes: [u8; SIGNATURE_LEN]) -> Self {
        Signature(bytes)
    }

    /// The signature from its hex form.
    pub fn from_hex(hex: &str) -> Result<Self, SignError> {
        Ok(Signature(from_hex(hex, "signature")?))
    }

    /// The signature's 64 bytes.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        self.0
    }

    /// The signature as lowercase hex (its wire form).
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_hex())
    }
}

/// Identifies one signed change of one device: the same change sent again carries the same
/// nonce (a retry is recognised as such), and the server refuses a nonce it has seen with
/// other signed content (a replay dressed up as something else).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChangeNonce([u8; NONCE_LEN]);

impl ChangeNonce {
    /// The nonce with these bytes.
    pub fn from_bytes(bytes: [u8; NONCE_LEN]) -> Self {
        ChangeNonce(bytes)
    }

    /// The nonce from its hex form.
    pub fn from_hex(hex: &str) -> Result<Self, SignError> {
        Ok(ChangeNonce(from_hex(hex, "nonce")?))
    }

    /// The nonce's bytes.
    pub fn to_bytes(&self) -> [u8; NONCE_LEN] {
        self.0
    }

    /// The nonce as lowercase hex (its wire form).
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }
}

impl fmt::Debug for ChangeNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChangeNonce({})", self.to_hex())
    }
}

/// The fields of one pushed change that its signature covers: who sent it, which change it
/// is, what it says and what it was built on. Changing any of them voids the signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedChange<'a> {
    /// The sending device's id, as the server issued it.
    pub device_id: &'a str,
    /// The change's nonce.
    pub nonce: &'a ChangeNonce,
    /// The record's kind code (`session`, `visit`, ...).
    pub kind: &'a str,
    /// The record's id.
    pub id: &'a str,
    /// The record's content hash ([`crate::wire::content_hash`]).
    pub content_hash: &'a str,
    /// The hash of the server version the edit was built on.
    pub base_hash: Option<&'a str>,
}

impl SignedChange<'_> {
    fn parts(&self) -> [&[u8]; 6] {
        // A missing base hash frames as an empty field: no real hash is empty.
        [
            self.device_id.as_bytes(),
            &self.nonce.0[..],
            self.kind.as_bytes(),
            self.id.as_bytes(),
            self.content_hash.as_bytes(),
            self.base_hash.unwrap_or("").as_bytes(),
        ]
    }

    /// The exact bytes a device signs for this change.
    pub fn message(&self) -> Vec<u8> {
        framed(PUSH_CHANGE_TAG, &self.parts())
    }

    /// SHA-256 (hex) of [`SignedChange::message`] without the nonce: what the server
    /// remembers per nonce to tell a retry (same content) from a replay (other content).
    pub fn content_digest(&self) -> String {
        let [device, _, kind, id, hash, base] = self.parts();
        to_hex(&Sha256::digest(framed(
            PUSH_CHANGE_TAG,
            &[device, kind, id, hash, base],
        )))
    }
}

/// An Ed25519 secret key. Its bytes are wiped when it is dropped and never printed.
pub struct SigningKey(DalekSigningKey);

impl SigningKey {
    /// The key from its 32-byte secret seed (kept by the caller in the encrypted store or a
    /// 0600 file; generated from the operating system's random source).
    pub fn from_seed(seed: &[u8; SEED_LEN]) -> Self {
        SigningKey(DalekSigningKey::from_bytes(seed))
    }

    /// The secret seed, to store; wiped when the returned value is dropped.
    pub fn seed(&self) -> Zeroizing<[u8; SEED_LEN]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs the framed `parts` under the domain `tag`.
    pub(crate) fn sign_framed(&self, tag: &[u8], parts: &[&[u8]]) -> Signature {
        Signature(self.0.sign(&framed(tag, parts)).to_bytes())
    }

    /// The nonce of a change: derived from the change's content with a key only this
    /// device holds, so the same outbox change sent again — after a lost answer or an
    /// interrupted sync — carries the same nonce without the device storing one, while any
    /// other content (another version, another base) gets another nonce.
    pub fn change_nonce(
        &self,
        device_id: &str,
        kind: &str,
        id: &str,
        content_hash: &str,
        base_hash: Option<&str>,
    ) -> ChangeNonce {
        let seed = self.seed();
        let mut key_hasher = Sha256::new();
        key_hasher.update(NONCE_KEY_TAG);
        key_hasher.update(&seed[..]);
        let mut nonce_key = Zeroizing::new([0u8; 32]);
        nonce_key.copy_from_slice(&key_hasher.finalize());
        let mut hasher = Sha256::new();
        hasher.update(&nonce_key[..]);
        hasher.update(framed(
            PUSH_CHANGE_TAG,
            &[
                device_id.as_bytes(),
                kind.as_bytes(),
                id.as_bytes(),
                content_hash.as_bytes(),
                base_hash.unwrap_or("").as_bytes(),
            ],
        ));
        let digest = hasher.finalize();
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&digest[..NONCE_LEN]);
        ChangeNonce(nonce)
    }

    /// Signs one pushed change.
    pub fn sign_change(&self, change: &SignedChange<'_>) -> Signature {
        self.sign_framed(PUSH_CHANGE_TAG, &change.parts())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(public {})", self.public_key().to_hex())
    }
}

/// The domain tag, then each part as a 4-byte big-endian length and its bytes.
fn framed(tag: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(tag.len() + parts.iter().map(|p| 4 + p.len()).sum::<usize>());
    out.extend_from_slice(tag);
    for part in parts {
        // Parts are ids, hashes and records of at most a few megabytes.
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Exactly `N` bytes of lowercase hex: one spelling per value, so that the signed bytes and
/// what the server remembers cannot differ by letter case.
fn from_hex<const N: usize>(hex: &str, what: &'static str) -> Result<[u8; N], SignError> {
    let bad = SignError::BadHex {
        what,
        expected: N * 2,
    };
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let raw = hex.as_bytes();
    if raw.len() != N * 2 {
        return Err(bad);
    }
    let mut out = [0u8; N];
    for (i, pair) in raw.chunks_exact(2).enumerate() {
        match (digit(pair[0]), digit(pair[1])) {
            (Some(hi), Some(lo)) => out[i] = (hi << 4) | lo,
            _ => return Err(bad),
        }
    }
    Ok(out)
}

macro_rules! hex_serde {
    ($ty:ident) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let hex = String::deserialize(d)?;
                $ty::from_hex(&hex).map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_serde!(PublicKey);
hex_serde!(Signature);
hex_serde!(ChangeNonce);
