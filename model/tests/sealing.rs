//! Sealed fields: the RFC 9180 test vectors of the suite, tampering, moving a sealed field,
//! recipients, and a round trip over arbitrary text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use fieldconsult_model::crypto::seal::{
    self, Aead, Kdf, Kem, RecipientKey, RecipientSecret, SEAL_VERSION, SealContext, SealError,
    SealedField, from_hex, open, open_base, seal_base_with_ikm, to_hex,
};
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    let clean: String = s.split_whitespace().collect();
    from_hex(&clean).unwrap()
}

/// RFC 9180 Appendix A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base
/// mode (mode 0, kem_id 32, kdf_id 1, aead_id 3).
mod a_2_1 {
    pub const INFO: &str = "4f6465206f6e2061204772656369616e2055726e";
    pub const IKM_E: &str = "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b";
    pub const PK_EM: &str = "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a";
    pub const SK_EM: &str = "f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600";
    pub const IKM_R: &str = "1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df";
    pub const PK_RM: &str = "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a";
    pub const SK_RM: &str = "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb";
    pub const ENC: &str = "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a";
    pub const PT: &str = "4265617574792069732074727574682c20747275746820626561757479";
    /// (sequence number, aad, ct)
    pub const ENCRYPTIONS: &[(u64, &str, &str)] = &[
        (
            0,
            "436f756e742d30",
            "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28",
        ),
        (
            1,
            "436f756e742d31",
            "6b53c051e4199c518de79594e1c4ab18b96f081549d45ce015be002090bb119e85285337cc95ba5f59992dc98c",
        ),
        (
            2,
            "436f756e742d32",
            "71146bd6795ccc9c49ce25dda112a48f202ad220559502cef1f34271e0cb4b02b4f10ecac6f48c32f878fae86b",
        ),
        (
            4,
            "436f756e742d34",
            "63357a2aa291f5a4e5f27db6baa2af8cf77427c7c1a909e0b37214dd47db122bb153495ff0b02e9e54a50dbe16",
        ),
        (
            255,
            "436f756e742d323535",
            "18ab939d63ddec9f6ac2b60d61d36a7375d2070c9b683861110757062c52b8880a5f6b3936da9cd6c23ef2a95c",
        ),
        (
            256,
            "436f756e742d323536",
            "7a4a13e9ef23978e2c520fd4d2e757514ae160cd0cd05e556ef692370ca53076214c0c40d4c728d6ed9e727a5b",
        ),
    ];
}

/// The X25519 scalar of a serialised secret key (RFC 7748 clamping): the RFC lists secrets
/// unclamped, the crate stores them clamped; both are the same key.
fn clamped(sk: &str) -> String {
    let mut b = hex(sk);
    b[0] &= 0xf8;
    b[31] &= 0x7f;
    b[31] |= 0x40;
    to_hex(&b)
}

#[test]
fn rfc9180_a21_recipient_and_ephemeral_key_pairs_derive_from_their_ikm() {
    let r = RecipientSecret::derive(&hex(a_2_1::IKM_R));
    assert_eq!(r.public_key().to_hex(), a_2_1::PK_RM);
    assert_eq!(to_hex(r.to_bytes().as_ref()), clamped(a_2_1::SK_RM));
    let e = RecipientSecret::derive(&hex(a_2_1::IKM_E));
    assert_eq!(e.public_key().to_hex(), a_2_1::PK_EM);
    assert_eq!(to_hex(e.to_bytes().as_ref()), clamped(a_2_1::SK_EM));
    // The unclamped secret of the RFC, read as a stored secret, is the same key pair.
    let from_rfc = RecipientSecret::from_bytes(&hex(a_2_1::SK_RM)).unwrap();
    assert_eq!(from_rfc.public_key().to_hex(), a_2_1::PK_RM);
    // A secret stored and read back is the same key pair.
    let back = RecipientSecret::from_bytes(r.to_bytes().as_ref()).unwrap();
    assert_eq!(back.public_key(), r.public_key());
}

