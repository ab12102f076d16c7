//! The embedded SQLite backend: one file, created on first start, WAL with
//! `synchronous=FULL`, foreign keys, migrations through rusqlite_migration.
//!
//! One writer connection behind a mutex (SQLite has one writer anyway) and a few read-only
//! connections: a push holds the writer through its commit and fsync, and without readers
//! every token check and pull of every other device would queue behind it. WAL lets the
//! readers run meanwhile, each on the last committed state.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use fieldconsult_model::crypto::sign::{ChangeNonce, PublicKey};
use fieldconsult_model::wire::{Ack, PullResponse, PulledRecord, PushChange, Record};
use fieldconsult_model::{Role, Team};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, named_params};

use super::{
    Device, DeviceInfo, HistoryEntry, HistoryOutcome, RecordTx, Storage, StorageError,
    StoredRecord, schema,
};
use crate::audit::{AuditEntry, GENESIS, StoredAuditEntry};
use crate::push_rules;

/// Read-only connections beside the writer: enough for the blocking threads that usually
/// run at once on a small mission server, few enough to keep memory small.
const READERS: usize = 4;

/// SQLite storage in one file (or in memory, for tests).
pub struct SqliteStorage {
    conn: Mutex<Connection>,
    /// Empty for an in-memory database, which the writer then serves alone.
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// Pushes waiting for the writer (see `push`).
    pushes: Mutex<Vec<Arc<PushJob>>>,
}

impl SqliteStorage {
    /// Opens (creating it on first start) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let mut storage = Self::prepare(Connection::open(path)?)?;
        for _ in 0..READERS {
            let reader = Connection::open(path)?;
            reader.pragma_update(None, "query_only", "ON")?;
            reader.busy_timeout(std::time::Duration::from_secs(5))?;
            storage.readers.push(Mutex::new(reader));
        }
        Ok(storage)
    }

    /// An in-memory database, for tests and demos.
    pub fn in_memory() -> Result<Self, StorageError> {
        Self::prepare(Connection::open_in_memory()?)
    }

    fn prepare(mut conn: Connection) -> Result<Self, StorageError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted records (a withdrawn consent) are overwritten, not just unlinked.
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrations().to_latest(&mut conn)?;
        Ok(SqliteStorage {
            conn: Mutex::new(conn),
            readers: Vec::new(),
            next_reader: AtomicUsize::new(0),
            pushes: Mutex::new(Vec::new()),
        })
    }

    /// The writer.
    fn conn(&self) -> Result<MutexGuard<'_, Connection>, StorageError> {
        self.conn.lock().map_err(|_| StorageError::Poisoned)
    }

    /// A connection for reading: a free reader if there is one, else the next in turn.
    fn reader(&self) -> Result<MutexGuard<'_, Connection>, StorageError> {
        if self.readers.is_empty() {
            return self.conn();
        }
        for r in &self.readers {
            if let Ok(guard) = r.try_lock() {
                return Ok(guard);
            }
        }
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        self.readers[i].lock().map_err(|_| StorageError::Poisoned)
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>, StorageError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StorageError::Corrupt("timestamp".to_owned()))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StorageError> {
    serde_json::to_string(v).map_err(|_| StorageError::Corrupt("serialise".to_owned()))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T, StorageError> {
    serde_json::from_str(s).map_err(|_| StorageError::Corrupt(what.to_owned()))
}

/// A write transaction seen through [`RecordTx`].
struct SqliteTx<'a> {
    tx: &'a Connection,
    /// The device whose push this is; `None` for the admin's reference data.
    author: Option<&'a str>,
}

/// Pushes committed together at most: bounds how long one transaction holds the writer.
const MAX_GROUP: usize = 32;

/// One push waiting for the group commit that carries it.
struct PushJob {
    device: Device,
    changes: Vec<PushChange>,
    /// The signature check of each change, made before queueing.
    verdicts: Vec<push_rules::SignatureVerdict>,
    now: DateTime<Utc>,
    result: Mutex<Option<Result<Vec<Ack>, StorageError>>>,
}

