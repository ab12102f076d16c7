//! The sealed fields on the device (the sensitive note and a referral's service): sealed at
//! submission (fail closed without keys), never sent in plaintext (drafts included) while
//! acks and hashes still agree, kept locally when a colleague's edit of the draft arrives,
//! and opened offline by a reviewer's device only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_support;

use common::{Fixture, complete_session, key, raw_connection};
use fieldconsult_core::{Error, NoProgress, Store, SyncState};
use fieldconsult_model::crypto::seal::{self, SealContext};
use fieldconsult_model::wire::Record;
use fieldconsult_model::{
    Actor, FieldWarning, Group, RecipientKey, Referral, Role, SealError, SealingKeys, Session,
    SessionId, Status, Team, TeamId, WarningKind,
};
use sync_support::FakeServer;

const NOTE: &str = "She asked that the clinic not be named. NOTE-MARKER-5b1";

fn ctx(id: &str) -> SealContext<'_> {
    SealContext {
        kind: "session",
        id,
        field: "sensitive_note",
    }
}

fn draft_with_note(f: &Fixture) -> Session {
    let visit = f.visit_of(&f.team_a);
    let mut s = complete_session(&visit, Group::Women);
    s.sensitive_note = NOTE.into();
    f.store.save_session(&f.alice(), &s).unwrap()
}

#[test]
fn submission_seals_the_note_and_removes_the_plaintext_from_the_row() {
    let f = Fixture::new();
    let s = draft_with_note(&f);
    let submitted = f.store.submit_session(&f.alice(), &s.id).unwrap();
    assert_eq!(submitted.status, Status::Submitted);
    assert!(submitted.sensitive_note.is_empty());
    let stored = f.store.get_session(&s.id).unwrap().session;
    assert!(stored.sensitive_note.is_empty(), "no plaintext left");
    let sealed = stored.sealed_note.clone().unwrap();
    assert_eq!(sealed.copies.len(), 2, "focal point and escrow");
    let id = s.id.to_string();
    assert_eq!(
        seal::open(&sealed, &ctx(&id), &f.focal_point)
            .unwrap()
            .as_str(),
        NOTE
    );
    assert_eq!(
        seal::open(&sealed, &ctx(&id), &f.escrow).unwrap().as_str(),
        NOTE
    );
    // History names the sealed fields, never the text.
    let h = f.store.history(&id).unwrap();
    let submit = h.iter().find(|e| e.action == "submit").unwrap();
    assert!(submit.fields.contains(&"sealed_note".to_owned()));
    assert!(h.iter().all(|e| !format!("{e:?}").contains("MARKER")));
}

/// Every row of every table, each value as text, that contains `needle`.
fn rows_containing(conn: &rusqlite::Connection, needle: &str) -> Vec<String> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut hits = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                let text = match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                    _ => continue,
                };
                if text.contains(needle) {
                    hits.push(table.clone());
                }
            }
        }
    }
    hits
}

#[test]
fn after_submission_no_row_of_any_table_holds_the_plaintext() {
    let f = Fixture::new();
    let s = draft_with_note(&f);
    let conn = raw_connection(&f.path);
    assert!(
        !rows_containing(&conn, "NOTE-MARKER-5b1").is_empty(),
        "the draft's note is in its row: the scan finds it"
    );
    f.store.submit_session(&f.alice(), &s.id).unwrap();
    let hits = rows_containing(&conn, "NOTE-MARKER-5b1");
    assert!(hits.is_empty(), "plaintext left in {hits:?}");
    let settings = f.store.settings().unwrap();
    assert!(settings.secure_delete, "freed pages are overwritten");
}

/// A team of sector East, for which no sealing keys have arrived, and one of its members.
fn team_without_sealing_keys(f: &Fixture) -> (Team, Actor) {
    let east = Team {
        id: TeamId::new(),
        name: "Engagement Team E".into(),
        sector: "East".into(),
    };
    f.store.upsert_teams(std::slice::from_ref(&east)).unwrap();
    let actor = f.member(&east);
    (east, actor)
}

