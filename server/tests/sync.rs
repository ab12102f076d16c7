//! Push, pull, scope, review and conflict behaviour of the sync endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{
    Server, acceptance, new_change, session_record, submitted_session, visit_and_session,
};
use fieldconsult_model::wire::{
    AckOutcome, ConflictNotice, MAX_BATCH_RECORDS, PullResponse, PushChange, Record,
};
use fieldconsult_model::{Group, ReviewId, Status};

#[tokio::test]
async fn pushed_visit_and_session_are_pulled_by_another_device_of_the_team_with_equal_hashes() {
    let server = Server::new();
    let phone = server.member(&server.team_a).await;
    let tablet = server.member(&server.team_a).await;
    let visit = server.visit(&server.team_a);
    let session = submitted_session(&visit);
    let acks = server
        .push(&phone, visit_and_session(&visit, &session))
        .await;
    assert_eq!(acks.len(), 2);
    assert!(
        acks.iter().all(|a| a.outcome == AckOutcome::Stored),
        "{acks:?}"
    );
    assert_eq!(acks[1].hash, session_record(&session).hash());

    let page = server.pull(&tablet, 0).await;
    let pulled = page
        .records
        .iter()
        .find(|r| r.record.id() == session.id.to_string())
        .expect("session pulled");
    assert_eq!(pulled.hash, acks[1].hash);
    assert_eq!(pulled.record, session_record(&session));
    assert!(
        page.records
            .iter()
            .any(|r| r.record == Record::Visit(visit.clone()))
    );
    assert!(!page.more);

    // Idle: nothing after the cursor.
    let idle = server.pull(&tablet, page.cursor).await;
    assert!(idle.records.is_empty());
    assert_eq!(idle.cursor, page.cursor);
}

#[tokio::test]
async fn a_device_does_not_pull_back_what_it_pushed_but_gets_changes_others_made_to_it() {
    let server = Server::new();
    let phone = server.member(&server.team_a).await;
    let reviewer = server.reviewer("West").await;
    let visit = server.visit(&server.team_a);
    let session = submitted_session(&visit);
    server
        .push(&phone, visit_and_session(&visit, &session))
        .await;
    let own = server.pull(&phone, 0).await;
    assert!(
        own.records
            .iter()
            .all(|r| r.record.id() != session.id.to_string()
                && r.record.id() != visit.id.to_string()),
        "the pusher already holds what it pushed"
    );
    // The cursor moves past its own pushes all the same: the next pull scans none of them.
    let again = server.pull(&phone, own.cursor).await;
    assert!(again.records.is_empty());
    assert_eq!(again.cursor, own.cursor);
    let last_returned = own.records.iter().map(|r| r.seq).max().unwrap_or(0);
    assert!(
        own.cursor > last_returned,
        "{} <= {last_returned}",
        own.cursor
    );

    let review = acceptance(&session);
    server
        .push(&reviewer, vec![new_change(Record::Review(review))])
        .await;
    let after_review = server.pull(&phone, own.cursor).await;
    let accepted = after_review
        .records
        .iter()
        .find(|r| r.record.id() == session.id.to_string())
        .expect("the reviewer's change to the session reaches its author");
    let Record::Session(s) = &accepted.record else {
        panic!("expected the session");
    };
    assert_eq!(s.status, Status::Accepted);
}

#[tokio::test]
async fn a_device_of_team_b_pulls_nothing_of_team_a() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let b = server.member(&server.team_b).await;
    let visit = server.visit(&server.team_a);
    let session = submitted_session(&visit);
    server.push(&a, visit_and_session(&visit, &session)).await;
    let page = server.pull(&b, 0).await;
    assert!(!page.records.is_empty(), "reference data is visible to all");
    assert!(page.records.iter().all(|r| matches!(
        r.record,
        Record::Team(_) | Record::Community(_) | Record::Checklist(_) | Record::ReferralService(_)
    )));
    // A reviewer of another sector sees none either.
    let east = server.reviewer("East").await;
    let page = server.pull(&east, 0).await;
    assert!(
        !page
            .records
            .iter()
            .any(|r| matches!(r.record, Record::Session(_) | Record::Visit(_)))
    );
}

