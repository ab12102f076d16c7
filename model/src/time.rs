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

/// `t` at the precision every store and the wire keep, so that a time reads back exactly
/// as it was saved: truncated to whole milliseconds, and its offset rounded to whole minutes
/// (RFC 3339 has no seconds in offsets; a few historical time zones do). The instant stays
/// the same to the millisecond; only the local reading of an odd offset moves by seconds.
pub fn round_to_stored_precision(t: &mut Timestamp) {
    let seconds = t.offset().local_minus_utc();
    // Offsets are under ±24 h: one within 30 s of it rounds to ±23:59.
    let minutes = (seconds + 30).div_euclid(60).clamp(-1439, 1439);
    if seconds % 60 != 0
        && let Some(offset) = FixedOffset::east_opt(minutes * 60)
    {
        *t = t.with_timezone(&offset);
    }
    *t = t.trunc_subsecs(3);
}

/// Milliseconds since the Unix epoch of the instant of `t`, for ordering and storage.
pub fn to_millis(t: &Timestamp) -> i64 {
    t.timestamp_millis()
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_time_with_an_offset_in_seconds_reads_back_from_json_unchanged_once_rounded() {
        for seconds in [6830, -6830, 5 * 3600 + 29, -(3600 + 31), 0, 86_399, -86_371] {
            let offset = FixedOffset::east_opt(seconds).expect("valid offset");
            let mut t: Timestamp = Utc::now().with_timezone(&offset);
            round_to_stored_precision(&mut t);
            let json = serde_json::to_string(&t).expect("serialises");
            let back: Timestamp = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, t, "offset {seconds}s");
            assert_eq!(back.offset(), t.offset(), "offset {seconds}s");
        }
    }
}
