//! Sealed fields: a sensitive text encrypted with HPKE (RFC 9180, base mode) to the public keys
//! of the people allowed to read it, so that the team device that wrote it, the network and
//! the mission server hold only ciphertext.
//!
//! Suite: DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305 (RFC 9180 A.2). One
//! [`SealedCopy`] per recipient: the sector's gender focal point key(s) and, when the mission
//! has one, its escrow key, so that losing a focal point's phone does not lose every note.
//!
//! The AAD binds a domain string, the record kind, the record id, the field name and the seal
//! version (each length-prefixed so that no two different tuples give the same bytes): a sealed
//! field copied into another session, into another field, or relabelled with another version
//! fails to open, exactly like a tampered byte.
//!
//! Randomness comes from the operating system through `getrandom` as a fallible call, so a
//! failing source is an error ([`SealError::Randomness`]), never a panic and never a weak key.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hpke::rand_core::{TryCryptoRng, TryRng};
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

/// The KEM of the suite: DHKEM(X25519, HKDF-SHA256).
pub type Kem = hpke::kem::X25519HkdfSha256;
/// The KDF of the suite: HKDF-SHA256.
pub type Kdf = hpke::kdf::HkdfSha256;
/// The AEAD of the suite: ChaCha20-Poly1305.
pub type Aead = hpke::aead::ChaCha20Poly1305;

/// The seal version this code writes and opens. A new suite or AAD layout gets a new version;
/// the version is bound into the AAD so an old ciphertext cannot be relabelled.
pub const SEAL_VERSION: u32 = 1;

/// Bound into every AAD and used as the HPKE `info`: a ciphertext made for another purpose
/// (or another application using the same keys) never opens as a sealed field.
pub const DOMAIN: &str = "fieldconsult/sealed-field/v1";

/// Length of a public or secret X25519 key, and of `enc`.
pub const KEY_LEN: usize = 32;

/// Most recipients one sealed field carries: focal points of a sector plus the escrow key.
pub const MAX_RECIPIENTS: usize = 8;

/// Largest plaintext sealed, in bytes: the longest note (4,000 characters) of up to four
/// UTF-8 bytes each.
pub const MAX_PLAINTEXT: usize = 16_000;

/// Length of the AEAD tag appended to every ciphertext.
pub const TAG_LEN: usize = 16;

/// Why sealing or opening failed. Messages never contain plaintext or key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// None of the sealed copies is for the key trying to open it.
    #[error("this sealed field has no copy for key {key_id}")]
    NoCopyForKey {
        /// The opener's key id.
        key_id: String,
    },
    /// The ciphertext does not open with this key for this record and field: tampered with,
    /// moved from another record or field, or relabelled.
    #[error("the sealed field does not open: tampered with, or moved from another record or field")]
    Tampered,
    /// A value is not what the format says (bad hex or base64, wrong length, unknown version).
    #[error("malformed sealed field: {what}")]
    Malformed {
        /// What was malformed (`enc`, `key`, `version`, ...).
        what: &'static str,
    },
    /// Nothing to seal to.
    #[error("no recipient key to seal to")]
    NoRecipients,
    /// More recipients than a sealed field carries.
    #[error("too many recipient keys ({count}; at most {MAX_RECIPIENTS})")]
    TooManyRecipients {
        /// How many were given.
        count: usize,
    },
    /// The plaintext is longer than a sealed field holds.
    #[error("the text to seal is too long ({len} bytes; at most {MAX_PLAINTEXT})")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The operating system's random source failed: nothing was sealed.
    #[error("the random source failed; nothing was sealed")]
    Randomness,
}

/// An X25519 public key that may read sealed fields, with a short id to find its copy.
/// Travels as 64 lowercase hex characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RecipientKey([u8; KEY_LEN]);

