//! Warnings on free text (a phone number, an e-mail address, precise coordinates) that the
//! author must confirm before the text goes on: at a session's submission, at a visit's save.

use crate::error::{Error, Result};
use fieldconsult_model::FieldWarning;
use fieldconsult_model::validation::pii::unconfirmed;

/// Refuses when any of `raised` is not in `confirmed`, listing those (field and kind only).
pub(crate) fn require_confirmed(
    raised: impl IntoIterator<Item = FieldWarning>,
    confirmed: &[FieldWarning],
) -> Result<()> {
    let raised: Vec<FieldWarning> = raised.into_iter().collect();
    let left = unconfirmed(&raised, confirmed);
    if left.is_empty() {
        Ok(())
    } else {
        Err(Error::UnconfirmedWarnings { warnings: left })
    }
}
