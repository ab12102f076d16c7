//! The server schema, as an append-only list of migrations. Never edit a released migration:
//! add a new one.

use rusqlite_migration::{M, Migrations};

/// Migration 1: reference data, devices, enrolment codes, records, change log, history.
///
/// `records` holds the current version of every record as the JSON of
/// `fieldconsult_model::wire::Record`; the typed reference tables (`teams`, `communities`,
/// `checklists`, `referral_services`) mirror reference records for admin queries.
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
    lon REAL
) STRICT;

CREATE TABLE checklists (
    version INTEGER PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
) STRICT;

CREATE TABLE referral_services (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    area TEXT NOT NULL
) STRICT;

CREATE TABLE devices (
    id TEXT PRIMARY KEY NOT NULL,
    label TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    enrolled_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;

CREATE TABLE enrolment_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    role TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
) STRICT;

CREATE TABLE records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    team_id TEXT,
    body TEXT NOT NULL,
    hash TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
CREATE INDEX records_by_team ON records(team_id);

CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    team_id TEXT,
    sector TEXT
);
CREATE INDEX changes_by_record ON changes(kind, id, seq);

CREATE TABLE record_history (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    hash TEXT NOT NULL,
    body TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('superseded', 'conflict_lost')),
    at TEXT NOT NULL
) STRICT;
CREATE INDEX record_history_by_record ON record_history(kind, id);
"#;

/// Migration 2: who made each change, so that a device's pull leaves out what it pushed
/// itself (it holds that exact version already; echoing it doubled the bytes of a sync).
const V2: &str = "ALTER TABLE changes ADD COLUMN device_id TEXT;";

/// Migration 3: signed pushes (issue 7). `devices.public_key` is the hex Ed25519 key a
/// device registered at enrolment (NULL for devices enrolled before: their pushes are
/// refused as unsigned until they enrol again). `push_nonces` remembers, per device, each
/// change nonce with the digest of what it signed, to refuse a nonce reused for other
/// content; a retry of the same signed change finds the same digest. `mission_root` holds
/// the public half of the mission root key that signs reference bundles (one row at most).
const V3: &str = "
ALTER TABLE devices ADD COLUMN public_key TEXT;
CREATE TABLE mission_root (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    public_key TEXT NOT NULL
) STRICT;
CREATE TABLE push_nonces (
    device_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    content_digest TEXT NOT NULL,
    PRIMARY KEY (device_id, nonce)
) STRICT, WITHOUT ROWID;
";

/// Migration 4: the hash-chained audit log (see `crate::audit`). `seq` is assigned by the
/// appender, one more than the head, inside the write transaction that reads the head; rows
/// are never updated or deleted by the server.
const V4: &str = r#"
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    device_id TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    why TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;
"#;

/// Every migration, oldest first.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![M::up(V1), M::up(V2), M::up(V3), M::up(V4)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }
}
