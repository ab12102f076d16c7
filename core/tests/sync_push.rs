//! Sync push against a fake in-process server: order, bounds, acknowledgements by hash, edits
//! during an upload, failures, resent batches, conflicts and refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_support;

use common::{Fixture, complete_session, key, make_urgent};
use fieldconsult_core::{Error, NoProgress, SessionFilter, Store, SyncState, TransportError};
use fieldconsult_model::wire::{MAX_BATCH_BYTES, MAX_BATCH_RECORDS, Record};
use fieldconsult_model::{Group, Session};
use sync_support::{FakeServer, Hook, network_error, problem};

fn enrolled() -> (Fixture, FakeServer) {
    let f = Fixture::new();
    let server = FakeServer::new(f.alice().role.clone());
    f.store
        .enrol(&server, "CODE-1234", "Team A tablet", None)
        .unwrap();
    (f, server)
}

fn state_of(store: &Store, s: &Session) -> SyncState {
    store.get_session(&s.id).unwrap().sync_state
}

/// `n` drafts of team A in one visit, each with `note_len` bytes of notes.
fn many_sessions(f: &Fixture, n: usize, note_len: usize) -> Vec<Session> {
    let visit = f.visit_of(&f.team_a);
    (0..n)
        .map(|_| {
            let mut s = complete_session(&visit, Group::Women);
            s.answers[0].note = "n".repeat(note_len);
            f.store.save_session(&f.alice(), &s).unwrap()
        })
        .collect()
}

#[test]
fn a_sync_pushes_everything_and_marks_it_synced_with_the_servers_hash() {
    let (f, server) = enrolled();
    let s = f.saved_session(Group::Women);
    assert_eq!(state_of(&f.store, &s), SyncState::Pending);
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.pushed, 2, "visit and session");
    assert_eq!(report.acknowledged, 2);
    assert_eq!(report.requests, 2, "one push, one pull");
    assert!(report.bytes_up > 0 && report.bytes_down > 0);
    assert_eq!(f.store.pending_count().unwrap(), 0);
    let record = f.store.get_session(&s.id).unwrap();
    assert_eq!(record.sync_state, SyncState::Synced);
    assert!(!record.sync_pending);
    assert_eq!(
        server.hash_of("session", &s.id.to_string()),
        Some(Record::Session(Box::new(record.session)).hash())
    );
    // An edit builds on the server's version: the server stores it, no conflict.
    let mut edited = s.clone();
    edited.sensitive_note = "edited".into();
    f.store.save_session(&f.alice(), &edited).unwrap();
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!((report.acknowledged, report.conflicts), (1, 0));
    assert_eq!(state_of(&f.store, &s), SyncState::Synced);
}

#[test]
fn urgent_records_go_in_the_first_batch() {
    let (f, server) = enrolled();
    many_sessions(&f, MAX_BATCH_RECORDS + 20, 0);
    let urgent_visit = f.visit_of(&f.team_a);
    let mut urgent = complete_session(&urgent_visit, Group::Men);
    make_urgent(&mut urgent);
    let urgent = f.store.save_session(&f.alice(), &urgent).unwrap();

    f.store.sync(&server, &NoProgress).unwrap();
    let pushes = server.pushes();
    assert!(pushes.len() >= 2);
    let first: Vec<String> = pushes[0].records.iter().map(Record::id).collect();
    assert_eq!(
        &first[..2],
        &[urgent_visit.id.to_string(), urgent.id.to_string()],
        "the urgent session and its visit lead the first batch"
    );
}

#[test]
fn batches_never_exceed_the_count_and_byte_limits() {
    let (f, server) = enrolled();
    // Small sessions fill batches by count; large ones by bytes.
    let small = many_sessions(&f, MAX_BATCH_RECORDS + 100, 0);
    let large = many_sessions(&f, 300, 4_000);
    let report = f.store.sync(&server, &NoProgress).unwrap();
    let total = small.len() + large.len() + 2;
    assert_eq!(report.pushed, total as u64);
    assert_eq!(report.acknowledged, total as u64);
    let pushes = server.pushes();
    assert!(pushes.len() >= 3);
    for p in &pushes {
        assert!(p.records.len() <= MAX_BATCH_RECORDS);
        assert!(p.json_len <= MAX_BATCH_BYTES);
        assert!(p.wire_len * 5 < p.json_len, "compressed at least 5×");
    }
    assert!(pushes.iter().any(|p| p.records.len() == MAX_BATCH_RECORDS));
    assert!(
        pushes
            .iter()
            .any(|p| p.records.len() < MAX_BATCH_RECORDS && p.json_len > MAX_BATCH_BYTES * 9 / 10),
        "a batch was cut by bytes"
    );
    assert_eq!(f.store.pending_count().unwrap(), 0);
}

