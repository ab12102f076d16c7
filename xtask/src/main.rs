//! `cargo xtask ...`: FieldConsult's build, test and packaging commands.
//!
//! - `bindings`: build the FFI library and regenerate the committed Kotlin and Swift.
//! - `test`: the workspace's Rust tests, the staleness check of the committed bindings, the
//!   Kotlin tests compiled with `kotlinc -Werror` and run on the desktop JVM, and a short run of
//!   each fuzz target (when cargo-fuzz is installed).
//! - `android`: release libraries for the Android ABIs with cargo-ndk.
//! - `ios`: the XCFramework, on a Mac with Xcode.

mod bindings;
mod fuzz;
mod kotlin;
mod mobile;
mod workspace;

use std::process::ExitCode;

use workspace::Workspace;

/// The error type of every command: a message for the person at the terminal.
type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  bindings  build fieldconsult-ffi and regenerate the Kotlin (android/) and Swift (ios/) bindings
  test      cargo test --workspace, check the committed bindings are fresh, run the Kotlin JVM tests,
            fuzz each target for 5 s (cargo-fuzz)
  android   release build for arm64-v8a, armeabi-v7a and x86_64 into android/src/main/jniLibs (cargo-ndk + NDK)
  ios       build ios/FieldConsultFFIC.xcframework (macOS with Xcode only)";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match args.as_slice() {
        [] => {
            println!("{USAGE}");
            return Ok(());
        }
        [command] => command.as_str(),
        [_, extra, ..] => return Err(format!("unexpected argument `{extra}`\n\n{USAGE}").into()),
    };
    if matches!(command, "help" | "-h" | "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    let ws = Workspace::locate()?;
    match command {
        "bindings" => bindings::regenerate(&ws),
        "test" => test(&ws),
        "android" => mobile::android(&ws),
        "ios" => mobile::ios(&ws),
        other => Err(format!("unknown command `{other}`\n\n{USAGE}").into()),
    }
}

/// `cargo xtask test`: Rust tests first (a broken core fails fast), then the bindings checks.
fn test(ws: &Workspace) -> Result<()> {
    ws.run(ws.cargo().args(["test", "--workspace"]))?;

    let library = bindings::build_library(ws)?;
    let generated = bindings::generate(ws, &library, &ws.scratch("generated"))?;

    let mut failures = Vec::new();
    println!("xtask: checking that the committed bindings match the library");
    if let Err(stale) = bindings::check_fresh(ws, &generated) {
        failures.push(stale.to_string());
    }
    let counts = match kotlin::run_tests(ws, &generated, &library) {
        Ok(counts) => {
            if counts.failed > 0 || !counts.succeeded {
                failures.push("the Kotlin tests failed (JUnit's report is above)".to_owned());
            }
            Some(counts)
        }
        Err(error) => {
            failures.push(format!("the Kotlin tests did not run: {error}"));
            None
        }
    };
    // Last: a few seconds per fuzz target (skipped, saying so, without cargo-fuzz).
    if let Err(error) = fuzz::smoke(ws) {
        failures.push(error.to_string());
    }
    for failure in &failures {
        eprintln!("xtask: error: {failure}");
    }
    match counts {
        // One word, a colon, then the plain `N passed, N failed` closing line CI readers parse.
        Some(counts) => println!("kotlin: {} passed, {} failed", counts.passed, counts.failed),
        None => println!("kotlin: not run"),
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("{} check(s) failed", failures.len()).into())
    }
}
