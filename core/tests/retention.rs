//! Retention: accepted entries the server holds leave the device after the set period;
//! nothing unsynced or recent is ever purged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, Utc};
use common::Fixture;
use fieldconsult_core::Error;
use fieldconsult_model::{Decision, Group, Session};

fn accepted(f: &Fixture, group: Group) -> Session {
    let s = f.submitted_session(group);
    f.store
        .record_review(&f.north_reviewer(), &s.id, Decision::Accepted, "")
        .unwrap();
    s
}

fn sync_everything(f: &Fixture) {
    f.store
        .acknowledge(&f.store.pending_changes(10_000).unwrap())
        .unwrap();
}

#[test]
fn accepted_and_synced_sessions_older_than_the_period_are_purged_with_their_trail() {
    let f = Fixture::new();
    let old = accepted(&f, Group::Women);
    f.store
        .add_addendum(&f.alice(), &old.id, "correction")
        .unwrap();
    sync_everything(&f);
    let in_40_days = Utc::now() + Duration::days(40);
    assert_eq!(f.store.purge_retention_at(30, in_40_days).unwrap(), 1);
    assert!(matches!(
        f.store.get_session(&old.id).unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(f.store.history(&old.id.to_string()).unwrap().is_empty());
    assert!(
        matches!(
            f.store.visit(&old.visit_id).unwrap_err(),
            Error::NotFound { .. }
        ),
        "empty visit goes too"
    );
}

#[test]
fn nothing_unsynced_recent_or_unaccepted_is_purged() {
    let f = Fixture::new();
    let unsynced = accepted(&f, Group::Women);
    let draft = f.saved_session(Group::Men);
    let submitted = f.submitted_session(Group::Mixed);
    sync_everything(&f);
    let recent = accepted(&f, Group::Men);
    // `unsynced` gets a new addendum the server has not acknowledged yet.
    f.store
        .add_addendum(&f.alice(), &unsynced.id, "late correction")
        .unwrap();

    let in_40_days = Utc::now() + Duration::days(40);
    let purged = f.store.purge_retention_at(30, in_40_days).unwrap();
    // `recent` was accepted now but is also unsynced (its review is queued): kept.
    assert_eq!(purged, 0);
    for s in [&unsynced, &draft, &submitted, &recent] {
        assert!(f.store.get_session(&s.id).is_ok());
    }
    sync_everything(&f);
    assert_eq!(
        f.store.purge_retention_at(30, Utc::now()).unwrap(),
        0,
        "not old enough"
    );
    assert_eq!(f.store.purge_retention_at(30, in_40_days).unwrap(), 2);
    assert!(f.store.get_session(&draft.id).is_ok() && f.store.get_session(&submitted.id).is_ok());
}

#[test]
fn a_visit_keeps_living_while_it_has_other_sessions() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    let a = f
        .store
        .save_session(&f.alice(), &common::complete_session(&visit, Group::Women))
        .unwrap();
    let b = f
        .store
        .save_session(&f.alice(), &common::complete_session(&visit, Group::Men))
        .unwrap();
    f.store.submit_session(&f.alice(), &a.id).unwrap();
    f.store
        .record_review(&f.north_reviewer(), &a.id, Decision::Accepted, "")
        .unwrap();
    sync_everything(&f);
    assert_eq!(
        f.store
            .purge_retention_at(1, Utc::now() + Duration::days(2))
            .unwrap(),
        1
    );
    assert!(f.store.visit(&visit.id).is_ok());
    assert!(f.store.get_session(&b.id).is_ok());
}

#[test]
fn acknowledged_tombstones_are_purged() {
    let f = Fixture::new();
    let s = f.saved_session(Group::Women);
    f.store.delete_draft(&f.alice(), &s.id).unwrap();
    assert_eq!(
        f.store.purge_retention(30).unwrap(),
        0,
        "tombstone not yet pushed"
    );
    sync_everything(&f);
    assert_eq!(f.store.purge_retention(30).unwrap(), 1);
}