#[test]
fn an_ack_with_another_hash_leaves_the_record_in_error_and_in_the_outbox() {
    let (f, server) = enrolled();
    let s = f.saved_session(Group::Women);
    server
        .state
        .lock()
        .unwrap()
        .mismatch_ids
        .insert(s.id.to_string());
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!((report.acknowledged, report.rejected), (1, 1));
    let record = f.store.get_session(&s.id).unwrap();
    assert_eq!(record.sync_state, SyncState::Error);
    assert_eq!(record.sync_error.as_deref(), Some("hash_mismatch"));
    assert!(record.sync_pending, "still in the outbox");
    // Retried on the next sync; once the server confirms, it is synced.
    server.state.lock().unwrap().mismatch_ids.clear();
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.acknowledged, 1);
    assert_eq!(state_of(&f.store, &s), SyncState::Synced);
}

#[test]
fn an_edit_made_while_the_push_is_in_flight_stays_pending() {
    let (f, server) = enrolled();
    let s = f.saved_session(Group::Women);
    let path = f.path.clone();
    let mut edited = s.clone();
    edited.sensitive_note = "changed during upload".into();
    let actor = f.alice();
    server.set_hook(move |_, req| {
        if req.path == "/v1/push" {
            let other = Store::open(&path, &key(7)).unwrap();
            other.save_session(&actor, &edited).unwrap();
        }
        Hook::Pass
    });
    let report = f.store.sync(&server, &NoProgress).unwrap();
    server.clear_hook();
    assert_eq!(report.acknowledged, 2);
    let record = f.store.get_session(&s.id).unwrap();
    assert!(record.sync_pending, "the edit is still to push");
    assert_eq!(record.sync_state, SyncState::Pending);
    assert_eq!(record.session.sensitive_note, "changed during upload");
    // The next sync pushes the edit on top of the acknowledged version: no conflict.
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(
        (report.pushed, report.acknowledged, report.conflicts),
        (1, 1, 0)
    );
    assert_eq!(state_of(&f.store, &s), SyncState::Synced);
    // Device and server agree on the session as it travels: without the plaintext note,
    // which stays on this device only.
    let held = server.hash_of("session", &s.id.to_string()).unwrap();
    let local = f.store.get_session(&s.id).unwrap().session;
    assert_eq!(local.sensitive_note, "changed during upload");
    let me = f.store.enrolment().unwrap().unwrap().device_id;
    assert_eq!(held, Record::Session(Box::new(local.as_sent(&me))).hash());
}

#[test]
fn a_failure_mid_sync_acknowledges_nothing_of_its_batch() {
    for failure in ["network", "5xx"] {
        let (f, server) = enrolled();
        let sessions = many_sessions(&f, MAX_BATCH_RECORDS + 50, 0);
        let mut pushes = 0;
        server.set_hook(move |_, req| {
            pushes += usize::from(req.path == "/v1/push");
            if req.path == "/v1/push" && pushes == 2 {
                // The second batch fails.
                return Hook::Answer(match failure {
                    "network" => Err(network_error()),
                    _ => Ok(problem(503, "/problems/internal")),
                });
            }
            Hook::Pass
        });
        let err = f.store.sync(&server, &NoProgress).unwrap_err();
        match failure {
            "network" => assert!(matches!(err, Error::Transport(_)), "{err:?}"),
            _ => assert!(matches!(err, Error::Server { status: 503, .. }), "{err:?}"),
        }
        server.clear_hook();
        let last = sessions.last().unwrap();
        assert_eq!(state_of(&f.store, last), SyncState::Pending, "not sent");
        assert_eq!(
            f.store.pending_count().unwrap(),
            51,
            "the failed batch stays"
        );
        let sent = f
            .store
            .list_sessions(
                &SessionFilter {
                    sync_state: Some(SyncState::Sent),
                    ..SessionFilter::default()
                },
                500,
                None,
            )
            .unwrap();
        assert!(sent.items.is_empty(), "nothing left `sent`");
        // Resumes where it stopped.
        let report = f.store.sync(&server, &NoProgress).unwrap();
        assert_eq!(report.pushed, 51);
        assert_eq!(f.store.pending_count().unwrap(), 0);
    }
}

#[test]
fn a_resent_batch_answered_already_stored_is_acknowledged() {
    let (f, server) = enrolled();
    let s = f.saved_session(Group::Men);
    server.set_hook(|_, req| {
        if req.path == "/v1/push" {
            Hook::LoseAnswer(TransportError::Timeout)
        } else {
            Hook::Pass
        }
    });
    let err = f.store.sync(&server, &NoProgress).unwrap_err();
    assert!(matches!(err, Error::Transport(TransportError::Timeout)));
    assert_eq!(
        f.store.pending_count().unwrap(),
        2,
        "not known to be stored"
    );
    assert_eq!(state_of(&f.store, &s), SyncState::Pending);
    server.clear_hook();
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.acknowledged, 2);
    assert_eq!(f.store.pending_count().unwrap(), 0);
    assert_eq!(state_of(&f.store, &s), SyncState::Synced);
    assert_eq!(
        server.state.lock().unwrap().records.len(),
        2,
        "no duplicate"
    );
}

