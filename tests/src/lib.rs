//! End-to-end harness: the real `fieldconsult-server` binary as a child process on a loopback
//! port, its admin commands run through the same binary, and device [`Store`]s syncing with
//! it through [`HttpsTransport`]. Transports that break things on purpose ([`Faulty`]) sit
//! between a device and the server.
#![allow(clippy::unwrap_used, clippy::expect_used)]
pub mod proxy;

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use fieldconsult_core::sync::compress::decode;
use fieldconsult_core::{
    DatabaseKey, Enrolment, HttpRequest, HttpResponse, HttpsTransport, Method, NoProgress,
    SessionFilter, SessionSummary, Store, SyncReport, Transport, TransportError,
};
use fieldconsult_model::wire::{PushRequest, Record};
use fieldconsult_model::{
    Actor, AffectedGroup, ChecklistAnswer, Concern, ConcernCategory, Group, Priority,
    PriorityCategory, Session, SessionId, TeamId, Timestamp, TopicResponse, Urgency, Visit,
    VisitId,
};
use fieldconsult_server::storage::{SqliteStorage, Storage};

/// The server binary: beside the test executable's `deps/` directory.
pub fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test executable");
    let deps = exe.parent().expect("deps directory");
    let dir = if deps.ends_with("deps") {
        deps.parent().expect("target profile directory")
    } else {
        deps
    };
    let bin = dir.join(format!(
        "fieldconsult-server{}",
        std::env::consts::EXE_SUFFIX
    ));
    assert!(
        bin.is_file(),
        "the server binary {} is missing: run `cargo build -p fieldconsult-server` first \
         (`cargo test --workspace` builds it)",
        bin.display()
    );
    bin
}

/// A mission server: a database in a temporary folder, admin commands, and `serve` running
/// as a child process on a loopback port (killed on drop).
pub struct Mission {
    dir: tempfile::TempDir,
    db: PathBuf,
    bin: PathBuf,
    child: Option<Child>,
    url: String,
}

impl Mission {
    /// A server with the built-in checklist and one community, started.
    pub fn start() -> Mission {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("server.db");
        let mut m = Mission {
            db,
            bin: server_binary(),
            child: None,
            url: String::new(),
            dir,
        };
        m.admin(&["checklist", "publish"]);
        let csv = m.dir.path().join("communities.csv");
        std::fs::write(
            &csv,
            "name,admin_area,lat,lon\nKaya,West District,11.01,29.72\n",
        )
        .unwrap();
        m.admin(&["community", "import", csv.to_str().unwrap()]);
        m.serve();
        m
    }

