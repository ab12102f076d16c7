//! Escrow decryption: `escrow-key generate` writes an owner-only key file it never overwrites,
//! and `unseal` opens a note's escrow copy only after the request is in the audit log. A
//! request that then fails (wrong key, unknown session, moved note) stays audited; a request
//! without a reason, or one the log cannot take, opens nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{Server, submitted_session, visit_and_session};
use fieldconsult_model::crypto::seal::{self, SealContext};
use fieldconsult_model::wire::AckOutcome;
use fieldconsult_model::{RecipientKey, RecipientSecret, Referral, Session, SessionId, Status};
use fieldconsult_server::audit::{self, StoredAuditEntry};
use fieldconsult_server::unseal::{self, UnsealError};
use fieldconsult_server::{SqliteStorage, Storage};

const NOTE: &str = "ESCROW-NOTE-elle a parlé du poste de contrôle";
const SERVICE: &str = "0190c7a6-0000-7000-8000-00000000c11c";
const WHY: &str = "focal point's phone lost; note needed for referral follow-up";

fn cli(db: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_fieldconsult-server"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Runs `unseal --session ID --escrow-key KEY --why WHY`, then `extra`, against `db`.
fn unseal_cli(db: &Path, id: &str, key: &str, extra: &[&str]) -> Output {
    let mut args = vec!["unseal", "--session", id, "--escrow-key", key, "--why", WHY];
    args.extend_from_slice(extra);
    cli(db, &args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `escrow-key generate --out <path>` and returns the public key it printed.
fn generate(path: &Path) -> RecipientKey {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fieldconsult-server"))
        .args(["escrow-key", "generate", "--out"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    RecipientKey::from_hex(text(&out.stdout).trim()).unwrap()
}

/// Seals `text` as `s`'s note to a focal point key and to `escrow`, as a device does when
/// the mission keeps an escrow key.
fn seal_to_focal_point_and_escrow(s: &mut Session, text: &str, escrow: &RecipientKey) {
    let focal = RecipientSecret::generate().unwrap();
    let id = s.id.to_string();
    let ctx = SealContext {
        kind: "session",
        id: &id,
        field: "sensitive_note",
    };
    s.sealed_note =
        Some(seal::seal(text, &ctx, &[focal.public_key().clone(), escrow.clone()]).unwrap());
    s.sensitive_note.clear();
    // And the service its referral went to, as submission seals it.
    let ctx = SealContext::referral_service(&id);
    s.referral = Some(Referral {
        service_id: None,
        sealed_service_id: Some(
            seal::seal(SERVICE, &ctx, &[focal.public_key().clone(), escrow.clone()]).unwrap(),
        ),
    });
}

/// A server holding one submitted session whose note is sealed to a focal point and to the
/// escrow key in `dir/escrow.key` (made by the command).
struct Fixture {
    server: Server,
    session: Session,
    key_file: PathBuf,
    dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let server = Server::new();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("escrow.key");
    let escrow = generate(&key_file);
    let a = server.member(&server.team_a).await;
    let visit = server.visit(&server.team_a);
    let mut session = submitted_session(&visit);
    seal_to_focal_point_and_escrow(&mut session, NOTE, &escrow);
    let acks = server.push(&a, visit_and_session(&visit, &session)).await;
    assert!(
        acks.iter().all(|a| a.outcome == AckOutcome::Stored),
        "{acks:?}"
    );
    Fixture {
        server,
        session,
        key_file,
        dir,
    }
}

fn decryption_requests(storage: &dyn Storage) -> Vec<StoredAuditEntry> {
    storage
        .audit_entries(0, u32::MAX)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "decryption_requested")
        .collect()
}

/// The targets of the `decryption_outcome` entries, oldest first.
fn outcomes(storage: &dyn Storage) -> Vec<String> {
    storage
        .audit_entries(0, u32::MAX)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "decryption_outcome")
        .map(|e| e.target)
        .collect()
}

fn audit_len(storage: &dyn Storage) -> usize {
    storage.audit_entries(0, u32::MAX).unwrap().len()
}

fn assert_no_secret(out: &Output, key_file: &Path) {
    let secret_hex = std::fs::read_to_string(key_file).unwrap();
    for stream in [text(&out.stdout), text(&out.stderr)] {
        assert!(!stream.contains(NOTE), "note text in output: {stream}");
        assert!(
            !stream.contains(secret_hex.trim()),
            "escrow secret in output"
        );
    }
}

#[tokio::test]
async fn unseal_prints_the_escrow_copy_after_auditing_the_request_without_the_note() {
    let f = fixture().await;
    let id = f.session.id.to_string();
    let key = f.key_file.to_str().unwrap();
    let out = unseal_cli(&f.server.db_path(), &id, key, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{NOTE}\n"));
    assert!(!text(&out.stderr).contains(NOTE), "the note only on stdout");

    let requests = decryption_requests(f.server.storage.as_ref());
    assert_eq!(requests.len(), 1, "{requests:?}");
    let e = &requests[0];
    assert_eq!(e.why, WHY);
    assert!(e.target.contains(&format!("session:{id}")), "{}", e.target);
    let escrow_id = unseal::read_escrow_key(&f.key_file)
        .unwrap()
        .public_key()
        .key_id();
    assert!(e.target.contains(&escrow_id), "names the key used");
    assert!(e.device_id.starts_with("admin-cli"), "{}", e.device_id);
    assert_eq!(e.role, "cli");
    assert_eq!(
        outcomes(f.server.storage.as_ref()),
        [format!("{} outcome:opened", e.target)],
        "the outcome follows the request"
    );
    for entry in f.server.storage.audit_entries(0, u32::MAX).unwrap() {
        let row = serde_json::to_string(&entry).unwrap();
        assert!(!row.contains("ESCROW-NOTE"), "note text in the audit log");
    }
    let v = audit::verify(f.server.storage.as_ref()).unwrap();
    assert_eq!(v.first_broken, None);
    let db = std::fs::read(f.server.db_path()).unwrap();
    assert!(
        !db.windows(NOTE.len()).any(|w| w == NOTE.as_bytes()),
        "the server's file never holds the note"
    );
}

#[tokio::test]
async fn unseal_of_the_referral_service_prints_the_service_id_and_audits_the_field() {
    let f = fixture().await;
    let id = f.session.id.to_string();
    let key = f.key_file.to_str().unwrap();
    let out = unseal_cli(
        &f.server.db_path(),
        &id,
        key,
        &["--field", "referral-service"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{SERVICE}\n"));
    let requests = decryption_requests(f.server.storage.as_ref());
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        requests[0].target.contains("field:referral.service_id"),
        "{}",
        requests[0].target
    );
    // The default field is the note, and the log says so.
    let out = unseal_cli(&f.server.db_path(), &id, key, &[]);
    assert_eq!(text(&out.stdout), format!("{NOTE}\n"));
    let requests = decryption_requests(f.server.storage.as_ref());
    assert!(requests[1].target.contains("field:sensitive_note"));
    let db = std::fs::read(f.server.db_path()).unwrap();
    assert!(
        !db.windows(SERVICE.len()).any(|w| w == SERVICE.as_bytes()),
        "the server's file never holds the service id"
    );
}

#[tokio::test]
async fn unseal_without_a_reason_is_refused_and_nothing_is_audited() {
    let f = fixture().await;
    let id = f.session.id.to_string();
    let key = f.key_file.to_str().unwrap();
    let before = audit_len(f.server.storage.as_ref());
    for why in ["", "   \t "] {
        let out = cli(
            &f.server.db_path(),
            &[
                "unseal",
                "--session",
                &id,
                "--escrow-key",
                key,
                "--why",
                why,
            ],
        );
        assert!(!out.status.success());
        assert!(text(&out.stdout).is_empty());
        assert!(
            text(&out.stderr).contains("why: a reason is required"),
            "{}",
            text(&out.stderr)
        );
    }
    let out = cli(
        &f.server.db_path(),
        &["unseal", "--session", &id, "--escrow-key", key],
    );
    assert!(!out.status.success(), "--why is a required argument");
    assert!(text(&out.stdout).is_empty());
    assert!(text(&out.stderr).contains("--why"), "{}", text(&out.stderr));
    assert_eq!(audit_len(f.server.storage.as_ref()), before);
    // A reason that could forge a second line in a printout of the log is refused too.
    let err = unseal::unseal(
        f.server.storage.as_ref(),
        &id,
        unseal::SealedPart::SensitiveNote,
        "ok\nseq 9 nothing happened",
        unseal::requester(),
        &unseal::read_escrow_key(&f.key_file).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(err, UnsealError::InvalidWhy { .. }), "{err:?}");
    assert_eq!(audit_len(f.server.storage.as_ref()), before);
}

#[tokio::test]
async fn another_escrow_secret_is_a_typed_error_and_still_audited_as_a_request() {
    let f = fixture().await;
    let other = f.dir.path().join("other.key");
    let other_public = generate(&other);
    let id = f.session.id.to_string();
    let out = unseal_cli(&f.server.db_path(), &id, other.to_str().unwrap(), &[]);
    assert!(!out.status.success());
    assert!(text(&out.stdout).is_empty(), "nothing printed");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("no copy for escrow key {}", other_public.key_id())),
        "{stderr}"
    );
    assert_no_secret(&out, &other);
    // Decided: the request is audited before the session is even read, so a try with the
    // wrong key is in the log, naming the key tried.
    let requests = decryption_requests(f.server.storage.as_ref());
    assert_eq!(requests.len(), 1);
    assert!(requests[0].target.contains(&other_public.key_id()));
    assert_eq!(
        outcomes(f.server.storage.as_ref()),
        [format!("{} outcome:no_copy_for_key", requests[0].target)]
    );
    assert_eq!(
        audit::verify(f.server.storage.as_ref())
            .unwrap()
            .first_broken,
        None
    );
}

#[test]
fn the_escrow_key_file_is_owner_only_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("escrow.key");
    let public = generate(&path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let written = std::fs::read(&path).unwrap();
    assert_eq!(
        unseal::read_escrow_key(&path).unwrap().public_key(),
        &public,
        "the printed key is the public half of the file's secret"
    );
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_fieldconsult-server"))
        .args(["escrow-key", "generate", "--out"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(text(&again.stdout).is_empty());
    assert_eq!(std::fs::read(&path).unwrap(), written, "file unchanged");
}

#[tokio::test]
async fn an_unknown_session_is_a_typed_error_and_audited() {
    let f = fixture().await;
    let escrow = unseal::read_escrow_key(&f.key_file).unwrap();
    let unknown = SessionId::new().to_string();
    let err = unseal::unseal(
        f.server.storage.as_ref(),
        &unknown,
        unseal::SealedPart::SensitiveNote,
        WHY,
        unseal::requester(),
        &escrow,
    )
    .unwrap_err();
    assert!(
        matches!(&err, UnsealError::UnknownSession { id } if *id == unknown),
        "{err:?}"
    );
    let requests = decryption_requests(f.server.storage.as_ref());
    assert_eq!(requests.len(), 1);
    assert!(requests[0].target.contains(&unknown));
    // Not a session id at all: refused as an argument, not audited.
    let err = unseal::unseal(
        f.server.storage.as_ref(),
        "../../etc",
        unseal::SealedPart::SensitiveNote,
        WHY,
        unseal::requester(),
        &escrow,
    )
    .unwrap_err();
    assert!(matches!(err, UnsealError::BadSessionId), "{err:?}");
    assert_eq!(decryption_requests(f.server.storage.as_ref()).len(), 1);
}

#[tokio::test]
async fn a_session_without_a_sealed_note_is_a_typed_error() {
    let f = fixture().await;
    let a = f.server.member(&f.server.team_a).await;
    let visit = f.server.visit(&f.server.team_a);
    let mut draft = submitted_session(&visit);
    draft.status = Status::Draft;
    draft.sealed_note = None;
    let acks = f.server.push(&a, visit_and_session(&visit, &draft)).await;
    assert!(
        acks.iter().all(|a| a.outcome == AckOutcome::Stored),
        "{acks:?}"
    );
    let err = unseal::unseal(
        f.server.storage.as_ref(),
        &draft.id.to_string(),
        unseal::SealedPart::SensitiveNote,
        WHY,
        unseal::requester(),
        &unseal::read_escrow_key(&f.key_file).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(err, UnsealError::NothingSealed { .. }), "{err:?}");
}

#[tokio::test]
async fn an_escrow_copy_moved_to_another_session_fails_to_open() {
    let f = fixture().await;
    let a = f.server.member(&f.server.team_a).await;
    let visit = f.server.visit(&f.server.team_a);
    let mut other = submitted_session(&visit);
    // The first session's sealed note, copied byte for byte into another session.
    other.sealed_note = f.session.sealed_note.clone();
    let acks = f.server.push(&a, visit_and_session(&visit, &other)).await;
    assert!(
        acks.iter().all(|a| a.outcome == AckOutcome::Stored),
        "{acks:?}"
    );
    let id = other.id.to_string();
    let out = unseal_cli(&f.server.db_path(), &id, f.key_file.to_str().unwrap(), &[]);
    assert!(!out.status.success());
    assert!(text(&out.stdout).is_empty());
    assert!(
        text(&out.stderr).contains("does not open"),
        "{}",
        text(&out.stderr)
    );
    assert_no_secret(&out, &f.key_file);
}

#[tokio::test]
async fn a_tampered_escrow_copy_fails_to_open() {
    let f = fixture().await;
    let mut session = f.session.clone();
    let sealed = session.sealed_note.as_mut().unwrap();
    // Flip a byte of every copy's ciphertext (base64 'A' <-> 'B' keeps it decodable).
    for copy in &mut sealed.copies {
        let mut ct = copy.ct.clone().into_bytes();
        ct[0] = if ct[0] == b'A' { b'B' } else { b'A' };
        copy.ct = String::from_utf8(ct).unwrap();
    }
    let storage = SqliteStorage::in_memory().unwrap();
    storage
        .put_reference(
            &[fieldconsult_model::wire::Record::Session(Box::new(
                session.clone(),
            ))],
            false,
        )
        .unwrap();
    let err = unseal::unseal(
        &storage,
        &session.id.to_string(),
        unseal::SealedPart::SensitiveNote,
        WHY,
        unseal::requester(),
        &unseal::read_escrow_key(&f.key_file).unwrap(),
    );
    match err {
        Err(UnsealError::Tampered { id, field }) => {
            assert_eq!(id, session.id.to_string());
            assert_eq!(field, "sensitive_note");
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("a tampered copy opened"),
    }
}

#[tokio::test]
async fn nothing_is_opened_when_the_audit_log_cannot_take_the_request() {
    let f = fixture().await;
    let conn = rusqlite::Connection::open(f.server.db_path()).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log
         BEGIN SELECT RAISE(ABORT, 'audit log is read-only'); END;",
    )
    .unwrap();
    let before = audit_len(f.server.storage.as_ref());
    let out = unseal_cli(
        &f.server.db_path(),
        &f.session.id.to_string(),
        f.key_file.to_str().unwrap(),
        &[],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).is_empty(),
        "nothing opened, nothing printed"
    );
    assert!(
        text(&out.stderr).contains("the audit log could not record the request"),
        "{}",
        text(&out.stderr)
    );
    assert_no_secret(&out, &f.key_file);
    assert_eq!(audit_len(f.server.storage.as_ref()), before);
    // The order shows in the error: a request for a session that does not exist fails on
    // the audit log, before the session is looked up.
    let err = unseal::unseal(
        f.server.storage.as_ref(),
        &SessionId::new().to_string(),
        unseal::SealedPart::SensitiveNote,
        WHY,
        unseal::requester(),
        &unseal::read_escrow_key(&f.key_file).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(err, UnsealError::Audit(_)), "{err:?}");
}

#[tokio::test]
async fn a_note_a_device_core_sealed_to_the_keys_the_admin_set_opens_with_the_escrow_key() {
    use fieldconsult_core::{DatabaseKey, Store};
    use fieldconsult_model::{Actor, ChecklistTemplate, Role};

    let server = Server::new();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("escrow.key");
    let escrow = generate(&key_file);
    let focal = RecipientSecret::generate().unwrap();
    // The admin registers the printed public key exactly as `escrow-key generate` wrote it.
    let set = cli(
        &server.db_path(),
        &[
            "keys",
            "set",
            "--sector",
            "West",
            "--focal-point-key",
            &focal.public_key().to_hex(),
            "--escrow-key",
            &escrow.to_hex(),
        ],
    );
    assert!(set.status.success(), "{}", text(&set.stderr));
    let keys = fieldconsult_server::admin::sealing_keys(server.storage.as_ref())
        .unwrap()
        .into_iter()
        .find(|k| k.sector == "West")
        .unwrap();

    // A team device holding that reference data seals the note at submission.
    let token = server.member(&server.team_a).await;
    let device = Store::open(
        dir.path().join("device.db"),
        &DatabaseKey::from_bytes(&[7u8; DatabaseKey::LEN]).unwrap(),
    )
    .unwrap();
    device
        .upsert_teams(std::slice::from_ref(&server.team_a))
        .unwrap();
    device
        .upsert_communities(std::slice::from_ref(&server.community))
        .unwrap();
    device
        .publish_checklist(&ChecklistTemplate::default_v1())
        .unwrap();
    device.upsert_sealing_keys(&[keys]).unwrap();
    let actor = Actor {
        id: server.key_of(&token).0,
        role: Role::TeamMember {
            team_id: server.team_a.id,
        },
    };
    let visit = server.visit(&server.team_a);
    device.save_visit(&actor, &visit).unwrap();
    let mut draft = submitted_session(&visit);
    draft.status = Status::Draft;
    draft.sealed_note = None;
    draft.sensitive_note = NOTE.to_owned();
    device.save_session(&actor, &draft).unwrap();
    let sealed = device.submit_session(&actor, &draft.id).unwrap();
    assert!(sealed.sensitive_note.is_empty() && sealed.sealed_note.is_some());
    let acks = server
        .push(&token, visit_and_session(&visit, &sealed))
        .await;
    assert!(
        acks.iter().all(|a| a.outcome == AckOutcome::Stored),
        "{acks:?}"
    );

    let id = sealed.id.to_string();
    let out = unseal_cli(&server.db_path(), &id, key_file.to_str().unwrap(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{NOTE}\n"));
    assert_eq!(decryption_requests(server.storage.as_ref()).len(), 1);
}

#[test]
fn unseal_against_a_missing_database_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("escrow.key");
    generate(&key_file);
    let db = dir.path().join("typo.db");
    let out = unseal_cli(
        &db,
        &SessionId::new().to_string(),
        key_file.to_str().unwrap(),
        &[],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--db"), "{}", text(&out.stderr));
    assert!(!db.exists(), "no stray database holding the audit entry");
}

#[tokio::test]
async fn a_key_file_that_holds_no_key_is_refused_before_anything_is_audited() {
    let f = fixture().await;
    let before = audit_len(f.server.storage.as_ref());
    let bad = f.dir.path().join("bad.key");
    let good = std::fs::read_to_string(&f.key_file).unwrap();
    for content in [
        "not a key".to_owned(),
        good.trim()[..62].to_owned(),
        good.to_uppercase(),
    ] {
        std::fs::write(&bad, &content).unwrap();
        let out = unseal_cli(
            &f.server.db_path(),
            &f.session.id.to_string(),
            bad.to_str().unwrap(),
            &[],
        );
        assert!(!out.status.success());
        assert!(text(&out.stdout).is_empty());
        let stderr = text(&out.stderr);
        assert!(stderr.contains("escrow key file"), "{stderr}");
        assert!(!stderr.contains(good.trim()) && !stderr.contains(&good.trim().to_uppercase()));
    }
    assert_eq!(audit_len(f.server.storage.as_ref()), before);
}
