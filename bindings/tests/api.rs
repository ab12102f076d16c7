//! The FFI layer as Rust sees it: conversions both ways, typed errors for malformed input,
//! closing and wiping. The Kotlin tests exercise the same API through the generated code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldconsult_ffi::{
    Community, FieldConsultError, FieldConsultStore, Identity, Role, SessionFilter, Team, Visit,
    default_checklist, new_id, new_session_draft,
};
use fieldconsult_model::{Group, Status};

struct Env {
    _dir: tempfile::TempDir,
    path: String,
    store: std::sync::Arc<FieldConsultStore>,
    team: Team,
    community: Community,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fc.db").to_string_lossy().into_owned();
    let store = FieldConsultStore::open(path.clone(), Some(vec![3; 32]), false).unwrap();
    let team = Team {
        id: new_id(),
        name: "Team 1".into(),
        sector: "West".into(),
    };
    let community = Community {
        id: new_id(),
        name: "Bor".into(),
        admin_area: "Jonglei".into(),
        location: None,
    };
    store.upsert_teams(vec![team.clone()]).unwrap();
    store.upsert_communities(vec![community.clone()]).unwrap();
    store.publish_checklist(default_checklist()).unwrap();
    Env {
        _dir: dir,
        path,
        store,
        team,
        community,
    }
}

fn member(team: &Team) -> Identity {
    Identity {
        id: "m1".into(),
        role: Role::TeamMember {
            team_id: team.id.clone(),
        },
    }
}

fn visit(e: &Env) -> Visit {
    e.store
        .save_visit(
            member(&e.team),
            Visit {
                id: new_id(),
                team_id: e.team.id.clone(),
                community_id: e.community.id.clone(),
                started_at: "2026-11-20T08:30:00+03:00".into(),
                ended_at: None,
                notes: String::new(),
            },
        )
        .unwrap()
}

/// A women's session in a new visit, complete enough to submit.
fn complete_draft(e: &Env) -> fieldconsult_ffi::Session {
    let v = visit(e);
    let mut s = new_session_draft(v.id, Group::Women, "2026-11-20T09:00:00+03:00".into()).unwrap();
    s.participants.female.age_18_29 = 4;
    s.consent.verbal_informed = true;
    s.ended_at = Some("2026-11-20T10:00:00+03:00".into());
    s.answers = default_checklist()
        .topics
        .iter()
        .filter(|t| t.required)
        .map(|t| fieldconsult_model::ChecklistAnswer {
            topic: t.code.clone(),
            response: fieldconsult_model::TopicResponse::Discussed,
            note: String::new(),
        })
        .collect();
    s
}

#[test]
fn times_keep_their_offset_across_the_boundary() {
    let e = env();
    let v = visit(&e);
    assert_eq!(v.started_at, "2026-11-20T08:30:00.000+03:00");
    let mut s = new_session_draft(
        v.id.clone(),
        Group::Women,
        "2026-11-20T09:00:00.123+03:00".into(),
    )
    .unwrap();
    s.participants.female.age_18_29 = 4;
    let saved = e.store.save_session(member(&e.team), s.clone()).unwrap();
    assert_eq!(saved.started_at, "2026-11-20T09:00:00.123+03:00");
    assert_eq!(e.store.get_session(s.id.clone()).unwrap().session, saved);
}

#[test]
fn malformed_ids_and_times_are_validation_errors_naming_every_field() {
    let e = env();
    let bad = Visit {
        id: "not-a-uuid".into(),
        team_id: e.team.id.clone(),
        community_id: "x".into(),
        started_at: "yesterday".into(),
        ended_at: Some("2026-13-01T00:00:00Z".into()),
        notes: String::new(),
    };
    let Err(FieldConsultError::Validation { problems }) = e.store.save_visit(member(&e.team), bad)
    else {
        panic!("expected Validation");
    };
    let fields: Vec<_> = problems
        .iter()
        .map(|p| (p.field.as_str(), p.code.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("id", "invalid_format"),
            ("community_id", "invalid_format"),
            ("started_at", "invalid_format"),
            ("ended_at", "invalid_format")
        ]
    );
}