#[test]
fn submission_without_keys_for_the_sector_fails_closed_and_keeps_the_draft_note() {
    let f = Fixture::new();
    let (east, actor) = team_without_sealing_keys(&f);
    let visit = f.visit_of(&east);
    let mut s = complete_session(&visit, Group::Women);
    s.sensitive_note = NOTE.into();
    f.store.save_session(&actor, &s).unwrap();
    let err = f.store.submit_session(&actor, &s.id).unwrap_err();
    assert!(
        matches!(&err, Error::NoSealingKeys { sector } if sector == "East"),
        "{err:?}"
    );
    assert!(!err.to_string().contains("MARKER"));
    let kept = f.store.get_session(&s.id).unwrap().session;
    assert_eq!(kept.status, Status::Draft);
    assert_eq!(kept.sensitive_note, NOTE);
    assert!(kept.sealed_note.is_none());
    // Without a note there is nothing to seal: the same sector submits.
    let mut plain = complete_session(&visit, Group::Men);
    plain.sensitive_note = "   ".into();
    f.store.save_session(&actor, &plain).unwrap();
    let submitted = f.store.submit_session(&actor, &plain.id).unwrap();
    assert!(submitted.sealed_note.is_none() && submitted.sensitive_note.is_empty());
}

#[test]
fn after_sealing_the_team_device_cannot_read_the_note() {
    let f = Fixture::new();
    let s = draft_with_note(&f);
    f.store.submit_session(&f.alice(), &s.id).unwrap();
    // No key on this device at all.
    let err = f.store.open_sensitive_note(&f.alice(), &s.id).unwrap_err();
    assert!(
        matches!(err, Error::Seal(SealError::NoCopyForKey { .. })),
        "{err:?}"
    );
    // Even with a key of its own, it is not among the recipients.
    f.store.sealing_public_key().unwrap();
    let err = f.store.open_sensitive_note(&f.alice(), &s.id).unwrap_err();
    assert!(
        matches!(err, Error::Seal(SealError::NoCopyForKey { .. })),
        "{err:?}"
    );
    // And the app cannot put a sealed note in by saving, nor drop it.
    let err = f
        .store
        .open_sensitive_note(&f.alice(), &draft_with_note(&f).id)
        .unwrap_err();
    assert!(matches!(err, Error::NothingSealed { .. }), "{err:?}");
}

#[test]
fn saving_neither_sets_nor_drops_a_sealed_note() {
    let f = Fixture::new();
    let s = draft_with_note(&f);
    f.store.submit_session(&f.alice(), &s.id).unwrap();
    let returned = returned_by_the_focal_point(&f, &s.id);
    let sealed = returned.sealed_note.clone().unwrap();
    let mut edit = returned.clone();
    edit.sealed_note = None;
    edit.participants.female.unknown = 1;
    let saved = f.store.save_session(&f.alice(), &edit).unwrap();
    assert_eq!(saved.sealed_note.as_ref(), Some(&sealed), "kept");
    // Resubmitted without a new note: the sealed one stays.
    let again = f.store.submit_session(&f.alice(), &s.id).unwrap();
    assert_eq!(again.sealed_note.as_ref(), Some(&sealed));
}

/// Has sector North's focal point return session `id` to the team; the session as returned.
fn returned_by_the_focal_point(f: &Fixture, id: &SessionId) -> Session {
    f.store
        .record_review(
            &f.north_reviewer(),
            id,
            fieldconsult_model::Decision::Returned,
            "please complete",
        )
        .unwrap();
    f.store.get_session(id).unwrap().session
}

/// Every record `server` was pushed, and the session `id` among them.
fn pushed_session(server: &FakeServer, id: &SessionId) -> (Vec<Record>, Session) {
    let pushed: Vec<Record> = server
        .pushes()
        .into_iter()
        .flat_map(|p| p.records)
        .collect();
    let session = pushed
        .iter()
        .find_map(|r| match r {
            Record::Session(p) if p.id == *id => Some((**p).clone()),
            _ => None,
        })
        .unwrap();
    (pushed, session)
}

