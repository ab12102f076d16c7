//! Store benchmark: prints one JSON line with the figures of DESIGN.md's "Targets".
//!
//! ```text
//! cargo run --release -p fieldconsult-core --example storebench [-- --sessions N --samples N --load-dir DIR]
//! ```
//!
//! What is measured, and against what target:
//!
//! - `save_p50_us`, `save_p99_us`: [`Store::save_session`] of a new draft (6 checklist answers,
//!   5 priorities, 2 concerns) through the public API, each in its own durable transaction
//!   (WAL, `synchronous=FULL`, as the store sets them), on a store in the system temp dir.
//! - `raw_insert_p50_us`, `raw_insert_p99_us`: the same rows written by bare rusqlite in the
//!   same run — the `sessions` row (same columns, a JSON body of the same size), the `outbox`
//!   row and the `history` row, one transaction per save — into a separate SQLCipher file
//!   with the same schema and pragmas (raw 32-byte key, `journal_mode=WAL`,
//!   `synchronous=FULL`, `foreign_keys=ON`, `secure_delete=ON`, `temp_store=MEMORY`). Saves
//!   and raw inserts alternate in blocks of 105 so that machine noise hits both; the first 5
//!   of each block warm the cache and are not recorded. Each block opens its own connection
//!   and closes it, so that only one is open at a time: the bundled SQLite is built with
//!   `SQLITE_ENABLE_MEMORY_MANAGEMENT`, under which all connections of a process share one
//!   page cache, and with both open the store's pages were evicted on every save (saves 1.5×
//!   the raw inserts instead of 1.1×).
//!   Target: `save_vs_raw_p50` ≤ 2, and `save_p99_us` < 10,000.
//! - `list_first_page_ms`: the first page (50) of `list_sessions` filtered by team and status,
//!   over a store of `sessions` (default 100,000) sessions; median of 21 calls on an open
//!   store (`list_first_page_cold_ms`: the first call after opening). Target: < 10 ms.
//!   `list_unfiltered_first_page_ms`: the same without a filter; `list_team_first_page_ms`:
//!   filtered by team only.
//! - `open_ms`: [`Store::open`] of that store (key check, pragmas, migration check); median
//!   of 7 opens. Target: < 50 ms. The file was just written, so it sits in the page cache.
//! - `panic_wipe_ms`: [`Store::panic_wipe`] of that store, `panic_wipe_mb` with its WAL
//!   (zeros written over every byte, flushed, files deleted). Target: < 2 s for 100 MB.
//!
//! The large store is built through the public API as well (a visit per 3 sessions; saves,
//! submits, reviews), each write durable, so building 100,000 sessions takes about 2.5
//! minutes on the 2-core machine of the README; `load_s` reports it. `--load-dir /dev/shm`
//! builds it on a tmpfs instead, where fsync is nearly free, and copies it to the temp dir
//! (after a checkpoint and close) for the open and list measurements.
//! Progress goes to stderr; stdout carries the JSON line only.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration as Elapsed, Instant};

use chrono::{DateTime, Duration, FixedOffset, Utc};
use fieldconsult_core::{DatabaseKey, SessionFilter, Store};
use fieldconsult_model::*;
use rusqlite::{Connection, OpenFlags, TransactionBehavior, named_params};

type Res<T> = Result<T, Box<dyn Error>>;

const BLOCK: usize = 105;
const WARM: usize = 5;
const TEAMS: usize = 10;
const COMMUNITIES: usize = 100;
const PAGE: u32 = 50;

