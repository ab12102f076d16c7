//! The endpoints, one module each.

pub mod enrol;
pub mod health;
pub mod pull;
pub mod push;
pub mod reports;
