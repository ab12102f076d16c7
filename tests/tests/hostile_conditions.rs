//! Hostile conditions (issue 5): device clocks hours and days off, the device's disk full in
//! the middle of a write, an app upgrade with entries still queued, and a long backlog synced
//! in one go.
//!
//! Clocks are shifted with libfaketime (`faketime`, a Debian package that `.ci/run`
//! installs): the device program (`src/bin/crash_device.rs`) records sessions "now" by its
//! own clock and syncs with that same wrong clock, as a tablet would; the server keeps the
//! true time. A full disk is a file-size limit (`ulimit -f`, with SIGXFSZ ignored so that a
//! write past it fails with `EFBIG` instead of killing the process): no mount needed.
//!
//! The memory of a 100,000-session backlog is measured by the server's `syncbench` example
//! (`cargo run --release -p fieldconsult-server --example syncbench -- --sessions 100000`),
//! not here.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fieldconsult_core::{DatabaseKey, Store, SyncState};
use fieldconsult_e2e::{Device, Faulty, KINDS, Mission, minutes_ago};
use fieldconsult_model::wire::{Ack, AckOutcome, Record};
use fieldconsult_model::{Group, Problem, SessionId, TeamId, VisitId};

/// The key the harness gives every device store (`[7; 32]`), as the program takes it.
const KEY_HEX: &str = "0707070707070707070707070707070707070707070707070707070707070707";

/// What the device program printed, and how it ended.
struct Run {
    lines: Vec<String>,
    stderr: String,
    code: Option<i32>,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            lines: String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code(),
        }
    }

    /// Panics unless the program exited with status 0.
    fn ok(self, what: &str) -> Run {
        assert_eq!(
            self.code,
            Some(0),
            "{what}: crash_device failed: {}\n{}",
            self.stderr,
            self.lines.join("\n")
        );
        self
    }

    /// The words after `prefix` of each line starting with it.
    fn with(&self, prefix: &str) -> Vec<Vec<String>> {
        self.lines
            .iter()
            .filter_map(|l| l.strip_prefix(prefix)?.strip_prefix(' '))
            .map(|rest| rest.split(' ').map(str::to_owned).collect())
            .collect()
    }

    /// `(kind, id) → hash` of every record the program was told was stored: the last
    /// `visit`, `saved` or `submitted` line of each.
    fn written(&self) -> BTreeMap<(String, String), String> {
        let mut out = BTreeMap::new();
        for v in self.with("visit") {
            out.insert(("visit".to_owned(), v[0].clone()), v[1].clone());
        }
        for prefix in ["saved", "submitted"] {
            for s in self.with(prefix) {
                out.insert(("session".to_owned(), s[0].clone()), s[2].clone());
            }
        }
        // `saved` then `submitted` of one session: the submitted version is the later one.
        for s in self.with("submitted") {
            out.insert(("session".to_owned(), s[0].clone()), s[2].clone());
        }
        out
    }

    /// Ids of the sessions written.
    fn session_ids(&self) -> Vec<SessionId> {
        self.written()
            .keys()
            .filter(|(k, _)| k == "session")
            .map(|(_, id)| id.parse().unwrap())
            .collect()
    }

    /// The push acknowledgements `sync-acks` printed.
    fn acks(&self) -> Vec<Ack> {
        self.lines
            .iter()
            .filter_map(|l| l.strip_prefix("ack "))
            .map(|json| serde_json::from_str(json).unwrap())
            .collect()
    }

    /// `[pushed, acknowledged, pulled, pending]` of the `synced` line; panics on a failed
    /// sync.
    fn synced(&self) -> [u64; 4] {
        let s = self.with("synced");
        assert_eq!(
            s.len(),
            1,
            "one completed sync expected: {}",
            self.lines.join("\n")
        );
        [0, 1, 2, 3].map(|i| s[0][i].parse().unwrap())
    }
}