impl RecipientKey {
    /// The key from its 32 raw bytes. Refuses the all-zero key (a typo, or a key never set);
    /// other low-order points are refused by HPKE when sealing.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Result<Self, SealError> {
        if bytes == [0u8; KEY_LEN] {
            return Err(SealError::Malformed { what: "key" });
        }
        Ok(RecipientKey(bytes))
    }

    /// The key from 64 hex characters (either case).
    pub fn from_hex(hex: &str) -> Result<Self, SealError> {
        let bytes = from_hex(hex.trim()).ok_or(SealError::Malformed { what: "key" })?;
        let bytes: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| SealError::Malformed { what: "key" })?;
        Self::from_bytes(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// 64 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    /// A short id: the first 8 bytes of the SHA-256 of the key, in hex. Says which copy of
    /// a sealed field is whose without revealing anything about the key.
    pub fn key_id(&self) -> String {
        let digest = Sha256::digest(self.0);
        to_hex(&digest[..8])
    }

    fn hpke(&self) -> Result<<Kem as hpke::Kem>::PublicKey, SealError> {
        <Kem as hpke::Kem>::PublicKey::from_bytes(&self.0)
            .map_err(|_| SealError::Malformed { what: "key" })
    }
}

impl fmt::Debug for RecipientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecipientKey({})", self.key_id())
    }
}

impl fmt::Display for RecipientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl TryFrom<String> for RecipientKey {
    type Error = SealError;

    fn try_from(s: String) -> Result<Self, SealError> {
        Self::from_hex(&s)
    }
}

impl From<RecipientKey> for String {
    fn from(k: RecipientKey) -> String {
        k.to_hex()
    }
}

/// The private half of a recipient key pair. The secret is wiped from memory when this is
/// dropped (the X25519 secret zeroizes itself); it has no `Debug` output and no serde.
pub struct RecipientSecret {
    secret: <Kem as hpke::Kem>::PrivateKey,
    public: RecipientKey,
}

impl RecipientSecret {
    /// A new random key pair, from the operating system's random source.
    pub fn generate() -> Result<Self, SealError> {
        let mut ikm = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(ikm.as_mut()).map_err(|_| SealError::Randomness)?;
        Ok(Self::derive(ikm.as_ref()))
    }

    /// The key pair RFC 9180 `DeriveKeyPair` makes from `ikm` (input keying material of at
    /// least 32 bytes of entropy). Deterministic: used for the RFC's test vectors.
    pub fn derive(ikm: &[u8]) -> Self {
        let (secret, public) = Kem::derive_keypair(ikm);
        let mut bytes = [0u8; KEY_LEN];
        bytes.copy_from_slice(&public.to_bytes());
        RecipientSecret {
            secret,
            public: RecipientKey(bytes),
        }
    }

    /// The key pair of a stored secret (32 bytes, as [`RecipientSecret::to_bytes`] gave).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        let secret = <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes)
            .map_err(|_| SealError::Malformed { what: "secret key" })?;
        let public = Kem::sk_to_pk(&secret);
        let mut pk = [0u8; KEY_LEN];
        pk.copy_from_slice(&public.to_bytes());
        Ok(RecipientSecret {
            secret,
            public: RecipientKey(pk),
        })
    }

    /// The secret's 32 bytes, for the encrypted store only; wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        let mut bytes = self.secret.to_bytes();
        out.copy_from_slice(&bytes);
        bytes.zeroize();
        out
    }

    /// The public half.
    pub fn public_key(&self) -> &RecipientKey {
        &self.public
    }
}

impl fmt::Debug for RecipientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecipientSecret({})", self.public.key_id())
    }
}

/// One recipient's copy of a sealed field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedCopy {
    /// [`RecipientKey::key_id`] of the key that opens it.
    pub key_id: String,
    /// The HPKE encapsulated key (32 bytes), base64.
    pub enc: String,
    /// The ciphertext with its tag, base64.
    pub ct: String,
}

/// A field sealed to its readers: one copy per recipient key, the field it seals and the seal
/// version, both bound into the AAD of every copy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedField {
    /// Seal version ([`SEAL_VERSION`]).
    pub version: u32,
    /// Name of the field it seals ([`SENSITIVE_NOTE_FIELD`], [`REFERRAL_SERVICE_FIELD`]).
    pub field: String,
    /// One copy per recipient.
    pub copies: Vec<SealedCopy>,
}

/// What a sealed field belongs to: bound into its AAD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealContext<'a> {
    /// Record kind (`session`).
    pub kind: &'a str,
    /// Record id.
    pub id: &'a str,
    /// Field name (`sensitive_note`, `referral.service_id`).
    pub field: &'a str,
}