fn main() -> Res<()> {
    let args = Args::parse()?;
    let dir = tempfile::tempdir()?;
    let mut raw_key = zeroize::Zeroizing::new([0u8; 32]);
    raw_key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    raw_key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let key = DatabaseKey::from_bytes(&raw_key[..])?;
    let world = World::new(args.sessions)?;

    // 1. Saves through the store against bare inserts of the same rows.
    let (store_path, raw_path) = (dir.path().join("store.db"), dir.path().join("raw.db"));
    let store = Store::open(&store_path, &key)?;
    world.load(&store)?;
    let visit = world.visit(0, world.start);
    store.save_visit(&world.members[0], &visit)?;
    drop(store);
    Raw::create(&raw_path, &raw_key[..], &world, &visit)?;
    let started = world.start + Duration::minutes(1);
    let body_bytes = serde_json::to_string(&world.session(visit.id, 0, 6, started))?.len();
    let (mut save, mut insert) = (Vec::new(), Vec::new());
    let blocks = args.samples.div_ceil(BLOCK - WARM);
    for block in 0..blocks {
        for order in [block % 2, 1 - block % 2] {
            // One connection open at a time: see the top comment.
            let (store, mut raw) = if order == 0 {
                (Some(Store::open(&store_path, &key)?), None)
            } else {
                (None, Some(Raw::open(&raw_path, &raw_key[..])?))
            };
            for i in 0..BLOCK {
                let s = world.session(visit.id, i, 6, started);
                let took = match (&store, &mut raw) {
                    (Some(store), _) => {
                        let t = Instant::now();
                        store.save_session(&world.members[0], &s)?;
                        t.elapsed()
                    }
                    (None, Some(raw)) => raw.insert(&s, &world)?,
                    (None, None) => return Err("no connection".into()),
                };
                let samples = if order == 0 { &mut save } else { &mut insert };
                if i >= WARM {
                    samples.push(micros(took));
                }
            }
        }
        eprint!("\rsave vs raw: {}/{blocks} blocks", block + 1);
    }
    eprintln!();

    // 2. A store of `sessions` sessions: open and list.
    let big = dir.path().join("big.db");
    let t = Instant::now();
    let load_dir = match &args.load_dir {
        None => {
            world.build(&big, &key, args.sessions)?;
            dir.path().to_path_buf()
        }
        Some(load_dir) => {
            let build = tempfile::tempdir_in(load_dir)?;
            world.build(&build.path().join("big.db"), &key, args.sessions)?;
            std::fs::copy(build.path().join("big.db"), &big)?;
            load_dir.clone()
        }
    };
    let load_s = t.elapsed().as_secs_f64();
    let db_bytes = std::fs::metadata(&big)?.len();

    let mut opens = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let s = Store::open(&big, &key)?;
        opens.push(millis(t.elapsed()));
        drop(s);
    }
    let store = Store::open(&big, &key)?;
    let filter = SessionFilter {
        team_id: Some(world.teams[0].id),
        status: Some(Status::Submitted),
        ..SessionFilter::default()
    };
    let t = Instant::now();
    let page = store.list_sessions(&filter, PAGE, None)?;
    let cold = millis(t.elapsed());
    if page.items.len() != PAGE as usize || page.next.is_none() {
        return Err(format!("expected a full first page, got {}", page.items.len()).into());
    }
    let list = |filter: &SessionFilter| -> Res<f64> {
        let mut runs = Vec::new();
        for _ in 0..21 {
            let t = Instant::now();
            let page = store.list_sessions(filter, PAGE, None)?;
            runs.push(millis(t.elapsed()));
            std::hint::black_box(page);
        }
        Ok(percentile(&mut runs, 50.0))
    };
    let filtered = list(&filter)?;
    let unfiltered = list(&SessionFilter::default())?;
    let team_only = list(&SessionFilter {
        status: None,
        ..filter.clone()
    })?;

    // 3. The panic button on that store: overwrite with zeros, flush, delete.
    let wiped_bytes: u64 = Store::files(&big)
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let t = Instant::now();
    store.panic_wipe()?;
    let panic_wipe_ms = millis(t.elapsed());

    let (save_p50, raw_p50) = (percentile(&mut save, 50.0), percentile(&mut insert, 50.0));
    let line = serde_json::json!({
        "save_p50_us": round(save_p50, 1),
        "save_p99_us": round(percentile(&mut save, 99.0), 1),
        "raw_insert_p50_us": round(raw_p50, 1),
        "raw_insert_p99_us": round(percentile(&mut insert, 99.0), 1),
        "save_vs_raw_p50": round(save_p50 / raw_p50, 2),
        "save_mean_us": round(mean(&save), 1),
        "raw_insert_mean_us": round(mean(&insert), 1),
        "samples": save.len(),
        "body_bytes": body_bytes,
        "list_first_page_ms": round(filtered, 3),
        "list_first_page_cold_ms": round(cold, 3),
        "list_unfiltered_first_page_ms": round(unfiltered, 3),
        "list_team_first_page_ms": round(team_only, 3),
        "open_ms": round(percentile(&mut opens, 50.0), 3),
        "panic_wipe_ms": round(panic_wipe_ms, 1),
        "panic_wipe_mb": round(wiped_bytes as f64 / 1e6, 1),
        "sessions": args.sessions,
        "db_mb": round(db_bytes as f64 / 1e6, 1),
        "load_s": round(load_s, 1),
        "load_dir": load_dir.display().to_string(),
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
    });
    println!("{line}");
    Ok(())
}