/// The path of `faketime`; panics with what to install when it is missing.
fn faketime() -> &'static str {
    let found = Command::new("faketime")
        .args(["-f", "+0", "true"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "libfaketime is missing: `apt-get install -y faketime` (.ci/run installs it)"
    );
    "faketime"
}

/// Runs the device program `args` (its store first), its clock shifted by `offset`
/// (`"-5h"`, `"+2d"`, ...: libfaketime's relative offsets) when given.
fn device_program(offset: Option<&str>, mode: &str, db: &Path, args: &[&str]) -> Run {
    let bin = env!("CARGO_BIN_EXE_crash_device");
    let mut cmd = match offset {
        Some(offset) => {
            let mut c = Command::new(faketime());
            // Only the wall clock is shifted: timeouts keep measuring real time.
            c.env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
                .args(["-f", offset, bin]);
            c
        }
        None => Command::new(bin),
    };
    cmd.arg(mode)
        .arg("--db")
        .arg(db)
        .args(["--key", KEY_HEX])
        .args(args);
    Run::from(cmd.output().expect("run crash_device"))
}

/// A new team and an enrolled, synced device of it whose store is closed.
fn closed_device(mission: &Mission, label: &str) -> (TeamId, PathBuf) {
    let team = mission.add_team(&format!("Team {label}"), "West");
    let device = mission.team_device(team, label);
    (team, device.path.clone())
}

/// The server's records of `team` (and reference data), by `(kind, id)`.
fn server_scope(mission: &Mission, team: TeamId) -> BTreeMap<(String, String), String> {
    let team = team.to_string();
    mission.server_hashes(KINDS, |owner| owner.is_none_or(|o| o == team))
}

/// Device and server agree on everything in the team's scope.
fn assert_converged(mission: &Mission, team: TeamId, device: &Device, what: &str) {
    assert_eq!(
        device.hashes(),
        server_scope(mission, team),
        "{what}: device and server disagree"
    );
}

/// `PRAGMA integrity_check` on a device store, through a connection of its own, keyed.
fn device_integrity(path: &Path) -> String {
    let conn = keyed(path);
    let mut stmt = conn.prepare("PRAGMA integrity_check").unwrap();
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.join("\n")
}

fn keyed(path: &Path) -> rusqlite::Connection {
    fieldconsult_core::store::wait_for_sqlcipher();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{KEY_HEX}'\";"))
        .unwrap();
    conn
}

// ---------------------------------------------------------------------------------------
// Clocks

/// A clock hours behind is harmless: what it records is in the past, which is allowed;
/// everything syncs and device and server agree.
#[test]
fn clock_hours_behind_syncs_everything() {
    let mission = Mission::start();
    let (team, path) = closed_device(&mission, "behind");
    let behind = Some("-5h");
    let recorded = device_program(behind, "record", &path, &["--max", "4", "--submit", "1"])
        .ok("record at -5h");
    let written = recorded.written();
    assert_eq!(written.len(), 5, "one visit and four sessions recorded");

    let sync =
        device_program(behind, "sync-acks", &path, &["--server", mission.url()]).ok("sync at -5h");
    let [pushed, acknowledged, _, pending] = sync.synced();
    assert_eq!(
        (pushed, acknowledged, pending),
        (5, 5, 0),
        "all pushed and stored"
    );
    for ack in sync.acks() {
        assert!(
            matches!(ack.outcome, AckOutcome::Stored),
            "{} {} not stored: {:?}",
            ack.kind,
            ack.id,
            ack.outcome
        );
    }

    let device = Device::reopen(path);
    let on_server = server_scope(&mission, team);
    for (key, hash) in &written {
        assert_eq!(on_server.get(key), Some(hash), "{key:?} as written");
    }
    // The session really was recorded five hours in the past.
    let id = recorded.session_ids()[0];
    let started = device.session(&id).session.started_at;
    let lag = minutes_ago(90).signed_duration_since(started).num_minutes();
    assert!(
        (295..=305).contains(&lag),
        "started {lag} min before the true time"
    );
    assert_converged(&mission, team, &device, "clock 5 h behind");
}

