//! Fixtures shared by the store tests: a keyed store in a temporary folder, reference data
//! for two teams in one sector and one in another, and sessions that pass submission.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{Duration, Utc};
use fieldconsult_core::{DatabaseKey, Store};
use fieldconsult_model::{
    Actor, AffectedGroup, ChecklistAnswer, ChecklistTemplate, Community, CommunityId, Concern,
    ConcernCategory, Group, Location, Priority, PriorityCategory, RecipientSecret, ReferralService,
    ReferralServiceId, ReferralServiceKind, Role, SealingKeys, Session, Team, TeamId, Timestamp,
    TopicResponse, Urgency, Visit, VisitId,
};

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub store: Store,
    pub team_a: Team,
    pub team_b: Team,
    pub team_south: Team,
    pub community: Community,
    pub referral: ReferralService,
    /// The focal point key every sector's notes are sealed to (with `escrow`).
    pub focal_point: RecipientSecret,
    /// The mission's escrow key.
    pub escrow: RecipientSecret,
}

pub fn key(byte: u8) -> DatabaseKey {
    DatabaseKey::from_bytes(&[byte; 32]).unwrap()
}

/// A plain rusqlite connection to a store made with `key(7)`, for looking under the API.
pub fn raw_connection(path: &std::path::Path) -> rusqlite::Connection {
    fieldconsult_core::store::wait_for_sqlcipher();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "07".repeat(32)))
        .unwrap();
    conn
}

/// A time `m` minutes ago, at the millisecond precision the store keeps.
pub fn minutes_ago(m: i64) -> Timestamp {
    let mut t = (Utc::now() - Duration::minutes(m)).fixed_offset();
    fieldconsult_model::time::round_to_stored_precision(&mut t);
    t
}

impl Fixture {
    /// Closes the store; the test inspects or reopens its file, which lives as long as the
    /// returned folder.
    pub fn close(self) -> (PathBuf, tempfile::TempDir) {
        drop(self.store);
        (self.path, self.dir)
    }

    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fieldconsult.db");
        let store = Store::open(&path, &key(7)).unwrap();
        let team_a = Team {
            id: TeamId::new(),
            name: "Engagement Team A".into(),
            sector: "North".into(),
        };
        let team_b = Team {
            id: TeamId::new(),
            name: "Engagement Team B".into(),
            sector: "North".into(),
        };
        let team_south = Team {
            id: TeamId::new(),
            name: "Engagement Team S".into(),
            sector: "South".into(),
        };
        let community = Community {
            id: CommunityId::new(),
            name: "Kadugli East".into(),
            admin_area: "South Kordofan".into(),
            location: Some(Location {
                lat: 11.0123,
                lon: 29.7189,
            }),
        };
        let referral = ReferralService {
            id: ReferralServiceId::new(),
            name: "Women's health centre".into(),
            kind: ReferralServiceKind::Health,
            area: "Kadugli".into(),
        };
        store
            .upsert_teams(&[team_a.clone(), team_b.clone(), team_south.clone()])
            .unwrap();
        store
            .upsert_communities(std::slice::from_ref(&community))
            .unwrap();
        store
            .upsert_referral_services(std::slice::from_ref(&referral))
            .unwrap();
        store
            .publish_checklist(&ChecklistTemplate::default_v1())
            .unwrap();
        let focal_point = RecipientSecret::generate().unwrap();
        let escrow = RecipientSecret::generate().unwrap();
        let keys = |sector: &str| SealingKeys {
            sector: sector.into(),
            focal_point_keys: vec![focal_point.public_key().clone()],
            escrow_key: Some(escrow.public_key().clone()),
        };
        store
            .upsert_sealing_keys(&[keys("North"), keys("South")])
            .unwrap();
        Fixture {
            dir,
            path,
            store,
            team_a,
            team_b,
            team_south,
            community,
            referral,
            focal_point,
            escrow,
        }
    }

    pub fn member(&self, team: &Team) -> Actor {
        Actor {
            id: format!("member-of-{}", team.name),
            role: Role::TeamMember { team_id: team.id },
        }
    }

    pub fn alice(&self) -> Actor {
        self.member(&self.team_a)
    }

    pub fn reviewer(&self, sector: &str) -> Actor {
        Actor {
            id: format!("focal-point-{sector}"),
            role: Role::Reviewer {
                sector: sector.into(),
            },
        }
    }

    pub fn north_reviewer(&self) -> Actor {
        self.reviewer("North")
    }

    /// A saved visit of `team`.
    pub fn visit_of(&self, team: &Team) -> Visit {
        let visit = Visit {
            id: VisitId::new(),
            team_id: team.id,
            community_id: self.community.id,
            started_at: minutes_ago(120),
            ended_at: None,
            notes: String::new(),
        };
        self.store.save_visit(&self.member(team), &visit).unwrap()
    }

    /// A saved, complete draft of team A.
    pub fn saved_session(&self, group: Group) -> Session {
        let visit = self.visit_of(&self.team_a);
        self.store
            .save_session(&self.alice(), &complete_session(&visit, group))
            .unwrap()
    }

    /// A submitted session of team A.
    pub fn submitted_session(&self, group: Group) -> Session {
        let s = self.saved_session(group);
        self.store.submit_session(&self.alice(), &s.id).unwrap()
    }
}

/// A session of `group` in `visit` that passes submission against the default checklist.
pub fn complete_session(visit: &Visit, group: Group) -> Session {
    let mut s = Session::new_draft(visit.id, group, minutes_ago(90));
    s.ended_at = Some(minutes_ago(30));
    s.consent.verbal_informed = true;
    match group {
        Group::Women => {
            s.participants.female.age_18_29 = 6;
            s.participants.female.age_30_59 = 5;
            s.participants.female.age_60_plus = 2;
            s.facilitators.female = 1;
        }
        Group::Men => {
            s.participants.male.age_18_29 = 4;
            s.participants.male.age_30_59 = 7;
            s.facilitators.male = 2;
        }
        Group::Mixed => {
            s.participants.female.age_30_59 = 3;
            s.participants.male.age_30_59 = 3;
            s.participants.undisclosed.unknown = 1;
            s.facilitators.female = 1;
            s.facilitators.male = 1;
        }
    }
    for topic in ChecklistTemplate::default_v1()
        .topics
        .iter()
        .filter(|t| t.required)
    {
        s.answers.push(ChecklistAnswer {
            topic: topic.code.clone(),
            response: TopicResponse::Discussed,
            note: "discussed".into(),
        });
    }
    s.priorities = vec![
        Priority {
            rank: 1,
            category: PriorityCategory::Water,
            other_label: String::new(),
            note: String::new(),
        },
        Priority {
            rank: 2,
            category: PriorityCategory::SafeMovement,
            other_label: String::new(),
            note: String::new(),
        },
    ];
    s.concerns = vec![Concern {
        category: ConcernCategory::MovementRestriction,
        affected: BTreeSet::from([AffectedGroup::Women, AffectedGroup::Girls]),
        location: "road to the well".into(),
        timing: "after dark".into(),
        urgency: Urgency::Routine,
        note: String::new(),
    }];
    s
}

/// Marks `s` as carrying an urgent concern.
pub fn make_urgent(s: &mut Session) {
    s.concerns.push(Concern {
        category: ConcernCategory::ArmedGroupPresence,
        affected: BTreeSet::from([AffectedGroup::Men, AffectedGroup::Boys]),
        location: "north ridge".into(),
        timing: "last two nights".into(),
        urgency: Urgency::Urgent,
        note: String::new(),
    });
}
