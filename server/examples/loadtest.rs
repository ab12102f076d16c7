//! Server load test: N simulated devices syncing with one server at the same time, on
//! loopback. Prints ONE JSON line on stdout (progress goes to stderr).
//!
//! ```text
//! cargo run --release -p fieldconsult-server --example loadtest -- --devices 200
//! cargo run --release -p fieldconsult-server --example loadtest -- --devices 50 --rounds 4
//! ```
//!
//! The target it checks (DESIGN.md, "Targets"): 200 devices syncing at once, 0 errors,
//! p99 < 250 ms.
//!
//! - The server runs in a **child process** (this binary, re-executed with
//!   `LOADTEST_SERVER_DB` set), its SQLite database in a temporary folder on the ordinary
//!   disk, so that `server_peak_rss_mb` (the child's VmHWM) is the server's alone.
//! - The mission (teams spread over sectors, 40 communities, the checklist, one one-time
//!   enrolment code per device) is written straight into the server's database before it
//!   starts. About one device in 50 is a reviewer with a sector of its own; the others are
//!   team members, ten to a team.
//! - Every device is one OS thread with its own encrypted `Store` on tmpfs (`/dev/shm` when
//!   it exists), its own HTTP agent (so its own keep-alive connection) and its own
//!   `fieldconsult_core::Store::sync`, exactly as a tablet would run it.
//! - Phases, each started on a barrier so that all devices really hit the server at once:
//!   `setup` (enrol, pull the reference data, record `--sessions-per-device` sessions
//!   offline, one of them left as a draft), `first` (the first sync: push everything, pull
//!   the team's or sector's records), then `--rounds` more rounds alternating a change round
//!   (team members edit their draft and record one more session, submitting the draft on the
//!   last change round; reviewers accept one submitted session) and an idle sync.
//! - Latency is per HTTP request, measured around the transport on the device side (as
//!   syncbench's `Traced` does), so it includes the client's own work of sending and
//!   reading; on a 2-core machine the 200 device threads compete with the server for CPU,
//!   which makes these numbers an upper bound for the server. `p50_ms`/`p99_ms`/`max_ms`
//!   cover the sync phases (`first` and the rounds); enrolment and setup are reported apart
//!   in `phase_p99_ms.setup`.
//! - `errors` counts failed requests (transport errors or HTTP status ≥ 400) plus syncs or
//!   enrolments that returned `Err` or reported rejected records, conflicts, or fewer
//!   acknowledgements than records pushed. `first_error` quotes one.
//! - `records` is the total of records pushed by all syncs (sessions, visits, reviews).
//! - `server_cpu_s`, `server_runqueue_wait_s` (Linux schedstat of the server's threads) and
//!   `devices_cpu_s` cover the sync phases: with every device a thread on the same machine,
//!   the scheduler shares the CPU per thread, so 200 busy device threads can starve the
//!   server; a large run-queue wait says the latency is the rig's, not the server's.
//!   `--server-dir /dev/shm` takes the disk's fsyncs out, to tell the two apart.
//! - The run is bounded: after `--timeout-s` (default 300) it prints an error JSON line and
//!   exits, which closes the server's stdin and so stops it too.

mod support;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, FixedOffset, Utc};
use clap::Parser;
use fieldconsult_core::{
    DatabaseKey, HttpRequest, HttpResponse, HttpsTransport, NoProgress, SessionFilter, Store,
    SyncReport, Transport, TransportError,
};
use fieldconsult_model::{
    Actor, ChecklistTemplate, Community, Decision, Group, Role, SessionId, Status, TeamId, Visit,
    VisitId,
};
use fieldconsult_server::admin::{self, CommunityInput};
use fieldconsult_server::{SqliteStorage, Storage};
use support::{
    Error, Rng, peak_rss_mb, realistic_session, round1, round3, sentence, server_child,
    spawn_server,
};

const SERVER_ENV: &str = "LOADTEST_SERVER_DB";

/// The phase names, by index: setup, first sync, then one per round.
fn phase_name(p: usize) -> String {
    match p {
        0 => "setup".to_owned(),
        1 => "first".to_owned(),
        r => format!("round{}", r - 1),
    }
}

