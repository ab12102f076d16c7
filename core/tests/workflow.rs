//! Every store operation on sessions, and the workflow it enforces: draft → submitted →
//! accepted, or submitted → returned → submitted; who may do what.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Fixture, complete_session, minutes_ago};
use fieldconsult_core::Error;
use fieldconsult_model::{
    Action, Decision, Group, Problem, Referral, ReferralServiceId, Session, Status,
    TransitionError, Visit, VisitId,
};

fn validation(err: Error) -> fieldconsult_model::ValidationErrors {
    match err {
        Error::Validation(v) => v,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn saved_draft_reads_back_identical_with_revision_one() {
    let f = Fixture::new();
    let s = f.saved_session(Group::Women);
    let rec = f.store.get_session(&s.id).unwrap();
    assert_eq!(rec.session, s);
    assert_eq!(rec.session.status, Status::Draft);
    assert_eq!(rec.revision, 1);
    assert!(rec.sync_pending);
    assert!(rec.reviews.is_empty() && rec.addenda.is_empty());
}

#[test]
fn editing_a_draft_bumps_its_revision() {
    let f = Fixture::new();
    let mut s = f.saved_session(Group::Men);
    s.participants.male.age_60_plus = 3;
    f.store.save_session(&f.alice(), &s).unwrap();
    let rec = f.store.get_session(&s.id).unwrap();
    assert_eq!(rec.revision, 2);
    assert_eq!(rec.session.participants.male.age_60_plus, 3);
}

#[test]
fn incomplete_draft_saves_but_cannot_be_submitted_and_stays_unchanged() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    let draft = Session::new_draft(visit.id, Group::Women, minutes_ago(10));
    f.store.save_session(&f.alice(), &draft).unwrap();

    let err = validation(f.store.submit_session(&f.alice(), &draft.id).unwrap_err());
    for field in [
        "participants",
        "consent.verbal_informed",
        "ended_at",
        "answers.community_status",
    ] {
        assert_eq!(
            err.problem(field),
            Some(&Problem::Required),
            "{field} in {err}"
        );
    }
    let rec = f.store.get_session(&draft.id).unwrap();
    assert_eq!(rec.session.status, Status::Draft);
    assert_eq!(rec.revision, 1);
}

#[test]
fn invalid_save_names_every_field_and_changes_nothing() {
    let f = Fixture::new();
    let s = f.saved_session(Group::Women);
    let mut bad = s.clone();
    bad.participants.male.age_18_29 = 2;
    bad.priorities[1].rank = 1;
    bad.sensitive_note = "bell\u{7}".into();
    let err = validation(f.store.save_session(&f.alice(), &bad).unwrap_err());
    assert_eq!(
        err.problem("participants.male.age_18_29"),
        Some(&Problem::WrongSexForGroup {
            group: Group::Women
        })
    );
    assert_eq!(err.problem("priorities[1].rank"), Some(&Problem::Duplicate));
    assert_eq!(
        err.problem("sensitive_note"),
        Some(&Problem::ControlCharacter)
    );
    let rec = f.store.get_session(&s.id).unwrap();
    assert_eq!(rec.session, s);
    assert_eq!(rec.revision, 1);
}

#[test]
fn session_of_an_unknown_visit_or_referral_service_is_refused() {
    let f = Fixture::new();
    let ghost = Visit {
        id: VisitId::new(),
        team_id: f.team_a.id,
        community_id: f.community.id,
        started_at: minutes_ago(5),
        ended_at: None,
        notes: String::new(),
    };
    let err = validation(
        f.store
            .save_session(&f.alice(), &complete_session(&ghost, Group::Men))
            .unwrap_err(),
    );
    assert_eq!(err.problem("visit_id"), Some(&Problem::Unknown));

    let visit = f.visit_of(&f.team_a);
    let mut s = complete_session(&visit, Group::Women);
    s.referral = Some(Referral::to(ReferralServiceId::new()));
    let err = validation(f.store.save_session(&f.alice(), &s).unwrap_err());
    assert_eq!(err.problem("referral.service_id"), Some(&Problem::Unknown));
    s.referral = Some(Referral::to(f.referral.id));
    f.store.save_session(&f.alice(), &s).unwrap();
}

#[test]
fn status_cannot_be_changed_by_saving() {
    let f = Fixture::new();
    let mut s = f.saved_session(Group::Women);
    s.status = Status::Accepted;
    let err = validation(f.store.save_session(&f.alice(), &s).unwrap_err());
    assert_eq!(err.problem("status"), Some(&Problem::ReadOnly));
    assert_eq!(
        f.store.get_session(&s.id).unwrap().session.status,
        Status::Draft
    );
}

#[test]
fn complete_session_submits() {
    let f = Fixture::new();
    let s = f.submitted_session(Group::Women);
    assert_eq!(s.status, Status::Submitted);
    let rec = f.store.get_session(&s.id).unwrap();
    assert_eq!(rec.session.status, Status::Submitted);
    assert_eq!(rec.revision, 2);
}

#[test]
fn submitted_session_cannot_be_edited_by_its_team() {
    let f = Fixture::new();
    let mut s = f.submitted_session(Group::Women);
    s.participants.female.unknown = 1;
    let err = f.store.save_session(&f.alice(), &s).unwrap_err();
    assert!(matches!(
        err,
        Error::Transition(TransitionError::NotAllowed {
            from: Status::Submitted,
            action: Action::Edit
        })
    ));
}

#[test]
fn returned_session_can_be_edited_and_resubmitted() {
    let f = Fixture::new();
    let s = f.submitted_session(Group::Men);
    let review = f
        .store
        .record_review(
            &f.north_reviewer(),
            &s.id,
            Decision::Returned,
            "Please add the age of the participants",
        )
        .unwrap();
    assert_eq!(review.reviewer, f.north_reviewer().id);
    let mut returned = f.store.get_session(&s.id).unwrap().session;
    assert_eq!(returned.status, Status::Returned);
    returned.participants.male.age_12_17 = 2;
    f.store.save_session(&f.alice(), &returned).unwrap();
    let again = f.store.submit_session(&f.alice(), &s.id).unwrap();
    assert_eq!(again.status, Status::Submitted);
    assert_eq!(again.participants.male.age_12_17, 2);
    let rec = f.store.get_session(&s.id).unwrap();
    assert_eq!(rec.reviews.len(), 1);
    assert_eq!(rec.reviews[0].decision, Decision::Returned);
}

#[test]
fn returning_without_a_comment_is_refused() {
    let f = Fixture::new();
    let s = f.submitted_session(Group::Women);
    let err = validation(
        f.store
            .record_review(&f.north_reviewer(), &s.id, Decision::Returned, "  ")
            .unwrap_err(),
    );
    assert_eq!(err.problem("comment"), Some(&Problem::Required));
    assert_eq!(
        f.store.get_session(&s.id).unwrap().session.status,
        Status::Submitted
    );
}

#[test]
fn accepted_session_is_final_and_takes_only_addenda() {
    let f = Fixture::new();
    let s = f.submitted_session(Group::Women);
    f.store
        .record_review(&f.north_reviewer(), &s.id, Decision::Accepted, "")
        .unwrap();
    let mut accepted = f.store.get_session(&s.id).unwrap().session;
    assert_eq!(accepted.status, Status::Accepted);

    accepted.participants.female.unknown = 4;
    assert!(matches!(
        f.store.save_session(&f.alice(), &accepted).unwrap_err(),
        Error::Transition(_)
    ));
    assert!(matches!(
        f.store
            .record_review(&f.north_reviewer(), &s.id, Decision::Returned, "late")
            .unwrap_err(),
        Error::Transition(TransitionError::NotAllowed {
            from: Status::Accepted,
            ..
        })
    ));
    assert!(matches!(
        f.store.delete_draft(&f.alice(), &s.id).unwrap_err(),
        Error::Transition(_)
    ));

    let addendum = f
        .store
        .add_addendum(&f.alice(), &s.id, "Two more women joined late")
        .unwrap();
    let rec = f.store.get_session(&s.id).unwrap();
    assert_eq!(rec.addenda, vec![addendum]);
    assert_eq!(
        rec.session.participants.female.unknown, 0,
        "accepted content never changes"
    );
}

#[test]
fn addendum_to_a_session_not_yet_accepted_is_refused() {
    let f = Fixture::new();
    let s = f.submitted_session(Group::Women);
    assert!(matches!(
        f.store.add_addendum(&f.alice(), &s.id, "note").unwrap_err(),
        Error::Transition(TransitionError::NotAllowed {
            from: Status::Submitted,
            action: Action::AddAddendum
        })
    ));
}

#[test]
fn only_the_authoring_team_edits_and_only_reviewers_of_its_sector_review() {
    let f = Fixture::new();
    let s = f.saved_session(Group::Women);
    let bob = f.member(&f.team_b);
    assert!(matches!(
        f.store.save_session(&bob, &s).unwrap_err(),
        Error::Transition(TransitionError::NotPermitted {
            action: Action::Edit
        })
    ));
    assert!(matches!(
        f.store.submit_session(&bob, &s.id).unwrap_err(),
        Error::Transition(_)
    ));
    assert!(matches!(
        f.store.delete_draft(&bob, &s.id).unwrap_err(),
        Error::Transition(_)
    ));
    assert!(matches!(
        f.store.save_session(&f.north_reviewer(), &s).unwrap_err(),
        Error::Transition(_)
    ));

    f.store.submit_session(&f.alice(), &s.id).unwrap();
    let south = f.reviewer("South");
    assert!(matches!(
        f.store
            .record_review(&south, &s.id, Decision::Accepted, "")
            .unwrap_err(),
        Error::Transition(TransitionError::NotPermitted {
            action: Action::Accept
        })
    ));
    assert!(matches!(
        f.store
            .record_review(&f.alice(), &s.id, Decision::Accepted, "")
            .unwrap_err(),
        Error::Transition(TransitionError::NotPermitted { .. })
    ));
    assert_eq!(
        f.store.get_session(&s.id).unwrap().session.status,
        Status::Submitted
    );
}

#[test]
fn a_team_cannot_move_another_teams_session_into_its_visit() {
    let f = Fixture::new();
    let s = f.saved_session(Group::Women);
    let bob = f.member(&f.team_b);
    let bobs_visit = f.visit_of(&f.team_b);
    let mut stolen = s.clone();
    stolen.visit_id = bobs_visit.id;
    assert!(matches!(
        f.store.save_session(&bob, &stolen).unwrap_err(),
        Error::Transition(_)
    ));
    assert_eq!(
        f.store.get_session(&s.id).unwrap().session.visit_id,
        s.visit_id
    );
}

#[test]
fn deleted_draft_leaves_a_tombstone_that_reaches_the_outbox() {
    let f = Fixture::new();
    let s = f.saved_session(Group::Mixed);
    f.store
        .acknowledge(&f.store.pending_changes(100).unwrap())
        .unwrap();
    f.store.delete_draft(&f.alice(), &s.id).unwrap();
    assert!(matches!(
        f.store.get_session(&s.id).unwrap_err(),
        Error::NotFound {
            entity: "session",
            ..
        }
    ));
    let listed = f
        .store
        .list_sessions(&Default::default(), 50, None)
        .unwrap();
    assert!(listed.items.iter().all(|x| x.id != s.id));
    let pending = f.store.pending_changes(100).unwrap();
    assert!(pending.iter().any(|e| e.id == s.id.to_string()));
    // Saving over the tombstone does not bring the content back.
    assert!(matches!(
        f.store.save_session(&f.alice(), &s).unwrap_err(),
        Error::NotFound { .. }
    ));
    let history = f.store.history(&s.id.to_string()).unwrap();
    assert_eq!(history.last().unwrap().action, "delete");
}

#[test]
fn submitted_session_cannot_be_deleted() {
    let f = Fixture::new();
    let s = f.submitted_session(Group::Men);
    assert!(matches!(
        f.store.delete_draft(&f.alice(), &s.id).unwrap_err(),
        Error::Transition(TransitionError::NotAllowed {
            from: Status::Submitted,
            action: Action::Delete
        })
    ));
    assert!(f.store.get_session(&s.id).is_ok());
}

#[test]
fn unknown_ids_are_not_found() {
    let f = Fixture::new();
    let id = fieldconsult_model::SessionId::new();
    assert!(matches!(
        f.store.get_session(&id).unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        f.store.submit_session(&f.alice(), &id).unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        f.store
            .record_review(&f.north_reviewer(), &id, Decision::Accepted, "")
            .unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        f.store.visit(&VisitId::new()).unwrap_err(),
        Error::NotFound {
            entity: "visit",
            ..
        }
    ));
}

#[test]
fn visit_is_saved_by_its_own_team_only() {
    let f = Fixture::new();
    let mut visit = f.visit_of(&f.team_a);
    visit.notes = "Market day; many men away".into();
    visit.ended_at = Some(minutes_ago(1));
    f.store.save_visit(&f.alice(), &visit).unwrap();
    assert_eq!(f.store.visit(&visit.id).unwrap(), visit);
    assert!(matches!(
        f.store
            .save_visit(&f.member(&f.team_b), &visit)
            .unwrap_err(),
        Error::Transition(_)
    ));
    let mut bad = visit.clone();
    bad.ended_at = Some(minutes_ago(500));
    let err = validation(f.store.save_visit(&f.alice(), &bad).unwrap_err());
    assert_eq!(err.problem("ended_at"), Some(&Problem::BeforeStart));
}

#[test]
fn reference_data_rejects_invalid_items_by_index_and_stores_none() {
    let f = Fixture::new();
    let mut good = f.team_a.clone();
    good.name = "Renamed".into();
    let mut bad = f.team_b.clone();
    bad.name = String::new();
    let err = validation(f.store.upsert_teams(&[good, bad]).unwrap_err());
    assert_eq!(err.problem("teams[1].name"), Some(&Problem::Required));
    assert!(f.store.teams().unwrap().iter().all(|t| t.name != "Renamed"));
}

#[test]
fn community_locations_are_coarsened_to_about_a_kilometre() {
    let f = Fixture::new();
    let stored = f.store.communities().unwrap();
    let loc = stored[0].location.unwrap();
    assert!(
        (loc.lat - 11.01).abs() < 1e-9 && (loc.lon - 29.72).abs() < 1e-9,
        "{loc:?}"
    );
}

#[test]
fn published_checklist_version_is_immutable() {
    let f = Fixture::new();
    let mut changed = fieldconsult_model::ChecklistTemplate::default_v1();
    f.store.publish_checklist(&changed).unwrap(); // same content: idempotent
    changed.topics[0].required = false;
    let err = validation(f.store.publish_checklist(&changed).unwrap_err());
    assert_eq!(err.problem("version"), Some(&Problem::Duplicate));
    assert_eq!(
        f.store.checklist(1).unwrap(),
        fieldconsult_model::ChecklistTemplate::default_v1()
    );
}
