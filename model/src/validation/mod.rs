//! Validation: the one place where the rules of a valid record live, used by the device store
//! and the mission server alike.
//!
//! Every check runs and every problem is reported at once, each naming its field with a path
//! (`participants.male.age_18_29`, `priorities[2].rank`), so a field team fixes everything in
//! one go. Problems carry no user text, so they are safe to log.
//!
//! Text must be NFC-normalised before it is validated: call the `normalize` method of the
//! record first (the store does).

pub mod pii;
mod records;
mod session;

use std::fmt;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::session::Group;
use crate::text::{self, TextKind};
use crate::time::Timestamp;

pub use pii::{
    FieldWarning, PLAINTEXT_ELSEWHERE_FIELD, WarningKind, session_warnings, visit_warnings,
};
pub use records::{
    validate_addendum, validate_checklist, validate_community, validate_referral_service,
    validate_review, validate_sealing_keys, validate_team, validate_visit,
};
pub use session::{Completeness, validate_sent_session, validate_session};

/// Largest participant count of one sex × age band cell.
pub const MAX_COUNT: u32 = 10_000;
/// Largest number of facilitators of one sex.
pub const MAX_FACILITATORS: u32 = 50;
/// Most priorities a session ranks.
pub const MAX_PRIORITIES: usize = 5;
/// Most concerns one session records.
pub const MAX_CONCERNS: usize = 50;
/// Most checklist answers one session holds.
pub const MAX_ANSWERS: usize = 200;
/// Most devices a session names as holding its plaintext (a team's devices).
pub const MAX_PLAINTEXT_HOLDERS: usize = 16;
/// Longest device id, in bytes (the server issues 36-character UUIDs).
pub const MAX_DEVICE_ID: usize = 64;

/// What the rules need to know of the world: the time now, and how far ahead of it a device
/// clock may run before a time counts as "in the future".
#[derive(Clone, Copy, Debug)]
pub struct ValidationContext {
    /// The validating side's current time.
    pub now: DateTime<Utc>,
    /// Tolerated clock skew.
    pub max_clock_skew: Duration,
}

impl ValidationContext {
    /// The default skew tolerance: 15 minutes.
    pub const DEFAULT_SKEW_MINUTES: i64 = 15;

    /// A context at the current time with the default skew tolerance.
    pub fn now() -> Self {
        Self::at(Utc::now())
    }

    /// A context at `now` with the default skew tolerance.
    pub fn at(now: DateTime<Utc>) -> Self {
        ValidationContext {
            now,
            max_clock_skew: Duration::minutes(Self::DEFAULT_SKEW_MINUTES),
        }
    }

