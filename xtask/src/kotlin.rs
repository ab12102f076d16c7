//! The Kotlin tests on the desktop JVM: the freshly generated bindings, the idiomatic layer in
//! android/src/main/kotlin and the tests in android/src/test/kotlin, compiled with
//! `kotlinc -Werror` and run with JUnit 4 against the host build of the library.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Result;
use crate::bindings::{Generated, KOTLIN_GENERATED, KOTLIN_SOURCE_ROOT};
use crate::workspace::{Workspace, files_under, probe, recreate_dir, show};

/// The Kotlin compiler's version (npm package `kotlin-compiler`), installed under `<target>/tools`.
const KOTLIN_VERSION: &str = "2.4.20";
/// The Kotlin tests of the Android module.
const KOTLIN_TEST_ROOT: &str = "android/src/test/kotlin";
/// Jars from Debian's `libjna-java` and `junit4` packages.
const SYSTEM_JARS: [&str; 3] = [
    "/usr/share/java/jna.jar",
    "/usr/share/java/junit4.jar",
    "/usr/share/java/hamcrest-core.jar",
];
/// Jars shipped with the Kotlin compiler distribution (its `lib/`).
const KOTLIN_JARS: [&str; 4] = [
    "kotlin-stdlib.jar",
    "kotlin-test.jar",
    "kotlin-test-junit.jar",
    "kotlinx-coroutines-core-jvm.jar",
];

/// What JUnit reported.
pub struct Counts {
    /// Tests that passed.
    pub passed: u32,
    /// Tests that failed (failures and errors, as JUnit counts them).
    pub failed: u32,
    /// Whether the JVM exited successfully.
    pub succeeded: bool,
}

/// Compiles and runs the Kotlin tests; `library` is the host build the tests load through JNA.
pub fn run_tests(ws: &Workspace, generated: &Generated, library: &Path) -> Result<Counts> {
    check_jvm()?;
    let kotlin_home = ensure_kotlin(ws)?;
    let mut classpath: Vec<PathBuf> = SYSTEM_JARS.iter().map(PathBuf::from).collect();
    classpath.extend(
        KOTLIN_JARS
            .iter()
            .map(|jar| kotlin_home.join("lib").join(jar)),
    );
    if let Some(missing) = classpath.iter().find(|jar| !jar.is_file()) {
        return Err(format!(
            "{} is missing from the Kotlin distribution",
            missing.display()
        )
        .into());
    }

    let classes = ws.scratch("kotlin-classes");
    recreate_dir(&classes)?;
    let sources = sources(ws, generated)?;
    let tests_dir = ws.root.join(KOTLIN_TEST_ROOT);
    if !sources.iter().any(|source| source.starts_with(&tests_dir)) {
        return Err(format!("no Kotlin tests found under {KOTLIN_TEST_ROOT}").into());
    }
    println!(
        "xtask: compiling {} Kotlin files with kotlinc -Werror",
        sources.len()
    );
    ws.run(
        Command::new(kotlin_home.join("bin").join("kotlinc"))
            .arg("-Werror")
            .arg("-cp")
            .arg(std::env::join_paths(&classpath)?)
            .arg("-d")
            .arg(&classes)
            .args(&sources),
    )?;

    let test_classes = test_classes(&classes)?;
    if test_classes.is_empty() {
        return Err(
            format!("no test classes (named *Test or *Tests) under {KOTLIN_TEST_ROOT}").into(),
        );
    }
    let library_dir = library
        .parent()
        .ok_or("the library has no parent directory")?;
    let mut runtime_classpath = vec![classes];
    runtime_classpath.extend(classpath);
    let mut java = Command::new("java");
    java.arg(format!("-Djna.library.path={}", library_dir.display()))
        .arg("-cp")
        .arg(std::env::join_paths(&runtime_classpath)?)
        .arg("org.junit.runner.JUnitCore")
        .args(&test_classes)
        .stdout(Stdio::piped());
    let shown = show(&java);
    println!("$ {shown}");
    let mut child = java
        .spawn()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    // Echo JUnit's report as it comes, and keep it to read the counts.
    let mut report = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            println!("{line}");
            report.push_str(&line);
            report.push('\n');
        }
    }
    let status = child.wait()?;
    let (run, failed) = parse_junit(&report)
        .ok_or("JUnit printed neither `OK (N tests)` nor `Tests run: N,  Failures: M`")?;
    Ok(Counts {
        passed: run.saturating_sub(failed),
        failed,
        succeeded: status.success(),
    })
}

