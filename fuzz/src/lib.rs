//! What the fuzz targets share: the server's real router (`fieldconsult_server::app::app_with`,
//! so bodies go through its decompression, body limit, `WireJson` decoding, authentication
//! and problem documents) over an in-memory stub storage whose `push` runs every decoded
//! record through the model's validation; and the response invariants every answer must hold.
//!
//! The invariants: the server never answers 5xx and never panics; every error is an
//! `application/problem+json` document whose `status` is the HTTP status; a successful answer
//! is the endpoint's response type.

use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::{DateTime, TimeZone, Utc};
use fieldconsult_model::validation::{
    Completeness, validate_addendum, validate_checklist, validate_community,
    validate_referral_service, validate_review, validate_sealing_keys, validate_session,
    validate_team, validate_visit,
};
use fieldconsult_model::wire::{
    Ack, AckOutcome, PullResponse, PushChange, PushRequest, Record, content_hash,
};
use fieldconsult_model::{ChecklistTemplate, Role, TeamId, ValidationContext, ValidationErrors};
use fieldconsult_server::app::{HttpConfig, app_with};
use fieldconsult_server::rate_limit::Limit;
use fieldconsult_server::audit::{AuditEntry, GENESIS, StoredAuditEntry};
use fieldconsult_server::storage::{
    Device, DeviceInfo, HistoryEntry, Storage, StorageError, StoredRecord,
};
use tower::ServiceExt;

/// The bearer token the stub storage accepts.
pub const TOKEN: &str = "fuzz-token";
/// The body limit of the fuzzed server: small, so that the fuzzer reaches 413 too.
pub const BODY_LIMIT: usize = 64 << 10;

/// A fixed "now" for validation, so that a crash reproduces.
pub fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Normalises `record` as a store does, then runs the model's validation of its kind (a
/// session both as a draft and for submission). Must never panic, whatever the record.
pub fn validate_record(record: &Record, ctx: &ValidationContext) -> Result<(), ValidationErrors> {
    let mut record = record.clone();
    match &mut record {
        Record::Team(t) => {
            t.normalize();
            validate_team(t)
        }
        Record::Community(c) => {
            c.normalize();
            validate_community(c)
        }
        Record::Checklist(c) => {
            c.normalize();
            validate_checklist(c)
        }
        Record::ReferralService(s) => {
            s.normalize();
            validate_referral_service(s)
        }
        Record::SealingKeys(k) => {
            k.normalize();
            validate_sealing_keys(k)
        }
        Record::Visit(v) => {
            v.normalize();
            validate_visit(v, ctx)
        }
        Record::Session(s) => {
            s.normalize();
            let draft = validate_session(s, Completeness::Draft, ctx);
            let checklist = ChecklistTemplate::default_v1();
            let submit = validate_session(s, Completeness::Submit(&checklist), ctx);
            // Submission checks everything a draft does, and more.
            if draft.is_err() {
                assert!(submit.is_err(), "a draft error vanished at submission");
            }
            draft.and(submit)
        }
        Record::SessionTombstone(_) => Ok(()),
        Record::Review(r) => {
            r.normalize();
            validate_review(r, ctx)
        }
        Record::Addendum(a) => {
            a.normalize();
            validate_addendum(a, ctx)
        }
        Record::Conflict(c) => validate_record(&c.lost, ctx),
        Record::ConsentWithdrawal(_) => Ok(()),
        Record::Bundle(b) => b
            .records
            .iter()
            .try_for_each(|r| validate_record(r, ctx)),
    }
}

/// What the wire promises of a record the server decoded: encoding it again and decoding
/// that gives the same record with the same content hash (acks compare hashes).
pub fn check_round_trip(record: &Record) {
    let json = serde_json::to_vec(record).unwrap_or_default();
    let again: Record = match serde_json::from_slice(&json) {
        Ok(r) => r,
        Err(e) => panic!("a decoded record does not decode again: {e}"),
    };
    assert_eq!(&again, record, "a record changed on a JSON round trip");
    assert_eq!(content_hash(&again), content_hash(record));
}

