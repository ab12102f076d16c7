//! The store object apps hold: `FieldConsultStore`, a thin wrapper of `fieldconsult_core::Store`.
//!
//! Safe to call from any thread. Each call takes a reference to the open store and releases
//! the wrapper's lock at once, so `close` and `wipe` never wait for a long report, and a
//! listener is never called with a lock held.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use fieldconsult_core::{BadgeCounts, DatabaseKey, OutboxEntry, Store, StoreOptions, SyncReport};
use fieldconsult_model::Language;
use fieldconsult_model::report::{self, GroupBy, Month};
use fieldconsult_model::{Decision, SessionId, VisitId};

use crate::error::{FieldConsultError, guard};
use crate::lift::Lift;
use crate::listing::{HistoryEntry, SessionFilter, SessionPage, SessionRecord};
use crate::progress::{Adapter, CancellationToken, ProgressListener};
use crate::reference::{ChecklistTemplate, Community, ReferralService, Team};
use crate::reports::{PairedComparison, ParticipationTable, ReportFile, ReportFormat, ReportScope};
use crate::session::{Addendum, Identity, Review, Session, Visit};
use crate::sync::{self, Enrolment, HttpTransport, TlsOptions};

type Result<T> = std::result::Result<T, FieldConsultError>;

/// The encrypted store of consultations on this device.
#[derive(uniffi::Object)]
pub struct FieldConsultStore {
    inner: RwLock<Option<Arc<Store>>>,
    path: PathBuf,
}

impl FieldConsultStore {
    pub(crate) fn store(&self) -> Result<Arc<Store>> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner.clone().ok_or(FieldConsultError::Closed)
    }

    fn take(&self) -> Option<Arc<Store>> {
        self.inner.write().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Takes the store out of service and removes its files with `remove`: after closing the
    /// connection when no call is in flight; otherwise at once, the connection closing when
    /// that call returns.
    fn close_and_remove(&self, remove: fn(&Path) -> fieldconsult_core::Result<()>) -> Result<()> {
        guard(|| {
            if let Some(Ok(store)) = self.take().map(Arc::try_unwrap) {
                drop(store);
            }
            Ok(remove(&self.path)?)
        })
    }
}

/// Lifts a list of records, naming problems `list[i].field`.
fn lift_all<F, M>(list: &str, items: Vec<F>, lift: impl Fn(F, &mut Lift) -> M) -> Result<Vec<M>> {
    let mut l = Lift::default();
    let lifted = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| lift(item, l.at(format!("{list}[{i}]."))))
        .collect();
    l.finish(lifted)
}

pub(crate) fn session_id(id: &str) -> Result<SessionId> {
    let mut l = Lift::default();
    let id = l.id("session_id", id);
    l.finish(id)
}

fn filter(f: SessionFilter) -> Result<fieldconsult_core::SessionFilter> {
    let mut l = Lift::default();
    let f = f.lift(&mut l);
    l.finish(f)
}

pub(crate) fn actor(a: Identity) -> Result<fieldconsult_model::Actor> {
    let mut l = Lift::default();
    let a = a.lift(&mut l);
    l.finish(a)
}

#[uniffi::export]
impl FieldConsultStore {
    /// Opens (or creates) the store at `path` with the 32-byte `key` from the platform
    /// keystore. A wrong key fails with `WrongKey` and leaves the file untouched; no key (the
    /// keystore lost it) fails with `KeyUnavailable` and creates nothing.
    /// `precise_locations` keeps community points as given instead of rounding to ~1 km.
    #[uniffi::constructor(default(precise_locations = false))]
    pub fn open(path: String, key: Option<Vec<u8>>, precise_locations: bool) -> Result<Arc<Self>> {
        guard(|| {
            let key = key.map(|k| DatabaseKey::from_bytes(&k)).transpose()?;
            let options = StoreOptions { precise_locations };
            let store = Store::open_with_key(&path, key.as_ref(), options)?;
            Ok(Arc::new(FieldConsultStore {
                inner: RwLock::new(Some(Arc::new(store))),
                path: PathBuf::from(path),
            }))
        })
    }