/// A clock hours ahead: the device accepts its own "now", the server refuses the sessions
/// as `validation` naming `started_at` as `in_future`; the device keeps them in sync state
/// `error` (`clock_ahead`) and sends them again at each sync, the server holds nothing of
/// them; once the team corrects the times and saves, they sync.
#[test]
fn clock_hours_ahead_is_refused_kept_and_syncs_once_corrected() {
    let mission = Mission::start();
    let team = mission.add_team("Team ahead", "West");
    // The visit was opened while the clock was right, and synced; then the clock jumped.
    let device = mission.team_device(team, "ahead");
    let visit = device.visit();
    device.sync_with(&mission.transport()).unwrap();
    let path = device.path.clone();
    drop(device);

    let ahead = Some("+3h");
    let visit_id = visit.id.to_string();
    let recorded = device_program(
        ahead,
        "record",
        &path,
        &["--max", "3", "--visit", &visit_id],
    )
    .ok("record at +3h");
    let ids = recorded.session_ids();
    assert_eq!(ids.len(), 3);

    let sync =
        device_program(ahead, "sync-acks", &path, &["--server", mission.url()]).ok("sync at +3h");
    let [pushed, acknowledged, _, _] = sync.synced();
    assert_eq!((pushed, acknowledged), (3, 0), "pushed, none stored");
    let acks = sync.acks();
    assert_eq!(acks.len(), 3, "one ack per session");
    for ack in &acks {
        assert_eq!(ack.kind, "session");
        let AckOutcome::Rejected { reason, problems } = &ack.outcome else {
            panic!("session {} not refused: {:?}", ack.id, ack.outcome);
        };
        assert_eq!(reason, "validation");
        assert!(
            problems
                .iter()
                .any(|p| p.field == "started_at" && p.problem == Problem::InFuture),
            "started_at in_future expected: {problems:?}"
        );
        assert!(ack.hash.is_empty(), "the server holds no version of it");
    }

    // Nothing lost on the device, nothing half-stored on the server.
    let server_ids: BTreeSet<String> = mission.server_session_ids().into_iter().collect();
    let device = Device::reopen(path);
    for id in &ids {
        assert!(
            !server_ids.contains(&id.to_string()),
            "{id} reached the server"
        );
        let rec = device.session(id);
        assert_eq!(rec.sync_state, SyncState::Error, "{id}");
        assert_eq!(rec.sync_error.as_deref(), Some("clock_ahead"), "{id}");
        let hash = Record::Session(Box::new(rec.session)).hash();
        assert_eq!(
            recorded.written()[&("session".to_owned(), id.to_string())],
            hash
        );
    }
    // Sent again at each sync (they go through once the server's time passes them, even
    // submitted ones, which the team cannot edit); refused again while still ahead.
    let again = device.sync_with(&mission.transport()).unwrap();
    assert_eq!((again.pushed, again.rejected), (3, 3), "resent while ahead");

    // The clock is set right; the team corrects the times of the sessions and saves them.
    for id in &ids {
        let mut s = device.session(id).session;
        s.started_at = minutes_ago(90);
        s.ended_at = Some(minutes_ago(30));
        device.store.save_session(&device.actor, &s).unwrap();
        device.store.submit_session(&device.actor, id).unwrap();
    }
    let report = device.sync_with(&mission.transport()).unwrap();
    assert_eq!((report.acknowledged, report.rejected), (3, 0));
    for id in &ids {
        assert_eq!(device.session(id).sync_state, SyncState::Synced, "{id}");
    }
    assert_converged(&mission, team, &device, "clock 3 h ahead, corrected");
}

