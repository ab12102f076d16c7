//! The eight sync guarantees of DESIGN.md "Sync", each tried against the real server binary
//! on a loopback port, plus the review round trip between a team and a focal point and what
//! becomes of an edit that conflicts with another.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use fieldconsult_core::{Error, Store, SyncState};
use fieldconsult_e2e::{Device, Fault, Faulty, KINDS, Mission, complete_session};
use fieldconsult_model::wire::Record;
use fieldconsult_model::{Decision, Group, Status};
use fieldconsult_server::storage::Storage;

/// Every session is synced on the device and nothing waits in its outbox.
fn assert_all_synced(device: &Device) {
    assert_eq!(device.store.pending_count().unwrap(), 0, "outbox not empty");
    for s in device.summaries() {
        assert_eq!(
            s.sync_state,
            SyncState::Synced,
            "session {} not synced",
            s.id
        );
        assert!(!s.sync_pending);
    }
}

/// What a team device may see on the server: reference data and its team's records.
fn team_scope(mission: &Mission, device: &Device) -> BTreeMap<(String, String), String> {
    let team = device.team().to_string();
    mission.server_hashes(KINDS, |owner| owner.is_none_or(|o| o == team))
}

/// Each session id occurs once on the server, and no version of it was ever replaced.
fn assert_once_on_server(mission: &Mission, ids: &[String]) {
    let storage = mission.storage();
    let on_server = mission.server_session_ids();
    let unique: BTreeSet<_> = on_server.iter().collect();
    assert_eq!(unique.len(), on_server.len(), "a session is stored twice");
    for id in ids {
        assert!(unique.contains(id), "session {id} missing on the server");
        assert!(
            storage.history("session", id).unwrap().is_empty(),
            "session {id} was applied more than once"
        );
    }
}

#[test]
fn nothing_is_lost() {
    let mission = Mission::start();
    let team = mission.add_team("Engagement Team 3", "West");
    let device = mission.team_device(team, "tablet-1");
    let ids = device.submitted_sessions(120);
    assert_eq!(device.store.pending_count().unwrap(), 240);

    let report = device.sync_with(&mission.transport()).unwrap();
    assert_eq!(report.pushed, 240);
    assert_eq!(report.acknowledged, 240);
    assert_eq!(report.rejected + report.conflicts, 0);
    assert_all_synced(&device);

    // On the server, with the content the device holds.
    let device_hashes = device.hashes();
    let storage = mission.storage();
    let server: BTreeMap<String, String> = storage
        .records_of_kind("session")
        .unwrap()
        .into_iter()
        .map(|r| (r.record.id(), r.hash))
        .collect();
    assert_eq!(server.len(), 120);
    for id in &ids {
        assert_eq!(
            server.get(id),
            device_hashes.get(&("session".to_owned(), id.clone())),
            "session {id}"
        );
    }
    assert_eq!(storage.records_of_kind("visit").unwrap().len(), 120);

    // And another device of the team receives every one of them.
    let other = mission.team_device(team, "tablet-2");
    assert_eq!(other.session_ids(), ids.iter().cloned().collect());
}

#[test]
fn exactly_once_under_resent_batches() {
    let mission = Mission::start();
    let team = mission.add_team("Engagement Team 3", "West");
    let device = mission.team_device(team, "tablet-1");
    let mut ids = device.submitted_sessions(20);

    // Every push arrives twice; the client sees only the second answer.
    let twice = Faulty::new(mission.transport(), |_, r| {
        if r.path == "/v1/push" {
            Fault::SendTwice
        } else {
            Fault::Pass
        }
    });
    let report = device.sync_with(&twice).unwrap();
    assert_eq!(twice.pushes().len(), 1);
    assert_eq!(report.acknowledged, 40);
    assert_eq!(report.rejected + report.conflicts, 0);
    assert_all_synced(&device);
    assert_once_on_server(&mission, &ids);

    // The answer to a push is lost after the server committed it; the next sync resends.
    ids.extend(device.submitted_sessions(10));
    let lose_first_push = Faulty::new(mission.transport(), |i, r| {
        if i == 0 && r.path == "/v1/push" {
            Fault::LoseAnswer
        } else {
            Fault::Pass
        }
    });
    let err = device.sync_with(&lose_first_push).unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(device.store.pending_count().unwrap(), 20);
    for s in device
        .summaries()
        .iter()
        .filter(|s| s.sync_state != SyncState::Synced)
    {
        assert_eq!(s.sync_state, SyncState::Pending);
    }
    let report = device.sync_with(&mission.transport()).unwrap();
    assert_eq!(report.pushed, 20);
    assert_eq!(report.acknowledged, 20);
    assert_all_synced(&device);
    assert_once_on_server(&mission, &ids);

    // The server's change log holds each record once: a fresh device pulls exactly what the
    // server holds in scope, no more.
    let other = mission.unsynced_team_device(team, "tablet-2");
    let first = other.sync_with(&mission.transport()).unwrap();
    let in_scope = team_scope(&mission, &other);
    assert_eq!(
        first.pulled,
        in_scope.len() as u64,
        "the change log repeats records"
    );
    assert_eq!(other.session_ids().len(), 30);
    assert_eq!(other.hashes(), in_scope);
}