#[derive(Parser, Debug)]
#[command(about = "N devices syncing at once with a server on loopback; one JSON line out")]
struct Args {
    /// Devices syncing at once (team members and a few reviewers).
    #[arg(long, default_value_t = 200)]
    devices: usize,
    /// Sessions each team member records offline before the first sync.
    #[arg(long, default_value_t = 5)]
    sessions_per_device: usize,
    /// Rounds after the first sync, alternating a change round and an idle sync.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Reviewers among the devices (default: one per 50 devices).
    #[arg(long)]
    reviewers: Option<usize>,
    /// Give up (error JSON, exit status 1) after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout_s: u64,
    /// Parent folder of the device stores (default /dev/shm, else the temporary folder).
    #[arg(long)]
    device_dir: Option<PathBuf>,
    /// Parent folder of the server's database (default: the temporary folder, on disk).
    /// `/dev/shm` takes fsync out of the server's time: a diagnostic, not the target.
    #[arg(long)]
    server_dir: Option<PathBuf>,
    /// Nice value of the device threads (0: none). The 200 simulated phones share this
    /// machine's cores with the server, and Linux shares CPU time per thread, so without it
    /// they starve the server of CPU and the latency measured is the rig's; on a mission
    /// each phone brings its own CPU.
    #[arg(long, default_value_t = 10)]
    devices_nice: u32,
}

fn main() -> Result<(), Error> {
    if let Ok(db) = std::env::var(SERVER_ENV) {
        return server_child(Path::new(&db));
    }
    let args = Args::parse();
    if args.devices == 0 {
        return Err("--devices must be at least 1".into());
    }
    run(&args)
}

/// One HTTP request as the device saw it.
#[derive(Clone, Copy)]
struct Sample {
    phase: usize,
    ms: f64,
    failed: bool,
}

/// The HTTPS transport of core, timing every request into the device's own list (merged
/// at the end, so that recording never contends across devices).
struct Timed {
    inner: HttpsTransport,
    phase: AtomicUsize,
    samples: Mutex<Vec<Sample>>,
    first_failure: Mutex<Option<String>>,
}

impl Transport for Timed {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let what = format!("{} {}", request.method.as_str(), request.path);
        let t = Instant::now();
        let answer = self.inner.send(request);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let failure = match &answer {
            Ok(r) if r.status >= 400 => Some(format!(
                "{what}: HTTP {} {}",
                r.status,
                String::from_utf8_lossy(&r.body[..r.body.len().min(300)])
            )),
            Ok(_) => None,
            Err(e) => Some(format!("{what}: {e}")),
        };
        if let Ok(mut s) = self.samples.lock() {
            s.push(Sample {
                phase: self.phase.load(Ordering::Relaxed),
                ms,
                failed: failure.is_some(),
            });
        }
        if let Some(f) = failure
            && let Ok(mut first) = self.first_failure.lock()
            && first.is_none()
        {
            *first = Some(f);
        }
        answer
    }

    fn endpoint(&self) -> Option<String> {
        self.inner.endpoint()
    }
}

/// What the whole run shares with the device threads.
struct Shared {
    url: String,
    dir: PathBuf,
    communities: Vec<Community>,
    sessions_per_device: usize,
    phases: usize,
    rounds: usize,
    barrier: Barrier,
}

/// One simulated device: its code and role.
struct DevicePlan {
    index: usize,
    code: String,
    reviewer: bool,
}

/// What one device reports back.
#[derive(Default)]
struct DeviceOutcome {
    samples: Vec<Sample>,
    syncs: u64,
    pushed: u64,
    pulled: u64,
    sync_errors: u64,
    first_error: Option<String>,
    setup_ok: bool,
}

