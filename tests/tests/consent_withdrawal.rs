//! Consent withdrawal end to end, against the real server binary on loopback: withdrawn
//! before sync, nothing of the session ever leaves the phone; withdrawn after sync, the
//! server and the focal point's tablet delete their copies, and the withdrawal is all that
//! is left anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use fieldconsult_core::{Error, Withdrawal};
use fieldconsult_e2e::{Faulty, Mission};
use fieldconsult_model::Group;
use fieldconsult_model::wire::Record;
use fieldconsult_server::storage::Storage;

#[test]
fn withdrawn_before_sync_nothing_of_the_session_reaches_the_server() {
    let mission = Mission::start();
    let team = mission.add_team("Engagement Team 3", "West");
    let device = mission.team_device(team, "tablet-1");
    let kept = device.submitted_session(Group::Men, false);
    let withdrawn = device.submitted_session(Group::Women, true);
    assert_eq!(
        device
            .store
            .withdraw_consent(&device.actor, &withdrawn.id)
            .unwrap(),
        Withdrawal::Erased
    );

    let recording = Faulty::recording(mission.transport());
    device.sync_with(&recording).unwrap();
    let id = withdrawn.id.to_string();
    let pushes = recording.pushes();
    assert!(!pushes.is_empty(), "the kept session was pushed");
    for push in pushes {
        for r in &push.records {
            assert!(
                !serde_json::to_string(r).unwrap().contains(&id),
                "a pushed {} names the withdrawn session",
                r.kind()
            );
        }
    }
    let on_server = mission.server_session_ids();
    assert!(on_server.contains(&kept.id.to_string()));
    assert!(!on_server.contains(&id));
}

#[test]
fn withdrawn_after_sync_the_server_and_the_focal_point_delete_their_copies() {
    let mission = Mission::start();
    let team = mission.add_team("Engagement Team 3", "West");
    let device = mission.team_device(team, "tablet-1");
    let reviewer = mission.reviewer_device("West", "focal-point");
    let session = device.submitted_session(Group::Women, false);
    device.sync_with(&mission.transport()).unwrap();
    reviewer.sync_with(&mission.transport()).unwrap();
    reviewer
        .store
        .record_review(
            &reviewer.actor,
            &session.id,
            fieldconsult_model::Decision::Returned,
            "Please check the counts.",
        )
        .unwrap();
    reviewer.sync_with(&mission.transport()).unwrap();
    device.sync_with(&mission.transport()).unwrap();
    assert_eq!(device.session(&session.id).reviews.len(), 1);

    assert_eq!(
        device
            .store
            .withdraw_consent(&device.actor, &session.id)
            .unwrap(),
        Withdrawal::Queued
    );
    device.sync_with(&mission.transport()).unwrap();
    assert!(device.store.pending_withdrawals().unwrap().is_empty());

    let id = session.id.to_string();
    assert!(!mission.server_session_ids().contains(&id));
    let storage = mission.storage();
    assert!(storage.history("session", &id).unwrap().is_empty());
    assert!(storage.records_of_kind("review").unwrap().is_empty());
    assert!(matches!(
        storage.get_record("consent_withdrawal", &id).unwrap().map(|r| r.record),
        Some(Record::ConsentWithdrawal(w)) if w.session_id == session.id
    ));

    // The focal point's copy goes at its next sync, reviews and all.
    reviewer.sync_with(&mission.transport()).unwrap();
    assert!(matches!(
        reviewer.store.get_session(&session.id),
        Err(Error::NotFound { .. })
    ));
    assert!(!reviewer.session_ids().contains(&id));
    assert_eq!(reviewer.store.pending_count().unwrap(), 0);

    // Everyone agrees afterwards: another sync moves nothing about it.
    let recording = Faulty::recording(mission.transport());
    device.sync_with(&recording).unwrap();
    assert!(recording.pushes().is_empty());
}