/// This device's id, as the fake server enrolled it.
fn me(f: &Fixture) -> String {
    f.store.enrolment().unwrap().unwrap().device_id
}

/// Another device of the team.
const COLLEAGUE: &str = "device-colleague";

fn enrolled(f: &Fixture) -> FakeServer {
    let server = FakeServer::new(f.alice().role.clone());
    f.store
        .enrol(&server, "CODE-1234", "Team A tablet", None)
        .unwrap();
    server
}

#[test]
fn a_draft_note_never_leaves_the_device_and_the_draft_still_syncs() {
    let f = Fixture::new();
    let server = enrolled(&f);
    let s = draft_with_note(&f);
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.rejected, 0);
    let (pushed, session) = pushed_session(&server, &s.id);
    assert!(
        session.sensitive_note.is_empty(),
        "the draft went without its note"
    );
    assert!(
        !serde_json::to_string(&pushed).unwrap().contains("MARKER"),
        "nothing of the note on the wire"
    );
    // Acknowledged as sent: synced, and the note is still here.
    let record = f.store.get_session(&s.id).unwrap();
    assert_eq!(record.sync_state, SyncState::Synced);
    assert_eq!(record.session.sensitive_note, NOTE);
    // Device and server agree on the record as it travels.
    let held = server.hash_of("session", &s.id.to_string()).unwrap();
    assert_eq!(
        held,
        Record::Session(Box::new(record.session.as_sent(&me(&f)))).hash()
    );
    // A second sync has nothing to send.
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.pushed, 0);
}

#[test]
fn a_colleagues_edit_of_the_draft_keeps_the_note_written_here() {
    let f = Fixture::new();
    let server = enrolled(&f);
    let s = draft_with_note(&f);
    f.store.sync(&server, &NoProgress).unwrap();
    // A colleague's device edits the draft (it never had the note) and pushes it.
    let mut theirs = f.store.get_session(&s.id).unwrap().session.as_sent(&me(&f));
    theirs.participants.female.unknown = 4;
    server.insert(Record::Session(Box::new(theirs)));
    f.store.sync(&server, &NoProgress).unwrap();
    let mine = f.store.get_session(&s.id).unwrap().session;
    assert_eq!(mine.participants.female.unknown, 4, "their edit applied");
    assert_eq!(mine.sensitive_note, NOTE, "my note kept");
    // And it still seals at submission, from this device.
    let submitted = f.store.submit_session(&f.alice(), &s.id).unwrap();
    assert!(submitted.sealed_note.is_some());
}

/// A reviewer's device of sector North, with its own store and key, and a fake server that
/// serves it what the team device pushed.
struct Reviewer {
    store: Store,
    _dir: tempfile::TempDir,
    server: FakeServer,
}

fn reviewer_device(f: &Fixture) -> Reviewer {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("reviewer.db"), &key(9)).unwrap();
    let server = FakeServer::new(Role::Reviewer {
        sector: "North".into(),
    });
    store
        .enrol(&server, "CODE-REVIEWER", "Focal point North", None)
        .unwrap();
    server.insert(Record::Team(f.team_a.clone()));
    server.insert(Record::Community(f.community.clone()));
    Reviewer {
        store,
        _dir: dir,
        server,
    }
}

/// A reviewer device whose key the mission admin has registered for sector North (with
/// `escrow`), as the team device holds the sector's keys.
fn registered_reviewer(f: &Fixture, escrow: Option<RecipientKey>) -> Reviewer {
    let reviewer = reviewer_device(f);
    let public = reviewer.store.sealing_public_key().unwrap();
    f.store
        .upsert_sealing_keys(&[SealingKeys {
            sector: "North".into(),
            focal_point_keys: vec![public],
            escrow_key: escrow,
        }])
        .unwrap();
    reviewer
}