/// A clock days ahead, the visit recorded under it too: the visit is refused as
/// `validation` (`started_at` `in_future`), its sessions cannot be stored without it; all
/// stay on the device, and sync once the team corrects the times.
#[test]
fn clock_days_ahead_visit_and_sessions_are_kept_until_corrected() {
    let mission = Mission::start();
    let (team, path) = closed_device(&mission, "days-ahead");
    let ahead = Some("+2d");
    let recorded = device_program(ahead, "record", &path, &["--max", "2"]).ok("record at +2d");
    let visit_id: VisitId = recorded.with("visit")[0][0].parse().unwrap();
    let ids = recorded.session_ids();

    let sync =
        device_program(ahead, "sync-acks", &path, &["--server", mission.url()]).ok("sync at +2d");
    let acks: BTreeMap<(String, String), AckOutcome> = sync
        .acks()
        .into_iter()
        .map(|a| ((a.kind, a.id), a.outcome))
        .collect();
    let visit_ack = &acks[&("visit".to_owned(), visit_id.to_string())];
    assert!(
        matches!(visit_ack, AckOutcome::Rejected { reason, problems }
            if reason == "validation"
                && problems.iter().any(|p| p.field == "started_at" && p.problem == Problem::InFuture)),
        "visit: {visit_ack:?}"
    );
    for id in &ids {
        let ack = &acks[&("session".to_owned(), id.to_string())];
        assert!(
            matches!(ack, AckOutcome::Rejected { .. }),
            "session {id}: {ack:?}"
        );
    }
    assert!(mission.server_session_ids().is_empty());
    assert!(
        !server_scope(&mission, team).contains_key(&("visit".to_owned(), visit_id.to_string()))
    );

    let device = Device::reopen(path);
    let visit = device.store.visit(&visit_id).unwrap();
    for id in &ids {
        let rec = device.session(id);
        assert_eq!(rec.sync_state, SyncState::Error, "{id}");
        assert!(rec.sync_error.is_some());
    }
    // Corrected: the visit's and the sessions' times, saved again.
    let mut visit = visit;
    visit.started_at = minutes_ago(120);
    device.store.save_visit(&device.actor, &visit).unwrap();
    for id in &ids {
        let mut s = device.session(id).session;
        s.started_at = minutes_ago(90);
        s.ended_at = Some(minutes_ago(30));
        device.store.save_session(&device.actor, &s).unwrap();
    }
    let report = device.sync_with(&mission.transport()).unwrap();
    assert_eq!((report.acknowledged, report.rejected), (3, 0));
    assert_converged(&mission, team, &device, "clock 2 days ahead, corrected");
}

/// Two devices of one team, their clocks 5 hours apart: each receives the other's records,
/// whatever their times say; pull follows the server's change log, not device clocks.
#[test]
fn devices_five_hours_apart_converge() {
    let mission = Mission::start();
    let team = mission.add_team("Team apart", "West");
    let early = mission.team_device(team, "early").path.clone();
    let late = mission.team_device(team, "late").path.clone();
    let server = ["--server", mission.url()];
    // The right clock records and syncs first; the slow one records later in true time, yet
    // its sessions carry times 5 h older than what the other device has already pulled.
    let late_run = device_program(None, "record", &late, &["--max", "2", "--submit", "1"])
        .ok("record, true clock");
    device_program(None, "sync-acks", &late, &server).ok("sync, true clock");
    let early_run = device_program(
        Some("-5h"),
        "record",
        &early,
        &["--max", "2", "--submit", "1"],
    )
    .ok("record at -5h");
    let e = device_program(Some("-5h"), "sync-acks", &early, &server).ok("sync at -5h");
    assert_eq!(e.synced()[3], 0, "the slow device sent everything");
    let l = device_program(None, "sync-acks", &late, &server).ok("sync again, true clock");
    assert!(
        l.synced()[2] >= 3,
        "the other device's visit and sessions pulled"
    );

    let all: BTreeSet<String> = early_run
        .session_ids()
        .into_iter()
        .chain(late_run.session_ids())
        .map(|id| id.to_string())
        .collect();
    assert_eq!(all.len(), 4);
    for path in [early, late] {
        let device = Device::reopen(path);
        assert_eq!(device.session_ids(), all, "{}", device.path.display());
        assert_converged(&mission, team, &device, "devices 5 h apart");
    }
}

