//! Visits, sessions, reviews, addenda and who acts on them.

use fieldconsult_model as model;
use fieldconsult_model::{
    AffectedGroup, AgeCounts, ChecklistAnswer, ConcernCategory, Consent, Decision, Facilitators,
    FocusTag, Group, Interpreter, InterpreterSex, Participants, Priority, PriorityCategory,
    Setting, Status, TopicResponse, Urgency,
};

use crate::lift::{Lift, time_string};

/// Participant counts of one sex, by age band.
#[uniffi::remote(Record)]
pub struct AgeCounts {
    pub age_12_17: u32,
    pub age_18_29: u32,
    pub age_30_59: u32,
    pub age_60_plus: u32,
    pub unknown: u32,
}

/// Participants by sex × age band.
#[uniffi::remote(Record)]
pub struct Participants {
    pub female: AgeCounts,
    pub male: AgeCounts,
    pub undisclosed: AgeCounts,
}

/// Facilitators by sex.
#[uniffi::remote(Record)]
pub struct Facilitators {
    pub female: u32,
    pub male: u32,
}

/// The interpreter of a session.
#[uniffi::remote(Record)]
pub struct Interpreter {
    pub sex: InterpreterSex,
    pub language: String,
}

/// Consent of the participants.
#[uniffi::remote(Record)]
pub struct Consent {
    pub verbal_informed: bool,
}

/// The answer to one checklist topic.
#[uniffi::remote(Record)]
pub struct ChecklistAnswer {
    pub topic: String,
    pub response: TopicResponse,
    pub note: String,
}

/// One ranked priority of the group.
#[uniffi::remote(Record)]
pub struct Priority {
    pub rank: u8,
    pub category: PriorityCategory,
    pub other_label: String,
    pub note: String,
}

/// A protection concern raised in a session.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Concern {
    /// Category.
    pub category: ConcernCategory,
    /// Who it affects (each group once).
    pub affected: Vec<AffectedGroup>,
    /// Where (a place, never a home).
    pub location: String,
    /// When.
    pub timing: String,
    /// How fast it needs attention.
    pub urgency: Urgency,
    /// Detail; must stay empty for sexual-violence risk (offer a referral instead).
    pub note: String,
}

/// One team's visit to one community.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Visit {
    /// Visit id (UUID).
    pub id: String,
    /// Team id.
    pub team_id: String,
    /// Community id.
    pub community_id: String,
    /// Start, RFC 3339 with offset.
    pub started_at: String,
    /// End, RFC 3339 with offset.
    pub ended_at: Option<String>,
    /// Observations.
    pub notes: String,
}

/// A referral offered during the session. Which service it went to is sealed at submission,
/// like the sensitive note: it can say what was disclosed.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Referral {
    /// The service of the referral directory (id), in plaintext: set by the author while
    /// writing; `None` once submission has sealed it, and on every other device.
    pub service_id: Option<String>,
    /// Whether a sealed service is held (read-only: set by submission; a focal point opens it
    /// with `openReferralService`). Kept when the session is saved with its referral.
    pub service_sealed: bool,
}

/// One consultation session.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Session {
    /// Session id (UUID).
    pub id: String,
    /// Visit id.
    pub visit_id: String,
    /// Women, men or mixed.
    pub group: Group,
    /// Groups deliberately reached.
    pub focus: Vec<FocusTag>,
    /// Participants by sex × age band.
    pub participants: Participants,
    /// Facilitators by sex.
    pub facilitators: Facilitators,
    /// Interpreter.
    pub interpreter: Interpreter,
    /// Setting.
    pub setting: Setting,
    /// Consent.
    pub consent: Consent,
    /// Start, RFC 3339 with offset.
    pub started_at: String,
    /// End, RFC 3339 with offset.
    pub ended_at: Option<String>,
    /// Checklist version answered.
    pub checklist_version: u32,
    /// Checklist answers.
    pub answers: Vec<ChecklistAnswer>,
    /// Ranked priorities.
    pub priorities: Vec<Priority>,
    /// Concerns.
    pub concerns: Vec<Concern>,
    /// The referral offered, if any.
    pub referral: Option<Referral>,
    /// For the gender unit only.
    pub sensitive_note: String,
    /// Read-only: the other devices of the team (by device id) holding this session's
    /// sensitive note or referral service, sealed only there at submission. While any is
    /// listed, submitting from this device needs the `PlaintextElsewhere` warning confirmed
    /// (`sessionWarnings` lists it).
    pub plaintext_held_by: Vec<String>,
    /// Workflow status (read-only: changed by submit and reviews).
    pub status: Status,
}

/// A reviewer's decision on a session.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Review {
    /// Review id.
    pub id: String,
    /// Session id.
    pub session_id: String,
    /// Pseudonymous reviewer id.
    pub reviewer: String,
    /// The decision.
    pub decision: Decision,
    /// Comment to the team.
    pub comment: String,
    /// When, RFC 3339.
    pub at: String,
}

/// A correction appended to an accepted session.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Addendum {
    /// Addendum id.
    pub id: String,
    /// Session id.
    pub session_id: String,
    /// Pseudonymous author id.
    pub author: String,
    /// The correction.
    pub text: String,
    /// When, RFC 3339.
    pub at: String,
}

/// What a person may do.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Role {
    /// Member of an engagement team: writes the team's entries.
    TeamMember {
        /// The team's id.
        team_id: String,
    },
    /// Gender focal point: reviews the entries of a sector's teams.
    Reviewer {
        /// The sector.
        sector: String,
    },
    /// Mission headquarters: reports of any scope and exports on the server; syncs no records.
    HqAnalyst,
    /// Mission admin: devices, enrolment codes and the audit log on the server; syncs no
    /// records.
    Admin,
}