struct Args {
    sessions: usize,
    samples: usize,
    load_dir: Option<PathBuf>,
}

impl Args {
    fn parse() -> Res<Self> {
        let mut args = Args {
            sessions: 100_000,
            samples: 2_000,
            load_dir: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--sessions" => args.sessions = value.parse()?,
                "--samples" => args.samples = value.parse()?,
                "--load-dir" => args.load_dir = Some(value.into()),
                _ => return Err(format!("unknown flag {flag}").into()),
            }
        }
        if args.sessions < 3_000 {
            return Err("--sessions must be at least 3000 (a full filtered page)".into());
        }
        Ok(args)
    }
}

/// Reference data and the people of the benchmark.
struct World {
    teams: Vec<Team>,
    communities: Vec<Community>,
    members: Vec<Actor>,
    checklist: ChecklistTemplate,
    start: DateTime<FixedOffset>,
}

impl World {
    fn new(sessions: usize) -> Res<Self> {
        let teams: Vec<Team> = (0..TEAMS)
            .map(|i| Team {
                id: TeamId::new(),
                name: format!("Engagement Team {i}"),
                sector: format!("Sector {}", i % 3),
            })
            .collect();
        let communities = (0..COMMUNITIES)
            .map(|i| Community {
                id: CommunityId::new(),
                name: format!("Community {i}"),
                admin_area: "County".into(),
                location: None,
            })
            .collect();
        let members = teams
            .iter()
            .map(|t| Actor {
                id: format!("device-{}", t.id),
                role: Role::TeamMember { team_id: t.id },
            })
            .collect();
        let local = FixedOffset::east_opt(3 * 3600).ok_or("offset")?;
        // One session every 5 minutes up to a day ago: 100,000 sessions span a year.
        let span = Duration::minutes(5 * sessions as i64) + Duration::days(1);
        let start = (Utc::now() - span).with_timezone(&local);
        Ok(World {
            teams,
            communities,
            members,
            checklist: ChecklistTemplate::default_v1(),
            start,
        })
    }

    fn load(&self, store: &Store) -> Res<()> {
        store.upsert_teams(&self.teams)?;
        store.upsert_communities(&self.communities)?;
        store.publish_checklist(&self.checklist)?;
        Ok(())
    }

    fn visit(&self, n: usize, started_at: DateTime<FixedOffset>) -> Visit {
        Visit {
            id: VisitId::new(),
            team_id: self.teams[n % TEAMS].id,
            community_id: self.communities[n % COMMUNITIES].id,
            started_at,
            ended_at: None,
            notes: "Routine patrol visit; market day.".into(),
        }
    }

