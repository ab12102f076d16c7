//! A fake mission server in process, speaking the wire protocol of `fieldconsult_model::wire`
//! through the `Transport` trait: enough of the real server's rules (idempotent pushes by
//! content hash, conflicts on a stale base hash, a change log with a cursor, bearer auth,
//! revocation) to drive the sync client, with hooks to break things on purpose.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use fieldconsult_core::sync::compress::{Codec, decode};
use fieldconsult_core::{HttpRequest, HttpResponse, Method, Transport, TransportError};
use fieldconsult_model::wire::{
    Ack, AckOutcome, EnrolRequest, EnrolResponse, MAX_BATCH_BYTES, MAX_BATCH_RECORDS,
    ProblemDetails, PullResponse, PulledRecord, PushChange, PushRequest, PushResponse, Record,
    problem_types,
};
use fieldconsult_model::{FieldError, Problem, Role};

pub const TOKEN: &str = "token-of-the-test-device";

/// What a hook decides about one request.
pub enum Hook {
    /// Let the server handle it.
    Pass,
    /// Answer this instead.
    Answer(Result<HttpResponse, TransportError>),
    /// Let the server handle it, then lose the answer (the client sees this error).
    LoseAnswer(TransportError),
}

type HookFn = Box<dyn FnMut(usize, &HttpRequest) -> Hook + Send>;

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    /// Records of a push, in order.
    pub records: Vec<Record>,
    /// The changes of a push as sent (nonces and signatures), in order.
    pub changes: Vec<PushChange>,
    /// Uncompressed body length.
    pub json_len: usize,
    /// Body length on the wire.
    pub wire_len: usize,
}

#[derive(Default)]
pub struct ServerState {
    /// (kind, id) → (record, hash, seq).
    pub records: HashMap<(String, String), (Record, String, u64)>,
    pub seq: u64,
    pub revoked: bool,
    /// Ids answered `Conflict`.
    pub conflict_ids: HashSet<String>,
    /// Ids answered `Rejected { reason }`.
    pub reject_ids: HashMap<String, String>,
    /// Ids refused as a server refuses a time ahead of its clock (`started_at` in the future).
    pub in_future_ids: HashSet<String>,
    /// Ids acknowledged with a wrong hash.
    pub mismatch_ids: HashSet<String>,
    /// Records per pull page.
    pub page_size: usize,
    /// Extra records served as they are (duplicated seqs and all), after the real log.
    pub raw_pull: Option<Vec<PulledRecord>>,
    /// The key the device registered at enrolment: every pushed change must verify with it.
    pub device_key: Option<fieldconsult_model::crypto::sign::PublicKey>,
    /// The mission root key announced at enrolment.
    pub root_key: Option<fieldconsult_model::crypto::sign::PublicKey>,
}

pub struct FakeServer {
    pub state: Mutex<ServerState>,
    pub seen: Mutex<Vec<Seen>>,
    hook: Mutex<Option<HookFn>>,
    pub role: Role,
}

impl FakeServer {
    pub fn new(role: Role) -> Self {
        FakeServer {
            state: Mutex::new(ServerState {
                page_size: 1000,
                ..ServerState::default()
            }),
            seen: Mutex::new(Vec::new()),
            hook: Mutex::new(None),
            role,
        }
    }

    /// Calls `f(index_of_request, request)` before the server handles each request.
    pub fn set_hook(&self, f: impl FnMut(usize, &HttpRequest) -> Hook + Send + 'static) {
        *self.hook.lock().unwrap() = Some(Box::new(f));
    }

