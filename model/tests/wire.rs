//! The sync protocol's shared pieces: content hashes and record envelopes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use fieldconsult_model::wire::{Record, content_hash, in_scope};
use fieldconsult_model::{Group, Role, Session, Team, TeamId, VisitId};

fn session() -> Session {
    let at = Utc
        .with_ymd_and_hms(2026, 11, 20, 9, 0, 0)
        .unwrap()
        .fixed_offset();
    Session::new_draft(VisitId::new(), Group::Women, at)
}

#[test]
fn equal_content_has_equal_hashes_across_a_json_round_trip() {
    let record = Record::Session(Box::new(session()));
    let json = serde_json::to_string(&record).unwrap();
    let back: Record = serde_json::from_str(&json).unwrap();
    assert_eq!(back.hash(), record.hash());
    assert_eq!(record.hash().len(), 64);
}

#[test]
fn any_change_of_content_changes_the_hash() {
    let s = session();
    let mut t = s.clone();
    t.participants.female.age_18_29 = 1;
    assert_ne!(content_hash(&s), content_hash(&t));
}

#[test]
fn records_travel_tagged_by_kind() {
    let record = Record::Session(Box::new(session()));
    let json: serde_json::Value = serde_json::to_value(&record).unwrap();
    assert_eq!(json["kind"], "session");
    assert_eq!(json["record"]["group"], "women");
    assert_eq!(record.kind(), "session");
}

#[test]
fn scope_is_the_team_for_members_and_the_sector_for_reviewers() {
    let team = Team {
        id: TeamId::new(),
        name: "T".into(),
        sector: "North".into(),
    };
    assert!(in_scope(&Role::TeamMember { team_id: team.id }, &team));
    assert!(!in_scope(
        &Role::TeamMember {
            team_id: TeamId::new()
        },
        &team
    ));
    assert!(in_scope(
        &Role::Reviewer {
            sector: "North".into()
        },
        &team
    ));
    assert!(!in_scope(
        &Role::Reviewer {
            sector: "South".into()
        },
        &team
    ));
}

#[test]
fn headquarters_and_admin_have_no_record_in_scope() {
    let team = Team {
        id: TeamId::new(),
        name: "T".into(),
        sector: "North".into(),
    };
    assert!(!in_scope(&Role::HqAnalyst, &team));
    assert!(!in_scope(&Role::Admin, &team));
}

#[test]
fn new_roles_travel_as_their_kind_alone() {
    assert_eq!(
        serde_json::to_string(&Role::HqAnalyst).unwrap(),
        r#"{"kind":"hq_analyst"}"#
    );
    assert_eq!(
        serde_json::from_str::<Role>(r#"{"kind":"admin"}"#).unwrap(),
        Role::Admin
    );
}
