//! Crashes with real processes (issue 5): a device process killed with SIGKILL at seeded
//! random points while it writes and while it syncs, and the server killed during a push
//! batch. After each crash: nothing acknowledged is lost, nothing is duplicated, the
//! database passes `PRAGMA integrity_check`, and sync completes with device and server in
//! agreement.
//!
//! `FIELDCONSULT_CRASH_RUNS=N` sets the seeded runs per scenario (default 4, for CI; the
//! full suite runs 100). Every assertion message names its seed; `FIELDCONSULT_CRASH_SEED=S`
//! replays that one seed in every scenario.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use fieldconsult_core::{Entity, HttpsTransport, SyncState};
use fieldconsult_e2e::{Device, KINDS, Mission};
use fieldconsult_model::wire::Record;
use fieldconsult_model::{SessionId, TeamId, VisitId};
use fieldconsult_server::storage::Storage;

/// The key the harness gives every device store (`[7; 32]`), as the program takes it.
const KEY_HEX: &str = "0707070707070707070707070707070707070707070707070707070707070707";
const DEFAULT_RUNS: u64 = 4;
/// Sessions waiting when the device process is killed during sync.
const SYNC_BACKLOG: usize = 200;
/// Sessions waiting when the server is killed: with their visits, several push batches.
const PUSH_BACKLOG: usize = 600;
/// Syncs tried after a crash before a test gives up.
const MAX_ATTEMPTS: usize = 10;

/// The seeds of a scenario: `FIELDCONSULT_CRASH_SEED` alone, or `FIELDCONSULT_CRASH_RUNS`
/// (default [`DEFAULT_RUNS`]) seeds of the scenario's own range.
fn seeds(scenario: u64) -> Vec<u64> {
    if let Ok(seed) = std::env::var("FIELDCONSULT_CRASH_SEED") {
        return vec![
            seed.trim()
                .parse()
                .expect("FIELDCONSULT_CRASH_SEED: a number"),
        ];
    }
    let runs = std::env::var("FIELDCONSULT_CRASH_RUNS")
        .map(|n| n.trim().parse().expect("FIELDCONSULT_CRASH_RUNS: a number"))
        .unwrap_or(DEFAULT_RUNS);
    (0..runs).map(|i| scenario * 1_000_000 + i).collect()
}