    pub fn clear_hook(&self) {
        *self.hook.lock().unwrap() = None;
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn pushes(&self) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|s| s.path == "/v1/push")
            .collect()
    }

    /// Stores `record` as if another device had pushed it.
    pub fn insert(&self, record: Record) -> String {
        let mut st = self.state.lock().unwrap();
        st.seq += 1;
        let hash = record.hash();
        let seq = st.seq;
        st.records.insert(
            (record.kind().to_owned(), record.id()),
            (record, hash.clone(), seq),
        );
        hash
    }

    pub fn hash_of(&self, kind: &str, id: &str) -> Option<String> {
        let st = self.state.lock().unwrap();
        st.records
            .get(&(kind.to_owned(), id.to_owned()))
            .map(|(_, h, _)| h.clone())
    }

    fn handle(&self, req: &HttpRequest) -> HttpResponse {
        let body = decode(req.header("content-encoding"), req.body.clone()).unwrap();
        let mut seen = Seen {
            method: req.method,
            path: req.path.clone(),
            records: Vec::new(),
            changes: Vec::new(),
            json_len: body.len(),
            wire_len: req.body.len(),
        };
        let response = if req.path == "/v1/enrol" {
            let enrol: EnrolRequest = serde_json::from_slice(&body).unwrap();
            self.state.lock().unwrap().device_key = Some(enrol.public_key);
            json(
                200,
                &EnrolResponse {
                    device_id: "device-1".into(),
                    token: TOKEN.into(),
                    role: self.role.clone(),
                    root_key: self.state.lock().unwrap().root_key,
                },
            )
        } else if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            problem(401, problem_types::UNAUTHORIZED)
        } else if self.state.lock().unwrap().revoked {
            problem(403, problem_types::REVOKED)
        } else if req.path == "/v1/push" {
            assert_eq!(req.method, Method::Post);
            let push: PushRequest = serde_json::from_slice(&body).unwrap();
            assert!(push.changes.len() <= MAX_BATCH_RECORDS, "batch over count");
            assert!(body.len() <= MAX_BATCH_BYTES, "batch over bytes");
            seen.records = push.changes.iter().map(|c| c.record.clone()).collect();
            let key = self.state.lock().unwrap().device_key.unwrap();
            for change in &push.changes {
                change
                    .verify("device-1", &key)
                    .expect("every pushed change is signed with the enrolled key");
            }
            seen.changes = push.changes.clone();
            json(200, &self.push(push))
        } else if let Some(query) = req.path.strip_prefix("/v1/pull?") {
            assert_eq!(req.method, Method::Get);
            json(200, &self.pull(query))
        } else {
            problem(404, "/problems/not-found")
        };
        self.seen.lock().unwrap().push(seen);
        response
    }

    fn push(&self, push: PushRequest) -> PushResponse {
        let mut st = self.state.lock().unwrap();
        let mut acks = Vec::new();
        for change in push.changes {
            let (kind, id) = (change.record.kind().to_owned(), change.record.id());
            let hash = change.record.hash();
            let key = (kind.clone(), id.clone());
            let existing = st.records.get(&key).map(|(_, h, _)| h.clone());
            let outcome = if st.conflict_ids.contains(&id) {
                AckOutcome::Conflict
            } else if st.in_future_ids.contains(&id) {
                AckOutcome::Rejected {
                    reason: "validation".to_owned(),
                    problems: vec![FieldError {
                        field: "started_at".to_owned(),
                        problem: Problem::InFuture,
                    }],
                }
            } else if let Some(reason) = st.reject_ids.get(&id) {
                AckOutcome::Rejected {
                    reason: reason.clone(),
                    problems: Vec::new(),
                }
            } else if existing.as_deref() == Some(hash.as_str()) {
                AckOutcome::AlreadyStored
            } else if existing.is_some() && existing != change.base_hash {
                AckOutcome::Conflict
            } else {
                st.seq += 1;
                let seq = st.seq;
                st.records
                    .insert(key.clone(), (change.record, hash.clone(), seq));
                AckOutcome::Stored
            };
            let held = st.records.get(&key).map(|(_, h, _)| h.clone());
            let ack_hash = if st.mismatch_ids.contains(&id) {
                "0".repeat(64)
            } else {
                held.unwrap_or_default()
            };
            acks.push(Ack {
                kind,
                id,
                outcome,
                hash: ack_hash,
            });
        }
        PushResponse { acks }
    }

    fn pull(&self, query: &str) -> PullResponse {
        let mut after = 0u64;
        let mut limit = 1000usize;
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("after", v)) => after = v.parse().unwrap(),
                Some(("limit", v)) => limit = v.parse().unwrap(),
                _ => {}
            }
        }
        let st = self.state.lock().unwrap();
        let limit = limit.min(st.page_size);
        let mut log: Vec<PulledRecord> = st
            .records
            .values()
            .filter(|(_, _, seq)| *seq > after)
            .map(|(r, h, seq)| PulledRecord {
                seq: *seq,
                record: r.clone(),
                hash: h.clone(),
            })
            .collect();
        log.sort_by_key(|p| p.seq);
        if let Some(raw) = &st.raw_pull {
            log.extend(raw.iter().filter(|p| p.seq > after).cloned());
        }
        let more = log.len() > limit;
        log.truncate(limit);
        let cursor = log.last().map_or(after, |p| p.seq);
        PullResponse {
            records: log,
            cursor,
            more,
        }
    }
}

impl Transport for FakeServer {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let index = self.seen.lock().unwrap().len();
        let decision = match self.hook.lock().unwrap().as_mut() {
            Some(f) => f(index, &request),
            None => Hook::Pass,
        };
        match decision {
            Hook::Pass => Ok(self.handle(&request)),
            Hook::Answer(a) => {
                self.seen.lock().unwrap().push(Seen {
                    method: request.method,
                    path: request.path.clone(),
                    records: Vec::new(),
                    changes: Vec::new(),
                    json_len: 0,
                    wire_len: request.body.len(),
                });
                a
            }
            Hook::LoseAnswer(e) => {
                self.handle(&request);
                Err(e)
            }
        }
    }
}

/// A JSON answer, gzip-compressed (the client must decode it).
pub fn json<T: serde::Serialize>(status: u16, value: &T) -> HttpResponse {
    let body = serde_json::to_vec(value).unwrap();
    HttpResponse {
        status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("content-encoding".into(), "gzip".into()),
        ],
        body: Codec::Gzip.compress(&body).unwrap(),
    }
}

pub fn problem(status: u16, kind: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/problem+json".into())],
        body: serde_json::to_vec(&ProblemDetails {
            kind: kind.into(),
            title: "problem".into(),
            status,
            detail: String::new(),
            problems: Vec::new(),
        })
        .unwrap(),
    }
}

pub fn network_error() -> TransportError {
    TransportError::Network {
        reason: "connection_failed".into(),
    }
}