#[test]
fn rfc9180_a21_first_encryption_seals_and_opens_exactly_as_the_rfc_says() {
    let r = RecipientSecret::derive(&hex(a_2_1::IKM_R));
    let ikm_e: [u8; 32] = hex(a_2_1::IKM_E).try_into().unwrap();
    let (_, aad, ct) = a_2_1::ENCRYPTIONS[0];
    let (enc, sealed) = seal_base_with_ikm(
        r.public_key(),
        &ikm_e,
        &hex(a_2_1::INFO),
        &hex(aad),
        &hex(a_2_1::PT),
    )
    .unwrap();
    assert_eq!(to_hex(&enc), a_2_1::ENC, "enc = pkEm");
    assert_eq!(to_hex(&sealed), ct);
    let opened = open_base(&r, &hex(a_2_1::ENC), &hex(a_2_1::INFO), &hex(aad), &hex(ct)).unwrap();
    assert_eq!(to_hex(&opened), a_2_1::PT);
}

/// Every listed encryption of the RFC is at a sequence number of one context: the suite the
/// code uses (`seal::{Kem, Kdf, Aead}`), set up from the vector's keys, must produce each
/// listed ciphertext on the sender side and open each on the receiver side.
#[test]
fn rfc9180_a21_every_listed_ciphertext_opens_with_its_aad() {
    let (sk_r, pk_r) = Kem::derive_keypair(&hex(a_2_1::IKM_R));
    assert_eq!(to_hex(&pk_r.to_bytes()), a_2_1::PK_RM);
    let info = hex(a_2_1::INFO);
    let pt = hex(a_2_1::PT);
    let enc_bytes = hex(a_2_1::ENC);
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&enc_bytes).unwrap();
    let mut receiver =
        hpke::setup_receiver::<Aead, Kdf, Kem>(&OpModeR::Base, &sk_r, &enc, &info).unwrap();

    // The sender's context from ikmE, to make the ciphertexts of unlisted sequence numbers.
    struct Ikm(Vec<u8>);
    impl hpke::rand_core::TryRng for Ikm {
        type Error = std::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            unreachable!("the suite asks only for key bytes")
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            unreachable!("the suite asks only for key bytes")
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            let n = dst.len();
            dst.copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(())
        }
    }
    impl hpke::rand_core::TryCryptoRng for Ikm {}
    let (sender_enc, mut sender) = hpke::setup_sender_with_rng::<Aead, Kdf, Kem>(
        &OpModeS::Base,
        &pk_r,
        &info,
        &mut Ikm(hex(a_2_1::IKM_E)),
    )
    .unwrap();
    assert_eq!(to_hex(&sender_enc.to_bytes()), a_2_1::ENC);

    let mut opened = 0;
    for seq in 0..=256u64 {
        let listed = a_2_1::ENCRYPTIONS.iter().find(|(n, _, _)| *n == seq);
        let aad = match listed {
            Some((_, aad, _)) => hex(aad),
            None => format!("Count-{seq}").into_bytes(),
        };
        let made = sender.seal(&pt, &aad).unwrap();
        let ct = match listed {
            Some((_, _, ct)) => {
                assert_eq!(to_hex(&made), *ct, "sequence number {seq}");
                hex(ct)
            }
            None => made,
        };
        let plain = receiver.open(&ct, &aad).unwrap();
        assert_eq!(plain, pt, "sequence number {seq}");
        opened += usize::from(listed.is_some());
    }
    assert_eq!(opened, a_2_1::ENCRYPTIONS.len());
}

fn ctx(id: &str) -> SealContext<'_> {
    SealContext {
        kind: "session",
        id,
        field: "sensitive_note",
    }
}

const SESSION: &str = "0190c7a6-0000-7000-8000-000000000001";
const OTHER_SESSION: &str = "0190c7a6-0000-7000-8000-000000000002";

fn sealed_to(reader: &RecipientSecret, text: &str) -> SealedField {
    seal::seal(text, &ctx(SESSION), &[reader.public_key().clone()]).unwrap()
}

#[test]
fn sealed_note_opens_for_its_recipient_on_its_own_record() {
    let reader = RecipientSecret::generate().unwrap();
    let sealed = sealed_to(&reader, "she asked that her name stay out");
    assert_eq!(sealed.version, SEAL_VERSION);
    assert_eq!(sealed.field, "sensitive_note");
    assert_eq!(sealed.copies.len(), 1);
    assert_eq!(sealed.copies[0].key_id, reader.public_key().key_id());
    let json = serde_json::to_string(&sealed).unwrap();
    assert!(!json.contains("her name"), "only ciphertext in the JSON");
    let opened = open(&sealed, &ctx(SESSION), &reader).unwrap();
    assert_eq!(opened.as_str(), "she asked that her name stay out");
}