#[test]
fn convergence() {
    let mission = Mission::start();
    let team = mission.add_team("Engagement Team 3", "West");
    let other_team = mission.add_team("Engagement Team 4", "West");
    let device = mission.team_device(team, "tablet-1");
    let other = mission.team_device(other_team, "tablet-9");
    let reviewer = mission.reviewer_device("West", "focal-point");
    let ids = device.submitted_sessions(6);
    other.submitted_sessions(2);
    device.sync_with(&mission.transport()).unwrap();
    other.sync_with(&mission.transport()).unwrap();

    // The server changes records too: reviews move sessions on.
    reviewer.sync_with(&mission.transport()).unwrap();
    let accepted = ids[0].parse().unwrap();
    let returned = ids[1].parse().unwrap();
    reviewer
        .store
        .record_review(&reviewer.actor, &accepted, Decision::Accepted, "")
        .unwrap();
    reviewer
        .store
        .record_review(
            &reviewer.actor,
            &returned,
            Decision::Returned,
            "Please record the ages of the participants again.",
        )
        .unwrap();
    reviewer.sync_with(&mission.transport()).unwrap();

    // No new writes: two syncs each, then device and server agree record for record.
    for _ in 0..2 {
        device.sync_with(&mission.transport()).unwrap();
        reviewer.sync_with(&mission.transport()).unwrap();
    }
    let device_view = device.hashes();
    assert_eq!(device_view, team_scope(&mission, &device));
    assert!(
        device_view.contains_key(&("review".to_owned(), reviewer_review_id(&device, &returned)))
    );
    assert_eq!(device.session(&returned).session.status, Status::Returned);
    assert_eq!(device.session(&accepted).session.status, Status::Accepted);

    let reviewer_view = reviewer.hashes();
    assert_eq!(
        reviewer_view,
        mission.server_hashes(KINDS, |_| true),
        "the West reviewer sees both West teams"
    );
    assert_eq!(reviewer.session_ids().len(), 8);
}

fn reviewer_review_id(device: &Device, session: &fieldconsult_model::SessionId) -> String {
    device.session(session).reviews[0].id.to_string()
}

#[test]
fn urgent_first() {
    let mission = Mission::start();
    let team = mission.add_team("Engagement Team 3", "West");
    let device = mission.team_device(team, "tablet-1");
    // More routine records than one batch holds, recorded before the urgent one.
    let routine = device.submitted_sessions(255);
    let urgent = device.submitted_session(Group::Women, true);
    assert!(device.store.pending_count().unwrap() > 500);

    let recorder = Faulty::recording(mission.transport());
    let report = device.sync_with(&recorder).unwrap();
    assert_eq!(report.acknowledged, 512);
    let pushes = recorder.pushes();
    assert_eq!(
        pushes.len(),
        2,
        "512 records take two batches of at most 500"
    );
    let first: Vec<(&str, String)> = pushes[0]
        .records
        .iter()
        .map(|r| (r.kind(), r.id()))
        .collect();
    let position = |kind: &str, id: &str| first.iter().position(|(k, i)| *k == kind && i == id);
    let urgent_session = position("session", &urgent.id.to_string())
        .expect("the urgent session is in the first batch");
    let urgent_visit = position("visit", &urgent.visit_id.to_string())
        .expect("the urgent session's visit is in the first batch");
    assert!(
        urgent_session <= 1 && urgent_visit <= 1,
        "urgent records lead the first batch (session at {urgent_session}, visit at {urgent_visit})"
    );
    assert!(
        urgent_visit < urgent_session,
        "a visit goes before its sessions"
    );
    assert!(
        routine.iter().any(|id| pushes[1]
            .records
            .iter()
            .any(|r| r.kind() == "session" && r.id() == *id)),
        "routine sessions fill the later batch"
    );
    assert_all_synced(&device);
}

