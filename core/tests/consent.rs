//! Consent withdrawal and the confirmation of free-text warnings at submission.
//!
//! Withdrawal before the server has the session deletes it and everything about it without
//! a trace: the test decrypts every page of the database file (SQLCipher 4: AES-256-CBC
//! with the raw key, IV at the end of each page) and looks for the session's text, which a
//! plain scan of the encrypted file could never see either way. Withdrawal after sync
//! queues a `ConsentWithdrawal` (ids and time) that the next sync sends, and nothing else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod pages;
mod sync_support;

use common::{Fixture, complete_session, key};
use fieldconsult_core::TransportError;
use fieldconsult_core::store::consent::Withdrawal;
use fieldconsult_core::{Error, NoProgress, Store};
use fieldconsult_model::validation::session_warnings;
use fieldconsult_model::wire::{ConsentWithdrawal, Record};
use fieldconsult_model::{
    Decision, FieldWarning, Group, Session, Status, TransitionError, WarningKind,
};
use pages::contains;
use sync_support::{FakeServer, Hook};

fn wal_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(pages::wal_path(path))
        .map(|m| m.len())
        .unwrap_or(0)
}

/// Every page of the database at `path` and of its WAL, decrypted with `key(7)`.
fn decrypted_pages(path: &std::path::Path) -> Vec<Vec<u8>> {
    pages::decrypted_pages(path, &[7; 32])
        .into_iter()
        .map(|(_, page)| page)
        .collect()
}

/// A submitted session of team A with `marker` in every free-text field, reviewed
/// (returned with a comment, resubmitted, accepted) and with an addendum.
fn marked_session(f: &Fixture, marker: &str) -> Session {
    let mut visit = f.visit_of(&f.team_a);
    visit.notes = "visit notes stay".into();
    f.store.save_visit(&f.alice(), &visit).unwrap();
    let mut s = complete_session(&visit, Group::Women);
    s.interpreter.sex = fieldconsult_model::InterpreterSex::Female;
    s.interpreter.language = format!("{marker} language");
    s.sensitive_note = format!("{marker} sensitive");
    for a in &mut s.answers {
        a.note = format!("{marker} answer");
    }
    s.priorities[0].note = format!("{marker} priority");
    s.concerns[0].location = format!("{marker} location");
    s.concerns[0].timing = format!("{marker} timing");
    s.concerns[0].note = format!("{marker} concern");
    f.store.save_session(&f.alice(), &s).unwrap();
    f.store.submit_session(&f.alice(), &s.id).unwrap();
    let r = f.north_reviewer();
    f.store
        .record_review(&r, &s.id, Decision::Returned, &format!("{marker} review"))
        .unwrap();
    f.store.submit_session(&f.alice(), &s.id).unwrap();
    f.store
        .record_review(&r, &s.id, Decision::Accepted, "")
        .unwrap();
    f.store
        .add_addendum(&f.alice(), &s.id, &format!("{marker} addendum"))
        .unwrap();
    s
}

#[test]
fn decrypting_the_pages_finds_the_text_of_a_stored_session() {
    // The control of the test below: its scan would find the text if it were left.
    let f = Fixture::new();
    let marker = "CONTROL-MARKER-5f1c";
    marked_session(&f, marker);
    f.store.checkpoint().unwrap();
    let pages = decrypted_pages(&f.path);
    assert_eq!(
        &pages[0][0..2],
        &[0x10, 0x00],
        "page 1 decrypts to a SQLite header (page size 4096)"
    );
    assert!(pages.iter().any(|p| contains(p, marker.as_bytes())));
}

