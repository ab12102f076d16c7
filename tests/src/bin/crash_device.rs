//! A device process for the crash tests (`tests/tests/crash.rs`), killed with SIGKILL at
//! random points. It uses the store's public API only, as an app would.
//!
//! ```text
//! crash_device write --db PATH --key HEX --seed N [--max N]
//! crash_device sync  --db PATH --key HEX --server URL [--max N]
//! crash_device record --db PATH --key HEX --max N [--visit ID] [--submit 1]
//! crash_device sync-acks --db PATH --key HEX --server URL
//! crash_device fill  --db PATH --key HEX [--max N]
//! ```
//!
//! The store must exist and be enrolled (the test enrols it through the harness).
//!
//! `write` saves, edits and submits sessions of the device's team in a seeded random order.
//! Before each write it prints `begin <session-id>`; once the store has returned (the write
//! is acknowledged to the caller) it prints `saved <session-id> <revision> <content-hash>`
//! (a draft saved) or `submitted <session-id> <revision> <content-hash>`. `sync` syncs in a
//! loop and prints `synced <pushed> <acknowledged> <pulled> <pending-after>` per completed
//! sync, or `sync-error <error>` per failed one. Each line is one `write(2)` and flushed
//! before the next call into the store, so what the test reads is exactly what the
//! program was told before it died.
//!
//! The modes of the hostile-conditions tests (`tests/tests/hostile_conditions.rs`) read the
//! time from the process's own clock, which a test may shift with libfaketime:
//! `record` records `--max` complete sessions "now" by that clock (started 90 minutes ago,
//! ended 30 minutes ago, as an app fills them in), in `--visit` or else in one new visit
//! started 2 hours ago (printed `visit <visit-id> <content-hash>`), as drafts or, with
//! `--submit 1`, submitted; it prints `saved|submitted <session-id> <revision> <content-hash>`
//! per session. `sync-acks` syncs once and prints every push acknowledgement the server gave
//! (`ack <json>`), then `synced ...` or `sync-error ...` as `sync` does, then
//! `hwm <kB>`: the process's peak resident memory. `fill` records
//! submitted sessions, each in a new visit, until a write fails (or `--max`), printing
//! `visit`, `saved` and `submitted` lines as each write returns, then
//! `error <what> <Debug of the error>` and `message <Display of the error>`, and exits with
//! status 2: for a disk that fills up, a failed write is an answer, not a crash.
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use fieldconsult_core::sync::compress::decode;
use fieldconsult_core::{
    DatabaseKey, HttpRequest, HttpResponse, HttpsTransport, NoProgress, Store, Transport,
    TransportError,
};
use fieldconsult_e2e::{complete_session, make_urgent, minutes_ago};
use fieldconsult_model::wire::{PushResponse, Record};
use fieldconsult_model::{Actor, Group, Session, TeamId, Visit, VisitId};

type Fallible<T> = Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crash_device: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Parsed command line.
struct Options {
    mode: String,
    db: String,
    key: DatabaseKey,
    seed: u64,
    server: Option<String>,
    max: u64,
    visit: Option<String>,
    submit: bool,
}

fn parse(args: &[String]) -> Fallible<Options> {
    let mode = args
        .first()
        .ok_or("usage: crash_device (write|sync) --db PATH --key HEX ...")?
        .clone();
    let mut flags = BTreeMap::new();
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        flags.insert(flag.as_str(), value.clone());
    }
    let db = flags.get("--db").ok_or("--db is required")?.clone();
    let key = decode_key(flags.get("--key").ok_or("--key is required")?)?;
    let seed = match flags.get("--seed") {
        Some(s) => s.parse().map_err(|e| format!("--seed: {e}"))?,
        None => 0,
    };
    let max = match flags.get("--max") {
        Some(s) => s.parse().map_err(|e| format!("--max: {e}"))?,
        None => u64::MAX,
    };
    Ok(Options {
        mode,
        db,
        key,
        seed,
        server: flags.get("--server").cloned(),
        max,
        visit: flags.get("--visit").cloned(),
        submit: flags.get("--submit").is_some_and(|v| v == "1"),
    })
}

fn decode_key(hex: &str) -> Fallible<DatabaseKey> {
    if hex.len() != 2 * DatabaseKey::LEN || !hex.is_ascii() {
        return Err(format!(
            "--key: {} hex digits expected",
            2 * DatabaseKey::LEN
        ));
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|e| format!("--key: {e}"))?;
    DatabaseKey::from_bytes(&bytes).map_err(|e| format!("--key: {e}"))
}