#[test]
fn a_resent_change_carries_the_same_nonce_and_an_edited_one_another() {
    let (f, server) = enrolled();
    let s = f.saved_session(Group::Men);
    server.set_hook(|_, req| {
        if req.path == "/v1/push" {
            Hook::LoseAnswer(TransportError::Timeout)
        } else {
            Hook::Pass
        }
    });
    f.store.sync(&server, &NoProgress).unwrap_err();
    f.store.sync(&server, &NoProgress).unwrap_err();
    server.clear_hook();
    let mut edited = f.store.get_session(&s.id).unwrap().session;
    edited.answers[0].note = "changed".to_owned();
    f.store.save_session(&f.alice(), &edited).unwrap();
    f.store.sync(&server, &NoProgress).unwrap();
    let nonce_of = |push: &sync_support::Seen| {
        let c = push
            .changes
            .iter()
            .find(|c| c.record.kind() == "session")
            .unwrap();
        (c.nonce.unwrap(), c.signature.unwrap())
    };
    let pushes = server.pushes();
    assert_eq!(pushes.len(), 3);
    // Lost answers: the same change again, the same nonce and signature (a retry).
    assert_eq!(nonce_of(&pushes[0]), nonce_of(&pushes[1]));
    // Edited since: another change, another nonce.
    assert_ne!(nonce_of(&pushes[1]).0, nonce_of(&pushes[2]).0);
}

#[test]
fn a_conflict_is_kept_shown_and_not_pushed_again_until_edited() {
    let (f, server) = enrolled();
    let s = f.saved_session(Group::Women);
    server
        .state
        .lock()
        .unwrap()
        .conflict_ids
        .insert(s.id.to_string());
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.conflicts, 1);
    let conflicts = f
        .store
        .list_sessions(
            &SessionFilter {
                sync_state: Some(SyncState::Conflict),
                ..SessionFilter::default()
            },
            50,
            None,
        )
        .unwrap();
    assert_eq!(conflicts.items.len(), 1);
    assert_eq!(conflicts.items[0].sync_state, SyncState::Conflict);
    assert!(conflicts.items[0].sync_pending, "kept");
    // Not pushed again until edited.
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!((report.pushed, report.requests), (0, 1));
    server.state.lock().unwrap().conflict_ids.clear();
    let mut edited = s.clone();
    edited.sensitive_note = "resolved".into();
    f.store.save_session(&f.alice(), &edited).unwrap();
    assert_eq!(state_of(&f.store, &s), SyncState::Pending);
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.acknowledged, 1);
    assert_eq!(state_of(&f.store, &s), SyncState::Synced);
}

#[test]
fn a_rejected_record_is_in_error_with_the_reason_code() {
    let (f, server) = enrolled();
    let s = f.saved_session(Group::Women);
    server
        .state
        .lock()
        .unwrap()
        .reject_ids
        .insert(s.id.to_string(), "validation".into());
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.rejected, 1);
    let page = f
        .store
        .list_sessions(&SessionFilter::default(), 10, None)
        .unwrap();
    assert_eq!(page.items[0].sync_state, SyncState::Error);
    assert_eq!(page.items[0].sync_error.as_deref(), Some("validation"));
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.pushed, 0, "not pushed again until edited");
}

#[test]
fn a_session_refused_only_for_a_fast_device_clock_is_pushed_again_until_it_goes_through() {
    let (f, server) = enrolled();
    let s = f.saved_session(Group::Women);
    let id = s.id.to_string();
    server
        .state
        .lock()
        .unwrap()
        .in_future_ids
        .insert(id.clone());
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.rejected, 1);
    let row = f.store.get_session(&s.id).unwrap();
    assert_eq!(row.sync_state, SyncState::Error);
    assert_eq!(row.sync_error.as_deref(), Some("clock_ahead"));

    // Still ahead: sent again, refused again, kept.
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!((report.pushed, report.rejected), (1, 1));

    // The server's clock has passed it.
    server.state.lock().unwrap().in_future_ids.remove(&id);
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.acknowledged, 1);
    assert_eq!(state_of(&f.store, &s), SyncState::Synced);
}

#[test]
fn a_record_refused_for_a_missing_parent_follows_its_parent_without_an_edit() {
    let (f, server) = enrolled();
    let s = f.saved_session(Group::Men);
    let id = s.id.to_string();
    server
        .state
        .lock()
        .unwrap()
        .reject_ids
        .insert(id.clone(), "unknown_parent".into());
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.rejected, 1);
    server.state.lock().unwrap().reject_ids.remove(&id);
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.acknowledged, 1, "sent again, unedited");
    assert_eq!(state_of(&f.store, &s), SyncState::Synced);
}

#[test]
fn a_tombstone_travels_as_a_tombstone() {
    let (f, server) = enrolled();
    let s = f.saved_session(Group::Mixed);
    f.store.sync(&server, &NoProgress).unwrap();
    f.store.delete_draft(&f.alice(), &s.id).unwrap();
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.acknowledged, 1);
    let last = server.pushes().pop().unwrap();
    assert!(matches!(last.records[..], [Record::SessionTombstone(_)]));
    assert_eq!(f.store.pending_count().unwrap(), 0);
}