// ---------------------------------------------------------------------------------------
// Disk full

/// Runs `fill` on the store at `path` through `bash -c script` (the script ends by running
/// the program: `"$0" fill --db "$1" --key ...`) and checks what every full disk must give:
/// the program reports a failed write and exits normally, the store passes
/// `PRAGMA integrity_check`, every write it returned is there with its hash and nothing of
/// the failed one is. Returns the run and the `Debug` form of the error.
fn fill_until_full(script: &str, path: &Path) -> (Run, String) {
    let script = format!("{script}; exec \"$0\" fill --db \"$1\" --key {KEY_HEX}");
    let out = Command::new("bash")
        .args(["-c", &script, env!("CARGO_BIN_EXE_crash_device")])
        .arg(path)
        .output()
        .unwrap();
    let run = Run::from(out);
    assert_eq!(
        run.code,
        Some(2),
        "the program reports the failed write and exits (not a panic, not a signal): {}\n{}",
        run.stderr,
        run.lines.join("\n")
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let error = run.with("error");
    assert_eq!(error.len(), 1, "{}", run.lines.join("\n"));
    let submitted = run.with("submitted").len();
    assert!(
        submitted >= 3,
        "the limit left room for a few writes: {submitted}"
    );
    let debug = error[0][1..].join(" ");
    let message = run.with("message")[0].join(" ");
    eprintln!(
        "full after {submitted} sessions, in {}: {debug} ({message})",
        error[0][0]
    );

    assert_eq!(device_integrity(path), "ok");
    let store = Store::open(path, &DatabaseKey::from_bytes(&[7; 32]).unwrap()).unwrap();
    drop(store);
    let device = Device::reopen(path.to_owned());
    let on_device = device.hashes();
    for (key, hash) in &run.written() {
        assert_eq!(on_device.get(key), Some(hash), "{key:?} returned as saved");
    }
    // Nothing of the failed write is half there: every session on the device was printed.
    let printed: BTreeSet<String> = run.session_ids().iter().map(ToString::to_string).collect();
    assert_eq!(
        device.session_ids(),
        printed,
        "no trace of the failed write"
    );
    (run, debug)
}

/// Space again: a write and a sync work, and device and server agree.
fn write_and_sync_after(mission: &Mission, team: TeamId, path: PathBuf) {
    let device = Device::reopen(path);
    device.submitted_session(Group::Women, false);
    let report = device.sync_with(&mission.transport()).unwrap();
    assert_eq!(device.store.pending_count().unwrap(), 0, "{report:?}");
    assert_converged(mission, team, &device, "after the disk was full");
}

/// The device's files may not grow past a limit (`ulimit -f`, SIGXFSZ ignored): the write
/// that crosses it fails and the program exits normally; the store opens again, intact, with
/// every write it returned; later writes and a sync work.
///
/// SQLite's Unix VFS reports a write refused with `EFBIG` as `SQLITE_IOERR_WRITE`, not
/// `SQLITE_FULL` (only `ENOSPC` or a short write is "full"), so the core's error here is
/// `Storage(.. SystemIoFailure, extended_code: 778 ..)` ("storage error: disk I/O error"),
/// not `DiskFull`: typed and clean, but not the message a full disk gives. A file that
/// cannot grow (a 4 GiB FAT32 limit, a quota) looks the same to the app.
#[test]
fn file_size_limit_during_a_write_keeps_everything_committed() {
    let mission = Mission::start();
    let (team, path) = closed_device(&mission, "limit");
    let size = std::fs::metadata(&path).unwrap().len();
    // Room for a few writes beyond the file as it is (each is some 100 KB of WAL).
    let limit_kb = size / 1024 + 1024;
    let (_, debug) = fill_until_full(&format!("trap '' XFSZ; ulimit -f {limit_kb}"), &path);
    assert!(
        debug == "DiskFull"
            || debug.starts_with("Storage(SqliteFailure(Error { code: SystemIoFailure"),
        "a typed storage error: {debug}"
    );
    write_and_sync_after(&mission, team, path);
}

/// A filesystem that really fills (a 2 MiB tmpfs): `ENOSPC`, which the core reports as
/// `Error::DiskFull`. Mounting needs root with `CAP_SYS_ADMIN`; without it the test says so
/// and passes (the file-size limit test above runs everywhere).
#[test]
fn full_filesystem_during_a_write_is_disk_full() {
    let mission = Mission::start();
    let (team, path) = closed_device(&mission, "tmpfs");
    let mount = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(mount.path())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mount.path().to_owned());
    let small = mount.path().join("tablet.db");
    std::fs::copy(&path, &small).unwrap();
    let (_, debug) = fill_until_full("true", &small);
    assert_eq!(debug, "DiskFull");
    // Space freed: the filesystem grows.
    let grown = Command::new("mount")
        .args(["-o", "remount,size=16m"])
        .arg(mount.path())
        .status()
        .unwrap();
    assert!(grown.success());
    write_and_sync_after(&mission, team, small);
}

