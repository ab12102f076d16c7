//! `cargo run -p uniffi-bindgen -- generate --library <lib> --language kotlin --out-dir <dir>`:
//! the generator of the same uniffi version as the library it reads.

fn main() {
    uniffi::uniffi_bindgen_main()
}
