//! Sync benchmark: N sessions recorded offline on one device, then synced to a server on
//! loopback. Prints ONE JSON line on stdout (progress goes to stderr).
//!
//! ```text
//! cargo run --release -p fieldconsult-server --example syncbench -- --sessions 10000
//! cargo run --release -p fieldconsult-server --example syncbench -- --device-dir /tmp
//! ```
//!
//! - The server runs in a **child process** (this binary, re-executed with
//!   `SYNCBENCH_SERVER_DB` set), with its SQLite database in a temporary folder, so that
//!   `device_peak_rss_mb` is the device's alone (`rss_includes_server: false`);
//!   `server_peak_rss_mb` is the child's.
//! - The device store lives on tmpfs (`/dev/shm` when it exists, else a temporary folder;
//!   `--device-dir` overrides): the device saves every session durably (`synchronous=FULL`,
//!   one transaction each), and building 10k of them on a disk that fsyncs would time the
//!   disk, not sync. The server's database is on the ordinary disk.
//! - `device_peak_rss_mb` is the peak during the syncs: the peak is reset (Linux
//!   `/proc/self/clear_refs`) after the sessions are created; `rss_peak_scope` says whether
//!   that worked (`sync`) or not (`whole_run`).
//! - Sessions: two per visit (women's, men's), every topic answered with a short note, five
//!   ranked priorities, two or three concerns; 1% are left as drafts and are the ones the
//!   resync edits and submits. `json_bytes` sums `serde_json::to_vec(&Record::Session(..))`.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, FixedOffset, Utc};
use fieldconsult_core::{
    DatabaseKey, HttpRequest, HttpResponse, HttpsTransport, NoProgress, Store, SyncReport,
    Transport, TransportError,
};
use fieldconsult_model::wire::Record;
use fieldconsult_model::{
    Actor, AffectedGroup, AgeCounts, ChecklistAnswer, ChecklistTemplate, Community, Concern,
    ConcernCategory, Facilitators, Group, Interpreter, InterpreterSex, Priority, PriorityCategory,
    Role, Session, SessionId, Setting, TopicResponse, Urgency, Visit, VisitId,
};
use fieldconsult_server::admin::{self, CommunityInput};
use fieldconsult_server::{SqliteStorage, Storage};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The HTTPS transport of core, logging each request to stderr when `SYNCBENCH_TRACE` is set.
struct Traced {
    inner: HttpsTransport,
    on: bool,
}

impl Transport for Traced {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let (method, path, up) = (request.method, request.path.clone(), request.body.len());
        let t = Instant::now();
        let answer = self.inner.send(request);
        if self.on {
            match &answer {
                Ok(r) => eprintln!(
                    "  {} {path}: {} B up, {} {} B down, {:.1} ms",
                    method.as_str(),
                    up,
                    r.status,
                    r.body.len(),
                    t.elapsed().as_secs_f64() * 1000.0
                ),
                Err(e) => eprintln!("  {} {path}: {e}", method.as_str()),
            }
        }
        answer
    }

    fn endpoint(&self) -> Option<String> {
        self.inner.endpoint()
    }
}

const SERVER_ENV: &str = "SYNCBENCH_SERVER_DB";

fn main() -> Result<(), Error> {
    if let Ok(db) = std::env::var(SERVER_ENV) {
        return server_child(Path::new(&db));
    }
    let mut sessions: usize = 10_000;
    let mut device_dir: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--sessions" => {
                sessions = args.next().ok_or("--sessions needs a number")?.parse()?;
            }
            "--device-dir" => {
                device_dir = Some(args.next().ok_or("--device-dir needs a path")?.into());
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    bench(sessions.max(2), device_dir)
}

