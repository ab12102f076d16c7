//! Sealed fields on the device: the sensitive note and the service a referral went to.
//!
//! **Their plaintext never leaves the device that wrote it, drafts included.** Drafts are
//! pushed like every other record (so a colleague's device and the server see the work in
//! progress), but a session always travels as [`Session::as_sent`]: without
//! `sensitive_note` and `referral.service_id` (a referral stays visible as offered). The
//! plaintext stays in the local row only, and:
//!
//! - *Acknowledgements* compare the server's hash with the hash of what was sent, which is
//!   the hash of the record without the plaintext ([`super::sync::load_record`] builds the
//!   record a push sends and a pull compares against); an edit of the note or of the service
//!   alone therefore leaves the record synced as far as the server is concerned, which is
//!   right: the server never holds them.
//! - *Convergence* holds on the sent form: device and server agree on the hash of every
//!   record as it travels.
//! - *The author's plaintext is never lost locally*: a pulled version of a draft or returned
//!   session (a colleague's edit) carries none, so applying it keeps what this device holds
//!   ([`keep_local_plaintext`]). Another device of the team never sees it: it was not written
//!   there.
//! - *No device submits away plaintext held elsewhere unknowingly*: the sent form lists the
//!   devices holding plaintext of the session ([`Session::plaintext_held_by`]), each device
//!   listing itself; a device's own copy keeps the others, and submitting while any is listed
//!   needs the `PlaintextElsewhere` warning confirmed. Two devices that each wrote a note
//!   therefore each see the other's.
//!
//! At submission ([`Store::submit_session`]) a non-empty note and a referral's service are
//! each sealed with HPKE (`fieldconsult_model::crypto::seal`, one [`SealContext`] per field,
//! so a seal moved to the other field does not open) to the sector's focal point keys and the
//! mission's escrow key, pulled as [`SealingKeys`] reference data, and the plaintext is
//! removed from the row in the same transaction (`secure_delete` overwrites the freed bytes;
//! the outbox holds ids only and the history field names only); the WAL is then checkpointed
//! and truncated, because its superseded frames still hold every draft version of the row.
//! Without keys for the sector the submission fails with [`Error::NoSealingKeys`] and the
//! session stays a draft: fail closed. After sealing, the team device holds no key that opens
//! either field.
//!
//! A reviewer's device holds its own X25519 key pair, generated here on first use and kept
//! only in the encrypted store ([`Store::sealing_public_key`] gives the public half for the
//! mission admin to register); [`Store::open_sensitive_note`] and
//! [`Store::open_referral_service`] open a pulled session's sealed fields offline and record
//! who opened which, and when, in the local history (never the value).

use rusqlite::{OptionalExtension, Transaction, named_params};
use zeroize::Zeroizing;

use super::codec::{checked_list, decode, encode};
use super::history::{self, Change};
use super::sessions::{live_in, live_or_none_in};
use super::sync::own_device_id;
use super::visits::visit_in;
use super::{Store, now};
use crate::error::{Error, Result};
use fieldconsult_model::crypto::seal::{self, RecipientKey, RecipientSecret, SealContext};
use fieldconsult_model::validation::validate_sealing_keys;
use fieldconsult_model::{Actor, ReferralServiceId, SealedField, SealingKeys, Session, SessionId};

/// Stores (or replaces) the sealing keys of one sector, within the caller's transaction.
pub(crate) fn write_sealing_keys(tx: &Transaction<'_>, keys: &SealingKeys) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO sealing_keys (sector, body) VALUES (:sector, :body)
         ON CONFLICT (sector) DO UPDATE SET body = excluded.body",
    )?
    .execute(named_params! {
        ":sector": keys.sector,
        ":body": encode(keys, "sealing keys", &keys.sector)?,
    })?;
    Ok(())
}

/// The sealing keys of `sector`, if they have arrived.
pub(crate) fn sealing_keys_in(tx: &Transaction<'_>, sector: &str) -> Result<Option<SealingKeys>> {
    let body: Option<String> = tx
        .prepare_cached("SELECT body FROM sealing_keys WHERE sector = :sector")?
        .query_row(named_params! {":sector": sector}, |r| r.get(0))
        .optional()?;
    body.map(|b| decode(&b, "sealing keys", sector)).transpose()
}

