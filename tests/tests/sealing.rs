//! End to end, with the real server binary: a team device seals the sensitive note it wrote,
//! and the service its referral went to, and syncs; the server's database and every file it
//! wrote hold only ciphertext, drafts included; a reviewer device pulls the session and opens
//! both offline.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use fieldconsult_core::NoProgress;
use fieldconsult_e2e::{Mission, complete_session};
use fieldconsult_model::wire::Record;
use fieldconsult_model::{
    Group, RecipientSecret, Referral, ReferralServiceId, Status, WarningKind,
};
use fieldconsult_server::storage::Storage;

const NOTE: &str = "Two women asked for the clinic hours privately. NOTE-MARKER-e2e-91c";

/// The note in every encoding a careless layer might write it in.
fn encodings(text: &str) -> Vec<Vec<u8>> {
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
    vec![
        text.as_bytes().to_vec(),
        utf16,
        hex.into_bytes(),
        // A distinctive piece, in case the text was split or escaped around it.
        b"NOTE-MARKER-e2e-91c".to_vec(),
    ]
}

fn files_holding_the_note(dir: &std::path::Path) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for enc in encodings(NOTE) {
            if bytes.windows(enc.len()).any(|w| w == enc.as_slice()) {
                hits.push(path.display().to_string());
                break;
            }
        }
    }
    hits
}