/// Serves the reviewer every record the team device pushed, in order.
fn relay(team_server: &FakeServer, reviewer: &Reviewer) {
    for p in team_server.pushes() {
        for r in p.records {
            reviewer.server.insert(r);
        }
    }
    reviewer.store.sync(&reviewer.server, &NoProgress).unwrap();
}

#[test]
fn a_reviewer_device_opens_a_pulled_note_offline_and_the_opening_is_recorded() {
    let f = Fixture::new();
    let reviewer = registered_reviewer(&f, Some(f.escrow.public_key().clone()));
    let public = reviewer.store.sealing_public_key().unwrap();
    let team_server = enrolled(&f);
    let s = draft_with_note(&f);
    f.store.submit_session(&f.alice(), &s.id).unwrap();
    f.store.sync(&team_server, &NoProgress).unwrap();
    relay(&team_server, &reviewer);

    let actor = f.north_reviewer();
    let pulled = reviewer.store.get_session(&s.id).unwrap().session;
    assert!(pulled.sensitive_note.is_empty());
    let text = reviewer.store.open_sensitive_note(&actor, &s.id).unwrap();
    assert_eq!(text.as_str(), NOTE);
    let h = reviewer.store.history(&s.id.to_string()).unwrap();
    let opened: Vec<_> = h
        .iter()
        .filter(|e| e.action == "open_sensitive_note")
        .collect();
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].actor, actor.id);
    assert!(h.iter().all(|e| !format!("{e:?}").contains("MARKER")));
    // The key is created once and kept.
    assert_eq!(reviewer.store.sealing_public_key().unwrap(), public);
}

#[test]
fn sealed_note_moved_to_another_session_fails_to_open_on_the_reviewer_device() {
    let f = Fixture::new();
    let reviewer = registered_reviewer(&f, None);
    let team_server = enrolled(&f);
    let s = draft_with_note(&f);
    f.store.submit_session(&f.alice(), &s.id).unwrap();
    let other = draft_with_note(&f);
    f.store.submit_session(&f.alice(), &other.id).unwrap();
    f.store.sync(&team_server, &NoProgress).unwrap();
    // A forger on the path copies the first session's sealed note into the second.
    let sealed = f.store.get_session(&s.id).unwrap().session.sealed_note;
    let mut forged = f.store.get_session(&other.id).unwrap().session;
    forged.sealed_note = sealed;
    relay(&team_server, &reviewer);
    reviewer.server.insert(Record::Session(Box::new(forged)));
    reviewer.store.sync(&reviewer.server, &NoProgress).unwrap();
    let actor = f.north_reviewer();
    let err = reviewer
        .store
        .open_sensitive_note(&actor, &other.id)
        .unwrap_err();
    assert!(matches!(err, Error::Seal(SealError::Tampered)), "{err:?}");
    assert_eq!(
        reviewer
            .store
            .open_sensitive_note(&actor, &s.id)
            .unwrap()
            .as_str(),
        NOTE
    );
}

#[test]
fn a_returned_session_resubmitted_with_a_new_note_seals_the_new_one() {
    let f = Fixture::new();
    let s = draft_with_note(&f);
    f.store.submit_session(&f.alice(), &s.id).unwrap();
    let mut edit = returned_by_the_focal_point(&f, &s.id);
    edit.sensitive_note = "A second note, written after the return.".into();
    f.store.save_session(&f.alice(), &edit).unwrap();
    let again = f.store.submit_session(&f.alice(), &s.id).unwrap();
    assert!(again.sensitive_note.is_empty());
    let id = s.id.to_string();
    assert_eq!(
        seal::open(
            again.sealed_note.as_ref().unwrap(),
            &ctx(&id),
            &f.focal_point
        )
        .unwrap()
        .as_str(),
        "A second note, written after the return."
    );
}