/// A pulled session as it is to be stored: a version of a session still being written (draft
/// or returned) comes without the plaintext note and referral service, and keeps those this
/// device holds for it (a referral the pulled version no longer offers keeps nothing).
pub(crate) fn keep_local_plaintext(tx: &Transaction<'_>, pulled: &Session) -> Result<Session> {
    let mut out = pulled.clone();
    if !pulled.status.is_editable() {
        return Ok(out);
    }
    let Some((local, _)) = live_or_none_in(tx, &pulled.id)? else {
        return Ok(out);
    };
    if out.sensitive_note.is_empty() {
        out.sensitive_note = local.sensitive_note;
    }
    if let (Some(pulled), Some(local)) = (&mut out.referral, &local.referral)
        && pulled.service_id.is_none()
    {
        pulled.service_id = local.service_id;
    }
    // This device's own copy lists only the other devices holding plaintext: what it holds
    // itself it seals at submission, and no confirmation is asked of its team member.
    if let Some(own) = own_device_id(tx)? {
        out.plaintext_held_by.remove(&own);
    }
    Ok(out)
}

/// Seals the session's sensitive note and its referral's service to the keys of `sector`
/// and empties their plaintext; returns the fields sealed. A note of only white space is
/// dropped. A new note or service replaces an earlier sealed one (a returned session
/// resubmitted with a new note); with no new value, the earlier seal stays. Keys are needed
/// only when there is something to seal.
pub(crate) fn seal_fields(
    tx: &Transaction<'_>,
    session: &mut Session,
    sector: &str,
) -> Result<Vec<&'static str>> {
    if session.sensitive_note.trim().is_empty() {
        session.sensitive_note.clear();
    }
    let service = session.referral.as_ref().and_then(|r| r.service_id);
    if session.sensitive_note.is_empty() && service.is_none() {
        return Ok(Vec::new());
    }
    let keys = sealing_keys_in(tx, sector)?
        .ok_or_else(|| Error::NoSealingKeys {
            sector: sector.to_owned(),
        })?
        .recipients();
    let id = session.id.to_string();
    // Seal everything before changing anything: a failure leaves the session as it was (and
    // the caller's transaction rolls back, so the stored draft keeps its plaintext).
    let note = (!session.sensitive_note.is_empty())
        .then(|| {
            seal::seal(
                &session.sensitive_note,
                &SealContext::sensitive_note(&id),
                &keys,
            )
        })
        .transpose()?;
    let sealed_service = service
        .map(|s| {
            let plain = Zeroizing::new(s.to_string());
            seal::seal(&plain, &SealContext::referral_service(&id), &keys)
        })
        .transpose()?;
    let mut fields = Vec::new();
    if let Some(note) = note {
        // Wiped from memory as it is dropped.
        drop(Zeroizing::new(std::mem::take(&mut session.sensitive_note)));
        session.sealed_note = Some(note);
        fields.extend([seal::SENSITIVE_NOTE_FIELD, "sealed_note"]);
    }
    if let (Some(sealed), Some(referral)) = (sealed_service, session.referral.as_mut()) {
        referral.service_id = None;
        referral.sealed_service_id = Some(sealed);
        fields.extend([seal::REFERRAL_SERVICE_FIELD, "referral.sealed_service_id"]);
    }
    Ok(fields)
}

/// This device's key pair for opening sealed notes, if it has one.
fn identity_in(tx: &Transaction<'_>) -> Result<Option<RecipientSecret>> {
    let secret: Option<Zeroizing<Vec<u8>>> = tx
        .prepare_cached("SELECT secret FROM sealing_identity WHERE id = 1")?
        .query_row([], |r| r.get::<_, Vec<u8>>(0))
        .optional()?
        .map(Zeroizing::new);
    secret
        .map(|s| RecipientSecret::from_bytes(&s).map_err(Error::from))
        .transpose()
}

impl Store {
    /// Inserts or replaces the sealing keys of sectors (normally pulled from the server).
    /// All or nothing: one invalid entry stores none.
    pub fn upsert_sealing_keys(&self, keys: &[SealingKeys]) -> Result<()> {
        let keys = checked_list("sealing_keys", keys, |k| {
            k.normalize();
            validate_sealing_keys(k)
        })?;
        self.write(|tx| {
            for k in &keys {
                write_sealing_keys(tx, k)?;
            }
            Ok(())
        })
    }