/// Storage that knows one device (token [`TOKEN`]), stores nothing, and answers a push by
/// validating each record.
struct StubStorage {
    device: Device,
}

impl Storage for StubStorage {
    fn ping(&self) -> Result<(), StorageError> {
        Ok(())
    }

    fn put_reference(&self, _: &[Record], _: bool) -> Result<usize, StorageError> {
        Ok(0)
    }

    fn insert_enrolment_code(
        &self,
        _: &str,
        _: &Role,
        _: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        Ok(())
    }

    fn enrol(
        &self,
        code_hash: &str,
        _label: &str,
        _token_hash: &str,
        _public_key: &fieldconsult_model::crypto::sign::PublicKey,
        _now: DateTime<Utc>,
    ) -> Result<Option<Device>, StorageError> {
        // One code in sixteen "exists", so both answers are reached.
        Ok(code_hash.ends_with('0').then(|| self.device.clone()))
    }

    fn reference_records(&self) -> Result<Vec<Record>, StorageError> {
        Ok(Vec::new())
    }

    fn root_key(
        &self,
    ) -> Result<Option<fieldconsult_model::crypto::sign::PublicKey>, StorageError> {
        Ok(None)
    }

    fn register_root_key(
        &self,
        _: &fieldconsult_model::crypto::sign::PublicKey,
    ) -> Result<bool, StorageError> {
        Ok(false)
    }

    fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, StorageError> {
        Ok(
            (token_hash == fieldconsult_server::auth::secret_hash(TOKEN))
                .then(|| self.device.clone()),
        )
    }

    fn revoke(&self, _: &str, _: DateTime<Utc>) -> Result<bool, StorageError> {
        Ok(false)
    }

    fn devices(&self) -> Result<Vec<DeviceInfo>, StorageError> {
        Ok(Vec::new())
    }

    fn push(
        &self,
        _device: &Device,
        changes: &[PushChange],
        _now: DateTime<Utc>,
    ) -> Result<Vec<Ack>, StorageError> {
        let ctx = ValidationContext::at(fixed_now());
        Ok(changes
            .iter()
            .map(|change| {
                check_round_trip(&change.record);
                let outcome = match validate_record(&change.record, &ctx) {
                    Ok(()) => AckOutcome::Stored,
                    Err(e) => AckOutcome::Rejected {
                        reason: "validation".to_owned(),
                        problems: e.0,
                    },
                };
                Ack {
                    kind: change.record.kind().to_owned(),
                    id: change.record.id(),
                    outcome,
                    hash: change.record.hash(),
                }
            })
            .collect())
    }

    fn pull(&self, _: &Device, after: u64, limit: u32) -> Result<PullResponse, StorageError> {
        assert!(
            (1..=fieldconsult_model::wire::MAX_PULL_PAGE).contains(&limit),
            "the pull limit reached storage unclamped: {limit}"
        );
        Ok(PullResponse {
            records: Vec::new(),
            cursor: after,
            more: false,
        })
    }

    fn get_record(&self, _: &str, _: &str) -> Result<Option<StoredRecord>, StorageError> {
        Ok(None)
    }

    fn records_of_kind(&self, _: &str) -> Result<Vec<StoredRecord>, StorageError> {
        Ok(Vec::new())
    }

    fn history(&self, _: &str, _: &str) -> Result<Vec<HistoryEntry>, StorageError> {
        Ok(Vec::new())
    }

    fn audit_append(&self, entry: &AuditEntry) -> Result<StoredAuditEntry, StorageError> {
        Ok(StoredAuditEntry::chain(entry, 1, GENESIS))
    }

    fn audit_entries(&self, _: u64, _: u32) -> Result<Vec<StoredAuditEntry>, StorageError> {
        Ok(Vec::new())
    }
}

/// The router and the runtime it runs on, built once per fuzzing process.
pub struct Harness {
    runtime: tokio::runtime::Runtime,
    app: Router,
}