#[tokio::test]
async fn a_sector_reviewer_accepts_and_the_team_pulls_the_accepted_session() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let reviewer = server.reviewer("West").await;
    let visit = server.visit(&server.team_a);
    let session = submitted_session(&visit);
    server.push(&a, visit_and_session(&visit, &session)).await;
    let seen = server.pull(&a, 0).await;

    let page = server.pull(&reviewer, 0).await;
    assert!(
        page.records
            .iter()
            .any(|r| r.record.id() == session.id.to_string())
    );

    let review = acceptance(&session);
    let acks = server
        .push(&reviewer, vec![new_change(Record::Review(review.clone()))])
        .await;
    assert_eq!(acks[0].outcome, AckOutcome::Stored);

    let next = server.pull(&a, seen.cursor).await;
    let accepted = next
        .records
        .iter()
        .find_map(|r| match &r.record {
            Record::Session(s) if s.id == session.id => Some((s.clone(), r.hash.clone())),
            _ => None,
        })
        .expect("the decided session is pulled again");
    assert_eq!(accepted.0.status, Status::Accepted);
    assert_eq!(accepted.1, Record::Session(accepted.0.clone()).hash());
    assert!(
        next.records
            .iter()
            .any(|r| r.record == Record::Review(review.clone()))
    );

    // A team member may not review.
    let mut own = review.clone();
    own.id = ReviewId::new();
    let acks = server.push(&a, vec![new_change(Record::Review(own))]).await;
    assert!(
        matches!(&acks[0].outcome, AckOutcome::Rejected { reason, .. } if reason == "forbidden")
    );
}

#[tokio::test]
async fn the_same_batch_pushed_twice_is_already_stored_and_adds_nothing() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let visit = server.visit(&server.team_a);
    let session = submitted_session(&visit);
    let batch = visit_and_session(&visit, &session);
    let first = server.push(&a, batch.clone()).await;
    let after_first = server.pull(&a, 0).await;
    let second = server.push(&a, batch).await;
    assert!(
        second
            .iter()
            .all(|a| a.outcome == AckOutcome::AlreadyStored),
        "{second:?}"
    );
    assert_eq!(
        first.iter().map(|a| &a.hash).collect::<Vec<_>>(),
        second.iter().map(|a| &a.hash).collect::<Vec<_>>()
    );
    let again = server.pull(&a, after_first.cursor).await;
    assert!(again.records.is_empty(), "no new change-log entries");
    assert_eq!(server.storage_sessions(), 1);
}

#[tokio::test]
async fn an_edit_on_a_stale_base_is_a_conflict_and_the_losing_version_is_kept() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let colleague = server.member(&server.team_a).await;
    let visit = server.visit(&server.team_a);
    let mut draft = submitted_session(&visit);
    draft.status = Status::Draft;
    let acks = server.push(&a, visit_and_session(&visit, &draft)).await;
    let base = acks[1].hash.clone();

    let mut edit_1 = draft.clone();
    edit_1.facilitators.female = 2;
    let acks = server
        .push(
            &a,
            vec![PushChange {
                record: session_record(&edit_1),
                base_hash: Some(base.clone()),
                nonce: None,
                signature: None,
            }],
        )
        .await;
    assert_eq!(acks[0].outcome, AckOutcome::Stored);
    let winner = acks[0].hash.clone();

    let mut edit_2 = draft.clone();
    edit_2.facilitators.male = 1;
    let acks = server
        .push(
            &colleague,
            vec![PushChange {
                record: session_record(&edit_2),
                base_hash: Some(base),
                nonce: None,
                signature: None,
            }],
        )
        .await;
    assert_eq!(acks[0].outcome, AckOutcome::Conflict);
    assert_eq!(acks[0].hash, winner);

    let history = server.storage_history("session", &draft.id.to_string());
    assert!(
        history
            .iter()
            .any(|h| h.outcome == "conflict_lost" && h.record == session_record(&edit_2))
    );
}

#[tokio::test]
async fn an_edit_on_the_devices_own_unacknowledged_version_is_no_conflict() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let visit = server.visit(&server.team_a);
    let mut draft = submitted_session(&visit);
    draft.status = Status::Draft;
    // Stored, but the answer never reached the device: its next edit still has no base.
    server.push(&a, visit_and_session(&visit, &draft)).await;
    let mut edit = draft.clone();
    edit.facilitators.female = 2;
    let acks = server
        .push(
            &a,
            vec![PushChange {
                record: session_record(&edit),
                base_hash: None,
                nonce: None,
                signature: None,
            }],
        )
        .await;
    assert_eq!(acks[0].outcome, AckOutcome::Stored);
    assert_eq!(acks[0].hash, session_record(&edit).hash());
}