#[test]
fn a_session_the_server_never_had_is_erased_without_a_trace() {
    let f = Fixture::new();
    let marker = "WITHDRAWN-MARKER-8e2a";
    let s = marked_session(&f, marker);
    let other = f.submitted_session(Group::Men);
    let outbox_before = f.store.pending_count().unwrap();

    assert_eq!(
        f.store.withdraw_consent(&f.alice(), &s.id).unwrap(),
        Withdrawal::Erased
    );

    assert!(matches!(
        f.store.get_session(&s.id),
        Err(Error::NotFound { .. })
    ));
    assert!(f.store.history(&s.id.to_string()).unwrap().is_empty());
    assert!(f.store.pending_withdrawals().unwrap().is_empty());
    // Session, its two reviews and its addendum left the outbox; the visit stays.
    assert_eq!(f.store.pending_count().unwrap(), outbox_before - 4);
    for e in f.store.pending_changes(100).unwrap() {
        assert_ne!(e.id, s.id.to_string());
    }
    // The other session is untouched.
    assert_eq!(
        f.store.get_session(&other.id).unwrap().session.status,
        Status::Submitted
    );
    // No byte of its text in any page of the database, live or free; the WAL is empty.
    assert_eq!(wal_len(&f.path), 0);
    for page in decrypted_pages(&f.path) {
        assert!(!contains(&page, marker.as_bytes()));
        assert!(!contains(&page, s.id.to_string().as_bytes()));
    }
}

#[test]
fn after_erasing_the_next_sync_sends_nothing_of_the_session() {
    let f = Fixture::new();
    let server = FakeServer::new(f.alice().role.clone());
    f.store
        .enrol(&server, "CODE-1234", "Team A tablet", None)
        .unwrap();
    let s = marked_session(&f, "NEVER-SENT-3b7d");
    assert_eq!(
        f.store.withdraw_consent(&f.alice(), &s.id).unwrap(),
        Withdrawal::Erased
    );
    f.store.sync(&server, &NoProgress).unwrap();
    let id = s.id.to_string();
    for push in server.pushes() {
        for r in &push.records {
            assert!(
                !serde_json::to_string(r).unwrap().contains(&id),
                "{} pushed about the erased session",
                r.kind()
            );
        }
    }
    assert!(server.hash_of("session", &id).is_none());
}

#[test]
fn a_synced_session_is_deleted_here_and_its_withdrawal_alone_is_sent() {
    let f = Fixture::new();
    let server = FakeServer::new(f.alice().role.clone());
    f.store
        .enrol(&server, "CODE-1234", "Team A tablet", None)
        .unwrap();
    let s = f.submitted_session(Group::Women);
    f.store.sync(&server, &NoProgress).unwrap();
    let pushes_before = server.pushes().len();

    assert_eq!(
        f.store.withdraw_consent(&f.alice(), &s.id).unwrap(),
        Withdrawal::Queued
    );
    assert!(matches!(
        f.store.get_session(&s.id),
        Err(Error::NotFound { .. })
    ));
    let queued = f.store.pending_withdrawals().unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].session_id, s.id);
    assert_eq!(queued[0].visit_id, s.visit_id);
    // Withdrawing again is not possible: the session is gone.
    assert!(matches!(
        f.store.withdraw_consent(&f.alice(), &s.id),
        Err(Error::NotFound { .. })
    ));

    f.store.sync(&server, &NoProgress).unwrap();
    let pushes = &server.pushes()[pushes_before..];
    assert_eq!(pushes.len(), 1, "one push: the withdrawal");
    assert!(matches!(
        pushes[0].records.as_slice(),
        [Record::ConsentWithdrawal(ConsentWithdrawal { session_id, .. })] if *session_id == s.id
    ));
    assert!(
        f.store.pending_withdrawals().unwrap().is_empty(),
        "acknowledged: forgotten"
    );
    // A second sync sends nothing more.
    f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(server.pushes().len(), pushes_before + 1);
}

