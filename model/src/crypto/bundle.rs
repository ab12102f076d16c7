//! Reference bundles signed by the mission's root key: teams, communities, checklists, the
//! referral directory and any other reference record, as one snapshot a device applies only
//! when the signature verifies against the root key it pinned at enrolment and the sequence
//! is higher than the last one it applied (so an old bundle cannot be replayed to roll
//! reference data back).
//!
//! The root key's secret stays with the mission admin (a 0600 file on the admin's machine,
//! used by `fieldconsult-server bundle sign`); the server only relays bundles, so a server
//! operator cannot slip a reviewer key or a referral service to devices.

use serde::{Deserialize, Serialize};

use super::sign::{PublicKey, SignError, Signature, SigningKey};
use crate::time::Timestamp;
use crate::wire::{Record, content_hash};

/// Domain tag of a bundle's signed bytes.
const BUNDLE_TAG: &[u8] = b"FieldConsult reference bundle v1\0";

/// The one id every bundle travels under: a newer bundle replaces the older one.
pub const BUNDLE_ID: &str = "mission";

/// A snapshot of the mission's reference data, signed by the mission root key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedBundle {
    /// Position in the mission's bundles; each new bundle has a higher one.
    pub sequence: u64,
    /// When the admin signed it.
    pub issued_at: Timestamp,
    /// The reference records it carries ([`Record::is_reference`]), each complete.
    pub records: Vec<Record>,
    /// The root key's signature of the sequence, the time and the records' content hash.
    pub signature: Signature,
}

impl SignedBundle {
    /// Signs `records` as bundle number `sequence`, issued at `issued_at`.
    pub fn sign(
        sequence: u64,
        issued_at: Timestamp,
        records: Vec<Record>,
        root: &SigningKey,
    ) -> Self {
        let [seq, at, hash] = parts(sequence, &issued_at, &records);
        let signature = root.sign_framed(BUNDLE_TAG, &[&seq, &at, &hash]);
        SignedBundle {
            sequence,
            issued_at,
            records,
            signature,
        }
    }

    /// Checks the signature against the mission root key `root`.
    pub fn verify(&self, root: &PublicKey) -> Result<(), SignError> {
        let [seq, at, hash] = parts(self.sequence, &self.issued_at, &self.records);
        root.verify_framed(BUNDLE_TAG, &[&seq, &at, &hash], &self.signature)
    }
}

/// The signed fields: the sequence (8 bytes, big-endian), the time as RFC 3339 and the
/// records' content hash (their JSON serialises deterministically; see
/// [`crate::wire::content_hash`]).
fn parts(sequence: u64, issued_at: &Timestamp, records: &[Record]) -> [Vec<u8>; 3] {
    [
        sequence.to_be_bytes().to_vec(),
        issued_at.to_rfc3339().into_bytes(),
        content_hash(&records).into_bytes(),
    ]
}
