//! SQLCipher's start-up: stores and keyed connections opened at the same moment on several
//! threads of a fresh process all key and read.
//!
//! SQLite declares itself initialised before it runs SQLCipher's initialisation, so only
//! the first openings of a process can hit the race, and only now and then. The test
//! therefore re-runs itself in fresh processes: with the wait left out, 64 threads hit the
//! race in one fresh process in 10 to 50 here (five runs of this test all failed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::{Arc, Barrier};

use fieldconsult_core::store::wait_for_sqlcipher;
use fieldconsult_core::{DatabaseKey, Store};

/// Set in the fresh processes the test starts: they open everything at once and report.
const FRESH_PROCESS: &str = "FIELDCONSULT_SQLCIPHER_START_FRESH_PROCESS";
const PROCESSES: usize = 150;
const THREADS: usize = 64;

#[test]
fn stores_and_keyed_connections_opened_at_once_in_a_fresh_process_all_open() {
    if std::env::var_os(FRESH_PROCESS).is_some() {
        open_all_at_once();
        return;
    }
    let this_test = "stores_and_keyed_connections_opened_at_once_in_a_fresh_process_all_open";
    for run in 0..PROCESSES {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", this_test, "--test-threads", "1"])
            .env(FRESH_PROCESS, "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "fresh process {run}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// One store for every eight threads; the rest open their own keyed connection the way a
/// test or a tool looking under the API does.
fn open_all_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let start = Arc::new(Barrier::new(THREADS));
    let openers: Vec<_> = (0..THREADS)
        .map(|i| {
            let path = dir.path().join(format!("store-{i}.db"));
            let start = Arc::clone(&start);
            std::thread::spawn(move || -> Result<(), String> {
                start.wait();
                if i % 8 == 0 {
                    let key = DatabaseKey::from_bytes(&[7; 32]).unwrap();
                    Store::open(&path, &key)
                        .map(drop)
                        .map_err(|e| format!("store {i}: {e}"))
                } else {
                    wait_for_sqlcipher();
                    let conn = rusqlite::Connection::open(&path).unwrap();
                    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "07".repeat(32)))
                        .and_then(|()| {
                            conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                                r.get::<_, i64>(0)
                            })
                        })
                        .map(drop)
                        .map_err(|e| format!("connection {i}: {e}"))
                }
            })
        })
        .collect();
    let failures: Vec<String> = openers
        .into_iter()
        .filter_map(|t| t.join().unwrap().err())
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
}