#[tokio::test]
async fn a_conflict_notice_reaches_the_team_and_its_reviewer_once_and_no_one_else() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let colleague = server.member(&server.team_a).await;
    let reviewer = server.reviewer("West").await;
    let other_team = server.member(&server.team_b).await;
    let visit = server.visit(&server.team_a);
    let mut draft = submitted_session(&visit);
    draft.status = Status::Draft;
    let acks = server.push(&a, visit_and_session(&visit, &draft)).await;
    let base = acks[1].hash.clone();
    let mut kept = draft.clone();
    kept.facilitators.female = 2;
    server
        .push(
            &colleague,
            vec![PushChange {
                record: session_record(&kept),
                base_hash: Some(base.clone()),
                nonce: None,
                signature: None,
            }],
        )
        .await;

    let mut lost = draft.clone();
    lost.facilitators.male = 1;
    let stale = PushChange {
        record: session_record(&lost),
        base_hash: Some(base),
        nonce: None,
        signature: None,
    };
    for _ in 0..2 {
        // The second time is a resend after a lost response.
        let acks = server.push(&a, vec![stale.clone()]).await;
        assert_eq!(acks[0].outcome, AckOutcome::Conflict);
    }

    let notices = |page: PullResponse| -> Vec<ConflictNotice> {
        page.records
            .into_iter()
            .filter_map(|p| match p.record {
                Record::Conflict(c) => Some(c),
                _ => None,
            })
            .collect()
    };
    for token in [&colleague, &reviewer] {
        let seen = notices(server.pull(token, 0).await);
        assert_eq!(seen.len(), 1, "one notice, however often the edit was sent");
        assert_eq!(*seen[0].lost, session_record(&lost));
        assert_eq!(seen[0].kept_hash, session_record(&kept).hash());
    }
    assert!(notices(server.pull(&other_team, 0).await).is_empty());
    assert!(
        notices(server.pull(&a, 0).await).is_empty(),
        "the author learnt it from the acknowledgement"
    );

    // Only the server writes notices.
    let forged = server
        .push(
            &a,
            vec![new_change(Record::Conflict(
                notices(server.pull(&reviewer, 0).await).remove(0),
            ))],
        )
        .await;
    assert!(
        matches!(&forged[0].outcome, AckOutcome::Rejected { reason, .. } if reason == "forbidden")
    );
}

#[tokio::test]
async fn male_participants_in_a_womens_session_are_rejected_with_the_field_name() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let visit = server.visit(&server.team_a);
    let mut session = submitted_session(&visit);
    assert_eq!(session.group, Group::Women);
    session.participants.male.age_18_29 = 3;
    let acks = server.push(&a, visit_and_session(&visit, &session)).await;
    assert_eq!(
        acks[0].outcome,
        AckOutcome::Stored,
        "the rest of the batch applies"
    );
    match &acks[1].outcome {
        AckOutcome::Rejected { reason, problems } => {
            assert_eq!(reason, "validation");
            assert!(
                problems
                    .iter()
                    .any(|p| p.field == "participants.male.age_18_29")
            );
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(acks[1].hash, "");
    assert_eq!(server.storage_sessions(), 0);
}

#[tokio::test]
async fn a_team_member_cannot_accept_its_own_session() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let visit = server.visit(&server.team_a);
    let mut session = submitted_session(&visit);
    session.status = Status::Accepted;
    let acks = server.push(&a, visit_and_session(&visit, &session)).await;
    assert!(
        matches!(&acks[1].outcome, AckOutcome::Rejected { reason, .. } if reason == "forbidden" || reason == "invalid_transition")
    );
    assert_eq!(server.storage_sessions(), 0);
}

#[tokio::test]
async fn a_batch_over_the_record_limit_is_413_batch_too_large() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let visit = server.visit(&server.team_a);
    let batch = vec![new_change(Record::Visit(visit)); MAX_BATCH_RECORDS + 1];
    let reply = server.push_raw(&a, batch).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.content_type(), "application/problem+json");
    assert_eq!(reply.json()["type"], "/problems/batch-too-large");
}
