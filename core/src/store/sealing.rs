//! Sealed sensitive notes on the device.
//!
//! **The plaintext note never leaves the device that wrote it, drafts included.** Drafts are
//! pushed like every other record (so a colleague's device and the server see the work in
//! progress), but a session always travels as [`Session::as_sent`]: without
//! `sensitive_note`. The plaintext stays in the local row only, and:
//!
//! - *Acknowledgements* compare the server's hash with the hash of what was sent, which is
//!   the hash of the record without the note ([`super::sync::load_record`] builds the record
//!   a push sends and a pull compares against); a note-only edit therefore leaves the record
//!   synced as far as the server is concerned, which is right: the server never holds it.
//! - *Convergence* holds on the sent form: device and server agree on the hash of every
//!   record as it travels.
//! - *The author's note is never lost locally*: a pulled version of a draft or returned
//!   session (a colleague's edit) carries no note, so applying it keeps the note this device
//!   holds ([`keep_local_note`]). Another device of the team never sees the note: it was not
//!   written there.
//!
//! At submission ([`Store::submit_session`]) a non-empty note is sealed with HPKE
//! (`fieldconsult_model::crypto::seal`) to the sector's focal point keys and the mission's
//! escrow key, pulled as [`SealingKeys`] reference data, and the plaintext is removed from the
//! row in the same transaction (`secure_delete` overwrites the freed bytes; the outbox holds
//! ids only and the history field names only); the WAL is then checkpointed and truncated,
//! because its superseded frames still hold every draft version of the row. Without keys for the sector the submission
//! fails with [`Error::NoSealingKeys`] and the session stays a draft: fail closed. After
//! sealing, the team device holds no key that opens the note.
//!
//! A reviewer's device holds its own X25519 key pair, generated here on first use and kept
//! only in the encrypted store ([`Store::sealing_public_key`] gives the public half for the
//! mission admin to register); [`Store::open_sensitive_note`] opens a pulled note offline and
//! records who opened it, and when, in the local history (never the text).

use rusqlite::{OptionalExtension, Transaction, named_params};
use zeroize::Zeroizing;

use super::codec::{checked_list, decode, encode};
use super::history::{self, Change};
use super::sessions::live_in;
use super::visits::visit_in;
use super::{Store, now};
use crate::error::{Error, Result};
use fieldconsult_model::crypto::seal::{self, RecipientKey, RecipientSecret, SealContext};
use fieldconsult_model::validation::validate_sealing_keys;
use fieldconsult_model::{Actor, SealingKeys, Session, SessionId};

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
/// or returned) that comes without a note keeps the note this device holds for it.
pub(crate) fn keep_local_note(tx: &Transaction<'_>, pulled: &Session) -> Result<Session> {
    let mut out = pulled.clone();
    if !pulled.status.is_editable() || !pulled.sensitive_note.is_empty() {
        return Ok(out);
    }
    let id = pulled.id.to_string();
    let body: Option<Option<String>> = tx
        .prepare_cached("SELECT body FROM sessions WHERE id = :id AND deleted = 0")?
        .query_row(named_params! {":id": id}, |r| r.get(0))
        .optional()?;
    if let Some(Some(body)) = body {
        let local: Session = decode(&body, "session", &id)?;
        out.sensitive_note = local.sensitive_note;
    }
    Ok(out)
}

/// Seals the session's sensitive note to the keys of `sector` and empties the plaintext;
/// returns whether there was a note to seal. A note of only white space is dropped. A new
/// note replaces an earlier sealed one (a returned session resubmitted with a new note); with
/// no new note, the earlier sealed note stays.
pub(crate) fn seal_note(tx: &Transaction<'_>, session: &mut Session, sector: &str) -> Result<bool> {
    if session.sensitive_note.trim().is_empty() {
        session.sensitive_note.clear();
        return Ok(false);
    }
    let keys = sealing_keys_in(tx, sector)?.ok_or_else(|| Error::NoSealingKeys {
        sector: sector.to_owned(),
    })?;
    let id = session.id.to_string();
    let ctx = SealContext::sensitive_note(&id);
    let note = Zeroizing::new(std::mem::take(&mut session.sensitive_note));
    match seal::seal(&note, &ctx, &keys.recipients()) {
        Ok(sealed) => {
            session.sealed_note = Some(sealed);
            Ok(true)
        }
        Err(e) => {
            // The caller's transaction rolls back; the stored draft keeps its note.
            session.sensitive_note = note.to_string();
            Err(e.into())
        }
    }
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
        let (at, _) = now();
        self.write(|tx| {
            let (session, _) = live_in(tx, id)?;
            // The session must still belong to a visit held here (as every pulled one does).
            visit_in(tx, &session.visit_id)?;
            let sealed = session
                .sealed_note
                .as_ref()
                .ok_or(Error::NothingSealed { id: id.to_string() })?;
            let me = identity_in(tx)?.ok_or_else(|| {
                Error::Seal(fieldconsult_model::SealError::NoCopyForKey {
                    key_id: "none (this device has no sealing key)".to_owned(),
                })
            })?;
            let id_s = id.to_string();
            let ctx = SealContext::sensitive_note(&id_s);
            let text = seal::open(sealed, &ctx, &me)?;
            history::append(
                tx,
                actor,
                at,
                Change {
                    entity: "session",
                    entity_id: &id_s,
                    action: "open_sensitive_note",
                    revision: None,
                    from_status: None,
                    to_status: None,
                    fields: vec!["sealed_note".into()],
                },
            )?;
            Ok(text)
        })
    }
}