/// The server side: serve the database until stdin closes, then print the peak RSS.
fn server_child(db: &Path) -> Result<(), Error> {
    let storage = Arc::new(SqliteStorage::open(db)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        println!("{}", listener.local_addr()?.port());
        std::io::stdout().flush()?;
        let stop = async {
            // The parent closes our stdin to stop us.
            let _ = tokio::task::spawn_blocking(|| {
                let mut sink = String::new();
                while std::io::stdin()
                    .read_line(&mut sink)
                    .map(|n| n > 0)
                    .unwrap_or(false)
                {
                    sink.clear();
                }
            })
            .await;
        };
        fieldconsult_server::serve(storage as Arc<dyn Storage>, listener, stop).await
    })?;
    println!("rss {}", peak_rss_mb().unwrap_or(-1.0));
    Ok(())
}

fn bench(n: usize, device_dir: Option<PathBuf>) -> Result<(), Error> {
    let server_dir = tempfile::tempdir()?;
    let shm = Path::new("/dev/shm");
    let device_parent = device_dir.unwrap_or_else(|| {
        if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        }
    });
    let device_tmp = tempfile::Builder::new()
        .prefix("syncbench-device")
        .tempdir_in(&device_parent)?;

    // Mission setup, straight into the server's database, before the server starts.
    let db = server_dir.path().join("server.db");
    let (team, communities, code) = {
        let storage = SqliteStorage::open(&db)?;
        let team = admin::add_team(&storage, "Engagement Team 3", "Sector West")?;
        admin::publish_checklist(&storage, &ChecklistTemplate::default_v1())?;
        let inputs: Vec<CommunityInput> = (0..40)
            .map(|i| CommunityInput {
                name: format!("Community {i:02}"),
                admin_area: "Yei County".to_owned(),
                location: None,
            })
            .collect();
        let communities = admin::import_communities(&storage, &inputs)?;
        let code = admin::enrolment_code(&storage, &Role::TeamMember { team_id: team.id }, 1)?;
        (team, communities, code)
    };

    let mut child = Command::new(std::env::current_exe()?)
        .env(SERVER_ENV, &db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut child_out = BufReader::new(child.stdout.take().ok_or("no child stdout")?);
    let mut line = String::new();
    child_out.read_line(&mut line)?;
    let port: u16 = line
        .trim()
        .parse()
        .map_err(|_| "the server did not start")?;
    let url = format!("http://127.0.0.1:{port}");
    let transport = Traced {
        inner: HttpsTransport::new(&url)?,
        on: std::env::var_os("SYNCBENCH_TRACE").is_some(),
    };

    let result = device_side(
        n,
        &transport,
        device_tmp.path(),
        &team.id,
        &communities,
        &code,
    );

    drop(child.stdin.take()); // stops the server
    let mut rest = String::new();
    let mut server_rss = -1.0;
    while child_out.read_line(&mut rest)? > 0 {
        if let Some(v) = rest.trim().strip_prefix("rss ") {
            server_rss = v.parse().unwrap_or(-1.0);
        }
        rest.clear();
    }
    child.wait()?;
    let mut out = result?;

    let storage = SqliteStorage::open(&db)?;
    let held = storage.records_of_kind("session")?.len();
    out.insert("server_sessions".into(), held.into());
    out.insert("server_peak_rss_mb".into(), round1(server_rss).into());
    out.insert(
        "device_db_dir".into(),
        device_parent.display().to_string().into(),
    );
    if held != n {
        eprintln!("WARNING: the server holds {held} sessions, expected {n}");
    }
    println!("{}", serde_json::Value::Object(out));
    Ok(())
}