#[test]
fn list_items_are_named_by_index() {
    let e = env();
    let teams = vec![
        Team {
            id: new_id(),
            name: "ok".into(),
            sector: "W".into(),
        },
        Team {
            id: "bad".into(),
            name: String::new(),
            sector: "W".into(),
        },
    ];
    let Err(FieldConsultError::Validation { problems }) = e.store.upsert_teams(teams) else {
        panic!("expected Validation");
    };
    assert_eq!(problems[0].field, "teams[1].id");
}

#[test]
fn wrong_key_and_short_key_are_distinct_errors() {
    let e = env();
    let path = e.path.clone();
    e.store.close_database();
    assert!(matches!(
        FieldConsultStore::open(path.clone(), Some(vec![4; 32]), false),
        Err(FieldConsultError::WrongKey)
    ));
    assert!(matches!(
        FieldConsultStore::open(path, Some(vec![3; 16]), false),
        Err(FieldConsultError::InvalidKey { length: 16 })
    ));
}

#[test]
fn a_closed_store_refuses_calls_and_a_wiped_one_leaves_no_file() {
    let e = env();
    e.store.close_database();
    assert!(matches!(
        e.store.badge_counts(),
        Err(FieldConsultError::Closed)
    ));

    let e = env();
    visit(&e);
    e.store.wipe().unwrap();
    assert!(std::fs::read_dir(e._dir.path()).unwrap().next().is_none());
    assert!(matches!(e.store.teams(), Err(FieldConsultError::Closed)));
}

#[test]
fn workflow_errors_carry_status_and_action() {
    let e = env();
    let v = visit(&e);
    let s = new_session_draft(v.id, Group::Men, "2026-11-20T09:00:00+03:00".into()).unwrap();
    e.store.save_session(member(&e.team), s.clone()).unwrap();
    let reviewer = Identity {
        id: "fp".into(),
        role: Role::Reviewer {
            sector: "West".into(),
        },
    };
    let err = e
        .store
        .record_review(
            reviewer,
            s.id.clone(),
            fieldconsult_model::Decision::Accepted,
            String::new(),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        FieldConsultError::InvalidTransition {
            from: Status::Draft,
            action: fieldconsult_model::Action::Accept
        }
    ));
    let page = e
        .store
        .list_sessions(SessionFilter::default(), 10, None)
        .unwrap();
    assert_eq!(page.items.len(), 1);
}

#[test]
fn a_malformed_month_and_team_are_named_in_one_validation_error() {
    use fieldconsult_ffi::{ReportFormat, ReportScope};
    let e = env();
    let err = e
        .store
        .monthly_report(
            ReportScope::Team {
                team_id: "not-an-id".into(),
            },
            "2026-13".into(),
            ReportFormat::Json,
            fieldconsult_model::Language::En,
            5,
            None,
            None,
        )
        .unwrap_err();
    let FieldConsultError::Validation { problems } = err else {
        panic!("expected a validation error, got {err:?}");
    };
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["scope.team_id", "month"]);
}

#[test]
fn monthly_report_renders_for_the_app_in_every_format() {
    use fieldconsult_ffi::{ReportFormat, ReportScope};
    let e = env();
    let v = visit(&e);
    let s = new_session_draft(v.id, Group::Women, "2026-11-20T09:00:00+03:00".into()).unwrap();
    e.store.save_session(member(&e.team), s).unwrap();
    let scope = ReportScope::Team {
        team_id: e.team.id.clone(),
    };
    let report = |format| {
        e.store
            .monthly_report(
                scope.clone(),
                "2026-11".into(),
                format,
                fieldconsult_model::Language::Fr,
                5,
                None,
                None,
            )
            .unwrap()
    };
    let json = report(ReportFormat::Json);
    assert_eq!(json.len(), 1);
    assert_eq!(json[0].name, "gender-report-team-1-2026-11.json");
    let value: serde_json::Value = serde_json::from_slice(&json[0].content).unwrap();
    assert_eq!(value["scope_name"], "Team 1");
    assert_eq!(
        value["sessions"].as_array().map(Vec::len),
        Some(0),
        "a draft counts for nothing"
    );

    let html = report(ReportFormat::Html);
    assert_eq!(html[0].media_type, "text/html; charset=utf-8");
    let page = String::from_utf8(html[0].content.clone()).unwrap();
    assert!(
        page.contains("Rapport mensuel sur le genre"),
        "French headings"
    );
    assert!(page.contains("Team 1"));

    let csv = report(ReportFormat::Csv);
    assert!(csv.len() > 5, "one file per table");
    assert!(csv.iter().all(|f| f.name.ends_with(".csv")));
}

