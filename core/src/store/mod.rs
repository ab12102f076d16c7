//! The encrypted device store.
//!
//! Threading: one SQLCipher connection behind a [`Mutex`]. Every call, read or write, takes
//! the lock for the duration of one transaction. This serialises calls from the app's threads
//! (the FFI may call from any of them), which costs little on a phone: a save takes well
//! under a millisecond plus the fsync, and lists are index walks. A writer plus a pool of
//! readers can replace it behind the same API if profiling ever shows contention.

mod codec;
pub mod conflicts;
pub mod consent;
pub mod history;
pub mod outbox;
pub mod reference;
pub mod reports;
pub mod retention;
pub mod reviews;
pub mod schema;
pub mod sealing;
pub mod sessions;
pub(crate) mod sync;
pub mod visits;
mod warnings;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard, Once};

use chrono::{DateTime, Utc};
use fieldconsult_model::ValidationContext;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::{Error, Result};
use crate::key::DatabaseKey;

/// Options of a store.
#[derive(Clone, Debug, Default)]
pub struct StoreOptions {
    /// Keep community locations as given instead of rounding them to ~1 km. Off unless the
    /// mission opts in.
    pub precise_locations: bool,
}

/// The settings in force on a store's connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreSettings {
    /// SQLCipher's version; never empty (the store refuses to open without SQLCipher).
    pub cipher_version: String,
    /// `wal`.
    pub journal_mode: String,
    /// `synchronous = FULL`: a committed write survives power loss.
    pub synchronous_full: bool,
    /// Foreign keys enforced.
    pub foreign_keys: bool,
    /// Deleted content overwritten with zeros.
    pub secure_delete: bool,
    /// Temporary tables and indexes kept in memory, never in files.
    pub temp_store_memory: bool,
    /// Schema version (migrations applied).
    pub schema_version: u32,
}

/// The encrypted device store. `Send + Sync`: share it across threads behind an `Arc`.
pub struct Store {
    /// `None` once the store closed itself (a revoked device wipes its data).
    conn: Mutex<Option<Connection>>,
    path: PathBuf,
    options: StoreOptions,
    /// Set while a sync or an enrolment runs: a second one is refused with `Busy`.
    pub(crate) syncing: AtomicBool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the store at `path` with `key`.
    ///
    /// A wrong key is [`Error::WrongKey`] and leaves the file untouched; a database from a
    /// newer app version is [`Error::NewerSchema`].
    pub fn open(path: impl AsRef<Path>, key: &DatabaseKey) -> Result<Self> {
        Self::open_with(path, key, StoreOptions::default())
    }

