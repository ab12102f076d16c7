//! What the server does with each pushed record: authorization, validation, the status
//! workflow, idempotence and conflicts. Backend-independent: it runs against a [`RecordTx`]
//! inside the backend's write transaction.
//!
//! Order of checks for one change: the device's signature (`unsigned`, `bad_signature`;
//! verified by [`verify_signatures`] before the write transaction) and nonce (`replayed`),
//! then rights (`forbidden`), idempotence (`AlreadyStored`), validation (`validation`),
//! conflict (`Conflict`, the pushed version filed as `conflict_lost`), workflow
//! (`invalid_transition`), then store.

use chrono::{DateTime, Utc};
use fieldconsult_model::status::{self, Action, Actor, Role, Status, TransitionError};
use fieldconsult_model::validation::{
    Completeness, FieldError, PLAINTEXT_ELSEWHERE_FIELD, Problem, ValidationContext,
    ValidationErrors, validate_addendum, validate_community, validate_review,
    validate_sent_session, validate_session, validate_visit,
};
use fieldconsult_model::wire::{
    Ack, AckOutcome, ChangeSignatureError, ConflictNotice, ConsentWithdrawal, PushChange, Record,
    SessionTombstone, VerifiedChange,
};
use fieldconsult_model::{Decision, Session, Team};

use crate::storage::{Device, HistoryOutcome, RecordTx, StorageError, StoredRecord};

pub use fieldconsult_model::wire::reasons;

/// A refusal of one change.
struct Refusal {
    reason: &'static str,
    problems: Vec<FieldError>,
}

impl Refusal {
    fn new(reason: &'static str) -> Self {
        Refusal {
            reason,
            problems: Vec::new(),
        }
    }
}

impl From<ValidationErrors> for Refusal {
    fn from(e: ValidationErrors) -> Self {
        Refusal {
            reason: reasons::VALIDATION,
            problems: e.0,
        }
    }
}

impl From<TransitionError> for Refusal {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::NotPermitted { .. } => Refusal::new(reasons::FORBIDDEN),
            TransitionError::NotAllowed { .. } => Refusal::new(reasons::INVALID_TRANSITION),
        }
    }
}

enum Step {
    Done(Ack),
    Refused(Refusal),
}

/// What the signature check found for one change, before the write transaction.
pub type SignatureVerdict = Result<VerifiedChange, ChangeSignatureError>;

/// Checks each change's signature against the device's registered key (none registered:
/// every change is unsigned). Pure computation, ≈70 µs a change: a backend runs it before
/// taking the writer, so that a batch's signatures do not hold up other devices' pushes.
pub fn verify_signatures(device: &Device, changes: &[PushChange]) -> Vec<SignatureVerdict> {
    changes
        .iter()
        .map(|change| match &device.public_key {
            Some(key) => change.verify(&device.id, key),
            None => Err(ChangeSignatureError::Unsigned),
        })
        .collect()
}

