//! Sync pull against a fake in-process server: records applied without the workflow and
//! without outbox entries, pages applied atomically with the cursor, parents arriving late,
//! local changes never overwritten.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_support;

use common::{Fixture, complete_session, key, minutes_ago};
use fieldconsult_core::{NoProgress, SessionFilter, Store, SyncState};
use fieldconsult_model::wire::{PulledRecord, Record};
use fieldconsult_model::{
    ChecklistTemplate, Community, CommunityId, Decision, Group, ReferralService, ReferralServiceId,
    ReferralServiceKind, Review, ReviewId, Role, Session, Status, Team, TeamId, Visit, VisitId,
};
use sync_support::FakeServer;

struct World {
    team: Team,
    community: Community,
    visit: Visit,
    session: Session,
    review: Review,
}

fn world() -> World {
    let team = Team {
        id: TeamId::new(),
        name: "Engagement Team 7".into(),
        sector: "North".into(),
    };
    let community = Community {
        id: CommunityId::new(),
        name: "Abyei Town".into(),
        admin_area: "Abyei".into(),
        location: None,
    };
    let visit = Visit {
        id: VisitId::new(),
        team_id: team.id,
        community_id: community.id,
        started_at: minutes_ago(200),
        ended_at: None,
        notes: String::new(),
    };
    let mut session = complete_session(&visit, Group::Women);
    session.status = Status::Accepted;
    let review = Review {
        id: ReviewId::new(),
        session_id: session.id,
        reviewer: "gfp-north".into(),
        decision: Decision::Accepted,
        comment: String::new(),
        at: minutes_ago(10),
    };
    World {
        team,
        community,
        visit,
        session,
        review,
    }
}

fn reviewer_store() -> (tempfile::TempDir, Store, FakeServer) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("db"), &key(7)).unwrap();
    let server = FakeServer::new(Role::Reviewer {
        sector: "North".into(),
    });
    store.enrol(&server, "CODE", "GFP tablet", None).unwrap();
    (dir, store, server)
}

fn pull_paths(server: &FakeServer) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1/pull"))
        .map(|r| r.path)
        .collect()
}

#[test]
fn pulled_records_are_applied_in_pages_without_outbox_entries() {
    let (_dir, store, server) = reviewer_store();
    let w = world();
    server.state.lock().unwrap().page_size = 3;
    server.insert(Record::Team(w.team.clone()));
    server.insert(Record::Community(w.community.clone()));
    server.insert(Record::Checklist(ChecklistTemplate::default_v1()));
    server.insert(Record::ReferralService(ReferralService {
        id: ReferralServiceId::new(),
        name: "Legal aid desk".into(),
        kind: ReferralServiceKind::Legal,
        area: "Abyei".into(),
    }));
    server.insert(Record::Visit(w.visit.clone()));
    let session_hash = server.insert(Record::Session(Box::new(w.session.clone())));
    server.insert(Record::Review(w.review.clone()));

    let report = store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.pulled, 7);
    assert_eq!(report.requests, 3, "pages of 3: 3 + 3 + 1");
    assert_eq!(store.pending_count().unwrap(), 0, "no outbox entries");
    assert_eq!(store.teams().unwrap(), vec![w.team.clone()]);
    assert_eq!(store.referral_services().unwrap().len(), 1);
    assert!(store.checklist(1).is_ok());
    let record = store.get_session(&w.session.id).unwrap();
    assert_eq!(record.session, w.session);
    assert_eq!(
        record.session.status,
        Status::Accepted,
        "no workflow applied"
    );
    assert_eq!(record.reviews, vec![w.review.clone()]);
    assert_eq!(record.sync_state, SyncState::Synced);
    assert_eq!(
        Record::Session(Box::new(record.session)).hash(),
        session_hash
    );
    let paths = pull_paths(&server);
    assert_eq!(
        paths,
        [
            "/v1/pull?after=0&limit=1000",
            "/v1/pull?after=3&limit=1000",
            "/v1/pull?after=6&limit=1000"
        ]
    );
    // The cursor was kept: the next sync asks after the last record, once.
    let report = store.sync(&server, &NoProgress).unwrap();
    assert_eq!((report.requests, report.pulled), (1, 0));
    assert_eq!(
        pull_paths(&server).last().unwrap(),
        "/v1/pull?after=7&limit=1000"
    );
}

#[test]
fn a_child_pulled_before_its_parent_is_applied_when_the_parent_arrives() {
    let (_dir, store, server) = reviewer_store();
    let w = world();
    server.state.lock().unwrap().page_size = 1;
    // The log holds the review and session before the visit, team and community.
    server.insert(Record::Review(w.review.clone()));
    server.insert(Record::Session(Box::new(w.session.clone())));
    server.insert(Record::Visit(w.visit.clone()));
    server.insert(Record::Community(w.community.clone()));
    server.insert(Record::Team(w.team.clone()));
    store.sync(&server, &NoProgress).unwrap();
    let record = store.get_session(&w.session.id).unwrap();
    assert_eq!(record.reviews.len(), 1);
    assert_eq!(store.visit(&w.visit.id).unwrap(), w.visit);
}

