//! Consent withdrawn after sync: the server deletes the session with its reviews, addenda
//! and stored versions, keeps only the withdrawal (ids and time), serves it by pull to the
//! other devices in scope, refuses the session back, and stops counting it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Utc;
use common::{
    Server, acceptance, new_change, session_record, submitted_session, visit_and_session,
};
use fieldconsult_model::wire::{AckOutcome, ConsentWithdrawal, Record, reasons};
use fieldconsult_model::{Addendum, AddendumId, Session, Status};
use fieldconsult_server::reports;
use fieldconsult_server::storage::Storage;

const MARKER: &str = "WITHDRAWN-TEXT-41c9";

fn withdrawal(s: &Session) -> Record {
    let mut at = Utc::now().fixed_offset();
    fieldconsult_model::time::round_to_stored_precision(&mut at);
    Record::ConsentWithdrawal(ConsentWithdrawal {
        session_id: s.id,
        visit_id: s.visit_id,
        withdrawn_at: at,
    })
}

/// A session of team A pushed twice (so a version sits in history), accepted by the West
/// reviewer, with an addendum: every kind of trace the server keeps of a session.
async fn accepted_with_history(server: &Server, phone: &str, reviewer: &str) -> Session {
    let visit = server.visit(&server.team_a);
    let mut session = submitted_session(&visit);
    session.status = Status::Draft;
    session.answers[0].note = format!("{MARKER} first");
    let acks = server
        .push(phone, visit_and_session(&visit, &session))
        .await;
    assert!(
        acks.iter().all(|a| a.outcome == AckOutcome::Stored),
        "{acks:?}"
    );
    let base = acks[1].hash.clone();
    session.status = Status::Submitted;
    session.answers[0].note = format!("{MARKER} second");
    let mut change = new_change(session_record(&session));
    change.base_hash = Some(base);
    let acks = server.push(phone, vec![change]).await;
    assert_eq!(acks[0].outcome, AckOutcome::Stored, "{acks:?}");
    let acks = server
        .push(
            reviewer,
            vec![new_change(Record::Review(acceptance(&session)))],
        )
        .await;
    assert_eq!(acks[0].outcome, AckOutcome::Stored, "{acks:?}");
    let addendum = Addendum {
        id: AddendumId::new(),
        session_id: session.id,
        author: "et-a".into(),
        text: format!("{MARKER} addendum"),
        at: Utc::now().fixed_offset(),
    };
    let acks = server
        .push(phone, vec![new_change(Record::Addendum(addendum))])
        .await;
    assert_eq!(acks[0].outcome, AckOutcome::Stored, "{acks:?}");
    session
}

#[tokio::test]
async fn a_withdrawal_deletes_the_session_and_everything_about_it_and_keeps_only_ids() {
    let server = Server::new();
    let phone = server.member(&server.team_a).await;
    let reviewer = server.reviewer("West").await;
    let session = accepted_with_history(&server, &phone, &reviewer).await;
    let id = session.id.to_string();
    assert!(!server.storage_history("session", &id).is_empty());
    let before = reports::stored(server.storage.as_ref()).unwrap();
    assert!(before.sessions.iter().any(|s| s.id == session.id));

    let acks = server
        .push(&phone, vec![new_change(withdrawal(&session))])
        .await;
    assert_eq!(acks[0].outcome, AckOutcome::Stored, "{acks:?}");

    assert_eq!(server.storage_sessions(), 0);
    assert!(server.storage_history("session", &id).is_empty());
    for kind in ["review", "addendum", "session_tombstone", "conflict"] {
        for r in server.storage.records_of_kind(kind).unwrap() {
            let json = serde_json::to_string(&r.record).unwrap();
            assert!(
                !json.contains(&id),
                "a {kind} of the withdrawn session is left"
            );
        }
    }
    let kept = server
        .storage
        .get_record("consent_withdrawal", &id)
        .unwrap()
        .expect("the withdrawal is kept");
    assert!(
        !serde_json::to_string(&kept.record)
            .unwrap()
            .contains(MARKER)
    );
    // Reports no longer count it.
    let after = reports::stored(server.storage.as_ref()).unwrap();
    assert!(!after.sessions.iter().any(|s| s.id == session.id));
}

