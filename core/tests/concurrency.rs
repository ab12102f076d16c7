//! The store shared across threads, as the FFI will share it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::thread;

use common::{Fixture, complete_session};
use fieldconsult_core::SessionFilter;
use fieldconsult_model::Group;

#[test]
fn writers_and_readers_on_many_threads_lose_nothing() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    let actor = f.alice();
    let store = Arc::new(f.store);
    let threads = 8;
    let per_thread = 25;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let store = Arc::clone(&store);
            let visit = visit.clone();
            let actor = actor.clone();
            thread::spawn(move || {
                let mut ids = Vec::new();
                for i in 0..per_thread {
                    let group = [Group::Women, Group::Men, Group::Mixed][(t + i) % 3];
                    let s = store
                        .save_session(&actor, &complete_session(&visit, group))
                        .unwrap();
                    if i % 2 == 0 {
                        store.submit_session(&actor, &s.id).unwrap();
                    }
                    // Readers interleave with the writers.
                    store
                        .list_sessions(&SessionFilter::default(), 20, None)
                        .unwrap();
                    store.badge_counts().unwrap();
                    ids.push(s.id);
                }
                ids
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.join().expect("no thread panicked"));
    }
    assert_eq!(all.len(), threads * per_thread);
    let mut listed = 0;
    let mut after = None;
    loop {
        let page = store
            .list_sessions(&SessionFilter::default(), 100, after.as_deref())
            .unwrap();
        listed += page.items.len();
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(listed, threads * per_thread);
    for id in &all {
        assert!(store.get_session(id).is_ok());
    }
    let badges = store.badge_counts().unwrap();
    assert_eq!(badges.drafts as usize, threads * (per_thread / 2));
}

#[test]
fn stores_opened_and_closed_on_many_threads_at_once_all_open() {
    // SQLCipher keeps process-wide state that codecs activate and release; opening and closing
    // stores on several threads at once must never fail a key.
    let dir = tempfile::tempdir().unwrap();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let dir = dir.path().to_path_buf();
            thread::spawn(move || {
                for i in 0..40 {
                    let store = fieldconsult_core::Store::open(
                        dir.join(format!("{t}-{i}.db")),
                        &common::key(7),
                    )
                    .expect("open");
                    store.badge_counts().expect("read");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("no thread failed to open its store");
    }
}
