//! Consent withdrawal: the session goes from this device and, if the server had it, from
//! the server and every device in scope. See `fieldconsult_core::store::consent`.

use fieldconsult_core::Withdrawal;

use crate::error::{FieldConsultError, guard};
use crate::session::Identity;
use crate::store::{FieldConsultStore, actor, session_id};

/// What withdrawing consent did.
#[uniffi::remote(Enum)]
pub enum Withdrawal {
    /// The server never had the session: it is gone, and nothing will be sent.
    Erased,
    /// The server may hold it: it is gone from this device, and the withdrawal (ids and
    /// time only) goes with the next sync.
    Queued,
}

#[uniffi::export]
impl FieldConsultStore {
    /// Deletes a session of the actor's team because its participants withdrew their
    /// consent, in any status. Only the authoring team may (`NotPermitted` otherwise).
    pub fn withdraw_consent(
        &self,
        actor: Identity,
        session_id: String,
    ) -> Result<Withdrawal, FieldConsultError> {
        guard(|| {
            let id = self::session_id(&session_id)?;
            Ok(self.store()?.withdraw_consent(&self::actor(actor)?, &id)?)
        })
    }
}
