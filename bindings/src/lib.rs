//! FieldConsult's UniFFI layer (placeholder while the API is written).

uniffi::setup_scaffolding!();

/// The version of the FieldConsult core library.
#[uniffi::export]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
