//! Every field of every record kind has a data classification, and the sensitive ones never
//! reach a report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use fieldconsult_model::classification::{Class, FIELDS, class_of};
use fieldconsult_model::crypto::seal::{SealContext, seal};
use fieldconsult_model::fixtures::{Fixture, october_2026};
use fieldconsult_model::report::{MonthlyReport, ReportOptions, ReportScope};
use fieldconsult_model::wire::{ConflictNotice, ConsentWithdrawal, Record, SessionTombstone};
use fieldconsult_model::{
    Addendum, AddendumId, ChecklistTemplate, Decision, FocusTag, Location, RecipientSecret,
    ReferralService, ReferralServiceKind, Review, ReviewId, SealingKeys, Session,
};
use serde_json::Value;

/// Paths whose object keys are data (a label per language), not field names.
const MAPS: &[&str] = &["checklist.topics[].labels"];

fn walk(path: &str, value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) if map.contains_key("kind") && map.contains_key("record") => {
            // A record inside a record (a conflict notice's lost edit): its own classes.
            record_paths(value, out);
        }
        Value::Object(map) if MAPS.contains(&path) => {
            for v in map.values() {
                walk(&format!("{path}.*"), v, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                walk(&format!("{path}.{k}"), v, out);
            }
        }
        Value::Array(items) => {
            assert!(
                !items.is_empty(),
                "{path}: fill every list so its fields are seen"
            );
            for v in items {
                walk(&format!("{path}[]"), v, out);
            }
        }
        Value::Null => panic!("{path}: fill every optional field so it is seen"),
        _ => {
            out.insert(path.to_owned());
        }
    }
}

fn record_paths(record: &Value, out: &mut BTreeSet<String>) {
    let kind = record["kind"].as_str().unwrap();
    walk(kind, &record["record"], out);
}

/// A session with every optional field set and every list filled.
fn full_session(f: &Fixture) -> Session {
    let mut s = f.session(1).clone();
    s.focus.insert(FocusTag::Youth);
    s.ended_at = Some(s.started_at);
    s.interpreter.language = "Arabic".into();
    s.answers = vec![fieldconsult_model::ChecklistAnswer {
        topic: "community_status".into(),
        response: fieldconsult_model::TopicResponse::Discussed,
        note: "n".into(),
    }];
    let reader = RecipientSecret::generate().unwrap();
    let id = s.id.to_string();
    let ctx = SealContext {
        kind: "session",
        id: &id,
        field: "sensitive_note",
    };
    s.sealed_note = Some(seal("n", &ctx, &[reader.public_key().clone()]).unwrap());
    // Both forms of the referral service at once, so that both are classified: the plaintext
    // an author's draft holds and the seal a submission writes.
    if let Some(r) = &mut s.referral {
        let service = r.service_id.map(|x| x.to_string()).unwrap_or_default();
        let ctx = SealContext::referral_service(&id);
        r.sealed_service_id = Some(seal(&service, &ctx, &[reader.public_key().clone()]).unwrap());
    }
    s.plaintext_held_by = ["0193a5e2-7c1d-7b3e-9f00-5a1b2c3d4e5f".to_owned()].into();
    assert!(s.referral.is_some() && !s.priorities.is_empty() && !s.concerns.is_empty());
    s
}