#[test]
fn a_session_whose_push_lost_its_answer_is_withdrawn_from_the_server_too() {
    let f = Fixture::new();
    let server = FakeServer::new(f.alice().role.clone());
    f.store
        .enrol(&server, "CODE-1234", "Team A tablet", None)
        .unwrap();
    let s = f.submitted_session(Group::Women);
    // The server stores the push; its answer never arrives.
    server.set_hook(|_, req| {
        if req.path == "/v1/push" {
            Hook::LoseAnswer(TransportError::Timeout)
        } else {
            Hook::Pass
        }
    });
    assert!(f.store.sync(&server, &NoProgress).is_err());
    server.clear_hook();
    assert!(server.hash_of("session", &s.id.to_string()).is_some());
    assert_eq!(
        f.store.withdraw_consent(&f.alice(), &s.id).unwrap(),
        Withdrawal::Queued,
        "the server may hold it: the withdrawal must go"
    );
}

#[test]
fn a_pulled_withdrawal_deletes_the_copy_of_a_reviewer() {
    let f = Fixture::new();
    let reviewer = f.north_reviewer();
    let server = FakeServer::new(reviewer.role.clone());
    f.store
        .enrol(&server, "CODE-1234", "Focal point tablet", None)
        .unwrap();
    // The reviewer's store holds the team's session, as pulled; then the team withdraws.
    let s = f.submitted_session(Group::Women);
    f.store.sync(&server, &NoProgress).unwrap();
    f.store
        .record_review(&reviewer, &s.id, Decision::Returned, "please check")
        .unwrap();
    f.store.sync(&server, &NoProgress).unwrap();
    server.insert(Record::ConsentWithdrawal(ConsentWithdrawal {
        session_id: s.id,
        visit_id: s.visit_id,
        withdrawn_at: common::minutes_ago(1),
    }));
    f.store.sync(&server, &NoProgress).unwrap();
    assert!(matches!(
        f.store.get_session(&s.id),
        Err(Error::NotFound { .. })
    ));
    assert!(f.store.history(&s.id.to_string()).unwrap().is_empty());
    assert_eq!(f.store.pending_count().unwrap(), 0);
}

#[test]
fn only_the_authoring_team_withdraws_consent() {
    let f = Fixture::new();
    let s = f.submitted_session(Group::Women);
    for actor in [f.member(&f.team_b), f.north_reviewer(), f.reviewer("South")] {
        assert!(matches!(
            f.store.withdraw_consent(&actor, &s.id),
            Err(Error::Transition(TransitionError::NotPermitted { .. }))
        ));
    }
    assert!(f.store.get_session(&s.id).is_ok());
}

#[test]
fn consent_is_withdrawn_from_an_accepted_session_too() {
    let f = Fixture::new();
    let s = f.submitted_session(Group::Women);
    f.store
        .record_review(&f.north_reviewer(), &s.id, Decision::Accepted, "")
        .unwrap();
    assert_eq!(
        f.store.withdraw_consent(&f.alice(), &s.id).unwrap(),
        Withdrawal::Erased
    );
}

#[test]
fn the_store_survives_reopening_after_a_withdrawal() {
    let f = Fixture::new();
    let s = f.submitted_session(Group::Women);
    f.store.withdraw_consent(&f.alice(), &s.id).unwrap();
    let Fixture { store, path, .. } = f;
    drop(store);
    let store = Store::open(&path, &key(7)).unwrap();
    assert!(store.integrity_check().unwrap().is_empty());
}

fn warning(field: &str, kind: WarningKind) -> FieldWarning {
    FieldWarning {
        field: field.into(),
        kind,
    }
}

#[test]
fn submission_refuses_unconfirmed_warnings_and_lists_them_without_the_text() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    let mut s = complete_session(&visit, Group::Women);
    s.priorities[0].note = "call her on +211 912 345 678".into();
    s.concerns[0].location = "36N TF 12345 67890".into();
    f.store.save_session(&f.alice(), &s).unwrap();

    let Err(Error::UnconfirmedWarnings { warnings }) = f.store.submit_session(&f.alice(), &s.id)
    else {
        panic!("expected UnconfirmedWarnings");
    };
    let phone = warning("priorities[0].note", WarningKind::Phone);
    let grid = warning("concerns[0].location", WarningKind::Coordinates);
    assert_eq!(warnings, vec![phone.clone(), grid.clone()]);
    let message = Error::UnconfirmedWarnings {
        warnings: warnings.clone(),
    }
    .to_string();
    assert!(
        !message.contains("912") && !message.contains("12345"),
        "{message}"
    );
    assert_eq!(
        f.store.get_session(&s.id).unwrap().session.status,
        Status::Draft
    );

    // Confirming one is not enough.
    assert!(matches!(
        f.store.submit_session_confirming(&f.alice(), &s.id, std::slice::from_ref(&phone)),
        Err(Error::UnconfirmedWarnings { warnings }) if warnings == vec![grid.clone()]
    ));
    let submitted = f
        .store
        .submit_session_confirming(&f.alice(), &s.id, &[phone, grid])
        .unwrap();
    assert_eq!(submitted.status, Status::Submitted);
}