    /// Re-encrypts the database in place with `new_key` (32 bytes).
    pub fn change_key(&self, new_key: Vec<u8>) -> Result<()> {
        guard(|| {
            let key = DatabaseKey::from_bytes(&new_key)?;
            Ok(self.store()?.change_key(&key)?)
        })
    }

    /// Closes the database; later calls fail with `Closed`. Calls in flight finish first.
    /// (Kotlin's `close()` and Swift's `deinit` also close it, when the last reference goes.)
    pub fn close_database(&self) {
        drop(self.take());
    }

    /// Verifies every page of the encrypted file (SQLCipher's HMACs): one line per page found
    /// altered or damaged on disk, naming the page and nothing of its content; empty when the
    /// store is intact. Reads the whole file: call it off the main thread.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        guard(|| Ok(self.store()?.integrity_check()?))
    }

    /// The panic button: closes the store, overwrites the database and its companion files
    /// with zeros, flushes them and deletes them. Destroy the key in the platform keystore
    /// too: flash storage may keep old blocks.
    pub fn panic_wipe(&self) -> Result<()> {
        self.close_and_remove(Store::destroy_files)
    }

    /// Closes the store and deletes its database with the `-wal` and `-shm` files.
    pub fn wipe(&self) -> Result<()> {
        self.close_and_remove(Store::delete_files)
    }

    /// Inserts or replaces teams from the server (all or none).
    pub fn upsert_teams(&self, teams: Vec<Team>) -> Result<()> {
        guard(|| {
            Ok(self
                .store()?
                .upsert_teams(&lift_all("teams", teams, Team::lift)?)?)
        })
    }

    /// Inserts or replaces communities from the server (all or none).
    pub fn upsert_communities(&self, communities: Vec<Community>) -> Result<()> {
        guard(|| {
            let communities = lift_all("communities", communities, Community::lift)?;
            Ok(self.store()?.upsert_communities(&communities)?)
        })
    }

    /// Adds a community found on patrol; it is pushed with the next sync.
    pub fn add_community(&self, actor: Identity, community: Community) -> Result<Community> {
        guard(|| {
            let mut l = Lift::default();
            let community = community.lift(&mut l);
            let community = l.finish(community)?;
            Ok(self
                .store()?
                .add_community(&self::actor(actor)?, &community)?
                .into())
        })
    }

    /// Inserts or replaces services of the referral directory (all or none).
    pub fn upsert_referral_services(&self, services: Vec<ReferralService>) -> Result<()> {
        guard(|| {
            let services = lift_all("services", services, ReferralService::lift)?;
            Ok(self.store()?.upsert_referral_services(&services)?)
        })
    }

    /// Stores a checklist version; a published version never changes.
    pub fn publish_checklist(&self, checklist: ChecklistTemplate) -> Result<()> {
        guard(|| Ok(self.store()?.publish_checklist(&checklist.into())?))
    }

    /// A checklist by version.
    pub fn checklist(&self, version: u32) -> Result<ChecklistTemplate> {
        guard(|| Ok(self.store()?.checklist(version)?.into()))
    }

    /// The newest checklist, if any.
    pub fn latest_checklist(&self) -> Result<Option<ChecklistTemplate>> {
        guard(|| Ok(self.store()?.latest_checklist()?.map(Into::into)))
    }

    /// All teams.
    pub fn teams(&self) -> Result<Vec<Team>> {
        guard(|| Ok(self.store()?.teams()?.into_iter().map(Into::into).collect()))
    }

    /// All communities.
    pub fn communities(&self) -> Result<Vec<Community>> {
        guard(|| {
            Ok(self
                .store()?
                .communities()?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// The referral directory.
    pub fn referral_services(&self) -> Result<Vec<ReferralService>> {
        guard(|| {
            let services = self.store()?.referral_services()?;
            Ok(services.into_iter().map(Into::into).collect())
        })
    }

    /// Creates or updates a visit of the actor's team. Notes raising a warning the stored
    /// visit did not are `UnconfirmedWarnings`: save with `saveVisitConfirming`.
    pub fn save_visit(&self, actor: Identity, visit: Visit) -> Result<Visit> {
        guard(|| {
            let mut l = Lift::default();
            let visit = visit.lift(&mut l);
            let visit = l.finish(visit)?;
            Ok(self
                .store()?
                .save_visit(&self::actor(actor)?, &visit)?
                .into())
        })
    }

    /// One visit.
    pub fn visit(&self, id: String) -> Result<Visit> {
        guard(|| {
            let mut l = Lift::default();
            let id: VisitId = l.id("visit_id", &id);
            let id = l.finish(id)?;
            Ok(self.store()?.visit(&id)?.into())
        })
    }

    /// Saves a draft, or an edit of a draft or returned session, of the actor's team.
    /// Returns the session as stored (text NFC-normalised, times to the millisecond).
    pub fn save_session(&self, actor: Identity, session: Session) -> Result<Session> {
        guard(|| {
            let mut l = Lift::default();
            let session = session.lift(&mut l);
            let session = l.finish(session)?;
            Ok(self
                .store()?
                .save_session(&self::actor(actor)?, &session)?
                .into())
        })
    }

    /// Submits a complete session for review; every missing field is reported at once. Free
    /// text that looks like a phone number, an e-mail or precise coordinates is refused with
    /// `UnconfirmedWarnings` until confirmed with `submitSessionConfirming`.
    pub fn submit_session(&self, actor: Identity, session_id: String) -> Result<Session> {
        guard(|| {
            let id = self::session_id(&session_id)?;
            Ok(self
                .store()?
                .submit_session(&self::actor(actor)?, &id)?
                .into())
        })
    }

    /// The public half of this device's key for sealed sensitive notes, as 64 hex
    /// characters: created on first call and kept, with its secret half, only in this
    /// encrypted store. A focal point shows it to the mission admin, who registers it for the
    /// sector (`fieldconsult-server keys set`).
    pub fn sealing_public_key(&self) -> Result<String> {
        guard(|| Ok(self.store()?.sealing_public_key()?.to_hex()))
    }

    /// Opens the sealed sensitive note of a pulled session, offline, with this device's key,
    /// and records in the local history who opened it and when (never the text). Fails with
    /// `NothingSealed`, `NotARecipient` (this device holds no key the note was sealed to) or
    /// `SealedFieldTampered`. Show the text, never store or log it.
    pub fn open_sensitive_note(&self, actor: Identity, session_id: String) -> Result<String> {
        guard(|| {
            let id = self::session_id(&session_id)?;
            let text = self
                .store()?
                .open_sensitive_note(&self::actor(actor)?, &id)?;
            Ok(text.as_str().to_owned())
        })
    }

    /// Opens the sealed service of a pulled session's referral, offline, like
    /// `openSensitiveNote` (same errors, same history entry): the id of a service of the
    /// referral directory (`referralServices`). Show it, never store or log it.
    pub fn open_referral_service(&self, actor: Identity, session_id: String) -> Result<String> {
        guard(|| {
            let id = self::session_id(&session_id)?;
            let service = self
                .store()?
                .open_referral_service(&self::actor(actor)?, &id)?;
            Ok(service.to_string())
        })
    }

    /// Deletes a draft (a tombstone goes to the server).
    pub fn delete_draft(&self, actor: Identity, session_id: String) -> Result<()> {
        guard(|| {
            let id = self::session_id(&session_id)?;
            Ok(self.store()?.delete_draft(&self::actor(actor)?, &id)?)
        })
    }

    /// One session with its reviews and addenda.
    pub fn get_session(&self, session_id: String) -> Result<SessionRecord> {
        guard(|| {
            Ok(self
                .store()?
                .get_session(&self::session_id(&session_id)?)?
                .into())
        })
    }

    /// A page of sessions, newest first. Pass the previous page's `next` as `after`.
    #[uniffi::method(default(after = None))]
    pub fn list_sessions(
        &self,
        filter: SessionFilter,
        limit: u32,
        after: Option<String>,
    ) -> Result<SessionPage> {
        guard(|| {
            let filter = self::filter(filter)?;
            Ok(self
                .store()?
                .list_sessions(&filter, limit, after.as_deref())?
                .into())
        })
    }

    /// Counts for the app's badges.
    pub fn badge_counts(&self) -> Result<BadgeCounts> {
        guard(|| Ok(self.store()?.badge_counts()?))
    }

    /// Records a reviewer's decision: accepted, or returned with a comment.
    pub fn record_review(
        &self,
        actor: Identity,
        session_id: String,
        decision: Decision,
        comment: String,
    ) -> Result<Review> {
        guard(|| {
            let id = self::session_id(&session_id)?;
            let actor = self::actor(actor)?;
            Ok(self
                .store()?
                .record_review(&actor, &id, decision, &comment)?
                .into())
        })
    }

    /// Appends a correction to an accepted session.
    pub fn add_addendum(
        &self,
        actor: Identity,
        session_id: String,
        text: String,
    ) -> Result<Addendum> {
        guard(|| {
            let id = self::session_id(&session_id)?;
            let actor = self::actor(actor)?;
            Ok(self.store()?.add_addendum(&actor, &id, &text)?.into())
        })
    }

    /// Women's and men's views side by side over the matching sessions. Reports progress
    /// to `listener`; `cancel` stops it with `Cancelled`.
    #[uniffi::method(default(listener = None, cancel = None))]
    pub fn paired_comparison(
        &self,
        filter: SessionFilter,
        listener: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<PairedComparison> {
        guard(|| {
            let filter = self::filter(filter)?;
            let progress = Adapter {
                listener,
                token: cancel,
            };
            Ok(self
                .store()?
                .paired_comparison_with(&filter, &progress)?
                .into())
        })
    }

    /// The sex × age-band participation table with coverage, one row per `by`. Reports
    /// progress to `listener`; `cancel` stops it with `Cancelled`.
    #[uniffi::method(default(listener = None, cancel = None))]
    pub fn participation_table(
        &self,
        filter: SessionFilter,
        by: GroupBy,
        listener: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<ParticipationTable> {
        guard(|| {
            let filter = self::filter(filter)?;
            let progress = Adapter {
                listener,
                token: cancel,
            };
            Ok(self
                .store()?
                .participation_table_with(&filter, by, &progress)?
                .into())
        })
    }

    /// The monthly gender report of `scope` for `month` (`YYYY-MM`) over what this device
    /// holds, rendered in `format` with labels in `language`. Participant counts below
    /// `min_cell` are hidden so that no one is identifiable (5 is usual; 0 hides nothing).
    /// Reports progress to `listener`; `cancel` stops it with `Cancelled`.
    #[uniffi::method(default(min_cell = 5, listener = None, cancel = None))]
    #[allow(clippy::too_many_arguments)]
    pub fn monthly_report(
        &self,
        scope: ReportScope,
        month: String,
        format: ReportFormat,
        language: Language,
        min_cell: u32,
        listener: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<Vec<ReportFile>> {
        guard(|| {
            let mut l = Lift::default();
            let scope = match scope {
                ReportScope::Team { team_id } => report::ReportScope::Team {
                    team_id: l.id("scope.team_id", &team_id),
                },
                ReportScope::Sector { sector } => report::ReportScope::Sector { sector },
                ReportScope::Mission => report::ReportScope::Mission,
            };
            let month = l.parse_or("month", &month, Month::of(chrono::NaiveDate::default()));
            let (scope, month) = l.finish((scope, month))?;
            let options = report::ReportOptions {
                min_cell,
                ..report::ReportOptions::default()
            };
            let progress = Adapter {
                listener,
                token: cancel,
            };
            let report = self
                .store()?
                .monthly_report_with(scope, month, options, &progress)?;
            let files = fieldconsult_report::render(&report, format.into(), language)?;
            Ok(files.into_iter().map(ReportFile::from).collect())
        })
    }

    /// Up to `limit` records waiting to be pushed, urgent first.
    pub fn pending_changes(&self, limit: u32) -> Result<Vec<OutboxEntry>> {
        guard(|| Ok(self.store()?.pending_changes(limit)?))
    }

    /// Number of records waiting to be pushed.
    pub fn pending_count(&self) -> Result<u32> {
        guard(|| Ok(self.store()?.pending_count()?))
    }

    /// Records that the server durably stored `entries` (as read by `pending_changes`).
    pub fn acknowledge(&self, entries: Vec<OutboxEntry>) -> Result<()> {
        guard(|| Ok(self.store()?.acknowledge(&entries)?))
    }

    /// Who changed a record, what and when; oldest first.
    pub fn history(&self, entity_id: String) -> Result<Vec<HistoryEntry>> {
        guard(|| {
            Ok(self
                .store()?
                .history(&entity_id)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// Enrols this device with the mission server at `server_url` (`https://`) using a
    /// one-time `code` from a mission admin. A refused code is `Unauthorized`. `tls` adds
    /// pins and mission roots (pass the same to every `sync`). With
    /// `expected_root_fingerprint` (from the enrolment QR code), a server announcing another
    /// mission root key is refused (`RootKeyMismatch`) and nothing is stored.
    #[uniffi::method(default(tls = None, expected_root_fingerprint = None))]
    pub fn enrol(
        &self,
        server_url: String,
        code: String,
        device_label: String,
        tls: Option<TlsOptions>,
        expected_root_fingerprint: Option<String>,
    ) -> Result<Enrolment> {
        guard(|| {
            let transport = sync::https(&server_url, tls)?;
            Ok(self
                .store()?
                .enrol(
                    &transport,
                    &code,
                    &device_label,
                    expected_root_fingerprint.as_deref(),
                )?
                .into())
        })
    }

    /// Enrols through the app's own transport (its HTTP stack, proxy, certificate pinning);
    /// `expected_root_fingerprint` as for `enrol`.
    #[uniffi::method(default(expected_root_fingerprint = None))]
    pub fn enrol_with(
        &self,
        transport: Arc<dyn HttpTransport>,
        code: String,
        device_label: String,
        expected_root_fingerprint: Option<String>,
    ) -> Result<Enrolment> {
        guard(|| {
            let transport = sync::Foreign(transport);
            Ok(self
                .store()?
                .enrol(
                    &transport,
                    &code,
                    &device_label,
                    expected_root_fingerprint.as_deref(),
                )?
                .into())
        })
    }

    /// The device's enrolment, if any.
    pub fn enrolment(&self) -> Result<Option<Enrolment>> {
        guard(|| Ok(self.store()?.enrolment()?.map(Into::into)))
    }

    /// Syncs with the server the device enrolled with, over the core's HTTPS transport:
    /// pushes the outbox (urgent first), then pulls. `Busy` if a sync is running; `Revoked`
    /// after the mission revoked the device (its data is then wiped). Progress goes to
    /// `listener`; `cancel` stops between batches. `tls`: pins and mission roots, as given
    /// to `enrol` (they are not stored).
    #[uniffi::method(default(listener = None, cancel = None, tls = None))]
    pub fn sync(
        &self,
        listener: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancellationToken>>,
        tls: Option<TlsOptions>,
    ) -> Result<SyncReport> {
        guard(|| {
            let store = self.store()?;
            let url = store
                .enrolment()?
                .and_then(|e| e.server_url)
                .ok_or(FieldConsultError::NotEnrolled)?;
            let transport = sync::https(&url, tls)?;
            let progress = Adapter {
                listener,
                token: cancel,
            };
            Ok(store.sync(&transport, &progress)?)
        })
    }

    /// Syncs through the app's own transport.
    #[uniffi::method(default(listener = None, cancel = None))]
    pub fn sync_with(
        &self,
        transport: Arc<dyn HttpTransport>,
        listener: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<SyncReport> {
        guard(|| {
            let transport = sync::Foreign(transport);
            let progress = Adapter {
                listener,
                token: cancel,
            };
            Ok(self.store()?.sync(&transport, &progress)?)
        })
    }

    /// Deletes accepted sessions the server holds that were accepted more than `days` ago.
    /// Returns how many left the device.
    pub fn purge_retention(&self, days: u32) -> Result<u64> {
        guard(|| Ok(self.store()?.purge_retention(days)?))
    }
}
