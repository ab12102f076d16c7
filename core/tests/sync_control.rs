//! Sync around the records: enrolment, auth errors, revocation and wipe, one request when
//! idle, one sync at a time, cancellation, and the HTTPS transport's refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use common::Fixture;
use fieldconsult_core::{
    Error, HttpsTransport, NoProgress, Progress, SessionFilter, TransportError,
};
use fieldconsult_model::Group;
use sync_support::{FakeServer, Hook, problem};

#[test]
fn enrolment_keeps_the_credentials_in_the_store() {
    let f = Fixture::new();
    assert!(f.store.enrolment().unwrap().is_none());
    assert!(matches!(
        f.store.sync(&FakeServer::new(f.alice().role), &NoProgress),
        Err(Error::NotEnrolled)
    ));
    let server = FakeServer::new(f.alice().role.clone());
    let e = f
        .store
        .enrol(&server, " CODE ", "Team A tablet", None)
        .unwrap();
    assert_eq!(e.device_id, "device-1");
    assert_eq!(e.role, f.alice().role);
    drop(f.store);
    let reopened = fieldconsult_core::Store::open(&f.path, &common::key(7)).unwrap();
    assert_eq!(reopened.enrolment().unwrap().unwrap().device_id, "device-1");
    // The token sits in the encrypted file only.
    let raw = std::fs::read(&f.path).unwrap();
    assert!(
        !raw.windows(sync_support::TOKEN.len())
            .any(|w| w == sync_support::TOKEN.as_bytes())
    );
}

#[test]
fn a_reopened_store_signs_with_the_key_it_registered_and_a_new_enrolment_makes_a_new_one() {
    let f = Fixture::new();
    let server = FakeServer::new(f.alice().role.clone());
    f.store.enrol(&server, "CODE", "tablet", None).unwrap();
    let first = server.state.lock().unwrap().device_key.unwrap();
    f.saved_session(Group::Women);
    drop(f.store);
    let store = fieldconsult_core::Store::open(&f.path, &common::key(7)).unwrap();
    // The fake server verifies every pushed change with the key registered at enrolment.
    let report = store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.acknowledged, 2);
    store.enrol(&server, "CODE", "tablet", None).unwrap();
    assert_ne!(server.state.lock().unwrap().device_key.unwrap(), first);
    // The secret half never leaves the encrypted file: the public half is not even there
    // in the clear.
    drop(store);
    let raw = std::fs::read(&f.path).unwrap();
    assert!(!raw.windows(32).any(|w| w == first.to_bytes()));
}

#[test]
fn an_idle_sync_is_one_request() {
    let f = Fixture::new();
    let server = FakeServer::new(f.alice().role.clone());
    f.store.enrol(&server, "CODE", "tablet", None).unwrap();
    f.saved_session(Group::Women);
    f.store.sync(&server, &NoProgress).unwrap();
    let before = server.requests().len();
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.requests, 1);
    assert_eq!(server.requests().len(), before + 1);
    assert!(server.requests()[before].path.starts_with("/v1/pull"));
    assert!(report.bytes_up == 0 && report.bytes_down < 1024);
}

#[test]
fn a_revoked_device_wipes_its_files_and_refuses_every_call() {
    let f = Fixture::new();
    let server = FakeServer::new(f.alice().role.clone());
    f.store.enrol(&server, "CODE", "tablet", None).unwrap();
    f.saved_session(Group::Women);
    f.store.sync(&server, &NoProgress).unwrap();
    f.saved_session(Group::Men);
    server.state.lock().unwrap().revoked = true;
    assert!(matches!(
        f.store.sync(&server, &NoProgress),
        Err(Error::Revoked)
    ));
    let left: Vec<_> = std::fs::read_dir(f.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "files left: {left:?}");
    assert!(matches!(f.store.pending_count(), Err(Error::Revoked)));
    assert!(matches!(
        f.store.list_sessions(&SessionFilter::default(), 10, None),
        Err(Error::Revoked)
    ));
    assert!(matches!(
        f.store.sync(&server, &NoProgress),
        Err(Error::Revoked)
    ));
}