fn run(args: &Args) -> Result<(), Error> {
    let n = args.devices;
    let reviewers = args
        .reviewers
        .unwrap_or(if n >= 2 { (n / 50).max(1) } else { 0 })
        .min(n.saturating_sub(1));
    let members = n - reviewers;
    let sectors = reviewers.max(1);
    let teams_n = members.div_ceil(10).max(1);
    let rounds = args.rounds;
    let phases = 2 + rounds;
    let started = Instant::now();

    let server_dir = match &args.server_dir {
        Some(parent) => tempfile::Builder::new()
            .prefix("loadtest-server")
            .tempdir_in(parent)?,
        None => tempfile::tempdir()?,
    };
    let shm = Path::new("/dev/shm");
    let device_parent = args.device_dir.clone().unwrap_or_else(|| {
        if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        }
    });
    let device_tmp = tempfile::Builder::new()
        .prefix("loadtest-devices")
        .tempdir_in(&device_parent)?;

    // The hard time bound. It also removes the temporary folders (exit skips their
    // destructors): the device stores on tmpfs would otherwise stay in memory.
    let phase_reached = Arc::new(AtomicUsize::new(0));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    {
        let timeout = StdDuration::from_secs(args.timeout_s);
        let phase_reached = Arc::clone(&phase_reached);
        let dirs = [
            device_tmp.path().to_path_buf(),
            server_dir.path().to_path_buf(),
        ];
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(timeout) {
                let phase = phase_name(phase_reached.load(Ordering::Relaxed));
                let line = serde_json::json!({
                    "devices": n,
                    "error": format!("timed out after {} s in phase {phase}", timeout.as_secs()),
                });
                println!("{line}");
                let _ = std::io::stdout().flush();
                for dir in &dirs {
                    let _ = std::fs::remove_dir_all(dir);
                }
                std::process::exit(1);
            }
        });
    }

    // Mission setup, straight into the server's database, before the server starts.
    let db = server_dir.path().join("server.db");
    let (communities, plans) = {
        let storage = SqliteStorage::open(&db)?;
        admin::publish_checklist(&storage, &ChecklistTemplate::default_v1())?;
        let teams = (0..teams_n)
            .map(|t| {
                admin::add_team(
                    &storage,
                    &format!("Engagement Team {t}"),
                    &format!("Sector {}", t % sectors),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let inputs: Vec<CommunityInput> = (0..40)
            .map(|i| CommunityInput {
                name: format!("Community {i:02}"),
                admin_area: "Yei County".to_owned(),
                location: None,
            })
            .collect();
        let communities = admin::import_communities(&storage, &inputs)?;
        let mut plans = Vec::with_capacity(n);
        for i in 0..n {
            // Reviewers each get a sector of their own, so that no two of them decide on
            // the same session (that would be a genuine conflict, not a server error).
            let (role, reviewer) = if i < reviewers {
                (
                    Role::Reviewer {
                        sector: format!("Sector {i}"),
                    },
                    true,
                )
            } else {
                let team = &teams[(i - reviewers) % teams_n];
                (Role::TeamMember { team_id: team.id }, false)
            };
            plans.push(DevicePlan {
                index: i,
                code: admin::enrolment_code(&storage, &role, 2)?,
                reviewer,
            });
        }
        (communities, plans)
    };
    eprintln!(
        "mission: {teams_n} teams in {sectors} sectors, {members} team members, \
         {reviewers} reviewers"
    );

    let (mut child, mut child_out, port) = spawn_server(SERVER_ENV, &db)?;
    let server_pid = child.id();
    // Linux keeps a nice value per thread: set on this (main) thread after the server child
    // started, it is inherited by the device threads spawned below and by nothing else.
    let niced = args.devices_nice > 0
        && Command::new("renice")
            .args(["-n", &args.devices_nice.to_string(), "-p"])
            .arg(std::process::id().to_string())
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());

    let shared = Arc::new(Shared {
        url: format!("http://127.0.0.1:{port}"),
        dir: device_tmp.path().to_path_buf(),
        communities,
        sessions_per_device: args.sessions_per_device.max(1),
        phases,
        rounds,
        barrier: Barrier::new(n + 1),
    });
    let mut handles = Vec::with_capacity(n);
    for plan in plans {
        let shared = Arc::clone(&shared);
        handles.push(
            std::thread::Builder::new()
                .name(format!("device-{}", plan.index))
                .spawn(move || device(&shared, &plan))?,
        );
    }

    // The main thread only paces the phases and times them, and samples CPU use across
    // the sync phases: on a small machine that tells queueing for the server's database
    // from plain CPU starvation.
    let mut phase_wall = Vec::with_capacity(phases);
    let mut t = Instant::now();
    let mut cpu_at_first = Cpu::default();
    let mut cpu_at_end = Cpu::default();
    for p in 0..=phases {
        shared.barrier.wait();
        if p > 0 {
            let s = t.elapsed().as_secs_f64();
            eprintln!("phase {}: {s:.2} s", phase_name(p - 1));
            phase_wall.push(s);
        }
        if p == 1 {
            cpu_at_first = Cpu::sample(server_pid);
        } else if p == phases {
            cpu_at_end = Cpu::sample(server_pid);
        }
        phase_reached.store(p, Ordering::Relaxed);
        t = Instant::now();
    }
    let mut outcomes = Vec::with_capacity(n);
    for h in handles {
        outcomes.push(h.join().map_err(|_| "a device thread panicked")?);
    }

    // The server's peak, read while it still runs; its own report at exit is preferred.
    let server_rss_live = peak_rss_mb(&format!("/proc/{server_pid}/status"));
    drop(child.stdin.take()); // stops the server
    let mut rest = String::new();
    let mut server_rss = server_rss_live.unwrap_or(-1.0);
    while child_out.read_line(&mut rest)? > 0 {
        if let Some(v) = rest.trim().strip_prefix("rss ")
            && let Ok(v) = v.parse::<f64>()
            && v > 0.0
        {
            server_rss = v;
        }
        rest.clear();
    }
    child.wait()?;
    let _ = done_tx.send(());

    let storage = SqliteStorage::open(&db)?;
    let server_sessions = storage.records_of_kind("session")?.len();
    let server_reviews = storage.records_of_kind("review")?.len();
    let change_rounds = rounds.div_ceil(2);
    let expected_sessions = members * (shared.sessions_per_device + change_rounds);

    let out = summarize(&Summary {
        n,
        members,
        reviewers,
        teams_n,
        args,
        phases,
        outcomes: &outcomes,
        phase_wall: &phase_wall,
        server_rss,
        server_sessions,
        server_reviews,
        expected_sessions,
        total_s: started.elapsed().as_secs_f64(),
        cpu: cpu_at_end.minus(&cpu_at_first),
        device_dir: &device_parent,
        devices_nice: if niced { args.devices_nice } else { 0 },
    });
    if server_sessions != expected_sessions {
        eprintln!(
            "WARNING: the server holds {server_sessions} sessions, expected {expected_sessions}"
        );
    }
    println!("{}", serde_json::Value::Object(out));
    Ok(())
}

/// A device's life: one phase per barrier. A device that fails stops working but keeps
/// meeting the barriers, so that the others (and the main thread) are never left waiting.
fn device(shared: &Shared, plan: &DevicePlan) -> DeviceOutcome {
    let mut out = DeviceOutcome::default();
    let transport = match HttpsTransport::new(&shared.url) {
        Ok(inner) => Timed {
            inner,
            phase: AtomicUsize::new(0),
            samples: Mutex::new(Vec::new()),
            first_failure: Mutex::new(None),
        },
        Err(e) => {
            out.sync_errors += 1;
            out.first_error = Some(format!("transport: {e}"));
            for _ in 0..=shared.phases {
                shared.barrier.wait();
            }
            return out;
        }
    };
    let mut state: Option<DeviceState> = None;
    let mut failed = false;
    for phase in 0..shared.phases {
        shared.barrier.wait();
        if failed {
            continue;
        }
        transport.phase.store(phase, Ordering::Relaxed);
        let step = if phase == 0 {
            setup_device(shared, plan, &transport).map(|s| {
                state = Some(s);
                None
            })
        } else if let Some(st) = state.as_mut() {
            device_round(shared, st, &transport, phase, &mut out)
        } else {
            Err("no device state".into())
        };
        match step {
            Ok(problem) => {
                if phase == 0 {
                    out.setup_ok = true;
                }
                if let Some(p) = problem {
                    out.sync_errors += 1;
                    out.first_error.get_or_insert(p);
                }
            }
            Err(e) => {
                out.sync_errors += 1;
                out.first_error.get_or_insert(format!(
                    "device {} {}: {e}",
                    plan.index,
                    phase_name(phase)
                ));
                failed = true;
            }
        }
    }
    shared.barrier.wait();
    if let Ok(s) = transport.samples.lock() {
        out.samples = s.clone();
    }
    if out.first_error.is_none()
        && let Ok(f) = transport.first_failure.lock()
    {
        out.first_error = f.clone();
    }
    // The store files go with the temporary folder; closing it first keeps the last
    // checkpoint out of the timed phases.
    drop(state);
    out
}

/// A device's store and what it needs to keep recording.
struct DeviceState {
    store: Store,
    actor: Actor,
    reviewer: bool,
    team_id: Option<TeamId>,
    checklist: Option<ChecklistTemplate>,
    draft: Option<SessionId>,
    rng: Rng,
    changes_done: usize,
}

/// Enrols, pulls the reference data, and records the sessions offline.
fn setup_device(
    shared: &Shared,
    plan: &DevicePlan,
    transport: &Timed,
) -> Result<DeviceState, Error> {
    let mut raw = [0u8; DatabaseKey::LEN];
    getrandom::fill(&mut raw).map_err(|e| format!("random key: {e}"))?;
    let store = Store::open(
        shared.dir.join(format!("device-{}.db", plan.index)),
        &DatabaseKey::from_bytes(&raw)?,
    )?;
    raw.fill(0);
    let enrolment = store.enrol(
        transport,
        &plan.code,
        &format!("tablet {}", plan.index),
        None,
    )?;
    let actor = Actor {
        id: enrolment.device_id,
        role: enrolment.role.clone(),
    };
    let reference = store.sync(transport, &NoProgress)?;
    if let Some(p) = problem(&reference, "reference sync") {
        return Err(p.into());
    }
    let team_id = match enrolment.role {
        Role::TeamMember { team_id } => Some(team_id),
        Role::Reviewer { .. } | Role::HqAnalyst | Role::Admin => None,
    };
    let mut st = DeviceState {
        store,
        actor,
        reviewer: plan.reviewer,
        team_id,
        checklist: None,
        draft: None,
        rng: Rng(0x9e37_79b9_7f4a_7c15 ^ ((plan.index as u64 + 1) << 20)),
        changes_done: 0,
    };
    if st.reviewer {
        return Ok(st);
    }
    st.checklist = Some(
        st.store
            .latest_checklist()?
            .ok_or("no checklist on the device")?,
    );
    let n = shared.sessions_per_device;
    let mut visit_id = VisitId::new();
    for i in 0..n {
        let start_ago = Duration::minutes(10 * (n - i) as i64 + 180);
        if i % 2 == 0 {
            visit_id = new_visit(shared, &mut st, start_ago)?;
        }
        let group = if i % 2 == 0 { Group::Women } else { Group::Men };
        let id = record_session(&mut st, visit_id, group, start_ago, i != n / 2)?;
        if i == n / 2 {
            st.draft = Some(id);
        }
    }
    Ok(st)
}

/// One sync phase. `Ok(Some(..))` is a sync that completed but reported a problem.
fn device_round(
    shared: &Shared,
    st: &mut DeviceState,
    transport: &Timed,
    phase: usize,
    out: &mut DeviceOutcome,
) -> Result<Option<String>, Error> {
    let round = phase - 1; // 0 is the first sync
    if round % 2 == 1 {
        if st.reviewer {
            // A reviewer catches up before deciding: its first sync ran while the teams
            // were still pushing, so it may not hold any submitted session yet.
            let catch_up = st.store.sync(transport, &NoProgress)?;
            out.syncs += 1;
            out.pushed += catch_up.pushed;
            out.pulled += catch_up.pulled;
            if let Some(p) = problem(&catch_up, &phase_name(phase)) {
                return Ok(Some(p));
            }
        }
        change(shared, st)?;
    }
    let report = st.store.sync(transport, &NoProgress)?;
    out.syncs += 1;
    out.pushed += report.pushed;
    out.pulled += report.pulled;
    Ok(problem(&report, &phase_name(phase)))
}

/// A change round: a team member edits its draft (submitting it on the last change round)
/// and records one more session; a reviewer accepts one submitted session.
fn change(shared: &Shared, st: &mut DeviceState) -> Result<(), Error> {
    st.changes_done += 1;
    if st.reviewer {
        let filter = SessionFilter {
            status: Some(Status::Submitted),
            ..SessionFilter::default()
        };
        if let Some(s) = st.store.list_sessions(&filter, 1, None)?.items.first() {
            st.store
                .record_review(&st.actor, &s.id, Decision::Accepted, "")?;
        }
        return Ok(());
    }
    if let Some(id) = st.draft {
        let mut s = st.store.get_session(&id)?.session;
        s.participants.female.age_18_29 += 1;
        if let Some(a) = s.answers.first_mut() {
            a.note = sentence(&mut st.rng, 6, 12);
        }
        st.store.save_session(&st.actor, &s)?;
        if st.changes_done == shared.rounds.div_ceil(2) {
            st.store.submit_session(&st.actor, &id)?;
            st.draft = None;
        }
    }
    // Long enough ago that the session (up to 90 min) and its visit have ended.
    let ago = Duration::minutes(180);
    let visit = new_visit(shared, st, ago)?;
    record_session(st, visit, Group::Women, ago, true)?;
    Ok(())
}

fn new_visit(shared: &Shared, st: &mut DeviceState, ago: Duration) -> Result<VisitId, Error> {
    let team_id = st.team_id.ok_or("a reviewer records no visit")?;
    let start = local_start(ago)?;
    let community = &shared.communities[st.rng.below(shared.communities.len())];
    let visit = Visit {
        id: VisitId::new(),
        team_id,
        community_id: community.id,
        started_at: start,
        ended_at: Some(start + Duration::minutes(150)),
        notes: String::new(),
    };
    st.store.save_visit(&st.actor, &visit)?;
    Ok(visit.id)
}

fn record_session(
    st: &mut DeviceState,
    visit: VisitId,
    group: Group,
    ago: Duration,
    submit: bool,
) -> Result<SessionId, Error> {
    let checklist = st.checklist.as_ref().ok_or("no checklist")?;
    let s = realistic_session(&mut st.rng, checklist, visit, group, local_start(ago)?);
    let saved = st.store.save_session(&st.actor, &s)?;
    if submit {
        st.store.submit_session(&st.actor, &saved.id)?;
    }
    Ok(saved.id)
}

fn local_start(ago: Duration) -> Result<fieldconsult_model::Timestamp, Error> {
    let local = FixedOffset::east_opt(3 * 3600).ok_or("offset")?;
    Ok((Utc::now() - ago).with_timezone(&local))
}

/// Why a completed sync still counts as an error, if it does.
fn problem(r: &SyncReport, what: &str) -> Option<String> {
    (r.rejected > 0 || r.conflicts > 0 || r.acknowledged != r.pushed).then(|| {
        format!(
            "{what}: {} pushed, {} acknowledged, {} rejected, {} conflicts",
            r.pushed, r.acknowledged, r.rejected, r.conflicts
        )
    })
}

/// Everything the JSON line is made from.
struct Summary<'a> {
    n: usize,
    members: usize,
    reviewers: usize,
    teams_n: usize,
    args: &'a Args,
    phases: usize,
    outcomes: &'a [DeviceOutcome],
    phase_wall: &'a [f64],
    server_rss: f64,
    server_sessions: usize,
    server_reviews: usize,
    expected_sessions: usize,
    total_s: f64,
    cpu: Cpu,
    device_dir: &'a Path,
    /// The nice value the device threads got (0 if none).
    devices_nice: u32,
}