/// The freshly generated Kotlin, the hand-written Kotlin of the module (not the committed copy of
/// the generated package, which would be compiled twice) and the tests.
fn sources(ws: &Workspace, generated: &Generated) -> Result<Vec<PathBuf>> {
    let committed_generated = ws.root.join(KOTLIN_GENERATED);
    let mut sources: Vec<PathBuf> = generated.kotlin_files().map(Path::to_path_buf).collect();
    for root in [KOTLIN_SOURCE_ROOT, KOTLIN_TEST_ROOT] {
        sources.extend(
            files_under(&ws.root.join(root))?
                .into_iter()
                .filter(|path| !path.starts_with(&committed_generated))
                .filter(|path| path.extension().is_some_and(|ext| ext == "kt")),
        );
    }
    Ok(sources)
}

/// Fully qualified names of the top-level compiled classes named `*Test` or `*Tests`.
fn test_classes(classes: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for path in files_under(classes)? {
        let relative = path
            .strip_prefix(classes)?
            .to_string_lossy()
            .replace('\\', "/");
        let Some(name) = relative.strip_suffix(".class") else {
            continue;
        };
        if !name.contains('$') && (name.ends_with("Test") || name.ends_with("Tests")) {
            names.push(name.replace('/', "."));
        }
    }
    Ok(names)
}

/// `(tests run, tests failed)` from JUnitCore's summary line.
fn parse_junit(report: &str) -> Option<(u32, u32)> {
    for line in report.lines().rev() {
        if let Some(rest) = line.strip_prefix("OK (") {
            let run = rest.split_whitespace().next()?.parse().ok()?;
            return Some((run, 0));
        }
        if let Some(rest) = line.strip_prefix("Tests run: ") {
            let (run, rest) = rest.split_once(',')?;
            let failed = rest.trim().strip_prefix("Failures: ")?.trim();
            return Some((run.trim().parse().ok()?, failed.parse().ok()?));
        }
    }
    None
}

/// A JDK's `java` on PATH and the Debian jars, or a message saying what to install.
fn check_jvm() -> Result<()> {
    let mut missing = Vec::new();
    if !probe("java", &["-version"]) {
        missing.push("a JDK (17 or later): `java` is not on PATH (Debian: apt-get install -y openjdk-17-jdk-headless)".to_owned());
    }
    let absent: Vec<&str> = SYSTEM_JARS
        .into_iter()
        .filter(|jar| !Path::new(jar).is_file())
        .collect();
    if !absent.is_empty() {
        missing.push(format!(
            "{} (Debian: apt-get install -y libjna-java junit4)",
            absent.join(", ")
        ));
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("the Kotlin tests need:\n  {}", missing.join("\n  ")).into())
    }
}

/// The Kotlin compiler's home, installed from npm into `<target>/tools/kotlin` when missing or of
/// another version.
fn ensure_kotlin(ws: &Workspace) -> Result<PathBuf> {
    let prefix = ws.target.join("tools").join("kotlin");
    let home = prefix.join("node_modules").join("kotlin-compiler");
    let installed = std::fs::read(home.join("package.json"))
        .ok()
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .and_then(|package| package["version"].as_str().map(str::to_owned));
    if installed.as_deref() == Some(KOTLIN_VERSION) && home.join("bin").join("kotlinc").is_file() {
        return Ok(home);
    }
    if !probe("npm", &["--version"]) {
        return Err(format!(
            "the Kotlin compiler is not installed and `npm` is not on PATH: install Node.js 20 \
             with npm (Debian: apt-get install -y nodejs npm), or run \
             `npm install --prefix {} kotlin-compiler@{KOTLIN_VERSION}` yourself",
            prefix.display()
        )
        .into());
    }
    std::fs::create_dir_all(&prefix)?;
    println!(
        "xtask: installing the Kotlin compiler {KOTLIN_VERSION} (~94 MB) into {}",
        ws.rel(&prefix).display()
    );
    ws.run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(format!("kotlin-compiler@{KOTLIN_VERSION}")),
    )?;
    if home.join("bin").join("kotlinc").is_file() {
        Ok(home)
    } else {
        Err(format!(
            "npm installed no {}",
            home.join("bin").join("kotlinc").display()
        )
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_junit;

    #[test]
    fn reads_junit_success() {
        assert_eq!(
            parse_junit("..\nTime: 0.1\n\nOK (12 tests)\n\n"),
            Some((12, 0))
        );
        assert_eq!(parse_junit("OK (1 test)"), Some((1, 0)));
    }

    #[test]
    fn reads_junit_failures() {
        let report =
            "1) open(org.fieldconsult.StoreTest)\n\nFAILURES!!!\nTests run: 9,  Failures: 2\n";
        assert_eq!(parse_junit(report), Some((9, 2)));
    }

    #[test]
    fn rejects_output_without_a_summary() {
        assert_eq!(parse_junit("Exception in thread \"main\""), None);
    }
}
