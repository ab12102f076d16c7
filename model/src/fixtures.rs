//! A small, fixed month of consultations whose report figures are worked out by hand in
//! `model/tests/monthly_report.rs`: tests of every crate (rendering, server, app bindings)
//! check their numbers against it. Enabled by the `fixtures` feature, for tests only.
//!
//! October 2026, three teams in two sectors, four communities (one with an Arabic name):
//! - Alpha (West) visits Kalma: a women's session (S1) and a men's session (S2); and
//!   الحصاحيصا: one mixed session (S3). It visited Kalma in September too (S8, women's).
//! - Bravo (West) visits Mbomou: a women's session (S4, accepted) and a men's session (S5,
//!   still pending review); on 1 November at 01:00 local (still 31 October in UTC) a men's
//!   session (S9) that belongs to November.
//! - Charlie (East) visits Zam Zam: a men's session (S6) late on 31 October local time, when
//!   it is already 1 November in UTC, and a women's session (S7) returned to the team.
//! - A draft (S10) that no report counts.
//!
//! Every session's sensitive note and every visit's notes hold [`SENSITIVE_MARKER`], which
//! must never appear in any report. S1 gives a note in Arabic with its first priority and S2
//! one in French, which the report quotes.

use std::collections::BTreeSet;
use std::ops::{Deref, DerefMut};

use chrono::DateTime;

use crate::ids::{CommunityId, ReferralServiceId, SessionId, TeamId, VisitId};
use crate::reference::{Community, Team};
use crate::report::monthly::{Month, ReportInputs};
use crate::session::{
    AgeCounts, Concern, Facilitators, Group, Interpreter, InterpreterSex, Participants, Priority,
    Referral, Session,
};
use crate::status::Status;
use crate::taxonomy::{AffectedGroup, ConcernCategory, PriorityCategory, Urgency};
use crate::time::Timestamp;
use crate::visit::Visit;

/// Text placed in every sensitive field of the fixture.
pub const SENSITIVE_MARKER: &str = "SENSITIVE-MARKER-7f3a";

/// S1's note on water, in Arabic: "the well is far, and the road to it is not safe".
pub const WOMENS_WATER_NOTE: &str = "البئر بعيدة والطريق إليها غير آمن";

/// S2's note on security, in French: "patrols at night on the market road".
pub const MENS_SECURITY_NOTE: &str = "Des patrouilles la nuit sur la route du marché";

/// The fixture's data: teams Alpha, Bravo (sector West) and Charlie (sector East);
/// communities Kalma, الحصاحيصا, Mbomou and Zam Zam; sessions S1 to S10, in that order.
#[derive(Clone, Debug)]
pub struct Fixture(pub ReportInputs);

impl Deref for Fixture {
    type Target = ReportInputs;

    fn deref(&self) -> &ReportInputs {
        &self.0
    }
}

impl DerefMut for Fixture {
    fn deref_mut(&mut self) -> &mut ReportInputs {
        &mut self.0
    }
}

impl Fixture {
    /// The month of the fixture: October 2026.
    pub fn month() -> Month {
        Month::new(2026, 10).unwrap_or_else(|| unreachable!("October is a month"))
    }

    /// Session `n` (S1 is 1).
    pub fn session(&self, n: usize) -> &Session {
        &self.sessions[n - 1]
    }

    /// The team called `name`.
    pub fn team(&self, name: &str) -> &Team {
        self.teams
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| unreachable!("the fixture has no team {name}"))
    }
}

fn uuid(n: u32) -> String {
    format!("01920000-0000-7000-8000-{n:012}")
}

fn id<T: std::str::FromStr>(n: u32) -> T {
    uuid(n)
        .parse()
        .unwrap_or_else(|_| unreachable!("fixture ids are valid"))
}

fn at(rfc3339: &str) -> Timestamp {
    DateTime::parse_from_rfc3339(rfc3339).unwrap_or_else(|_| unreachable!("fixture times"))
}

fn ages(bands: [u32; 5]) -> AgeCounts {
    AgeCounts::from_bands(bands)
}

fn people(female: [u32; 5], male: [u32; 5], undisclosed: [u32; 5]) -> Participants {
    Participants {
        female: ages(female),
        male: ages(male),
        undisclosed: ages(undisclosed),
    }
}

