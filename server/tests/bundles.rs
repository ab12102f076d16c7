//! The mission root key and signed reference bundles on the server: the key file, signing
//! what the server holds, announcing the key at enrolment, relaying bundles by pull.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Server, new_change};
use fieldconsult_model::crypto::bundle::SignedBundle;
use fieldconsult_model::wire::{AckOutcome, EnrolResponse, Record, reasons};
use fieldconsult_model::{ChecklistTemplate, Role};
use fieldconsult_server::Storage;
use fieldconsult_server::bundle::{BundleError, generate_root_key, read_root_key, sign_bundle};

fn bundles_pulled(pulled: &fieldconsult_model::wire::PullResponse) -> Vec<SignedBundle> {
    pulled
        .records
        .iter()
        .filter_map(|p| match &p.record {
            Record::Bundle(b) => Some((**b).clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_generated_root_key_file_is_owner_only_never_overwritten_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("root.key");
    let public = generate_root_key(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(read_root_key(&path).unwrap().public_key(), public);
    assert!(matches!(
        generate_root_key(&path),
        Err(BundleError::Io { .. })
    ));
    assert_eq!(read_root_key(&path).unwrap().public_key(), public, "kept");
    std::fs::write(&path, "not a key\n").unwrap();
    assert!(matches!(read_root_key(&path), Err(BundleError::BadKeyFile)));
}

#[tokio::test]
async fn a_signed_bundle_carries_every_reference_record_and_devices_pull_it() {
    let server = Server::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("root.key");
    let public = generate_root_key(&path).unwrap();
    let root = read_root_key(&path).unwrap();

    // Before any bundle: no root key announced.
    let before: EnrolResponse = server
        .enrol(Role::TeamMember {
            team_id: server.team_a.id,
        })
        .await;
    assert_eq!(before.root_key, None);

    let first = sign_bundle(server.storage.as_ref(), &root).unwrap();
    assert_eq!(first.sequence, 1);
    first.verify(&public).unwrap();
    let kinds: Vec<&str> = first.records.iter().map(Record::kind).collect();
    for kind in ["team", "community", "checklist"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert_eq!(
        first.records.iter().filter(|r| r.kind() == "team").count(),
        2
    );

    // Enrolment now announces the key; a pull brings the bundle.
    let enrolled = server
        .enrol(Role::TeamMember {
            team_id: server.team_a.id,
        })
        .await;
    assert_eq!(enrolled.root_key, Some(public));
    let pulled = server.pull(&enrolled.token, 0).await;
    assert_eq!(bundles_pulled(&pulled), vec![first.clone()]);

    // A second bundle replaces the first, with a higher sequence.
    fieldconsult_server::admin::publish_checklist(
        server.storage.as_ref(),
        &ChecklistTemplate {
            version: 2,
            ..ChecklistTemplate::default_v1()
        },
    )
    .unwrap();
    let second = sign_bundle(server.storage.as_ref(), &root).unwrap();
    assert_eq!(second.sequence, 2);
    assert_eq!(second.records.len(), first.records.len() + 1);
    let pulled = server.pull(&enrolled.token, pulled.cursor).await;
    assert_eq!(bundles_pulled(&pulled), vec![second]);
}

#[tokio::test]
async fn a_bundle_signed_with_another_root_key_is_refused_by_the_server() {
    let server = Server::new();
    let dir = tempfile::tempdir().unwrap();
    generate_root_key(&dir.path().join("a.key")).unwrap();
    generate_root_key(&dir.path().join("b.key")).unwrap();
    let a = read_root_key(&dir.path().join("a.key")).unwrap();
    let b = read_root_key(&dir.path().join("b.key")).unwrap();
    sign_bundle(server.storage.as_ref(), &a).unwrap();
    assert!(matches!(
        sign_bundle(server.storage.as_ref(), &b),
        Err(BundleError::OtherRootKey { .. })
    ));
    assert_eq!(server.storage.root_key().unwrap(), Some(a.public_key()));
}

#[tokio::test]
async fn a_device_cannot_push_a_bundle() {
    let server = Server::new();
    let token = server.member(&server.team_a).await;
    let dir = tempfile::tempdir().unwrap();
    generate_root_key(&dir.path().join("root.key")).unwrap();
    let root = read_root_key(&dir.path().join("root.key")).unwrap();
    let bundle = SignedBundle::sign(7, chrono::Utc::now().fixed_offset(), Vec::new(), &root);
    let acks = server
        .push(&token, vec![new_change(Record::Bundle(Box::new(bundle)))])
        .await;
    assert_eq!(
        acks[0].outcome,
        AckOutcome::Rejected {
            reason: reasons::FORBIDDEN.to_owned(),
            problems: Vec::new(),
        }
    );
}