/// Applies one pushed change, whose signature [`verify_signatures`] judged as `verdict`,
/// and says what became of it.
pub fn apply_change(
    tx: &mut dyn RecordTx,
    device: &Device,
    change: &PushChange,
    verdict: &SignatureVerdict,
    now: DateTime<Utc>,
) -> Result<Ack, StorageError> {
    let record = &change.record;
    let kind = record.kind().to_owned();
    let id = record.id();
    let ctx = ValidationContext::at(now);
    let actor = Actor {
        id: device.id.clone(),
        role: device.role.clone(),
    };
    if let Err(refusal) = check_signature(tx, device, verdict)? {
        return Ok(Ack {
            hash: current_hash(tx, &kind, &id)?,
            kind,
            id,
            outcome: AckOutcome::Rejected {
                reason: refusal.reason.to_owned(),
                problems: refusal.problems,
            },
        });
    }
    let step = match record {
        Record::Team(_)
        | Record::Checklist(_)
        | Record::ReferralService(_)
        | Record::SealingKeys(_)
        | Record::Conflict(_)
        | Record::Bundle(_) => Step::Refused(Refusal::new(reasons::FORBIDDEN)),
        Record::Community(c) => {
            if !matches!(device.role, Role::TeamMember { .. }) {
                Step::Refused(Refusal::new(reasons::FORBIDDEN))
            } else {
                store_plain(tx, device, change, None, now, || validate_community(c))?
            }
        }
        Record::Visit(v) => match team_member_owner(tx, &device.role, &v.team_id.to_string())? {
            Err(r) => Step::Refused(r),
            Ok(owner) => {
                if let Some(stored) = tx.get("visit", &id)?
                    && stored.team_id.as_deref() != Some(owner.id.to_string().as_str())
                {
                    Step::Refused(Refusal::new(reasons::FORBIDDEN))
                } else {
                    store_plain(tx, device, change, Some(&owner), now, || {
                        validate_visit(v, &ctx)
                    })?
                }
            }
        },
        Record::Session(s) => push_session(tx, device, &actor, change, s, now, &ctx)?,
        Record::SessionTombstone(t) => push_tombstone(tx, device, &actor, change, t, now)?,
        Record::ConsentWithdrawal(w) => push_withdrawal(tx, &actor, change, w, now)?,
        Record::Review(r) => push_review(tx, &actor, change, r, now, &ctx)?,
        Record::Addendum(a) => match session_owner(tx, &a.session_id.to_string())? {
            None => Step::Refused(Refusal::new(reasons::UNKNOWN_PARENT)),
            Some((session, owner)) => {
                match status::authorize(&actor, Action::AddAddendum, session.status, &owner) {
                    Err(e) => Step::Refused(e.into()),
                    Ok(_) => {
                        store_append_only(tx, change, &owner, now, || validate_addendum(a, &ctx))?
                    }
                }
            }
        },
    };
    Ok(match step {
        Step::Done(ack) => ack,
        Step::Refused(r) => Ack {
            hash: current_hash(tx, &kind, &id)?,
            kind,
            id,
            outcome: AckOutcome::Rejected {
                reason: r.reason.to_owned(),
                problems: r.problems,
            },
        },
    })
}

/// Refuses a change whose signature did not verify, or whose nonce the device used before
/// for other content; remembers the nonce. A retry of the same signed change passes and is
/// then answered by the rules below, as before.
fn check_signature(
    tx: &mut dyn RecordTx,
    device: &Device,
    verdict: &SignatureVerdict,
) -> Result<Result<(), Refusal>, StorageError> {
    let verified = match verdict {
        Ok(v) => v,
        Err(e) => return Ok(Err(Refusal::new(e.reason()))),
    };
    match tx.nonce_digest(&device.id, &verified.nonce)? {
        Some(digest) if digest != verified.content_digest => {
            Ok(Err(Refusal::new(reasons::REPLAYED)))
        }
        Some(_) => Ok(Ok(())),
        None => {
            tx.remember_nonce(&device.id, &verified.nonce, &verified.content_digest)?;
            Ok(Ok(()))
        }
    }
}

fn current_hash(tx: &mut dyn RecordTx, kind: &str, id: &str) -> Result<String, StorageError> {
    Ok(tx.get(kind, id)?.map(|s| s.hash).unwrap_or_default())
}

fn ack(record: &Record, outcome: AckOutcome, hash: String) -> Step {
    Step::Done(Ack {
        kind: record.kind().to_owned(),
        id: record.id(),
        outcome,
        hash,
    })
}

/// The team `team_id` if `role` is a member of it.
fn team_member_owner(
    tx: &mut dyn RecordTx,
    role: &Role,
    team_id: &str,
) -> Result<Result<Team, Refusal>, StorageError> {
    match role {
        Role::TeamMember { team_id: mine } if mine.to_string() == team_id => {
            Ok(tx.team(team_id)?.ok_or(Refusal::new(reasons::FORBIDDEN)))
        }
        _ => Ok(Err(Refusal::new(reasons::FORBIDDEN))),
    }
}

/// The team owning a stored visit.
fn visit_owner(tx: &mut dyn RecordTx, visit_id: &str) -> Result<Option<Team>, StorageError> {
    match tx.get("visit", visit_id)? {
        Some(StoredRecord {
            record: Record::Visit(v),
            ..
        }) => tx.team(&v.team_id.to_string()),
        _ => Ok(None),
    }
}