/// SplitMix64, as the device program uses.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Not the program's stream: the kill time must not follow its choice of writes.
        Rng(seed ^ 0x5eed_c4a5_11ed_0000)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` milliseconds.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo).max(1))
    }
}

/// The device program, running, its standard output collected line by line.
struct Program {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    first_line: mpsc::Receiver<()>,
    reader: JoinHandle<()>,
}

impl Program {
    fn start(args: &[&str]) -> Program {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash_device"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start crash_device");
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, first_line) = mpsc::channel();
        let collected = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                collected.lock().unwrap().push(line);
                let _ = tx.send(());
            }
        });
        Program {
            child,
            lines,
            first_line,
            reader,
        }
    }

    /// Waits for the first line (the program is under way), or panics after a while.
    fn wait_first_line(&self, seed: u64) {
        self.first_line
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("seed {seed}: crash_device printed nothing"));
    }

    /// SIGKILL; returns every complete line it printed, and whether it was still running
    /// (false: it had already exited, which the caller may or may not accept).
    fn kill(mut self) -> (Vec<String>, bool) {
        let running = self.child.try_wait().unwrap().is_none();
        // `Child::kill` sends SIGKILL on Unix.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.reader.join().unwrap();
        let lines = std::mem::take(&mut *self.lines.lock().unwrap());
        (lines, running)
    }
}

/// `PRAGMA integrity_check` on a device store, through a connection of its own, keyed.
fn device_integrity(path: &Path) -> String {
    fieldconsult_core::store::wait_for_sqlcipher();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{KEY_HEX}'\";"))
        .unwrap();
    integrity(&conn)
}

/// `PRAGMA integrity_check` on the server's plain SQLite database.
fn server_integrity(path: &Path) -> String {
    integrity(&rusqlite::Connection::open(path).unwrap())
}

fn integrity(conn: &rusqlite::Connection) -> String {
    let mut stmt = conn.prepare("PRAGMA integrity_check").unwrap();
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.join("\n")
}

/// A new team and an enrolled device of it whose store is closed (the program opens it);
/// the device's label is unique per seed.
fn closed_device(mission: &Mission, seed: u64, backlog: usize) -> (TeamId, PathBuf, Vec<String>) {
    let team = mission.add_team(&format!("Team {seed}"), "West");
    let device = mission.team_device(team, &format!("tablet-{seed}"));
    let ids = device.submitted_sessions(backlog);
    (team, device.path.clone(), ids)
}

/// [`closed_device`] for a few seeds at once: a backlog costs an fsync per write, and
/// devices of separate files wait for theirs side by side.
fn closed_devices(
    mission: &Mission,
    seeds: &[u64],
    backlog: usize,
) -> Vec<(u64, TeamId, PathBuf, Vec<String>)> {
    std::thread::scope(|scope| {
        let made: Vec<_> = seeds
            .iter()
            .map(|&seed| {
                scope.spawn(move || {
                    let (team, path, ids) = closed_device(mission, seed, backlog);
                    (seed, team, path, ids)
                })
            })
            .collect();
        made.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn session_hash(device: &Device, id: &str) -> String {
    let rec = device.store.get_session(&id.parse().unwrap()).unwrap();
    Record::Session(Box::new(rec.session)).hash()
}

/// Syncs until one succeeds; panics after [`MAX_ATTEMPTS`].
fn sync_until_done(device: &Device, transport: &HttpsTransport, seed: u64) {
    let mut errors = Vec::new();
    for _ in 0..MAX_ATTEMPTS {
        match device.sync_with(transport) {
            Ok(report) => {
                assert_eq!(
                    report.conflicts + report.rejected,
                    0,
                    "seed {seed}: {report:?}"
                );
                return;
            }
            Err(e) => errors.push(e),
        }
    }
    panic!("seed {seed}: no sync succeeded in {MAX_ATTEMPTS} attempts: {errors:?}");
}

/// At any moment, also right after a crash: a session the device marks synced is on the
/// server as the device holds it; every other one still waits in the outbox.
fn assert_synced_means_stored(mission: &Mission, device: &Device, seed: u64) {
    let server: BTreeMap<String, String> = mission
        .storage()
        .records_of_kind("session")
        .unwrap()
        .into_iter()
        .map(|r| (r.record.id(), r.hash))
        .collect();
    let pending: BTreeSet<String> = device
        .store
        .pending_changes(u32::MAX)
        .unwrap()
        .into_iter()
        .filter(|e| e.entity == Entity::Session)
        .map(|e| e.id)
        .collect();
    for s in device.summaries() {
        let id = s.id.to_string();
        match s.sync_state {
            SyncState::Synced => assert_eq!(
                server.get(&id),
                Some(&session_hash(device, &id)),
                "seed {seed}: session {id} is marked synced but the server does not hold it"
            ),
            // `sent`: pushed, the acknowledgement not received (the crash came first).
            SyncState::Pending | SyncState::Sent => assert!(
                pending.contains(&id),
                "seed {seed}: session {id} is {:?} but left the outbox",
                s.sync_state
            ),
            other => panic!("seed {seed}: session {id} is {other:?}"),
        }
    }
}

/// After a completed sync: the outbox is empty, every session of `ids` (and no other of the
/// team) is on the server exactly once and was applied once, device and server agree record
/// for record (`extra` adds records the device holds that [`Device::hashes`] does not list:
/// visits without a session), and both databases pass `integrity_check`.
fn assert_converged(
    mission: &Mission,
    device: &Device,
    team: TeamId,
    ids: &BTreeSet<String>,
    extra: &BTreeMap<(String, String), String>,
    seed: u64,
) {
    assert_eq!(
        device.store.pending_count().unwrap(),
        0,
        "seed {seed}: outbox not empty"
    );
    for s in device.summaries() {
        assert_eq!(
            s.sync_state,
            SyncState::Synced,
            "seed {seed}: session {}",
            s.id
        );
        assert!(!s.sync_pending, "seed {seed}: session {}", s.id);
    }
    assert_eq!(
        &device.session_ids(),
        ids,
        "seed {seed}: sessions on the device"
    );

    let on_server = mission.server_session_ids();
    let mut count: BTreeMap<&String, usize> = BTreeMap::new();
    for id in &on_server {
        *count.entry(id).or_default() += 1;
    }
    let storage = mission.storage();
    for id in ids {
        assert_eq!(
            count.get(id).copied().unwrap_or(0),
            1,
            "seed {seed}: session {id} on the server"
        );
        assert!(
            storage.history("session", id).unwrap().is_empty(),
            "seed {seed}: session {id} was applied more than once"
        );
    }
    let team = team.to_string();
    let in_scope = mission.server_hashes(KINDS, |owner| owner.is_none_or(|o| o == team));
    let team_sessions = in_scope.keys().filter(|(k, _)| k == "session").count();
    assert_eq!(
        team_sessions,
        ids.len(),
        "seed {seed}: team sessions on the server"
    );
    let mut on_device = device.hashes();
    on_device.extend(extra.clone());
    assert_eq!(
        on_device, in_scope,
        "seed {seed}: device and server disagree"
    );

    assert_eq!(device_integrity(&device.path), "ok", "seed {seed}: device");
    assert_eq!(
        server_integrity(mission.db_path()),
        "ok",
        "seed {seed}: server"
    );
}

/// What the write program said, parsed.
#[derive(Default)]
struct Said {
    /// Session id → (revision, content hash) of its last acknowledged write.
    acked: BTreeMap<String, (i64, String)>,
    /// Sessions in the order they were created.
    created: Vec<String>,
    /// The session of a write begun and not acknowledged (killed during it).
    in_flight: Option<String>,
    writes: usize,
}

fn parse_writes(lines: &[String], seed: u64) -> Said {
    let mut said = Said::default();
    for line in lines {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["begin", id] => said.in_flight = Some((*id).to_owned()),
            [kind @ ("saved" | "submitted"), id, revision, hash] => {
                let revision: i64 = revision.parse().unwrap();
                assert_eq!(said.in_flight.as_deref(), Some(*id), "seed {seed}: {line}");
                said.in_flight = None;
                if *kind == "saved" && revision == 1 {
                    assert!(
                        !said.acked.contains_key(*id),
                        "seed {seed}: session {id} created twice"
                    );
                    said.created.push((*id).to_owned());
                }
                said.acked
                    .insert((*id).to_owned(), (revision, (*hash).to_owned()));
                said.writes += 1;
            }
            _ => panic!("seed {seed}: unexpected line from crash_device: {line:?}"),
        }
    }
    said
}

/// The device process killed at a random point while it saves, edits and submits sessions.
#[test]
fn device_killed_during_writes_loses_nothing_acknowledged() {
    let mission = Mission::start();
    let mut stats = (0usize, 0usize);
    for seed in seeds(1) {
        let mut rng = Rng::new(seed);
        let (team, path, _) = closed_device(&mission, seed, 0);
        let seed_arg = seed.to_string();
        let program = Program::start(&[
            "write",
            "--db",
            path.to_str().unwrap(),
            "--key",
            KEY_HEX,
            "--seed",
            &seed_arg,
        ]);
        program.wait_first_line(seed);
        std::thread::sleep(rng.millis(5, 150));
        let (lines, running) = program.kill();
        assert!(
            running,
            "seed {seed}: crash_device exited before it was killed"
        );
        let said = parse_writes(&lines, seed);
        stats.0 += said.writes;
        stats.1 += usize::from(said.in_flight.is_some());

        // The database as the crash left it.
        assert_eq!(
            device_integrity(&path),
            "ok",
            "seed {seed}: after the crash"
        );
        let device = Device::reopen(path);

        // Nothing acknowledged lost, nothing duplicated.
        let summaries = device.summaries();
        let stored: BTreeSet<String> = summaries.iter().map(|s| s.id.to_string()).collect();
        assert_eq!(
            stored.len(),
            summaries.len(),
            "seed {seed}: a session listed twice"
        );
        for (id, (revision, hash)) in &said.acked {
            assert!(
                stored.contains(id),
                "seed {seed}: acknowledged session {id} lost"
            );
            let rec = device
                .store
                .get_session(&id.parse::<SessionId>().unwrap())
                .unwrap();
            if rec.revision == *revision {
                assert_eq!(
                    &Record::Session(Box::new(rec.session)).hash(),
                    hash,
                    "seed {seed}: session {id} is not what was acknowledged"
                );
            } else {
                // Only the write under way when the process died may have landed since.
                assert!(
                    said.in_flight.as_ref() == Some(id) && rec.revision == revision + 1,
                    "seed {seed}: session {id} at revision {} after revision {revision} was \
                     acknowledged",
                    rec.revision
                );
            }
        }
        for id in stored.difference(&said.acked.keys().cloned().collect()) {
            assert_eq!(
                said.in_flight.as_ref(),
                Some(id),
                "seed {seed}: session {id} stored but never begun"
            );
        }

        // The outbox holds every session, and the visits of them (plus at most one visit
        // whose session was not saved yet).
        let pending = device.store.pending_changes(u32::MAX).unwrap();
        assert_eq!(
            device.store.pending_count().unwrap() as usize,
            pending.len(),
            "seed {seed}: pending_count"
        );
        let of = |entity: Entity| -> BTreeSet<String> {
            pending
                .iter()
                .filter(|e| e.entity == entity)
                .map(|e| e.id.clone())
                .collect()
        };
        assert_eq!(
            of(Entity::Session),
            stored,
            "seed {seed}: sessions in the outbox"
        );
        for s in &summaries {
            assert_eq!(
                s.sync_state,
                SyncState::Pending,
                "seed {seed}: session {}",
                s.id
            );
        }
        let visits: BTreeSet<String> = stored
            .iter()
            .map(|id| {
                let rec = device.store.get_session(&id.parse().unwrap()).unwrap();
                rec.session.visit_id.to_string()
            })
            .collect();
        let queued_visits = of(Entity::Visit);
        assert!(
            queued_visits.is_superset(&visits),
            "seed {seed}: a visit missing from the outbox"
        );
        let orphans: Vec<&String> = queued_visits.difference(&visits).collect();
        assert!(
            orphans.len() <= 1,
            "seed {seed}: visits without sessions: {orphans:?}"
        );
        let extra: BTreeMap<(String, String), String> = orphans
            .into_iter()
            .map(|id| {
                let visit = device.store.visit(&id.parse::<VisitId>().unwrap()).unwrap();
                let record = Record::Visit(visit);
                (("visit".to_owned(), id.clone()), record.hash())
            })
            .collect();

        // Sync completes and the server agrees.
        sync_until_done(&device, &mission.transport(), seed);
        assert_converged(&mission, &device, team, &stored, &extra, seed);
    }
    eprintln!(
        "writes: {} acknowledged writes, {} kills during a write",
        stats.0, stats.1
    );
}

/// The device process killed at a random point while it pushes a backlog (once or twice in a
/// row), then the app syncs again.
#[test]
fn device_killed_during_sync_resumes_exactly_once() {
    let mission = Mission::start();
    let mut mid_sync = 0;
    for (seed, team, path, ids) in seeds(2)
        .chunks(4)
        .flat_map(|chunk| closed_devices(&mission, chunk, SYNC_BACKLOG))
    {
        let mut rng = Rng::new(seed);
        let crashes = 1 + rng.next() % 2;
        for _ in 0..crashes {
            let program = Program::start(&[
                "sync",
                "--db",
                path.to_str().unwrap(),
                "--key",
                KEY_HEX,
                "--server",
                mission.url(),
            ]);
            std::thread::sleep(rng.millis(20, 700));
            let (lines, running) = program.kill();
            assert!(
                running,
                "seed {seed}: crash_device exited before it was killed"
            );
            assert_eq!(
                device_integrity(&path),
                "ok",
                "seed {seed}: after the crash"
            );
            let device = Device::reopen(path.clone());
            let pending = device.store.pending_count().unwrap();
            // A sync the program saw complete left nothing behind.
            if lines.iter().any(|l| l.starts_with("synced ")) {
                assert_eq!(pending, 0, "seed {seed}: {lines:?}");
            } else if pending > 0 {
                mid_sync += 1;
            }
            for line in &lines {
                assert!(line.starts_with("synced "), "seed {seed}: {line}");
            }
            assert_synced_means_stored(&mission, &device, seed);
        }
        let device = Device::reopen(path);
        sync_until_done(&device, &mission.transport(), seed);
        let ids: BTreeSet<String> = ids.into_iter().collect();
        assert_converged(&mission, &device, team, &ids, &BTreeMap::new(), seed);
    }
    eprintln!("sync: {mid_sync} kills with the outbox not yet empty");
}

/// The server killed (SIGKILL) while a device pushes a backlog of several batches; it is
/// restarted on the same database and the device syncs again.
#[test]
fn server_killed_during_push_batch_loses_nothing() {
    let mut mission = Mission::start();
    let mut stats = PushStats::default();
    for chunk in seeds(3).chunks(4) {
        for (seed, team, path, ids) in closed_devices(&mission, chunk, PUSH_BACKLOG) {
            crash_server_during_push(&mut mission, seed, team, path, ids, &mut stats);
        }
    }
    eprintln!(
        "server: {} kills during a sync, {} with some batches acknowledged",
        stats.mid_sync, stats.between_batches
    );
}

#[derive(Default)]
struct PushStats {
    /// Kills that made the device's sync fail.
    mid_sync: usize,
    /// Of those, kills after some batches were acknowledged.
    between_batches: usize,
}

fn crash_server_during_push(
    mission: &mut Mission,
    seed: u64,
    team: TeamId,
    path: PathBuf,
    ids: Vec<String>,
    stats: &mut PushStats,
) {
    let mut rng = Rng::new(seed);
    let device = Device::reopen(path);
    let transport = HttpsTransport::with_timeouts(
        mission.url(),
        Duration::from_secs(1),
        Duration::from_secs(10),
    )
    .unwrap();
    // A push of the backlog takes about a second on loopback in the debug profile, in three
    // batches: kills land in each of them and after.
    let delay = rng.millis(100, 1200);
    let outcome = std::thread::scope(|scope| {
        let push = scope.spawn(|| device.sync_with(&transport));
        std::thread::sleep(delay);
        mission.kill_server();
        push.join().unwrap()
    });
    if let Err(e) = outcome {
        assert!(
            matches!(e, fieldconsult_core::Error::Transport(_)),
            "seed {seed}: the server's death surfaced as {e:?}"
        );
        stats.mid_sync += 1;
        let synced = device
            .summaries()
            .iter()
            .filter(|s| s.sync_state == SyncState::Synced)
            .count();
        if synced > 0 {
            stats.between_batches += 1;
        }
    }

    // The server as the crash left it, before it serves again.
    assert_eq!(
        server_integrity(mission.db_path()),
        "ok",
        "seed {seed}: server after the crash"
    );
    assert_synced_means_stored(mission, &device, seed);

    mission.restart_server();
    sync_until_done(&device, &mission.transport(), seed);
    let ids: BTreeSet<String> = ids.into_iter().collect();
    assert_converged(mission, &device, team, &ids, &BTreeMap::new(), seed);
}
