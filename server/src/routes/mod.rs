//! The endpoints, one module per concern.

pub mod admin;
pub mod enrol;
pub mod export;
pub mod health;
pub mod pull;
pub mod push;
pub mod reports;