/// A stored session and the team owning it.
fn session_owner(
    tx: &mut dyn RecordTx,
    session_id: &str,
) -> Result<Option<(Box<Session>, Team)>, StorageError> {
    match tx.get("session", session_id)? {
        Some(StoredRecord {
            record: Record::Session(s),
            ..
        }) => Ok(visit_owner(tx, &s.visit_id.to_string())?.map(|owner| (s, owner))),
        _ => Ok(None),
    }
}

/// Idempotence, validation and conflict for a record without workflow; stores it if all pass.
fn store_plain(
    tx: &mut dyn RecordTx,
    device: &Device,
    change: &PushChange,
    owner: Option<&Team>,
    now: DateTime<Utc>,
    validate: impl FnOnce() -> Result<(), ValidationErrors>,
) -> Result<Step, StorageError> {
    let record = &change.record;
    let hash = record.hash();
    let stored = tx.get(record.kind(), &record.id())?;
    if let Some(s) = &stored
        && s.hash == hash
    {
        return Ok(ack(record, AckOutcome::AlreadyStored, hash));
    }
    if let Err(e) = validate() {
        return Ok(Step::Refused(e.into()));
    }
    let stored_hash = stored.as_ref().map(|s| s.hash.clone());
    if !builds_on(tx, device, change, stored_hash.as_deref())? {
        return conflict(tx, device, change, hash, stored_hash, owner, now);
    }
    if let Some(old) = &stored {
        tx.file_history(&old.record, &old.hash, HistoryOutcome::Superseded, now)?;
    }
    tx.put(record, &hash, owner, now)?;
    Ok(ack(record, AckOutcome::Stored, hash))
}

/// Whether `change` may replace the version the server holds (`stored_hash`): it was built on
/// it, or that version is the pusher's own, whose acknowledgement the device never received
/// (a lost answer leaves it with an older base), so it built on it all the same.
fn builds_on(
    tx: &mut dyn RecordTx,
    device: &Device,
    change: &PushChange,
    stored_hash: Option<&str>,
) -> Result<bool, StorageError> {
    if change.base_hash.as_deref() == stored_hash {
        return Ok(true);
    }
    if stored_hash.is_none() {
        return Ok(false);
    }
    let record = &change.record;
    let kinds: &[&str] = match record {
        // A session and its deletion are versions of one record.
        Record::Session(_) | Record::SessionTombstone(_) => &["session", "session_tombstone"],
        other => &[other.kind()],
    };
    Ok(tx.last_author(kinds, &record.id())?.as_deref() == Some(device.id.as_str()))
}

/// An edit built on `change.base_hash` while the server holds `stored_hash`: the server keeps
/// its version, files the edit in its history and, for a record with an owner team, sends a
/// [`ConflictNotice`] with the edit to that team and its reviewers (once per edit: a resent
/// push files no second notice).
fn conflict(
    tx: &mut dyn RecordTx,
    device: &Device,
    change: &PushChange,
    hash: String,
    stored_hash: Option<String>,
    owner: Option<&Team>,
    now: DateTime<Utc>,
) -> Result<Step, StorageError> {
    let record = &change.record;
    let kept_hash = stored_hash.unwrap_or_default();
    if tx.get("conflict", &hash)?.is_none() {
        tx.file_history(record, &hash, HistoryOutcome::ConflictLost, now)?;
        if let Some(owner) = owner {
            let notice = Record::Conflict(ConflictNotice {
                lost_hash: hash,
                kept_hash: kept_hash.clone(),
                base_hash: change.base_hash.clone(),
                device_id: device.id.clone(),
                detected_at: millis(now),
                lost: Box::new(record.clone()),
            });
            tx.put(&notice, &notice.hash(), Some(owner), now)?;
        }
    }
    Ok(ack(record, AckOutcome::Conflict, kept_hash))
}

/// `now` as a model timestamp (UTC, to the millisecond, as the model keeps times).
fn millis(now: DateTime<Utc>) -> fieldconsult_model::Timestamp {
    let mut t = now.fixed_offset();
    fieldconsult_model::time::round_to_stored_precision(&mut t);
    t
}