    /// The temporary folder (devices keep their stores here too).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs an admin command against the database; panics unless it succeeds. Returns its
    /// standard output, trimmed.
    pub fn admin(&self, args: &[&str]) -> String {
        let out = Command::new(&self.bin)
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run the server binary");
        assert!(
            out.status.success(),
            "`fieldconsult-server {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// `team add`: the new team's id.
    pub fn add_team(&self, name: &str, sector: &str) -> TeamId {
        self.admin(&["team", "add", "--name", name, "--sector", sector])
            .parse()
            .expect("team add prints the team id")
    }

    /// `keys set`: the keys `sector`'s sensitive notes are sealed to (hex public keys).
    pub fn set_sealing_keys(&self, sector: &str, focal_point: &str, escrow: Option<&str>) {
        let mut args = vec![
            "keys",
            "set",
            "--sector",
            sector,
            "--focal-point-key",
            focal_point,
        ];
        if let Some(e) = escrow {
            args.extend(["--escrow-key", e]);
        }
        self.admin(&args);
    }

    /// `enrol --team`: a one-time code (the first line; a mission with a root key prints
    /// its fingerprint on the next).
    pub fn team_code(&self, team: TeamId) -> String {
        first_line(self.admin(&["enrol", "--team", &team.to_string()]))
    }

    /// `enrol --reviewer`: a one-time code.
    pub fn reviewer_code(&self, sector: &str) -> String {
        first_line(self.admin(&["enrol", "--reviewer", sector]))
    }

    /// Enrols a device that pins the mission root key with `fingerprint` (from the QR
    /// code), and syncs it.
    pub fn pinned_device(
        &self,
        code: &str,
        label: &str,
        fingerprint: &str,
    ) -> fieldconsult_core::Result<Device> {
        let path = self.dir.path().join(format!("{label}.db"));
        let store = Store::open(&path, &device_key()).unwrap();
        store.enrol(&self.transport(), code, label, Some(fingerprint))?;
        store.sync(&self.transport(), &NoProgress)?;
        drop(store);
        Ok(Device::reopen(path))
    }

    /// `revoke`.
    pub fn revoke(&self, device_id: &str) {
        let out = self.admin(&["revoke", device_id]);
        assert_eq!(out, format!("revoked {device_id}"));
    }

    /// The server's base address.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A plain transport to the server.
    pub fn transport(&self) -> HttpsTransport {
        HttpsTransport::new(&self.url).unwrap()
    }

    /// Starts `serve` on a free loopback port and waits until `/healthz` answers.
    fn serve(&mut self) {
        let mut last_error = String::new();
        for _ in 0..5 {
            // `serve` does not print the port it bound: pick a free one and pass it.
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let listen = format!("127.0.0.1:{port}");
            // Logs go to a file: a pipe nobody reads would block the server once full.
            let log_path = self.dir.path().join("server.log");
            let log = std::fs::File::create(&log_path).unwrap();
            let mut child = Command::new(&self.bin)
                .arg("--db")
                .arg(&self.db)
                .args(["serve", "--listen", &listen])
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start the server binary");
            let url = format!("http://{listen}");
            let health = HttpsTransport::with_timeouts(
                &url,
                Duration::from_millis(200),
                Duration::from_secs(2),
            )
            .unwrap();
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    let err = std::fs::read_to_string(&log_path).unwrap_or_default();
                    last_error = format!("server exited with {status}: {err}");
                    break;
                }
                let answer = health.send(HttpRequest {
                    method: Method::Get,
                    path: "/healthz".to_owned(),
                    headers: Vec::new(),
                    body: Vec::new(),
                });
                if matches!(answer, Ok(ref r) if r.status == 200) {
                    self.child = Some(child);
                    self.url = url;
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "the server did not answer /healthz on {listen} in time"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("could not start the server: {last_error}");
    }

    /// The server's database file.
    pub fn db_path(&self) -> &Path {
        &self.db
    }

    /// Kills the running server with SIGKILL (as a crash or a power cut would stop it) and
    /// waits for it to exit. Its database file stays; [`Mission::restart_server`] serves it
    /// again.
    pub fn kill_server(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts `serve` again on the same database, on a new port: [`Mission::url`] and
    /// [`Mission::transport`] then point at it.
    pub fn restart_server(&mut self) {
        self.kill_server();
        self.serve();
    }

    /// The server's storage, opened beside the running server (WAL allows readers).
    pub fn storage(&self) -> SqliteStorage {
        SqliteStorage::open(&self.db).unwrap()
    }

    /// `(kind, id) → hash` of every current server record of `kinds` whose owner team is
    /// `None` (reference data) or passes `in_scope`.
    pub fn server_hashes(
        &self,
        kinds: &[&str],
        in_scope: impl Fn(Option<&str>) -> bool,
    ) -> BTreeMap<(String, String), String> {
        let storage = self.storage();
        let mut out = BTreeMap::new();
        for kind in kinds {
            for r in storage.records_of_kind(kind).unwrap() {
                if in_scope(r.team_id.as_deref()) {
                    out.insert((kind.to_string(), r.record.id()), r.hash);
                }
            }
        }
        out
    }

    /// Ids of the sessions the server holds.
    pub fn server_session_ids(&self) -> Vec<String> {
        self.storage()
            .records_of_kind("session")
            .unwrap()
            .into_iter()
            .map(|r| r.record.id())
            .collect()
    }

    /// Enrols a team device and pulls the reference data.
    pub fn team_device(&self, team: TeamId, label: &str) -> Device {
        self.device(&self.team_code(team), label)
    }

    /// Enrols a reviewer device and pulls what its sector may see.
    pub fn reviewer_device(&self, sector: &str, label: &str) -> Device {
        self.device(&self.reviewer_code(sector), label)
    }

    /// Enrols a team device without syncing it.
    pub fn unsynced_team_device(&self, team: TeamId, label: &str) -> Device {
        self.enrol(&self.team_code(team), label)
    }

    fn device(&self, code: &str, label: &str) -> Device {
        let device = self.enrol(code, label);
        device.store.sync(&self.transport(), &NoProgress).unwrap();
        device
    }

    fn enrol(&self, code: &str, label: &str) -> Device {
        let path = self.dir.path().join(format!("{label}.db"));
        let store = Store::open(&path, &device_key()).unwrap();
        store.enrol(&self.transport(), code, label, None).unwrap();
        drop(store);
        Device::reopen(path)
    }
}

fn first_line(out: String) -> String {
    out.lines().next().unwrap_or_default().trim().to_owned()
}

impl Drop for Mission {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An enrolled device.
pub struct Device {
    /// Its store.
    pub store: Store,
    /// The store's file.
    pub path: PathBuf,
    /// What the server issued.
    pub enrolment: Enrolment,
    /// The actor its writes are made as.
    pub actor: Actor,
}

/// The kinds of records devices and server compare.
pub const KINDS: &[&str] = &[
    "team",
    "community",
    "checklist",
    "referral_service",
    "visit",
    "session",
    "review",
];

/// The key of every device store of the harness.
pub fn device_key() -> DatabaseKey {
    DatabaseKey::from_bytes(&[7; 32]).unwrap()
}

impl Device {
    /// Opens the enrolled store at `path` again, as the app does after a restart or a crash.
    pub fn reopen(path: PathBuf) -> Device {
        let store = Store::open(&path, &device_key()).unwrap();
        let enrolment = store.enrolment().unwrap().expect("the store is enrolled");
        let actor = Actor {
            id: enrolment.device_id.clone(),
            role: enrolment.role.clone(),
        };
        Device {
            store,
            path,
            enrolment,
            actor,
        }
    }

    /// Syncs through `transport`.
    pub fn sync_with(&self, transport: &dyn Transport) -> fieldconsult_core::Result<SyncReport> {
        self.store.sync(transport, &NoProgress)
    }

    /// The device's team.
    pub fn team(&self) -> TeamId {
        match &self.actor.role {
            fieldconsult_model::Role::TeamMember { team_id } => *team_id,
            fieldconsult_model::Role::Reviewer { .. }
            | fieldconsult_model::Role::HqAnalyst
            | fieldconsult_model::Role::Admin => panic!("only a team member has a team"),
        }
    }

    /// A new visit of the device's team to the first community.
    pub fn visit(&self) -> Visit {
        let community = self.store.communities().unwrap()[0].id;
        let visit = Visit {
            id: VisitId::new(),
            team_id: self.team(),
            community_id: community,
            started_at: minutes_ago(120),
            ended_at: None,
            notes: String::new(),
        };
        self.store.save_visit(&self.actor, &visit).unwrap()
    }

    /// Records a complete session of `group` in a new visit, submitted.
    pub fn submitted_session(&self, group: Group, urgent: bool) -> Session {
        let visit = self.visit();
        let mut s = complete_session(&visit, group);
        if urgent {
            make_urgent(&mut s);
        }
        let s = self.store.save_session(&self.actor, &s).unwrap();
        self.store.submit_session(&self.actor, &s.id).unwrap()
    }

    /// Records `n` submitted sessions, women's, men's and mixed in turn; their ids.
    pub fn submitted_sessions(&self, n: usize) -> Vec<String> {
        const GROUPS: [Group; 3] = [Group::Women, Group::Men, Group::Mixed];
        (0..n)
            .map(|i| self.submitted_session(GROUPS[i % 3], false).id.to_string())
            .collect()
    }

    /// Every session summary on the device.
    pub fn summaries(&self) -> Vec<SessionSummary> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store
                .list_sessions(&SessionFilter::default(), 500, after.as_deref())
                .unwrap();
            out.extend(page.items);
            match page.next {
                Some(n) => after = Some(n),
                None => return out,
            }
        }
    }

    /// Ids of every session on the device.
    pub fn session_ids(&self) -> BTreeSet<String> {
        self.summaries()
            .into_iter()
            .map(|s| s.id.to_string())
            .collect()
    }

    /// `(kind, id) → hash` of every record the device holds, as it would travel.
    pub fn hashes(&self) -> BTreeMap<(String, String), String> {
        let mut records: Vec<Record> = Vec::new();
        records.extend(self.store.teams().unwrap().into_iter().map(Record::Team));
        records.extend(
            self.store
                .communities()
                .unwrap()
                .into_iter()
                .map(Record::Community),
        );
        records.extend(
            self.store
                .referral_services()
                .unwrap()
                .into_iter()
                .map(Record::ReferralService),
        );
        if let Some(latest) = self.store.latest_checklist().unwrap() {
            for v in 1..=latest.version {
                if let Ok(c) = self.store.checklist(v) {
                    records.push(Record::Checklist(c));
                }
            }
        }
        let mut visits = BTreeSet::new();
        let me = self
            .store
            .enrolment()
            .unwrap()
            .map(|e| e.device_id)
            .unwrap_or_default();
        for summary in self.summaries() {
            let rec = self.store.get_session(&summary.id).unwrap();
            visits.insert(rec.session.visit_id);
            records.extend(rec.reviews.into_iter().map(Record::Review));
            // As it travels: a draft's plaintext note never leaves the device.
            records.push(Record::Session(Box::new(rec.session.as_sent(&me))));
        }
        for v in visits {
            records.push(Record::Visit(self.store.visit(&v).unwrap()));
        }
        records
            .into_iter()
            .map(|r| ((r.kind().to_owned(), r.id()), r.hash()))
            .collect()
    }

    /// The session with `id` as the device holds it.
    pub fn session(&self, id: &SessionId) -> fieldconsult_core::SessionRecord {
        self.store.get_session(id).unwrap()
    }
}

/// A time `m` minutes ago, at millisecond precision.
pub fn minutes_ago(m: i64) -> Timestamp {
    let mut t = (Utc::now() - chrono::Duration::minutes(m)).fixed_offset();
    fieldconsult_model::time::round_to_stored_precision(&mut t);
    t
}

/// A session of `group` in `visit` that passes submission against the default checklist.
pub fn complete_session(visit: &Visit, group: Group) -> Session {
    let mut s = Session::new_draft(visit.id, group, minutes_ago(90));
    s.ended_at = Some(minutes_ago(30));
    s.consent.verbal_informed = true;
    match group {
        Group::Women => {
            s.participants.female.age_18_29 = 6;
            s.participants.female.age_30_59 = 5;
            s.facilitators.female = 1;
        }
        Group::Men => {
            s.participants.male.age_18_29 = 4;
            s.participants.male.age_30_59 = 7;
            s.facilitators.male = 2;
        }
        Group::Mixed => {
            s.participants.female.age_30_59 = 3;
            s.participants.male.age_30_59 = 3;
            s.facilitators.female = 1;
            s.facilitators.male = 1;
        }
    }
    for topic in fieldconsult_model::ChecklistTemplate::default_v1()
        .topics
        .iter()
        .filter(|t| t.required)
    {
        s.answers.push(ChecklistAnswer {
            topic: topic.code.clone(),
            response: TopicResponse::Discussed,
            note: "discussed".into(),
        });
    }
    s.priorities = vec![Priority {
        rank: 1,
        category: PriorityCategory::Water,
        other_label: String::new(),
        note: String::new(),
    }];
    s.concerns = vec![Concern {
        category: ConcernCategory::MovementRestriction,
        affected: BTreeSet::from([AffectedGroup::Women, AffectedGroup::Girls]),
        location: "road to the well".into(),
        timing: "after dark".into(),
        urgency: Urgency::Routine,
        note: String::new(),
    }];
    s
}

/// Adds an urgent concern to `s`.
pub fn make_urgent(s: &mut Session) {
    s.concerns.push(Concern {
        category: ConcernCategory::ArmedGroupPresence,
        affected: BTreeSet::from([AffectedGroup::Men, AffectedGroup::Boys]),
        location: "north ridge".into(),
        timing: "last two nights".into(),
        urgency: Urgency::Urgent,
        note: String::new(),
    });
}

/// What a [`Faulty`] transport does with one request.
pub enum Fault {
    /// Send it and return the answer.
    Pass,
    /// Do not send it; the client sees this error (the connection was cut before it left).
    Cut,
    /// Send it, then lose the answer: the client sees a network error.
    LoseAnswer,
    /// Send it twice, returning only the second answer (the first one was lost and the
    /// request resent).
    SendTwice,
}

/// One request as it left the device.
#[derive(Clone, Debug)]
pub struct Sent {
    /// Method.
    pub method: Method,
    /// Path and query.
    pub path: String,
    /// Records of a push, in order.
    pub records: Vec<Record>,
    /// Body length on the wire.
    pub wire_len: usize,
}

type Plan = Box<dyn FnMut(usize, &HttpRequest) -> Fault + Send>;

/// A transport that records every request and applies a fault plan
/// (`plan(index_of_request, request)`) before passing it to the real one.
pub struct Faulty {
    inner: HttpsTransport,
    plan: Mutex<Plan>,
    log: Mutex<Vec<Sent>>,
}

impl Faulty {
    /// Over `inner`, following `plan`.
    pub fn new(
        inner: HttpsTransport,
        plan: impl FnMut(usize, &HttpRequest) -> Fault + Send + 'static,
    ) -> Faulty {
        Faulty {
            inner,
            plan: Mutex::new(Box::new(plan)),
            log: Mutex::new(Vec::new()),
        }
    }

    /// Records only.
    pub fn recording(inner: HttpsTransport) -> Faulty {
        Faulty::new(inner, |_, _| Fault::Pass)
    }

    /// Every request made so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.log.lock().unwrap().clone()
    }

    /// The push requests made so far.
    pub fn pushes(&self) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|s| s.path == "/v1/push")
            .collect()
    }
}

