//! Cryptography of records: sealed fields.

pub mod seal;
