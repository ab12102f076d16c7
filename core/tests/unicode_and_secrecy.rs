//! Text in any script round-trips; nothing written is readable in the files on disk.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Fixture, complete_session, key};
use fieldconsult_core::Store;
use fieldconsult_model::{
    Community, CommunityId, Decision, Group, Location, Priority, PriorityCategory,
};

const SCRIPTS: &[&str] = &[
    "المياه بعيدة والطريق غير آمن\u{200F} ليلاً",
    "ውሃ ሩቅ ነው፣ መንገዱ ደህንነቱ የተጠበቀ አይደለም",
    "ရေသည် ဝေးကွာပြီး လမ်းသည် မလုံခြုံပါ",
    "L'école est à deux heures de marche; les filles n'y vont plus",
    "👩🏽‍⚕️ clinique mobile 🚰 👧🏿",
];

#[test]
fn text_in_every_script_round_trips_through_the_store() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    for text in SCRIPTS {
        let mut s = complete_session(&visit, Group::Women);
        s.sensitive_note = (*text).to_owned();
        s.answers[0].note = (*text).to_owned();
        s.concerns[0].location = text.chars().take(100).collect();
        s.priorities.push(Priority {
            rank: 3,
            category: PriorityCategory::Other,
            other_label: text.chars().take(60).collect(),
            note: (*text).to_owned(),
        });
        let saved = f.store.save_session(&f.alice(), &s).unwrap();
        assert_eq!(saved, s, "already-NFC text is stored unchanged");
        assert_eq!(f.store.get_session(&s.id).unwrap().session, s);
    }
}

#[test]
fn decomposed_text_is_stored_composed() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    let mut s = complete_session(&visit, Group::Women);
    s.sensitive_note = "e\u{301}cole".into();
    let saved = f.store.save_session(&f.alice(), &s).unwrap();
    assert_eq!(saved.sensitive_note, "\u{e9}cole");
    assert_eq!(
        f.store.get_session(&s.id).unwrap().session.sensitive_note,
        "\u{e9}cole"
    );
}

/// Every encoding of `marker` a careless implementation might leave on disk.
fn encodings(marker: &str) -> Vec<Vec<u8>> {
    let utf16: Vec<u8> = marker.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let hex: String = marker.bytes().map(|b| format!("{b:02x}")).collect();
    vec![marker.as_bytes().to_vec(), utf16, hex.into_bytes()]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_written_text_can_be_found_in_any_file_of_the_store() {
    let f = Fixture::new();
    let mut markers = Vec::new();
    let mut mark = |field: &str| {
        let m = format!("MARKER-{field}-{}", uuid::Uuid::now_v7().simple());
        markers.push(m.clone());
        m
    };
    let community = Community {
        id: CommunityId::new(),
        name: mark("community"),
        admin_area: mark("admin-area"),
        location: Some(Location {
            lat: 10.0,
            lon: 30.0,
        }),
    };
    f.store.add_community(&f.alice(), &community).unwrap();
    let mut visit = f.visit_of(&f.team_a);
    visit.notes = mark("visit-notes");
    f.store.save_visit(&f.alice(), &visit).unwrap();
    let mut s = complete_session(&visit, Group::Women);
    s.interpreter.sex = fieldconsult_model::InterpreterSex::Female;
    s.interpreter.language = mark("language");
    s.sensitive_note = mark("sensitive");
    for a in &mut s.answers {
        a.note = mark("answer");
    }
    s.priorities.push(Priority {
        rank: 3,
        category: PriorityCategory::Other,
        other_label: mark("other-label"),
        note: mark("priority-note"),
    });
    s.concerns[0].location = mark("concern-location");
    s.concerns[0].timing = mark("concern-timing");
    s.concerns[0].note = mark("concern-note");
    f.store.save_session(&f.alice(), &s).unwrap();
    f.store.submit_session(&f.alice(), &s.id).unwrap();
    f.store
        .record_review(
            &f.north_reviewer(),
            &s.id,
            Decision::Returned,
            &mark("review-comment"),
        )
        .unwrap();
    f.store.submit_session(&f.alice(), &s.id).unwrap();
    f.store
        .record_review(&f.north_reviewer(), &s.id, Decision::Accepted, "")
        .unwrap();
    f.store
        .add_addendum(&f.alice(), &s.id, &mark("addendum"))
        .unwrap();

    // Scan while open (WAL and SHM present) and again after closing.
    let scan = |dir: &std::path::Path| {
        let mut files = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            files += 1;
            for m in &markers {
                for enc in encodings(m) {
                    assert!(!contains(&bytes, &enc), "a marker is readable in {path:?}");
                }
            }
        }
        files
    };
    let open_files = scan(f.dir.path());
    assert!(
        open_files >= 2,
        "database and WAL scanned, got {open_files}"
    );
    let Fixture {
        store,
        path,
        dir,
        focal_point,
        ..
    } = f;
    drop(store);
    scan(dir.path());
    // The markers are really stored: the test would find them if they were in clear. The
    // sensitive one only sealed: its plaintext left the row at submission.
    let store = Store::open(&path, &key(7)).unwrap();
    let stored = store.get_session(&s.id).unwrap().session;
    assert!(stored.interpreter.language.starts_with("MARKER-"));
    assert!(stored.sensitive_note.is_empty());
    let id = s.id.to_string();
    let ctx = fieldconsult_model::crypto::seal::SealContext {
        kind: "session",
        id: &id,
        field: "sensitive_note",
    };
    let opened = fieldconsult_model::crypto::seal::open(
        stored.sealed_note.as_ref().unwrap(),
        &ctx,
        &focal_point,
    )
    .unwrap();
    assert!(opened.starts_with("MARKER-"));
}