#[test]
fn resume_after_a_cut() {
    let mission = Mission::start();
    let team = mission.add_team("Engagement Team 3", "West");
    let device = mission.team_device(team, "tablet-1");
    let ids = device.submitted_sessions(300);
    assert_eq!(device.store.pending_count().unwrap(), 600);

    // The connection breaks at the second push batch.
    let pushes = Arc::new(AtomicUsize::new(0));
    let counter = pushes.clone();
    let cut = Faulty::new(mission.transport(), move |_, r| {
        if r.path == "/v1/push" && counter.fetch_add(1, Ordering::SeqCst) == 1 {
            Fault::Cut
        } else {
            Fault::Pass
        }
    });
    let err = device.sync_with(&cut).unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    // The first batch stays done; the cut one is pending again, nothing left `sent`.
    assert_eq!(device.store.pending_count().unwrap(), 100);
    let states: std::collections::HashSet<SyncState> =
        device.summaries().iter().map(|s| s.sync_state).collect();
    assert!(!states.contains(&SyncState::Sent), "{states:?}");
    assert_eq!(
        mission.storage().records_of_kind("session").unwrap().len(),
        250
    );

    // Then the answer to a batch is lost in the middle of the next try.
    let lose = Faulty::new(mission.transport(), |i, r| {
        if i == 0 && r.path == "/v1/push" {
            Fault::LoseAnswer
        } else {
            Fault::Pass
        }
    });
    device.sync_with(&lose).unwrap_err();
    assert_eq!(device.store.pending_count().unwrap(), 100);

    // The next sync resumes with what is left, and only that.
    let report = device.sync_with(&mission.transport()).unwrap();
    assert_eq!(report.pushed, 100);
    assert_eq!(report.acknowledged, 100);
    assert_all_synced(&device);
    assert_once_on_server(&mission, &ids);
    assert_eq!(mission.server_session_ids().len(), 300);
}

#[test]
fn idle_sync_is_one_small_request() {
    let mission = Mission::start();
    let team = mission.add_team("Engagement Team 3", "West");
    let device = mission.team_device(team, "tablet-1");
    device.submitted_sessions(30);
    device.sync_with(&mission.transport()).unwrap();
    device.sync_with(&mission.transport()).unwrap();

    let recorder = Faulty::recording(mission.transport());
    let report = device.sync_with(&recorder).unwrap();
    assert_eq!(report.requests, 1, "{:?}", recorder.sent());
    assert_eq!(recorder.sent().len(), 1);
    assert_eq!(report.pushed + report.pulled, 0);
    assert!(report.bytes_up < 1024, "{} bytes up", report.bytes_up);
    assert!(report.bytes_down < 1024, "{} bytes down", report.bytes_down);
}

