//! Hostile and broken requests: malformed JSON, wrong types, unknown fields, invalid UUIDs,
//! oversized bodies, wrong compression, missing or forged tokens, another team's records.
//! Each gets its 4xx problem document (or, for another team's records, a `forbidden` ack),
//! nothing is stored, and the server keeps serving.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Server, new_change, session_record, submitted_session, visit_and_session};
use fieldconsult_model::wire::{AckOutcome, MAX_BATCH_RECORDS, Record, SessionTombstone};
use fieldconsult_model::wire::{PushChange, PushRequest, problem_types};
use fieldconsult_model::{Session, SessionId, Status};
use fieldconsult_server::Storage;
use fieldconsult_server::app::DEFAULT_BODY_LIMIT;
use fieldconsult_server::auth::secret_hash;
use serde_json::json;

/// Every record kind the server keeps.
const KINDS: &[&str] = &[
    "team",
    "community",
    "checklist",
    "referral_service",
    "visit",
    "session",
    "session_tombstone",
    "review",
    "addendum",
    "conflict",
];

/// What the server holds: every current record (kind, id, hash), the history of every one of
/// them, every device, and the change-log cursor each given device sees.
#[derive(Debug, PartialEq)]
struct Snapshot {
    records: Vec<(String, String, String)>,
    history: Vec<(String, String, usize)>,
    devices: Vec<String>,
    cursors: Vec<u64>,
}

fn snapshot(server: &Server, tokens: &[&str]) -> Snapshot {
    let storage = server.storage.as_ref();
    let mut records = Vec::new();
    for kind in KINDS {
        for r in Storage::records_of_kind(storage, kind).unwrap() {
            records.push((kind.to_string(), r.record.id(), r.hash));
        }
    }
    records.sort();
    let history = records
        .iter()
        .map(|(kind, id, _)| {
            (
                kind.clone(),
                id.clone(),
                server.storage_history(kind, id).len(),
            )
        })
        .collect();
    let mut devices: Vec<String> = Storage::devices(storage)
        .unwrap()
        .into_iter()
        .map(|d| format!("{} {:?}", d.id, d.revoked_at))
        .collect();
    devices.sort();
    let cursors = tokens
        .iter()
        .map(|t| {
            let device = Storage::device_by_token(storage, &secret_hash(t))
                .unwrap()
                .unwrap();
            Storage::pull(storage, &device, 0, 1000).unwrap().cursor
        })
        .collect();
    Snapshot {
        records,
        history,
        devices,
        cursors,
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// One hostile request and the answer it must get.
struct Case {
    name: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: StatusCode,
    kind: &'static str,
}

/// The headers of a JSON request with `token`'s bearer, plus `extra`.
fn with_token(token: &str, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("content-type", "application/json".to_owned()),
        ("authorization", format!("Bearer {token}")),
    ];
    h.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    h
}

fn request(case: &Case) -> Request<Body> {
    let mut req = Request::builder().method(case.method).uri(&case.path);
    for (k, v) in &case.headers {
        req = req.header(*k, v);
    }
    req.body(Body::from(case.body.clone())).unwrap()
}

/// A push carrying one change whose record JSON is `record` (kind `kind`), as raw JSON.
fn push_json(kind: &str, record: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "changes": [{"record": {"kind": kind, "record": record}, "base_hash": null}]
    }))
    .unwrap()
}

