//! The outbox (what sync pushes, urgent first, change counters) and the append-only history.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Fixture, complete_session, make_urgent};
use fieldconsult_core::{Entity, OutboxEntry};
use fieldconsult_model::{Decision, Group, Status};

fn ids(entries: &[OutboxEntry]) -> Vec<(Entity, String)> {
    entries.iter().map(|e| (e.entity, e.id.clone())).collect()
}

#[test]
fn every_write_enqueues_its_record_once() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    let mut s = complete_session(&visit, Group::Women);
    f.store.save_session(&f.alice(), &s).unwrap();
    s.participants.female.unknown = 1;
    f.store.save_session(&f.alice(), &s).unwrap();
    let pending = f.store.pending_changes(100).unwrap();
    assert_eq!(
        ids(&pending),
        vec![
            (Entity::Visit, visit.id.to_string()),
            (Entity::Session, s.id.to_string())
        ]
    );
    assert_eq!(pending[1].changes, 2, "two saves, one row, counted twice");
    assert_eq!(f.store.pending_count().unwrap(), 2);
}

#[test]
fn urgent_sessions_and_their_visits_come_first() {
    let f = Fixture::new();
    let routine_visit = f.visit_of(&f.team_a);
    let routine = f
        .store
        .save_session(&f.alice(), &complete_session(&routine_visit, Group::Men))
        .unwrap();
    let urgent_visit = f.visit_of(&f.team_a);
    let mut urgent = complete_session(&urgent_visit, Group::Women);
    make_urgent(&mut urgent);
    let urgent = f.store.save_session(&f.alice(), &urgent).unwrap();

    let pending = f.store.pending_changes(100).unwrap();
    assert_eq!(
        ids(&pending),
        vec![
            (Entity::Visit, urgent_visit.id.to_string()),
            (Entity::Session, urgent.id.to_string()),
            (Entity::Visit, routine_visit.id.to_string()),
            (Entity::Session, routine.id.to_string()),
        ]
    );
    assert!(pending[0].urgent && pending[1].urgent && !pending[2].urgent);
    // The limit takes from the front of the queue.
    assert_eq!(
        f.store.pending_changes(1).unwrap()[0].id,
        urgent_visit.id.to_string()
    );
}

#[test]
fn acknowledged_records_leave_the_outbox() {
    let f = Fixture::new();
    f.saved_session(Group::Women);
    let batch = f.store.pending_changes(100).unwrap();
    f.store.acknowledge(&batch).unwrap();
    assert!(f.store.pending_changes(100).unwrap().is_empty());
    // Acknowledging twice (a resent acknowledgement) changes nothing.
    f.store.acknowledge(&batch).unwrap();
    assert_eq!(f.store.pending_count().unwrap(), 0);
}

#[test]
fn an_edit_made_during_an_upload_stays_queued() {
    let f = Fixture::new();
    let mut s = f.saved_session(Group::Women);
    let in_flight = f.store.pending_changes(100).unwrap();
    s.participants.female.age_12_17 = 3; // saved while the batch is on the wire
    f.store.save_session(&f.alice(), &s).unwrap();
    f.store.acknowledge(&in_flight).unwrap();
    let pending = f.store.pending_changes(100).unwrap();
    assert_eq!(ids(&pending), vec![(Entity::Session, s.id.to_string())]);
    assert_eq!(pending[0].changes, 1);
}

#[test]
fn reviews_addenda_and_device_communities_are_queued() {
    let f = Fixture::new();
    let s = f.submitted_session(Group::Women);
    f.store
        .acknowledge(&f.store.pending_changes(100).unwrap())
        .unwrap();
    let review = f
        .store
        .record_review(&f.north_reviewer(), &s.id, Decision::Accepted, "")
        .unwrap();
    let addendum = f
        .store
        .add_addendum(&f.alice(), &s.id, "Late arrival")
        .unwrap();
    let community = fieldconsult_model::Community {
        id: fieldconsult_model::CommunityId::new(),
        name: "New settlement".into(),
        admin_area: String::new(),
        location: None,
    };
    f.store.add_community(&f.alice(), &community).unwrap();
    assert_eq!(
        ids(&f.store.pending_changes(100).unwrap()),
        vec![
            (Entity::Review, review.id.to_string()),
            (Entity::Addendum, addendum.id.to_string()),
            (Entity::Community, community.id.to_string()),
        ]
    );
}

#[test]
fn history_records_who_did_what_and_when_for_every_write() {
    let f = Fixture::new();
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let mut s = f.saved_session(Group::Women);
    s.participants.female.unknown = 2;
    s.sensitive_note = "secret words".into();
    f.store.save_session(&f.alice(), &s).unwrap();
    f.store.submit_session(&f.alice(), &s.id).unwrap();
    f.store
        .record_review(
            &f.north_reviewer(),
            &s.id,
            Decision::Returned,
            "Check counts",
        )
        .unwrap();
    f.store.submit_session(&f.alice(), &s.id).unwrap();
    f.store
        .record_review(&f.north_reviewer(), &s.id, Decision::Accepted, "")
        .unwrap();

    let h = f.store.history(&s.id.to_string()).unwrap();
    let actions: Vec<_> = h.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["create", "edit", "submit", "return", "submit", "accept"]
    );
    let revisions: Vec<_> = h.iter().map(|e| e.revision.unwrap()).collect();
    assert_eq!(revisions, [1, 2, 3, 4, 5, 6]);
    let actors: Vec<&String> = h.iter().map(|e| &e.actor).collect();
    let (a, r) = (f.alice().id, f.north_reviewer().id);
    assert_eq!(actors, [&a, &a, &a, &r, &a, &r]);
    assert_eq!(h[3].from_status, Some(Status::Submitted));
    assert_eq!(h[3].to_status, Some(Status::Returned));
    assert!(h.iter().all(|e| e.at >= before && e.entity == "session"));
    let mut edited = h[1].fields.clone();
    edited.sort();
    assert_eq!(
        edited,
        ["participants", "sensitive_note"],
        "names of changed fields only"
    );
    assert!(
        h.iter().all(|e| !format!("{e:?}").contains("secret words")),
        "no values in history"
    );
}

#[test]
fn history_cannot_be_rewritten() {
    let f = Fixture::new();
    let s = f.saved_session(Group::Women);
    let (path, _dir) = f.close();
    let conn = common::raw_connection(&path);
    let err = conn
        .execute(
            "UPDATE history SET actor = 'someone else' WHERE entity_id = ?1",
            [s.id.to_string()],
        )
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}