// The service a referral went to is sealed like the note: it can say what was disclosed.

fn draft_with_referral(f: &Fixture) -> Session {
    let visit = f.visit_of(&f.team_a);
    let mut s = complete_session(&visit, Group::Women);
    s.referral = Some(Referral::to(f.referral.id));
    f.store.save_session(&f.alice(), &s).unwrap()
}

fn service_ctx(id: &str) -> SealContext<'_> {
    SealContext::referral_service(id)
}

#[test]
fn submission_seals_the_referral_service_and_the_referral_stays_offered() {
    let f = Fixture::new();
    let s = draft_with_referral(&f);
    let service = f.referral.id.to_string();
    let conn = raw_connection(&f.path);
    assert!(
        rows_containing(&conn, &service).contains(&"sessions".to_owned()),
        "the draft's service is in its row: the scan finds it"
    );
    let submitted = f.store.submit_session(&f.alice(), &s.id).unwrap();
    let referral = submitted.referral.clone().unwrap();
    assert_eq!(referral.service_id, None, "no plaintext left");
    let sealed = referral.sealed_service_id.unwrap();
    assert_eq!(sealed.field, "referral.service_id");
    let id = s.id.to_string();
    for reader in [&f.focal_point, &f.escrow] {
        let opened = seal::open(&sealed, &service_ctx(&id), reader).unwrap();
        assert_eq!(opened.as_str(), service);
    }
    // Sealed for its own field: it does not open as the note.
    let mut as_note = sealed.clone();
    as_note.field = "sensitive_note".into();
    assert_eq!(
        seal::open(&as_note, &ctx(&id), &f.focal_point).unwrap_err(),
        SealError::Tampered
    );
    // Only the referral directory still names the service; no session, history or outbox
    // row does.
    assert_eq!(rows_containing(&conn, &service), ["referral_services"]);
    let h = f.store.history(&id).unwrap();
    let submit = h.iter().find(|e| e.action == "submit").unwrap();
    assert!(submit.fields.contains(&"referral.service_id".to_owned()));
    assert!(
        !submit.fields.contains(&"sealed_note".to_owned()),
        "no note"
    );
}

#[test]
fn submission_of_a_referral_without_keys_fails_closed_and_keeps_the_service() {
    let f = Fixture::new();
    let (east, actor) = team_without_sealing_keys(&f);
    let mut s = complete_session(&f.visit_of(&east), Group::Women);
    s.referral = Some(Referral::to(f.referral.id));
    f.store.save_session(&actor, &s).unwrap();
    let err = f.store.submit_session(&actor, &s.id).unwrap_err();
    assert!(matches!(&err, Error::NoSealingKeys { .. }), "{err:?}");
    let kept = f.store.get_session(&s.id).unwrap().session;
    assert_eq!(kept.status, Status::Draft);
    assert_eq!(kept.referral, Some(Referral::to(f.referral.id)));
}

#[test]
fn a_draft_referral_service_never_leaves_the_device_and_a_colleagues_edit_keeps_it() {
    let f = Fixture::new();
    let server = enrolled(&f);
    let s = draft_with_referral(&f);
    let service = f.referral.id.to_string();
    f.store.sync(&server, &NoProgress).unwrap();
    let (pushed, sent) = pushed_session(&server, &s.id);
    assert_eq!(
        sent.referral,
        Some(Referral::default()),
        "offered, no service"
    );
    let wire = serde_json::to_string(&pushed).unwrap();
    assert!(
        !wire.contains(&service),
        "nothing of the service on the wire"
    );
    let record = f.store.get_session(&s.id).unwrap();
    assert_eq!(record.sync_state, SyncState::Synced);
    assert_eq!(record.session.referral, Some(Referral::to(f.referral.id)));
    // A colleague's device edits the draft (it never had the service) and pushes it.
    let mut theirs = record.session.as_sent(&me(&f));
    theirs.participants.female.unknown = 4;
    server.insert(Record::Session(Box::new(theirs)));
    f.store.sync(&server, &NoProgress).unwrap();
    let mine = f.store.get_session(&s.id).unwrap().session;
    assert_eq!(mine.participants.female.unknown, 4, "their edit applied");
    assert_eq!(
        mine.referral,
        Some(Referral::to(f.referral.id)),
        "mine kept"
    );
    // A colleague who removes the referral removes it here too.
    let mut theirs = mine.as_sent(&me(&f));
    theirs.referral = None;
    server.insert(Record::Session(Box::new(theirs)));
    f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(f.store.get_session(&s.id).unwrap().session.referral, None);
}

