//! The first stores a process opens, from several threads at once, all open: SQLCipher's
//! one-time initialisation must be over before any of them is keyed. The race exists only
//! at process start, so each run is a fresh process: this test binary, started again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use fieldconsult_core::Store;

const CHILD: &str = "FIELDCONSULT_FIRST_OPEN_DIR";
const TEST: &str = "first_stores_opened_on_several_threads_at_once_all_open";
const THREADS: usize = 16;
/// Without the guard, about one run in eight failed on the development machine.
const RUNS: usize = 40;

#[test]
fn first_stores_opened_on_several_threads_at_once_all_open() {
    if let Some(dir) = std::env::var_os(CHILD) {
        open_at_once(Path::new(&dir));
        return;
    }
    let exe = std::env::current_exe().unwrap();
    for run in 0..RUNS {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(&exe)
            .args(["--exact", TEST, "--test-threads=1"])
            .env(CHILD, dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "run {run}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// Opens `THREADS` stores in `dir`, released together and then a couple of microseconds
/// apart, so that some open while the first is inside SQLite's initialisation.
fn open_at_once(dir: &Path) {
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            let path = dir.join(format!("{i}.db"));
            std::thread::spawn(move || {
                barrier.wait();
                std::thread::sleep(Duration::from_micros(2 * i as u64));
                Store::open(&path, &common::key(7)).map(drop)
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        if let Err(e) = h.join().unwrap() {
            panic!("store {i} did not open: {e}");
        }
    }
}