#[test]
fn an_intact_store_passes_its_integrity_check() {
    let e = env();
    visit(&e);
    assert_eq!(e.store.integrity_check().unwrap(), Vec::<String>::new());
}

#[test]
fn panic_wipe_leaves_no_file_and_a_closed_store() {
    let e = env();
    visit(&e);
    e.store.panic_wipe().unwrap();
    let dir = std::path::Path::new(&e.path).parent().unwrap();
    let left: Vec<_> = std::fs::read_dir(dir).unwrap().collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
    assert!(matches!(e.store.teams(), Err(FieldConsultError::Closed)));
}

#[test]
fn opening_without_a_key_is_key_unavailable_and_creates_nothing() {
    let e = env();
    e.store.close_database();
    assert!(matches!(
        FieldConsultStore::open(e.path.clone(), None, false),
        Err(FieldConsultError::KeyUnavailable { store_exists: true })
    ));
    let other = format!("{}-other.db", e.path);
    assert!(matches!(
        FieldConsultStore::open(other.clone(), None, false),
        Err(FieldConsultError::KeyUnavailable {
            store_exists: false
        })
    ));
    assert!(!std::path::Path::new(&other).exists());
}

#[test]
fn sealing_errors_are_typed_and_the_device_key_is_stable_hex() {
    let e = env();
    let key = e.store.sealing_public_key().unwrap();
    assert_eq!(key.len(), 64);
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(e.store.sealing_public_key().unwrap(), key, "created once");

    let mut s = complete_draft(&e);
    s.sensitive_note = "kept on this device".into();
    e.store.save_session(member(&e.team), s.clone()).unwrap();
    // No keys for sector West: fail closed, the session stays a draft with its note.
    let err = e
        .store
        .submit_session(member(&e.team), s.id.clone())
        .unwrap_err();
    assert!(
        matches!(&err, FieldConsultError::NoSealingKeys { sector } if sector == "West"),
        "{err:?}"
    );
    let kept = e.store.get_session(s.id.clone()).unwrap();
    assert_eq!(kept.session.status, Status::Draft);
    assert_eq!(kept.session.sensitive_note, "kept on this device");
    assert!(!kept.has_sealed_note);
    let err = e
        .store
        .open_sensitive_note(member(&e.team), s.id.clone())
        .unwrap_err();
    assert!(
        matches!(&err, FieldConsultError::NothingSealed { field } if field == "sensitive_note"),
        "{err:?}"
    );
}

#[test]
fn a_referral_crosses_with_its_service_until_sealed_and_fails_closed_without_keys() {
    use fieldconsult_ffi::{Referral, ReferralService};
    let e = env();
    let clinic = ReferralService {
        id: new_id(),
        name: "Clinic".into(),
        kind: fieldconsult_model::ReferralServiceKind::Health,
        area: "Bor".into(),
    };
    e.store
        .upsert_referral_services(vec![clinic.clone()])
        .unwrap();
    let mut s = complete_draft(&e);
    s.referral = Some(Referral {
        service_id: Some("not-a-uuid".into()),
        service_sealed: false,
    });
    let err = e
        .store
        .save_session(member(&e.team), s.clone())
        .unwrap_err();
    let FieldConsultError::Validation { problems } = &err else {
        panic!("{err:?}")
    };
    assert!(
        problems.iter().any(|p| p.field == "referral.service_id"),
        "{problems:?}"
    );
    let referral = Referral {
        service_id: Some(clinic.id.clone()),
        service_sealed: false,
    };
    s.referral = Some(referral.clone());
    let saved = e.store.save_session(member(&e.team), s.clone()).unwrap();
    assert_eq!(saved.referral, Some(referral.clone()));
    // A referral alone needs the sector's keys: without them, fail closed.
    let err = e
        .store
        .submit_session(member(&e.team), s.id.clone())
        .unwrap_err();
    assert!(
        matches!(&err, FieldConsultError::NoSealingKeys { .. }),
        "{err:?}"
    );
    let kept = e.store.get_session(s.id.clone()).unwrap().session;
    assert_eq!(kept.referral, Some(referral));
    let err = e
        .store
        .open_referral_service(member(&e.team), s.id.clone())
        .unwrap_err();
    assert!(
        matches!(&err, FieldConsultError::NothingSealed { field } if field == "referral.service_id"),
        "{err:?}"
    );
}