/// Like [`store_plain`] for append-only records: an existing one with other content is
/// refused as `immutable` and filed as `conflict_lost`.
fn store_append_only(
    tx: &mut dyn RecordTx,
    change: &PushChange,
    owner: &Team,
    now: DateTime<Utc>,
    validate: impl FnOnce() -> Result<(), ValidationErrors>,
) -> Result<Step, StorageError> {
    let record = &change.record;
    let hash = record.hash();
    if let Some(s) = tx.get(record.kind(), &record.id())? {
        if s.hash == hash {
            return Ok(ack(record, AckOutcome::AlreadyStored, hash));
        }
        tx.file_history(record, &hash, HistoryOutcome::ConflictLost, now)?;
        return Ok(Step::Refused(Refusal::new(reasons::IMMUTABLE)));
    }
    if let Err(e) = validate() {
        return Ok(Step::Refused(e.into()));
    }
    tx.put(record, &hash, Some(owner), now)?;
    Ok(ack(record, AckOutcome::Stored, hash))
}

fn push_session(
    tx: &mut dyn RecordTx,
    device: &Device,
    actor: &Actor,
    change: &PushChange,
    session: &Session,
    now: DateTime<Utc>,
    ctx: &ValidationContext,
) -> Result<Step, StorageError> {
    let record = &change.record;
    let id = record.id();
    let Some(owner) = visit_owner(tx, &session.visit_id.to_string())? else {
        return Ok(Step::Refused(Refusal::new(reasons::UNKNOWN_PARENT)));
    };
    let own_team = matches!(&actor.role, Role::TeamMember { team_id } if *team_id == owner.id);
    if !own_team {
        return Ok(Step::Refused(Refusal::new(reasons::FORBIDDEN)));
    }
    if is_withdrawn(tx, &id)? {
        return Ok(Step::Refused(Refusal::new(reasons::CONSENT_WITHDRAWN)));
    }
    let hash = record.hash();
    let stored = tx.get("session", &id)?;
    let stored_session = match &stored {
        Some(StoredRecord {
            record: Record::Session(s),
            hash: h,
            ..
        }) => {
            if *h == hash {
                return Ok(ack(record, AckOutcome::AlreadyStored, hash));
            }
            Some(s.clone())
        }
        _ => None,
    };

    // Validation: always as a draft; a submitted session also complete against the
    // checklist version it answered.
    let mut problems = match validate_session(session, Completeness::Draft, ctx) {
        Ok(()) => Vec::new(),
        Err(e) => e.0,
    };
    // The sensitive note travels only sealed, whatever the status: a plaintext note here
    // is refused (and nothing of it stored), naming the field.
    if let Err(e) = validate_sent_session(session) {
        for p in e.0 {
            if !problems.contains(&p) {
                problems.push(p);
            }
        }
    }
    if session.status == Status::Submitted {
        match tx.get("checklist", &session.checklist_version.to_string())? {
            Some(StoredRecord {
                record: Record::Checklist(checklist),
                ..
            }) => {
                if let Err(e) = validate_session(session, Completeness::Submit(&checklist), ctx) {
                    for p in e.0 {
                        if !problems.contains(&p) {
                            problems.push(p);
                        }
                    }
                }
            }
            _ => problems.push(FieldError {
                field: "checklist_version".to_owned(),
                problem: Problem::Unknown,
            }),
        }
    }
    if let Some(old) = &stored_session
        && old.visit_id != session.visit_id
    {
        problems.push(FieldError {
            field: "visit_id".to_owned(),
            problem: Problem::ReadOnly,
        });
    }
    if !problems.is_empty() {
        return Ok(Step::Refused(Refusal {
            reason: reasons::VALIDATION,
            problems,
        }));
    }

    // A session deleted on the server (by another device) has its tombstone as its current
    // version: sending the session again must not bring it back unseen.
    let stored_hash = match &stored {
        Some(s) => Some(s.hash.clone()),
        None => tx.get("session_tombstone", &id)?.map(|t| t.hash),
    };
    if !builds_on(tx, device, change, stored_hash.as_deref())? {
        return conflict(tx, device, change, hash, stored_hash, Some(&owner), now);
    }

    let from = stored_session.as_ref().map_or(Status::Draft, |s| s.status);
    let to = session.status;
    let action = match (from, to) {
        _ if from == to => Action::Edit,
        (_, Status::Submitted) => Action::Submit,
        (_, Status::Accepted) => Action::Accept,
        (_, Status::Returned) => Action::Return,
        (_, Status::Draft) => return Ok(Step::Refused(Refusal::new(reasons::INVALID_TRANSITION))),
    };
    let allowed = match status::authorize(actor, action, from, &owner) {
        Ok(next) => next == to,
        Err(e) => return Ok(Step::Refused(e.into())),
    };
    if !allowed {
        return Ok(Step::Refused(Refusal::new(reasons::INVALID_TRANSITION)));
    }
    // A device lists or unlists only itself as holding plaintext of a draft, so no device
    // hides a teammate's note from the confirmation submitting asks for; submission, which
    // leaves the list empty (validated above), clears it for everyone.
    if let Some(old) = &stored_session
        && to != Status::Submitted
        && old
            .plaintext_held_by
            .symmetric_difference(&session.plaintext_held_by)
            .any(|d| *d != device.id)
    {
        return Ok(Step::Refused(Refusal {
            reason: reasons::VALIDATION,
            problems: vec![FieldError {
                field: PLAINTEXT_ELSEWHERE_FIELD.to_owned(),
                problem: Problem::ReadOnly,
            }],
        }));
    }
    if let Some(old) = &stored {
        tx.file_history(&old.record, &old.hash, HistoryOutcome::Superseded, now)?;
    } else if stored_hash.is_some() {
        // Brought back, knowingly, after its deletion: the session replaces its tombstone.
        tx.remove("session_tombstone", &id)?;
    }
    tx.put(record, &hash, Some(&owner), now)?;
    Ok(ack(record, AckOutcome::Stored, hash))
}

