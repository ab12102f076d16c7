//! Rate limits on enrolment attempts and failed authentications, per client address: 429
//! problem documents with `Retry-After` once over the limit; valid tokens never throttled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use common::*;
use fieldconsult_model::Role;
use fieldconsult_server::app::HttpConfig;
use fieldconsult_server::rate_limit::Limit;
use fieldconsult_server::{SqliteStorage, Storage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn limited(enrolments: u32, failed_auths: u32) -> Server {
    Server::with_config(HttpConfig {
        enrolment_limit: Limit::per_minute(enrolments),
        failed_auth_limit: Limit::per_minute(failed_auths),
        ..HttpConfig::default()
    })
}

fn from(addr: &str, mut req: Request<Body>) -> Request<Body> {
    let addr: SocketAddr = addr.parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

fn enrol_request(code: &str) -> Request<Body> {
    // A well-formed request (signing made the device key required): only the code is wrong.
    let body = serde_json::json!({
        "code": code, "device_label": "tablet", "public_key": new_key().public_key(),
    });
    Request::post("/v1/enrol")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap()
}

fn pull_request(token: &str) -> Request<Body> {
    Request::get("/v1/pull?after=0")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

fn assert_too_many(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.content_type(), "application/problem+json");
    assert_eq!(reply.json()["type"], "/problems/too-many-requests");
    let wait: u64 = reply.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
}

#[tokio::test]
async fn enrolment_attempts_over_the_limit_are_429_with_retry_after_for_that_address_only() {
    let server = limited(3, 100);
    for _ in 0..3 {
        let reply = server
            .send(from("10.0.0.1:5000", enrol_request("AAAA-BBBB-CCCC-DDDD")))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    // Over the limit, even a valid code waits: the attempt is refused before the lookup.
    let code = server.code(&Role::TeamMember {
        team_id: server.team_a.id,
    });
    let reply = server
        .send(from("10.0.0.1:5001", enrol_request(&code)))
        .await;
    assert_too_many(&reply);
    // Another address is not held back by the first one's attempts.
    let reply = server
        .send(from("10.0.0.2:5000", enrol_request(&code)))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn failed_authentications_over_the_limit_are_429_but_a_valid_token_is_never_throttled() {
    let server = limited(100, 2);
    let token = server.member(&server.team_a).await;
    let forged = "0".repeat(64);
    for _ in 0..2 {
        let reply = server
            .send(from("10.0.0.9:4000", pull_request(&forged)))
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = server
        .send(from("10.0.0.9:4000", pull_request(&forged)))
        .await;
    assert_too_many(&reply);
    // The same address with a valid token is served, as often as it likes.
    for _ in 0..5 {
        let reply = server
            .send(from("10.0.0.9:4000", pull_request(&token)))
            .await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    // A missing header counts as a failure too.
    let bare = Request::get("/v1/pull").body(Body::empty()).unwrap();
    assert_too_many(&server.send(from("10.0.0.9:4000", bare)).await);
}

#[tokio::test]
async fn without_connection_info_requests_share_one_key_and_are_still_limited() {
    let server = limited(1, 1);
    assert_eq!(
        server
            .send(enrol_request("AAAA-BBBB-CCCC-DDDD"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_too_many(&server.send(enrol_request("AAAA-BBBB-CCCC-DDDD")).await);
}

async fn raw_get(addr: SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer nope\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    reply
}

#[tokio::test]
async fn serve_limits_by_the_connected_peer_address() {
    let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::in_memory().unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = HttpConfig {
        failed_auth_limit: Limit::per_minute(1),
        ..HttpConfig::default()
    };
    let server = tokio::spawn(fieldconsult_server::app::serve_with(
        storage,
        config,
        listener,
        async move {
            let _ = stopped.await;
        },
    ));
    let first = raw_get(addr, "/v1/pull").await;
    assert!(first.starts_with("HTTP/1.1 401"), "{first}");
    let second = raw_get(addr, "/v1/pull").await;
    assert!(second.starts_with("HTTP/1.1 429"), "{second}");
    assert!(
        second.to_ascii_lowercase().contains("\r\nretry-after: "),
        "{second}"
    );
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
