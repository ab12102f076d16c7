//! The mission root key and the reference bundles it signs (issue 7).
//!
//! The root key's secret lives in a file only the admin reads (0600), ideally on a machine
//! other than the server: `root-key generate` writes it, `bundle sign` reads it to sign the
//! server's current reference data. The server keeps only the public half, which it hands
//! to devices at enrolment; devices then take reference data only from bundles it verifies.

use std::path::Path;

use chrono::Utc;
use fieldconsult_model::crypto::bundle::{BUNDLE_ID, SignedBundle};
use fieldconsult_model::crypto::sign::{PublicKey, SEED_LEN, SigningKey};
use fieldconsult_model::wire::Record;
use zeroize::Zeroizing;

use crate::key_file::{KeyFileError, create_secret_file, read_secret_file};
use crate::storage::{Storage, StorageError};

/// Why a root key or bundle operation failed. Never carries key bytes.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The key file could not be written or read.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The key file does not hold a root key (64 lowercase hex characters).
    #[error("the root key file does not hold a root key (64 lowercase hex characters)")]
    BadKeyFile,
    /// The server already registered another root key: devices pinned that one.
    #[error("this server's mission root key is {registered}, not the key in the file")]
    OtherRootKey {
        /// Fingerprint of the registered key.
        registered: String,
    },
}

impl From<KeyFileError> for BundleError {
    fn from(e: KeyFileError) -> Self {
        match e {
            KeyFileError::Io { what, source } => BundleError::Io { what, source },
            KeyFileError::NotAKey => BundleError::BadKeyFile,
        }
    }
}

/// Generates a mission root key, writes its secret seed as hex to `out` (a new file,
/// readable by its owner only) and returns the public half.
pub fn generate_root_key(out: &Path) -> Result<PublicKey, BundleError> {
    let mut seed = Zeroizing::new([0u8; SEED_LEN]);
    getrandom::fill(&mut seed[..]).map_err(|_| BundleError::Io {
        what: "read the random source",
        source: std::io::Error::other("the operating system's random source failed"),
    })?;
    let key = SigningKey::from_seed(&seed);
    // Never overwrite a root key: devices pinned its public half.
    create_secret_file(out, &seed)?;
    Ok(key.public_key())
}

/// Reads the root key written by [`generate_root_key`].
pub fn read_root_key(path: &Path) -> Result<SigningKey, BundleError> {
    let seed = read_secret_file(path)?;
    Ok(SigningKey::from_seed(&seed))
}

/// Signs every reference record the server holds now (teams, communities, checklists, the
/// referral directory and any other kind [`Record::is_reference`] admits) as the next
/// bundle, and stores it for devices to pull. The first bundle registers the root key's
/// public half; a bundle signed with another key is refused.
pub fn sign_bundle(storage: &dyn Storage, root: &SigningKey) -> Result<SignedBundle, BundleError> {
    let public = root.public_key();
    if !storage.register_root_key(&public)? {
        let registered = storage
            .root_key()?
            .map(|k| k.fingerprint())
            .unwrap_or_default();
        return Err(BundleError::OtherRootKey { registered });
    }
    let sequence = match storage.get_record("bundle", BUNDLE_ID)? {
        Some(stored) => match stored.record {
            Record::Bundle(b) => b.sequence + 1,
            _ => 1,
        },
        None => 1,
    };
    let records: Vec<Record> = storage
        .reference_records()?
        .into_iter()
        .filter(Record::is_reference)
        .collect();
    let bundle = SignedBundle::sign(sequence, Utc::now().fixed_offset(), records, root);
    storage.put_reference(&[Record::Bundle(Box::new(bundle.clone()))], false)?;
    Ok(bundle)
}