fn device_side(
    n: usize,
    transport: &Traced,
    dir: &Path,
    team_id: &fieldconsult_model::TeamId,
    communities: &[Community],
    code: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    let mut raw = [0u8; DatabaseKey::LEN];
    getrandom::fill(&mut raw).map_err(|e| format!("random key: {e}"))?;
    let store = Store::open(dir.join("device.db"), &DatabaseKey::from_bytes(&raw)?)?;
    raw.fill(0);
    let enrolment = store.enrol(transport, code, "bench tablet")?;
    let actor = Actor {
        id: enrolment.device_id,
        role: enrolment.role,
    };
    let reference = store.sync(transport, &NoProgress)?;
    eprintln!("enrolled; pulled {} reference records", reference.pulled);
    let checklist = store
        .latest_checklist()?
        .ok_or("no checklist on the device")?;

    // Offline: create N sessions.
    eprintln!("creating {n} sessions offline in {}", dir.display());
    let t = Instant::now();
    let local = FixedOffset::east_opt(3 * 3600).ok_or("offset")?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut json_bytes: u64 = 0;
    let mut drafts: Vec<SessionId> = Vec::new();
    let edit_every = 100usize;
    let mut visit_id = VisitId::new();
    for i in 0..n {
        let start =
            (Utc::now() - Duration::minutes(10 * (n - i) as i64 + 180)).with_timezone(&local);
        if i % 2 == 0 {
            let community = &communities[rng.below(communities.len())];
            let visit = Visit {
                id: VisitId::new(),
                team_id: *team_id,
                community_id: community.id,
                started_at: start,
                ended_at: Some(start + Duration::minutes(150)),
                notes: String::new(),
            };
            store.save_visit(&actor, &visit)?;
            visit_id = visit.id;
        }
        let group = if i % 2 == 0 { Group::Women } else { Group::Men };
        let s = realistic_session(&mut rng, &checklist, visit_id, group, start);
        let saved = store.save_session(&actor, &s)?;
        let final_version = if i % edit_every == edit_every / 2 {
            drafts.push(saved.id);
            saved
        } else {
            store.submit_session(&actor, &saved.id)?
        };
        let json = serde_json::to_vec(&Record::Session(Box::new(final_version)))?;
        if i == 0 && transport.on {
            eprintln!("a session: {}", String::from_utf8_lossy(&json));
        }
        json_bytes += json.len() as u64;
        if (i + 1) % 2000 == 0 {
            eprintln!("  {} sessions", i + 1);
        }
    }
    let create_s = t.elapsed().as_secs_f64();
    let pending = store.pending_count()?;
    eprintln!("created in {create_s:.1} s; {pending} records in the outbox");
    let rss_scope = if reset_peak_rss() {
        "sync"
    } else {
        "whole_run"
    };

    // First sync.
    let t = Instant::now();
    let first = store.sync(transport, &NoProgress)?;
    let first_s = t.elapsed().as_secs_f64();
    check(&first, "first sync")?;
    eprintln!("first sync: {first_s:.2} s, {first:?}");

    // Idle sync.
    let t = Instant::now();
    let idle = store.sync(transport, &NoProgress)?;
    let idle_ms = t.elapsed().as_secs_f64() * 1000.0;
    check(&idle, "idle sync")?;
    eprintln!("idle sync: {idle_ms:.1} ms, {idle:?}");

    // Edit 1% (the drafts) and resync.
    for id in &drafts {
        let mut s = store.get_session(id)?.session;
        s.participants.female.age_18_29 += 1;
        if let Some(a) = s.answers.first_mut() {
            a.note = sentence(&mut rng, 6, 12);
        }
        store.save_session(&actor, &s)?;
        store.submit_session(&actor, id)?;
    }
    let t = Instant::now();
    let resync = store.sync(transport, &NoProgress)?;
    let resync_s = t.elapsed().as_secs_f64();
    check(&resync, "resync")?;
    eprintln!(
        "resync of {} edited: {resync_s:.2} s, {resync:?}",
        drafts.len()
    );
    let device_rss = peak_rss_mb().unwrap_or(-1.0);

    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        m.insert(k.to_owned(), v);
    };
    put("sessions", n.into());
    put("records_pushed", first.pushed.into());
    put("first_sync_s", round3(first_s).into());
    put(
        "records_per_s",
        (first.pushed as f64 / first_s).round().into(),
    );
    put("sessions_per_s", (n as f64 / first_s).round().into());
    put("bytes_up", first.bytes_up.into());
    put("bytes_down", first.bytes_down.into());
    put("records_pulled", first.pulled.into());
    put("requests", first.requests.into());
    put("idle_sync_ms", round3(idle_ms).into());
    put("idle_sync_bytes", (idle.bytes_up + idle.bytes_down).into());
    put("idle_sync_requests", idle.requests.into());
    put("edited", drafts.len().into());
    put("resync_1pct_s", round3(resync_s).into());
    put("resync_bytes", (resync.bytes_up + resync.bytes_down).into());
    put("resync_requests", resync.requests.into());
    put("device_peak_rss_mb", round1(device_rss).into());
    put("rss_includes_server", false.into());
    put("rss_peak_scope", rss_scope.into());
    put("json_bytes", json_bytes.into());
    put(
        "session_json_avg_bytes",
        (json_bytes as f64 / n as f64).round().into(),
    );
    put(
        "bytes_up_per_json_byte",
        round3(first.bytes_up as f64 / json_bytes as f64).into(),
    );
    put("create_s", round3(create_s).into());
    put("device_db_tmpfs", dir.starts_with("/dev/shm").into());
    Ok(m)
}