    /// The sealing keys of `sector`, if they have arrived.
    pub fn sealing_keys(&self, sector: &str) -> Result<Option<SealingKeys>> {
        self.read(|tx| sealing_keys_in(tx, sector))
    }

    /// The public half of this device's key for opening sealed notes, created (from the OS
    /// random source) on first call and kept, with its secret half, only in this encrypted
    /// store. A mission admin registers it as a focal point key of the reviewer's sector.
    pub fn sealing_public_key(&self) -> Result<RecipientKey> {
        self.write(|tx| {
            if let Some(me) = identity_in(tx)? {
                return Ok(me.public_key().clone());
            }
            let me = RecipientSecret::generate()?;
            let secret = me.to_bytes();
            let (at, _) = now();
            tx.prepare_cached(
                "INSERT INTO sealing_identity (id, secret, public_key, created_ms)
                 VALUES (1, :secret, :public, :now)",
            )?
            .execute(named_params! {
                ":secret": secret.as_slice(),
                ":public": me.public_key().to_hex(),
                ":now": at.timestamp_millis(),
            })?;
            Ok(me.public_key().clone())
        })
    }

    /// Opens the sealed sensitive note of a session held on this device, offline, with this
    /// device's key, and records in the local history that `actor` opened it (who and when;
    /// never the text). The text is wiped from memory when the returned value is dropped.
    ///
    /// Errors: [`Error::NothingSealed`] for a session without a sealed note,
    /// [`Error::Seal`] with `NoCopyForKey` when this device has no key or its key is not
    /// among the note's recipients, `Tampered` when the note was altered or moved.
    pub fn open_sensitive_note(&self, actor: &Actor, id: &SessionId) -> Result<Zeroizing<String>> {
        let field = (seal::SENSITIVE_NOTE_FIELD, "open_sensitive_note");
        self.open_sealed(actor, id, field, |s| s.sealed_note.as_ref())
    }

    /// Opens the sealed service of a session's referral, offline, like
    /// [`Store::open_sensitive_note`] (same errors, same history entry naming the field): the
    /// id of a service of the referral directory ([`Store::referral_services`]).
    pub fn open_referral_service(
        &self,
        actor: &Actor,
        id: &SessionId,
    ) -> Result<ReferralServiceId> {
        let field = (seal::REFERRAL_SERVICE_FIELD, "open_referral_service");
        let text = self.open_sealed(actor, id, field, |s| {
            s.referral
                .as_ref()
                .and_then(|r| r.sealed_service_id.as_ref())
        })?;
        // It opened, so its sender held a focal point's key for this session: a value that is
        // not an id was sealed by a broken or hostile client, and says nothing more.
        text.parse()
            .map_err(|_| Error::Seal(fieldconsult_model::SealError::Tampered))
    }

    fn open_sealed(
        &self,
        actor: &Actor,
        id: &SessionId,
        (field, action): (&'static str, &'static str),
        sealed: impl Fn(&Session) -> Option<&SealedField>,
    ) -> Result<Zeroizing<String>> {
        let (at, _) = now();
        self.write(|tx| {
            let (session, _) = live_in(tx, id)?;
            // The session must still belong to a visit held here (as every pulled one does).
            visit_in(tx, &session.visit_id)?;
            let id_s = id.to_string();
            let sealed = sealed(&session).ok_or_else(|| Error::NothingSealed {
                id: id_s.clone(),
                field,
            })?;
            let me = identity_in(tx)?.ok_or_else(|| {
                Error::Seal(fieldconsult_model::SealError::NoCopyForKey {
                    key_id: "none (this device has no sealing key)".to_owned(),
                })
            })?;
            let text = seal::open(sealed, &SealContext::session_field(&id_s, field), &me)?;
            history::append(
                tx,
                actor,
                at,
                Change {
                    entity: "session",
                    entity_id: &id_s,
                    action,
                    revision: None,
                    from_status: None,
                    to_status: None,
                    fields: vec![field.into()],
                },
            )?;
            Ok(text)
        })
    }
}
