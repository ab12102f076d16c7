//! Reviews by gender focal points and addenda to accepted sessions. Both are append-only.

use rusqlite::{Transaction, named_params};

use super::codec::{decode, encode};
use super::history::{self, Change};
use super::outbox::{self, Entity};
use super::reference::team_in;
use super::sessions::{live_in, set_status};
use super::visits::visit_in;
use super::{Store, now};
use crate::error::Result;
use fieldconsult_model::validation::{validate_addendum, validate_review};
use fieldconsult_model::{
    Action, Actor, Addendum, AddendumId, Decision, Review, ReviewId, SessionId, status::authorize,
};

impl Store {
    /// Records a reviewer's decision on a submitted session: accepted (final) or returned to
    /// the team with a comment (required).
    pub fn record_review(
        &self,
        actor: &Actor,
        session_id: &SessionId,
        decision: Decision,
        comment: &str,
    ) -> Result<Review> {
        let (at, ctx) = now();
        let mut review = Review {
            id: ReviewId::new(),
            session_id: *session_id,
            reviewer: actor.id.clone(),
            decision,
            comment: comment.to_owned(),
            at: at.fixed_offset(),
        };
        review.normalize();
        validate_review(&review, &ctx)?;
        let action = match decision {
            Decision::Accepted => Action::Accept,
            Decision::Returned => Action::Return,
        };
        self.write(|tx| {
            let (mut session, revision) = live_in(tx, session_id)?;
            let visit = visit_in(tx, &session.visit_id)?;
            let next = authorize(actor, action, session.status, &team_in(tx, &visit.team_id)?)?;
            let id = review.id.to_string();
            tx.prepare_cached(
                "INSERT INTO reviews (id, session_id, at_ms, body) VALUES (:id, :session, :at, :body)",
            )?
            .execute(named_params! {
                ":id": id,
                ":session": session_id.to_string(),
                ":at": at.timestamp_millis(),
                ":body": encode(&review, "review", &id)?,
            })?;
            let from = session.status;
            session.status = next;
            set_status(
                tx,
                &session,
                revision + 1,
                at,
                actor,
                from,
                action.code(),
                vec!["status".into()],
            )?;
            // The server applies the decision to the session when the review reaches it.
            outbox::enqueue(tx, Entity::Review, &id, false)?;
            Ok(())
        })?;
        Ok(review)
    }

    /// Appends a correction to an accepted session; the session itself never changes again.
    pub fn add_addendum(
        &self,
        actor: &Actor,
        session_id: &SessionId,
        text: &str,
    ) -> Result<Addendum> {
        let (at, ctx) = now();
        let mut addendum = Addendum {
            id: AddendumId::new(),
            session_id: *session_id,
            author: actor.id.clone(),
            text: text.to_owned(),
            at: at.fixed_offset(),
        };
        addendum.normalize();
        validate_addendum(&addendum, &ctx)?;
        self.write(|tx| {
            let (session, _) = live_in(tx, session_id)?;
            let visit = visit_in(tx, &session.visit_id)?;
            authorize(actor, Action::AddAddendum, session.status, &team_in(tx, &visit.team_id)?)?;
            let id = addendum.id.to_string();
            tx.prepare_cached(
                "INSERT INTO addenda (id, session_id, at_ms, body) VALUES (:id, :session, :at, :body)",
            )?
            .execute(named_params! {
                ":id": id,
                ":session": session_id.to_string(),
                ":at": at.timestamp_millis(),
                ":body": encode(&addendum, "addendum", &id)?,
            })?;
            outbox::enqueue(tx, Entity::Addendum, &id, false)?;
            history::append(
                tx,
                actor,
                at,
                Change {
                    entity: "addendum",
                    entity_id: &id,
                    action: "create",
                    revision: None,
                    from_status: None,
                    to_status: None,
                    fields: vec!["text".into()],
                },
            )
        })?;
        Ok(addendum)
    }
}

/// Reviews of a session, oldest first, within a transaction.
pub(crate) fn reviews_in(tx: &Transaction<'_>, session_id: &SessionId) -> Result<Vec<Review>> {
    bodies(
        tx,
        "SELECT id, body FROM reviews WHERE session_id = :s ORDER BY at_ms, id",
        session_id,
        "review",
    )
}

/// Addenda of a session, oldest first, within a transaction.
pub(crate) fn addenda_in(tx: &Transaction<'_>, session_id: &SessionId) -> Result<Vec<Addendum>> {
    bodies(
        tx,
        "SELECT id, body FROM addenda WHERE session_id = :s ORDER BY at_ms, id",
        session_id,
        "addendum",
    )
}

fn bodies<T: serde::de::DeserializeOwned>(
    tx: &Transaction<'_>,
    sql: &str,
    session_id: &SessionId,
    entity: &'static str,
) -> Result<Vec<T>> {
    let mut stmt = tx.prepare_cached(sql)?;
    let rows = stmt.query_map(named_params! {":s": session_id.to_string()}, |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, body) = row?;
        out.push(decode(&body, entity, &id)?);
    }
    Ok(out)
}