/// The field name of a session's sensitive note, as bound into its seal and named in errors.
pub const SENSITIVE_NOTE_FIELD: &str = "sensitive_note";

/// The field name of the service a session's referral went to, as bound into its seal and
/// named in errors: which service (a GBV clinic, say) can say what was disclosed.
pub const REFERRAL_SERVICE_FIELD: &str = "referral.service_id";

impl<'a> SealContext<'a> {
    /// The context of `field` of session `id`.
    pub fn session_field(id: &'a str, field: &'a str) -> Self {
        SealContext {
            kind: "session",
            id,
            field,
        }
    }

    /// The context of the sensitive note of session `id`.
    pub fn sensitive_note(id: &'a str) -> Self {
        Self::session_field(id, SENSITIVE_NOTE_FIELD)
    }

    /// The context of the referral service of session `id`.
    pub fn referral_service(id: &'a str) -> Self {
        Self::session_field(id, REFERRAL_SERVICE_FIELD)
    }
}

/// The AAD of a sealed field: the domain, kind, id, field and version, each prefixed with its
/// length as 4 big-endian bytes.
pub fn aad(ctx: &SealContext<'_>, version: u32) -> Vec<u8> {
    let version = version.to_string();
    let mut out = Vec::new();
    for part in [DOMAIN, ctx.kind, ctx.id, ctx.field, version.as_str()] {
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

/// Seals `plaintext` for `ctx` to every key of `recipients` (duplicates sealed once).
pub fn seal(
    plaintext: &str,
    ctx: &SealContext<'_>,
    recipients: &[RecipientKey],
) -> Result<SealedField, SealError> {
    let mut keys: Vec<&RecipientKey> = Vec::new();
    for k in recipients {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    if keys.is_empty() {
        return Err(SealError::NoRecipients);
    }
    if keys.len() > MAX_RECIPIENTS {
        return Err(SealError::TooManyRecipients { count: keys.len() });
    }
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(SealError::TooLong {
            len: plaintext.len(),
        });
    }
    let aad = aad(ctx, SEAL_VERSION);
    let mut copies = Vec::with_capacity(keys.len());
    for key in keys {
        let mut ikm = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(ikm.as_mut()).map_err(|_| SealError::Randomness)?;
        let (enc, ct) =
            seal_base_with_ikm(key, &ikm, DOMAIN.as_bytes(), &aad, plaintext.as_bytes())?;
        copies.push(SealedCopy {
            key_id: key.key_id(),
            enc: BASE64.encode(enc),
            ct: BASE64.encode(ct),
        });
    }
    Ok(SealedField {
        version: SEAL_VERSION,
        field: ctx.field.to_owned(),
        copies,
    })
}

/// Opens the copy of `sealed` made for `secret`, for `ctx`. The plaintext is wiped from
/// memory when the returned value is dropped.
pub fn open(
    sealed: &SealedField,
    ctx: &SealContext<'_>,
    secret: &RecipientSecret,
) -> Result<Zeroizing<String>, SealError> {
    if sealed.version != SEAL_VERSION {
        return Err(SealError::Malformed { what: "version" });
    }
    let key_id = secret.public_key().key_id();
    let copy = sealed
        .copies
        .iter()
        .find(|c| c.key_id == key_id)
        .ok_or(SealError::NoCopyForKey { key_id })?;
    let enc = BASE64
        .decode(&copy.enc)
        .map_err(|_| SealError::Malformed { what: "enc" })?;
    let ct = BASE64
        .decode(&copy.ct)
        .map_err(|_| SealError::Malformed { what: "ct" })?;
    // The field the note says it seals is bound too: the caller's `ctx.field` must match it,
    // and both go into the AAD through `ctx`.
    if sealed.field != ctx.field {
        return Err(SealError::Tampered);
    }
    let plaintext = open_base(
        secret,
        &enc,
        DOMAIN.as_bytes(),
        &aad(ctx, sealed.version),
        &ct,
    )?;
    let text = String::from_utf8(plaintext.to_vec()).map_err(|_| SealError::Tampered)?;
    Ok(Zeroizing::new(text))
}

/// RFC 9180 single-shot `Seal` in base mode for this suite, with the ephemeral key derived
/// from `ikm_e` (RFC 9180 `DeriveKeyPair`). `ikm_e` must be 32 fresh random bytes; fixed
/// values are for the RFC's test vectors only. Returns `(enc, ciphertext)`.
pub fn seal_base_with_ikm(
    recipient: &RecipientKey,
    ikm_e: &[u8; KEY_LEN],
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), SealError> {
    let pk = recipient.hpke()?;
    let mut rng = FixedIkm::new(ikm_e);
    let (enc, ct) = hpke::single_shot_seal_with_rng::<Aead, Kdf, Kem>(
        &OpModeS::Base,
        &pk,
        info,
        plaintext,
        aad,
        &mut rng,
    )
    .map_err(|_| SealError::Malformed { what: "key" })?;
    if rng.overdrawn {
        // The suite asked for more randomness than one X25519 key: never hand out a
        // ciphertext built on filler bytes.
        return Err(SealError::Randomness);
    }
    Ok((enc.to_bytes().to_vec(), ct))
}

/// RFC 9180 single-shot `Open` in base mode for this suite.
pub fn open_base(
    secret: &RecipientSecret,
    enc: &[u8],
    info: &[u8],
    aad: &[u8],
    ct: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    if enc.len() != KEY_LEN {
        return Err(SealError::Malformed { what: "enc" });
    }
    if ct.len() < TAG_LEN {
        return Err(SealError::Malformed { what: "ct" });
    }
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc)
        .map_err(|_| SealError::Malformed { what: "enc" })?;
    hpke::single_shot_open::<Aead, Kdf, Kem>(&OpModeR::Base, &secret.secret, &enc, info, ct, aad)
        .map(Zeroizing::new)
        .map_err(|_| SealError::Tampered)
}

/// A "random" source that hands out exactly one key's worth of bytes drawn beforehand (from
/// the OS, or a test vector's `ikmE`), so that the only random draw of a seal is a fallible
/// one. Asked for more, it gives zeros and remembers, and the seal is thrown away.
struct FixedIkm {
    bytes: [u8; KEY_LEN],
    used: usize,
    overdrawn: bool,
}

impl FixedIkm {
    fn new(ikm: &[u8; KEY_LEN]) -> Self {
        FixedIkm {
            bytes: *ikm,
            used: 0,
            overdrawn: false,
        }
    }
}

impl Drop for FixedIkm {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl TryRng for FixedIkm {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for byte in dst.iter_mut() {
            if self.used < KEY_LEN {
                *byte = self.bytes[self.used];
                self.used += 1;
            } else {
                *byte = 0;
                self.overdrawn = true;
            }
        }
        Ok(())
    }
}

impl TryCryptoRng for FixedIkm {}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of a hex string (either case); `None` if it is not hex.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Checks the shape of a sealed field without opening it (what a server can check): version,
/// field, recipient count, key ids, and decodable `enc` and `ct` of plausible lengths. Returns
/// the name of the first malformed part.
pub fn check_shape(sealed: &SealedField, field: &str) -> Result<(), SealError> {
    if sealed.version != SEAL_VERSION {
        return Err(SealError::Malformed { what: "version" });
    }
    if sealed.field != field {
        return Err(SealError::Malformed { what: "field" });
    }
    if sealed.copies.is_empty() {
        return Err(SealError::NoRecipients);
    }
    if sealed.copies.len() > MAX_RECIPIENTS {
        return Err(SealError::TooManyRecipients {
            count: sealed.copies.len(),
        });
    }
    for c in &sealed.copies {
        if c.key_id.len() != 16 || from_hex(&c.key_id).is_none() {
            return Err(SealError::Malformed { what: "key_id" });
        }
        // Base64 is 4 characters per 3 bytes: bound the text before decoding it.
        if c.enc.len() > 64 || c.ct.len() > (MAX_PLAINTEXT + TAG_LEN).div_ceil(3) * 4 {
            return Err(SealError::Malformed { what: "ct" });
        }
        match BASE64.decode(&c.enc) {
            Ok(enc) if enc.len() == KEY_LEN => {}
            _ => return Err(SealError::Malformed { what: "enc" }),
        }
        match BASE64.decode(&c.ct) {
            Ok(ct) if ct.len() >= TAG_LEN => {}
            _ => return Err(SealError::Malformed { what: "ct" }),
        }
    }
    Ok(())
}
