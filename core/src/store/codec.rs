//! Encoding of stored bodies and times, with decode failures turned into typed errors.

use chrono::{DateTime, FixedOffset};
use fieldconsult_model::{FieldError, ValidationErrors};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// JSON of a record for a `body` column.
pub(crate) fn encode<T: Serialize>(value: &T, entity: &'static str, id: &str) -> Result<String> {
    serde_json::to_string(value).map_err(|_| Error::Corrupt {
        entity,
        id: id.to_owned(),
    })
}

/// A record from its `body` column.
pub(crate) fn decode<T: DeserializeOwned>(body: &str, entity: &'static str, id: &str) -> Result<T> {
    serde_json::from_str(body).map_err(|_| Error::Corrupt {
        entity,
        id: id.to_owned(),
    })
}

/// A timestamp rebuilt from its stored instant and offset.
pub(crate) fn timestamp(ms: i64, offset_s: i64) -> DateTime<FixedOffset> {
    let offset = i32::try_from(offset_s)
        .ok()
        .and_then(FixedOffset::east_opt)
        .unwrap_or_else(|| chrono::Utc.fix());
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&offset)
}

use chrono::Offset;

/// Validation errors of the `index`th item of list `list`, with paths prefixed accordingly.
pub(crate) fn in_list(list: &str, index: usize, errors: ValidationErrors) -> Vec<FieldError> {
    errors
        .0
        .into_iter()
        .map(|e| FieldError {
            field: format!("{list}[{index}].{}", e.field),
            problem: e.problem,
        })
        .collect()
}