fn run(args: &[String]) -> Fallible<()> {
    let options = parse(args)?;
    let store = Store::open(&options.db, &options.key).map_err(|e| format!("open: {e}"))?;
    match options.mode.as_str() {
        "write" => write(&store, &options),
        "sync" => sync(&store, &options),
        "record" => record(&store, &options),
        "sync-acks" => sync_acks(&store, &options),
        "fill" => {
            let who = team_actor(&store)?;
            if let Some((what, e)) = fill(&store, &options, who)? {
                say(format!("error {what} {e:?}"))?;
                say(format!("message {e}"))?;
                drop(store);
                std::process::exit(2);
            }
            Ok(())
        }
        other => Err(format!("unknown mode {other:?}")),
    }
}

/// Prints one line in one `write(2)` and flushes it.
fn say(line: String) -> Fallible<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(format!("{line}\n").as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("stdout: {e}"))
}

/// SplitMix64: small, seeded, good enough to pick actions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn hash(session: &Session) -> String {
    Record::Session(Box::new(session.clone())).hash()
}

fn write(store: &Store, options: &Options) -> Fallible<()> {
    let (actor, team_id, community_id) = team_actor(store)?;
    const GROUPS: [Group; 3] = [Group::Women, Group::Men, Group::Mixed];
    let mut rng = Rng(options.seed);
    // Drafts still open for edits, with their revisions.
    let mut drafts: Vec<(Session, i64)> = Vec::new();
    for n in 0..options.max {
        let pick = rng.below(10);
        if drafts.is_empty() || pick < 4 {
            // A new session in a new visit.
            let visit = Visit {
                id: VisitId::new(),
                team_id,
                community_id,
                started_at: minutes_ago(120),
                ended_at: None,
                notes: format!("visit {n}"),
            };
            let visit = store
                .save_visit(&actor, &visit)
                .map_err(|e| format!("save_visit: {e}"))?;
            let mut s = complete_session(&visit, GROUPS[rng.below(3) as usize]);
            if rng.below(5) == 0 {
                make_urgent(&mut s);
            }
            say(format!("begin {}", s.id))?;
            let s = store
                .save_session(&actor, &s)
                .map_err(|e| format!("save_session: {e}"))?;
            say(format!("saved {} 1 {}", s.id, hash(&s)))?;
            drafts.push((s, 1));
        } else if pick < 7 {
            // An edit of an open draft.
            let i = rng.below(drafts.len() as u64) as usize;
            let (mut s, revision) = drafts[i].clone();
            if let Some(p) = s.priorities.first_mut() {
                p.note = format!("edit {n}");
            }
            say(format!("begin {}", s.id))?;
            let s = store
                .save_session(&actor, &s)
                .map_err(|e| format!("save_session (edit): {e}"))?;
            say(format!("saved {} {} {}", s.id, revision + 1, hash(&s)))?;
            drafts[i] = (s, revision + 1);
        } else {
            // A draft submitted.
            let i = rng.below(drafts.len() as u64) as usize;
            let (s, revision) = drafts.swap_remove(i);
            say(format!("begin {}", s.id))?;
            let s = store
                .submit_session(&actor, &s.id)
                .map_err(|e| format!("submit_session: {e}"))?;
            say(format!("submitted {} {} {}", s.id, revision + 1, hash(&s)))?;
        }
    }
    Ok(())
}

fn sync(store: &Store, options: &Options) -> Fallible<()> {
    let url = options.server.as_deref().ok_or("--server is required")?;
    let transport = HttpsTransport::new(url).map_err(|e| format!("transport: {e}"))?;
    for _ in 0..options.max {
        match store.sync(&transport, &NoProgress) {
            Ok(r) => {
                let pending = store
                    .pending_count()
                    .map_err(|e| format!("pending_count: {e}"))?;
                say(format!(
                    "synced {} {} {} {pending}",
                    r.pushed, r.acknowledged, r.pulled
                ))?;
            }
            Err(e) => say(format!("sync-error {e}"))?,
        }
    }
    Ok(())
}

/// The enrolled team member, its team and the first community.
fn team_actor(store: &Store) -> Fallible<(Actor, TeamId, fieldconsult_model::CommunityId)> {
    let enrolment = store
        .enrolment()
        .map_err(|e| format!("enrolment: {e}"))?
        .ok_or("the store is not enrolled")?;
    let actor = Actor {
        id: enrolment.device_id,
        role: enrolment.role,
    };
    let team_id = match &actor.role {
        fieldconsult_model::Role::TeamMember { team_id } => *team_id,
        fieldconsult_model::Role::Reviewer { .. }
        | fieldconsult_model::Role::HqAnalyst
        | fieldconsult_model::Role::Admin => return Err("not a team device".into()),
    };
    let community_id = store
        .communities()
        .map_err(|e| format!("communities: {e}"))?
        .first()
        .ok_or("no community: sync the store once first")?
        .id;
    Ok((actor, team_id, community_id))
}