#[test]
fn every_flipped_byte_of_enc_and_of_the_ciphertext_is_rejected() {
    let reader = RecipientSecret::generate().unwrap();
    let sealed = sealed_to(&reader, "a note of some length, to have many bytes to flip");
    for part in ["enc", "ct"] {
        let original = {
            let c = &sealed.copies[0];
            BASE64
                .decode(if part == "enc" { &c.enc } else { &c.ct })
                .unwrap()
        };
        for i in 0..original.len() {
            for bit in [0x01u8, 0x80] {
                let mut bytes = original.clone();
                bytes[i] ^= bit;
                let mut tampered = sealed.clone();
                let encoded = BASE64.encode(&bytes);
                if part == "enc" {
                    tampered.copies[0].enc = encoded;
                } else {
                    tampered.copies[0].ct = encoded;
                }
                let err = open(&tampered, &ctx(SESSION), &reader).unwrap_err();
                assert_eq!(err, SealError::Tampered, "{part} byte {i} bit {bit:#x}");
            }
        }
    }
}

#[test]
fn sealed_note_moved_to_another_session_fails_to_open() {
    let reader = RecipientSecret::generate().unwrap();
    let sealed = sealed_to(&reader, "moved");
    assert_eq!(
        open(&sealed, &ctx(OTHER_SESSION), &reader).unwrap_err(),
        SealError::Tampered
    );
    let as_visit = SealContext {
        kind: "visit",
        ..ctx(SESSION)
    };
    assert_eq!(
        open(&sealed, &as_visit, &reader).unwrap_err(),
        SealError::Tampered
    );
}

#[test]
fn sealed_note_moved_to_another_field_fails_to_open() {
    let reader = RecipientSecret::generate().unwrap();
    let sealed = sealed_to(&reader, "moved");
    let other_field = SealContext {
        field: "comment",
        ..ctx(SESSION)
    };
    assert_eq!(
        open(&sealed, &other_field, &reader).unwrap_err(),
        SealError::Tampered
    );
    // Relabelling the field inside the sealed value does not help: the AAD still differs.
    let mut relabelled = sealed.clone();
    relabelled.field = "comment".into();
    assert_eq!(
        open(&relabelled, &other_field, &reader).unwrap_err(),
        SealError::Tampered
    );
}

#[test]
fn sealed_note_relabelled_with_another_version_fails_to_open() {
    let reader = RecipientSecret::generate().unwrap();
    let mut sealed = sealed_to(&reader, "v");
    sealed.version = SEAL_VERSION + 1;
    assert!(matches!(
        open(&sealed, &ctx(SESSION), &reader).unwrap_err(),
        SealError::Malformed { what: "version" }
    ));
    // And the version is in the AAD: the same ciphertext under another version's AAD fails.
    let sealed = sealed_to(&reader, "v");
    let c = &sealed.copies[0];
    let wrong_aad = seal::aad(&ctx(SESSION), SEAL_VERSION + 1);
    assert_eq!(
        open_base(
            &reader,
            &BASE64.decode(&c.enc).unwrap(),
            seal::DOMAIN.as_bytes(),
            &wrong_aad,
            &BASE64.decode(&c.ct).unwrap(),
        )
        .unwrap_err(),
        SealError::Tampered
    );
}

#[test]
fn the_escrow_key_opens_its_own_copy_too() {
    let focal_point = RecipientSecret::generate().unwrap();
    let escrow = RecipientSecret::generate().unwrap();
    let sealed = seal::seal(
        "for both",
        &ctx(SESSION),
        &[
            focal_point.public_key().clone(),
            escrow.public_key().clone(),
        ],
    )
    .unwrap();
    assert_eq!(sealed.copies.len(), 2);
    assert_eq!(
        open(&sealed, &ctx(SESSION), &focal_point).unwrap().as_str(),
        "for both"
    );
    assert_eq!(
        open(&sealed, &ctx(SESSION), &escrow).unwrap().as_str(),
        "for both"
    );
}

#[test]
fn a_key_not_among_the_recipients_gets_a_clear_error() {
    let reader = RecipientSecret::generate().unwrap();
    let stranger = RecipientSecret::generate().unwrap();
    let sealed = sealed_to(&reader, "not for you");
    let err = open(&sealed, &ctx(SESSION), &stranger).unwrap_err();
    assert_eq!(
        err,
        SealError::NoCopyForKey {
            key_id: stranger.public_key().key_id()
        }
    );
    assert!(err.to_string().contains(&stranger.public_key().key_id()));
    assert!(!err.to_string().contains("not for you"));
    // A copy relabelled with the stranger's key id still does not open for the stranger.
    let mut relabelled = sealed.clone();
    relabelled.copies[0].key_id = stranger.public_key().key_id();
    assert_eq!(
        open(&relabelled, &ctx(SESSION), &stranger).unwrap_err(),
        SealError::Tampered
    );
}