    /// The `i`th session of a visit (women, men, mixed in turn) answering `answers` topics.
    fn session(
        &self,
        visit: VisitId,
        i: usize,
        answers: usize,
        started: DateTime<FixedOffset>,
    ) -> Session {
        let group = [Group::Women, Group::Men, Group::Mixed][i % 3];
        let mut s = Session::new_draft(visit, group, started);
        s.ended_at = Some(started + Duration::minutes(50));
        s.consent.verbal_informed = true;
        let counts = AgeCounts {
            age_12_17: 2,
            age_18_29: 5,
            age_30_59: 8,
            age_60_plus: 3,
            unknown: 1,
        };
        match group {
            Group::Women => s.participants.female = counts,
            Group::Men => s.participants.male = counts,
            Group::Mixed => (s.participants.female, s.participants.male) = (counts, counts),
        }
        s.facilitators = Facilitators { female: 1, male: 1 };
        s.interpreter = Interpreter {
            sex: InterpreterSex::Female,
            language: "Juba Arabic".into(),
        };
        s.answers = self
            .checklist
            .topics
            .iter()
            .take(answers)
            .map(|t| ChecklistAnswer {
                topic: t.code.clone(),
                response: TopicResponse::Discussed,
                note: "Discussed at length; the group agreed on the main points.".into(),
            })
            .collect();
        s.priorities = (1u8..)
            .zip(&PriorityCategory::ALL[..5])
            .map(|(rank, c)| Priority {
                rank,
                category: *c,
                other_label: String::new(),
                note: "Raised by several participants.".into(),
            })
            .collect();
        s.concerns = [
            (ConcernCategory::ArmedGroupPresence, Urgency::Priority),
            (ConcernCategory::MovementRestriction, Urgency::Routine),
        ]
        .into_iter()
        .map(|(category, urgency)| Concern {
            category,
            affected: [AffectedGroup::Women, AffectedGroup::Girls].into(),
            location: "road to the market".into(),
            timing: "at night".into(),
            urgency,
            note: "Reported by more than one participant.".into(),
        })
        .collect();
        s
    }

    /// Builds a store of `n` sessions at `path`: one visit per 3 sessions; of the visits, 1 in
    /// 10 left as drafts, 5 in 10 submitted, 4 in 10 accepted.
    fn build(&self, path: &Path, key: &DatabaseKey, n: usize) -> Res<()> {
        let store = Store::open(path, key)?;
        self.load(&store)?;
        let reviewers: Vec<Actor> = (0..3)
            .map(|i| Actor {
                id: format!("gfp-{i}"),
                role: Role::Reviewer {
                    sector: format!("Sector {i}"),
                },
            })
            .collect();
        let t = Instant::now();
        let mut visit = self.visit(0, self.start);
        for i in 0..n {
            let v = i / 3;
            let member = &self.members[v % TEAMS];
            let started = self.start + Duration::minutes(5 * i as i64);
            if i % 3 == 0 {
                visit = store.save_visit(member, &self.visit(v, started))?;
            }
            let s = store.save_session(
                member,
                &self.session(visit.id, i, self.checklist.topics.len(), started),
            )?;
            let fate = v / TEAMS % 10; // independent of the team
            if fate != 0 {
                store.submit_session(member, &s.id)?;
            }
            if fate >= 6 {
                let reviewer = &reviewers[v % TEAMS % 3];
                store.record_review(reviewer, &s.id, Decision::Accepted, "")?;
            }
            if (i + 1) % 10_000 == 0 || i + 1 == n {
                eprint!(
                    "\rbuilding: {}/{n} sessions, {:.0} s",
                    i + 1,
                    t.elapsed().as_secs_f64()
                );
            }
        }
        eprintln!();
        store.checkpoint()?;
        Ok(())
    }
}

/// A bare SQLCipher connection with the store's schema and pragmas, writing the rows a save
/// writes.
struct Raw {
    conn: Connection,
}

