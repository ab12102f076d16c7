//! The device schema, as an append-only list of migrations. Never edit a released migration:
//! add a new one. `tests/migrations.rs` opens a database at every earlier version and checks
//! that migrating it gives exactly the schema of a fresh one.

use rusqlite_migration::{M, Migrations};

/// Migration 1: reference data, visits, sessions, reviews, addenda, outbox, history.
///
/// Sessions keep their full content as JSON in `body` (decoded by `fieldconsult-model`'s
/// serde types) beside the columns that lists filter and sort on; a tombstone keeps the
/// columns and drops the body.
const V1: &str = r#"
CREATE TABLE teams (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    sector TEXT NOT NULL
) STRICT;

CREATE TABLE communities (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    admin_area TEXT NOT NULL,
    lat REAL,
    lon REAL,
    added_on_device INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE referral_services (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    area TEXT NOT NULL
) STRICT;

CREATE TABLE checklists (
    version INTEGER PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
) STRICT;

CREATE TABLE visits (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams(id),
    community_id TEXT NOT NULL REFERENCES communities(id),
    started_ms INTEGER NOT NULL,
    body TEXT NOT NULL,
    revision INTEGER NOT NULL
) STRICT;
CREATE INDEX visits_by_team ON visits(team_id, started_ms);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    visit_id TEXT NOT NULL REFERENCES visits(id),
    team_id TEXT NOT NULL REFERENCES teams(id),
    community_id TEXT NOT NULL REFERENCES communities(id),
    grp TEXT NOT NULL CHECK (grp IN ('women', 'men', 'mixed')),
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'accepted')),
    started_ms INTEGER NOT NULL,
    started_offset_s INTEGER NOT NULL,
    participants INTEGER NOT NULL,
    has_urgent INTEGER NOT NULL CHECK (has_urgent IN (0, 1)),
    revision INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    status_changed_ms INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    body TEXT,
    CHECK (deleted = 1 OR body IS NOT NULL)
) STRICT;
CREATE INDEX sessions_by_start ON sessions(started_ms, id);
CREATE INDEX sessions_by_team ON sessions(team_id, started_ms, id);
CREATE INDEX sessions_by_community ON sessions(community_id, started_ms, id);
CREATE INDEX sessions_by_status ON sessions(status, started_ms, id);
CREATE INDEX sessions_by_visit ON sessions(visit_id);

CREATE TABLE reviews (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    at_ms INTEGER NOT NULL,
    body TEXT NOT NULL
) STRICT;
CREATE INDEX reviews_by_session ON reviews(session_id, at_ms);
CREATE TRIGGER reviews_are_append_only BEFORE UPDATE ON reviews
BEGIN SELECT RAISE(ABORT, 'reviews are append-only'); END;

CREATE TABLE addenda (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    at_ms INTEGER NOT NULL,
    body TEXT NOT NULL
) STRICT;
CREATE INDEX addenda_by_session ON addenda(session_id, at_ms);
CREATE TRIGGER addenda_are_append_only BEFORE UPDATE ON addenda
BEGIN SELECT RAISE(ABORT, 'addenda are append-only'); END;

-- One row per record with changes not yet acknowledged by the server. `changes` counts
-- local writes; an upload subtracts the count it captured, so a write made during the upload
-- keeps the row. Urgent rows go first, then by first change.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL CHECK (entity IN ('community', 'visit', 'session', 'review', 'addendum')),
    entity_id TEXT NOT NULL,
    urgent INTEGER NOT NULL CHECK (urgent IN (0, 1)),
    changes INTEGER NOT NULL CHECK (changes > 0),
    UNIQUE (entity, entity_id)
) STRICT;
CREATE INDEX outbox_in_push_order ON outbox(urgent DESC, seq);

-- Who changed what, when. Names of changed fields only, never their values.
CREATE TABLE history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    revision INTEGER,
    from_status TEXT,
    to_status TEXT,
    fields TEXT NOT NULL
) STRICT;
CREATE INDEX history_by_entity ON history(entity_id, seq);
CREATE TRIGGER history_is_append_only BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
"#;

/// Migration 2: the list a team lead opens most (my team's sessions in one status) becomes
/// an index walk instead of a scan of the status index checking each row's team.
const V2: &str = "
CREATE INDEX sessions_by_team_status ON sessions(team_id, status, started_ms, id);
";