#[test]
fn a_referral_offered_without_its_service_cannot_be_submitted() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    let mut s = complete_session(&visit, Group::Women);
    s.referral = Some(Referral::default());
    f.store.save_session(&f.alice(), &s).unwrap();
    let err = f.store.submit_session(&f.alice(), &s.id).unwrap_err();
    let Error::Validation(errors) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        errors.problem("referral.service_id"),
        Some(&fieldconsult_model::Problem::Required)
    );
}

#[test]
fn a_returned_session_keeps_its_sealed_service_when_saved_and_a_new_service_replaces_it() {
    let f = Fixture::new();
    let s = draft_with_referral(&f);
    f.store.submit_session(&f.alice(), &s.id).unwrap();
    let returned = returned_by_the_focal_point(&f, &s.id);
    let sealed = returned
        .referral
        .clone()
        .unwrap()
        .sealed_service_id
        .unwrap();
    // The app sends the referral back without its seal (it never holds one): kept.
    let mut edit = returned.clone();
    edit.referral = Some(Referral::default());
    edit.participants.female.unknown = 1;
    let saved = f.store.save_session(&f.alice(), &edit).unwrap();
    assert_eq!(
        saved.referral.as_ref().unwrap().sealed_service_id.as_ref(),
        Some(&sealed)
    );
    let again = f.store.submit_session(&f.alice(), &s.id).unwrap();
    assert_eq!(
        again.referral.as_ref().unwrap().sealed_service_id.as_ref(),
        Some(&sealed),
        "resubmitted without a new service: the seal stays"
    );
    // Returned again, and referred to another service: the new one is sealed.
    returned_by_the_focal_point(&f, &s.id);
    let other = fieldconsult_model::ReferralService {
        id: fieldconsult_model::ReferralServiceId::new(),
        name: "Legal aid desk".into(),
        kind: fieldconsult_model::ReferralServiceKind::Legal,
        area: "North".into(),
    };
    f.store
        .upsert_referral_services(std::slice::from_ref(&other))
        .unwrap();
    let mut edit = f.store.get_session(&s.id).unwrap().session;
    edit.referral = Some(Referral::to(other.id));
    f.store.save_session(&f.alice(), &edit).unwrap();
    let third = f.store.submit_session(&f.alice(), &s.id).unwrap();
    let id = s.id.to_string();
    let opened = seal::open(
        third
            .referral
            .as_ref()
            .unwrap()
            .sealed_service_id
            .as_ref()
            .unwrap(),
        &service_ctx(&id),
        &f.focal_point,
    )
    .unwrap();
    assert_eq!(opened.as_str(), other.id.to_string());
}