fn check(r: &SyncReport, what: &str) -> Result<(), Error> {
    if r.rejected > 0 || r.conflicts > 0 || r.acknowledged != r.pushed {
        return Err(format!(
            "{what}: {} pushed, {} acknowledged, {} rejected, {} conflicts",
            r.pushed, r.acknowledged, r.rejected, r.conflicts
        )
        .into());
    }
    Ok(())
}

/// A session of realistic size: every topic answered with a short note, five ranked
/// priorities, two or three concerns with place and time.
fn realistic_session(
    rng: &mut Rng,
    checklist: &ChecklistTemplate,
    visit: VisitId,
    group: Group,
    start: fieldconsult_model::Timestamp,
) -> Session {
    const LOCS: &[&str] = &[
        "firewood path",
        "river crossing",
        "market road",
        "Yei road checkpoint",
        "water point",
        "farmland by the river",
    ];
    const TIMES: &[&str] = &["at dawn", "at night", "on market days", "this month", ""];
    let mut s = Session::new_draft(visit, group, start);
    s.ended_at = Some(start + Duration::minutes(50 + rng.below(40) as i64));
    s.consent.verbal_informed = true;
    s.checklist_version = checklist.version;
    s.setting = if group == Group::Women {
        Setting::Private
    } else {
        Setting::CommunitySpace
    };
    let n = |rng: &mut Rng| rng.below(12) as u32;
    let counts = |rng: &mut Rng| AgeCounts {
        age_12_17: n(rng),
        age_18_29: n(rng),
        age_30_59: 1 + n(rng),
        age_60_plus: n(rng) / 2,
        unknown: n(rng) / 4,
    };
    match group {
        Group::Women => s.participants.female = counts(rng),
        _ => s.participants.male = counts(rng),
    }
    s.facilitators = Facilitators {
        female: 1,
        male: u32::from(group != Group::Women),
    };
    s.interpreter = Interpreter {
        sex: if group == Group::Women {
            InterpreterSex::Female
        } else {
            InterpreterSex::Male
        },
        language: "Bari".into(),
    };
    s.answers = checklist
        .topics
        .iter()
        .map(|t| ChecklistAnswer {
            topic: t.code.clone(),
            response: TopicResponse::Discussed,
            // Teams note a few topics, not all.
            note: if rng.below(5) == 0 {
                sentence(rng, 5, 12)
            } else {
                String::new()
            },
        })
        .collect();
    let cats = PriorityCategory::ALL
        .iter()
        .filter(|c| **c != PriorityCategory::Other)
        .copied()
        .collect::<Vec<_>>();
    let mut picked: Vec<PriorityCategory> = Vec::new();
    while picked.len() < 5 {
        let c = cats[rng.below(cats.len())];
        if !picked.contains(&c) {
            picked.push(c);
        }
    }
    s.priorities = (1u8..)
        .zip(picked)
        .map(|(rank, category)| Priority {
            rank,
            category,
            other_label: String::new(),
            note: if rank == 1 {
                sentence(rng, 4, 10)
            } else {
                String::new()
            },
        })
        .collect();
    let concern_cats = [
        ConcernCategory::ArmedGroupPresence,
        ConcernCategory::MovementRestriction,
        ConcernCategory::TheftAndLooting,
        ConcernCategory::LandOrResourceDispute,
        ConcernCategory::IntercommunalTension,
    ];
    let groups = [
        AffectedGroup::Women,
        AffectedGroup::Girls,
        AffectedGroup::Men,
        AffectedGroup::Boys,
        AffectedGroup::Elderly,
    ];
    s.concerns = (0..2 + rng.below(2))
        .map(|i| Concern {
            category: concern_cats[(rng.below(concern_cats.len()) + i) % concern_cats.len()],
            affected: [
                groups[rng.below(groups.len())],
                groups[rng.below(groups.len())],
            ]
            .into_iter()
            .collect(),
            location: LOCS[rng.below(LOCS.len())].to_owned(),
            timing: TIMES[rng.below(TIMES.len())].to_owned(),
            urgency: match rng.below(20) {
                0 => Urgency::Urgent,
                1..=6 => Urgency::Priority,
                _ => Urgency::Routine,
            },
            note: if rng.below(2) == 0 {
                sentence(rng, 3, 8)
            } else {
                String::new()
            },
        })
        .collect();
    s
}

