//! The server and sealed fields: a plaintext sensitive note or referral service is refused
//! whatever the status, naming the field; a sealed one is stored as the opaque value it is and
//! relayed as is; sealing keys are set by the admin command and served to every device as
//! reference data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Server, new_change, seal_note, submitted_session, visit_and_session};
use fieldconsult_model::crypto::seal::{self, SealContext};
use fieldconsult_model::wire::{AckOutcome, Record};
use fieldconsult_model::{
    Problem, RecipientSecret, Referral, ReferralServiceId, Session, Status, Visit,
};
use fieldconsult_server::Storage;

const NOTE: &str = "PLAINTEXT-NOTE-must-not-be-stored";

/// Pushes a draft and a submitted session of `visit`, each with `plaintext` applied, and
/// checks that both are refused as `not_sealed` at `field` and nothing of them is stored.
async fn assert_refused_as_not_sealed(
    server: &Server,
    device: &str,
    visit: &Visit,
    field: &str,
    plaintext: impl Fn(&mut Session),
) {
    for status in [Status::Draft, Status::Submitted] {
        let mut s = submitted_session(visit);
        s.status = status;
        plaintext(&mut s);
        let acks = server
            .push(
                device,
                vec![new_change(Record::Session(Box::new(s.clone())))],
            )
            .await;
        match &acks[0].outcome {
            AckOutcome::Rejected { reason, problems } => {
                assert_eq!(reason, "validation");
                assert!(
                    problems
                        .iter()
                        .any(|p| p.field == field && p.problem == Problem::NotSealed),
                    "{problems:?}"
                );
            }
            other => panic!("{status:?}: {other:?}"),
        }
        assert!(
            server
                .storage
                .get_record("session", &s.id.to_string())
                .unwrap()
                .is_none(),
            "nothing stored"
        );
    }
}

/// A member of team A, and a visit of theirs already on the server.
async fn member_with_visit(server: &Server) -> (String, Visit) {
    let a = server.member(&server.team_a).await;
    let visit = server.visit(&server.team_a);
    server
        .push(&a, vec![new_change(Record::Visit(visit.clone()))])
        .await;
    (a, visit)
}

#[tokio::test]
async fn a_pushed_session_with_a_plaintext_note_is_refused_naming_the_field() {
    let server = Server::new();
    let (a, visit) = member_with_visit(&server).await;
    assert_refused_as_not_sealed(&server, &a, &visit, "sensitive_note", |s| {
        s.sealed_note = None;
        s.sensitive_note = NOTE.to_owned();
    })
    .await;
    let db = std::fs::read(server.db_path()).unwrap();
    assert!(!db.windows(NOTE.len()).any(|w| w == NOTE.as_bytes()));
}

#[tokio::test]
async fn a_pushed_session_with_a_plaintext_referral_service_is_refused_naming_the_field() {
    let server = Server::new();
    let (a, visit) = member_with_visit(&server).await;
    let service = ReferralServiceId::new();
    assert_refused_as_not_sealed(&server, &a, &visit, "referral.service_id", |s| {
        s.referral = Some(Referral::to(service));
    })
    .await;
    // As a device sends them: a draft's referral without its service, a submitted one's
    // sealed; both stored, and the plaintext id is nowhere in the server's file.
    let mut draft = submitted_session(&visit);
    draft.status = Status::Draft;
    draft.referral = Some(Referral::default());
    let mut submitted = submitted_session(&visit);
    let reader = RecipientSecret::generate().unwrap();
    let id = submitted.id.to_string();
    submitted.referral = Some(Referral {
        service_id: None,
        sealed_service_id: Some(
            seal::seal(
                &service.to_string(),
                &SealContext::referral_service(&id),
                &[reader.public_key().clone()],
            )
            .unwrap(),
        ),
    });
    let acks = server
        .push(
            &a,
            vec![
                new_change(Record::Session(Box::new(draft))),
                new_change(Record::Session(Box::new(submitted))),
            ],
        )
        .await;
    assert!(
        acks.iter().all(|a| a.outcome == AckOutcome::Stored),
        "{acks:?}"
    );
    let db = std::fs::read(server.db_path()).unwrap();
    let needle = service.to_string();
    assert!(!db.windows(needle.len()).any(|w| w == needle.as_bytes()));
}

