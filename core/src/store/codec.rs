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

/// `items` after `check` has normalised and validated each one, or the field problems of all
/// of them named `list[i].field`: reference data is stored all or nothing.
pub(crate) fn checked_list<T: Clone>(
    list: &str,
    items: &[T],
    mut check: impl FnMut(&mut T) -> Result<(), ValidationErrors>,
) -> Result<Vec<T>, ValidationErrors> {
    let mut out = items.to_vec();
    let mut errors = Vec::new();
    for (i, item) in out.iter_mut().enumerate() {
        if let Err(e) = check(item) {
            errors.extend(in_list(list, i, e));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ValidationErrors(errors))
    }
}

/// Validation errors of the `index`th item of list `list`, with paths prefixed accordingly.
fn in_list(list: &str, index: usize, errors: ValidationErrors) -> Vec<FieldError> {
    errors
        .0
        .into_iter()
        .map(|e| FieldError {
            field: format!("{list}[{index}].{}", e.field),
            problem: e.problem,
        })
        .collect()
}