impl PushJob {
    fn take_result(&self) -> Result<Option<Result<Vec<Ack>, StorageError>>, StorageError> {
        Ok(self
            .result
            .lock()
            .map_err(|_| StorageError::Poisoned)?
            .take())
    }

    fn set_result(&self, result: Result<Vec<Ack>, StorageError>) -> Result<(), StorageError> {
        *self.result.lock().map_err(|_| StorageError::Poisoned)? = Some(result);
        Ok(())
    }
}

/// Applies each push of `group` in its own savepoint (a push that fails leaves no trace and
/// fails alone) and commits them all at once.
/// The results are in the order of `group`.
fn commit_group(
    conn: &mut Connection,
    group: &[Arc<PushJob>],
) -> Result<Vec<Result<Vec<Ack>, StorageError>>, StorageError> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut results = Vec::with_capacity(group.len());
    for job in group {
        let sp = tx.savepoint()?;
        let applied = {
            let mut rtx = SqliteTx {
                tx: &sp,
                author: Some(&job.device.id),
            };
            job.changes
                .iter()
                .zip(&job.verdicts)
                .map(|(change, verdict)| {
                    push_rules::apply_change(&mut rtx, &job.device, change, verdict, job.now)
                })
                .collect::<Result<Vec<Ack>, StorageError>>()
        };
        match applied {
            Ok(acks) => {
                sp.commit()?;
                results.push(Ok(acks));
            }
            // Dropping the savepoint rolls this push back.
            Err(e) => results.push(Err(e)),
        }
    }
    tx.commit()?;
    Ok(results)
}

/// Whether a push carries a consent withdrawal.
fn withdraws(changes: &[PushChange]) -> bool {
    changes
        .iter()
        .any(|c| matches!(c.record, Record::ConsentWithdrawal(_)))
}

const SELECT_RECORD: &str =
    "SELECT body, hash, team_id FROM records WHERE kind = :kind AND id = :id";

fn get_record(
    conn: &Connection,
    kind: &str,
    id: &str,
) -> Result<Option<StoredRecord>, StorageError> {
    let row = conn
        .prepare_cached(SELECT_RECORD)?
        .query_row(named_params! {":kind": kind, ":id": id}, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })
        .optional()?;
    row.map(|(body, hash, team_id)| {
        Ok(StoredRecord {
            record: from_json(&body, "record body")?,
            hash,
            team_id,
        })
    })
    .transpose()
}

