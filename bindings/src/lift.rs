//! Lifting FFI records into model types: ids and times arrive as strings, and a malformed one
//! is reported like any other invalid field, with every problem of the record at once.

use std::str::FromStr;

use fieldconsult_model::ids::Uuid;
use fieldconsult_model::{FieldError, Problem, Timestamp, ValidationErrors};

use crate::error::FieldConsultError;

/// Collects parse problems while a record is lifted.
#[derive(Default)]
pub(crate) struct Lift {
    prefix: String,
    problems: Vec<FieldError>,
}

impl Lift {
    /// Sets the prefix of the following field paths (`teams[2].`).
    pub(crate) fn at(&mut self, prefix: String) -> &mut Self {
        self.prefix = prefix;
        self
    }

    fn problem(&mut self, field: &str) {
        self.problems.push(FieldError {
            field: format!("{}{field}", self.prefix),
            problem: Problem::InvalidFormat,
        });
    }

    /// A typed id, or a problem on `field` (and a nil id standing in until `finish`).
    pub(crate) fn id<T: FromStr + From<Uuid>>(&mut self, field: &str, s: &str) -> T {
        s.parse().unwrap_or_else(|_| {
            self.problem(field);
            T::from(Uuid::nil())
        })
    }

    /// `s` parsed, or a problem on `field` (and `placeholder` standing in until `finish`).
    pub(crate) fn parse_or<T: FromStr>(&mut self, field: &str, s: &str, placeholder: T) -> T {
        s.parse().unwrap_or_else(|_| {
            self.problem(field);
            placeholder
        })
    }

    /// A time from RFC 3339, or a problem on `field`.
    pub(crate) fn time(&mut self, field: &str, s: &str) -> Timestamp {
        Timestamp::parse_from_rfc3339(s).unwrap_or_else(|_| {
            self.problem(field);
            Timestamp::default()
        })
    }

    /// An optional time.
    pub(crate) fn opt_time(&mut self, field: &str, s: &Option<String>) -> Option<Timestamp> {
        s.as_deref().map(|s| self.time(field, s))
    }

    /// `value` if nothing went wrong, else every problem.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, FieldConsultError> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(ValidationErrors(self.problems).into())
        }
    }
}

/// RFC 3339 with milliseconds and the recorded offset.
pub(crate) fn time_string(t: &Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}
