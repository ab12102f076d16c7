//! Ed25519 signatures of pushed changes: the primitive against RFC 8032, every signed field
//! bound, the wire form.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::{Signer, SigningKey as Dalek};
use fieldconsult_model::crypto::sign::{
    ChangeNonce, PublicKey, SignError, Signature, SignedChange, SigningKey,
};
use fieldconsult_model::wire::{ChangeSignatureError, PushChange, Record};
use fieldconsult_model::{Team, TeamId};
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn arr<const N: usize>(s: &str) -> [u8; N] {
    hex(s).try_into().unwrap()
}

/// RFC 8032 section 7.1, TEST 1 to TEST 3: (secret, public, message, signature).
const RFC8032: [(&str, &str, &str, &str); 3] = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
];

#[test]
fn rfc8032_vectors_1_to_3_give_the_published_public_keys_and_signatures() {
    for (secret, public, message, signature) in RFC8032 {
        let seed: [u8; 32] = arr(secret);
        // Our key type derives the published public key from the published secret...
        let ours = SigningKey::from_seed(&seed);
        assert_eq!(ours.public_key().to_hex(), public);
        assert_eq!(PublicKey::from_hex(public).unwrap(), ours.public_key());
        // ...and the crate under it signs the published message to the published signature,
        // which verifies strictly.
        let dalek = Dalek::from_bytes(&seed);
        let sig = dalek.sign(&hex(message));
        assert_eq!(sig.to_bytes(), arr::<64>(signature));
        dalek
            .verifying_key()
            .verify_strict(&hex(message), &sig)
            .unwrap();
        assert_eq!(
            Signature::from_hex(signature).unwrap().to_bytes(),
            sig.to_bytes()
        );
    }
}

struct Fields {
    device_id: String,
    nonce: ChangeNonce,
    kind: String,
    id: String,
    content_hash: String,
    base_hash: Option<String>,
}

impl Fields {
    fn sample() -> Self {
        Fields {
            device_id: "0190a4c2-device".to_owned(),
            nonce: ChangeNonce::from_bytes([7; 16]),
            kind: "session".to_owned(),
            id: "0190a4c2-session".to_owned(),
            content_hash: "ab".repeat(32),
            base_hash: Some("cd".repeat(32)),
        }
    }

    fn signed(&self) -> SignedChange<'_> {
        SignedChange {
            device_id: &self.device_id,
            nonce: &self.nonce,
            kind: &self.kind,
            id: &self.id,
            content_hash: &self.content_hash,
            base_hash: self.base_hash.as_deref(),
        }
    }
}

fn key(n: u8) -> SigningKey {
    SigningKey::from_seed(&[n; 32])
}

fn flip_each_byte(s: &str) -> Vec<String> {
    // Every byte position replaced by another character (the string stays UTF-8).
    (0..s.len())
        .map(|i| {
            let mut b = s.as_bytes().to_vec();
            b[i] = if b[i] == b'x' { b'y' } else { b'x' };
            String::from_utf8(b).unwrap()
        })
        .collect()
}

#[test]
fn a_change_signature_verifies_with_the_signers_public_key_only() {
    let f = Fields::sample();
    let sig = key(1).sign_change(&f.signed());
    key(1)
        .public_key()
        .verify_change(&f.signed(), &sig)
        .unwrap();
    assert_eq!(
        key(2).public_key().verify_change(&f.signed(), &sig),
        Err(SignError::BadSignature)
    );
}

#[test]
fn every_flipped_bit_of_a_signature_is_rejected() {
    let f = Fields::sample();
    let public = key(1).public_key();
    let good = key(1).sign_change(&f.signed()).to_bytes();
    for i in 0..64 {
        for bit in 0..8 {
            let mut bad = good;
            bad[i] ^= 1 << bit;
            assert_eq!(
                public.verify_change(&f.signed(), &Signature::from_bytes(bad)),
                Err(SignError::BadSignature),
                "byte {i} bit {bit}"
            );
        }
    }
}