#[tokio::test]
async fn hostile_requests_get_4xx_problems_store_nothing_and_the_server_keeps_serving() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let b = server.member(&server.team_b).await;
    let visit = server.visit(&server.team_a);
    let session = submitted_session(&visit);
    server.push(&a, visit_and_session(&visit, &session)).await;

    // Well-formed JSON of a new visit and session, to break one piece at a time.
    let fresh_visit = server.visit(&server.team_a);
    let visit_json = serde_json::to_value(&fresh_visit).unwrap();
    let session_json = serde_json::to_value(submitted_session(&fresh_visit)).unwrap();
    let valid_push = serde_json::to_vec(&PushRequest {
        changes: vec![new_change(Record::Visit(fresh_visit.clone()))],
    })
    .unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = session_json.clone();
        f(&mut v);
        push_json("session", v)
    };
    let edit_visit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = visit_json.clone();
        f(&mut v);
        push_json("visit", v)
    };

    let push = |name, headers, body, status, kind| Case {
        name,
        method: "POST",
        path: "/v1/push".to_owned(),
        headers,
        body,
        status,
        kind,
    };
    let malformed = |name, body| {
        push(
            name,
            with_token(&a, &[]),
            body,
            StatusCode::BAD_REQUEST,
            problem_types::MALFORMED,
        )
    };
    let too_large = StatusCode::PAYLOAD_TOO_LARGE;
    let unauthorized = StatusCode::UNAUTHORIZED;
    let batch_over_limit = serde_json::to_vec(&PushRequest {
        changes: (0..=MAX_BATCH_RECORDS)
            .map(|_| {
                new_change(Record::SessionTombstone(SessionTombstone {
                    id: SessionId::new(),
                    visit_id: visit.id,
                }))
            })
            .collect(),
    })
    .unwrap();
    // 9 MiB of spaces then `{}`: about 9 KiB gzipped, over the limit once decompressed.
    let mut bomb = vec![b' '; DEFAULT_BODY_LIMIT + (1 << 20)];
    bomb.extend_from_slice(br#"{"changes": []}"#);
    let bomb = gzip(&bomb);
    assert!(bomb.len() < DEFAULT_BODY_LIMIT);

    let mut tweaked = a.clone();
    let last = tweaked.pop().unwrap();
    tweaked.push(if last == '0' { '1' } else { '0' });

    let cases = vec![
        // Malformed JSON.
        malformed("not JSON", b"{not json".to_vec()),
        malformed("empty body", Vec::new()),
        malformed("truncated JSON", valid_push[..valid_push.len() / 2].to_vec()),
        malformed("not UTF-8", b"{\"changes\": [\"\xff\xfe\"]}".to_vec()),
        malformed("JSON null", b"null".to_vec()),
        malformed("trailing garbage", [&valid_push[..], b"}{"].concat()),
        // Wrong types.
        malformed("changes is a string", br#"{"changes": "nope"}"#.to_vec()),
        malformed("changes is an object", br#"{"changes": {}}"#.to_vec()),
        malformed(
            "a count is a string",
            edit(&|s| s["participants"]["female"]["age_18_29"] = json!("six")),
        ),
        malformed(
            "a count is negative",
            edit(&|s| s["participants"]["female"]["age_18_29"] = json!(-1)),
        ),
        malformed(
            "a count overflows u32",
            edit(&|s| s["participants"]["female"]["age_18_29"] = json!(1u64 << 40)),
        ),
        malformed(
            "a time is not a time",
            edit_visit(&|v| v["started_at"] = json!("yesterday")),
        ),
        malformed(
            "an unknown record kind",
            push_json("admin", json!({"id": "x"})),
        ),
        malformed(
            "an unknown status",
            edit(&|s| s["status"] = json!("published")),
        ),
        malformed(
            "a record without its kind tag",
            serde_json::to_vec(&json!({"changes": [{"record": visit_json, "base_hash": null}]}))
                .unwrap(),
        ),
        // Unknown fields: the envelope (`PushRequest`, `PushChange`, `EnrolRequest`) denies
        // them; inside a record serde ignores them, so they are no case here.
        malformed(
            "an unknown top-level field",
            br#"{"changes": [], "admin": true}"#.to_vec(),
        ),
        malformed(
            "an unknown field in a change",
            serde_json::to_vec(&json!({"changes": [{
                "record": {"kind": "visit", "record": visit_json},
                "base_hash": null,
                "force": true
            }]}))
            .unwrap(),
        ),
        // Invalid UUIDs.
        malformed(
            "a visit id that is no UUID",
            edit_visit(&|v| v["id"] = json!("not-a-uuid")),
        ),
        malformed(
            "a team id that is no UUID",
            edit_visit(&|v| v["team_id"] = json!("../team-b")),
        ),
        malformed(
            "a session id that is an integer",
            edit(&|s| s["id"] = json!(42)),
        ),
        malformed(
            "a session's visit id with a bad digit",
            edit(&|s| {
                let id = s["visit_id"].as_str().unwrap().to_owned();
                s["visit_id"] = json!(format!("{}g", &id[..id.len() - 1]));
            }),
        ),
        // Oversized bodies.
        push(
            "a body over the limit",
            with_token(&a, &[]),
            vec![b' '; DEFAULT_BODY_LIMIT + 1],
            too_large,
            problem_types::TOO_LARGE,
        ),
        push(
            "a gzip body over the limit once decompressed",
            with_token(&a, &[("content-encoding", "gzip")]),
            bomb,
            too_large,
            problem_types::TOO_LARGE,
        ),
        push(
            "a batch over the record limit",
            with_token(&a, &[]),
            batch_over_limit,
            too_large,
            problem_types::BATCH_TOO_LARGE,
        ),
        // Wrong compression.
        push(
            "an encoding the server does not speak",
            with_token(&a, &[("content-encoding", "br")]),
            valid_push.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            problem_types::UNSUPPORTED_ENCODING,
        ),
        push(
            "plain JSON labelled gzip",
            with_token(&a, &[("content-encoding", "gzip")]),
            valid_push.clone(),
            StatusCode::BAD_REQUEST,
            problem_types::MALFORMED,
        ),
        push(
            "gzip labelled zstd",
            with_token(&a, &[("content-encoding", "zstd")]),
            gzip(&valid_push),
            StatusCode::BAD_REQUEST,
            problem_types::MALFORMED,
        ),
        push(
            "truncated gzip",
            with_token(&a, &[("content-encoding", "gzip")]),
            gzip(&valid_push)[..20].to_vec(),
            StatusCode::BAD_REQUEST,
            problem_types::MALFORMED,
        ),
        // Missing or forged tokens: refused before the body is read.
        push(
            "no token",
            vec![("content-type", "application/json".to_owned())],
            valid_push.clone(),
            unauthorized,
            problem_types::UNAUTHORIZED,
        ),
        push(
            "a forged token",
            with_token(&"ab".repeat(32), &[]),
            valid_push.clone(),
            unauthorized,
            problem_types::UNAUTHORIZED,
        ),
        push(
            "team A's token with one character changed",
            with_token(&tweaked, &[]),
            valid_push.clone(),
            unauthorized,
            problem_types::UNAUTHORIZED,
        ),
        push(
            "the token hash sent as the token",
            with_token(&secret_hash(&a), &[]),
            valid_push.clone(),
            unauthorized,
            problem_types::UNAUTHORIZED,
        ),
        push(
            "an empty bearer",
            vec![("authorization", "Bearer ".to_owned())],
            valid_push.clone(),
            unauthorized,
            problem_types::UNAUTHORIZED,
        ),
        push(
            "basic auth instead of a bearer",
            vec![("authorization", format!("Basic {a}"))],
            valid_push.clone(),
            unauthorized,
            problem_types::UNAUTHORIZED,
        ),
        Case {
            name: "a pull with a forged token",
            method: "GET",
            path: "/v1/pull?after=0".to_owned(),
            headers: vec![("authorization", "Bearer forged".to_owned())],
            body: Vec::new(),
            status: unauthorized,
            kind: problem_types::UNAUTHORIZED,
        },
        Case {
            name: "a pull with a cursor that is no number",
            method: "GET",
            path: "/v1/pull?after=-1".to_owned(),
            headers: with_token(&b, &[]),
            body: Vec::new(),
            status: StatusCode::BAD_REQUEST,
            kind: problem_types::MALFORMED,
        },
        Case {
            name: "a pull with an unknown parameter",
            method: "GET",
            path: "/v1/pull?after=0&team=all".to_owned(),
            headers: with_token(&b, &[]),
            body: Vec::new(),
            status: StatusCode::BAD_REQUEST,
            kind: problem_types::MALFORMED,
        },
        // Enrolment: malformed, unknown fields, a guessed code, an unusable label.
        Case {
            name: "an enrolment with an unknown field",
            method: "POST",
            path: "/v1/enrol".to_owned(),
            headers: vec![("content-type", "application/json".to_owned())],
            body: br#"{"code": "X", "device_label": "t", "role": "admin"}"#.to_vec(),
            status: StatusCode::BAD_REQUEST,
            kind: problem_types::MALFORMED,
        },
        Case {
            name: "an enrolment with a code that is a number",
            method: "POST",
            path: "/v1/enrol".to_owned(),
            headers: vec![("content-type", "application/json".to_owned())],
            body: br#"{"code": 1234, "device_label": "t"}"#.to_vec(),
            status: StatusCode::BAD_REQUEST,
            kind: problem_types::MALFORMED,
        },
        Case {
            name: "an enrolment with a guessed code",
            method: "POST",
            path: "/v1/enrol".to_owned(),
            headers: vec![("content-type", "application/json".to_owned())],
            body: br#"{"code": "AAAA-BBBB-CCCC-DDDD", "device_label": "t",
                       "public_key": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"}"#
                .to_vec(),
            status: StatusCode::FORBIDDEN,
            kind: problem_types::INVALID_ENROLMENT_CODE,
        },
        Case {
            name: "an enrolment without a public key",
            method: "POST",
            path: "/v1/enrol".to_owned(),
            headers: vec![("content-type", "application/json".to_owned())],
            body: serde_json::to_vec(&json!({
                "code": server.code(&fieldconsult_model::Role::TeamMember { team_id: server.team_a.id }),
                "device_label": "tablet"
            }))
            .unwrap(),
            status: StatusCode::BAD_REQUEST,
            kind: problem_types::MALFORMED,
        },
        Case {
            name: "an enrolment with a public key that is no Ed25519 point",
            method: "POST",
            path: "/v1/enrol".to_owned(),
            headers: vec![("content-type", "application/json".to_owned())],
            body: serde_json::to_vec(&json!({
                "code": server.code(&fieldconsult_model::Role::TeamMember { team_id: server.team_a.id }),
                "device_label": "tablet",
                "public_key": "0200000000000000000000000000000000000000000000000000000000000000"
            }))
            .unwrap(),
            status: StatusCode::BAD_REQUEST,
            kind: problem_types::MALFORMED,
        },
        Case {
            name: "an enrolment with a control character in the label",
            method: "POST",
            path: "/v1/enrol".to_owned(),
            headers: vec![("content-type", "application/json".to_owned())],
            body: serde_json::to_vec(&json!({
                "code": server.code(&fieldconsult_model::Role::TeamMember { team_id: server.team_a.id }),
                "device_label": "tablet\u{7}",
                "public_key": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
            }))
            .unwrap(),
            status: StatusCode::BAD_REQUEST,
            kind: problem_types::MALFORMED,
        },
    ];

    let tokens = [a.as_str(), b.as_str()];
    for case in &cases {
        let before = snapshot(&server, &tokens);
        let reply = server.send(request(case)).await;
        let body = String::from_utf8_lossy(&reply.body);
        assert_eq!(reply.status, case.status, "{}: {body}", case.name);
        assert_eq!(
            reply.content_type(),
            "application/problem+json",
            "{}",
            case.name
        );
        let problem = reply.json();
        assert_eq!(problem["type"], case.kind, "{}: {body}", case.name);
        assert_eq!(problem["status"], case.status.as_u16(), "{}", case.name);
        assert_eq!(
            snapshot(&server, &tokens),
            before,
            "{}: something was stored",
            case.name
        );

        // The server keeps serving: a valid push right after is stored.
        let next = server.visit(&server.team_a);
        let acks = server.push(&a, vec![new_change(Record::Visit(next))]).await;
        assert_eq!(acks[0].outcome, AckOutcome::Stored, "after {}", case.name);
    }
    assert_eq!(server.get("/readyz", None).await.status, StatusCode::OK);
}

fn forbidden(outcome: &AckOutcome) -> bool {
    matches!(outcome, AckOutcome::Rejected { reason, .. } if reason == "forbidden")
}

/// Another team's record ids: a team B device pushing edits of team A's visit and session is
/// answered 200 (the batch was read) with a `forbidden` ack per record, and nothing changes.
#[tokio::test]
async fn another_teams_records_are_forbidden_and_left_unchanged() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let b = server.member(&server.team_b).await;
    let visit = server.visit(&server.team_a);
    let session = submitted_session(&visit);
    let acks = server.push(&a, visit_and_session(&visit, &session)).await;
    let (visit_hash, session_hash) = (acks[0].hash.clone(), acks[1].hash.clone());
    let mut draft = submitted_session(&visit);
    draft.id = SessionId::new();
    draft.status = Status::Draft;
    let draft_hash = server
        .push(&a, vec![new_change(session_record(&draft))])
        .await[0]
        .hash
        .clone();
    let b_visit = server.visit(&server.team_b);
    server
        .push(&b, vec![new_change(Record::Visit(b_visit.clone()))])
        .await;

    // Team B's edits, each built on the version team A's device holds.
    let on = |record: Record, base: &str| PushChange {
        record,
        base_hash: Some(base.to_owned()),
        nonce: None,
        signature: None,
    };
    let mut stolen_visit = visit.clone();
    stolen_visit.notes = "moved by team B".to_owned();
    let mut b_owned_visit = stolen_visit.clone();
    b_owned_visit.team_id = server.team_b.id;
    let mut stolen_session: Session = session.clone();
    stolen_session.participants.female.age_18_29 = 60;
    let mut draft_edit = draft.clone();
    draft_edit.sensitive_note = "overwritten by team B".to_owned();
    let cases: Vec<(&str, PushChange, &str)> = vec![
        (
            "visit",
            on(Record::Visit(stolen_visit), &visit_hash),
            "forbidden",
        ),
        (
            "visit claimed for team B",
            on(Record::Visit(b_owned_visit), &visit_hash),
            "forbidden",
        ),
        (
            "submitted session",
            on(session_record(&stolen_session), &session_hash),
            "forbidden",
        ),
        (
            "draft session",
            on(session_record(&draft_edit), &draft_hash),
            "forbidden",
        ),
        (
            "new session in team A's visit",
            new_change(session_record(&submitted_session(&visit))),
            "forbidden",
        ),
        (
            "deletion of team A's draft",
            new_change(Record::SessionTombstone(SessionTombstone {
                id: draft.id,
                visit_id: visit.id,
            })),
            "forbidden",
        ),
    ];

    let tokens = [a.as_str(), b.as_str()];
    for (name, change, reason) in cases {
        let before = snapshot(&server, &tokens);
        let kind = change.record.kind().to_owned();
        let id = change.record.id();
        let reply = server.push_raw(&b, vec![change]).await;
        assert_eq!(reply.status, StatusCode::OK, "{name}");
        let acks: fieldconsult_model::wire::PushResponse =
            serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(acks.acks.len(), 1, "{name}");
        let ack = &acks.acks[0];
        assert!(
            matches!(&ack.outcome, AckOutcome::Rejected { reason: r, .. } if r == reason),
            "{name}: {:?}",
            ack.outcome
        );
        assert_eq!(
            (ack.kind.as_str(), ack.id.as_str()),
            (kind.as_str(), id.as_str())
        );
        assert_eq!(
            snapshot(&server, &tokens),
            before,
            "{name}: something changed"
        );
        assert!(forbidden(&ack.outcome));
    }

    // Team B's device still works on its own records, and team A's are as they were.
    let own = submitted_session(&b_visit);
    let acks = server.push(&b, visit_and_session(&b_visit, &own)).await;
    assert_eq!(acks[1].outcome, AckOutcome::Stored);
    let stored = server
        .storage
        .records_of_kind("session")
        .unwrap()
        .into_iter()
        .find(|r| r.record.id() == session.id.to_string())
        .unwrap();
    assert_eq!(stored.hash, session_hash);
    assert_eq!(stored.record, session_record(&session));
}

/// A team B device pointing a deletion of team A's draft at one of its own visits: rights are
/// checked against the stored session's visit, so it is forbidden and A's draft stays.
#[tokio::test]
async fn another_teams_draft_cannot_be_deleted_through_ones_own_visit() {
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let b = server.member(&server.team_b).await;
    let visit = server.visit(&server.team_a);
    let mut draft = submitted_session(&visit);
    draft.status = Status::Draft;
    server.push(&a, visit_and_session(&visit, &draft)).await;
    let b_visit = server.visit(&server.team_b);
    server
        .push(&b, vec![new_change(Record::Visit(b_visit.clone()))])
        .await;

    let tokens = [a.as_str(), b.as_str()];
    let before = snapshot(&server, &tokens);
    let acks = server
        .push(
            &b,
            vec![new_change(Record::SessionTombstone(SessionTombstone {
                id: draft.id,
                visit_id: b_visit.id,
            }))],
        )
        .await;
    assert_eq!(
        snapshot(&server, &tokens),
        before,
        "team A's draft was touched"
    );
    assert!(
        matches!(acks[0].outcome, AckOutcome::Rejected { .. }),
        "{:?}",
        acks[0].outcome
    );
}

#[tokio::test]
async fn a_declared_content_length_over_the_limit_is_413() {
    // A Content-Length over the limit is refused before the body is read, whatever it holds.
    let server = Server::new();
    let a = server.member(&server.team_a).await;
    let req = Request::post("/v1/push")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {a}"))
        .header(header::CONTENT_LENGTH, (DEFAULT_BODY_LIMIT + 1).to_string())
        .body(Body::from(vec![b' '; DEFAULT_BODY_LIMIT + 1]))
        .unwrap();
    let reply = server.send(req).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.content_type(), "application/problem+json");
    assert_eq!(reply.json()["type"], problem_types::TOO_LARGE);
}