// ---------------------------------------------------------------------------------------
// App upgrade with a queued outbox

/// An app upgrade while entries wait to be pushed: the store of an older schema opens with
/// the current app, migrates, and everything queued arrives on the server exactly once.
///
/// How the older store is built: the current app records the sessions, then the store is
/// rolled back to the older schema by dropping what the later migrations added and setting
/// `user_version`. That is exact, not an imitation: migrations 2–6 only add tables and an
/// index (`sync_state`, `sync_meta`, `sync_parked`, `conflicts`, `sealing_keys`,
/// `sealing_identity`, `consent_withdrawals`, `sessions_sent`,
/// `sessions_by_team_status`)
/// and never change the rows of the tables they find, so an older app writing the same
/// sessions leaves the same rows in `visits`, `sessions`, `outbox` and `history`. The rows
/// dropped with those tables are sync bookkeeping an older app did not have: from version 3
/// on, the enrolment; the pending sync states are rebuilt from the outbox by migration 3.
/// Migration 5 adds the device's signing key and pinned root key to `sync_meta` (dropped
/// here as columns): an enrolment made before pushes were signed cannot push, so the
/// upgraded app enrols again.
#[test]
fn app_upgrade_mid_outbox_loses_nothing() {
    for version in [3u32, 2] {
        let mission = Mission::start();
        let team = mission.add_team(&format!("Team v{version}"), "West");
        let device = mission.team_device(team, &format!("v{version}"));
        let mut ids: Vec<String> = device.submitted_sessions(5);
        let mut urgent = device.submitted_session(Group::Women, true);
        ids.push(urgent.id.to_string());
        let visit = device.visit();
        let mut draft = fieldconsult_e2e::complete_session(&visit, Group::Men);
        draft = device.store.save_session(&device.actor, &draft).unwrap();
        ids.push(draft.id.to_string());
        let before = device.hashes();
        let queued = device.store.pending_count().unwrap();
        assert_eq!(queued, 7 + 7, "seven visits and seven sessions queued");
        let path = device.path.clone();
        drop(device);

        {
            let conn = keyed(&path);
            let mut rollback = String::from(
                "DROP TABLE sessions_sent; DROP TABLE consent_withdrawals;
                 DROP TABLE sealing_identity; DROP TABLE sealing_keys; DROP TABLE conflicts;",
            );
            if version < 3 {
                rollback.push_str(
                    "DROP TABLE sync_parked; DROP TABLE sync_meta; DROP TABLE sync_state;",
                );
            } else {
                rollback.push_str(
                    "ALTER TABLE sync_meta DROP COLUMN signing_seed;
                     ALTER TABLE sync_meta DROP COLUMN root_key;
                     ALTER TABLE sync_meta DROP COLUMN bundle_sequence;",
                );
            }
            rollback.push_str(&format!("PRAGMA user_version = {version};"));
            conn.execute_batch(&rollback).unwrap();
            let v: u32 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(v, version);
        }

        // The new app opens it; before version 3 the device had no enrolment: enrol now.
        let store = Store::open(&path, &DatabaseKey::from_bytes(&[7; 32]).unwrap()).unwrap();
        assert_eq!(
            store.pending_count().unwrap(),
            queued,
            "v{version}: outbox kept"
        );
        if version < 3 {
            assert!(store.enrolment().unwrap().is_none());
        } else {
            // Enrolled, but without a key: the server would refuse every change.
            assert!(store.enrolment().unwrap().is_some());
            assert!(matches!(
                store.sync(&mission.transport(), &fieldconsult_core::NoProgress),
                Err(fieldconsult_core::Error::NotEnrolled)
            ));
            assert_eq!(store.pending_count().unwrap(), queued, "v{version}");
        }
        store
            .enrol(
                &mission.transport(),
                &mission.team_code(team),
                "upgraded",
                None,
            )
            .unwrap();
        drop(store);
        let device = Device::reopen(path);
        let recorder = Faulty::recording(mission.transport());
        let report = device.sync_with(&recorder).unwrap();
        assert_eq!(report.acknowledged, queued as u64, "v{version}: {report:?}");
        assert_eq!(device.store.pending_count().unwrap(), 0);

        // Every queued record pushed exactly once, and nothing else.
        let mut pushed: BTreeMap<(String, String), usize> = BTreeMap::new();
        for sent in recorder.pushes() {
            for r in sent.records {
                *pushed.entry((r.kind().to_owned(), r.id())).or_default() += 1;
            }
        }
        assert_eq!(pushed.len(), queued as usize, "v{version}");
        assert!(pushed.values().all(|&n| n == 1), "v{version}: {pushed:?}");
        let on_server: BTreeSet<String> = mission.server_session_ids().into_iter().collect();
        assert_eq!(on_server, ids.iter().cloned().collect(), "v{version}");
        // Unchanged by the upgrade, and the same on the server.
        assert_eq!(
            device.hashes(),
            before,
            "v{version}: device content changed"
        );
        assert_converged(&mission, team, &device, &format!("upgrade from v{version}"));
        urgent = device.session(&urgent.id).session;
        assert!(urgent.has_urgent_concern());
    }
}