impl RecordTx for SqliteTx<'_> {
    fn get(&mut self, kind: &str, id: &str) -> Result<Option<StoredRecord>, StorageError> {
        get_record(self.tx, kind, id)
    }

    fn put(
        &mut self,
        record: &Record,
        hash: &str,
        owner: Option<&Team>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        put_by(self.tx, record, hash, owner, now, self.author)
    }

    fn put_derived(
        &mut self,
        record: &Record,
        hash: &str,
        owner: Option<&Team>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        put_by(self.tx, record, hash, owner, now, None)
    }

    fn last_author(&mut self, kinds: &[&str], id: &str) -> Result<Option<String>, StorageError> {
        let mut latest: Option<(i64, Option<String>)> = None;
        for kind in kinds {
            let row: Option<(i64, Option<String>)> = self
                .tx
                .prepare_cached(
                    "SELECT seq, device_id FROM changes WHERE kind = :kind AND id = :id
                     ORDER BY seq DESC LIMIT 1",
                )?
                .query_row(named_params! {":kind": kind, ":id": id}, |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            if row.as_ref().map(|r| r.0) > latest.as_ref().map(|l| l.0) {
                latest = row;
            }
        }
        Ok(latest.and_then(|(_, author)| author))
    }

    fn remove(&mut self, kind: &str, id: &str) -> Result<(), StorageError> {
        self.tx
            .prepare_cached("DELETE FROM records WHERE kind = :kind AND id = :id")?
            .execute(named_params! {":kind": kind, ":id": id})?;
        Ok(())
    }

    fn erase_session(&mut self, session_id: &str) -> Result<(), StorageError> {
        // Children first, found by the session they name; change-log entries before the
        // records that say which they are.
        for sql in [
            "DELETE FROM changes WHERE (kind IN ('session', 'session_tombstone') AND id = :id)
                OR (kind IN ('review', 'addendum') AND id IN
                    (SELECT id FROM records WHERE kind IN ('review', 'addendum')
                       AND json_extract(body, '$.record.session_id') = :id))
                OR (kind = 'conflict' AND id IN
                    (SELECT id FROM records WHERE kind = 'conflict'
                       AND (json_extract(body, '$.record.lost.record.id') = :id
                         OR json_extract(body, '$.record.lost.record.session_id') = :id)))",
            "DELETE FROM records WHERE (kind IN ('session', 'session_tombstone') AND id = :id)
                OR (kind IN ('review', 'addendum')
                    AND json_extract(body, '$.record.session_id') = :id)
                OR (kind = 'conflict'
                    AND (json_extract(body, '$.record.lost.record.id') = :id
                      OR json_extract(body, '$.record.lost.record.session_id') = :id))",
            "DELETE FROM record_history WHERE (kind IN ('session', 'session_tombstone') AND id = :id)
                OR (kind IN ('review', 'addendum')
                    AND json_extract(body, '$.record.session_id') = :id)",
        ] {
            self.tx
                .prepare_cached(sql)?
                .execute(named_params! {":id": session_id})?;
        }
        Ok(())
    }

    fn nonce_digest(
        &mut self,
        device_id: &str,
        nonce: &ChangeNonce,
    ) -> Result<Option<String>, StorageError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT content_digest FROM push_nonces WHERE device_id = :device AND nonce = :nonce",
            )?
            .query_row(
                named_params! {":device": device_id, ":nonce": nonce.to_hex()},
                |r| r.get(0),
            )
            .optional()?)
    }

    fn remember_nonce(
        &mut self,
        device_id: &str,
        nonce: &ChangeNonce,
        content_digest: &str,
    ) -> Result<(), StorageError> {
        self.tx
            .prepare_cached(
                "INSERT INTO push_nonces (device_id, nonce, content_digest)
                 VALUES (:device, :nonce, :digest) ON CONFLICT DO NOTHING",
            )?
            .execute(named_params! {
                ":device": device_id, ":nonce": nonce.to_hex(), ":digest": content_digest,
            })?;
        Ok(())
    }

    fn file_history(
        &mut self,
        record: &Record,
        hash: &str,
        outcome: HistoryOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.tx
            .prepare_cached(
                "INSERT INTO record_history (kind, id, hash, body, outcome, at)
             VALUES (:kind, :id, :hash, :body, :outcome, :at)",
            )?
            .execute(named_params! {
                ":kind": record.kind(), ":id": record.id(), ":hash": hash,
                ":body": to_json(record)?, ":outcome": outcome.code(), ":at": ts(now),
            })?;
        Ok(())
    }
}

/// Writes the current version of a record and its change-log entry, the change marked as
/// `author`'s (whose pulls skip it) or as no device's.
fn put_by(
    tx: &Connection,
    record: &Record,
    hash: &str,
    owner: Option<&Team>,
    now: DateTime<Utc>,
    author: Option<&str>,
) -> Result<(), StorageError> {
    let team_id = owner.map(|t| t.id.to_string());
    let sector = owner.map(|t| t.sector.clone());
    let kind = record.kind();
    let id = record.id();
    tx.prepare_cached(
        "INSERT INTO records (kind, id, team_id, body, hash, updated_at)
         VALUES (:kind, :id, :team_id, :body, :hash, :at)
         ON CONFLICT (kind, id) DO UPDATE SET
            team_id = excluded.team_id, body = excluded.body,
            hash = excluded.hash, updated_at = excluded.updated_at",
    )?
    .execute(named_params! {
        ":kind": kind, ":id": id, ":team_id": team_id,
        ":body": to_json(record)?, ":hash": hash, ":at": ts(now),
    })?;
    tx.prepare_cached(
        "INSERT INTO changes (kind, id, team_id, sector, device_id)
         VALUES (:kind, :id, :team_id, :sector, :device)",
    )?
    .execute(named_params! {
        ":kind": kind, ":id": id, ":team_id": team_id, ":sector": sector, ":device": author,
    })?;
    put_typed_reference(tx, record)
}