#[test]
fn an_unknown_token_is_unauthorized_and_changes_nothing() {
    let f = Fixture::new();
    let server = FakeServer::new(f.alice().role.clone());
    f.store.enrol(&server, "CODE", "tablet", None).unwrap();
    f.saved_session(Group::Women);
    server.set_hook(|_, _| Hook::Answer(Ok(problem(401, "/problems/unauthorized"))));
    assert!(matches!(
        f.store.sync(&server, &NoProgress),
        Err(Error::Unauthorized)
    ));
    assert_eq!(f.store.pending_count().unwrap(), 2);
    assert!(f.path.exists());
}

#[test]
fn sync_refuses_to_run_twice_at_once() {
    let f = Arc::new(Fixture::new());
    let server = Arc::new(FakeServer::new(f.alice().role.clone()));
    f.store.enrol(&*server, "CODE", "tablet", None).unwrap();
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    server.set_hook(move |_, _| {
        entered_tx.send(()).unwrap();
        release_rx.lock().unwrap().recv().unwrap();
        Hook::Pass
    });
    let (f2, s2) = (Arc::clone(&f), Arc::clone(&server));
    let first = std::thread::spawn(move || f2.store.sync(&*s2, &NoProgress));
    entered_rx.recv().unwrap();
    assert!(matches!(
        f.store.sync(&*server, &NoProgress),
        Err(Error::Busy)
    ));
    assert!(matches!(
        f.store.enrol(&*server, "CODE", "tablet", None),
        Err(Error::Busy)
    ));
    // Other calls go on while the sync waits on the network.
    f.saved_session(Group::Women);
    release_tx.send(()).unwrap();
    assert!(first.join().unwrap().is_ok());
    server.clear_hook();
    assert!(f.store.sync(&*server, &NoProgress).is_ok(), "free again");
}

struct CancelAfterFirst(Mutex<u32>);

impl Progress for CancelAfterFirst {
    fn on_progress(&self, _done: u64, _total: u64) {
        *self.0.lock().unwrap() += 1;
    }
    fn is_cancelled(&self) -> bool {
        *self.0.lock().unwrap() > 1
    }
}

#[test]
fn cancellation_stops_between_batches() {
    let f = Fixture::new();
    let server = FakeServer::new(f.alice().role.clone());
    f.store.enrol(&server, "CODE", "tablet", None).unwrap();
    let visit = f.visit_of(&f.team_a);
    for _ in 0..fieldconsult_model::wire::MAX_BATCH_RECORDS + 10 {
        f.store
            .save_session(&f.alice(), &common::complete_session(&visit, Group::Women))
            .unwrap();
    }
    let progress = CancelAfterFirst(Mutex::new(0));
    assert!(matches!(
        f.store.sync(&server, &progress),
        Err(Error::Cancelled)
    ));
    assert_eq!(server.pushes().len(), 1, "stopped after the first batch");
    assert_eq!(f.store.pending_count().unwrap(), 11);
}

#[test]
fn the_https_transport_refuses_plain_http_to_another_host() {
    assert_eq!(
        HttpsTransport::new("http://mission.example.org").unwrap_err(),
        TransportError::InsecureUrl
    );
    assert_eq!(
        HttpsTransport::new("http://192.168.1.10:8080").unwrap_err(),
        TransportError::InsecureUrl
    );
    assert!(HttpsTransport::new("http://127.0.0.1:8080").is_ok());
    assert!(HttpsTransport::new("https://mission.example.org").is_ok());
    assert_eq!(
        HttpsTransport::new("mission.example.org").unwrap_err(),
        TransportError::InvalidUrl
    );
}

#[test]
fn the_https_transport_reports_a_refused_connection_as_a_transport_error() {
    let f = Fixture::new();
    // A loopback port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let transport = HttpsTransport::new(&format!("http://127.0.0.1:{port}")).unwrap();
    assert!(matches!(
        f.store.enrol(&transport, "CODE", "tablet", None),
        Err(Error::Transport(TransportError::Network { .. }))
    ));
}
