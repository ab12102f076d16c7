//! Authentication: one 401 for every way of not being authenticated, and enrolment codes
//! that are single-use, at least 64 bits, expiring, and spent once even under a race.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, Utc};
use common::*;
use fieldconsult_model::Role;
use fieldconsult_server::Storage;
use fieldconsult_server::auth::{canonical_code, issue_enrolment_code, new_enrolment_code};

/// Header names and values, sorted, for comparing answers byte for byte.
type Headers = Vec<(String, Vec<u8>)>;

fn with_authorization(method: &str, path: &str, value: Option<&[u8]>) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(v) = value {
        req = req.header(
            header::AUTHORIZATION,
            header::HeaderValue::from_bytes(v).unwrap(),
        );
    }
    req.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn missing_malformed_unknown_and_wrong_scheme_get_byte_identical_401s_everywhere() {
    let server = Server::unlimited();
    let token = server.member(&server.team_a).await;
    let variants: Vec<(&str, Option<Vec<u8>>)> = vec![
        ("missing header", None),
        ("empty bearer", Some(b"Bearer ".to_vec())),
        ("garbage", Some(b"!!not a header value we read".to_vec())),
        ("non-ASCII", Some(vec![b'B', 0xE9, b'a', b'r'])),
        (
            "unknown token",
            Some(format!("Bearer {}", "a".repeat(64)).into_bytes()),
        ),
        (
            "lower-case scheme",
            Some(format!("bearer {}", "b".repeat(64)).into_bytes()),
        ),
        ("wrong scheme", Some(format!("Basic {token}").into_bytes())),
        ("token without scheme", Some(token.clone().into_bytes())),
    ];
    let endpoints = [
        ("POST", "/v1/push"),
        ("GET", "/v1/pull?after=0"),
        ("GET", "/v1/reports/monthly?month=2026-10"),
        ("GET", "/v1/export?month=2026-10&why=x"),
        ("GET", "/v1/admin/devices"),
        ("POST", "/v1/admin/devices/x/revoke"),
        ("POST", "/v1/admin/enrolment-codes"),
        ("GET", "/v1/admin/audit"),
    ];
    let mut first: Option<(Vec<u8>, Headers)> = None;
    for (method, path) in endpoints {
        for (what, value) in &variants {
            let reply = server
                .send(with_authorization(method, path, value.as_deref()))
                .await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what} on {path}");
            let mut headers: Headers = reply
                .headers
                .iter()
                // The reports endpoint adds its no-store headers to every answer; the
                // authentication answer itself is what must not vary.
                .filter(|(k, _)| {
                    *k != header::CACHE_CONTROL && *k != header::X_CONTENT_TYPE_OPTIONS
                })
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect();
            headers.sort();
            match &first {
                None => first = Some((reply.body.clone(), headers)),
                Some((body, h)) => {
                    assert_eq!(&reply.body, body, "{what} on {path}: body differs");
                    assert_eq!(&headers, h, "{what} on {path}: headers differ");
                }
            }
        }
    }
    let (body, headers) = first.unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["type"], "/problems/unauthorized");
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "www-authenticate" && v == b"Bearer")
    );
}

#[tokio::test]
async fn a_revoked_device_keeps_its_own_problem_type_so_it_knows_to_wipe() {
    let server = Server::unlimited();
    let device = server
        .enrol(Role::TeamMember {
            team_id: server.team_a.id,
        })
        .await;
    fieldconsult_server::admin::revoke(server.storage.as_ref(), &device.device_id).unwrap();
    let reply = server.get("/v1/pull", Some(&device.token)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json()["type"], "/problems/revoked");
}

#[test]
fn enrolment_codes_carry_at_least_64_bits_from_the_whole_alphabet() {
    let alphabet: HashSet<char> = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".chars().collect();
    let mut seen = HashSet::new();
    let mut used = HashSet::new();
    for _ in 0..2000 {
        let code = canonical_code(&new_enrolment_code().unwrap());
        // 16 symbols of a 32-symbol alphabet: 80 bits.
        assert_eq!(code.chars().count(), 16);
        assert!(code.chars().all(|c| alphabet.contains(&c)), "{code}");
        used.extend(code.chars());
        assert!(seen.insert(code), "a code repeated");
    }
    assert_eq!(
        used, alphabet,
        "every symbol is drawn, so each carries 5 bits"
    );
    let bits = 16.0 * (alphabet.len() as f64).log2();
    assert!(bits >= 64.0);
}

#[tokio::test]
async fn a_code_raced_by_two_devices_enrols_exactly_one() {
    let server = Server::unlimited();
    let code = server.code(&Role::HqAnalyst);
    let (a, b) = tokio::join!(server.enrol_with(&code), server.enrol_with(&code));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::FORBIDDEN]);
    let devices = fieldconsult_server::admin::devices(server.storage.as_ref()).unwrap();
    assert_eq!(devices.len(), 1);
}

#[tokio::test]
async fn a_code_enrols_the_role_it_was_issued_for_and_expires_at_its_ttl() {
    let server = Server::unlimited();
    let enrolled = server.enrol(Role::Admin).await;
    assert_eq!(enrolled.role, Role::Admin);
    // A code one second from expiry still works; one a second past it does not.
    let now = Utc::now();
    let fresh = issue_enrolment_code(
        server.storage.as_ref(),
        &Role::HqAnalyst,
        Duration::seconds(30),
        now,
    )
    .unwrap();
    let stale = issue_enrolment_code(
        server.storage.as_ref(),
        &Role::HqAnalyst,
        Duration::seconds(-1),
        now,
    )
    .unwrap();
    assert_eq!(server.enrol_with(&fresh).await.status, StatusCode::OK);
    let reply = server.enrol_with(&stale).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json()["type"], "/problems/invalid-enrolment-code");
}

#[tokio::test]
async fn an_admin_device_issues_codes_over_http_that_work_once() {
    let server = Server::unlimited();
    let admin = server.enrol(Role::Admin).await.token;
    let body = serde_json::json!({"role": {"kind": "hq_analyst"}, "ttl_hours": 1});
    let reply = server
        .post(
            "/v1/admin/enrolment-codes",
            Some(&admin),
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    let code = reply.json()["code"].as_str().unwrap().to_owned();
    let first = server.enrol_with(&code).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.json()["role"]["kind"], "hq_analyst");
    assert_eq!(server.enrol_with(&code).await.status, StatusCode::FORBIDDEN);
    // A code for a team that does not exist is refused, naming the field.
    let body = serde_json::json!({
        "role": {"kind": "team_member", "team_id": fieldconsult_model::TeamId::new()},
        "ttl_hours": 1
    });
    let reply = server
        .post(
            "/v1/admin/enrolment-codes",
            Some(&admin),
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["problems"][0]["field"], "role.team_id");
}

#[tokio::test]
async fn the_enrol_command_issues_codes_for_headquarters_and_admin_devices() {
    let server = Server::unlimited();
    for (flag, kind) in [("--hq-analyst", "hq_analyst"), ("--admin", "admin")] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_fieldconsult-server"))
            .arg("--db")
            .arg(server.db_path())
            .args(["enrol", flag])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let code = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        let reply = server.enrol_with(&code).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json()["role"]["kind"], kind);
    }
    let entries = server.storage.audit_entries(0, 10).unwrap();
    let issued: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.target.as_str()))
        .collect();
    assert_eq!(
        issued,
        [
            ("enrolment_code_issued", "role:hq_analyst ttl_hours=24"),
            ("enrolment_code_issued", "role:admin ttl_hours=24"),
        ]
    );
}