/// Who acts: recorded in the history of every write. (`Actor` in the core; named
/// `Identity` here because Swift's standard library already has an `Actor`.)
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Identity {
    /// Stable pseudonymous id (never a name).
    pub id: String,
    /// What they may do.
    pub role: Role,
}

impl From<Concern> for model::Concern {
    fn from(c: Concern) -> Self {
        model::Concern {
            category: c.category,
            affected: c.affected.into_iter().collect(),
            location: c.location,
            timing: c.timing,
            urgency: c.urgency,
            note: c.note,
        }
    }
}

impl From<model::Concern> for Concern {
    fn from(c: model::Concern) -> Self {
        Concern {
            category: c.category,
            affected: c.affected.into_iter().collect(),
            location: c.location,
            timing: c.timing,
            urgency: c.urgency,
            note: c.note,
        }
    }
}

impl Identity {
    pub(crate) fn lift(self, l: &mut Lift) -> model::Actor {
        let role = match self.role {
            Role::TeamMember { team_id } => model::Role::TeamMember {
                team_id: l.id("actor.role.team_id", &team_id),
            },
            Role::Reviewer { sector } => model::Role::Reviewer { sector },
            Role::HqAnalyst => model::Role::HqAnalyst,
            Role::Admin => model::Role::Admin,
        };
        model::Actor { id: self.id, role }
    }
}

impl Visit {
    pub(crate) fn lift(self, l: &mut Lift) -> model::Visit {
        model::Visit {
            id: l.id("id", &self.id),
            team_id: l.id("team_id", &self.team_id),
            community_id: l.id("community_id", &self.community_id),
            started_at: l.time("started_at", &self.started_at),
            ended_at: l.opt_time("ended_at", &self.ended_at),
            notes: self.notes,
        }
    }
}

impl From<model::Visit> for Visit {
    fn from(v: model::Visit) -> Self {
        Visit {
            id: v.id.to_string(),
            team_id: v.team_id.to_string(),
            community_id: v.community_id.to_string(),
            started_at: time_string(&v.started_at),
            ended_at: v.ended_at.as_ref().map(time_string),
            notes: v.notes,
        }
    }
}

impl Session {
    pub(crate) fn lift(self, l: &mut Lift) -> model::Session {
        model::Session {
            id: l.id("id", &self.id),
            visit_id: l.id("visit_id", &self.visit_id),
            group: self.group,
            focus: self.focus.into_iter().collect(),
            participants: self.participants,
            facilitators: self.facilitators,
            interpreter: self.interpreter,
            setting: self.setting,
            consent: self.consent,
            started_at: l.time("started_at", &self.started_at),
            ended_at: l.opt_time("ended_at", &self.ended_at),
            checklist_version: self.checklist_version,
            answers: self.answers,
            priorities: self.priorities,
            concerns: self.concerns.into_iter().map(Into::into).collect(),
            referral: self.referral.map(|r| model::Referral {
                service_id: r.service_id.map(|id| l.id("referral.service_id", &id)),
                // Set by submission only; the store keeps the one it holds.
                sealed_service_id: None,
            }),
            sensitive_note: self.sensitive_note,
            // Set by submission only; the store keeps the one it holds whatever comes here.
            sealed_note: None,
            // Set by sync; the store keeps the one it holds, but `sessionWarnings` reads it.
            plaintext_held_by: self.plaintext_held_by.into_iter().collect(),
            status: self.status,
        }
    }
}

impl From<model::Session> for Session {
    fn from(s: model::Session) -> Self {
        Session {
            id: s.id.to_string(),
            visit_id: s.visit_id.to_string(),
            group: s.group,
            focus: s.focus.into_iter().collect(),
            participants: s.participants,
            facilitators: s.facilitators,
            interpreter: s.interpreter,
            setting: s.setting,
            consent: s.consent,
            started_at: time_string(&s.started_at),
            ended_at: s.ended_at.as_ref().map(time_string),
            checklist_version: s.checklist_version,
            answers: s.answers,
            priorities: s.priorities,
            concerns: s.concerns.into_iter().map(Into::into).collect(),
            referral: s.referral.map(|r| Referral {
                service_id: r.service_id.map(|id| id.to_string()),
                service_sealed: r.sealed_service_id.is_some(),
            }),
            sensitive_note: s.sensitive_note,
            plaintext_held_by: s.plaintext_held_by.into_iter().collect(),
            status: s.status,
        }
    }
}

impl From<model::Review> for Review {
    fn from(r: model::Review) -> Self {
        Review {
            id: r.id.to_string(),
            session_id: r.session_id.to_string(),
            reviewer: r.reviewer,
            decision: r.decision,
            comment: r.comment,
            at: time_string(&r.at),
        }
    }
}

impl From<model::Addendum> for Addendum {
    fn from(a: model::Addendum) -> Self {
        Addendum {
            id: a.id.to_string(),
            session_id: a.session_id.to_string(),
            author: a.author,
            text: a.text,
            at: time_string(&a.at),
        }
    }
}

/// A new, empty draft of a session of `group` in the visit `visit_id`, started `started_at`
/// (RFC 3339), with a fresh id.
#[uniffi::export]
pub fn new_session_draft(
    visit_id: String,
    group: Group,
    started_at: String,
) -> Result<Session, crate::FieldConsultError> {
    let mut l = Lift::default();
    let visit_id = l.id("visit_id", &visit_id);
    let started_at = l.time("started_at", &started_at);
    l.finish(model::Session::new_draft(visit_id, group, started_at).into())
}

/// A fresh UUIDv7 id for a new record (visit, community).
#[uniffi::export]
pub fn new_id() -> String {
    model::ids::Uuid::now_v7().to_string()
}
