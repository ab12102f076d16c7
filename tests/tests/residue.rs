//! What a seized phone still holds (issue 7, item 3): a session written with a unique marker
//! in every text field, and a referral, goes through draft → edits → submission (the
//! sensitive note and the referral's service sealed) →
//! sync → acknowledgement → acceptance by the focal point → retention purge. Then every file
//! the core wrote in the store's folder is scanned for every marker, as UTF-8, UTF-16 (both
//! byte orders), hex and base64:
//!
//! - in the raw bytes, as a thief without the key sees them;
//! - in every page of the database and every frame of the WAL decrypted with the key, free
//!   pages and superseded frames included, as a thief who also extracted the key sees them.
//!
//! The scanner proves it can see: before the purge the decrypted pages must show the markers of
//! the stored fields. The core writes no log files and keeps temporary tables in memory, so
//! the store's folder holds every file it wrote.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../../core/tests/pages/mod.rs"]
mod pages;

use std::path::Path;

use base64::Engine;
use chrono::{Duration, Utc};
use fieldconsult_core::{NoProgress, Store};
use fieldconsult_e2e::{Device, Mission, complete_session, device_key};
use fieldconsult_model::{Decision, PriorityCategory, Status};
use pages::{contains, decrypted_pages};

/// One unique marker per text field a team fills in.
struct Markers {
    fields: Vec<(&'static str, String)>,
}

impl Markers {
    fn new(version: u32) -> Markers {
        let field =
            |name: &'static str| (name, format!("QZX{version}{}KQV", name.replace('.', "")));
        Markers {
            fields: vec![
                field("visit.notes"),
                field("answer.note"),
                field("priority.note"),
                field("priority.other_label"),
                field("concern.location"),
                field("concern.timing"),
                field("concern.note"),
                field("interpreter.language"),
                field("session.sensitive_note"),
            ],
        }
    }

    fn get(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| m.clone())
            .unwrap()
    }
}

/// The ways a marker's text can sit in a file.
fn encodings(marker: &str) -> Vec<(&'static str, Vec<u8>)> {
    let utf8 = marker.as_bytes().to_vec();
    let utf16le: Vec<u8> = marker.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let utf16be: Vec<u8> = marker.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let hex_lower: String = utf8.iter().map(|b| format!("{b:02x}")).collect();
    let mut out = vec![
        ("utf-8", utf8.clone()),
        ("utf-16le", utf16le),
        ("utf-16be", utf16be),
        ("hex", hex_lower.clone().into_bytes()),
        ("HEX", hex_lower.to_uppercase().into_bytes()),
    ];
    // Inside a longer base64 text the marker's encoding depends on where it starts modulo
    // 3: encode it after 0, 1 and 2 filler bytes and keep the characters it alone decides.
    for shift in 0..3 {
        let mut padded = vec![0u8; shift];
        padded.extend_from_slice(&utf8);
        let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&padded);
        let skip = if shift == 0 {
            0
        } else {
            (shift * 4).div_ceil(3)
        };
        let stable_len = (utf8.len() - (3 - shift) % 3) / 3 * 4;
        let core = &encoded[skip..(skip + stable_len).min(encoded.len())];
        out.push(("base64", core.as_bytes().to_vec()));
    }
    out
}

/// Every file in the store's folder, raw.
fn raw_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

/// `(where, field, encoding)` of every marker found.
fn hits(blobs: &[(String, Vec<u8>)], markers: &[Markers]) -> Vec<String> {
    let mut found: Vec<String> = markers
        .iter()
        .flat_map(|m| m.fields.iter())
        .flat_map(|(field, marker)| hits_of(blobs, field, marker))
        .collect();
    found.sort();
    found.dedup();
    found
}

/// `(where, field, encoding)` of every place `marker` of `field` is found.
fn hits_of(blobs: &[(String, Vec<u8>)], field: &str, marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (encoding, needle) in encodings(marker) {
        for (place, blob) in blobs {
            if contains(blob, &needle) {
                found.push(format!("{field} as {encoding} in {place}"));
            }
        }
    }
    found
}

fn fill(session: &mut fieldconsult_model::Session, m: &Markers) {
    session.answers[0].note = m.get("answer.note");
    session.priorities[0].note = m.get("priority.note");
    session.priorities.push(fieldconsult_model::Priority {
        rank: 2,
        category: PriorityCategory::Other,
        other_label: m.get("priority.other_label"),
        note: String::new(),
    });
    session.concerns[0].location = m.get("concern.location");
    session.concerns[0].timing = m.get("concern.timing");
    session.concerns[0].note = m.get("concern.note");
    session.sensitive_note = m.get("session.sensitive_note");
    session.interpreter.sex = fieldconsult_model::InterpreterSex::Female;
    session.interpreter.language = m.get("interpreter.language");
}

