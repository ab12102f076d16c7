//! Sync guarantees 1–3 of DESIGN.md "Sync" (nothing lost, exactly-once effect, convergence)
//! with a fault-injecting TCP proxy between the device's real HTTP client and the real
//! server: connections cut either way, answers cut short, requests delayed, duplicated or
//! left hanging until the client times out, and a seeded random mix of all of these.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use fieldconsult_core::{Error, HttpsTransport, SyncReport, SyncState};
use fieldconsult_e2e::proxy::{Fault, Plan, Proxy};
use fieldconsult_e2e::{Device, KINDS, Mission};
use fieldconsult_server::storage::Storage;

/// Far above what a request takes on loopback, short enough that stalls keep tests quick.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Syncs tried before a test gives up: every plan here lets one through well before.
const MAX_ATTEMPTS: usize = 30;
const PUSH: &str = "/v1/push";
const PULL: &str = "/v1/pull";

/// A mission with one team device holding `sessions` submitted sessions, none synced yet.
fn backlog(sessions: usize) -> (Mission, Device, Vec<String>) {
    let mission = Mission::start();
    let team = mission.add_team("Engagement Team 3", "West");
    let device = mission.team_device(team, "tablet-1");
    let ids = device.submitted_sessions(sessions);
    assert_eq!(device.store.pending_count().unwrap() as usize, 2 * sessions);
    (mission, device, ids)
}

/// The device's transport, through `proxy`.
fn through(proxy: &Proxy) -> HttpsTransport {
    HttpsTransport::with_timeouts(&proxy.url(), Duration::from_secs(1), REQUEST_TIMEOUT).unwrap()
}

/// What repeated syncs came to.
struct Attempts {
    /// The report of the sync that succeeded.
    last: SyncReport,
    /// Errors of the syncs before it.
    failed: Vec<Error>,
    /// Records the server said conflicted or refused, over all attempts.
    conflicts_or_rejected: u64,
}

/// Syncs until a sync succeeds, as the app does; after each failure, checks that nothing
/// the device considers synced is missing from the server.
fn sync_until_done(mission: &Mission, device: &Device, transport: &HttpsTransport) -> Attempts {
    let mut failed = Vec::new();
    let mut conflicts_or_rejected = 0;
    for _ in 0..MAX_ATTEMPTS {
        match device.sync_with(transport) {
            Ok(report) => {
                conflicts_or_rejected += report.conflicts + report.rejected;
                return Attempts {
                    last: report,
                    failed,
                    conflicts_or_rejected,
                };
            }
            Err(e) => {
                assert!(
                    matches!(e, Error::Transport(_) | Error::Protocol { .. }),
                    "a network fault surfaced as {e:?}"
                );
                assert_synced_means_stored(mission, device);
                failed.push(e);
            }
        }
    }
    panic!("no sync succeeded in {MAX_ATTEMPTS} attempts: {failed:?}");
}

/// Guarantee 1 at any moment: a session the device marks synced is on the server, as the
/// device holds it; every other one still waits in the outbox.
fn assert_synced_means_stored(mission: &Mission, device: &Device) {
    let server: BTreeMap<String, String> = mission
        .storage()
        .records_of_kind("session")
        .unwrap()
        .into_iter()
        .map(|r| (r.record.id(), r.hash))
        .collect();
    let hashes = device.hashes();
    let mut unsynced = 0;
    for s in device.summaries() {
        let id = s.id.to_string();
        if s.sync_state == SyncState::Synced {
            assert_eq!(
                server.get(&id),
                hashes.get(&("session".to_owned(), id.clone())),
                "session {id} is marked synced but the server does not hold it"
            );
        } else {
            assert_eq!(s.sync_state, SyncState::Pending, "session {id}");
            unsynced += 1;
        }
    }
    assert!(
        device.store.pending_count().unwrap() >= unsynced,
        "a session left the outbox unsynced"
    );
}

