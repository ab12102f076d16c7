//! Sync benchmark: N sessions recorded offline on one device, then synced to a server on
//! loopback. Prints ONE JSON line on stdout (progress goes to stderr).
//!
//! ```text
//! cargo run --release -p fieldconsult-server --example syncbench -- --sessions 10000
//! cargo run --release -p fieldconsult-server --example syncbench -- --device-dir /tmp
//! npm ci --prefix bench/pouchdb && \
//!   cargo run --release -p fieldconsult-server --example syncbench -- --pouchdb
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
//! - `--pouchdb`: the baseline of DESIGN.md "Targets", in the same run. The sessions as the
//!   first sync pushes them (that same `Record::Session` JSON, the bytes `json_bytes` counts)
//!   go to a temporary JSON Lines file; once our own server has stopped,
//!   `node bench/pouchdb/replicate.js FILE DEVICE_DIR` loads them into a PouchDB (LevelDB, in
//!   the device folder), replicates them to express-pouchdb on loopback in a child process, and
//!   its figures come back as `pouchdb_*`, with `speedup_vs_pouchdb` =
//!   `pouchdb_first_sync_s / first_sync_s`. It installs nothing: run
//!   `npm ci --prefix bench/pouchdb` first.

mod support;

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::{Duration, FixedOffset, Utc};
use fieldconsult_core::{
    DatabaseKey, HttpRequest, HttpResponse, HttpsTransport, NoProgress, Store, SyncReport,
    Transport, TransportError,
};
use fieldconsult_model::wire::Record;
use fieldconsult_model::{
    Actor, ChecklistTemplate, Community, Group, Role, SessionId, Visit, VisitId,
};
use fieldconsult_server::admin::{self, CommunityInput};
use fieldconsult_server::{SqliteStorage, Storage};
use support::{
    Error, Rng, peak_rss_mb, realistic_session, round1, round3, sentence, server_child,
    spawn_server,
};

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
    let mut pouchdb = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--sessions" => {
                sessions = args.next().ok_or("--sessions needs a number")?.parse()?;
            }
            "--device-dir" => {
                device_dir = Some(args.next().ok_or("--device-dir needs a path")?.into());
            }
            "--pouchdb" => pouchdb = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    bench(sessions.max(2), device_dir, pouchdb)
}

fn bench(n: usize, device_dir: Option<PathBuf>, pouchdb: bool) -> Result<(), Error> {
    // Checked first, so that a missing `npm ci` does not cost the whole run.
    let pouchdb_dir = if pouchdb { Some(pouchdb_dir()?) } else { None };
    let jsonl = if pouchdb {
        Some(
            tempfile::Builder::new()
                .prefix("syncbench-sessions")
                .suffix(".jsonl")
                .tempfile()?,
        )
    } else {
        None
    };
    let mut jsonl_writer = jsonl.as_ref().map(|f| BufWriter::new(f.as_file()));
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

    let (mut child, mut child_out, port) = spawn_server(SERVER_ENV, &db)?;
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
        jsonl_writer.as_mut().map(|w| w as &mut dyn Write),
    );
    if let Some(mut w) = jsonl_writer.take() {
        w.flush()?;
    }

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
    if let (Some(dir), Some(file)) = (&pouchdb_dir, &jsonl) {
        pouchdb_baseline(dir, file.path(), &device_parent, n, &mut out)?;
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
    mut jsonl: Option<&mut dyn Write>,
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    let mut raw = [0u8; DatabaseKey::LEN];
    getrandom::fill(&mut raw).map_err(|e| format!("random key: {e}"))?;
    let store = Store::open(dir.join("device.db"), &DatabaseKey::from_bytes(&raw)?)?;
    raw.fill(0);
    let enrolment = store.enrol(transport, code, "bench tablet", None)?;
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
        if let Some(w) = jsonl.as_deref_mut() {
            w.write_all(&json)?;
            w.write_all(b"\n")?;
        }
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
    let device_rss = peak_rss_mb("/proc/self/status").unwrap_or(-1.0);

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

/// Resets VmHWM to the current RSS (Linux ≥ 4.0).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// `bench/pouchdb` of this workspace, with its packages installed.
fn pouchdb_dir() -> Result<PathBuf, Error> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace folder")?
        .join("bench/pouchdb");
    if !dir.join("node_modules").is_dir() {
        return Err(format!(
            "--pouchdb: {} has no node_modules: run `npm ci --prefix bench/pouchdb` \
             in the workspace first (syncbench installs nothing itself)",
            dir.display()
        )
        .into());
    }
    Ok(dir)
}

/// Runs `node replicate.js` on the sessions in `jsonl` and adds its figures to `out` as
/// `pouchdb_*`, with `speedup_vs_pouchdb`.
fn pouchdb_baseline(
    dir: &Path,
    jsonl: &Path,
    device_parent: &Path,
    n: usize,
    out: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), Error> {
    eprintln!(
        "PouchDB baseline: node {}",
        dir.join("replicate.js").display()
    );
    let run = Command::new("node")
        .arg(dir.join("replicate.js"))
        .arg(jsonl)
        .arg(device_parent)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("--pouchdb: cannot run node (Node 20 needed): {e}"))?;
    if !run.status.success() {
        return Err(format!("--pouchdb: replicate.js failed ({})", run.status).into());
    }
    let stdout = String::from_utf8(run.stdout)?;
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or("--pouchdb: replicate.js printed nothing")?;
    let p: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line)?;
    eprintln!("PouchDB baseline: {line}");
    let field = |k: &str| {
        p.get(k)
            .cloned()
            .ok_or_else(|| format!("--pouchdb: replicate.js printed no {k}"))
    };
    if field("records")?.as_u64() != Some(n as u64) {
        return Err(format!(
            "--pouchdb: replicate.js replicated {}, not {n}",
            field("records")?
        )
        .into());
    }
    for (ours, theirs) in [
        ("pouchdb_first_sync_s", "first_sync_s"),
        ("pouchdb_requests", "requests"),
        ("pouchdb_bytes_up", "bytes_up"),
        ("pouchdb_bytes_down", "bytes_down"),
        ("pouchdb_idle_requests", "idle_sync_requests"),
        ("pouchdb_idle_bytes", "idle_sync_bytes"),
        ("pouchdb_device_peak_rss_mb", "device_peak_rss_mb"),
        ("pouchdb_wire_bytes_up", "wire_bytes_up"),
        ("pouchdb_wire_bytes_down", "wire_bytes_down"),
        ("pouchdb_server_peak_rss_mb", "server_peak_rss_mb"),
        ("pouchdb_doc_json_avg_bytes", "doc_json_avg_bytes"),
        ("pouchdb_version", "pouchdb_version"),
    ] {
        out.insert(ours.into(), field(theirs)?);
    }
    let theirs = field("first_sync_s")?
        .as_f64()
        .ok_or("--pouchdb: first_sync_s")?;
    let ours = out
        .get("first_sync_s")
        .and_then(serde_json::Value::as_f64)
        .ok_or("no first_sync_s")?;
    out.insert("speedup_vs_pouchdb".into(), round1(theirs / ours).into());
    Ok(())
}