fn new_visit(
    store: &Store,
    actor: &Actor,
    team_id: TeamId,
    community_id: fieldconsult_model::CommunityId,
) -> Result<Visit, fieldconsult_core::Error> {
    let visit = Visit {
        id: VisitId::new(),
        team_id,
        community_id,
        started_at: minutes_ago(120),
        ended_at: None,
        notes: String::new(),
    };
    store.save_visit(actor, &visit)
}

fn record(store: &Store, options: &Options) -> Fallible<()> {
    const GROUPS: [Group; 3] = [Group::Women, Group::Men, Group::Mixed];
    let (actor, team_id, community_id) = team_actor(store)?;
    let visit = match &options.visit {
        Some(id) => {
            let id: VisitId = id.parse().map_err(|e| format!("--visit: {e:?}"))?;
            store.visit(&id).map_err(|e| format!("visit: {e}"))?
        }
        None => {
            let v = new_visit(store, &actor, team_id, community_id)
                .map_err(|e| format!("save_visit: {e}"))?;
            say(format!(
                "visit {} {}",
                v.id,
                Record::Visit(v.clone()).hash()
            ))?;
            v
        }
    };
    for n in 0..options.max {
        let s = complete_session(&visit, GROUPS[(n % 3) as usize]);
        let s = store
            .save_session(&actor, &s)
            .map_err(|e| format!("save_session: {e}"))?;
        if options.submit {
            let s = store
                .submit_session(&actor, &s.id)
                .map_err(|e| format!("submit_session: {e}"))?;
            say(format!("submitted {} 2 {}", s.id, hash(&s)))?;
        } else {
            say(format!("saved {} 1 {}", s.id, hash(&s)))?;
        }
    }
    Ok(())
}

/// A transport that prints every push acknowledgement it passes back.
struct AckPrinter(HttpsTransport);

impl Transport for AckPrinter {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let push = request.path == "/v1/push";
        let answer = self.0.send(request)?;
        if push && answer.status == 200 {
            let body =
                decode(answer.header("content-encoding"), answer.body.clone()).map_err(|e| {
                    TransportError::Network {
                        reason: format!("decode: {e}"),
                    }
                })?;
            if let Ok(acks) = serde_json::from_slice::<PushResponse>(&body) {
                for ack in acks.acks {
                    let json = serde_json::to_string(&ack).unwrap_or_default();
                    say(format!("ack {json}"))
                        .map_err(|reason| TransportError::Network { reason })?;
                }
            }
        }
        Ok(answer)
    }

    fn endpoint(&self) -> Option<String> {
        self.0.endpoint()
    }
}

fn sync_acks(store: &Store, options: &Options) -> Fallible<()> {
    let url = options.server.as_deref().ok_or("--server is required")?;
    let transport = AckPrinter(HttpsTransport::new(url).map_err(|e| format!("transport: {e}"))?);
    match store.sync(&transport, &NoProgress) {
        Ok(r) => {
            let pending = store
                .pending_count()
                .map_err(|e| format!("pending_count: {e}"))?;
            say(format!(
                "synced {} {} {} {pending}",
                r.pushed, r.acknowledged, r.pulled
            ))?;
        }
        Err(e) => say(format!("sync-error {e}"))?,
    }
    // Peak resident memory of the whole run, for the backlog test.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(hwm) = status.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
        say(format!("hwm {}", hwm.trim().trim_end_matches(" kB")))?;
    }
    Ok(())
}

/// Records submitted sessions until a write fails; the failed step and its error.
fn fill(
    store: &Store,
    options: &Options,
    (actor, team_id, community_id): (Actor, TeamId, fieldconsult_model::CommunityId),
) -> Fallible<Option<(&'static str, fieldconsult_core::Error)>> {
    const GROUPS: [Group; 3] = [Group::Women, Group::Men, Group::Mixed];
    for n in 0..options.max {
        let visit = match new_visit(store, &actor, team_id, community_id) {
            Ok(v) => v,
            Err(e) => return Ok(Some(("save_visit", e))),
        };
        say(format!(
            "visit {} {}",
            visit.id,
            Record::Visit(visit.clone()).hash()
        ))?;
        let mut s = complete_session(&visit, GROUPS[(n % 3) as usize]);
        // Long notes: the files grow quickly.
        for answer in &mut s.answers {
            answer.note = format!("discussed at length, session {n}: {}", "x".repeat(400));
        }
        let s = match store.save_session(&actor, &s) {
            Ok(s) => s,
            Err(e) => return Ok(Some(("save_session", e))),
        };
        say(format!("saved {} 1 {}", s.id, hash(&s)))?;
        let s = match store.submit_session(&actor, &s.id) {
            Ok(s) => s,
            Err(e) => return Ok(Some(("submit_session", e))),
        };
        say(format!("submitted {} 2 {}", s.id, hash(&s)))?;
    }
    Ok(None)
}
