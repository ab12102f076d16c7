//! The audit log: what is appended (every read, export and admin action, with who, what,
//! when and why), and that an edit, a deletion or a reordering of its rows is detected at
//! the first entry touched, by `audit verify` and by `GET /v1/admin/audit`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::*;
use fieldconsult_model::Role;
use fieldconsult_model::report::Month;
use fieldconsult_server::audit::{
    self, AuditAction, AuditEntry, Break, GENESIS, StoredAuditEntry, Who,
};
use fieldconsult_server::{SqliteStorage, Storage};

const COLUMNS: [&str; 8] = [
    "at",
    "device_id",
    "role",
    "action",
    "target",
    "why",
    "prev_hash",
    "hash",
];

fn entry(i: usize) -> AuditEntry {
    AuditEntry {
        who: Who {
            id: format!("device-{i}"),
            role: "reviewer".to_owned(),
        },
        action: AuditAction::Report,
        target: format!("sector:West month=2026-{:02}", i % 12 + 1),
        why: "monthly gender report".to_owned(),
        at: Utc::now(),
    }
}

/// A database file holding `n` chained entries.
fn log_of(dir: &Path, n: usize) -> std::path::PathBuf {
    let path = dir.join("server.db");
    let storage = SqliteStorage::open(&path).unwrap();
    for i in 0..n {
        audit::append(&storage, &entry(i)).unwrap();
    }
    path
}

fn verify_file(path: &Path) -> audit::Verification {
    audit::verify(&SqliteStorage::open(path).unwrap()).unwrap()
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn appended_entries_chain_from_genesis_and_verify() {
    let storage = SqliteStorage::in_memory().unwrap();
    let appended: Vec<StoredAuditEntry> = (0..5)
        .map(|i| audit::append(&storage, &entry(i)).unwrap())
        .collect();
    assert_eq!(appended[0].prev_hash, GENESIS);
    for pair in appended.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
        assert_eq!(pair[1].seq, pair[0].seq + 1);
    }
    let v = audit::verify(&storage).unwrap();
    assert_eq!(v.entries, 5);
    assert_eq!(v.first_broken, None);
    assert_eq!(v.head, appended[4].hash);
    assert_eq!(storage.audit_entries(0, 100).unwrap(), appended);
}

#[test]
fn editing_any_column_of_any_row_is_named_at_that_entry() {
    for row in 1..=4u64 {
        for column in COLUMNS {
            let dir = tempfile::tempdir().unwrap();
            let path = log_of(dir.path(), 4);
            let changed = raw(&path)
                .execute(
                    &format!("UPDATE audit_log SET {column} = {column} || 'x' WHERE seq = ?1"),
                    [row as i64],
                )
                .unwrap();
            assert_eq!(changed, 1);
            let broken = verify_file(&path)
                .first_broken
                .unwrap_or_else(|| panic!("edit of {column} in entry {row} not detected"));
            assert_eq!(broken.seq, row, "{column}");
            let expected = if column == "prev_hash" {
                Break::NotChained
            } else {
                Break::Altered
            };
            assert_eq!(broken.problem, expected, "{column} of entry {row}");
        }
    }
}

#[test]
fn renumbering_an_entry_is_detected() {
    for row in 1..=4i64 {
        let dir = tempfile::tempdir().unwrap();
        let path = log_of(dir.path(), 4);
        raw(&path)
            .execute("UPDATE audit_log SET seq = seq + 100 WHERE seq = ?1", [row])
            .unwrap();
        let broken = verify_file(&path)
            .first_broken
            .expect("renumbering detected");
        // The entry now at the renumbered position does not belong there.
        assert_eq!(
            broken.problem,
            Break::Gap {
                expected_seq: row as u64
            }
        );
    }
}

#[test]
fn deleting_a_middle_entry_names_the_entry_after_the_gap() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), 5);
    raw(&path)
        .execute("DELETE FROM audit_log WHERE seq = 3", [])
        .unwrap();
    let broken = verify_file(&path).first_broken.unwrap();
    assert_eq!(broken.seq, 4);
    assert_eq!(broken.problem, Break::Gap { expected_seq: 3 });
}

#[test]
fn deleting_a_middle_entry_and_renumbering_the_rest_is_still_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), 5);
    let conn = raw(&path);
    conn.execute("DELETE FROM audit_log WHERE seq = 3", [])
        .unwrap();
    conn.execute("UPDATE audit_log SET seq = seq - 1 WHERE seq > 3", [])
        .unwrap();
    let broken = verify_file(&path).first_broken.unwrap();
    assert_eq!(broken.seq, 3);
}

#[test]
fn swapping_two_entries_is_named_at_the_first_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), 5);
    let conn = raw(&path);
    // Swap the positions of entries 2 and 4, every column moving with its row.
    conn.execute_batch(
        "UPDATE audit_log SET seq = -2 WHERE seq = 2;
         UPDATE audit_log SET seq = 2 WHERE seq = 4;
         UPDATE audit_log SET seq = 4 WHERE seq = -2;",
    )
    .unwrap();
    let broken = verify_file(&path).first_broken.unwrap();
    assert_eq!(broken.seq, 2);
    // Swapping everything but the position (the contents of two rows) is found too.
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), 5);
    let conn = raw(&path);
    conn.execute_batch(
        "CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE seq IN (2, 3);
         UPDATE audit_log SET (at, device_id, role, action, target, why, prev_hash, hash) =
           (SELECT at, device_id, role, action, target, why, prev_hash, hash FROM t
            WHERE t.seq = 5 - audit_log.seq)
         WHERE seq IN (2, 3);",
    )
    .unwrap();
    let broken = verify_file(&path).first_broken.unwrap();
    assert_eq!(broken.seq, 2);
}

