//! Enrolment, authentication, error documents, compression, health and export.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, Utc};
use common::{Server, acceptance, new_change, submitted_session, visit_and_session};
use fieldconsult_model::Role;
use fieldconsult_model::wire::{PushRequest, Record};
use fieldconsult_server::auth::issue_enrolment_code;
use fieldconsult_server::export::{Format, export};

#[tokio::test]
async fn an_enrolment_code_works_once() {
    let server = Server::new();
    let role = Role::TeamMember {
        team_id: server.team_a.id,
    };
    let code = server.code(&role);
    let first = server.enrol_with(&code).await;
    assert_eq!(first.status, StatusCode::OK);
    let enrolled = first.json();
    assert_eq!(enrolled["token"].as_str().unwrap().len(), 64);
    assert_eq!(enrolled["role"]["kind"], "team_member");

    let second = server.enrol_with(&code).await;
    assert_eq!(second.status, StatusCode::FORBIDDEN);
    assert_eq!(second.content_type(), "application/problem+json");
    assert_eq!(second.json()["type"], "/problems/invalid-enrolment-code");
}

#[tokio::test]
async fn an_expired_enrolment_code_is_refused() {
    let server = Server::new();
    let role = Role::Reviewer {
        sector: "West".to_owned(),
    };
    let code = issue_enrolment_code(
        server.storage.as_ref(),
        &role,
        Duration::hours(-1),
        Utc::now(),
    )
    .unwrap();
    let reply = server.enrol_with(&code).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json()["type"], "/problems/invalid-enrolment-code");
}

#[tokio::test]
async fn a_code_typed_in_lower_case_with_spaces_still_enrols() {
    let server = Server::new();
    let code = server.code(&Role::TeamMember {
        team_id: server.team_a.id,
    });
    let typed = code.to_lowercase().replace('-', " ");
    assert_eq!(server.enrol_with(&typed).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_revoked_device_is_refused_with_403_revoked() {
    let server = Server::new();
    let enrolled = server
        .enrol(Role::TeamMember {
            team_id: server.team_a.id,
        })
        .await;
    assert!(!server.pull(&enrolled.token, 0).await.more);
    assert!(
        fieldconsult_server::admin::revoke(server.storage.as_ref(), &enrolled.device_id).unwrap()
    );
    let reply = server.get("/v1/pull?after=0", Some(&enrolled.token)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.content_type(), "application/problem+json");
    assert_eq!(reply.json()["type"], "/problems/revoked");
    let push = server.push_raw(&enrolled.token, vec![]).await;
    assert_eq!(push.json()["type"], "/problems/revoked");
}

#[tokio::test]
async fn no_token_and_a_forged_token_get_identical_401_bodies() {
    let server = Server::new();
    let none = server.get("/v1/pull", None).await;
    let forged = server.get("/v1/pull", Some(&"ab".repeat(32))).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.body, forged.body);
    assert_eq!(none.content_type(), "application/problem+json");
    assert_eq!(none.json()["type"], "/problems/unauthorized");
    assert_eq!(
        none.headers.get(header::WWW_AUTHENTICATE).unwrap(),
        "Bearer"
    );
}

#[tokio::test]
async fn malformed_json_unknown_fields_and_wrong_types_are_400_problems() {
    let server = Server::new();
    let token = server.member(&server.team_a).await;
    for body in [
        &b"{not json"[..],
        br#"{"changes": [], "extra": 1}"#,
        br#"{"changes": "nope"}"#,
        br#"{"code": "X", "device_label": "t", "admin": true}"#,
    ] {
        let reply = server.post("/v1/push", Some(&token), body.to_vec()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body:?}");
        assert_eq!(reply.content_type(), "application/problem+json");
        assert_eq!(reply.json()["type"], "/problems/malformed-request");
    }
    let reply = server
        .post(
            "/v1/enrol",
            None,
            br#"{"code": "X", "device_label": "t", "admin": true}"#.to_vec(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.json()["detail"].as_str().unwrap().contains("admin"));
    let reply = server.get("/v1/pull?after=minus", Some(&token)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["type"], "/problems/malformed-request");
}

#[tokio::test]
async fn a_gzip_compressed_push_is_accepted() {
    let server = Server::new();
    let token = server.member(&server.team_a).await;
    let visit = server.visit(&server.team_a);
    let json = serde_json::to_vec(&PushRequest {
        changes: vec![server.signed_change(&token, Record::Visit(visit))],
    })
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json).unwrap();
    let req = Request::post("/v1/push")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "gzip")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(gz.finish().unwrap()))
        .unwrap();
    let reply = server.send(req).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["acks"][0]["outcome"]["outcome"], "stored");
}

#[tokio::test]
async fn an_oversized_body_is_413_too_large() {
    let server = Server::new();
    let token = server.member(&server.team_a).await;
    let big = vec![b' '; fieldconsult_server::app::DEFAULT_BODY_LIMIT + 1];
    let reply = server.post("/v1/push", Some(&token), big).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.content_type(), "application/problem+json");
    assert_eq!(reply.json()["type"], "/problems/too-large");
}

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    let server = Server::new();
    assert_eq!(server.get("/healthz", None).await.status, StatusCode::OK);
    assert_eq!(server.get("/readyz", None).await.status, StatusCode::OK);
    let missing = server.get("/v1/nothing", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.content_type(), "application/problem+json");
    assert_eq!(
        missing.json()["type"],
        fieldconsult_model::wire::problem_types::NOT_FOUND
    );
}

#[tokio::test]
async fn the_exports_have_accepted_sessions_but_never_a_sensitive_field() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let reviewer = server.reviewer("West").await;
    let visit = server.visit(&server.team_a);
    let mut session = submitted_session(&visit);
    let id = session.id.to_string();
    let reader = fieldconsult_model::RecipientSecret::generate().unwrap();
    let service = fieldconsult_model::crypto::seal::seal(
        &fieldconsult_model::ReferralServiceId::new().to_string(),
        &fieldconsult_model::crypto::seal::SealContext::referral_service(&id),
        &[reader.public_key().clone()],
    )
    .unwrap();
    session.referral = Some(fieldconsult_model::Referral {
        service_id: None,
        sealed_service_id: Some(service.clone()),
    });
    server.push(&a, visit_and_session(&visit, &session)).await;
    let review = acceptance(&session);
    server
        .push(&reviewer, vec![new_change(Record::Review(review))])
        .await;

    for format in [Format::Csv, Format::Jsonl] {
        let mut out = Vec::new();
        let n = export(server.storage.as_ref(), format, &mut out).unwrap();
        assert_eq!(n, 1);
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains("SECRET-NOTE"),
            "{format:?} leaks the sensitive note"
        );
        let sealed = session.sealed_note.as_ref().unwrap();
        assert!(
            !text.contains(&sealed.copies[0].ct) && !text.contains(&sealed.copies[0].key_id),
            "{format:?} carries the sealed note"
        );
        assert!(
            !text.contains(&service.copies[0].ct),
            "{format:?} carries the sealed referral service"
        );
        if format == Format::Jsonl {
            let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
            assert_eq!(
                line["session"]["referral"],
                serde_json::json!({}),
                "offered, nothing of the service"
            );
        }
        if format == Format::Csv {
            let mut lines = text.lines();
            let header = lines.next().unwrap();
            assert!(header.contains("female_18_29") && header.contains("undisclosed_unknown"));
            let row = lines.next().unwrap();
            assert!(row.contains(&session.id.to_string()));
            assert!(row.contains("Engagement Team A"));
        }
    }
}
