//! The fuzz smoke run of `cargo xtask test`: each cargo-fuzz target of `fuzz/` for a few
//! seconds, on the stable toolchain.
//!
//! cargo-fuzz passes nightly-only flags to rustc (`-Z` options for the coverage
//! instrumentation); `RUSTC_BOOTSTRAP=1` lets the stable compiler accept them. `--sanitizer
//! none`: the code under test is safe Rust (`unsafe_code = "forbid"`), so AddressSanitizer
//! would cost build and run time for little; the fuzzer looks for panics, hangs and broken
//! invariants (the targets assert them), which need no sanitizer.

use std::process::Command;

use crate::Result;
use crate::workspace::{Workspace, recreate_dir};

/// The targets, in `fuzz/fuzz_targets/`.
pub const TARGETS: &[&str] = &[
    "push_request",
    "enrol_request",
    "pull_query",
    "session_validation",
];

/// Seconds of fuzzing per target in the smoke run.
const SMOKE_SECONDS: u32 = 5;

/// Builds every target (`--dev`: half the build time of the default optimised build, which
/// matters more than speed for a smoke run; the README's long run uses the optimised build),
/// then fuzzes each for [`SMOKE_SECONDS`] from its committed seeds
/// (`fuzz/seeds/<target>`) into a scratch corpus. Skipped, with a line saying so, when
/// cargo-fuzz is not installed; a crash fails it, leaving the input in `fuzz/artifacts/`.
pub fn smoke(ws: &Workspace) -> Result<()> {
    let installed = ws
        .cargo()
        .args(["fuzz", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        println!(
            "xtask: fuzz smoke run skipped: cargo-fuzz is not installed \
             (cargo install cargo-fuzz --locked)"
        );
        return Ok(());
    }
    ws.run(fuzz(ws).args(["build", "--dev", "--sanitizer", "none"]))?;
    for target in TARGETS {
        let corpus = ws.scratch("fuzz-corpus").join(target);
        recreate_dir(&corpus)?;
        let seeds = ws.root.join("fuzz").join("seeds").join(target);
        let mut command = fuzz(ws);
        command
            .args(["run", "--dev", "--sanitizer", "none", target])
            .arg(&corpus)
            .arg(&seeds)
            .arg("--")
            .arg(format!("-max_total_time={SMOKE_SECONDS}"))
            .arg("-print_final_stats=1");
        ws.run(&mut command).map_err(|e| {
            format!("fuzz target `{target}` failed (input in fuzz/artifacts/{target}/): {e}")
        })?;
    }
    println!(
        "xtask: fuzz smoke run: {} targets, {SMOKE_SECONDS} s each, no crash",
        TARGETS.len()
    );
    Ok(())
}

/// `cargo fuzz` from the repository root on the stable toolchain.
fn fuzz(ws: &Workspace) -> Command {
    let mut command = ws.cargo();
    command.arg("fuzz").env("RUSTC_BOOTSTRAP", "1");
    command
}