    /// Opens (or creates) the store at `path` with `key` and `options`.
    pub fn open_with(
        path: impl AsRef<Path>,
        key: &DatabaseKey,
        options: StoreOptions,
    ) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        wait_for_sqlcipher();
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        unlock(&conn, key)?;
        configure(&conn)?;
        migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(Some(conn)),
            path,
            options,
            syncing: AtomicBool::new(false),
        })
    }

    /// [`Store::open_with`] for a key the platform keystore may have lost: without one it is
    /// [`Error::KeyUnavailable`] and nothing is created, so a lost key never turns into a
    /// new, empty store where the old one was (whose data would then look lost, not locked).
    pub fn open_with_key(
        path: impl AsRef<Path>,
        key: Option<&DatabaseKey>,
        options: StoreOptions,
    ) -> Result<Self> {
        match key {
            Some(key) => Self::open_with(path, key, options),
            None => Err(Error::KeyUnavailable {
                store_exists: Self::files(path.as_ref()).iter().any(|f| f.exists()),
            }),
        }
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-encrypts the database in place with `new_key`. The old key stops working.
    pub fn change_key(&self, new_key: &DatabaseKey) -> Result<()> {
        let mut guard = self.lock();
        let conn = open_conn(&mut guard)?;
        // Rekeying rewrites every page; do it in rollback-journal mode so that no page
        // encrypted with the old key is left behind in the WAL.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
        let rekeyed = conn.execute_batch(&new_key.pragma("rekey"));
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        rekeyed?;
        Ok(())
    }

    /// Closes the store and deletes the database with its `-wal`, `-shm` and `-journal`
    /// files.
    pub fn wipe(self) -> Result<()> {
        self.close_and_delete()
    }

    /// Closes the connection and deletes the files, leaving a store on which every call
    /// fails with [`Error::Revoked`] (a revoked device wipes its data while the app may
    /// still hold the store).
    pub(crate) fn close_and_delete(&self) -> Result<()> {
        self.close_connection();
        Self::delete_files(&self.path)
    }

    fn close_connection(&self) {
        let conn = self.lock().take();
        if let Some(conn) = conn {
            // Close errors only mean the connection is already unusable; the files go anyway.
            drop(conn.close());
        }
    }

    /// The panic button: closes the store, overwrites the database and its companion files
    /// with zeros, flushes them to the device, then deletes them. Faster than re-keying and
    /// safer than deleting alone: a copy of the file taken after this (a hard link, a disk
    /// image of the deleted blocks on a simple file system) holds zeros, not ciphertext.
    /// Flash wear levelling may still keep old blocks, which is why the key must go from the
    /// platform keystore too. A 100 MB store takes well under a second here
    /// (`cargo run --release -p fieldconsult-core --example wipebench`).
    pub fn panic_wipe(self) -> Result<()> {
        self.close_connection();
        Self::destroy_files(&self.path)
    }

    /// [`Store::panic_wipe`] without opening the store: overwrites the database at `path`
    /// and its companion files with zeros, flushes, deletes.
    pub fn destroy_files(path: &Path) -> Result<()> {
        const CHUNK: usize = 1 << 20;
        let zeros = vec![0u8; CHUNK];
        for file in Self::files(path) {
            let mut f = match std::fs::OpenOptions::new().write(true).open(&file) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            let mut left = f.metadata()?.len();
            while left > 0 {
                let n = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
                std::io::Write::write_all(&mut f, &zeros[..n])?;
                left -= n as u64;
            }
            f.sync_data()?;
            drop(f);
            std::fs::remove_file(&file)?;
        }
        Ok(())
    }

    /// Deletes the database at `path` with its companion files, without opening it (for a
    /// device that lost its key, or a revoked one).
    pub fn delete_files(path: &Path) -> Result<()> {
        for file in Self::files(path) {
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The database file and the companion files SQLite may create beside it.
    pub fn files(path: &Path) -> Vec<PathBuf> {
        let mut files = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            files.push(PathBuf::from(name));
        }
        files
    }

    /// Runs `f` in one immediate write transaction: all of it is stored, or none.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut guard = self.lock();
        let conn = open_conn(&mut guard)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `f` in one read transaction, so that it sees one consistent state.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut guard = self.lock();
        let conn = open_conn(&mut guard)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let value = f(&tx)?;
        tx.finish()?;
        Ok(value)
    }

    /// The security and durability settings in force on the connection, for diagnostics and
    /// for tests that hold the store to them.
    pub fn settings(&self) -> Result<StoreSettings> {
        let mut guard = self.lock();
        let conn = open_conn(&mut guard)?;
        let text = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, String>(0));
        let int = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
        Ok(StoreSettings {
            cipher_version: text("PRAGMA cipher_version")?,
            journal_mode: text("PRAGMA journal_mode")?,
            synchronous_full: int("PRAGMA synchronous")? == 2,
            foreign_keys: int("PRAGMA foreign_keys")? == 1,
            secure_delete: int("PRAGMA secure_delete")? == 1,
            temp_store_memory: int("PRAGMA temp_store")? == 2,
            schema_version: conn.query_row("PRAGMA user_version", [], |r| r.get(0))?,
        })
    }

    /// SQLCipher's page-by-page check of the file: every page's HMAC is verified, so a page
    /// altered or damaged on disk (a tampered copy, a failing flash chip) is found. Returns
    /// one line per problem (page numbers only, never content); empty when every page is
    /// intact. Reads the whole file: seconds for a large store, so off the UI thread.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let mut guard = self.lock();
        let conn = open_conn(&mut guard)?;
        // The check reads the database file itself: pages still in the WAL would be missed.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let mut stmt = conn.prepare("PRAGMA cipher_integrity_check")?;
        let problems = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(problems)
    }

    /// Copies the WAL into the database and truncates it.
    pub fn checkpoint(&self) -> Result<()> {
        let mut guard = self.lock();
        open_conn(&mut guard)?.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    pub(crate) fn options(&self) -> &StoreOptions {
        &self.options
    }

    fn lock(&self) -> MutexGuard<'_, Option<Connection>> {
        // A panic while holding the lock rolled its transaction back (Transaction's Drop), so
        // the connection is still consistent: carry on rather than poison every later call.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The connection behind a lock, or [`Error::Revoked`] once the store closed itself.
fn open_conn<'a>(guard: &'a mut MutexGuard<'_, Option<Connection>>) -> Result<&'a mut Connection> {
    guard.as_mut().ok_or(Error::Revoked)
}

/// The current time and the validation context at it.
pub(crate) fn now() -> (DateTime<Utc>, ValidationContext) {
    let now = Utc::now();
    (now, ValidationContext::at(now))
}

/// Returns once SQLCipher has finished initialising in this process.
///
/// SQLite marks itself initialised *before* it runs SQLCipher's initialisation
/// (`SQLITE_EXTRA_INIT`), so a thread opening a connection while another thread's first
/// connection is still in there finds SQLCipher "not initialized", and `PRAGMA key` fails
/// with "PRAGMA key requires a key of one or more characters" (CI hit it when two tests
/// opened their first stores at once). Keying a throwaway in-memory database succeeds only
/// once that initialisation is over; whichever thread gets here first tries until it does,
/// the others wait for it.
///
/// [`Store::open`] calls it. Code that opens a keyed SQLCipher connection of its own in a
/// process where a store may be opening on another thread (a test looking under the API, a
/// tool reading a store) must call it first: the wait only protects openings that all go
/// through it.
pub fn wait_for_sqlcipher() {
    static READY: Once = Once::new();
    READY.call_once(|| {
        for _ in 0..1000 {
            let keyed = Connection::open_in_memory().and_then(|conn| {
                conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
                conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "00".repeat(32)))
            });
            if keyed.is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        // Still failing: the caller's own `PRAGMA key` reports the error.
    });
}

/// Keys the connection and proves the key right by reading, before anything is written.
fn unlock(conn: &Connection, key: &DatabaseKey) -> Result<()> {
    // SQLCipher would log "hmac check failed" to stderr on a wrong key.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    let version: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .ok();
    if version.as_deref().is_none_or(str::is_empty) {
        return Err(Error::EncryptionUnavailable);
    }
    conn.execute_batch(&key.pragma("key"))?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => {
            Err(Error::WrongKey)
        }
        Err(e) => Err(e.into()),
    }
}

fn configure(conn: &Connection) -> Result<()> {
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let supported = schema::latest_version();
    if found > supported {
        return Err(Error::NewerSchema { found, supported });
    }
    schema::migrations().to_latest(conn)?;
    Ok(())
}