/// One fully populated record of every kind.
fn every_kind(f: &Fixture) -> Vec<Record> {
    let session = full_session(f);
    let mut community = f.communities[0].clone();
    community.location = Some(Location {
        lat: 4.85,
        lon: 31.6,
    });
    let mut visit = f.visits[0].clone();
    visit.ended_at = Some(visit.started_at);
    let at = session.started_at;
    vec![
        Record::Team(f.teams[0].clone()),
        Record::Community(community),
        Record::Checklist(ChecklistTemplate::default_v1()),
        Record::ReferralService(ReferralService {
            id: session.referral.clone().unwrap().service_id.unwrap(),
            name: "Women's centre".into(),
            kind: ReferralServiceKind::Health,
            area: "North".into(),
        }),
        Record::SealingKeys(SealingKeys {
            sector: "West".into(),
            focal_point_keys: vec![RecipientSecret::generate().unwrap().public_key().clone()],
            escrow_key: Some(RecipientSecret::generate().unwrap().public_key().clone()),
        }),
        Record::Visit(visit),
        Record::Session(Box::new(session.clone())),
        Record::SessionTombstone(SessionTombstone {
            id: session.id,
            visit_id: session.visit_id,
        }),
        Record::ConsentWithdrawal(ConsentWithdrawal {
            session_id: session.id,
            visit_id: session.visit_id,
            withdrawn_at: at,
        }),
        Record::Review(Review {
            id: ReviewId::new(),
            session_id: session.id,
            reviewer: "focal-point".into(),
            decision: Decision::Accepted,
            comment: "c".into(),
            at,
        }),
        Record::Addendum(Addendum {
            id: AddendumId::new(),
            session_id: session.id,
            author: "member".into(),
            text: "t".into(),
            at,
        }),
        Record::Conflict(ConflictNotice {
            lost_hash: "a".into(),
            kept_hash: "b".into(),
            base_hash: Some("c".into()),
            device_id: "d".into(),
            detected_at: at,
            lost: Box::new(Record::Session(Box::new(session))),
        }),
        Record::Bundle(Box::new(
            fieldconsult_model::crypto::bundle::SignedBundle::sign(
                1,
                at,
                vec![Record::Team(f.teams[0].clone())],
                &fieldconsult_model::crypto::sign::SigningKey::from_seed(&[1; 32]),
            ),
        )),
    ]
}

#[test]
fn every_field_of_every_record_has_a_classification() {
    let f = october_2026();
    let mut seen = BTreeSet::new();
    for record in every_kind(&f) {
        record_paths(&serde_json::to_value(&record).unwrap(), &mut seen);
    }
    let unclassified: Vec<&String> = seen.iter().filter(|p| class_of(p).is_none()).collect();
    assert!(
        unclassified.is_empty(),
        "fields without a classification (add them to model/src/classification.rs): {unclassified:?}"
    );
    let stale: Vec<&str> = FIELDS
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| !seen.contains(*p))
        .collect();
    assert!(
        stale.is_empty(),
        "classified paths no record has: {stale:?}"
    );
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (p, _) in FIELDS {
        *counts.entry(p).or_default() += 1;
    }
    assert!(
        counts.values().all(|n| *n == 1),
        "a path is classified twice"
    );
}

#[test]
fn the_sensitive_note_its_ciphertext_and_the_referral_service_are_the_sensitive_fields() {
    let sensitive: Vec<&str> = FIELDS
        .iter()
        .filter(|(_, c)| *c == Class::Sensitive)
        .map(|(p, _)| *p)
        .collect();
    assert_eq!(
        sensitive,
        [
            "session.referral.service_id",
            "session.referral.sealed_service_id.copies[].enc",
            "session.referral.sealed_service_id.copies[].ct",
            "session.sensitive_note",
            "session.sealed_note.copies[].enc",
            "session.sealed_note.copies[].ct",
        ]
    );
    assert_eq!(
        class_of("session.participants.female.age_18_29"),
        Some(Class::AggregateSafe)
    );
    assert_eq!(class_of("session.nonexistent"), None);
}

#[test]
fn no_sensitive_field_reaches_a_monthly_report() {
    let f = october_2026();
    let service = f
        .session(1)
        .referral
        .clone()
        .unwrap()
        .service_id
        .unwrap()
        .to_string();
    for scope in [
        ReportScope::Mission,
        ReportScope::Sector {
            sector: "West".into(),
        },
    ] {
        let options = ReportOptions {
            min_cell: 0,
            top_priorities: 5,
        };
        let r = MonthlyReport::compute(scope, Fixture::month(), f.data(), options);
        let json = serde_json::to_string(&r).unwrap();
        assert!(r.referrals_offered.total() > 0, "referrals are counted");
        assert!(
            !json.contains(&service),
            "which service was offered stays out"
        );
        assert!(!json.contains(fieldconsult_model::fixtures::SENSITIVE_MARKER));
    }
}