#[test]
fn warnings_cross_as_field_and_kind_and_a_withdrawal_erases_a_draft() {
    use fieldconsult_ffi::{FieldWarning, session_warnings};
    use fieldconsult_model::validation::WarningKind;
    let e = env();
    let v = visit(&e);
    let mut s = new_session_draft(
        v.id.clone(),
        Group::Women,
        "2026-11-20T09:00:00+03:00".into(),
    )
    .unwrap();
    s.sensitive_note = "her number 0912 345 678".into();
    let s = e.store.save_session(member(&e.team), s).unwrap();
    assert_eq!(
        session_warnings(s.clone()).unwrap(),
        vec![FieldWarning {
            field: "sensitive_note".into(),
            kind: WarningKind::Phone
        }]
    );
    // A session whose note is on its author's device (as another device sees it) says so.
    let mut elsewhere = s.clone();
    elsewhere.plaintext_held_by = vec!["0193a5e2-7c1d-7b3e-9f00-5a1b2c3d4e5f".into()];
    assert!(
        session_warnings(elsewhere)
            .unwrap()
            .contains(&FieldWarning {
                field: "plaintext_held_by".into(),
                kind: WarningKind::PlaintextElsewhere
            })
    );
    let reviewer = Identity {
        id: "gfp".into(),
        role: Role::Reviewer {
            sector: "West".into(),
        },
    };
    assert!(matches!(
        e.store.withdraw_consent(reviewer, s.id.clone()),
        Err(FieldConsultError::NotPermitted { .. })
    ));
    assert_eq!(
        e.store
            .withdraw_consent(member(&e.team), s.id.clone())
            .unwrap(),
        fieldconsult_core::Withdrawal::Erased
    );
    assert!(matches!(
        e.store.get_session(s.id),
        Err(FieldConsultError::NotFound { .. })
    ));
}

#[test]
fn unconfirmed_warnings_map_to_their_ffi_case_without_text() {
    use fieldconsult_model::validation::{FieldWarning, WarningKind};
    let e: FieldConsultError = fieldconsult_core::Error::UnconfirmedWarnings {
        warnings: vec![FieldWarning {
            field: "concerns[0].location".into(),
            kind: WarningKind::Coordinates,
        }],
    }
    .into();
    let FieldConsultError::UnconfirmedWarnings { warnings } = &e else {
        panic!("expected UnconfirmedWarnings");
    };
    assert_eq!(warnings[0].field, "concerns[0].location");
    assert_eq!(warnings[0].kind, WarningKind::Coordinates);
    assert_eq!(e.to_string(), "1 warning(s) to confirm");
}

#[test]
fn a_visit_note_that_looks_like_an_email_is_saved_once_confirmed() {
    use fieldconsult_ffi::{FieldWarning, visit_warnings};
    use fieldconsult_model::validation::WarningKind;
    let e = env();
    let mut v = visit(&e);
    v.notes = "the chief: amina@example.org".into();
    let expected = vec![FieldWarning {
        field: "notes".into(),
        kind: WarningKind::Email,
    }];
    assert_eq!(visit_warnings(v.clone()).unwrap(), expected);
    let err = e.store.save_visit(member(&e.team), v.clone()).unwrap_err();
    assert!(
        matches!(&err, FieldConsultError::UnconfirmedWarnings { warnings } if *warnings == expected),
        "{err:?}"
    );
    let saved = e
        .store
        .save_visit_confirming(member(&e.team), v.clone(), expected)
        .unwrap();
    assert_eq!(saved.notes, v.notes);
}
