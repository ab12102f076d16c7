//! Cryptography of the model: signatures (and, from the sealing work, sealed fields).

pub mod bundle;
pub mod sign;