fn concern(category: ConcernCategory, affected: &[AffectedGroup], urgency: Urgency) -> Concern {
    Concern {
        category,
        affected: affected.iter().copied().collect::<BTreeSet<_>>(),
        location: String::new(),
        timing: String::new(),
        urgency,
        note: String::new(),
    }
}

struct Spec {
    n: u32,
    visit: usize,
    group: Group,
    start: &'static str,
    status: Status,
    participants: Participants,
    facilitators: (u32, u32),
    interpreter: InterpreterSex,
    priorities: Vec<Priority>,
    concerns: Vec<Concern>,
    referral: bool,
}

/// The fixture.
pub fn october_2026() -> Fixture {
    use AffectedGroup as A;
    use ConcernCategory as C;
    use PriorityCategory as P;

    let team = |n: u32, name: &str, sector: &str| Team {
        id: id::<TeamId>(n),
        name: name.to_owned(),
        sector: sector.to_owned(),
    };
    let teams = vec![
        team(1, "Alpha", "West"),
        team(2, "Bravo", "West"),
        team(3, "Charlie", "East"),
    ];
    let community = |n: u32, name: &str| Community {
        id: id::<CommunityId>(10 + n),
        name: name.to_owned(),
        admin_area: String::new(),
        location: None,
    };
    let communities = vec![
        community(1, "Kalma"),
        community(2, "الحصاحيصا"),
        community(3, "Mbomou"),
        community(4, "Zam Zam"),
    ];
    // (team, community, start) of each visit.
    let visit_specs = [
        (0, 0, "2026-10-03T09:00:00+02:00"),
        (0, 1, "2026-10-10T09:00:00+02:00"),
        (1, 2, "2026-10-15T09:00:00+02:00"),
        (2, 3, "2026-10-31T18:00:00-05:00"),
        (0, 0, "2026-09-28T09:00:00+02:00"),
        (1, 2, "2026-11-01T00:30:00+03:00"),
    ];
    let visits: Vec<Visit> = visit_specs
        .iter()
        .enumerate()
        .map(|(i, (t, c, start))| Visit {
            id: id::<VisitId>(20 + i as u32 + 1),
            team_id: teams[*t].id,
            community_id: communities[*c].id,
            started_at: at(start),
            ended_at: None,
            notes: format!("visit notes {SENSITIVE_MARKER}"),
        })
        .collect();

    let none = [0; 5];
    let specs = vec![
        Spec {
            n: 1,
            visit: 0,
            group: Group::Women,
            start: "2026-10-03T09:30:00+02:00",
            status: Status::Accepted,
            participants: people([2, 6, 9, 3, 0], none, none),
            facilitators: (1, 1),
            interpreter: InterpreterSex::Female,
            priorities: {
                let mut p = Priority::ranked(&[
                    P::Water,
                    P::SafeMovement,
                    P::Health,
                    P::FuelAndFirewood,
                    P::Schools,
                ]);
                p[0].note = WOMENS_WATER_NOTE.to_owned();
                p
            },
            concerns: vec![
                concern(
                    C::ArmedGroupPresence,
                    &[A::Women, A::Girls],
                    Urgency::Urgent,
                ),
                concern(
                    C::SexualViolenceRisk,
                    &[A::Women, A::Girls],
                    Urgency::Urgent,
                ),
            ],
            referral: true,
        },
        Spec {
            n: 2,
            visit: 0,
            group: Group::Men,
            start: "2026-10-03T11:00:00+02:00",
            status: Status::Accepted,
            participants: people(none, [0, 4, 10, 2, 1], none),
            facilitators: (0, 2),
            interpreter: InterpreterSex::Male,
            priorities: {
                let mut p = Priority::ranked(&[
                    P::SecurityAndProtection,
                    P::Water,
                    P::LivelihoodsAndWork,
                    P::ReturnAndLand,
                ]);
                p[0].note = MENS_SECURITY_NOTE.to_owned();
                p
            },
            concerns: vec![concern(
                C::ArmedGroupPresence,
                &[A::Men, A::Boys],
                Urgency::Priority,
            )],
            referral: false,
        },
        Spec {
            n: 3,
            visit: 1,
            group: Group::Mixed,
            start: "2026-10-10T09:30:00+02:00",
            status: Status::Accepted,
            participants: people([0, 3, 4, 0, 0], [0, 2, 5, 0, 0], [0, 0, 0, 0, 1]),
            facilitators: (1, 1),
            interpreter: InterpreterSex::None,
            priorities: Priority::ranked(&[P::Water, P::Health]),
            concerns: vec![concern(
                C::LandOrResourceDispute,
                &[A::Men, A::Women],
                Urgency::Routine,
            )],
            referral: false,
        },
        Spec {
            n: 4,
            visit: 2,
            group: Group::Women,
            start: "2026-10-15T09:30:00+02:00",
            status: Status::Accepted,
            participants: people([1, 5, 7, 0, 0], none, none),
            facilitators: (2, 0),
            interpreter: InterpreterSex::Female,
            priorities: {
                let mut p = Priority::ranked(&[P::SafeMovement, P::Water, P::Other]);
                p[2].other_label = "Mobile clinic".to_owned();
                p
            },
            concerns: vec![concern(
                C::MovementRestriction,
                &[A::Women],
                Urgency::Priority,
            )],
            referral: true,
        },
        Spec {
            n: 5,
            visit: 2,
            group: Group::Men,
            start: "2026-10-15T11:00:00+02:00",
            status: Status::Submitted,
            participants: people(none, [0, 9, 0, 0, 0], none),
            facilitators: (0, 1),
            interpreter: InterpreterSex::None,
            priorities: Priority::ranked(&[P::Food]),
            concerns: Vec::new(),
            referral: false,
        },
        Spec {
            n: 6,
            visit: 3,
            group: Group::Men,
            start: "2026-10-31T21:00:00-05:00",
            status: Status::Accepted,
            participants: people(none, [3, 6, 8, 0, 0], none),
            facilitators: (0, 2),
            interpreter: InterpreterSex::None,
            priorities: Priority::ranked(&[
                P::LivelihoodsAndWork,
                P::SecurityAndProtection,
                P::Justice,
            ]),
            concerns: vec![concern(C::ChildRecruitment, &[A::Boys], Urgency::Urgent)],
            referral: false,
        },
        Spec {
            n: 7,
            visit: 3,
            group: Group::Women,
            start: "2026-10-31T19:00:00-05:00",
            status: Status::Returned,
            participants: people([0, 0, 11, 0, 0], none, none),
            facilitators: (1, 0),
            interpreter: InterpreterSex::Female,
            priorities: Priority::ranked(&[P::Shelter]),
            concerns: Vec::new(),
            referral: false,
        },
        Spec {
            n: 8,
            visit: 4,
            group: Group::Women,
            start: "2026-09-28T09:30:00+02:00",
            status: Status::Accepted,
            participants: people([0, 8, 0, 0, 0], none, none),
            facilitators: (1, 0),
            interpreter: InterpreterSex::None,
            priorities: Priority::ranked(&[P::Documentation]),
            concerns: Vec::new(),
            referral: false,
        },
        Spec {
            n: 9,
            visit: 5,
            group: Group::Men,
            start: "2026-11-01T01:00:00+03:00",
            status: Status::Accepted,
            participants: people(none, [0, 0, 7, 0, 0], none),
            facilitators: (0, 1),
            interpreter: InterpreterSex::None,
            priorities: Priority::ranked(&[P::Food]),
            concerns: Vec::new(),
            referral: false,
        },
        Spec {
            n: 10,
            visit: 0,
            group: Group::Women,
            start: "2026-10-03T14:00:00+02:00",
            status: Status::Draft,
            participants: people([0, 30, 0, 0, 0], none, none),
            facilitators: (1, 0),
            interpreter: InterpreterSex::None,
            priorities: Priority::ranked(&[P::Food]),
            concerns: Vec::new(),
            referral: false,
        },
    ];
    let sessions = specs
        .into_iter()
        .map(|s| {
            let mut session = Session::new_draft(visits[s.visit].id, s.group, at(s.start));
            session.id = id::<SessionId>(100 + s.n);
            session.status = s.status;
            session.participants = s.participants;
            session.facilitators = Facilitators {
                female: s.facilitators.0,
                male: s.facilitators.1,
            };
            session.interpreter = Interpreter {
                sex: s.interpreter,
                language: String::new(),
            };
            session.consent.verbal_informed = true;
            session.priorities = s.priorities;
            session.concerns = s.concerns;
            session.referral = s
                .referral
                .then(|| Referral::to(id::<ReferralServiceId>(900)));
            session.sensitive_note = format!("note {SENSITIVE_MARKER}");
            session
        })
        .collect();
    Fixture(ReportInputs {
        teams,
        communities,
        visits,
        sessions,
    })
}
