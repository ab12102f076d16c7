//! The SQLite storage under pushes arriving at once (committed in groups).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Barrier};

use chrono::{Duration, Utc};
use common::{Server, submitted_session, visit_and_session};
use fieldconsult_model::Role;
use fieldconsult_model::wire::AckOutcome;
use fieldconsult_server::Storage;

const DEVICES: usize = 24;

#[test]
fn pushes_arriving_at_once_are_each_committed_once_and_answered_with_their_own_acks() {
    let server = Server::new();
    let role = Role::TeamMember {
        team_id: server.team_a.id,
    };
    let barrier = Arc::new(Barrier::new(DEVICES));
    let handles: Vec<_> = (0..DEVICES)
        .map(|i| {
            let code = format!("code-{i}");
            server
                .storage
                .insert_enrolment_code(&code, &role, Utc::now() + Duration::hours(1))
                .unwrap();
            let key = common::new_key();
            let device = server
                .storage
                .enrol(
                    &code,
                    "tablet",
                    &format!("token-{i}"),
                    &key.public_key(),
                    Utc::now(),
                )
                .unwrap()
                .expect("enrolled");
            let visit = server.visit(&server.team_a);
            let session = submitted_session(&visit);
            let batch: Vec<_> = visit_and_session(&visit, &session)
                .into_iter()
                .map(|c| common::sign(c, &device.id, &key))
                .collect();
            let expected: Vec<String> = batch.iter().map(|c| c.record.id()).collect();
            let storage = Arc::clone(&server.storage);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let acks = storage.push(&device, &batch, Utc::now()).unwrap();
                (expected, acks)
            })
        })
        .collect();
    for h in handles {
        let (expected, acks) = h.join().unwrap();
        let got: Vec<String> = acks.iter().map(|a| a.id.clone()).collect();
        assert_eq!(got, expected, "each push gets the acks of its own records");
        assert!(
            acks.iter().all(|a| a.outcome == AckOutcome::Stored),
            "{acks:?}"
        );
    }
    assert_eq!(server.storage_sessions(), DEVICES);
    for s in server.storage.records_of_kind("session").unwrap() {
        assert!(
            server
                .storage
                .history("session", &s.record.id())
                .unwrap()
                .is_empty()
        );
    }
}
