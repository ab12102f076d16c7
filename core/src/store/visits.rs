//! Visits: one team's visit to one community.

use rusqlite::{OptionalExtension, Transaction, named_params};

use super::codec::{decode, encode};
use super::history::{self, Change, changed_fields};
use super::outbox::{self, Entity};
use super::reference::{community_exists, team_in};
use super::warnings::require_confirmed;
use super::{Store, now};
use crate::error::{Error, Result};
use fieldconsult_model::validation::{FieldWarning, validate_visit, visit_warnings};
use fieldconsult_model::{
    Action, Actor, FieldError, Problem, Role, TransitionError, ValidationErrors, Visit, VisitId,
};

impl Store {
    /// Creates a visit of the actor's team, or updates it (times, notes). A visit's team and
    /// community do not change once it has sessions.
    ///
    /// Notes that look like a phone number, an e-mail address or precise coordinates must be
    /// confirmed, since a visit travels as it is saved: a warning the stored visit did not
    /// raise is [`Error::UnconfirmedWarnings`], and the author saves again with
    /// [`Store::save_visit_confirming`].
    pub fn save_visit(&self, actor: &Actor, visit: &Visit) -> Result<Visit> {
        self.save_visit_confirming(actor, visit, &[])
    }

    /// [`Store::save_visit`], with the warnings the author has seen and confirmed
    /// (`fieldconsult_model::validation::visit_warnings` of the visit as shown). A warning
    /// confirmed once holds for later saves while the stored visit still raises it.
    pub fn save_visit_confirming(
        &self,
        actor: &Actor,
        visit: &Visit,
        confirmed: &[FieldWarning],
    ) -> Result<Visit> {
        let mut visit = visit.clone();
        visit.normalize();
        let (at, ctx) = now();
        validate_visit(&visit, &ctx)?;
        match &actor.role {
            Role::TeamMember { team_id } if *team_id == visit.team_id => {}
            _ => {
                return Err(TransitionError::NotPermitted {
                    action: Action::Edit,
                }
                .into());
            }
        }
        self.write(|tx| {
            team_in(tx, &visit.team_id)?;
            if !community_exists(tx, &visit.community_id)? {
                return Err(unknown("community_id"));
            }
            let id = visit.id.to_string();
            let before = visit_row(tx, &visit.id)?;
            let raised = visit_warnings(&visit);
            let seen = before.as_ref().map(|(v, _)| visit_warnings(v));
            require_confirmed(
                raised
                    .into_iter()
                    .filter(|w| seen.as_ref().is_none_or(|s| !s.contains(w))),
                confirmed,
            )?;
            let revision = match &before {
                Some((old, rev)) => {
                    let moved =
                        old.team_id != visit.team_id || old.community_id != visit.community_id;
                    if moved && has_sessions(tx, &visit.id)? {
                        return Err(Error::Validation(ValidationErrors(vec![FieldError {
                            field: "community_id".into(),
                            problem: Problem::ReadOnly,
                        }])));
                    }
                    rev + 1
                }
                None => 1,
            };
            let body = encode(&visit, "visit", &id)?;
            tx.prepare_cached(
                "INSERT INTO visits (id, team_id, community_id, started_ms, body, revision)
                 VALUES (:id, :team, :community, :started, :body, :revision)
                 ON CONFLICT (id) DO UPDATE SET team_id = excluded.team_id,
                     community_id = excluded.community_id, started_ms = excluded.started_ms,
                     body = excluded.body, revision = excluded.revision",
            )?
            .execute(named_params! {
                ":id": id,
                ":team": visit.team_id.to_string(),
                ":community": visit.community_id.to_string(),
                ":started": visit.started_at.timestamp_millis(),
                ":body": body,
                ":revision": revision,
            })?;
            outbox::enqueue(tx, Entity::Visit, &id, false)?;
            let before_json = before.map(|(v, _)| serde_json::to_value(v).unwrap_or_default());
            let after_json = serde_json::to_value(&visit).unwrap_or_default();
            history::append(
                tx,
                actor,
                at,
                Change {
                    entity: "visit",
                    entity_id: &id,
                    action: if revision == 1 { "create" } else { "edit" },
                    revision: Some(revision),
                    from_status: None,
                    to_status: None,
                    fields: changed_fields(before_json.as_ref(), &after_json),
                },
            )?;
            Ok(())
        })?;
        Ok(visit)
    }

    /// One visit.
    pub fn visit(&self, id: &VisitId) -> Result<Visit> {
        self.read(|tx| visit_in(tx, id))
    }
}

/// An unknown-reference validation error on `field`.
pub(crate) fn unknown(field: &str) -> Error {
    Error::Validation(ValidationErrors(vec![FieldError {
        field: field.into(),
        problem: Problem::Unknown,
    }]))
}

fn has_sessions(tx: &Transaction<'_>, id: &VisitId) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM sessions WHERE visit_id = :id")?
        .exists(named_params! {":id": id.to_string()})?)
}

fn visit_row(tx: &Transaction<'_>, id: &VisitId) -> Result<Option<(Visit, i64)>> {
    let id_s = id.to_string();
    let row: Option<(String, i64)> = tx
        .prepare_cached("SELECT body, revision FROM visits WHERE id = :id")?
        .query_row(named_params! {":id": id_s}, |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(body, rev)| Ok((decode(&body, "visit", &id_s)?, rev)))
        .transpose()
}

/// The visit with `id`, within a transaction.
pub(crate) fn visit_in(tx: &Transaction<'_>, id: &VisitId) -> Result<Visit> {
    visit_row(tx, id)?.map(|(v, _)| v).ok_or(Error::NotFound {
        entity: "visit",
        id: id.to_string(),
    })
}