#[test]
fn the_verify_command_names_the_broken_entry_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), 3);
    let run = |path: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_fieldconsult-server"))
            .arg("--db")
            .arg(path)
            .args(["audit", "verify"])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let ok = run(&path);
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact: 3 entries"));
    raw(&path)
        .execute(
            "UPDATE audit_log SET why = 'nothing to see' WHERE seq = 2",
            [],
        )
        .unwrap();
    let broken = run(&path);
    assert!(!broken.status.success());
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(stderr.contains("audit log broken at entry 2"), "{stderr}");
}

#[tokio::test]
async fn the_admin_endpoint_lists_entries_and_names_the_first_broken_one() {
    let server = Server::unlimited();
    let admin = server.enrol(Role::Admin).await.token;
    let victim = server.enrol(Role::HqAnalyst).await.device_id;
    let reply = server
        .post(
            &format!("/v1/admin/devices/{victim}/revoke"),
            Some(&admin),
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let page = server.get("/v1/admin/audit", Some(&admin)).await.json();
    assert_eq!(
        page["verification"]["first_broken"],
        serde_json::Value::Null
    );
    let revoked = &page["entries"][0];
    assert_eq!(revoked["action"], "device_revoked");
    assert_eq!(revoked["role"], "admin");
    assert_eq!(revoked["target"], format!("device:{victim}"));

    raw(&server.db_path())
        .execute(
            "UPDATE audit_log SET target = 'device:someone-else' WHERE seq = 1",
            [],
        )
        .unwrap();
    let page = server.get("/v1/admin/audit", Some(&admin)).await.json();
    assert_eq!(page["verification"]["first_broken"]["seq"], 1);
    assert_eq!(page["verification"]["first_broken"]["problem"], "altered");
}

#[tokio::test]
async fn every_read_export_and_admin_action_is_audited_with_who_what_and_why_but_no_note() {
    let server = Server::unlimited();
    let author = server.member(&server.team_a).await;
    let reader = server
        .enrol(Role::TeamMember {
            team_id: server.team_a.id,
        })
        .await;
    let hq = server.enrol(Role::HqAnalyst).await;
    let admin = server.enrol(Role::Admin).await.token;
    let visit = server.visit(&server.team_a);
    let session = submitted_session(&visit);
    server
        .push(&author, visit_and_session(&visit, &session))
        .await;
    let month = Month::of((Utc::now() - Duration::hours(2)).date_naive());

    // An idle page reads nothing and is not logged; a page with records is.
    let page = server.pull(&reader.token, 0).await;
    server.pull(&reader.token, page.cursor).await;
    let report = server
        .get(
            &format!("/v1/reports/monthly?month={month}&why=gender%20adviser%20brief"),
            Some(&reader.token),
        )
        .await;
    assert_eq!(report.status, StatusCode::OK);
    let export = server
        .get(
            &format!("/v1/export?month={month}&why=quarterly%20review&format=jsonl"),
            Some(&hq.token),
        )
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(!String::from_utf8_lossy(&export.body).contains("SECRET-NOTE"));
    let body = serde_json::json!({"role": {"kind": "admin"}, "ttl_hours": 3});
    let code = server
        .post(
            "/v1/admin/enrolment-codes",
            Some(&admin),
            serde_json::to_vec(&body).unwrap(),
        )
        .await
        .json()["code"]
        .as_str()
        .unwrap()
        .to_owned();

    let entries = server.storage.audit_entries(0, 100).unwrap();
    let summary: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.role.as_str(), e.why.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("pull", "team_member", "sync"),
            ("report", "team_member", "gender adviser brief"),
            ("export", "hq_analyst", "quarterly review"),
            ("enrolment_code_issued", "admin", ""),
        ]
    );
    assert_eq!(entries[0].device_id, reader.device_id);
    assert!(
        entries[0]
            .target
            .starts_with(&format!("team:{}", server.team_a.id))
    );
    assert!(entries[1].target.contains(&format!("month={month}")));
    assert!(entries[2].target.contains("sessions="));
    assert_eq!(entries[3].target, "role:admin ttl_hours=3");
    let all = serde_json::to_string(&entries).unwrap();
    for secret in [
        "SECRET-NOTE",
        code.as_str(),
        &fieldconsult_server::auth::canonical_code(&code),
        reader.token.as_str(),
        hq.token.as_str(),
        admin.as_str(),
    ] {
        assert!(!all.contains(secret), "the audit log holds a secret");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_and_appends_never_fork_the_chain() {
    let server = Server::unlimited();
    let author = server.member(&server.team_a).await;
    let reviewer = server.reviewer("West").await;
    let visit = server.visit(&server.team_a);
    server
        .push(
            &author,
            visit_and_session(&visit, &submitted_session(&visit)),
        )
        .await;
    let server = Arc::new(server);
    let mut tasks = Vec::new();
    for i in 0..24 {
        let server = server.clone();
        let reviewer = reviewer.clone();
        tasks.push(tokio::spawn(async move {
            if i % 3 == 0 {
                let storage = server.storage.clone();
                tokio::task::spawn_blocking(move || audit::append(storage.as_ref(), &entry(i)))
                    .await
                    .unwrap()
                    .unwrap();
            } else {
                let reply = server.get("/v1/pull?after=0", Some(&reviewer)).await;
                assert_eq!(reply.status, StatusCode::OK);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let v = audit::verify(server.storage.as_ref()).unwrap();
    assert_eq!(v.first_broken, None);
    assert_eq!(v.entries, 24);
}
