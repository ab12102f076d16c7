//! Per-client rate limits: a token bucket per key (the client's IP address), in memory.
//!
//! Two limits guard what guessing would use: enrolment attempts (an 80-bit code is out of
//! reach of guessing, but every attempt costs a database write) and failed authentications
//! (each one a token lookup, and noise that hides a real attack in the logs). A request
//! with a valid token is never throttled, so a device syncing behind a shared address is not
//! punished for another's mistakes.
//!
//! The key is the connected peer's address. Behind a reverse proxy every client shares the
//! proxy's address; forwarded headers are not trusted because any client can write them.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The key used when the connection's address is unknown (a router called in-process).
pub const UNKNOWN_PEER: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// Keys kept before idle ones (buckets that have refilled) are dropped.
const PRUNE_ABOVE: usize = 10_000;

/// How many events a key may spend per period, with a burst of the same size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Events per period (and the burst); 0 refuses every event.
    pub events: u32,
    /// The period.
    pub per: Duration,
}

impl Limit {
    /// `events` per minute.
    pub const fn per_minute(events: u32) -> Self {
        Limit {
            events,
            per: Duration::from_secs(60),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A keyed token bucket.
#[derive(Debug)]
pub struct RateLimiter {
    limit: Limit,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

/// Over the limit: wait this long before the next attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up, at least 1 (the `Retry-After` header).
    pub fn seconds(self) -> u64 {
        let s = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        s.max(1)
    }
}

impl RateLimiter {
    /// A limiter allowing `limit` per key.
    pub fn new(limit: Limit) -> Self {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn rate(&self) -> f64 {
        f64::from(self.limit.events) / self.limit.per.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// Spends one event for `key` at `now`, or says how long to wait.
    pub fn check_at(&self, key: IpAddr, now: Instant) -> Result<(), RetryAfter> {
        let capacity = f64::from(self.limit.events);
        let rate = self.rate();
        if self.limit.events == 0 {
            return Err(RetryAfter(self.limit.per));
        }
        // A poisoned lock only means another request panicked mid-update; the counts are
        // still counts.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < capacity
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / rate;
            Err(RetryAfter(Duration::from_secs_f64(wait)))
        }
    }

    /// Spends one event for `key` now.
    pub fn check(&self, key: IpAddr) -> Result<(), RetryAfter> {
        self.check_at(key, Instant::now())
    }
}

/// The server's limiters, shared by every request.
#[derive(Debug)]
pub struct Limiters {
    /// Enrolment attempts per client.
    pub enrolment: RateLimiter,
    /// Failed authentications per client.
    pub failed_auth: RateLimiter,
}

impl Limiters {
    /// Limiters with these limits.
    pub fn new(enrolment: Limit, failed_auth: Limit) -> Self {
        Limiters {
            enrolment: RateLimiter::new(enrolment),
            failed_auth: RateLimiter::new(failed_auth),
        }
    }
}

/// The address of the connected peer, or [`UNKNOWN_PEER`] when the router runs without
/// connection info (in-process tests): those then share one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The peer address recorded in a request's extensions.
    pub fn of(extensions: &axum::http::Extensions) -> Self {
        ClientIp(
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(UNKNOWN_PEER, |ConnectInfo(addr)| addr.ip()),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp::of(&parts.extensions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_limit_waits_until_a_token_refills() {
        let limiter = RateLimiter::new(Limit::per_minute(2));
        let t0 = Instant::now();
        let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(limiter.check_at(ip, t0), Ok(()));
        assert_eq!(limiter.check_at(ip, t0), Ok(()));
        let wait = limiter.check_at(ip, t0).err().map(RetryAfter::seconds);
        assert_eq!(wait, Some(30));
        assert_eq!(limiter.check_at(ip, t0 + Duration::from_secs(30)), Ok(()));
    }

    #[test]
    fn keys_are_limited_separately() {
        let limiter = RateLimiter::new(Limit::per_minute(1));
        let t0 = Instant::now();
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(limiter.check_at(a, t0), Ok(()));
        assert!(limiter.check_at(a, t0).is_err());
        assert_eq!(limiter.check_at(b, t0), Ok(()));
    }
}