/// Guarantees 1–3 once syncing has succeeded: the outbox is empty, each session is on the
/// server once and was applied once, device and server agree record for record, and the
/// server's change log repeats nothing (a fresh device of the team pulls exactly what the
/// server holds in scope).
fn assert_guarantees(mission: &Mission, device: &Device, ids: &[String]) {
    assert_eq!(device.store.pending_count().unwrap(), 0, "outbox not empty");
    for s in device.summaries() {
        assert_eq!(s.sync_state, SyncState::Synced, "session {}", s.id);
        assert!(!s.sync_pending, "session {}", s.id);
    }

    let on_server = mission.server_session_ids();
    let unique: BTreeSet<&String> = on_server.iter().collect();
    assert_eq!(unique.len(), on_server.len(), "a session is stored twice");
    assert_eq!(on_server.len(), ids.len(), "sessions on the server");
    let storage = mission.storage();
    for id in ids {
        assert!(unique.contains(id), "session {id} missing on the server");
        assert!(
            storage.history("session", id).unwrap().is_empty(),
            "session {id} was applied more than once"
        );
    }

    let team = device.team().to_string();
    let in_scope = mission.server_hashes(KINDS, |owner| owner.is_none_or(|o| o == team));
    assert_eq!(device.hashes(), in_scope, "device and server disagree");

    let fresh = mission.unsynced_team_device(device.team(), "fresh-tablet");
    let first = fresh.sync_with(&mission.transport()).unwrap();
    assert_eq!(
        first.pulled,
        in_scope.len() as u64,
        "the change log repeats records"
    );
    assert_eq!(fresh.hashes(), in_scope);
}

/// Runs a backlog of `sessions` through a proxy following `plan`, checks guarantees 1–3,
/// and returns what happened for the test's own checks.
fn backlog_through(sessions: usize, plan: Plan) -> (Attempts, Proxy) {
    let (mission, device, ids) = backlog(sessions);
    let proxy = Proxy::in_front_of(mission.url(), plan);
    let attempts = sync_until_done(&mission, &device, &through(&proxy));
    assert_eq!(attempts.conflicts_or_rejected, 0, "{:?}", attempts.last);
    assert_guarantees(&mission, &device, &ids);
    (attempts, proxy)
}

fn on_pushes(faults: Vec<Fault>) -> Plan {
    Plan::Matching {
        path_prefix: PUSH.to_owned(),
        faults,
    }
}

/// The kinds of fault the proxy applied, each once.
fn kinds(proxy: &Proxy) -> BTreeSet<&'static str> {
    proxy.injected().iter().map(|i| i.fault.kind()).collect()
}

#[test]
fn a_clean_proxy_changes_nothing_and_carries_one_request_per_connection() {
    let (mission, device, ids) = backlog(10);
    let proxy = Proxy::in_front_of(mission.url(), Plan::Each(Fault::None));
    let transport = through(&proxy);
    let report = device.sync_with(&transport).unwrap();
    assert_eq!(report.acknowledged, 20);
    // Had the client reused a connection, which the proxy closes after one answer, a
    // request would have failed or gone unseen by the proxy.
    let idle = device.sync_with(&transport).unwrap();
    assert_eq!(idle.requests, 1);
    let stats = proxy.stats();
    assert_eq!(stats.faults, 0);
    assert_eq!(stats.requests, report.requests + idle.requests);
    assert_eq!(stats.connections, stats.requests);
    assert_guarantees(&mission, &device, &ids);
}

#[test]
fn a_connection_dropped_mid_push_loses_and_duplicates_nothing() {
    // In the head, in the body, and one byte short of the whole request.
    let faults = vec![
        Fault::DropUpstream { after: 40 },
        Fault::DropUpstream { after: 700 },
        Fault::DropUpstream { after: usize::MAX },
    ];
    let (attempts, proxy) = backlog_through(50, on_pushes(faults));
    assert_eq!(attempts.failed.len(), 3, "{:?}", attempts.failed);
    assert_eq!(proxy.stats().faults, 3);
    assert_eq!(attempts.last.acknowledged, 100);
}

#[test]
fn an_answer_lost_after_the_server_committed_is_resent_and_applied_once() {
    // Before the status line, inside the head, one byte short of the whole answer.
    let faults = vec![
        Fault::DropDownstream { after: 0 },
        Fault::DropDownstream { after: 30 },
        Fault::DropDownstream { after: usize::MAX },
    ];
    let (attempts, proxy) = backlog_through(50, on_pushes(faults));
    assert_eq!(attempts.failed.len(), 3, "{:?}", attempts.failed);
    assert_eq!(proxy.stats().faults, 3);
    // The server already held every record: the resend is acknowledged all the same.
    assert_eq!(attempts.last.acknowledged, 100);
}

#[test]
fn a_truncated_answer_is_not_taken_for_an_acknowledgement() {
    let (attempts, proxy) = backlog_through(50, on_pushes(vec![Fault::Truncate; 2]));
    assert_eq!(attempts.failed.len(), 2, "{:?}", attempts.failed);
    assert_eq!(proxy.stats().faults, 2);
}

