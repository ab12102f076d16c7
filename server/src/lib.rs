//! The FieldConsult mission sync server: HTTP/JSON under `/v1` (see
//! `fieldconsult_model::wire`), its storage, and the mission admin's commands.
//!
//! - [`app::app`] builds the router, [`app::serve`] runs it with graceful shutdown;
//! - [`storage::Storage`] is the storage trait, [`storage::SqliteStorage`] the embedded
//!   backend; [`push_rules`] holds what a push may do, independent of the backend;
//! - [`reports`] computes the paired comparison and the participation table from storage;
//!   [`demo`] runs the whole path end to end on this machine;
//! - [`bundle`] holds the mission root key and the reference bundles it signs;
//! - [`audit`] is the hash-chained audit log of reads, exports and admin actions;
//! - [`unseal`] opens a sealed note with the mission escrow key, audited first; [`key_file`]
//!   writes and reads the admin's secret key files (root key, escrow key);
//! - [`rate_limit`] throttles enrolment attempts and failed authentications per client;
//! - [`admin`] holds the admin operations, [`export`] the exports, [`cli`] the commands.

pub mod admin;
pub mod app;
pub mod audit;
pub mod auth;
pub mod bundle;
pub mod cli;
pub mod csv;
pub mod demo;
pub mod export;
pub mod key_file;
pub mod problem;
pub mod push_rules;
pub mod rate_limit;
pub mod reports;
pub mod routes;
pub mod storage;
pub mod unseal;

pub use app::{app, serve};
pub use storage::{SqliteStorage, Storage};