// ---------------------------------------------------------------------------------------
// A long backlog

/// Peak resident memory (kB) of the device program syncing `n` queued sessions of one
/// visit, and how many it pushed.
fn backlog_sync_hwm(mission: &Mission, label: &str, n: usize) -> (u64, u64) {
    let (_, path) = closed_device(mission, label);
    let max = n.to_string();
    device_program(None, "record", &path, &["--max", &max, "--submit", "1"]).ok("record");
    let run = device_program(None, "sync-acks", &path, &["--server", mission.url()]).ok("sync");
    let [pushed, _, _, pending] = run.synced();
    assert_eq!(pending, 0);
    (run.with("hwm")[0][0].parse().unwrap(), pushed)
}

/// A backlog synced in one go: the device's peak memory does not follow its size. The
/// device program syncs 1,000 and 3,000 queued sessions (with their visits: 3 and 7 full
/// push batches); the larger one may not take more than a few MB more at its peak. The
/// 100,000-session figure is `syncbench`'s (release profile).
#[test]
fn backlog_sync_memory_stays_flat() {
    let mission = Mission::start();
    let [(small, small_pushed), (large, large_pushed)] = std::thread::scope(|scope| {
        let mission = &mission;
        [("backlog-1k", 1000), ("backlog-3k", 3000)]
            .map(|(label, n)| scope.spawn(move || backlog_sync_hwm(mission, label, n)))
            .map(|h| h.join().unwrap())
    });
    assert_eq!((small_pushed, large_pushed), (1001, 3001));
    eprintln!("peak RSS: 1,000 queued {small} kB, 3,000 queued {large} kB");
    assert!(
        large <= small + 6 * 1024,
        "memory grows with the backlog: {small} kB for 1,000, {large} kB for 3,000"
    );
    assert!(large < 64 * 1024, "{large} kB");
}
