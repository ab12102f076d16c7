// The FieldConsult Android library: the Rust core (built with cargo-ndk), its generated Kotlin
// bindings (org.fieldconsult.ffi) and the idiomatic Kotlin layer (org.fieldconsult).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "fieldconsult"