/// A deleted draft: allowed as a delete of the stored session (rights over that session's
/// visit), built on the session version the device last saw; the session leaves the current
/// records for history and the tombstone takes its place for the other devices.
fn push_tombstone(
    tx: &mut dyn RecordTx,
    device: &Device,
    actor: &Actor,
    change: &PushChange,
    t: &SessionTombstone,
    now: DateTime<Utc>,
) -> Result<Step, StorageError> {
    let record = &change.record;
    let id = record.id();
    let hash = record.hash();
    let Some(owner) = visit_owner(tx, &t.visit_id.to_string())? else {
        return Ok(Step::Refused(Refusal::new(reasons::UNKNOWN_PARENT)));
    };
    if is_withdrawn(tx, &id)? {
        // Deleted already, more thoroughly than a draft's deletion would.
        return Ok(ack(record, AckOutcome::AlreadyStored, hash));
    }
    if tx
        .get("session_tombstone", &id)?
        .is_some_and(|stored| stored.hash == hash)
    {
        return Ok(ack(record, AckOutcome::AlreadyStored, hash));
    }
    let stored_session = tx.get("session", &id)?;
    let (status_now, same_visit) = match &stored_session {
        Some(StoredRecord {
            record: Record::Session(s),
            ..
        }) => (s.status, s.visit_id == t.visit_id),
        _ => (Status::Draft, true),
    };
    // The rights are those over the session's own visit: a tombstone naming another visit
    // (one's own) must not reach another team's draft.
    if !same_visit {
        return Ok(Step::Refused(Refusal::new(reasons::FORBIDDEN)));
    }
    if let Err(e) = status::authorize(actor, Action::Delete, status_now, &owner) {
        return Ok(Step::Refused(e.into()));
    }
    // The deletion replaces the session: it is built on the session's version, not on an
    // earlier tombstone.
    let stored_hash = stored_session.as_ref().map(|s| s.hash.clone());
    if stored_hash.is_some() && !builds_on(tx, device, change, stored_hash.as_deref())? {
        return conflict(tx, device, change, hash, stored_hash, Some(&owner), now);
    }
    if let Some(old) = stored_session {
        tx.file_history(&old.record, &old.hash, HistoryOutcome::Superseded, now)?;
        tx.remove("session", &id)?;
    }
    tx.put(record, &hash, Some(&owner), now)?;
    Ok(ack(record, AckOutcome::Stored, hash))
}

/// Whether the consent of session `id` was withdrawn: it must not come back.
fn is_withdrawn(tx: &mut dyn RecordTx, id: &str) -> Result<bool, StorageError> {
    Ok(tx.get("consent_withdrawal", id)?.is_some())
}