/// Mirrors a reference record into its typed table.
fn put_typed_reference(tx: &Connection, record: &Record) -> Result<(), StorageError> {
    match record {
        Record::Team(t) => {
            tx.prepare_cached(
                "INSERT INTO teams (id, name, sector) VALUES (:id, :name, :sector)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, sector = excluded.sector",
            )?
            .execute(
                named_params! {":id": t.id.to_string(), ":name": t.name, ":sector": t.sector},
            )?;
        }
        Record::Community(c) => {
            tx.prepare_cached(
                "INSERT INTO communities (id, name, admin_area, lat, lon)
                 VALUES (:id, :name, :area, :lat, :lon)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                    admin_area = excluded.admin_area, lat = excluded.lat, lon = excluded.lon",
            )?
            .execute(named_params! {
                ":id": c.id.to_string(), ":name": c.name, ":area": c.admin_area,
                ":lat": c.location.map(|l| l.lat), ":lon": c.location.map(|l| l.lon),
            })?;
        }
        Record::Checklist(c) => {
            tx.prepare_cached(
                "INSERT INTO checklists (version, body) VALUES (:version, :body)
                 ON CONFLICT (version) DO UPDATE SET body = excluded.body",
            )?
            .execute(named_params! {":version": c.version, ":body": to_json(c)?})?;
        }
        Record::ReferralService(s) => {
            let kind: String = from_json(&to_json(&s.kind)?, "referral kind")?;
            tx.prepare_cached(
                "INSERT INTO referral_services (id, name, kind, area)
                 VALUES (:id, :name, :kind, :area)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                    area = excluded.area",
            )?
            .execute(named_params! {
                ":id": s.id.to_string(), ":name": s.name, ":kind": kind, ":area": s.area,
            })?;
        }
        _ => {}
    }
    Ok(())
}

fn device_from_row(
    id: String,
    role: &str,
    revoked_at: Option<String>,
    public_key: Option<&str>,
) -> Result<Device, StorageError> {
    Ok(Device {
        role: from_json(role, "device role")?,
        revoked: revoked_at.is_some(),
        public_key: public_key
            .map(PublicKey::from_hex)
            .transpose()
            .map_err(|_| StorageError::Corrupt(format!("public key of device {id}")))?,
        id,
    })
}

impl Storage for SqliteStorage {
    fn ping(&self) -> Result<(), StorageError> {
        let conn = self.reader()?;
        conn.prepare_cached("SELECT 1")?
            .query_row([], |r| r.get::<_, i64>(0))?;
        Ok(())
    }