impl Raw {
    /// Keys the connection, proves the key by a read, and sets the store's pragmas.
    fn open(path: &Path, key: &[u8]) -> Res<Self> {
        fieldconsult_core::store::wait_for_sqlcipher();
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        conn.execute_batch(&format!(
            "PRAGMA cipher_log_level = NONE; PRAGMA key = \"x'{hex}'\";"
        ))?;
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
             PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY;",
        )?;
        Ok(Raw { conn })
    }

    /// Creates the database with the store's schema, the reference rows and one visit.
    fn create(path: &Path, key: &[u8], world: &World, v: &Visit) -> Res<()> {
        let mut raw = Raw::open(path, key)?;
        fieldconsult_core::store::schema::migrations().to_latest(&mut raw.conn)?;
        for t in &world.teams {
            raw.conn.execute(
                "INSERT INTO teams (id, name, sector) VALUES (?1, ?2, ?3)",
                (t.id.to_string(), &t.name, &t.sector),
            )?;
        }
        for c in &world.communities {
            raw.conn.execute(
                "INSERT INTO communities (id, name, admin_area) VALUES (?1, ?2, ?3)",
                (c.id.to_string(), &c.name, &c.admin_area),
            )?;
        }
        raw.conn.execute(
            "INSERT INTO visits (id, team_id, community_id, started_ms, body, revision)
             VALUES (?1, ?2, ?3, ?4, ?5, 1)",
            (
                v.id.to_string(),
                v.team_id.to_string(),
                v.community_id.to_string(),
                v.started_at.timestamp_millis(),
                serde_json::to_string(v)?,
            ),
        )?;
        Ok(())
    }

    /// Writes the session, outbox and history rows of a new session in one transaction; the
    /// JSON is prepared beforehand, so only the database work is timed.
    fn insert(&mut self, s: &Session, world: &World) -> Res<Elapsed> {
        let id = s.id.to_string();
        let value = serde_json::to_value(s)?;
        let body = serde_json::to_string(&value)?;
        let fields: Vec<&String> = value
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        let fields = serde_json::to_string(&fields)?;
        let (team, community) = (
            world.teams[0].id.to_string(),
            world.communities[0].id.to_string(),
        );
        let actor = &world.members[0].id;
        let t = Instant::now();
        let now = Utc::now().timestamp_millis();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached(
            "INSERT INTO sessions (id, visit_id, team_id, community_id, grp, status, started_ms,
                 started_offset_s, participants, has_urgent, revision, updated_ms, status_changed_ms,
                 body)
             VALUES (:id, :visit, :team, :community, :grp, :status, :started, :offset,
                 :participants, :urgent, :revision, :now, :now, :body)",
        )?
        .execute(named_params! {
            ":id": id, ":visit": s.visit_id.to_string(), ":team": team, ":community": community,
            ":grp": s.group.code(), ":status": s.status.code(), ":started": s.started_at.timestamp_millis(),
            ":offset": s.started_at.offset().local_minus_utc(), ":participants": s.participants.total() as i64,
            ":urgent": s.has_urgent_concern(), ":revision": 1, ":now": now, ":body": body,
        })?;
        tx.prepare_cached(
            "INSERT INTO outbox (entity, entity_id, urgent, changes)
             VALUES (:entity, :id, :urgent, 1)
             ON CONFLICT (entity, entity_id) DO UPDATE
             SET changes = changes + 1, urgent = max(urgent, excluded.urgent)",
        )?
        .execute(
            named_params! {":entity": "session", ":id": id, ":urgent": s.has_urgent_concern()},
        )?;
        tx.prepare_cached(
            "INSERT INTO history
                (at_ms, actor, entity, entity_id, action, revision, from_status, to_status, fields)
             VALUES (:at, :actor, :entity, :id, :action, :revision, :from, :to, :fields)",
        )?
        .execute(named_params! {
            ":at": now, ":actor": actor, ":entity": "session", ":id": id, ":action": "create",
            ":revision": 1, ":from": None::<String>, ":to": None::<String>, ":fields": fields,
        })?;
        tx.commit()?;
        Ok(t.elapsed())
    }
}

fn micros(d: Elapsed) -> f64 {
    d.as_secs_f64() * 1e6
}

fn millis(d: Elapsed) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Nearest-rank percentile.
fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples
        .get(rank.saturating_sub(1))
        .copied()
        .unwrap_or(f64::NAN)
}

fn mean(samples: &[f64]) -> f64 {
    samples.iter().sum::<f64>() / samples.len() as f64
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}