fn summarize(s: &Summary<'_>) -> serde_json::Map<String, serde_json::Value> {
    let all: Vec<Sample> = s
        .outcomes
        .iter()
        .flat_map(|o| o.samples.iter().copied())
        .collect();
    let request_errors = all.iter().filter(|x| x.failed).count() as u64;
    let sync_errors: u64 = s.outcomes.iter().map(|o| o.sync_errors).sum();
    let setup_failed = s.outcomes.iter().filter(|o| !o.setup_ok).count();
    let sync_ms: Vec<f64> = all.iter().filter(|x| x.phase > 0).map(|x| x.ms).collect();
    let sorted = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v
    };
    let sync_ms = sorted(sync_ms);
    let mut phase_p99 = serde_json::Map::new();
    let mut phase_p50 = serde_json::Map::new();
    let mut phase_requests = serde_json::Map::new();
    for p in 0..s.phases {
        let v = sorted(all.iter().filter(|x| x.phase == p).map(|x| x.ms).collect());
        phase_p50.insert(phase_name(p), round1(pct(&v, 0.50)).into());
        phase_p99.insert(phase_name(p), round1(pct(&v, 0.99)).into());
        phase_requests.insert(phase_name(p), v.len().into());
    }
    let mut phase_wall = serde_json::Map::new();
    for (p, w) in s.phase_wall.iter().enumerate() {
        phase_wall.insert(phase_name(p), round3(*w).into());
    }
    let errors = request_errors + sync_errors;
    let p99 = pct(&sync_ms, 0.99);
    let first_error = s.outcomes.iter().find_map(|o| o.first_error.clone());

    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        m.insert(k.to_owned(), v);
    };
    put("devices", s.n.into());
    put("team_members", s.members.into());
    put("reviewers", s.reviewers.into());
    put("teams", s.teams_n.into());
    put("sessions_per_device", s.args.sessions_per_device.into());
    put("rounds", s.args.rounds.into());
    put(
        "records",
        s.outcomes.iter().map(|o| o.pushed).sum::<u64>().into(),
    );
    put(
        "records_pulled",
        s.outcomes.iter().map(|o| o.pulled).sum::<u64>().into(),
    );
    put(
        "syncs",
        s.outcomes.iter().map(|o| o.syncs).sum::<u64>().into(),
    );
    put("errors", errors.into());
    put("request_errors", request_errors.into());
    put("sync_errors", sync_errors.into());
    put("devices_failed_setup", setup_failed.into());
    put("requests", sync_ms.len().into());
    put("p50_ms", round1(pct(&sync_ms, 0.50)).into());
    put("p90_ms", round1(pct(&sync_ms, 0.90)).into());
    put("p99_ms", round1(p99).into());
    put(
        "max_ms",
        round1(sync_ms.last().copied().unwrap_or(0.0)).into(),
    );
    put(
        "mean_ms",
        round1(sync_ms.iter().sum::<f64>() / sync_ms.len().max(1) as f64).into(),
    );
    put("phase_requests", phase_requests.into());
    put("phase_p50_ms", phase_p50.into());
    put("phase_p99_ms", phase_p99.into());
    put("phase_wall_s", phase_wall.into());
    put(
        "wall_s",
        round3(s.phase_wall.iter().skip(1).sum::<f64>()).into(),
    );
    put("total_s", round3(s.total_s).into());
    put("server_cpu_s", round3(s.cpu.server_run_s).into());
    put("server_runqueue_wait_s", round3(s.cpu.server_wait_s).into());
    put("devices_cpu_s", round3(s.cpu.client_s).into());
    put("server_peak_rss_mb", round1(s.server_rss).into());
    put("devices_nice", s.devices_nice.into());
    put("server_sessions", s.server_sessions.into());
    put("expected_sessions", s.expected_sessions.into());
    put("server_reviews", s.server_reviews.into());
    put(
        "cores",
        std::thread::available_parallelism()
            .map(|c| c.get())
            .unwrap_or(0)
            .into(),
    );
    put(
        "device_db_tmpfs",
        s.device_dir.starts_with("/dev/shm").into(),
    );
    put(
        "server_db_tmpfs",
        s.args
            .server_dir
            .as_ref()
            .is_some_and(|d| d.starts_with("/dev/shm"))
            .into(),
    );
    put(
        "target_met",
        (s.n >= 200 && errors == 0 && p99 < 250.0).into(),
    );
    put(
        "first_error",
        first_error.map_or(serde_json::Value::Null, Into::into),
    );
    m
}