#[tokio::test]
async fn the_withdrawal_reaches_the_reviewer_and_the_teams_other_devices_and_nothing_else() {
    let server = Server::new();
    let phone = server.member(&server.team_a).await;
    let tablet = server.member(&server.team_a).await;
    let reviewer = server.reviewer("West").await;
    let other_team = server.member(&server.team_b).await;
    let session = accepted_with_history(&server, &phone, &reviewer).await;
    let cursors = [
        server.pull(&tablet, 0).await.cursor,
        server.pull(&reviewer, 0).await.cursor,
        server.pull(&other_team, 0).await.cursor,
        server.pull(&phone, 0).await.cursor,
    ];
    server
        .push(&phone, vec![new_change(withdrawal(&session))])
        .await;

    for (token, cursor) in [(&tablet, cursors[0]), (&reviewer, cursors[1])] {
        let page = server.pull(token, cursor).await;
        assert!(
            page.records.iter().any(|r| matches!(
                &r.record,
                Record::ConsentWithdrawal(w) if w.session_id == session.id
            )),
            "{:?}",
            page.records
        );
        // From the beginning too: the session itself is no longer served.
        let all = server.pull(token, 0).await;
        assert!(!all.records.iter().any(|r| matches!(
            &r.record,
            Record::Session(s) if s.id == session.id
        )));
    }
    assert!(
        server
            .pull(&other_team, cursors[2])
            .await
            .records
            .is_empty()
    );
    assert!(
        server.pull(&phone, cursors[3]).await.records.is_empty(),
        "the pusher deleted its copy already"
    );
}

#[tokio::test]
async fn a_resent_withdrawal_is_already_stored() {
    let server = Server::new();
    let phone = server.member(&server.team_a).await;
    let tablet = server.member(&server.team_a).await;
    let reviewer = server.reviewer("West").await;
    let session = accepted_with_history(&server, &phone, &reviewer).await;
    let w = withdrawal(&session);
    let first = server.push(&phone, vec![new_change(w.clone())]).await;
    let again = server.push(&phone, vec![new_change(w)]).await;
    assert_eq!(again[0].outcome, AckOutcome::AlreadyStored);
    assert_eq!(again[0].hash, first[0].hash);
    // A second device of the team withdrawing too changes nothing either.
    let other = server
        .push(&tablet, vec![new_change(withdrawal(&session))])
        .await;
    assert_eq!(other[0].outcome, AckOutcome::AlreadyStored);
}

#[tokio::test]
async fn only_the_authoring_team_withdraws() {
    let server = Server::new();
    let phone = server.member(&server.team_a).await;
    let reviewer = server.reviewer("West").await;
    let other_team = server.member(&server.team_b).await;
    let session = accepted_with_history(&server, &phone, &reviewer).await;
    for token in [&reviewer, &other_team] {
        let acks = server
            .push(token, vec![new_change(withdrawal(&session))])
            .await;
        assert!(
            matches!(&acks[0].outcome, AckOutcome::Rejected { reason, .. } if reason == reasons::FORBIDDEN),
            "{acks:?}"
        );
    }
    assert_eq!(server.storage_sessions(), 1);
}

#[tokio::test]
async fn a_withdrawn_session_pushed_again_is_refused() {
    let server = Server::new();
    let phone = server.member(&server.team_a).await;
    let tablet = server.member(&server.team_a).await;
    let visit = server.visit(&server.team_a);
    let session = submitted_session(&visit);
    server
        .push(&phone, visit_and_session(&visit, &session))
        .await;
    server
        .push(&phone, vec![new_change(withdrawal(&session))])
        .await;
    // The team's tablet still had it, and pushes an edit.
    let acks = server
        .push(&tablet, vec![new_change(session_record(&session))])
        .await;
    assert!(
        matches!(&acks[0].outcome, AckOutcome::Rejected { reason, .. } if reason == reasons::CONSENT_WITHDRAWN),
        "{acks:?}"
    );
    assert_eq!(server.storage_sessions(), 0);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The server's database and its WAL, as bytes (the server's SQLite is not encrypted).
fn server_files(server: &Server) -> Vec<(String, Vec<u8>)> {
    ["server.db", "server.db-wal"]
        .into_iter()
        .filter_map(|name| {
            let path = server.db_path().with_file_name(name);
            std::fs::read(&path)
                .ok()
                .map(|bytes| (name.to_owned(), bytes))
        })
        .collect()
}

#[tokio::test]
async fn no_byte_of_the_withdrawn_text_is_left_in_the_server_files() {
    let server = Server::new();
    let phone = server.member(&server.team_a).await;
    let reviewer = server.reviewer("West").await;
    let session = accepted_with_history(&server, &phone, &reviewer).await;
    // The control: before the withdrawal, the text is there to be found.
    assert!(
        server_files(&server)
            .iter()
            .any(|(_, bytes)| contains(bytes, MARKER.as_bytes()))
    );
    server
        .push(&phone, vec![new_change(withdrawal(&session))])
        .await;
    for (name, bytes) in server_files(&server) {
        assert!(
            !contains(&bytes, MARKER.as_bytes()),
            "the withdrawn text is still in {name}"
        );
    }
}