/// Migration 3: sync bookkeeping.
///
/// - `sync_state`: per syncable record, its visible sync state (the app shows and filters on
///   it), a stable reason code for `error`, and the hash of the server's last acknowledged
///   version (the base of the next push). A record without a row is `synced` (or was never
///   pushed and has nothing to push). Every outbox write sets the row back to `pending`.
/// - `sync_meta`: the one enrolment (device id, bearer token, role as JSON, server address)
///   and the pull cursor.
/// - `sync_parked`: pulled records whose parent (a visit's team or community, a session's
///   visit, a review's session) has not arrived yet; retried after every pulled page.
const V3: &str = "
CREATE TABLE sync_state (
    entity TEXT NOT NULL CHECK (entity IN ('community', 'visit', 'session', 'review', 'addendum')),
    entity_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'synced', 'error', 'conflict')),
    reason TEXT CHECK ((state = 'error') = (reason IS NOT NULL)),
    server_hash TEXT,
    PRIMARY KEY (entity, entity_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX sync_state_by_state ON sync_state(state, entity);
INSERT INTO sync_state (entity, entity_id, state) SELECT entity, entity_id, 'pending' FROM outbox;

CREATE TABLE sync_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    server_url TEXT,
    device_id TEXT NOT NULL,
    token TEXT NOT NULL,
    role TEXT NOT NULL,
    pull_cursor INTEGER NOT NULL DEFAULT 0 CHECK (pull_cursor >= 0)
) STRICT;

CREATE TABLE sync_parked (
    seq INTEGER PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    body TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (kind, record_id)
) STRICT;
";

/// Migration 4: conflict notices the server sends when it did not apply an edit built on an
/// older version (`wire::ConflictNotice`), kept so the author's team and the reviewer see
/// the edit; looked up by the record they concern.
const V4: &str = "
CREATE TABLE conflicts (
    lost_hash TEXT PRIMARY KEY NOT NULL,
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    detected_ms INTEGER NOT NULL,
    body TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX conflicts_by_record ON conflicts(record_kind, record_id, detected_ms);
";

/// Migration 5: sealed sensitive notes.
///
/// - `sealing_keys`: per sector, the public keys its notes are sealed to (the JSON of
///   `fieldconsult_model::SealingKeys`), pulled as reference data.
/// - `sealing_identity`: this device's own X25519 key pair when it reviews (a focal point's
///   phone): the 32-byte secret lives only here, inside the encrypted database, and never
///   leaves it; the public half is registered by the mission admin.
const V5: &str = "
CREATE TABLE sealing_keys (
    sector TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
) STRICT;

CREATE TABLE sealing_identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL CHECK (length(secret) = 32),
    public_key TEXT NOT NULL,
    created_ms INTEGER NOT NULL
) STRICT;
";

/// Migration 6: consent withdrawal.
///
/// - `consent_withdrawals`: withdrawals waiting to be sent (`wire::ConsentWithdrawal`: ids
///   and a time, never content). A row leaves once the server has applied the withdrawal;
///   while it is here, a pulled version of the session is not let back in.
/// - `sessions_sent`: sessions a push ever carried. A withdrawal of one of them is sent
///   even without an acknowledgement: the answer may have been lost after the server
///   stored it. Goes with the session.
const V6: &str = "
CREATE TABLE consent_withdrawals (
    session_id TEXT PRIMARY KEY NOT NULL,
    withdrawn_ms INTEGER NOT NULL,
    body TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE sessions_sent (
    session_id TEXT PRIMARY KEY NOT NULL REFERENCES sessions(id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
";

/// Migration 7 (issue 7): the device's Ed25519 signing key, generated at enrolment: its
/// 32-byte secret seed lives only here, in the encrypted store, beside the token it goes
/// with (NULL for an enrolment made before pushes were signed: such a device enrols
/// again). The mission root key pinned at enrolment (hex; NULL when the server had none)
/// and the sequence of the last reference bundle applied.
const V7: &str = "
ALTER TABLE sync_meta ADD COLUMN signing_seed BLOB CHECK (signing_seed IS NULL OR length(signing_seed) = 32);
ALTER TABLE sync_meta ADD COLUMN root_key TEXT;
ALTER TABLE sync_meta ADD COLUMN bundle_sequence INTEGER NOT NULL DEFAULT 0 CHECK (bundle_sequence >= 0);
";

/// Every migration's SQL, oldest first. Append only.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7];

/// Every migration, oldest first.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

/// The schema version a fresh database gets: one version per migration.
pub fn latest_version() -> u32 {
    MIGRATIONS.len() as u32
}
