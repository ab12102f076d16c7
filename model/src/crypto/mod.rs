//! Cryptography of records: sealed fields, signatures and signed bundles.

pub mod bundle;
pub mod seal;
pub mod sign;