#[test]
fn a_purged_session_leaves_no_marker_in_any_file_even_with_the_key() {
    let mission = Mission::start();
    let team = mission.add_team("Engagement Team 7", "East");
    let reviewer = mission.reviewer_device("East", "focal-point");
    let focal_point_key = reviewer.store.sealing_public_key().unwrap().to_hex();
    mission.set_sealing_keys("East", &focal_point_key, None);
    let clinic: fieldconsult_model::ReferralServiceId = mission
        .admin(&[
            "referral", "add", "--name", "Clinic", "--kind", "health", "--area", "East",
        ])
        .parse()
        .unwrap();
    // The directory holds the service's id too, so the trace of the referral is the id as
    // the session's row stores it.
    let referral_trace = format!("\"service_id\":\"{clinic}\"");
    let referral_hits = |db: &Path| {
        hits_of(
            &decrypted_pages(db, &[7; 32]),
            "referral.service_id",
            &referral_trace,
        )
    };

    // The team phone keeps its store alone in its folder, so the folder is what it wrote.
    let phone_dir = tempfile::tempdir().unwrap();
    let db = phone_dir.path().join("phone.db");
    {
        let store = Store::open(&db, &device_key()).unwrap();
        store
            .enrol(
                &mission.transport(),
                &mission.team_code(team),
                "phone",
                None,
            )
            .unwrap();
    }
    let phone = Device::reopen(db.clone());
    phone.store.sync(&mission.transport(), &NoProgress).unwrap();

    // A draft, edited twice: every version's markers must go.
    let versions = [Markers::new(1), Markers::new(2), Markers::new(3)];
    let mut visit = phone.visit();
    visit.notes = versions[0].get("visit.notes");
    let visit = phone.store.save_visit(&phone.actor, &visit).unwrap();
    let mut session = complete_session(&visit, fieldconsult_model::Group::Women);
    for m in &versions {
        let mut v = visit.clone();
        v.notes = m.get("visit.notes");
        phone.store.save_visit(&phone.actor, &v).unwrap();
        session.priorities.truncate(1);
        fill(&mut session, m);
        session.referral = Some(fieldconsult_model::Referral::to(clinic));
        session = phone.store.save_session(&phone.actor, &session).unwrap();
    }
    let id = session.id;
    assert!(
        !referral_hits(&db).is_empty(),
        "the scanner sees the draft's referral service"
    );
    phone.store.submit_session(&phone.actor, &id).unwrap();
    // The harness's device key.
    let key: [u8; 32] = [7; 32];
    let last = &versions[2];

    // After submission the sensitive note is sealed: no page holds it, even with the key.
    let sealed_hits: Vec<String> = hits(&decrypted_pages(&db, &key), &versions)
        .into_iter()
        .filter(|h| h.starts_with("session.sensitive_note"))
        .collect();
    assert!(
        sealed_hits.is_empty(),
        "the sensitive note is readable after submission: {sealed_hits:?}"
    );
    let service_hits = referral_hits(&db);
    assert!(
        service_hits.is_empty(),
        "the referral service is readable after submission: {service_hits:?}"
    );

    phone.store.sync(&mission.transport(), &NoProgress).unwrap();
    assert_eq!(phone.store.pending_count().unwrap(), 0, "not acknowledged");
    reviewer
        .store
        .sync(&mission.transport(), &NoProgress)
        .unwrap();
    reviewer
        .store
        .record_review(&reviewer.actor, &id, Decision::Accepted, "")
        .unwrap();
    reviewer
        .store
        .sync(&mission.transport(), &NoProgress)
        .unwrap();
    phone.store.sync(&mission.transport(), &NoProgress).unwrap();
    assert_eq!(phone.session(&id).session.status, Status::Accepted);

    // The scanner sees: with the key, the stored fields' current markers are there.
    let before = hits(&decrypted_pages(&db, &key), std::slice::from_ref(last));
    for field in ["visit.notes", "concern.location", "priority.note"] {
        assert!(
            before.iter().any(|h| h.starts_with(field)),
            "the scanner did not find {field} before the purge: {before:?}"
        );
    }
    assert!(
        hits(&raw_files(phone_dir.path()), &versions).is_empty(),
        "a marker is readable without the key"
    );

    let purged = phone
        .store
        .purge_retention_at(0, Utc::now() + Duration::days(1))
        .unwrap();
    assert_eq!(purged, 1);

    // Phone seized with the app open, then after it closed.
    assert_nothing_left(phone_dir.path(), &db, &versions, "with the store open");
    assert!(referral_hits(&db).is_empty());
    drop(phone);
    assert_nothing_left(phone_dir.path(), &db, &versions, "after the store closed");
    assert!(referral_hits(&db).is_empty());
}

fn assert_nothing_left(dir: &Path, db: &Path, versions: &[Markers], moment: &str) {
    let raw = hits(&raw_files(dir), versions);
    assert!(raw.is_empty(), "{moment}, without the key: {raw:?}");
    let decrypted = hits(&decrypted_pages(db, &[7; 32]), versions);
    assert!(
        decrypted.is_empty(),
        "{moment}, with the key: {decrypted:?}"
    );
}
