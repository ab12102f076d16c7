//! What the server tests share: a server with reference data, devices, HTTP helpers, records.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code, missing_docs)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::{Duration, Utc};
use fieldconsult_model::crypto::seal::{self, SealContext};
use fieldconsult_model::crypto::sign::SigningKey;
use fieldconsult_model::wire::{
    Ack, EnrolResponse, PullResponse, PushChange, PushRequest, PushResponse, Record,
};
use fieldconsult_model::{
    ChecklistAnswer, ChecklistTemplate, Community, Group, RecipientSecret, Role, Session, Status,
    Team, TopicResponse, Visit, VisitId,
};
use fieldconsult_server::admin::{self, CommunityInput};
use fieldconsult_server::{SqliteStorage, Storage};
use tower::ServiceExt;

pub struct Server {
    pub storage: Arc<SqliteStorage>,
    pub app: Router,
    pub team_a: Team,
    pub team_b: Team,
    pub community: Community,
    /// Token → (device id, signing key) of every device enrolled through [`Server::enrol_with`]:
    /// [`Server::push_raw`] signs unsigned changes with them, as the device core does.
    pub keys: Mutex<HashMap<String, (String, Arc<SigningKey>)>>,
    _dir: tempfile::TempDir,
}

/// A fresh signing key (test randomness: two v4 UUIDs).
pub fn new_key() -> SigningKey {
    let mut seed = [0u8; 32];
    seed[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    seed[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    SigningKey::from_seed(&seed)
}

/// `change` signed by `device_id` with `key`, as the device core signs it.
pub fn sign(change: PushChange, device_id: &str, key: &SigningKey) -> PushChange {
    let hash = change.record.hash();
    PushChange::signed(change.record, &hash, change.base_hash, device_id, key)
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Server {
    pub fn new() -> Self {
        Self::with_config(fieldconsult_server::app::HttpConfig::default())
    }

    /// Limits high enough that a test sending many requests from one (absent) address
    /// tests what it means to and not the rate limits.
    pub fn unlimited() -> Self {
        use fieldconsult_server::rate_limit::Limit;
        Self::with_config(fieldconsult_server::app::HttpConfig {
            enrolment_limit: Limit::per_minute(1_000_000),
            failed_auth_limit: Limit::per_minute(1_000_000),
            ..Default::default()
        })
    }

    pub fn with_config(config: fieldconsult_server::app::HttpConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(SqliteStorage::open(&dir.path().join("server.db")).unwrap());
        let team_a = admin::add_team(storage.as_ref(), "Engagement Team A", "West").unwrap();
        let team_b = admin::add_team(storage.as_ref(), "Engagement Team B", "East").unwrap();
        admin::publish_checklist(storage.as_ref(), &ChecklistTemplate::default_v1()).unwrap();
        let community = admin::import_communities(
            storage.as_ref(),
            &[CommunityInput {
                name: "Kaya".to_owned(),
                admin_area: "West District".to_owned(),
                location: None,
            }],
        )
        .unwrap()
        .remove(0);
        let app = fieldconsult_server::app::app_with(storage.clone() as Arc<dyn Storage>, config);
        Server {
            storage,
            app,
            team_a,
            team_b,
            community,
            keys: Mutex::new(HashMap::new()),
            _dir: dir,
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Vec<u8>) -> Reply {
        let mut req = Request::post(path).header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut req = Request::get(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    pub fn code(&self, role: &Role) -> String {
        admin::enrolment_code(self.storage.as_ref(), role, 24).unwrap()
    }

    pub async fn enrol_with(&self, code: &str) -> Reply {
        let key = new_key();
        let body = serde_json::json!({
            "code": code, "device_label": "tablet 1", "public_key": key.public_key(),
        });
        let reply = self
            .post("/v1/enrol", None, serde_json::to_vec(&body).unwrap())
            .await;
        if reply.status == StatusCode::OK {
            let enrolled: EnrolResponse = serde_json::from_slice(&reply.body).unwrap();
            self.keys
                .lock()
                .unwrap()
                .insert(enrolled.token, (enrolled.device_id, Arc::new(key)));
        }
        reply
    }

    /// `record` as a first-time change signed by `token`'s device.
    pub fn signed_change(&self, token: &str, record: Record) -> PushChange {
        let (device, key) = self.key_of(token);
        sign(new_change(record), &device, &key)
    }

    /// The device id and signing key behind `token`.
    pub fn key_of(&self, token: &str) -> (String, Arc<SigningKey>) {
        self.keys.lock().unwrap()[token].clone()
    }

    pub async fn enrol(&self, role: Role) -> EnrolResponse {
        let reply = self.enrol_with(&self.code(&role)).await;
        assert_eq!(reply.status, StatusCode::OK);
        serde_json::from_slice(&reply.body).unwrap()
    }

    pub async fn member(&self, team: &Team) -> String {
        self.enrol(Role::TeamMember { team_id: team.id })
            .await
            .token
    }

    pub async fn reviewer(&self, sector: &str) -> String {
        self.enrol(Role::Reviewer {
            sector: sector.to_owned(),
        })
        .await
        .token
    }

    /// Pushes `changes`, signing those that carry no signature with the key of `token`'s
    /// device (if it is one this server enrolled).
    pub async fn push_raw(&self, token: &str, changes: Vec<PushChange>) -> Reply {
        let signer = self.keys.lock().unwrap().get(token).cloned();
        let changes = changes
            .into_iter()
            .map(|c| match &signer {
                Some((device, key)) if c.signature.is_none() => sign(c, device, key),
                _ => c,
            })
            .collect();
        self.push_as_is(token, changes).await
    }

    /// Pushes `changes` exactly as given (signed or not).
    pub async fn push_as_is(&self, token: &str, changes: Vec<PushChange>) -> Reply {
        let body = serde_json::to_vec(&PushRequest { changes }).unwrap();
        self.post("/v1/push", Some(token), body).await
    }

    pub async fn push(&self, token: &str, changes: Vec<PushChange>) -> Vec<Ack> {
        let reply = self.push_raw(token, changes).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        serde_json::from_slice::<PushResponse>(&reply.body)
            .unwrap()
            .acks
    }

    pub async fn pull(&self, token: &str, after: u64) -> PullResponse {
        let reply = self
            .get(&format!("/v1/pull?after={after}"), Some(token))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        serde_json::from_slice(&reply.body).unwrap()
    }

    pub fn visit(&self, team: &Team) -> Visit {
        let mut v = Visit {
            id: VisitId::new(),
            team_id: team.id,
            community_id: self.community.id,
            started_at: (Utc::now() - Duration::hours(3)).fixed_offset(),
            ended_at: None,
            notes: String::new(),
        };
        v.normalize();
        v
    }
}

/// A complete women's session, submitted.
pub fn submitted_session(visit: &Visit) -> Session {
    let mut s = Session::new_draft(
        visit.id,
        Group::Women,
        (Utc::now() - Duration::hours(2)).fixed_offset(),
    );
    s.participants.female.age_18_29 = 6;
    s.participants.female.age_60_plus = 2;
    s.consent.verbal_informed = true;
    s.ended_at = Some((Utc::now() - Duration::hours(1)).fixed_offset());
    s.answers = ChecklistTemplate::default_v1()
        .topics
        .iter()
        .map(|t| ChecklistAnswer {
            topic: t.code.clone(),
            response: TopicResponse::Discussed,
            note: String::new(),
        })
        .collect();
    // As a device submits it: the note sealed, no plaintext.
    seal_note(&mut s, "SECRET-NOTE-do-not-export");
    s.status = Status::Submitted;
    s.normalize();
    s
}

/// Seals `text` as `s`'s sensitive note to a throwaway focal point key (the server never
/// holds one: to it the note is opaque); returns the key.
pub fn seal_note(s: &mut Session, text: &str) -> RecipientSecret {
    let reader = RecipientSecret::generate().unwrap();
    let id = s.id.to_string();
    let ctx = SealContext {
        kind: "session",
        id: &id,
        field: "sensitive_note",
    };
    s.sealed_note = Some(seal::seal(text, &ctx, &[reader.public_key().clone()]).unwrap());
    s.sensitive_note.clear();
    reader
}

/// A visit and one of its sessions, as a device pushes them the first time.
pub fn visit_and_session(visit: &Visit, session: &Session) -> Vec<PushChange> {
    vec![
        new_change(Record::Visit(visit.clone())),
        new_change(session_record(session)),
    ]
}

/// An acceptance of `session` by a West focal point, made now.
pub fn acceptance(session: &Session) -> fieldconsult_model::Review {
    fieldconsult_model::Review {
        id: fieldconsult_model::ReviewId::new(),
        session_id: session.id,
        reviewer: "gfp-west-1".to_owned(),
        decision: fieldconsult_model::Decision::Accepted,
        comment: String::new(),
        at: chrono::Utc::now().fixed_offset(),
    }
}

pub fn new_change(record: Record) -> PushChange {
    PushChange {
        record,
        base_hash: None,
        nonce: None,
        signature: None,
    }
}

pub fn session_record(s: &Session) -> Record {
    Record::Session(Box::new(s.clone()))
}

impl Server {
    pub fn storage_sessions(&self) -> usize {
        self.storage.records_of_kind("session").unwrap().len()
    }

    pub fn storage_history(
        &self,
        kind: &str,
        id: &str,
    ) -> Vec<fieldconsult_server::storage::HistoryEntry> {
        self.storage.history(kind, id).unwrap()
    }
}

impl Server {
    /// The database file, for running the built binary against this server's data.
    pub fn db_path(&self) -> std::path::PathBuf {
        self._dir.path().join("server.db")
    }
}
