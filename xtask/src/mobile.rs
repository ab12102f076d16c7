//! Release builds for the phones: Android (cargo-ndk) and iOS (an XCFramework, on a Mac).

use std::path::{Path, PathBuf};

use crate::Result;
use crate::workspace::{Workspace, probe};

/// Android ABIs with their Rust targets.
const ANDROID_ABIS: [(&str, &str); 3] = [
    ("arm64-v8a", "aarch64-linux-android"),
    ("armeabi-v7a", "armv7-linux-androideabi"),
    ("x86_64", "x86_64-linux-android"),
];
/// The module's minSdk (android/build.gradle.kts).
const ANDROID_MIN_SDK: &str = "24";

/// `cargo xtask android`: the release library for each ABI into android/src/main/jniLibs.
pub fn android(ws: &Workspace) -> Result<()> {
    let mut missing = Vec::new();
    if !probe(cargo_path(ws), &["ndk", "--version"]) {
        missing.push("cargo-ndk (cargo install cargo-ndk)".to_owned());
    }
    let ndk = find_ndk();
    if ndk.is_none() {
        missing.push(
            "an Android NDK: install one with the SDK manager (sdkmanager \"ndk;<version>\") and \
             set ANDROID_NDK_HOME, or set ANDROID_HOME to an SDK that has ndk/<version>"
                .to_owned(),
        );
    }
    let installed = std::process::Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
        .unwrap_or_default();
    let absent: Vec<&str> = ANDROID_ABIS
        .iter()
        .map(|(_, target)| *target)
        .filter(|target| !installed.lines().any(|line| line.trim() == *target))
        .collect();
    if !absent.is_empty() {
        missing.push(format!(
            "the Rust targets (rustup target add {})",
            absent.join(" ")
        ));
    }
    let Some(ndk) = ndk.filter(|_| missing.is_empty()) else {
        return Err(format!(
            "`cargo xtask android` needs:\n  {}\n(No NDK can be had on the Linux build machines: \
             there the Kotlin layer is tested on the JVM by `cargo xtask test`.)",
            missing.join("\n  ")
        )
        .into());
    };

    let mut command = ws.cargo();
    command.arg("ndk").env("ANDROID_NDK_HOME", &ndk);
    for (abi, _) in ANDROID_ABIS {
        command.args(["--target", abi]);
    }
    command
        .args(["--platform", ANDROID_MIN_SDK, "--output-dir"])
        .arg(ws.root.join("android/src/main/jniLibs"))
        .args([
            "build",
            "--profile",
            "mobile",
            "--package",
            "fieldconsult-ffi",
        ]);
    ws.run(&mut command)
}

/// `cargo xtask ios`: regenerate the bindings, then ios/build-xcframework.sh (macOS only).
pub fn ios(ws: &Workspace) -> Result<()> {
    if !cfg!(target_os = "macos") {
        return Err(
            "`cargo xtask ios` needs a Mac with Xcode (xcodebuild, lipo and the iOS \
                    Rust targets). Swift cannot be compiled on this machine; the generated Swift \
                    and C header in ios/ are kept fresh by `cargo xtask bindings`."
                .into(),
        );
    }
    crate::bindings::regenerate(ws)?;
    ws.run(
        std::process::Command::new("bash")
            .arg(ws.root.join("ios/build-xcframework.sh"))
            .env("CARGO_TARGET_DIR", &ws.target)
            .current_dir(&ws.root),
    )
}

/// The cargo that runs xtask, for probing `cargo ndk`.
fn cargo_path(ws: &Workspace) -> PathBuf {
    PathBuf::from(ws.cargo().get_program())
}

/// The NDK named by the usual environment variables, or the newest one inside the Android SDK.
fn find_ndk() -> Option<PathBuf> {
    for var in ["ANDROID_NDK_HOME", "ANDROID_NDK_ROOT", "ANDROID_NDK"] {
        if let Some(dir) = std::env::var_os(var).map(PathBuf::from)
            && is_ndk(&dir)
        {
            return Some(dir);
        }
    }
    for var in ["ANDROID_HOME", "ANDROID_SDK_ROOT"] {
        let Some(sdk) = std::env::var_os(var).map(PathBuf::from) else {
            continue;
        };
        let mut versions: Vec<PathBuf> = std::fs::read_dir(sdk.join("ndk"))
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|dir| is_ndk(dir))
            .collect();
        // Directory names are versions ("27.2.12479018"); compare them numerically.
        versions.sort_by_key(|dir| {
            dir.file_name()
                .map(|name| {
                    name.to_string_lossy()
                        .split('.')
                        .map(|part| part.parse::<u64>().unwrap_or(0))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        });
        if let Some(newest) = versions.pop() {
            return Some(newest);
        }
    }
    None
}

fn is_ndk(dir: &Path) -> bool {
    dir.join("source.properties").is_file() && dir.join("toolchains").is_dir()
}