#[test]
fn a_reviewer_device_opens_the_referral_service_offline_and_a_moved_seal_does_not_open() {
    let f = Fixture::new();
    let reviewer = registered_reviewer(&f, None);
    let team_server = enrolled(&f);
    let s = draft_with_referral(&f);
    f.store.submit_session(&f.alice(), &s.id).unwrap();
    f.store.sync(&team_server, &NoProgress).unwrap();
    relay(&team_server, &reviewer);
    let actor = f.north_reviewer();
    let opened = reviewer.store.open_referral_service(&actor, &s.id).unwrap();
    assert_eq!(opened, f.referral.id);
    let h = reviewer.store.history(&s.id.to_string()).unwrap();
    let entry = h
        .iter()
        .find(|e| e.action == "open_referral_service")
        .unwrap();
    assert_eq!(entry.fields, ["referral.service_id"]);
    assert!(
        h.iter()
            .all(|e| !format!("{e:?}").contains(&f.referral.id.to_string()))
    );
    // Nothing sealed as the note: a typed error naming the field.
    let err = reviewer
        .store
        .open_sensitive_note(&actor, &s.id)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NothingSealed {
                field: "sensitive_note",
                ..
            }
        ),
        "{err:?}"
    );
    // A forger on the path moves the sealed service into the note's place.
    let mut forged = reviewer.store.get_session(&s.id).unwrap().session;
    let mut moved = forged.referral.clone().unwrap().sealed_service_id.unwrap();
    moved.field = "sensitive_note".into();
    forged.sealed_note = Some(moved);
    reviewer.server.insert(Record::Session(Box::new(forged)));
    reviewer.store.sync(&reviewer.server, &NoProgress).unwrap();
    let err = reviewer
        .store
        .open_sensitive_note(&actor, &s.id)
        .unwrap_err();
    assert!(matches!(err, Error::Seal(SealError::Tampered)), "{err:?}");
}

// A draft is shared by the team, but only the device that wrote its note and referral
// service can seal them: another device may submit it only knowing they stay behind.

fn plaintext_elsewhere() -> FieldWarning {
    FieldWarning {
        field: "plaintext_held_by".into(),
        kind: WarningKind::PlaintextElsewhere,
    }
}

/// The device that wrote the note and referral in the first test below.
const AUTHOR: &str = "device-author";

