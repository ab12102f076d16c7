//! Where things are (found through `cargo metadata`, never by relative paths) and how commands run.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;

/// The Cargo workspace this xtask belongs to.
pub struct Workspace {
    /// The repository root (Cargo's `workspace_root`).
    pub root: PathBuf,
    /// Cargo's target directory (honours `CARGO_TARGET_DIR` and `build.target-dir`).
    pub target: PathBuf,
    cargo: PathBuf,
}

impl Workspace {
    /// Asks `cargo metadata` for the workspace root and target directory.
    pub fn locate() -> Result<Self> {
        // `cargo xtask` sets CARGO to the cargo that runs us; keep using the same toolchain.
        let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
        let output = Command::new(&cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .map_err(|e| format!("cannot run `{} metadata`: {e}", cargo.display()))?;
        if !output.status.success() {
            return Err(format!(
                "`cargo metadata` failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        let path_of = |key: &str| -> Result<PathBuf> {
            metadata[key]
                .as_str()
                .map(PathBuf::from)
                .ok_or_else(|| format!("`cargo metadata` has no `{key}`").into())
        };
        Ok(Self {
            root: path_of("workspace_root")?,
            target: path_of("target_directory")?,
            cargo,
        })
    }

    /// A `cargo` command run from the workspace root.
    pub fn cargo(&self) -> Command {
        let mut command = Command::new(&self.cargo);
        command.current_dir(&self.root);
        command
    }

    /// A scratch directory under `<target>/xtask/` (its user empties it first).
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.target.join("xtask").join(name)
    }

    /// Runs a command with inherited output, failing if it exits non-zero.
    pub fn run(&self, command: &mut Command) -> Result<()> {
        let shown = show(command);
        println!("$ {shown}");
        let status = command
            .status()
            .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{shown}` failed ({status})").into())
        }
    }

    /// `path` relative to the workspace root, for messages.
    pub fn rel<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }
}

/// A command line as a person would type it.
pub fn show(command: &Command) -> String {
    // The full path of the cargo that runs xtask is noise in a log; the rest is shown as run.
    let program = Path::new(command.get_program());
    let program = if program.file_stem().is_some_and(|stem| stem == "cargo") {
        std::ffi::OsStr::new("cargo")
    } else {
        program.as_os_str()
    };
    std::iter::once(program)
        .chain(command.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `program args...` can be started and exits successfully (a tool probe).
pub fn probe(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Every file under `dir`, recursively, sorted; an absent directory has none.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = match std::fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("cannot read {}: {e}", current.display()).into()),
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Removes `dir` if it exists and creates it empty.
pub fn recreate_dir(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot remove {}: {e}", dir.display()).into()),
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(())
}