#[tokio::test]
async fn a_sealed_note_is_stored_and_relayed_to_the_reviewer_unchanged() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let reviewer = server.reviewer("West").await;
    let visit = server.visit(&server.team_a);
    let mut session = submitted_session(&visit);
    let key = seal_note(&mut session, "only for the focal point");
    let acks = server.push(&a, visit_and_session(&visit, &session)).await;
    assert!(
        acks.iter().all(|a| a.outcome == AckOutcome::Stored),
        "{acks:?}"
    );
    let pulled = server.pull(&reviewer, 0).await;
    let got = pulled
        .records
        .iter()
        .find_map(|p| match &p.record {
            Record::Session(s) if s.id == session.id => Some(s.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(got.sealed_note, session.sealed_note);
    let id = session.id.to_string();
    let ctx = SealContext {
        kind: "session",
        id: &id,
        field: "sensitive_note",
    };
    assert_eq!(
        seal::open(got.sealed_note.as_ref().unwrap(), &ctx, &key)
            .unwrap()
            .as_str(),
        "only for the focal point"
    );
}

#[tokio::test]
async fn a_malformed_sealed_note_is_refused() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let visit = server.visit(&server.team_a);
    let mut s = submitted_session(&visit);
    if let Some(sealed) = s.sealed_note.as_mut() {
        sealed.copies[0].enc = "not base64!".into();
    }
    let acks = server.push(&a, visit_and_session(&visit, &s)).await;
    match &acks[1].outcome {
        AckOutcome::Rejected { problems, .. } => {
            assert!(
                problems.iter().any(|p| p.field == "sealed_note"),
                "{problems:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

fn run_cli(server: &Server, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_fieldconsult-server"))
        .arg("--db")
        .arg(server.db_path())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run fieldconsult-server")
}

#[tokio::test]
async fn keys_set_publishes_a_sectors_sealing_keys_to_every_device() {
    let server = Server::new();
    let focal = RecipientSecret::generate().unwrap();
    let escrow = RecipientSecret::generate().unwrap();
    let focal_hex = focal.public_key().to_hex();
    let escrow_hex = escrow.public_key().to_hex();
    let run = run_cli(
        &server,
        &[
            "keys",
            "set",
            "--sector",
            "West",
            "--focal-point-key",
            &focal_hex,
            "--escrow-key",
            &escrow_hex,
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert!(stdout.contains(&focal.public_key().key_id()));
    // A bad key is refused, naming the argument, and changes nothing.
    let bad = run_cli(
        &server,
        &[
            "keys",
            "set",
            "--sector",
            "West",
            "--focal-point-key",
            "abc",
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--focal-point-key"));

    let member = server.member(&server.team_a).await;
    let pulled = server.pull(&member, 0).await;
    let keys = pulled
        .records
        .iter()
        .find_map(|p| match &p.record {
            Record::SealingKeys(k) => Some(k.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(keys.sector, "West");
    assert_eq!(keys.focal_point_keys, vec![focal.public_key().clone()]);
    assert_eq!(keys.escrow_key.as_ref(), Some(escrow.public_key()));
    // Devices cannot push sealing keys.
    let acks = server
        .push(&member, vec![new_change(Record::SealingKeys(keys))])
        .await;
    assert!(
        matches!(&acks[0].outcome, AckOutcome::Rejected { reason, .. } if reason == "forbidden")
    );
}

/// `session`, pushed by `token`'s device as an edit built on the version hashed `base`.
async fn push_edit(server: &Server, token: &str, session: &Session, base: &str) -> AckOutcome {
    let change = fieldconsult_model::wire::PushChange {
        base_hash: Some(base.to_owned()),
        ..new_change(Record::Session(Box::new(session.clone())))
    };
    server.push(token, vec![change]).await.remove(0).outcome
}

#[tokio::test]
async fn a_device_lists_or_unlists_only_itself_as_holding_a_drafts_plaintext() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let b = server.member(&server.team_a).await;
    let (a_id, _) = server.key_of(&a);
    let (b_id, _) = server.key_of(&b);
    let visit = server.visit(&server.team_a);
    let mut draft = submitted_session(&visit);
    draft.status = Status::Draft;
    draft.plaintext_held_by = [a_id.clone()].into();
    let acks = server.push(&a, visit_and_session(&visit, &draft)).await;
    assert_eq!(acks[1].outcome, AckOutcome::Stored);
    let base = Record::Session(Box::new(draft.clone())).hash();

    // Device B, building on it, may not take A's note out of the list...
    let mut hidden = draft.clone();
    hidden.plaintext_held_by.clear();
    match push_edit(&server, &b, &hidden, &base).await {
        AckOutcome::Rejected { reason, problems } => {
            assert_eq!(reason, "validation");
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].field, "plaintext_held_by");
            assert_eq!(problems[0].problem, Problem::ReadOnly);
        }
        other => panic!("{other:?}"),
    }
    // ...but lists itself beside A.
    let mut both = draft.clone();
    both.plaintext_held_by.insert(b_id.clone());
    assert_eq!(
        push_edit(&server, &b, &both, &base).await,
        AckOutcome::Stored
    );
    // A takes itself off, once its note is gone, and submitting clears the list for all.
    let base = Record::Session(Box::new(both.clone())).hash();
    let mut a_off = both.clone();
    a_off.plaintext_held_by.remove(&a_id);
    assert_eq!(
        push_edit(&server, &a, &a_off, &base).await,
        AckOutcome::Stored
    );
    let base = Record::Session(Box::new(a_off.clone())).hash();
    let mut submitted = a_off.clone();
    submitted.plaintext_held_by.clear();
    submitted.status = Status::Submitted;
    assert_eq!(
        push_edit(&server, &a, &submitted, &base).await,
        AckOutcome::Stored
    );
}
