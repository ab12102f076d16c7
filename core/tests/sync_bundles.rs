//! Reference bundles: a device that pinned the mission root key at enrolment applies
//! teams, checklists and referral services only from a bundle that key signed, newer than
//! the last one; anything else changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_support;

use chrono::Utc;
use common::key;
use fieldconsult_core::{Error, NoProgress, Store};
use fieldconsult_model::crypto::bundle::SignedBundle;
use fieldconsult_model::crypto::sign::SigningKey;
use fieldconsult_model::wire::Record;
use fieldconsult_model::{ChecklistTemplate, Role, Team, TeamId};
use sync_support::FakeServer;

fn root() -> SigningKey {
    SigningKey::from_seed(&[42; 32])
}

fn team(name: &str) -> Team {
    Team {
        id: TeamId::new(),
        name: name.to_owned(),
        sector: "North".to_owned(),
    }
}

fn bundle(sequence: u64, records: Vec<Record>, key: &SigningKey) -> Record {
    Record::Bundle(Box::new(SignedBundle::sign(
        sequence,
        Utc::now().fixed_offset(),
        records,
        key,
    )))
}

/// A device enrolled with a server announcing the mission root key.
fn pinned() -> (tempfile::TempDir, Store, FakeServer) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("db"), &key(7)).unwrap();
    let server = FakeServer::new(Role::Reviewer {
        sector: "North".into(),
    });
    server.state.lock().unwrap().root_key = Some(root().public_key());
    let fingerprint = root().public_key().fingerprint();
    store
        .enrol(&server, "CODE", "GFP tablet", Some(&fingerprint))
        .unwrap();
    (dir, store, server)
}

#[test]
fn a_bundle_signed_by_the_pinned_root_key_is_applied() {
    let (_dir, store, server) = pinned();
    let a = team("Team A");
    server.insert(bundle(
        1,
        vec![
            Record::Team(a.clone()),
            Record::Checklist(ChecklistTemplate::default_v1()),
        ],
        &root(),
    ));
    store.sync(&server, &NoProgress).unwrap();
    assert_eq!(store.teams().unwrap(), vec![a]);
    assert!(store.checklist(1).is_ok());
}

#[test]
fn a_bare_reference_record_changes_nothing_on_a_pinned_device() {
    let (_dir, store, server) = pinned();
    server.insert(Record::Team(team("Team A")));
    server.insert(Record::Checklist(ChecklistTemplate::default_v1()));
    store.sync(&server, &NoProgress).unwrap();
    assert!(store.teams().unwrap().is_empty());
    assert!(store.latest_checklist().unwrap().is_none());
}

#[test]
fn a_bundle_signed_by_another_key_changes_nothing() {
    let (_dir, store, server) = pinned();
    let impostor = SigningKey::from_seed(&[43; 32]);
    server.insert(bundle(1, vec![Record::Team(team("Team A"))], &impostor));
    store.sync(&server, &NoProgress).unwrap();
    assert!(store.teams().unwrap().is_empty());
}

#[test]
fn a_bundle_altered_after_signing_changes_nothing() {
    let (_dir, store, server) = pinned();
    let Record::Bundle(mut b) = bundle(1, vec![Record::Team(team("Team A"))], &root()) else {
        unreachable!()
    };
    b.records.push(Record::Team(team("Team Impostor")));
    server.insert(Record::Bundle(b));
    store.sync(&server, &NoProgress).unwrap();
    assert!(store.teams().unwrap().is_empty());
}

#[test]
fn an_older_bundle_cannot_roll_reference_data_back() {
    let (_dir, store, server) = pinned();
    let mut renamed = team("Team A");
    let old = bundle(1, vec![Record::Team(renamed.clone())], &root());
    renamed.name = "Team A (renamed)".to_owned();
    server.insert(bundle(2, vec![Record::Team(renamed.clone())], &root()));
    store.sync(&server, &NoProgress).unwrap();
    assert_eq!(store.teams().unwrap(), vec![renamed.clone()]);
    // The genuine, validly signed bundle 1 served again afterwards.
    server.insert(old);
    store.sync(&server, &NoProgress).unwrap();
    assert_eq!(store.teams().unwrap(), vec![renamed]);
}

#[test]
fn a_device_that_pinned_no_key_ignores_bundles_it_cannot_verify() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("db"), &key(7)).unwrap();
    let server = FakeServer::new(Role::Reviewer {
        sector: "North".into(),
    });
    store.enrol(&server, "CODE", "tablet", None).unwrap();
    server.insert(bundle(1, vec![Record::Team(team("Team A"))], &root()));
    store.sync(&server, &NoProgress).unwrap();
    assert!(store.teams().unwrap().is_empty());
}

#[test]
fn enrolment_refuses_a_server_whose_root_key_is_not_the_one_in_the_qr_code() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("db"), &key(7)).unwrap();
    let server = FakeServer::new(Role::Reviewer {
        sector: "North".into(),
    });
    let expected = root().public_key().fingerprint();
    // No root key at all.
    assert!(matches!(
        store.enrol(&server, "CODE", "tablet", Some(&expected)),
        Err(Error::RootKeyMismatch)
    ));
    // Another root key.
    server.state.lock().unwrap().root_key = Some(SigningKey::from_seed(&[1; 32]).public_key());
    assert!(matches!(
        store.enrol(&server, "CODE", "tablet", Some(&expected)),
        Err(Error::RootKeyMismatch)
    ));
    assert!(store.enrolment().unwrap().is_none(), "nothing stored");
    // The right one, fingerprint typed in upper case.
    server.state.lock().unwrap().root_key = Some(root().public_key());
    store
        .enrol(&server, "CODE", "tablet", Some(&expected.to_uppercase()))
        .unwrap();
    assert!(store.enrolment().unwrap().is_some());
}

/// The keys a sector's notes are sealed to decide who can read them: a server that swaps in
/// its own key must not reach a pinned device, and the genuine keys arrive only signed.
#[test]
fn sealing_keys_reach_a_pinned_device_only_in_a_signed_bundle() {
    use fieldconsult_model::SealingKeys;
    use fieldconsult_model::crypto::seal::RecipientSecret;
    let keys = |seed: u8| SealingKeys {
        sector: "North".to_owned(),
        focal_point_keys: vec![RecipientSecret::derive(&[seed; 32]).public_key().clone()],
        escrow_key: None,
    };
    let (_dir, store, server) = pinned();
    server.insert(Record::SealingKeys(keys(66)));
    store.sync(&server, &NoProgress).unwrap();
    assert_eq!(
        store.sealing_keys("North").unwrap(),
        None,
        "a bare key was taken"
    );

    server.insert(bundle(1, vec![Record::SealingKeys(keys(1))], &root()));
    store.sync(&server, &NoProgress).unwrap();
    assert_eq!(store.sealing_keys("North").unwrap(), Some(keys(1)));
}
