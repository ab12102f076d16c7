//! Lists with filters and keyset pagination; badge counts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;

use chrono::{Duration, Utc};
use common::{Fixture, complete_session, make_urgent};
use fieldconsult_core::{Error, SessionFilter};
use fieldconsult_model::{Decision, Group, SessionId, Status};

/// Saves `n` sessions of team A spread over the past days, cycling through the groups.
fn populate(f: &Fixture, n: usize) -> Vec<SessionId> {
    let visit = f.visit_of(&f.team_a);
    (0..n)
        .map(|i| {
            let group = [Group::Women, Group::Men, Group::Mixed][i % 3];
            let mut s = complete_session(&visit, group);
            s.started_at = (Utc::now() - Duration::hours(i as i64 + 3)).fixed_offset();
            s.ended_at = Some(s.started_at + Duration::minutes(45));
            f.store.save_session(&f.alice(), &s).unwrap().id
        })
        .collect()
}

fn all_pages(f: &Fixture, filter: &SessionFilter, limit: u32) -> Vec<SessionId> {
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let page = f
            .store
            .list_sessions(filter, limit, after.as_deref())
            .unwrap();
        assert!(page.items.len() <= limit as usize);
        ids.extend(page.items.iter().map(|s| s.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    ids
}

#[test]
fn pages_cover_every_session_once_newest_first() {
    let f = Fixture::new();
    let saved = populate(&f, 23);
    let listed = all_pages(&f, &SessionFilter::default(), 5);
    assert_eq!(listed.len(), 23);
    assert_eq!(listed.iter().collect::<HashSet<_>>().len(), 23);
    assert_eq!(listed, saved, "populate saved them newest first");
}

#[test]
fn last_page_has_no_next_cursor() {
    let f = Fixture::new();
    populate(&f, 4);
    let page = f
        .store
        .list_sessions(&SessionFilter::default(), 4, None)
        .unwrap();
    assert_eq!(page.items.len(), 4);
    assert!(page.next.is_none());
}

#[test]
fn sessions_added_while_paging_do_not_shift_later_pages() {
    let f = Fixture::new();
    let saved = populate(&f, 10);
    let first = f
        .store
        .list_sessions(&SessionFilter::default(), 4, None)
        .unwrap();
    populate(&f, 3); // newer sessions arrive at the top
    let second = f
        .store
        .list_sessions(&SessionFilter::default(), 4, first.next.as_deref())
        .unwrap();
    let ids: Vec<_> = second.items.iter().map(|s| s.id).collect();
    assert_eq!(ids, saved[4..8]);
}

#[test]
fn every_filter_narrows_the_list() {
    let f = Fixture::new();
    populate(&f, 9);
    let other_team = f.visit_of(&f.team_b);
    let mut bobs = complete_session(&other_team, Group::Women);
    make_urgent(&mut bobs);
    let bobs = f.store.save_session(&f.member(&f.team_b), &bobs).unwrap();
    f.store
        .submit_session(&f.member(&f.team_b), &bobs.id)
        .unwrap();

    let count = |filter: SessionFilter| all_pages(&f, &filter, 50).len();
    assert_eq!(count(SessionFilter::default()), 10);
    assert_eq!(
        count(SessionFilter {
            team_id: Some(f.team_a.id),
            ..Default::default()
        }),
        9
    );
    assert_eq!(
        count(SessionFilter {
            team_id: Some(f.team_b.id),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        count(SessionFilter {
            visit_id: Some(other_team.id),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        count(SessionFilter {
            community_id: Some(f.community.id),
            ..Default::default()
        }),
        10
    );
    assert_eq!(
        count(SessionFilter {
            group: Some(Group::Women),
            ..Default::default()
        }),
        4
    );
    assert_eq!(
        count(SessionFilter {
            status: Some(Status::Submitted),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        count(SessionFilter {
            status: Some(Status::Draft),
            ..Default::default()
        }),
        9
    );
    assert_eq!(
        count(SessionFilter {
            urgent_only: true,
            ..Default::default()
        }),
        1
    );
    let from = Utc::now() - Duration::hours(5) - Duration::minutes(30);
    // Team A's sessions start 3, 4, 5, ... hours ago; team B's 90 minutes ago.
    assert_eq!(
        count(SessionFilter {
            started_from: Some(from),
            ..Default::default()
        }),
        4
    );
    assert_eq!(
        count(SessionFilter {
            started_before: Some(from),
            team_id: Some(f.team_a.id),
            ..Default::default()
        }),
        6
    );
    assert_eq!(
        count(SessionFilter {
            team_id: Some(f.team_a.id),
            group: Some(Group::Men),
            status: Some(Status::Draft),
            ..Default::default()
        }),
        3
    );
}

#[test]
fn summaries_carry_what_a_list_row_shows() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    let mut s = complete_session(&visit, Group::Women);
    make_urgent(&mut s);
    let s = f.store.save_session(&f.alice(), &s).unwrap();
    let page = f
        .store
        .list_sessions(&SessionFilter::default(), 10, None)
        .unwrap();
    let row = &page.items[0];
    assert_eq!(row.id, s.id);
    assert_eq!(row.visit_id, visit.id);
    assert_eq!(row.team_id, f.team_a.id);
    assert_eq!(row.group, Group::Women);
    assert_eq!(row.status, Status::Draft);
    assert_eq!(row.started_at, s.started_at);
    assert_eq!(row.participants, 13);
    assert!(row.has_urgent_concern && row.sync_pending);
    assert_eq!(row.revision, 1);
}

#[test]
fn forged_or_garbled_cursors_are_a_typed_error() {
    let f = Fixture::new();
    populate(&f, 2);
    for bad in [
        "",
        "abc",
        "12_not-a-uuid",
        "_",
        "x_0190c0de-0000-7000-8000-000000000000",
        "9999999999999999999999_0190c0de-0000-7000-8000-000000000000",
    ] {
        let err = f
            .store
            .list_sessions(&SessionFilter::default(), 10, Some(bad))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidCursor), "{bad:?} gave {err:?}");
    }
}

#[test]
fn page_size_is_clamped() {
    let f = Fixture::new();
    populate(&f, 3);
    let page = f
        .store
        .list_sessions(&SessionFilter::default(), 0, None)
        .unwrap();
    assert_eq!(page.items.len(), 1, "a zero limit still returns one item");
    assert!(page.next.is_some());
}

#[test]
fn badges_count_drafts_returned_and_unsynced_urgent_sessions() {
    let f = Fixture::new();
    populate(&f, 3);
    let returned = f.submitted_session(Group::Men);
    f.store
        .record_review(
            &f.north_reviewer(),
            &returned.id,
            Decision::Returned,
            "ages?",
        )
        .unwrap();
    let visit = f.visit_of(&f.team_a);
    let mut urgent = complete_session(&visit, Group::Women);
    make_urgent(&mut urgent);
    f.store.save_session(&f.alice(), &urgent).unwrap();

    let badges = f.store.badge_counts().unwrap();
    assert_eq!(badges.drafts, 4);
    assert_eq!(badges.returned, 1);
    assert_eq!(badges.urgent_unsynced, 1);

    f.store
        .acknowledge(&f.store.pending_changes(1000).unwrap())
        .unwrap();
    assert_eq!(f.store.badge_counts().unwrap().urgent_unsynced, 0);
}
