//! A device process for the crash tests (`tests/tests/crash.rs`), killed with SIGKILL at
//! random points. It uses the store's public API only, as an app would.
//!
//! ```text
//! crash_device write --db PATH --key HEX --seed N [--max N]
//! crash_device sync  --db PATH --key HEX --server URL [--max N]
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
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use fieldconsult_core::{DatabaseKey, HttpsTransport, NoProgress, Store};
use fieldconsult_e2e::{complete_session, make_urgent, minutes_ago};
use fieldconsult_model::wire::Record;
use fieldconsult_model::{Actor, Group, Session, Visit, VisitId};

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
        fieldconsult_model::Role::Reviewer { .. } => return Err("a reviewer device".into()),
    };
    let community_id = store
        .communities()
        .map_err(|e| format!("communities: {e}"))?
        .first()
        .ok_or("no community: sync the store once first")?
        .id;
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