/// A note of `min..max` words drawn from a field vocabulary: text that compresses about as
/// well as real notes do (a fixed set of sentences would compress unrealistically well).
fn sentence(rng: &mut Rng, min: usize, max: usize) -> String {
    const WORDS: &[&str] = &[
        "water",
        "point",
        "broken",
        "weeks",
        "women",
        "walk",
        "hours",
        "each",
        "way",
        "patrol",
        "welcome",
        "daytime",
        "only",
        "fear",
        "moving",
        "fields",
        "after",
        "dark",
        "school",
        "closed",
        "teachers",
        "left",
        "March",
        "prices",
        "market",
        "doubled",
        "road",
        "youth",
        "work",
        "mines",
        "elderly",
        "could",
        "not",
        "come",
        "meeting",
        "place",
        "far",
        "disputes",
        "grazing",
        "land",
        "herders",
        "north",
        "health",
        "centre",
        "medicine",
        "clinic",
        "km",
        "returned",
        "families",
        "camp",
        "calm",
        "since",
        "last",
        "visit",
        "checkpoint",
        "soldiers",
        "ask",
        "money",
        "night",
        "river",
        "crossing",
        "boats",
        "cattle",
        "raid",
        "village",
        "chief",
        "committee",
        "girls",
        "boys",
        "firewood",
        "collect",
        "morning",
        "group",
        "armed",
        "men",
        "seen",
        "near",
        "borehole",
        "rains",
        "harvest",
        "seeds",
        "tools",
        "NGO",
        "distribution",
        "food",
        "ration",
        "cut",
        "half",
        "registration",
        "documents",
        "lost",
        "fire",
        "houses",
        "burned",
        "rebuilt",
        "some",
        "many",
        "few",
        "two",
        "three",
        "five",
        "ten",
        "twenty",
        "people",
        "children",
        "widows",
        "disabled",
        "cannot",
        "reach",
        "latrines",
        "unsafe",
        "lighting",
        "needed",
        "police",
        "post",
        "empty",
        "court",
        "case",
        "pending",
        "land",
        "return",
        "owners",
        "occupied",
        "church",
        "mosque",
        "leaders",
        "asked",
        "mission",
        "to",
        "the",
        "a",
        "and",
        "of",
        "in",
        "on",
        "at",
        "is",
        "are",
        "was",
        "were",
        "no",
        "since",
        "every",
        "week",
        "month",
        "day",
        "again",
        "still",
        "now",
        "more",
        "less",
        "than",
        "before",
    ];
    let n = min + rng.below(max - min + 1);
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(WORDS[rng.below(WORDS.len())]);
    }
    out.push('.');
    out
}

/// xorshift64*: deterministic, so every run builds the same sessions.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

/// VmHWM of this process, in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