#[test]
fn a_teammates_device_submits_the_authors_draft_only_confirming_the_plaintext_stays_behind() {
    let f = Fixture::new();
    let server = enrolled(&f);
    // The author's device (elsewhere) wrote a note and a referral; its draft arrives as sent.
    let visit = f.visit_of(&f.team_a);
    let mut theirs = complete_session(&visit, Group::Women);
    theirs.sensitive_note = NOTE.into();
    theirs.referral = Some(Referral::to(f.referral.id));
    let sent = theirs.as_sent(AUTHOR);
    assert_eq!(
        sent.plaintext_held_by,
        [AUTHOR.to_owned()].into(),
        "listed as it travels"
    );
    assert!(!serde_json::to_string(&sent).unwrap().contains("MARKER"));
    server.insert(Record::Visit(visit.clone()));
    server.insert(Record::Session(Box::new(sent)));
    f.store.sync(&server, &NoProgress).unwrap();
    let here = f.store.get_session(&theirs.id).unwrap().session;
    assert_eq!(here.plaintext_held_by, [AUTHOR.to_owned()].into());
    // Saving an edit here keeps the list (the app cannot clear it).
    let mut edit = here.clone();
    edit.plaintext_held_by.clear();
    edit.referral = Some(Referral::to(f.referral.id));
    f.store.save_session(&f.alice(), &edit).unwrap();
    assert!(
        f.store
            .get_session(&theirs.id)
            .unwrap()
            .session
            .plaintext_elsewhere()
    );
    // Submitting needs the confirmation, like a warning on a text.
    let err = f.store.submit_session(&f.alice(), &theirs.id).unwrap_err();
    match &err {
        Error::UnconfirmedWarnings { warnings } => {
            assert_eq!(warnings, &[plaintext_elsewhere()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        f.store.get_session(&theirs.id).unwrap().session.status,
        Status::Draft
    );
    let submitted = f
        .store
        .submit_session_confirming(&f.alice(), &theirs.id, &[plaintext_elsewhere()])
        .unwrap();
    assert_eq!(submitted.status, Status::Submitted);
    assert!(
        submitted.plaintext_held_by.is_empty(),
        "cleared by submission"
    );
    assert!(submitted.sealed_note.is_none(), "the note stayed behind");
    let h = f.store.history(&theirs.id.to_string()).unwrap();
    let submit = h.iter().find(|e| e.action == "submit").unwrap();
    assert!(submit.fields.contains(&"plaintext_held_by".to_owned()));
}

#[test]
fn the_authors_device_is_never_asked_to_confirm_its_own_plaintext() {
    let f = Fixture::new();
    let server = enrolled(&f);
    let me = me(&f);
    let visit = f.visit_of(&f.team_a);
    let mut s = complete_session(&visit, Group::Women);
    s.sensitive_note = NOTE.into();
    s.referral = Some(Referral::to(f.referral.id));
    let s = f.store.save_session(&f.alice(), &s).unwrap();
    f.store.sync(&server, &NoProgress).unwrap();
    let held = server.hash_of("session", &s.id.to_string()).unwrap();
    let local = f.store.get_session(&s.id).unwrap().session;
    assert!(
        local.plaintext_held_by.is_empty(),
        "its own copy lists others only"
    );
    assert_eq!(local.as_sent(&me).plaintext_held_by, [me.clone()].into());
    assert_eq!(held, Record::Session(Box::new(local.as_sent(&me))).hash());
    // A colleague's edit comes back listing this device; here the plaintext is, so this
    // device is not asked about itself.
    let mut theirs = local.as_sent(&me).as_sent(COLLEAGUE);
    theirs.participants.female.unknown = 3;
    server.insert(Record::Session(Box::new(theirs)));
    f.store.sync(&server, &NoProgress).unwrap();
    let mine = f.store.get_session(&s.id).unwrap().session;
    assert_eq!(mine.participants.female.unknown, 3);
    assert!(mine.plaintext_held_by.is_empty());
    assert_eq!(mine.sensitive_note, NOTE);
    let submitted = f.store.submit_session(&f.alice(), &s.id).unwrap();
    assert!(submitted.sealed_note.is_some());
    assert!(submitted.referral.unwrap().sealed_service_id.is_some());
    // Once the author clears the note and the referral, the draft travels without it.
    let mut plain = complete_session(&visit, Group::Men);
    plain.sensitive_note = "  ".into();
    assert!(plain.as_sent(&me).plaintext_held_by.is_empty());
}

#[test]
fn two_devices_that_each_wrote_a_note_on_one_draft_each_learn_of_the_other() {
    let f = Fixture::new();
    let server = enrolled(&f);
    let me = me(&f);
    let s = draft_with_note(&f);
    f.store.sync(&server, &NoProgress).unwrap();
    // A colleague's device pulls the draft, writes a note of its own and pushes its edit.
    let (_, received) = pushed_session(&server, &s.id);
    let mut theirs = received.clone();
    theirs.sensitive_note = "the colleague's own note".into();
    let theirs = theirs.as_sent(COLLEAGUE);
    assert_eq!(
        theirs.plaintext_held_by,
        [me.clone(), COLLEAGUE.to_owned()].into()
    );
    server.insert(Record::Session(Box::new(theirs)));
    f.store.sync(&server, &NoProgress).unwrap();
    // Here, the colleague's note is elsewhere and this device's own is kept.
    let mine = f.store.get_session(&s.id).unwrap().session;
    assert_eq!(mine.plaintext_held_by, [COLLEAGUE.to_owned()].into());
    assert_eq!(mine.sensitive_note, NOTE);
    // Submitting here would leave the colleague's note behind: it needs the confirmation.
    let err = f.store.submit_session(&f.alice(), &s.id).unwrap_err();
    assert!(
        matches!(&err, Error::UnconfirmedWarnings { warnings } if warnings == &[plaintext_elsewhere()]),
        "{err:?}"
    );
    let submitted = f
        .store
        .submit_session_confirming(&f.alice(), &s.id, &[plaintext_elsewhere()])
        .unwrap();
    assert!(submitted.sealed_note.is_some(), "this device's note sealed");
    assert!(submitted.plaintext_held_by.is_empty());
}