    /// Earliest plausible time of a record: 2000-01-01. Catches clocks reset to 1970.
    pub fn earliest() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// Why a field is invalid. Stable `code()` for programs; `Display` for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum Problem {
    /// A value is needed.
    Required,
    /// Longer than allowed.
    TooLong {
        /// Maximum, in characters (or items for lists).
        max: usize,
        /// Actual length.
        actual: usize,
    },
    /// Holds a control character.
    ControlCharacter,
    /// Not in Unicode NFC.
    NotNormalized,
    /// A number outside its range.
    OutOfRange {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// The same value appears twice where it must be unique.
    Duplicate,
    /// A time later than now plus the tolerated clock skew.
    InFuture,
    /// A time before 2000: a clock that was reset.
    TooOld,
    /// An end before its start.
    BeforeStart,
    /// A count of the wrong sex for the session's group.
    WrongSexForGroup {
        /// The session's group.
        group: Group,
    },
    /// Details recorded where the rules forbid them (sexual-violence risk: refer instead).
    DetailNotAllowed,
    /// A value that must be empty in this case.
    MustBeEmpty,
    /// A code unknown to the reference it refers to.
    Unknown,
    /// A malformed code.
    InvalidFormat,
    /// Set by the workflow, not by saving.
    ReadOnly,
    /// Plaintext where only a sealed value may be: the sensitive note or the referral service
    /// of a session that left its device, or of a submitted or accepted one.
    NotSealed,
}

impl Problem {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Required => "required",
            Problem::TooLong { .. } => "too_long",
            Problem::ControlCharacter => "control_character",
            Problem::NotNormalized => "not_normalized",
            Problem::OutOfRange { .. } => "out_of_range",
            Problem::Duplicate => "duplicate",
            Problem::InFuture => "in_future",
            Problem::TooOld => "too_old",
            Problem::BeforeStart => "before_start",
            Problem::WrongSexForGroup { .. } => "wrong_sex_for_group",
            Problem::DetailNotAllowed => "detail_not_allowed",
            Problem::MustBeEmpty => "must_be_empty",
            Problem::Unknown => "unknown",
            Problem::InvalidFormat => "invalid_format",
            Problem::ReadOnly => "read_only",
            Problem::NotSealed => "not_sealed",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Required => write!(f, "is required"),
            Problem::TooLong { max, actual } => write!(f, "is too long ({actual}; at most {max})"),
            Problem::ControlCharacter => write!(f, "contains a control character"),
            Problem::NotNormalized => write!(f, "is not in Unicode NFC"),
            Problem::OutOfRange { min, max } => write!(f, "must be between {min} and {max}"),
            Problem::Duplicate => write!(f, "appears more than once"),
            Problem::InFuture => write!(f, "is in the future (check the device clock)"),
            Problem::TooOld => write!(f, "is before 2000 (check the device clock)"),
            Problem::BeforeStart => write!(f, "is before the start"),
            Problem::WrongSexForGroup {
                group: Group::Women,
            } => {
                write!(f, "must be 0: a women's session has no male participants")
            }
            Problem::WrongSexForGroup { group: Group::Men } => {
                write!(f, "must be 0: a men's session has no female participants")
            }
            Problem::WrongSexForGroup {
                group: Group::Mixed,
            } => {
                write!(f, "is not allowed for this group")
            }
            Problem::DetailNotAllowed => write!(
                f,
                "must stay empty: sexual-violence risk is never recorded in detail; offer a referral"
            ),
            Problem::MustBeEmpty => write!(f, "must be empty here"),
            Problem::Unknown => write!(f, "is not known"),
            Problem::InvalidFormat => write!(f, "has an invalid format"),
            Problem::ReadOnly => {
                write!(f, "is set by the workflow (submit, review), not by saving")
            }
            Problem::NotSealed => write!(
                f,
                "must be empty: this value is sealed at submission and never sent in plaintext"
            ),
        }
    }
}

/// One invalid field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Path of the field (`priorities[2].rank`).
    pub field: String,
    /// What is wrong with it.
    pub problem: Problem,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.problem)
    }
}

/// Every problem of a record; never empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// The problems.
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// Whether `field` has a problem.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// The problem of `field`, if it has one.
    pub fn problem(&self, field: &str) -> Option<&Problem> {
        self.0.iter().find(|e| e.field == field).map(|e| &e.problem)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} invalid field(s): ", self.0.len())?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Collects problems while the rules run.
#[derive(Default)]
pub(crate) struct Report {
    errors: Vec<FieldError>,
}

impl Report {
    pub(crate) fn add(&mut self, field: impl Into<String>, problem: Problem) {
        self.errors.push(FieldError {
            field: field.into(),
            problem,
        });
    }

    pub(crate) fn text(&mut self, field: impl Into<String>, s: &str, kind: TextKind, max: usize) {
        if let Some(p) = text::check(s, kind, max) {
            self.add(field, p);
        }
    }

    pub(crate) fn required_text(
        &mut self,
        field: impl Into<String>,
        s: &str,
        kind: TextKind,
        max: usize,
    ) {
        let field = field.into();
        if s.trim().is_empty() {
            self.add(field, Problem::Required);
        } else {
            self.text(field, s, kind, max);
        }
    }

    pub(crate) fn range(&mut self, field: impl Into<String>, v: i64, min: i64, max: i64) {
        if v < min || v > max {
            self.add(field, Problem::OutOfRange { min, max });
        }
    }

    pub(crate) fn time(
        &mut self,
        field: impl Into<String>,
        t: &Timestamp,
        ctx: &ValidationContext,
    ) {
        let utc = t.with_timezone(&Utc);
        if utc > ctx.now + ctx.max_clock_skew {
            self.add(field, Problem::InFuture);
        } else if utc < ValidationContext::earliest() {
            self.add(field, Problem::TooOld);
        }
    }

    pub(crate) fn finish(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(self.errors))
        }
    }
}