#[test]
fn sealing_needs_a_recipient_and_refuses_malformed_keys() {
    assert_eq!(
        seal::seal("x", &ctx(SESSION), &[]).unwrap_err(),
        SealError::NoRecipients
    );
    assert!(RecipientKey::from_hex("zz").is_err());
    assert!(RecipientKey::from_hex(&"00".repeat(32)).is_err());
    assert!(RecipientKey::from_hex(&"ab".repeat(31)).is_err());
    let k = RecipientSecret::generate().unwrap();
    let hex = k.public_key().to_hex();
    assert_eq!(
        &RecipientKey::from_hex(&hex.to_uppercase()).unwrap(),
        k.public_key()
    );
    // On the wire a key is its hex string.
    let json = serde_json::to_string(k.public_key()).unwrap();
    assert_eq!(json, format!("\"{hex}\""));
    assert!(serde_json::from_str::<RecipientKey>("\"nothex\"").is_err());
    // Debug output names the key id, never a secret.
    assert!(!format!("{k:?}").contains(&to_hex(k.to_bytes().as_ref())));
}

#[test]
fn malformed_sealed_values_are_malformed_not_panics() {
    let reader = RecipientSecret::generate().unwrap();
    let good = sealed_to(&reader, "x");
    let mut bad_b64 = good.clone();
    bad_b64.copies[0].enc = "***".into();
    assert!(matches!(
        open(&bad_b64, &ctx(SESSION), &reader).unwrap_err(),
        SealError::Malformed { what: "enc" }
    ));
    let mut short = good.clone();
    short.copies[0].ct = BASE64.encode([1u8; 3]);
    assert!(matches!(
        open(&short, &ctx(SESSION), &reader).unwrap_err(),
        SealError::Malformed { what: "ct" }
    ));
    assert!(seal::check_shape(&good, "sensitive_note").is_ok());
    assert!(seal::check_shape(&bad_b64, "sensitive_note").is_err());
    assert!(seal::check_shape(&good, "comment").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_text_round_trips_and_only_ciphertext_is_kept(text in "\\PC{0,300}") {
        let reader = RecipientSecret::generate().unwrap();
        let sealed = sealed_to(&reader, &text);
        let opened = open(&sealed, &ctx(SESSION), &reader).unwrap();
        prop_assert_eq!(opened.as_str(), text.as_str());
        if text.len() >= 8 {
            let json = serde_json::to_string(&sealed).unwrap();
            prop_assert!(!json.contains(&text));
        }
    }
}

mod rules {
    use super::*;
    use fieldconsult_model::validation::{
        Completeness, ValidationContext, validate_sent_session, validate_session,
    };
    use fieldconsult_model::{Group, Problem, Session, Status, VisitId};

    fn session(status: Status, note: &str) -> Session {
        let mut t = chrono::Utc::now().fixed_offset();
        fieldconsult_model::time::round_to_stored_precision(&mut t);
        let mut s = Session::new_draft(VisitId::new(), Group::Women, t);
        s.status = status;
        s.sensitive_note = note.into();
        s
    }

    #[test]
    fn a_submitted_or_accepted_session_never_holds_a_plaintext_note() {
        let ctx = ValidationContext::now();
        for status in [Status::Submitted, Status::Accepted] {
            let err =
                validate_session(&session(status, "plain"), Completeness::Draft, &ctx).unwrap_err();
            assert_eq!(err.problem("sensitive_note"), Some(&Problem::NotSealed));
        }
        // Being written on its device, a draft or a returned session may hold one ...
        for status in [Status::Draft, Status::Returned] {
            let s = session(status, "NOTE-7q");
            assert!(validate_session(&s, Completeness::Draft, &ctx).is_ok());
            // ... but never sends it, whatever the status.
            let err = validate_sent_session(&s).unwrap_err();
            assert_eq!(err.problem("sensitive_note"), Some(&Problem::NotSealed));
            assert!(!err.to_string().contains("NOTE-7q"));
        }
        assert!(validate_sent_session(&session(Status::Submitted, "")).is_ok());
    }

    #[test]
    fn a_sealed_note_of_another_field_or_shape_is_invalid() {
        let ctx = ValidationContext::now();
        let reader = RecipientSecret::generate().unwrap();
        let mut s = session(Status::Submitted, "");
        let id = s.id.to_string();
        s.sealed_note =
            Some(seal::seal("x", &ctx_for(&id), &[reader.public_key().clone()]).unwrap());
        assert!(validate_session(&s, Completeness::Draft, &ctx).is_ok());
        let mut other = s.clone();
        if let Some(n) = other.sealed_note.as_mut() {
            n.field = "comment".into();
        }
        let err = validate_session(&other, Completeness::Draft, &ctx).unwrap_err();
        assert_eq!(err.problem("sealed_note"), Some(&Problem::InvalidFormat));
        // Without the `sealed_note` key, a session's JSON (and so its hash) is unchanged.
        let mut plain = s.clone();
        plain.sealed_note = None;
        assert!(
            !serde_json::to_string(&plain)
                .unwrap()
                .contains("sealed_note")
        );
    }

    #[test]
    fn a_referral_service_travels_only_sealed_and_the_referral_stays_visible() {
        let ctx = ValidationContext::now();
        let service = fieldconsult_model::ReferralServiceId::new();
        let mut draft = session(Status::Draft, "");
        draft.referral = Some(fieldconsult_model::Referral::to(service));
        assert!(validate_session(&draft, Completeness::Draft, &ctx).is_ok());
        let err = validate_sent_session(&draft).unwrap_err();
        assert_eq!(
            err.problem("referral.service_id"),
            Some(&Problem::NotSealed)
        );
        assert!(!err.to_string().contains(&service.to_string()));
        // As sent, the referral is still offered, with no trace of the service.
        let sent = draft.as_sent(DEVICE_A);
        assert!(validate_sent_session(&sent).is_ok());
        assert!(sent.referral.is_some());
        assert!(
            !serde_json::to_string(&sent)
                .unwrap()
                .contains(&service.to_string())
        );
        for status in [Status::Submitted, Status::Accepted] {
            let mut s = draft.clone();
            s.status = status;
            let err = validate_session(&s, Completeness::Draft, &ctx).unwrap_err();
            assert_eq!(
                err.problem("referral.service_id"),
                Some(&Problem::NotSealed)
            );
        }
    }

    #[test]
    fn a_sealed_referral_service_of_another_field_is_invalid() {
        let ctx = ValidationContext::now();
        let reader = RecipientSecret::generate().unwrap();
        let mut s = session(Status::Submitted, "");
        let id = s.id.to_string();
        let sealed = seal::seal(
            "0190c7a6-0000-7000-8000-00000000abcd",
            &SealContext::referral_service(&id),
            &[reader.public_key().clone()],
        )
        .unwrap();
        assert_eq!(sealed.field, "referral.service_id");
        s.referral = Some(fieldconsult_model::Referral {
            service_id: None,
            sealed_service_id: Some(sealed.clone()),
        });
        assert!(validate_session(&s, Completeness::Draft, &ctx).is_ok());
        assert!(validate_sent_session(&s).is_ok());
        // The note's seal in the referral's place is refused, and does not open there.
        let as_note = seal::seal("x", &ctx_for(&id), &[reader.public_key().clone()]).unwrap();
        let mut swapped = s.clone();
        if let Some(r) = swapped.referral.as_mut() {
            r.sealed_service_id = Some(as_note.clone());
        }
        let err = validate_session(&swapped, Completeness::Draft, &ctx).unwrap_err();
        assert_eq!(
            err.problem("referral.sealed_service_id"),
            Some(&Problem::InvalidFormat)
        );
        let mut relabelled = as_note;
        relabelled.field = "referral.service_id".into();
        assert_eq!(
            open(&relabelled, &SealContext::referral_service(&id), &reader).unwrap_err(),
            SealError::Tampered
        );
        assert_eq!(
            open(&sealed, &SealContext::referral_service(&id), &reader)
                .unwrap()
                .as_str(),
            "0190c7a6-0000-7000-8000-00000000abcd"
        );
    }

    #[test]
    fn a_referral_offered_names_its_service_plain_or_sealed_to_be_submitted() {
        let checklist = fieldconsult_model::ChecklistTemplate::default_v1();
        let ctx = ValidationContext::now();
        let mut s = session(Status::Draft, "");
        s.referral = Some(fieldconsult_model::Referral::default());
        let err = validate_session(&s, Completeness::Submit(&checklist), &ctx).unwrap_err();
        assert_eq!(err.problem("referral.service_id"), Some(&Problem::Required));
        s.referral = Some(fieldconsult_model::Referral::to(
            fieldconsult_model::ReferralServiceId::new(),
        ));
        let err = validate_session(&s, Completeness::Submit(&checklist), &ctx).unwrap_err();
        assert_eq!(err.problem("referral.service_id"), None);
    }

    const DEVICE_A: &str = "0193a5e2-7c1d-7b3e-9f00-00000000000a";
    const DEVICE_B: &str = "0193a5e2-7c1d-7b3e-9f00-00000000000b";

    #[test]
    fn a_draft_travels_listing_the_devices_that_hold_plaintext_to_seal() {
        use fieldconsult_model::validation::{WarningKind, session_warnings};
        let plain = session(Status::Draft, "");
        assert!(plain.as_sent(DEVICE_A).plaintext_held_by.is_empty());
        assert!(
            !serde_json::to_string(&plain.as_sent(DEVICE_A))
                .unwrap()
                .contains("plaintext_held_by"),
            "sessions no device holds plaintext of keep their JSON and hash"
        );
        let blank = session(Status::Draft, " \n ").as_sent(DEVICE_A);
        assert!(blank.plaintext_held_by.is_empty());
        let noted = session(Status::Draft, "n").as_sent(DEVICE_A);
        assert_eq!(noted.plaintext_held_by, [DEVICE_A.to_owned()].into());
        let mut referred = plain.clone();
        referred.referral = Some(fieldconsult_model::Referral::to(
            fieldconsult_model::ReferralServiceId::new(),
        ));
        let sent = referred.as_sent(DEVICE_A);
        assert_eq!(sent.plaintext_held_by, [DEVICE_A.to_owned()].into());
        // Device B, holding nothing, keeps A listed when it sends its own edit; holding a
        // note of its own, it lists itself beside A.
        assert_eq!(
            sent.as_sent(DEVICE_B).plaintext_held_by,
            [DEVICE_A.to_owned()].into()
        );
        let mut b_noted = sent.clone();
        b_noted.sensitive_note = "B's own".into();
        assert_eq!(
            b_noted.as_sent(DEVICE_B).plaintext_held_by,
            [DEVICE_A.to_owned(), DEVICE_B.to_owned()].into()
        );
        // A device that no longer holds plaintext takes itself off.
        assert!(sent.as_sent(DEVICE_A).plaintext_held_by.is_empty());
        let kinds: Vec<WarningKind> = session_warnings(&sent)
            .into_iter()
            .map(|w| w.kind)
            .collect();
        assert_eq!(kinds, [WarningKind::PlaintextElsewhere]);
        assert!(
            session_warnings(&referred).is_empty(),
            "not on its own device"
        );
    }

    #[test]
    fn the_devices_listed_as_holding_plaintext_are_few_well_formed_ids_and_none_once_submitted() {
        let ctx = ValidationContext::now();
        let mut s = session(Status::Draft, "");
        s.plaintext_held_by = [DEVICE_A.to_owned()].into();
        assert!(validate_session(&s, Completeness::Draft, &ctx).is_ok());
        s.plaintext_held_by = ["".to_owned(), "a device\n".to_owned(), "x".repeat(65)].into();
        let err = validate_session(&s, Completeness::Draft, &ctx).unwrap_err();
        for i in 0..3 {
            assert_eq!(
                err.problem(&format!("plaintext_held_by[{i}]")),
                Some(&Problem::InvalidFormat)
            );
        }
        s.plaintext_held_by = (0..17).map(|i| format!("device-{i}")).collect();
        let err = validate_session(&s, Completeness::Draft, &ctx).unwrap_err();
        assert_eq!(
            err.problem("plaintext_held_by"),
            Some(&Problem::TooLong {
                max: 16,
                actual: 17
            })
        );
        let mut submitted = session(Status::Submitted, "");
        submitted.plaintext_held_by = [DEVICE_A.to_owned()].into();
        let err = validate_session(&submitted, Completeness::Draft, &ctx).unwrap_err();
        assert_eq!(
            err.problem("plaintext_held_by"),
            Some(&Problem::MustBeEmpty)
        );
    }

    fn ctx_for(id: &str) -> SealContext<'_> {
        SealContext {
            kind: "session",
            id,
            field: "sensitive_note",
        }
    }
}