#[test]
fn a_failure_in_the_middle_of_a_page_leaves_the_cursor_where_it_was() {
    let (_dir, store, server) = reviewer_store();
    let w = world();
    server.insert(Record::Team(w.team.clone()));
    store.sync(&server, &NoProgress).unwrap();
    assert_eq!(store.teams().unwrap().len(), 1);

    // A page whose first records apply and whose last one cannot: two records without
    // their parent under the same sequence number.
    let other_team = Team {
        id: TeamId::new(),
        name: "Engagement Team 8".into(),
        sector: "North".into(),
    };
    let mut second = w.session.clone();
    second.id = fieldconsult_model::SessionId::new();
    let pulled = |seq, record: Record| PulledRecord {
        seq,
        hash: record.hash(),
        record,
    };
    server.state.lock().unwrap().raw_pull = Some(vec![
        pulled(2, Record::Team(other_team.clone())),
        pulled(3, Record::Session(Box::new(w.session.clone()))),
        pulled(3, Record::Session(Box::new(second))),
    ]);
    assert!(store.sync(&server, &NoProgress).is_err());
    assert_eq!(
        store.teams().unwrap().len(),
        1,
        "nothing of the page applied"
    );
    assert_eq!(
        pull_paths(&server).last().unwrap(),
        "/v1/pull?after=1&limit=1000"
    );
    // Once the server serves a sound page, the same cursor picks it up.
    server.state.lock().unwrap().raw_pull = Some(vec![pulled(2, Record::Team(other_team))]);
    store.sync(&server, &NoProgress).unwrap();
    assert_eq!(
        pull_paths(&server).last().unwrap(),
        "/v1/pull?after=1&limit=1000"
    );
    assert_eq!(store.teams().unwrap().len(), 2);
}

#[test]
fn a_pulled_record_never_overwrites_a_local_change_not_yet_pushed() {
    let f = Fixture::new();
    let server = FakeServer::new(f.alice().role.clone());
    f.store.enrol(&server, "CODE", "tablet", None).unwrap();
    let s = f.saved_session(Group::Women);
    f.store.sync(&server, &NoProgress).unwrap();

    // Someone else's version reaches the server; meanwhile the author edits offline.
    let mut theirs = s.clone();
    theirs.sensitive_note = "server side".into();
    let theirs_hash = server.insert(Record::Session(Box::new(theirs)));
    let mut mine = s.clone();
    mine.sensitive_note = "device side".into();
    f.store.save_session(&f.alice(), &mine).unwrap();
    server
        .state
        .lock()
        .unwrap()
        .conflict_ids
        .insert(s.id.to_string());

    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert!(report.conflicts >= 1);
    let record = f.store.get_session(&s.id).unwrap();
    assert_eq!(record.session.sensitive_note, "device side", "kept");
    assert_eq!(record.sync_state, SyncState::Conflict);
    let conflicts = f
        .store
        .list_sessions(
            &SessionFilter {
                sync_state: Some(SyncState::Conflict),
                ..SessionFilter::default()
            },
            10,
            None,
        )
        .unwrap();
    assert_eq!(conflicts.items.len(), 1);

    // Editing again builds on the server's version, which the pull recorded.
    server.state.lock().unwrap().conflict_ids.clear();
    let mut resolved = mine.clone();
    resolved.sensitive_note = "merged".into();
    f.store.save_session(&f.alice(), &resolved).unwrap();
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!((report.acknowledged, report.conflicts), (1, 0));
    assert_ne!(
        server.hash_of("session", &s.id.to_string()),
        Some(theirs_hash)
    );
    assert_eq!(
        f.store.get_session(&s.id).unwrap().sync_state,
        SyncState::Synced
    );
}

#[test]
fn a_pulled_record_equal_to_the_local_change_is_no_conflict() {
    let f = Fixture::new();
    let server = FakeServer::new(f.alice().role.clone());
    f.store.enrol(&server, "CODE", "tablet", None).unwrap();
    let s = f.saved_session(Group::Men);
    let visit = f.store.visit(&s.visit_id).unwrap();
    // The server already holds exactly this content (pushed by an earlier lost answer).
    server.insert(Record::Visit(visit));
    server.insert(Record::Session(Box::new(s.clone())));
    let report = f.store.sync(&server, &NoProgress).unwrap();
    assert_eq!(report.conflicts, 0);
    assert_eq!(report.acknowledged, 2, "answered AlreadyStored");
    assert_eq!(
        f.store.get_session(&s.id).unwrap().sync_state,
        SyncState::Synced
    );
}