#[test]
fn every_flipped_byte_of_every_signed_field_is_rejected() {
    let f = Fields::sample();
    let public = key(1).public_key();
    let sig = key(1).sign_change(&f.signed());
    let mut altered: Vec<(String, Fields)> = Vec::new();
    for v in flip_each_byte(&f.device_id) {
        altered.push((
            "device_id".into(),
            Fields {
                device_id: v,
                ..Fields::sample()
            },
        ));
    }
    for i in 0..16 {
        let mut n = f.nonce.to_bytes();
        n[i] ^= 0x01;
        let nonce = ChangeNonce::from_bytes(n);
        altered.push((
            format!("nonce {i}"),
            Fields {
                nonce,
                ..Fields::sample()
            },
        ));
    }
    for v in flip_each_byte(&f.kind) {
        altered.push((
            "kind".into(),
            Fields {
                kind: v,
                ..Fields::sample()
            },
        ));
    }
    for v in flip_each_byte(&f.id) {
        altered.push((
            "id".into(),
            Fields {
                id: v,
                ..Fields::sample()
            },
        ));
    }
    for v in flip_each_byte(&f.content_hash) {
        altered.push((
            "content_hash".into(),
            Fields {
                content_hash: v,
                ..Fields::sample()
            },
        ));
    }
    for v in flip_each_byte(f.base_hash.as_deref().unwrap()) {
        altered.push((
            "base_hash".into(),
            Fields {
                base_hash: Some(v),
                ..Fields::sample()
            },
        ));
    }
    altered.push((
        "base_hash removed".into(),
        Fields {
            base_hash: None,
            ..Fields::sample()
        },
    ));
    // Moving bytes from one field to the next keeps the concatenation: framing must tell.
    altered.push((
        "boundary".into(),
        Fields {
            kind: "sessio".into(),
            id: format!("n{}", f.id),
            ..Fields::sample()
        },
    ));
    let expected = f.device_id.len() + 16 + f.kind.len() + f.id.len() + 64 + 64 + 2;
    assert_eq!(altered.len(), expected);
    for (what, a) in &altered {
        assert_eq!(
            public.verify_change(&a.signed(), &sig),
            Err(SignError::BadSignature),
            "{what}"
        );
    }
}

#[test]
fn the_same_change_gets_the_same_nonce_and_any_other_content_another() {
    let k = key(3);
    let n = |hash: &str, base: Option<&str>| k.change_nonce("dev", "visit", "v1", hash, base);
    assert_eq!(n("aa", None), n("aa", None));
    assert_ne!(n("aa", None), n("bb", None));
    assert_ne!(n("aa", None), n("aa", Some("cc")));
    assert_ne!(
        n("aa", None),
        key(4).change_nonce("dev", "visit", "v1", "aa", None)
    );
}

fn team_record(name: &str) -> Record {
    Record::Team(Team {
        id: TeamId(fieldconsult_model::ids::Uuid::from_u128(42)),
        name: name.to_owned(),
        sector: "West".to_owned(),
    })
}

#[test]
fn a_signed_push_change_survives_its_json_and_verifies() {
    let record = team_record("Team A");
    let hash = record.hash();
    let change = PushChange::signed(record, &hash, Some("ef".repeat(32)), "dev-1", &key(5));
    let json = serde_json::to_string(&change).unwrap();
    let back: PushChange = serde_json::from_str(&json).unwrap();
    let verified = back.verify("dev-1", &key(5).public_key()).unwrap();
    assert_eq!(Some(verified.nonce), change.nonce);
}

#[test]
fn a_push_change_altered_after_signing_or_from_another_device_does_not_verify() {
    let record = team_record("Team A");
    let hash = record.hash();
    let change = PushChange::signed(record, &hash, None, "dev-1", &key(5));
    let public = key(5).public_key();

    let mut altered = change.clone();
    altered.record = team_record("Team B");
    assert_eq!(
        altered.verify("dev-1", &public),
        Err(ChangeSignatureError::BadSignature)
    );
    let mut rebased = change.clone();
    rebased.base_hash = Some("00".repeat(32));
    assert_eq!(
        rebased.verify("dev-1", &public),
        Err(ChangeSignatureError::BadSignature)
    );
    assert_eq!(
        change.verify("dev-2", &public),
        Err(ChangeSignatureError::BadSignature)
    );
    assert_eq!(
        change.verify("dev-1", &key(6).public_key()),
        Err(ChangeSignatureError::BadSignature)
    );
    let unsigned = PushChange {
        signature: None,
        ..change.clone()
    };
    assert_eq!(
        unsigned.verify("dev-1", &public),
        Err(ChangeSignatureError::Unsigned)
    );
    let no_nonce = PushChange {
        nonce: None,
        ..change
    };
    assert_eq!(
        no_nonce.verify("dev-1", &public),
        Err(ChangeSignatureError::Unsigned)
    );
}

