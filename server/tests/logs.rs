//! The server's logs, captured at the most verbose level over a whole working day (enrol,
//! push, pull, report, export, an admin code, failed authentications): no token, no
//! enrolment code and no note text ever appears in them.
//!
//! One test in this binary: it installs the process-wide subscriber, so that the blocking
//! threads' events are captured as well as the runtime's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::*;
use fieldconsult_model::Role;
use fieldconsult_model::report::Month;
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_code_or_note_text_reaches_the_logs() {
    let buffer = Buffer::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(buffer.clone())
        .with_ansi(false)
        .init();

    let server = Server::unlimited();
    let note = "NOTE-TEXT-she-named-the-commander";
    let mut secrets: Vec<String> = vec![note.to_owned()];

    let code = server.code(&Role::TeamMember {
        team_id: server.team_a.id,
    });
    secrets.push(code.clone());
    secrets.push(fieldconsult_server::auth::canonical_code(&code));
    let author = server.enrol_with(&code).await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let reader = server.member(&server.team_a).await;
    let hq = server.enrol(Role::HqAnalyst).await.token;
    let admin = server.enrol(Role::Admin).await.token;
    secrets.extend([author.clone(), reader.clone(), hq.clone(), admin.clone()]);

    let visit = server.visit(&server.team_a);
    let mut session = submitted_session(&visit);
    session.sensitive_note = note.to_owned();
    server
        .push(&author, visit_and_session(&visit, &session))
        .await;
    let page = server.pull(&reader, 0).await;
    assert!(!page.records.is_empty());

    let month = Month::of((Utc::now() - Duration::hours(2)).date_naive());
    for (path, token) in [
        (format!("/v1/reports/monthly?month={month}"), &reader),
        (
            format!("/v1/reports/monthly?month={month}&scope=mission&format=csv"),
            &hq,
        ),
        (format!("/v1/export?month={month}&why=brief"), &hq),
    ] {
        let reply = server.get(&path, Some(token)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
    }
    let body = serde_json::json!({"role": {"kind": "hq_analyst"}, "ttl_hours": 1});
    let issued = server
        .post(
            "/v1/admin/enrolment-codes",
            Some(&admin),
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
    let issued_code = issued.json()["code"].as_str().unwrap().to_owned();
    secrets.push(issued_code.clone());
    secrets.push(fieldconsult_server::auth::canonical_code(&issued_code));

    // Failed authentications and a failed enrolment, with secrets that look real.
    let forged = "c0ffee".repeat(10) + "abcd";
    secrets.push(forged.clone());
    assert_eq!(
        server.get("/v1/pull", Some(&forged)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let wrong_code = "ZZZZ-YYYY-XXXX-WWWW";
    secrets.push(wrong_code.to_owned());
    assert_eq!(
        server.enrol_with(wrong_code).await.status,
        StatusCode::FORBIDDEN
    );
    // A used code, sent again.
    assert_eq!(server.enrol_with(&code).await.status, StatusCode::FORBIDDEN);

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("device enrolled") && logs.contains("push applied"),
        "the capture sees the server's events"
    );
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret reached the logs ({} bytes of logs)",
            logs.len()
        );
    }
}
