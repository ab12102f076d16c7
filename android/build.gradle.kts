plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.4.20"
}

/** The Rust workspace (this module lives in its android/ directory). */
val rustWorkspace: File = rootDir.parentFile

/** ABIs shipped in the AAR; keep in step with `cargo xtask android` (xtask/src/mobile.rs). */
val androidAbis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")

/** Cargo's target directory, as Cargo itself reports it (honours CARGO_TARGET_DIR). */
fun cargoTargetDir(): File {
    val metadata = providers.exec {
        workingDir = rustWorkspace
        commandLine("cargo", "metadata", "--format-version", "1", "--no-deps")
    }.standardOutput.asText.get()
    val dir = Regex("\"target_directory\":\"((?:[^\"\\\\]|\\\\.)*)\"").find(metadata)
        ?.groupValues?.get(1)?.replace("\\\\", "\\")
        ?: error("cargo metadata reported no target_directory")
    return File(dir)
}

/** Builds the Rust core for every ABI into src/main/jniLibs (needs cargo-ndk and the NDK). */
val cargoNdk by tasks.registering(Exec::class) {
    group = "build"
    description = "Builds libfieldconsult_ffi.so for $androidAbis with cargo-ndk."
    workingDir = rustWorkspace
    environment("ANDROID_NDK_HOME", android.ndkDirectory.absolutePath)
    commandLine(
        buildList {
            addAll(listOf("cargo", "ndk"))
            androidAbis.forEach { addAll(listOf("--target", it)) }
            addAll(listOf("--platform", android.defaultConfig.minSdk.toString()))
            addAll(listOf("--output-dir", file("src/main/jniLibs").absolutePath))
            // The workspace's `mobile` profile: LTO, size-optimised, stripped, still unwinding.
            addAll(listOf("build", "--profile", "mobile", "--package", "fieldconsult-ffi"))
        },
    )
    inputs.dir(rustWorkspace.resolve("bindings/src"))
    inputs.dir(rustWorkspace.resolve("core/src"))
    inputs.dir(rustWorkspace.resolve("model/src"))
    inputs.file(rustWorkspace.resolve("Cargo.lock"))
    outputs.dir("src/main/jniLibs")
}

/** The host build of the library, loaded by the JVM unit tests. */
val cargoBuildHost by tasks.registering(Exec::class) {
    group = "build"
    description = "Builds libfieldconsult_ffi for this computer, for the JVM unit tests."
    workingDir = rustWorkspace
    commandLine("cargo", "build", "--package", "fieldconsult-ffi")
}

android {
    namespace = "org.fieldconsult"
    compileSdk = 35

    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
        ndk { abiFilters += androidAbis }
    }

    sourceSets {
        getByName("main") {
            java.srcDir("src/main/kotlin")
            // Filled by the cargoNdk task above (or `cargo xtask android`); not committed.
            jniLibs.srcDir("src/main/jniLibs")
        }
        getByName("test") {
            java.srcDir("src/test/kotlin")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    testOptions {
        unitTests.all { test ->
            // JVM unit tests load the host build of the library (built by cargoBuildHost).
            test.dependsOn(cargoBuildHost)
            test.systemProperty("jna.library.path", cargoTargetDir().resolve("debug").absolutePath)
        }
    }
}

kotlin {
    jvmToolchain(17)
    compilerOptions {
        allWarningsAsErrors = true
    }
}

dependencies {
    // The AAR flavour carries JNA's native dispatch library for each Android ABI.
    implementation("net.java.dev.jna:jna:5.13.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.2")

    // JVM unit tests need the desktop JNA jar (native dispatch for the host).
    testImplementation("net.java.dev.jna:jna:5.13.0")
    testImplementation(kotlin("test-junit"))
    testImplementation("junit:junit:4.13.2")
    testImplementation("org.jetbrains.kotlinx:kotlinx-coroutines-test:1.10.2")
}

tasks.named("preBuild") { dependsOn(cargoNdk) }