/// Consent withdrawn by the authoring team (any status): the session, its reviews, addenda,
/// conflict notices and every stored version of them are deleted; only the withdrawal (ids
/// and a time) is kept, and served by pull so that the other devices in scope delete their
/// copies. A resend, or a second device of the team withdrawing too, changes nothing.
fn push_withdrawal(
    tx: &mut dyn RecordTx,
    actor: &Actor,
    change: &PushChange,
    w: &ConsentWithdrawal,
    now: DateTime<Utc>,
) -> Result<Step, StorageError> {
    let record = &change.record;
    let id = record.id();
    if let Some(stored) = tx.get("consent_withdrawal", &id)? {
        return Ok(ack(record, AckOutcome::AlreadyStored, stored.hash));
    }
    let Some(owner) = visit_owner(tx, &w.visit_id.to_string())? else {
        return Ok(Step::Refused(Refusal::new(reasons::UNKNOWN_PARENT)));
    };
    let status = match tx.get("session", &id)? {
        Some(StoredRecord {
            record: Record::Session(s),
            ..
        }) => {
            // The rights are those over the session's own visit.
            if s.visit_id != w.visit_id {
                return Ok(Step::Refused(Refusal::new(reasons::FORBIDDEN)));
            }
            s.status
        }
        _ => Status::Draft,
    };
    if let Err(e) = status::authorize(actor, Action::WithdrawConsent, status, &owner) {
        return Ok(Step::Refused(e.into()));
    }
    tx.erase_session(&id)?;
    let hash = record.hash();
    tx.put(record, &hash, Some(&owner), now)?;
    Ok(ack(record, AckOutcome::Stored, hash))
}

fn push_review(
    tx: &mut dyn RecordTx,
    actor: &Actor,
    change: &PushChange,
    review: &fieldconsult_model::Review,
    now: DateTime<Utc>,
    ctx: &ValidationContext,
) -> Result<Step, StorageError> {
    let record = &change.record;
    let session_id = review.session_id.to_string();
    let Some((session, owner)) = session_owner(tx, &session_id)? else {
        return Ok(Step::Refused(Refusal::new(reasons::UNKNOWN_PARENT)));
    };
    let reviewer_of_sector =
        matches!(&actor.role, Role::Reviewer { sector } if *sector == owner.sector);
    if !reviewer_of_sector {
        return Ok(Step::Refused(Refusal::new(reasons::FORBIDDEN)));
    }
    let hash = record.hash();
    if let Some(stored) = tx.get("review", &record.id())? {
        if stored.hash == hash {
            return Ok(ack(record, AckOutcome::AlreadyStored, hash));
        }
        tx.file_history(record, &hash, HistoryOutcome::ConflictLost, now)?;
        return Ok(Step::Refused(Refusal::new(reasons::IMMUTABLE)));
    }
    if let Err(e) = validate_review(review, ctx) {
        return Ok(Step::Refused(e.into()));
    }
    let action = match review.decision {
        Decision::Accepted => Action::Accept,
        Decision::Returned => Action::Return,
    };
    let next = match status::authorize(actor, action, session.status, &owner) {
        Ok(next) => next,
        Err(TransitionError::NotAllowed { .. }) => {
            // Another decision got there first (two reviewers): keep the first, file this one.
            tx.file_history(record, &hash, HistoryOutcome::ConflictLost, now)?;
            return Ok(ack(record, AckOutcome::Conflict, String::new()));
        }
        Err(e) => return Ok(Step::Refused(e.into())),
    };
    tx.put(record, &hash, Some(&owner), now)?;

    // The decision moves the session: a new version, with its own hash and change entry.
    let old_session = Record::Session(session.clone());
    let old_hash = old_session.hash();
    let mut decided = session;
    decided.status = next;
    let new_session = Record::Session(decided);
    tx.file_history(&old_session, &old_hash, HistoryOutcome::Superseded, now)?;
    // The reviewer's device moved its copy itself, but must learn the server's hash of it:
    // without it, the team resubmitting the very version it first submitted would look like
    // the version the reviewer already holds.
    tx.put_derived(&new_session, &new_session.hash(), Some(&owner), now)?;
    Ok(ack(record, AckOutcome::Stored, hash))
}
