//! Enrolment codes, device tokens and the bearer-token check.
//!
//! Codes and tokens come from the operating system's random source; the server stores only
//! their SHA-256 (hex). A token is 256 bits, a code 80 bits written in Crockford base 32 so a
//! person can type it (`ABCD-EFGH-JKMN-PQRS`).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use chrono::{DateTime, Duration, Utc};
use fieldconsult_model::Role;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::problem::ApiError;
use crate::rate_limit::ClientIp;
use crate::storage::{Device, Storage, StorageError};

/// Why a secret could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The operating system's random source failed.
    #[error("the system random source failed")]
    Random,
    /// Storing it failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// SHA-256 (hex) of a secret.
pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random_bytes<const N: usize>() -> Result<[u8; N], SecretError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|_| SecretError::Random)?;
    Ok(buf)
}

/// A fresh 256-bit device token (hex).
pub fn new_token() -> Result<String, SecretError> {
    Ok(random_bytes::<32>()?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh 80-bit enrolment code, `XXXX-XXXX-XXXX-XXXX` in Crockford base 32.
pub fn new_enrolment_code() -> Result<String, SecretError> {
    let bytes = random_bytes::<10>()?;
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(b);
    }
    let mut out = String::with_capacity(19);
    for i in 0..16 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let shift = 75 - 5 * i;
        let idx = ((bits >> shift) & 0x1f) as usize;
        out.push(char::from(CROCKFORD[idx]));
    }
    Ok(out)
}

/// A code as typed, in its canonical form: upper case, no separators or spaces, and the
/// letters people confuse with digits (`O`, `I`, `L`) read as those digits.
pub fn canonical_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// Issues a one-time enrolment code for `role`, valid for `ttl`; returns the code to hand
/// to the device holder. Only its hash is stored.
pub fn issue_enrolment_code(
    storage: &dyn Storage,
    role: &Role,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<String, SecretError> {
    let code = new_enrolment_code()?;
    storage.insert_enrolment_code(&secret_hash(&canonical_code(&code)), role, now + ttl)?;
    Ok(code)
}

/// An authenticated, not revoked device: the extractor of every `/v1` endpoint but enrolment.
#[derive(Clone, Debug)]
pub struct Authenticated(pub Device);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Every way of failing (no header, another scheme, garbage, an unknown token) is the
        // same 401, so that an answer tells a prober nothing; each counts against the
        // client's failed-authentication limit.
        let failed = || match state
            .limits
            .failed_auth
            .check(ClientIp::of(&parts.extensions).0)
        {
            Ok(()) => ApiError::Unauthorized,
            Err(wait) => ApiError::RateLimited(wait),
        };
        let Some(token) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return Err(failed());
        };
        let hash = secret_hash(token);
        let storage = state.storage.clone();
        let Some(device) = tokio::task::spawn_blocking(move || storage.device_by_token(&hash))
            .await
            .map_err(|_| ApiError::Task)??
        else {
            return Err(failed());
        };
        if device.revoked {
            return Err(ApiError::Revoked);
        }
        Ok(Authenticated(device))
    }
}

/// Who may push and pull.
pub const SYNCING_ROLES: &str = "only team and reviewer devices push and pull records";
/// Who may use the admin endpoints.
pub const ADMIN_ONLY: &str = "only the mission admin's device may do this";
/// Who may export.
pub const HQ_ONLY: &str = "only a headquarters analyst's device may do this";

/// Refuses the request unless `device`'s role passes `allowed`: the endpoints of the HQ
/// analyst and the admin are authorised from the role alone. `detail` says who may.
pub fn require_role(
    device: &Device,
    allowed: fn(&Role) -> bool,
    detail: &'static str,
) -> Result<(), ApiError> {
    if allowed(&device.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            field: "role",
            detail,
            allowed: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enrolment_codes_are_typeable_and_canonical() {
        let code = new_enrolment_code().unwrap_or_default();
        assert_eq!(code.len(), 19);
        assert_eq!(canonical_code(&code.to_lowercase()), canonical_code(&code));
        assert_eq!(canonical_code(&code).len(), 16);
    }

    #[test]
    fn tokens_are_256_bits_of_hex() {
        let token = new_token().unwrap_or_default();
        assert_eq!(token.len(), 64);
        assert_ne!(new_token().unwrap_or_default(), token);
    }
}