#[test]
fn delayed_requests_change_nothing() {
    let (attempts, proxy) =
        backlog_through(40, Plan::Each(Fault::Delay(Duration::from_millis(150))));
    assert!(attempts.failed.is_empty(), "{:?}", attempts.failed);
    assert_eq!(proxy.stats().faults, proxy.stats().requests);
}

#[test]
fn a_duplicated_push_is_applied_once() {
    let (attempts, proxy) = backlog_through(50, Plan::Each(Fault::Duplicate));
    assert!(attempts.failed.is_empty(), "{:?}", attempts.failed);
    assert!(
        proxy
            .injected()
            .iter()
            .any(|i| i.request.starts_with(&format!("POST {PUSH}"))),
        "{:?}",
        proxy.injected()
    );
    assert_eq!(attempts.last.acknowledged, 100);
}

#[test]
fn a_push_left_hanging_times_out_and_is_resent() {
    let (attempts, _proxy) = backlog_through(50, on_pushes(vec![Fault::Stall]));
    assert_eq!(attempts.failed.len(), 1);
    assert!(
        matches!(
            attempts.failed[0],
            Error::Transport(fieldconsult_core::TransportError::Timeout)
        ),
        "{:?}",
        attempts.failed
    );
}

#[test]
fn a_push_whose_answer_never_comes_is_resent_and_applied_once() {
    let (attempts, _proxy) = backlog_through(50, on_pushes(vec![Fault::Withhold]));
    assert_eq!(attempts.failed.len(), 1);
    assert!(
        matches!(
            attempts.failed[0],
            Error::Transport(fieldconsult_core::TransportError::Timeout)
        ),
        "{:?}",
        attempts.failed
    );
    assert_eq!(attempts.last.acknowledged, 100);
}

#[test]
fn a_team_mate_pulling_through_broken_answers_converges() {
    let (mission, device, ids) = backlog(40);
    device.sync_with(&mission.transport()).unwrap();
    let mate = mission.unsynced_team_device(device.team(), "tablet-2");
    let faults = vec![
        Fault::DropUpstream { after: 60 },
        Fault::Truncate,
        Fault::DropDownstream { after: 200 },
        Fault::Withhold,
        // The last one lets the sync through, twice.
        Fault::Duplicate,
    ];
    let proxy = Proxy::in_front_of(
        mission.url(),
        Plan::Matching {
            path_prefix: PULL.to_owned(),
            faults,
        },
    );
    let attempts = sync_until_done(&mission, &mate, &through(&proxy));
    assert_eq!(attempts.failed.len(), 4, "{:?}", attempts.failed);
    assert_eq!(proxy.stats().faults, 5);
    assert_eq!(mate.session_ids(), ids.iter().cloned().collect());
    assert_guarantees(&mission, &mate, &ids);
}

#[test]
fn a_seeded_random_mix_of_faults_over_many_rounds_loses_and_duplicates_nothing() {
    // FIELDCONSULT_FAULT_ROUNDS=500 FIELDCONSULT_FAULT_SEED=N for a long run.
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let rounds = env("FIELDCONSULT_FAULT_ROUNDS", 24);
    let seed = env("FIELDCONSULT_FAULT_SEED", 0x5EED_F1E1_DC0D_E5A5);
    eprintln!("fault mix: seed {seed}, {rounds} rounds");
    let (mission, device, mut ids) = backlog(20);
    let proxy = Proxy::in_front_of(
        mission.url(),
        Plan::Random {
            seed,
            fault_rate: 0.35,
        },
    );
    let transport = through(&proxy);
    for round in 0..rounds {
        // One try per round, as a device that syncs whenever it finds a signal.
        if let Err(e) = device.sync_with(&transport) {
            assert!(
                matches!(e, Error::Transport(_) | Error::Protocol { .. }),
                "seed {seed}, round {round}: a network fault surfaced as {e:?}"
            );
        }
        assert_synced_means_stored(&mission, &device);
        ids.extend(device.submitted_sessions(2));
    }
    let attempts = sync_until_done(&mission, &device, &through(&proxy));
    assert_eq!(attempts.conflicts_or_rejected, 0, "{:?}", attempts.last);
    assert_guarantees(&mission, &device, &ids);
    let seen = kinds(&proxy);
    eprintln!("fault mix: {:?}, kinds {seen:?}", proxy.stats());
    assert!(seen.len() >= 5, "too few kinds of fault: {seen:?}");
}