/// The shared harness.
pub fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("no tokio runtime: {e}"),
        };
        let storage = Arc::new(StubStorage {
            device: Device {
                id: "fuzz-device".to_owned(),
                role: Role::TeamMember {
                    team_id: TeamId::new(),
                },
                revoked: false,
                // The stub's push validates records without the push rules: no key needed.
                public_key: None,
            },
        });
        let app = app_with(
            storage,
            HttpConfig {
                body_limit: BODY_LIMIT,
                timeout: Duration::from_secs(30),
                // Fuzzing sends one request after another from no address: limits would
                // answer 429 to nearly everything and hide the decoding under test.
                enrolment_limit: Limit::per_minute(u32::MAX),
                failed_auth_limit: Limit::per_minute(u32::MAX),
            },
        );
        Harness { runtime, app }
    })
}

/// An answer of the server.
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body, as sent (no `Accept-Encoding` is sent, so uncompressed).
    pub body: Bytes,
}

impl Harness {
    /// Sends `req` through the router.
    pub fn send(&self, req: Request<Body>) -> Reply {
        self.runtime.block_on(async {
            let res = match self.app.clone().oneshot(req).await {
                Ok(res) => res,
                Err(e) => match e {},
            };
            let status = res.status();
            let headers = res.headers().clone();
            let body = match axum::body::to_bytes(res.into_body(), usize::MAX).await {
                Ok(b) => b,
                Err(e) => panic!("the response body failed: {e}"),
            };
            Reply {
                status,
                headers,
                body,
            }
        })
    }
}

/// Checks the invariants of every answer: its status is one of `allowed`, and an error is a
/// problem document carrying that status.
pub fn check_reply(reply: &Reply, allowed: &[u16]) {
    let status = reply.status.as_u16();
    assert!(
        allowed.contains(&status),
        "unexpected status {status}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    if reply.status.is_client_error() || reply.status.is_server_error() {
        let content_type = reply
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert_eq!(content_type, "application/problem+json");
        let problem: fieldconsult_model::wire::ProblemDetails =
            match serde_json::from_slice(&reply.body) {
                Ok(p) => p,
                Err(e) => panic!("an error body is not a problem document: {e}"),
            };
        assert_eq!(problem.status, status);
        assert!(!problem.kind.is_empty());
    }
}

/// How a fuzz input's body is sent: the first byte picks the `Content-Encoding` and whether
/// the rest is compressed for real, so the fuzzer reaches both the decoders' success and
/// failure paths.
pub fn encoded_body(data: &[u8]) -> (Option<&'static str>, Vec<u8>) {
    let Some((&selector, rest)) = data.split_first() else {
        return (None, Vec::new());
    };
    match selector % 8 {
        0..=2 => (None, rest.to_vec()),
        3 => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let _ = gz.write_all(rest);
            (Some("gzip"), gz.finish().unwrap_or_default())
        }
        4 => (
            Some("zstd"),
            zstd::bulk::compress(rest, 1).unwrap_or_default(),
        ),
        5 => (Some("gzip"), rest.to_vec()),
        6 => (Some("zstd"), rest.to_vec()),
        _ => (Some("br"), rest.to_vec()),
    }
}

/// A POST of `data` (see [`encoded_body`]) to `path`, with the stub's token if `token`.
pub fn post(path: &str, data: &[u8], token: bool) -> Reply {
    let (encoding, body) = encoded_body(data);
    let mut req = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(encoding) = encoding {
        req = req.header(header::CONTENT_ENCODING, encoding);
    }
    if token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    }
    let req = match req.body(Body::from(body)) {
        Ok(r) => r,
        Err(e) => panic!("request not built: {e}"),
    };
    harness().send(req)
}

/// Whether `body` (as sent, before any encoding) is a push request the server would decode:
/// the oracle for the push target's 200 answers.
pub fn decodes_as_push(json: &[u8]) -> Option<PushRequest> {
    serde_json::from_slice(json).ok()
}
