//! Times as recorded in the field: the instant (UTC) together with the local offset of the
//! place where it was recorded, so that a report can say "14:00 local" and still order
//! entries from teams in different time zones correctly.

use chrono::{DateTime, FixedOffset, SubsecRound, Utc};

/// An instant plus the UTC offset of the device clock where it was recorded.
/// Serialised as RFC 3339 with its offset (`2026-11-22T14:03:00+03:00`).
pub type Timestamp = DateTime<FixedOffset>;

/// The current time in UTC, expressed with a zero offset.
pub fn now_utc() -> Timestamp {
    Utc::now().fixed_offset()
}

/// `t` truncated to whole milliseconds: the precision every store keeps, so that a time
/// reads back exactly as it was saved.
pub fn truncate_to_millis(t: &mut Timestamp) {
    *t = t.trunc_subsecs(3);
}

/// Milliseconds since the Unix epoch of the instant of `t`, for ordering and storage.
pub fn to_millis(t: &Timestamp) -> i64 {
    t.timestamp_millis()
}