#[test]
fn scope() {
    let mission = Mission::start();
    let team_a = mission.add_team("Engagement Team A", "West");
    let team_b = mission.add_team("Engagement Team B", "West");
    let team_c = mission.add_team("Engagement Team C", "East");
    let a = mission.team_device(team_a, "tablet-a");
    let b = mission.team_device(team_b, "tablet-b");
    let c = mission.team_device(team_c, "tablet-c");
    let west = mission.reviewer_device("West", "focal-west");
    let east = mission.reviewer_device("East", "focal-east");

    let ids_a: BTreeSet<String> = a.submitted_sessions(3).into_iter().collect();
    let ids_b: BTreeSet<String> = b.submitted_sessions(2).into_iter().collect();
    let ids_c: BTreeSet<String> = c.submitted_sessions(2).into_iter().collect();
    for _ in 0..2 {
        for d in [&a, &b, &c, &west, &east] {
            d.sync_with(&mission.transport()).unwrap();
        }
    }

    assert_eq!(a.session_ids(), ids_a, "team A sees only its own");
    assert_eq!(b.session_ids(), ids_b, "team B sees only its own");
    assert_eq!(c.session_ids(), ids_c);
    let west_expected: BTreeSet<String> = ids_a.union(&ids_b).cloned().collect();
    assert_eq!(
        west.session_ids(),
        west_expected,
        "West reviewer: both West teams"
    );
    assert_eq!(east.session_ids(), ids_c, "East reviewer: East only");

    // Nor do other teams' visits arrive.
    let visit_of_b = b.summaries()[0].visit_id;
    assert!(a.store.visit(&visit_of_b).is_err());
    assert!(east.store.visit(&visit_of_b).is_err());
    assert_eq!(a.hashes(), team_scope(&mission, &a));
}

#[test]
fn revocation() {
    let mission = Mission::start();
    let team = mission.add_team("Engagement Team 3", "West");
    let device = mission.team_device(team, "tablet-1");
    let colleague = mission.team_device(team, "tablet-2");
    device.submitted_sessions(2);
    device.sync_with(&mission.transport()).unwrap();
    let listed = mission.admin(&["devices"]);
    assert!(listed.contains(&device.enrolment.device_id), "{listed}");

    mission.revoke(&device.enrolment.device_id);
    device.submitted_sessions(1);
    let err = device.sync_with(&mission.transport()).unwrap_err();
    assert!(matches!(err, Error::Revoked), "{err:?}");
    for file in Store::files(&device.path) {
        assert!(!file.exists(), "{} survived the wipe", file.display());
    }
    assert!(matches!(device.store.pending_count(), Err(Error::Revoked)));
    assert!(matches!(
        device.sync_with(&mission.transport()),
        Err(Error::Revoked)
    ));
    // The session recorded after revocation never reached the server.
    assert_eq!(mission.server_session_ids().len(), 2);

    // The team's other device carries on.
    colleague.sync_with(&mission.transport()).unwrap();
    assert_eq!(colleague.session_ids().len(), 2);
}

#[test]
fn reviews_round_trip() {
    let mission = Mission::start();
    let team = mission.add_team("Engagement Team 3", "West");
    let device = mission.team_device(team, "tablet-1");
    let reviewer = mission.reviewer_device("West", "focal-point");
    let session = device.submitted_session(Group::Women, false);
    device.sync_with(&mission.transport()).unwrap();

    reviewer.sync_with(&mission.transport()).unwrap();
    assert_eq!(
        reviewer.session(&session.id).session.status,
        Status::Submitted
    );
    let comment = "The end time is missing from the notes; please check the counts.";
    reviewer
        .store
        .record_review(&reviewer.actor, &session.id, Decision::Returned, comment)
        .unwrap();
    reviewer.sync_with(&mission.transport()).unwrap();
    assert_all_synced(&reviewer);

    device.sync_with(&mission.transport()).unwrap();
    let returned = device.session(&session.id);
    assert_eq!(returned.session.status, Status::Returned);
    assert_eq!(returned.reviews.len(), 1);
    assert_eq!(returned.reviews[0].comment, comment);
    assert_eq!(returned.reviews[0].decision, Decision::Returned);

    let mut edited = returned.session.clone();
    edited.participants.female.age_60_plus = 3;
    device.store.save_session(&device.actor, &edited).unwrap();
    device
        .store
        .submit_session(&device.actor, &session.id)
        .unwrap();
    let report = device.sync_with(&mission.transport()).unwrap();
    assert_eq!(report.rejected + report.conflicts, 0, "{report:?}");
    assert_all_synced(&device);

    reviewer.sync_with(&mission.transport()).unwrap();
    let resubmitted = reviewer.session(&session.id);
    assert_eq!(resubmitted.session.status, Status::Submitted);
    assert_eq!(resubmitted.session.participants.female.age_60_plus, 3);
    reviewer
        .store
        .record_review(&reviewer.actor, &session.id, Decision::Accepted, "")
        .unwrap();
    let report = reviewer.sync_with(&mission.transport()).unwrap();
    assert_eq!(report.rejected + report.conflicts, 0, "{report:?}");
    device.sync_with(&mission.transport()).unwrap();
    reviewer.sync_with(&mission.transport()).unwrap();

    let on_device = device.session(&session.id);
    let on_reviewer = reviewer.session(&session.id);
    assert_eq!(on_device.session.status, Status::Accepted);
    assert_eq!(on_reviewer.session.status, Status::Accepted);
    assert_eq!(on_device.reviews.len(), 2);
    assert_eq!(on_device.reviews, on_reviewer.reviews);
    let server = mission
        .storage()
        .get_record("session", &session.id.to_string())
        .unwrap()
        .expect("on the server");
    let hash = Record::Session(Box::new(on_device.session.clone())).hash();
    assert_eq!(server.hash, hash);
    assert_eq!(
        Record::Session(Box::new(on_reviewer.session.clone())).hash(),
        hash
    );
    assert_eq!(device.hashes(), team_scope(&mission, &device));
    assert_eq!(reviewer.hashes(), mission.server_hashes(KINDS, |_| true));
}

