//! Schema migrations: a database left at any earlier schema version opens, migrates, keeps
//! its data, and ends with exactly the schema of a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::key;
use fieldconsult_core::Store;
use fieldconsult_core::store::schema::{latest_version, migrations};

/// Every schema object, normalised, so two databases can be compared.
fn schema_of(path: &std::path::Path) -> Vec<(String, String, String)> {
    let conn = common::raw_connection(path);
    let mut stmt = conn
        .prepare(
            "SELECT type, name, coalesce(sql, '') FROM sqlite_master
             WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn migration_count_matches_latest_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let mut conn = common::raw_connection(&path);
    migrations().to_latest(&mut conn).unwrap();
    let v: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, latest_version());
    migrations().validate().unwrap();
}

#[test]
fn database_at_every_earlier_version_migrates_to_the_fresh_schema_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.db");
    drop(Store::open(&fresh, &key(7)).unwrap());
    let expected = schema_of(&fresh);
    assert!(expected.iter().any(|(_, name, _)| name == "sessions"));

    for version in 0..latest_version() {
        let path = dir.path().join(format!("v{version}.db"));
        {
            let mut conn = common::raw_connection(&path);
            migrations()
                .to_version(&mut conn, version as usize)
                .unwrap();
            if version >= 1 {
                conn.execute(
                    "INSERT INTO teams (id, name, sector) VALUES (?1, 'Team kept', 'North')",
                    [fieldconsult_model::TeamId::new().to_string()],
                )
                .unwrap();
                // A change waiting to be pushed: V3's sync state must show it pending.
                conn.execute(
                    "INSERT INTO outbox (entity, entity_id, urgent, changes)
                     VALUES ('visit', 'v-kept', 0, 2)",
                    [],
                )
                .unwrap();
            }
        }
        let store = Store::open(&path, &key(7)).unwrap();
        assert_eq!(store.settings().unwrap().schema_version, latest_version());
        if version >= 1 {
            let teams = store.teams().unwrap();
            assert_eq!(teams.len(), 1, "data of v{version} survives");
            assert_eq!(teams[0].name, "Team kept");
            assert_eq!(
                store.pending_count().unwrap(),
                1,
                "outbox of v{version} survives"
            );
        }
        drop(store);
        // Migration 3 gives queued changes of older databases their sync state.
        if (1..3).contains(&version) {
            let state: String = common::raw_connection(&path)
                .query_row(
                    "SELECT state FROM sync_state WHERE entity = 'visit' AND entity_id = 'v-kept'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(state, "pending", "queued change of v{version} is pending");
        }
        assert_eq!(
            schema_of(&path),
            expected,
            "schema migrated from v{version}"
        );
    }
}
