//! Building the FFI library and generating its Kotlin and Swift, into the repository or a
//! scratch directory for the staleness check.
//!
//! The generated files are committed so that app developers without Rust can read them. Each of
//! the directories in [`GENERATED_DIRS`] belongs to the generator entirely: `cargo xtask bindings`
//! replaces it, and the staleness check compares it file by file, so nothing hand-written may
//! live there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::Result;
use crate::workspace::{Workspace, files_under, recreate_dir};

/// The Cargo package and library name of the UniFFI layer.
const FFI_PACKAGE: &str = "fieldconsult-ffi";
const FFI_LIB: &str = "fieldconsult_ffi";

/// Where the Kotlin generator's output tree is rooted in the Android module.
pub const KOTLIN_SOURCE_ROOT: &str = "android/src/main/kotlin";
/// The generated Kotlin package (`org.fieldconsult.ffi`, set in bindings/uniffi.toml).
pub const KOTLIN_GENERATED: &str = "android/src/main/kotlin/org/fieldconsult/ffi";
/// The generated Swift (target `FieldConsultFFI` of ios/Package.swift).
const SWIFT_GENERATED: &str = "ios/Sources/FieldConsultFFI";
/// The C header and module map of `FieldConsultFFIC`, laid out for SwiftPM and xcodebuild.
const C_GENERATED: &str = "ios/Sources/FieldConsultFFIC/include";

/// The directories whose whole content is generated.
pub const GENERATED_DIRS: [&str; 3] = [KOTLIN_GENERATED, SWIFT_GENERATED, C_GENERATED];

/// One generation's output: repository path (relative to the root) → freshly generated file.
pub struct Generated {
    files: BTreeMap<PathBuf, PathBuf>,
}

impl Generated {
    /// The freshly generated Kotlin files.
    pub fn kotlin_files(&self) -> impl Iterator<Item = &Path> {
        self.files
            .iter()
            .filter(|(dest, _)| dest.starts_with(KOTLIN_GENERATED))
            .map(|(_, fresh)| fresh.as_path())
    }
}

/// `cargo xtask bindings`: build, generate, and replace the generated directories.
pub fn regenerate(ws: &Workspace) -> Result<()> {
    let library = build_library(ws)?;
    let generated = generate(ws, &library, &ws.scratch("generated"))?;
    for dir in GENERATED_DIRS {
        recreate_dir(&ws.root.join(dir))?;
    }
    for (dest, fresh) in &generated.files {
        let dest_abs = ws.root.join(dest);
        std::fs::copy(fresh, &dest_abs)
            .map_err(|e| format!("cannot copy {} to {}: {e}", fresh.display(), dest.display()))?;
        println!("xtask: wrote {}", dest.display());
    }
    Ok(())
}

/// Builds the FFI library (debug: unstripped, as library-mode generation needs its metadata)
/// and returns the path of the shared library for this host.
pub fn build_library(ws: &Workspace) -> Result<PathBuf> {
    ws.run(ws.cargo().args(["build", "--package", FFI_PACKAGE]))?;
    let name = format!(
        "{}{FFI_LIB}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let library = ws.target.join("debug").join(name);
    if library.is_file() {
        Ok(library)
    } else {
        Err(format!("the build did not produce {}", library.display()).into())
    }
}

/// Generates Kotlin and Swift from `library` into `scratch` (emptied first) and maps each file
/// to its place in the repository.
pub fn generate(ws: &Workspace, library: &Path, scratch: &Path) -> Result<Generated> {
    recreate_dir(scratch)?;
    let kotlin_dir = scratch.join("kotlin");
    let swift_dir = scratch.join("swift");
    for (language, out_dir) in [("kotlin", &kotlin_dir), ("swift", &swift_dir)] {
        // Library mode is detected from the source being a library; it runs `cargo metadata`,
        // hence the workspace root as working directory (ws.cargo()).
        ws.run(
            ws.cargo()
                .args(["run", "--quiet", "--package", "uniffi-bindgen", "--"])
                .args([
                    "generate",
                    "--no-format",
                    "--language",
                    language,
                    "--out-dir",
                ])
                .arg(out_dir)
                .arg(library),
        )?;
    }

    let mut files = BTreeMap::new();
    for fresh in files_under(&kotlin_dir)? {
        let relative = fresh.strip_prefix(&kotlin_dir)?;
        let dest = Path::new(KOTLIN_SOURCE_ROOT).join(relative);
        if !dest.starts_with(KOTLIN_GENERATED) {
            return Err(format!(
                "the generator wrote {} outside {KOTLIN_GENERATED}; update xtask/src/bindings.rs",
                relative.display()
            )
            .into());
        }
        files.insert(dest, fresh);
    }
    for fresh in files_under(&swift_dir)? {
        let name = fresh
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dest = match fresh.extension().and_then(|ext| ext.to_str()) {
            Some("swift") => Path::new(SWIFT_GENERATED).join(&name),
            Some("h") => Path::new(C_GENERATED).join(&name),
            // SwiftPM and xcodebuild look for this exact name next to the header.
            Some("modulemap") => Path::new(C_GENERATED).join("module.modulemap"),
            _ => {
                return Err(format!(
                    "unexpected generated Swift file {name}; update xtask/src/bindings.rs"
                )
                .into());
            }
        };
        files.insert(dest, fresh);
    }
    if files.is_empty() {
        return Err("the generator produced no files".into());
    }
    Ok(Generated { files })
}

/// Fails, listing every difference, when the committed generated files are not exactly what the
/// library generates now.
pub fn check_fresh(ws: &Workspace, generated: &Generated) -> Result<()> {
    let mut problems = Vec::new();
    let mut committed = Vec::new();
    for dir in GENERATED_DIRS {
        for path in files_under(&ws.root.join(dir))? {
            committed.push(ws.rel(&path).to_path_buf());
        }
    }
    for path in &committed {
        if !generated.files.contains_key(path) {
            problems.push(format!("  {} is not generated any more", path.display()));
        }
    }
    for (dest, fresh) in &generated.files {
        match std::fs::read(ws.root.join(dest)) {
            Ok(old) if old == std::fs::read(fresh)? => {}
            Ok(_) => problems.push(format!("  {} is out of date", dest.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                problems.push(format!("  {} is missing", dest.display()));
            }
            Err(e) => return Err(format!("cannot read {}: {e}", dest.display()).into()),
        }
    }
    if problems.is_empty() {
        println!("xtask: the committed Kotlin and Swift bindings are fresh");
        Ok(())
    } else {
        Err(format!(
            "the committed bindings are stale against the library:\n{}\n  \
             run `cargo xtask bindings` and commit android/ and ios/",
            problems.join("\n")
        )
        .into())
    }
}