/// CPU time so far: the server's threads on the CPU and waiting for one (Linux
/// schedstat, summed over the threads alive), and this process's user + system time.
#[derive(Default)]
struct Cpu {
    server_run_s: f64,
    server_wait_s: f64,
    client_s: f64,
}

impl Cpu {
    fn sample(server_pid: u32) -> Cpu {
        let mut c = Cpu::default();
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{server_pid}/task")) {
            for task in tasks.flatten() {
                let Ok(line) = std::fs::read_to_string(task.path().join("schedstat")) else {
                    continue;
                };
                let mut f = line
                    .split_whitespace()
                    .map(|x| x.parse::<f64>().unwrap_or(0.0));
                c.server_run_s += f.next().unwrap_or(0.0) / 1e9;
                c.server_wait_s += f.next().unwrap_or(0.0) / 1e9;
            }
        }
        // utime and stime, fields 14 and 15, in clock ticks (100 per second on Linux);
        // the command name before them may hold spaces, hence the split after ')'.
        if let Ok(stat) = std::fs::read_to_string("/proc/self/stat")
            && let Some((_, rest)) = stat.rsplit_once(')')
        {
            let f: Vec<f64> = rest
                .split_whitespace()
                .map(|x| x.parse().unwrap_or(0.0))
                .collect();
            c.client_s = (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0;
        }
        c
    }

    fn minus(&self, earlier: &Cpu) -> Cpu {
        Cpu {
            server_run_s: self.server_run_s - earlier.server_run_s,
            server_wait_s: self.server_wait_s - earlier.server_wait_s,
            client_s: self.client_s - earlier.client_s,
        }
    }
}

/// Nearest-rank percentile of sorted values; 0 when there are none.
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