#[test]
fn a_confirmation_does_not_survive_an_edit_that_adds_a_warning() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    let mut s = complete_session(&visit, Group::Women);
    s.priorities[0].note = "clinic 0912 345 678".into();
    let s = f.store.save_session(&f.alice(), &s).unwrap();
    let confirmed = session_warnings(&s);
    assert_eq!(confirmed.len(), 1);

    // The author confirms what they saw, then adds an e-mail to the same field.
    let mut edited = s.clone();
    edited.priorities[0].note = "clinic 0912 345 678, mail amina@example.org".into();
    f.store.save_session(&f.alice(), &edited).unwrap();
    assert!(matches!(
        f.store.submit_session_confirming(&f.alice(), &s.id, &confirmed),
        Err(Error::UnconfirmedWarnings { warnings })
            if warnings == vec![warning("priorities[0].note", WarningKind::Email)]
    ));
    // Returned by the reviewer and resubmitted: confirmed again, with that submission.
    let all = session_warnings(&f.store.get_session(&s.id).unwrap().session);
    f.store
        .submit_session_confirming(&f.alice(), &s.id, &all)
        .unwrap();
    f.store
        .record_review(&f.north_reviewer(), &s.id, Decision::Returned, "check")
        .unwrap();
    assert!(matches!(
        f.store.submit_session(&f.alice(), &s.id),
        Err(Error::UnconfirmedWarnings { .. })
    ));
}

#[test]
fn a_visit_whose_notes_raise_a_new_warning_is_saved_only_once_it_is_confirmed() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    let mut edited = visit.clone();
    edited.notes = "chief's number 0912 345 678".into();
    let Err(Error::UnconfirmedWarnings { warnings }) = f.store.save_visit(&f.alice(), &edited)
    else {
        panic!("expected UnconfirmedWarnings");
    };
    let phone = warning("notes", WarningKind::Phone);
    assert_eq!(warnings, vec![phone.clone()]);
    assert_eq!(f.store.visit(&visit.id).unwrap().notes, "", "nothing saved");

    let saved = f
        .store
        .save_visit_confirming(&f.alice(), &edited, std::slice::from_ref(&phone))
        .unwrap();
    assert_eq!(f.store.visit(&visit.id).unwrap().notes, edited.notes);
    // Confirmed once: a later save that still raises it needs no new confirmation.
    let mut later = saved.clone();
    later.ended_at = Some(common::minutes_ago(10));
    f.store.save_visit(&f.alice(), &later).unwrap();
    // A new kind of warning is asked again.
    later.notes.push_str(", camp at 36N TF 12345 67890");
    assert!(matches!(
        f.store.save_visit(&f.alice(), &later),
        Err(Error::UnconfirmedWarnings { warnings })
            if warnings == vec![warning("notes", WarningKind::Coordinates)]
    ));
    // And a new visit is asked at creation.
    let mut new_visit = visit.clone();
    new_visit.id = fieldconsult_model::VisitId::new();
    new_visit.notes = "mail amina@example.org".into();
    assert!(matches!(
        f.store.save_visit(&f.alice(), &new_visit),
        Err(Error::UnconfirmedWarnings { warnings })
            if warnings == vec![warning("notes", WarningKind::Email)]
    ));
}