    fn put_reference(&self, records: &[Record], immutable: bool) -> Result<usize, StorageError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = Utc::now();
        let mut changed = 0;
        {
            let mut rtx = SqliteTx {
                tx: &tx,
                author: None,
            };
            for record in records {
                let hash = record.hash();
                match rtx.get(record.kind(), &record.id())? {
                    Some(s) if s.hash == hash => continue,
                    Some(_) if immutable => {
                        return Err(StorageError::Immutable {
                            kind: record.kind().to_owned(),
                            id: record.id(),
                        });
                    }
                    Some(old) => {
                        rtx.file_history(&old.record, &old.hash, HistoryOutcome::Superseded, now)?
                    }
                    None => {}
                }
                rtx.put(record, &hash, None, now)?;
                changed += 1;
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    fn insert_enrolment_code(
        &self,
        code_hash: &str,
        role: &Role,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.conn()?.prepare_cached("INSERT INTO enrolment_codes (code_hash, role, expires_at)
             VALUES (:hash, :role, :expires)")?.execute(
            named_params! {":hash": code_hash, ":role": to_json(role)?, ":expires": ts(expires_at)},
        )?;
        Ok(())
    }

    fn enrol(
        &self,
        code_hash: &str,
        label: &str,
        token_hash: &str,
        public_key: &PublicKey,
        now: DateTime<Utc>,
    ) -> Result<Option<Device>, StorageError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let code = tx
            .prepare_cached(
                "SELECT role, expires_at FROM enrolment_codes
                 WHERE code_hash = :hash AND used_at IS NULL",
            )?
            .query_row(named_params! {":hash": code_hash}, |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .optional()?;
        let Some((role_json, expires_at)) = code else {
            return Ok(None);
        };
        if parse_ts(&expires_at)? <= now {
            return Ok(None);
        }
        tx.prepare_cached("UPDATE enrolment_codes SET used_at = :now WHERE code_hash = :hash")?
            .execute(named_params! {":now": ts(now), ":hash": code_hash})?;
        let id = uuid::Uuid::now_v7().to_string();
        tx.prepare_cached(
            "INSERT INTO devices (id, label, role, token_hash, enrolled_at, public_key)
             VALUES (:id, :label, :role, :token_hash, :now, :public_key)",
        )?
        .execute(named_params! {
            ":id": id, ":label": label, ":role": role_json,
            ":token_hash": token_hash, ":now": ts(now), ":public_key": public_key.to_hex(),
        })?;
        tx.commit()?;
        let public_key = public_key.to_hex();
        Ok(Some(device_from_row(
            id,
            &role_json,
            None,
            Some(&public_key),
        )?))
    }

    fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, StorageError> {
        let conn = self.reader()?;
        let row = conn
            .prepare_cached(
                "SELECT id, role, revoked_at, public_key FROM devices WHERE token_hash = :hash",
            )?
            .query_row(named_params! {":hash": token_hash}, |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .optional()?;
        row.map(|(id, role, revoked, key)| device_from_row(id, &role, revoked, key.as_deref()))
            .transpose()
    }

    fn revoke(&self, device_id: &str, now: DateTime<Utc>) -> Result<bool, StorageError> {
        let conn = self.conn()?;
        let exists = conn
            .prepare_cached("SELECT 1 FROM devices WHERE id = :id")?
            .query_row(named_params! {":id": device_id}, |_| Ok(()))
            .optional()?
            .is_some();
        conn.prepare_cached(
            "UPDATE devices SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL",
        )?
        .execute(named_params! {":now": ts(now), ":id": device_id})?;
        Ok(exists)
    }

    fn devices(&self) -> Result<Vec<DeviceInfo>, StorageError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare(
            "SELECT id, label, role, enrolled_at, revoked_at FROM devices ORDER BY enrolled_at",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, label, role, enrolled_at, revoked_at) = row?;
            out.push(DeviceInfo {
                id,
                label,
                role: from_json(&role, "device role")?,
                enrolled_at: parse_ts(&enrolled_at)?,
                revoked_at: revoked_at.as_deref().map(parse_ts).transpose()?,
            });
        }
        Ok(out)
    }

    fn push(
        &self,
        device: &Device,
        changes: &[PushChange],
        now: DateTime<Utc>,
    ) -> Result<Vec<Ack>, StorageError> {
        let mine = Arc::new(PushJob {
            device: device.clone(),
            changes: changes.to_vec(),
            verdicts: push_rules::verify_signatures(device, changes),
            now,
            result: Mutex::new(None),
        });
        self.pushes
            .lock()
            .map_err(|_| StorageError::Poisoned)?
            .push(Arc::clone(&mine));
        // Group commit: whoever holds the writer commits the pushes queued by then (oldest
        // first) in one transaction, so a burst of devices pays for one fsync instead of one
        // each. A push whose turn comes finds its answer ready, or commits a group itself.
        loop {
            let mut conn = self.conn()?;
            if let Some(done) = mine.take_result()? {
                return done;
            }
            let group: Vec<Arc<PushJob>> = {
                let mut queue = self.pushes.lock().map_err(|_| StorageError::Poisoned)?;
                let n = queue.len().min(MAX_GROUP);
                queue.drain(..n).collect()
            };
            match commit_group(&mut conn, &group) {
                Ok(results) => {
                    if group.iter().any(|job| withdraws(&job.changes)) {
                        // A withdrawn session's pages were zeroed (secure_delete), but older
                        // images of them sit in the WAL: fold it in and truncate it. Best
                        // effort: a reader in the middle of a pull can keep it for a while.
                        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
                    }
                    for (job, result) in group.iter().zip(results) {
                        job.set_result(result)?;
                    }
                }
                Err(e) => {
                    for job in &group {
                        job.set_result(Err(StorageError::GroupCommitFailed))?;
                    }
                    if group.iter().any(|job| Arc::ptr_eq(job, &mine)) {
                        mine.set_result(Err(e))?;
                    }
                }
            }
        }
    }

    fn pull(&self, device: &Device, after: u64, limit: u32) -> Result<PullResponse, StorageError> {
        let (team_id, sector) = match &device.role {
            Role::TeamMember { team_id } => (Some(team_id.to_string()), None),
            Role::Reviewer { sector } => (None, Some(sector.clone())),
            // Roles that sync nothing see reference data only; the HTTP layer refuses
            // them before this, and storage must not widen scope if it is ever called.
            Role::HqAnalyst | Role::Admin => (None, None),
        };
        let after_i = i64::try_from(after).unwrap_or(i64::MAX);
        let mut conn = self.reader()?;
        let tx = conn.transaction()?;
        let mut records = Vec::new();
        let mut more = false;
        {
            // Each record once, at its latest change; removed records (deleted drafts) skipped,
            // and so are records whose latest change this device pushed itself: it holds them.
            let mut stmt = tx.prepare_cached(
                "SELECT c.seq, r.body, r.hash
                 FROM changes c JOIN records r ON r.kind = c.kind AND r.id = c.id
                 WHERE c.seq > :after
                   AND (c.team_id IS NULL OR c.team_id = :team_id OR c.sector = :sector)
                   AND (c.device_id IS NULL OR c.device_id <> :device)
                   AND NOT EXISTS (SELECT 1 FROM changes l
                                   WHERE l.kind = c.kind AND l.id = c.id AND l.seq > c.seq)
                 ORDER BY c.seq
                 LIMIT :limit",
            )?;
            let rows = stmt.query_map(
                named_params! {
                    ":after": after_i, ":team_id": team_id, ":sector": sector,
                    ":device": device.id, ":limit": i64::from(limit) + 1,
                },
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )?;
            for row in rows {
                let (seq, body, hash) = row?;
                if records.len() == limit as usize {
                    more = true;
                    break;
                }
                records.push(PulledRecord {
                    seq: u64::try_from(seq).unwrap_or(0),
                    record: from_json(&body, "record body")?,
                    hash,
                });
            }
        }
        // A complete answer moves the cursor past everything scanned, the device's own
        // pushes included, so that later pulls do not scan them again. Sound because seqs
        // are assigned in commit order here (one writer at a time) and this read sees one
        // snapshot; a backend whose sequence can commit out of order needs another bound.
        let cursor = if more {
            records.last().map_or(after, |r| r.seq)
        } else {
            let newest: Option<i64> =
                tx.query_row("SELECT max(seq) FROM changes", [], |r| r.get(0))?;
            newest.map_or(after, |n| u64::try_from(n).unwrap_or(after).max(after))
        };
        tx.commit()?;
        Ok(PullResponse {
            records,
            cursor,
            more,
        })
    }

    fn get_record(&self, kind: &str, id: &str) -> Result<Option<StoredRecord>, StorageError> {
        let conn = self.reader()?;
        get_record(&conn, kind, id)
    }

    fn records_of_kind(&self, kind: &str) -> Result<Vec<StoredRecord>, StorageError> {
        let conn = self.reader()?;
        let mut stmt =
            conn.prepare("SELECT body, hash, team_id FROM records WHERE kind = :kind ORDER BY id")?;
        let rows = stmt.query_map(named_params! {":kind": kind}, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (body, hash, team_id) = row?;
            out.push(StoredRecord {
                record: from_json(&body, "record body")?,
                hash,
                team_id,
            });
        }
        Ok(out)
    }

    fn reference_records(&self) -> Result<Vec<Record>, StorageError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare(
            "SELECT body FROM records WHERE team_id IS NULL AND kind <> 'bundle'
             ORDER BY kind, id",
        )?;
        let bodies = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for body in bodies {
            out.push(from_json(&body?, "record body")?);
        }
        Ok(out)
    }