/// A network error as a cut connection gives.
pub fn cut() -> TransportError {
    TransportError::Network {
        reason: "connection_failed".into(),
    }
}

impl Transport for Faulty {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let index = self.log.lock().unwrap().len();
        let records = if request.path == "/v1/push" {
            let body = decode(request.header("content-encoding"), request.body.clone()).unwrap();
            serde_json::from_slice::<PushRequest>(&body)
                .unwrap()
                .changes
                .into_iter()
                .map(|c| c.record)
                .collect()
        } else {
            Vec::new()
        };
        self.log.lock().unwrap().push(Sent {
            method: request.method,
            path: request.path.clone(),
            records,
            wire_len: request.body.len(),
        });
        let fault = (self.plan.lock().unwrap())(index, &request);
        match fault {
            Fault::Pass => self.inner.send(request),
            Fault::Cut => Err(cut()),
            Fault::LoseAnswer => {
                let answer = self.inner.send(request)?;
                assert_eq!(
                    answer.status, 200,
                    "the request whose answer is lost failed"
                );
                Err(cut())
            }
            Fault::SendTwice => {
                let first = self.inner.send(request.clone())?;
                assert_eq!(first.status, 200, "the first copy failed");
                self.inner.send(request)
            }
        }
    }

    fn endpoint(&self) -> Option<String> {
        self.inner.endpoint()
    }
}
