//! Signed pushes: the server stores a change only when it is signed, as it is, with the key
//! its device registered at enrolment, and refuses a nonce used again for other content.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Server, new_change, new_key, session_record, sign, submitted_session};
use fieldconsult_model::crypto::sign::SignedChange;
use fieldconsult_model::wire::{AckOutcome, PushChange, Record, reasons};
use fieldconsult_server::Storage;

fn rejected(outcome: &AckOutcome) -> &str {
    match outcome {
        AckOutcome::Rejected { reason, .. } => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Pushes one change as it is and returns the refusal reason (or panics).
async fn refusal(server: &Server, token: &str, change: PushChange) -> String {
    let reply = server.push_as_is(token, vec![change]).await;
    let acks: fieldconsult_model::wire::PushResponse = serde_json::from_slice(&reply.body).unwrap();
    rejected(&acks.acks[0].outcome).to_owned()
}

fn visit_count(server: &Server) -> usize {
    server.storage.records_of_kind("visit").unwrap().len()
}

#[tokio::test]
async fn an_unsigned_change_is_refused_and_nothing_is_stored() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let visit = Record::Visit(server.visit(&server.team_a));
    assert_eq!(
        refusal(&server, &a, new_change(visit.clone())).await,
        reasons::UNSIGNED
    );
    // A nonce without a signature is no better.
    let (device, key) = server.key_of(&a);
    let mut no_sig = sign(new_change(visit), &device, &key);
    no_sig.signature = None;
    assert_eq!(refusal(&server, &a, no_sig).await, reasons::UNSIGNED);
    assert_eq!(visit_count(&server), 0);
}

#[tokio::test]
async fn the_signature_is_checked_before_any_other_rule() {
    // Team A's device pushing team B's visit unsigned: refused as unsigned, not as
    // forbidden, so an unsigned change learns nothing about the rules.
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let foreign = new_change(Record::Visit(server.visit(&server.team_b)));
    assert_eq!(refusal(&server, &a, foreign).await, reasons::UNSIGNED);
}

#[tokio::test]
async fn a_change_signed_with_another_key_is_refused() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let (device, _) = server.key_of(&a);
    let forged = sign(
        new_change(Record::Visit(server.visit(&server.team_a))),
        &device,
        &new_key(),
    );
    assert_eq!(refusal(&server, &a, forged).await, reasons::BAD_SIGNATURE);
    assert_eq!(visit_count(&server), 0);
}

#[tokio::test]
async fn another_devices_signed_change_pushed_with_this_token_is_refused() {
    // Device B of the same team signs its change; someone holding A's token sends it.
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let b = server.member(&server.team_a).await;
    let from_b = server.signed_change(&b, Record::Visit(server.visit(&server.team_a)));
    assert_eq!(
        refusal(&server, &a, from_b.clone()).await,
        reasons::BAD_SIGNATURE
    );
    assert_eq!(visit_count(&server), 0);
    // B itself may send it.
    let acks = server.push(&b, vec![from_b]).await;
    assert_eq!(acks[0].outcome, AckOutcome::Stored);
}

#[tokio::test]
async fn a_record_altered_after_signing_is_refused() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let visit = server.visit(&server.team_a);
    let session = submitted_session(&visit);
    server
        .push(&a, vec![new_change(Record::Visit(visit.clone()))])
        .await;
    let mut change = server.signed_change(&a, session_record(&session));
    let mut altered = session.clone();
    altered.participants.female.age_18_29 += 1;
    change.record = session_record(&altered);
    assert_eq!(refusal(&server, &a, change).await, reasons::BAD_SIGNATURE);
    assert_eq!(server.storage_sessions(), 0);
}

#[tokio::test]
async fn a_base_hash_or_nonce_altered_after_signing_is_refused() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let change = server.signed_change(&a, Record::Visit(server.visit(&server.team_a)));
    let mut rebased = change.clone();
    rebased.base_hash = Some("00".repeat(32));
    assert_eq!(refusal(&server, &a, rebased).await, reasons::BAD_SIGNATURE);
    let mut renonced = change;
    let mut nonce = renonced.nonce.unwrap().to_bytes();
    nonce[0] ^= 1;
    renonced.nonce = Some(fieldconsult_model::crypto::sign::ChangeNonce::from_bytes(
        nonce,
    ));
    assert_eq!(refusal(&server, &a, renonced).await, reasons::BAD_SIGNATURE);
    assert_eq!(visit_count(&server), 0);
}

#[tokio::test]
async fn the_same_signed_change_sent_again_is_already_stored_once() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let change = server.signed_change(&a, Record::Visit(server.visit(&server.team_a)));
    let first = server.push(&a, vec![change.clone()]).await;
    assert_eq!(first[0].outcome, AckOutcome::Stored);
    for _ in 0..2 {
        let again = server.push(&a, vec![change.clone()]).await;
        assert_eq!(again[0].outcome, AckOutcome::AlreadyStored);
        assert_eq!(again[0].hash, first[0].hash);
    }
    assert_eq!(visit_count(&server), 1);
}

#[tokio::test]
async fn a_nonce_used_again_for_other_content_is_refused_as_replayed() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let (device, key) = server.key_of(&a);
    let first = server.signed_change(&a, Record::Visit(server.visit(&server.team_a)));
    assert_eq!(
        server.push(&a, vec![first.clone()]).await[0].outcome,
        AckOutcome::Stored
    );
    // Another visit, validly signed by the device's own key but under the first nonce.
    let other = Record::Visit(server.visit(&server.team_a));
    let nonce = first.nonce.unwrap();
    let (id, hash) = (other.id(), other.hash());
    let signature = key.sign_change(&SignedChange {
        device_id: &device,
        nonce: &nonce,
        kind: other.kind(),
        id: &id,
        content_hash: &hash,
        base_hash: None,
    });
    let replay = PushChange {
        record: other,
        base_hash: None,
        nonce: Some(nonce),
        signature: Some(signature),
    };
    assert_eq!(refusal(&server, &a, replay).await, reasons::REPLAYED);
    assert_eq!(visit_count(&server), 1);
}

#[tokio::test]
async fn a_device_enrolled_before_signing_has_every_change_refused_as_unsigned() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let (device, _) = server.key_of(&a);
    // As migration 3 leaves a device enrolled before it: no registered key.
    let conn = rusqlite::Connection::open(server.db_path()).unwrap();
    conn.execute(
        "UPDATE devices SET public_key = NULL WHERE id = ?1",
        [&device],
    )
    .unwrap();
    drop(conn);
    let change = server.signed_change(&a, Record::Visit(server.visit(&server.team_a)));
    assert_eq!(refusal(&server, &a, change).await, reasons::UNSIGNED);
    assert_eq!(visit_count(&server), 0);
}