#[test]
fn keys_signatures_and_nonces_accept_only_exact_lowercase_hex() {
    let public = key(1).public_key().to_hex();
    assert!(PublicKey::from_hex(&public).is_ok());
    assert!(matches!(
        PublicKey::from_hex(&public.to_uppercase()),
        Err(SignError::BadHex { .. })
    ));
    assert!(PublicKey::from_hex(&public[..62]).is_err());
    assert!(Signature::from_hex(&"0".repeat(127)).is_err());
    assert!(ChangeNonce::from_hex(&"g".repeat(32)).is_err());
    assert!(serde_json::from_str::<PublicKey>("\"zz\"").is_err());
    // Not every 32 bytes are a curve point.
    let not_a_point = (0..=255u8)
        .map(|b| [b; 32])
        .find(|b| PublicKey::from_bytes(*b).is_err());
    assert!(not_a_point.is_some());
}

#[test]
fn a_signing_key_never_prints_its_secret() {
    let seed = [0x5a; 32];
    let printed = format!("{:?}", SigningKey::from_seed(&seed));
    assert!(!printed.contains("5a5a5a5a"), "{printed}");
}

proptest! {
    // Signing in a debug build is slow; 64 cases still cover lengths 0 to 40.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_change_signed_by_any_key_verifies_and_round_trips(
        seed in any::<[u8; 32]>(),
        nonce in any::<[u8; 16]>(),
        device_id in "[a-z0-9-]{1,40}",
        kind in "[a-z_]{1,20}",
        id in "\\PC{0,40}",
        content_hash in "[0-9a-f]{64}",
        base_hash in proptest::option::of("[0-9a-f]{64}"),
    ) {
        let key = SigningKey::from_seed(&seed);
        let nonce = ChangeNonce::from_bytes(nonce);
        let change = SignedChange {
            device_id: &device_id,
            nonce: &nonce,
            kind: &kind,
            id: &id,
            content_hash: &content_hash,
            base_hash: base_hash.as_deref(),
        };
        let sig = key.sign_change(&change);
        let sig_back: Signature = serde_json::from_str(&serde_json::to_string(&sig).unwrap()).unwrap();
        let key_back: PublicKey =
            serde_json::from_str(&serde_json::to_string(&key.public_key()).unwrap()).unwrap();
        prop_assert_eq!(key_back.verify_change(&change, &sig_back), Ok(()));
        prop_assert_eq!(SigningKey::from_seed(&key.seed()).public_key(), key.public_key());
    }
}

mod bundles {
    use super::*;
    use fieldconsult_model::crypto::bundle::SignedBundle;

    fn bundle(seq: u64) -> SignedBundle {
        let at = chrono::DateTime::parse_from_rfc3339("2026-10-01T08:00:00+00:00").unwrap();
        SignedBundle::sign(seq, at, vec![team_record("Team A")], &key(9))
    }

    #[test]
    fn a_bundle_verifies_with_the_root_key_only() {
        let b = bundle(3);
        b.verify(&key(9).public_key()).unwrap();
        assert_eq!(b.verify(&key(8).public_key()), Err(SignError::BadSignature));
        let json = serde_json::to_string(&Record::Bundle(Box::new(b.clone()))).unwrap();
        let Record::Bundle(back) = serde_json::from_str(&json).unwrap() else {
            panic!("not a bundle")
        };
        back.verify(&key(9).public_key()).unwrap();
    }

    #[test]
    fn a_bundle_changed_after_signing_does_not_verify() {
        let root = key(9).public_key();
        let mut resequenced = bundle(3);
        resequenced.sequence = 4;
        let mut redated = bundle(3);
        redated.issued_at += chrono::Duration::seconds(1);
        let mut added = bundle(3);
        added.records.push(team_record("Team X"));
        let mut altered = bundle(3);
        altered.records[0] = team_record("Team B");
        let mut emptied = bundle(3);
        emptied.records.clear();
        for (what, b) in [
            ("sequence", resequenced),
            ("issued_at", redated),
            ("added record", added),
            ("altered record", altered),
            ("emptied", emptied),
        ] {
            assert_eq!(b.verify(&root), Err(SignError::BadSignature), "{what}");
        }
        // A change signature is no bundle signature (domain separation).
        let b = bundle(3);
        let mut signed_as_change = b.clone();
        signed_as_change.signature = key(9).sign_change(&Fields::sample().signed());
        assert_eq!(signed_as_change.verify(&root), Err(SignError::BadSignature));
    }
}