    fn root_key(&self) -> Result<Option<PublicKey>, StorageError> {
        let conn = self.reader()?;
        let hex: Option<String> = conn
            .prepare_cached("SELECT public_key FROM mission_root WHERE id = 1")?
            .query_row([], |r| r.get(0))
            .optional()?;
        hex.map(|h| {
            PublicKey::from_hex(&h).map_err(|_| StorageError::Corrupt("mission root key".into()))
        })
        .transpose()
    }

    fn register_root_key(&self, key: &PublicKey) -> Result<bool, StorageError> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "INSERT INTO mission_root (id, public_key) VALUES (1, :key) ON CONFLICT DO NOTHING",
        )?
        .execute(named_params! {":key": key.to_hex()})?;
        let registered: String = conn
            .prepare_cached("SELECT public_key FROM mission_root WHERE id = 1")?
            .query_row([], |r| r.get(0))?;
        Ok(registered == key.to_hex())
    }

    fn history(&self, kind: &str, id: &str) -> Result<Vec<HistoryEntry>, StorageError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare(
            "SELECT hash, body, outcome, at FROM record_history
             WHERE kind = :kind AND id = :id ORDER BY rowid",
        )?;
        let rows = stmt.query_map(named_params! {":kind": kind, ":id": id}, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (hash, body, outcome, at) = row?;
            out.push(HistoryEntry {
                hash,
                record: from_json(&body, "history body")?,
                outcome,
                at: parse_ts(&at)?,
            });
        }
        Ok(out)
    }

    fn audit_append(&self, entry: &AuditEntry) -> Result<StoredAuditEntry, StorageError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let head: Option<(i64, String)> = tx
            .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (seq, prev) = match head {
            Some((seq, hash)) => (u64::try_from(seq).unwrap_or(0) + 1, hash),
            None => (1, GENESIS.to_owned()),
        };
        let e = StoredAuditEntry::chain(entry, seq, &prev);
        tx.prepare_cached(
            "INSERT INTO audit_log (seq, at, device_id, role, action, target, why, prev_hash, hash)
             VALUES (:seq, :at, :device_id, :role, :action, :target, :why, :prev_hash, :hash)",
        )?
        .execute(named_params! {
            ":seq": i64::try_from(e.seq).unwrap_or(i64::MAX), ":at": e.at,
            ":device_id": e.device_id, ":role": e.role, ":action": e.action,
            ":target": e.target, ":why": e.why, ":prev_hash": e.prev_hash, ":hash": e.hash,
        })?;
        tx.commit()?;
        Ok(e)
    }

    fn audit_entries(&self, after: u64, limit: u32) -> Result<Vec<StoredAuditEntry>, StorageError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(
            "SELECT seq, at, device_id, role, action, target, why, prev_hash, hash
             FROM audit_log WHERE seq > :after ORDER BY seq LIMIT :limit",
        )?;
        let rows = stmt.query_map(
            named_params! {
                ":after": i64::try_from(after).unwrap_or(i64::MAX),
                ":limit": i64::from(limit),
            },
            |r| {
                Ok(StoredAuditEntry {
                    seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    at: r.get(1)?,
                    device_id: r.get(2)?,
                    role: r.get(3)?,
                    action: r.get(4)?,
                    target: r.get(5)?,
                    why: r.get(6)?,
                    prev_hash: r.get(7)?,
                    hash: r.get(8)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
