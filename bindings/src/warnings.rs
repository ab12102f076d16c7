//! Warnings on free text that looks like a phone number, an e-mail address or precise
//! coordinates, and on a session whose sensitive note or referral service is on the device
//! that wrote it; and the submission or save that confirms them. The rules are the model's
//! (`validation::pii`); the app shows them while the author edits and at submission.

use fieldconsult_model::validation::{self, WarningKind};

use crate::error::{FieldConsultError, guard};
use crate::lift::Lift;
use crate::session::{Identity, Session, Visit};
use crate::store::{FieldConsultStore, actor, session_id};

type Result<T> = std::result::Result<T, FieldConsultError>;

/// What a piece of free text looks like, or (`PlaintextElsewhere`) that the device that
/// wrote the session holds its sensitive note or referral service.
#[uniffi::remote(Enum)]
pub enum WarningKind {
    Phone,
    Email,
    Coordinates,
    PlaintextElsewhere,
}

/// One free-text field that looks like it holds a phone number, an e-mail address or
/// precise coordinates: its path and the kind, never the text.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct FieldWarning {
    /// Path of the field (`priorities[2].note`), as in validation problems.
    pub field: String,
    /// What the text looks like.
    pub kind: WarningKind,
}

impl From<validation::FieldWarning> for FieldWarning {
    fn from(w: validation::FieldWarning) -> Self {
        FieldWarning {
            field: w.field,
            kind: w.kind,
        }
    }
}

impl From<FieldWarning> for validation::FieldWarning {
    fn from(w: FieldWarning) -> Self {
        validation::FieldWarning {
            field: w.field,
            kind: w.kind,
        }
    }
}

/// The warnings of every free-text field of `session` (the sensitive note included), for
/// the author to check and confirm before submitting.
#[uniffi::export]
pub fn session_warnings(session: Session) -> Result<Vec<FieldWarning>> {
    guard(|| {
        let mut l = Lift::default();
        let session = session.lift(&mut l);
        let session = l.finish(session)?;
        Ok(validation::session_warnings(&session)
            .into_iter()
            .map(Into::into)
            .collect())
    })
}

/// The warnings of a visit's notes.
#[uniffi::export]
pub fn visit_warnings(visit: Visit) -> Result<Vec<FieldWarning>> {
    guard(|| {
        let mut l = Lift::default();
        let visit = visit.lift(&mut l);
        let visit = l.finish(visit)?;
        Ok(validation::visit_warnings(&visit)
            .into_iter()
            .map(Into::into)
            .collect())
    })
}

#[uniffi::export]
impl FieldConsultStore {
    /// Submits a session whose warnings the author has seen and confirmed. The
    /// confirmation holds for this submission only and is checked against the session as
    /// stored: a warning on a field edited since, or a new one, is refused again with
    /// `UnconfirmedWarnings`.
    pub fn submit_session_confirming(
        &self,
        actor: Identity,
        session_id: String,
        confirmed: Vec<FieldWarning>,
    ) -> Result<Session> {
        guard(|| {
            let id = self::session_id(&session_id)?;
            let confirmed: Vec<validation::FieldWarning> =
                confirmed.into_iter().map(Into::into).collect();
            Ok(self
                .store()?
                .submit_session_confirming(&self::actor(actor)?, &id, &confirmed)?
                .into())
        })
    }

    /// Saves a visit whose warnings (`visitWarnings`) the author has seen and confirmed. A
    /// warning confirmed once holds for later saves while the stored visit still raises it;
    /// a new one is refused with `UnconfirmedWarnings`.
    pub fn save_visit_confirming(
        &self,
        actor: Identity,
        visit: Visit,
        confirmed: Vec<FieldWarning>,
    ) -> Result<Visit> {
        guard(|| {
            let mut l = Lift::default();
            let visit = visit.lift(&mut l);
            let visit = l.finish(visit)?;
            let confirmed: Vec<validation::FieldWarning> =
                confirmed.into_iter().map(Into::into).collect();
            Ok(self
                .store()?
                .save_visit_confirming(&self::actor(actor)?, &visit, &confirmed)?
                .into())
        })
    }
}