#[test]
fn a_sealed_note_crosses_the_server_as_ciphertext_and_opens_offline_on_the_reviewer_device() {
    let mut mission = Mission::start();
    let team = mission.add_team("Engagement Team 3", "West");
    let reviewer = mission.reviewer_device("West", "focal-point-west");
    let escrow = RecipientSecret::generate().unwrap();
    // The mission admin registers the focal point's key (shown by their device) and the
    // mission's escrow key.
    let focal_point_key = reviewer.store.sealing_public_key().unwrap().to_hex();
    mission.set_sealing_keys(
        "West",
        &focal_point_key,
        Some(&escrow.public_key().to_hex()),
    );
    let clinic: ReferralServiceId = mission
        .admin(&[
            "referral", "add", "--name", "Clinic", "--kind", "health", "--area", "Yei",
        ])
        .parse()
        .unwrap();
    let tablet = mission.team_device(team, "team-3-tablet");
    assert!(
        tablet.store.sealing_keys("West").unwrap().is_some(),
        "keys pulled"
    );

    // A draft with the note syncs first: the note stays on the tablet.
    let visit = tablet.visit();
    let mut s = complete_session(&visit, Group::Women);
    s.sensitive_note = NOTE.into();
    s.referral = Some(Referral::to(clinic));
    tablet.store.save_session(&tablet.actor, &s).unwrap();
    tablet
        .store
        .sync(&mission.transport(), &NoProgress)
        .unwrap();
    assert_eq!(tablet.session(&s.id).session.sensitive_note, NOTE);
    assert!(files_holding_the_note(mission.dir()).is_empty());
    let held = mission
        .storage()
        .get_record("session", &s.id.to_string())
        .unwrap()
        .unwrap();
    match &held.record {
        Record::Session(held) => assert_eq!(held.referral, Some(Referral::default())),
        other => panic!("{other:?}"),
    }

    // Submitted: sealed on the tablet, plaintext gone there, ciphertext on the server.
    let submitted = tablet.store.submit_session(&tablet.actor, &s.id).unwrap();
    assert!(submitted.sensitive_note.is_empty() && submitted.sealed_note.is_some());
    let report = tablet
        .store
        .sync(&mission.transport(), &NoProgress)
        .unwrap();
    assert_eq!(report.rejected, 0);
    let stored = mission
        .storage()
        .get_record("session", &s.id.to_string())
        .unwrap()
        .unwrap();
    match &stored.record {
        Record::Session(held) => {
            assert_eq!(held.status, Status::Submitted);
            assert!(held.sensitive_note.is_empty());
            assert_eq!(held.sealed_note, submitted.sealed_note);
            let referral = held.referral.clone().unwrap();
            assert_eq!(referral.service_id, None);
            assert!(referral.sealed_service_id.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        stored.hash,
        Record::Session(Box::new(tablet.session(&s.id).session)).hash(),
        "device and server agree"
    );
    // Every file in the mission's folder: the server's database with its WAL and SHM, and
    // the devices' (encrypted) stores.
    let hits = files_holding_the_note(mission.dir());
    assert!(hits.is_empty(), "the note is readable in {hits:?}");
    let err = tablet
        .store
        .open_sensitive_note(&tablet.actor, &s.id)
        .unwrap_err();
    assert!(matches!(err, fieldconsult_core::Error::Seal(_)), "{err:?}");

    // The reviewer pulls, then opens it with the server gone.
    reviewer
        .store
        .sync(&mission.transport(), &NoProgress)
        .unwrap();
    mission.kill_server();
    let text = reviewer
        .store
        .open_sensitive_note(&reviewer.actor, &s.id)
        .unwrap();
    assert_eq!(text.as_str(), NOTE);
    let service = reviewer
        .store
        .open_referral_service(&reviewer.actor, &s.id)
        .unwrap();
    assert_eq!(service, clinic);
    let opened: Vec<String> = reviewer
        .store
        .history(&s.id.to_string())
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("open_"))
        .map(|e| e.action)
        .collect();
    assert_eq!(opened, ["open_sensitive_note", "open_referral_service"]);
}

#[test]
fn a_draft_shared_by_two_team_devices_keeps_the_authors_note_until_the_author_submits() {
    let mission = Mission::start();
    let team = mission.add_team("Engagement Team 5", "West");
    let reviewer = mission.reviewer_device("West", "focal-point-west");
    let focal_point_key = reviewer.store.sealing_public_key().unwrap().to_hex();
    mission.set_sealing_keys("West", &focal_point_key, None);
    let author = mission.team_device(team, "author-tablet");
    let teammate = mission.team_device(team, "teammate-phone");
    let transport = mission.transport();

    let visit = author.visit();
    let mut s = complete_session(&visit, Group::Women);
    s.sensitive_note = NOTE.into();
    author.store.save_session(&author.actor, &s).unwrap();
    author.store.sync(&transport, &NoProgress).unwrap();
    teammate.store.sync(&transport, &NoProgress).unwrap();

    // The teammate's phone holds the draft, marked: its note is on the author's tablet.
    let shared = teammate.session(&s.id).session;
    assert!(shared.plaintext_elsewhere() && shared.sensitive_note.is_empty());
    let err = teammate
        .store
        .submit_session(&teammate.actor, &s.id)
        .unwrap_err();
    assert!(
        matches!(&err, fieldconsult_core::Error::UnconfirmedWarnings { warnings }
            if warnings.iter().any(|w| w.kind == WarningKind::PlaintextElsewhere)),
        "{err:?}"
    );
    // The teammate corrects a count instead, and syncs.
    let mut edit = shared.clone();
    edit.participants.female.unknown = 2;
    teammate.store.save_session(&teammate.actor, &edit).unwrap();
    teammate.store.sync(&transport, &NoProgress).unwrap();

    // The author's tablet takes the correction, keeps the note, and submits, sealed.
    author.store.sync(&transport, &NoProgress).unwrap();
    let mine = author.session(&s.id).session;
    assert_eq!(mine.participants.female.unknown, 2);
    assert_eq!(mine.sensitive_note, NOTE);
    author.store.submit_session(&author.actor, &s.id).unwrap();
    author.store.sync(&transport, &NoProgress).unwrap();
    teammate.store.sync(&transport, &NoProgress).unwrap();
    let theirs = teammate.session(&s.id).session;
    assert_eq!(theirs.status, Status::Submitted);
    assert!(theirs.plaintext_held_by.is_empty());

    reviewer.store.sync(&transport, &NoProgress).unwrap();
    let text = reviewer
        .store
        .open_sensitive_note(&reviewer.actor, &s.id)
        .unwrap();
    assert_eq!(text.as_str(), NOTE, "the note reached the focal point");
}