#[test]
fn a_conflicting_edit_is_kept_and_shown_to_the_author_the_team_and_the_reviewer() {
    let mission = Mission::start();
    let team = mission.add_team("Engagement Team 4", "East");
    let first = mission.team_device(team, "tablet-1");
    let second = mission.team_device(team, "tablet-2");
    let reviewer = mission.reviewer_device("East", "focal-point");
    let visit = first.visit();
    let draft = first
        .store
        .save_session(&first.actor, &complete_session(&visit, Group::Women))
        .unwrap();
    first.sync_with(&mission.transport()).unwrap();
    second.sync_with(&mission.transport()).unwrap();

    // Both tablets edit the draft offline; the first one syncs first.
    let mut kept = first.session(&draft.id).session;
    kept.participants.female.age_60_plus = 4;
    let kept = first.store.save_session(&first.actor, &kept).unwrap();
    let mut lost = second.session(&draft.id).session;
    lost.participants.female.age_60_plus = 9;
    let lost = second.store.save_session(&second.actor, &lost).unwrap();
    let report = first.sync_with(&mission.transport()).unwrap();
    assert_eq!(report.conflicts, 0, "{report:?}");
    let report = second.sync_with(&mission.transport()).unwrap();
    assert_eq!(report.conflicts, 1, "{report:?}");

    // The author keeps the edit, marked as a conflict.
    let on_author = second.session(&draft.id);
    assert_eq!(on_author.session, lost);
    assert_eq!(on_author.sync_state, SyncState::Conflict);

    // The reviewer and the rest of the team see the kept version and the edit next to it.
    reviewer.sync_with(&mission.transport()).unwrap();
    first.sync_with(&mission.transport()).unwrap();
    for device in [&reviewer, &first] {
        let seen = device.session(&draft.id);
        assert_eq!(seen.session, kept);
        assert_eq!(seen.conflicts.len(), 1);
        let notice = &seen.conflicts[0];
        assert_eq!(*notice.lost, Record::Session(Box::new(lost.clone())));
        assert_eq!(notice.device_id, second.enrolment.device_id);
        assert_eq!(
            notice.kept_hash,
            Record::Session(Box::new(kept.clone())).hash()
        );
        let row = device
            .summaries()
            .into_iter()
            .find(|s| s.id == draft.id)
            .expect("listed");
        assert_eq!(row.conflicts, 1);
    }

    // The server kept the first version and filed the edit, once, in its history.
    let storage = mission.storage();
    let server = storage
        .get_record("session", &draft.id.to_string())
        .unwrap()
        .expect("on the server");
    assert_eq!(server.hash, Record::Session(Box::new(kept)).hash());
    let lost_hash = Record::Session(Box::new(lost)).hash();
    let filed: Vec<_> = storage
        .history("session", &draft.id.to_string())
        .unwrap()
        .into_iter()
        .filter(|h| h.outcome == "conflict_lost")
        .collect();
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0].hash, lost_hash);
}
