//! A session: one consultation with women, with men, or with both together.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::crypto::seal::SealedField;
use crate::ids::{ReferralServiceId, SessionId, VisitId};
use crate::status::Status;
use crate::taxonomy::{AffectedGroup, ConcernCategory, FocusTag, PriorityCategory, Urgency};
use crate::time::Timestamp;

/// Who a session consulted. Women and men are consulted separately so that women can speak
/// freely; mixed sessions consult them together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Women only.
    Women,
    /// Men only.
    Men,
    /// Women and men together.
    Mixed,
}

impl Group {
    /// Stable code used on the wire and in storage.
    pub fn code(self) -> &'static str {
        match self {
            Group::Women => "women",
            Group::Men => "men",
            Group::Mixed => "mixed",
        }
    }

    /// Parses a stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "women" => Some(Group::Women),
            "men" => Some(Group::Men),
            "mixed" => Some(Group::Mixed),
            _ => None,
        }
    }
}

/// Sex of a participant as counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Not disclosed or not recorded.
    Undisclosed,
}

impl Sex {
    /// Every value, in table order.
    pub const ALL: [Sex; 3] = [Sex::Female, Sex::Male, Sex::Undisclosed];

    /// Stable code (`female`, `male`, `undisclosed`).
    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Undisclosed => "undisclosed",
        }
    }
}

/// Age bands of the disaggregated tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeBand {
    /// 12 to 17 years.
    Age12To17,
    /// 18 to 29 years.
    Age18To29,
    /// 30 to 59 years.
    Age30To59,
    /// 60 years and over.
    Age60Plus,
    /// Age not known.
    Unknown,
}

impl AgeBand {
    /// Every value, in table order.
    pub const ALL: [AgeBand; 5] = [
        AgeBand::Age12To17,
        AgeBand::Age18To29,
        AgeBand::Age30To59,
        AgeBand::Age60Plus,
        AgeBand::Unknown,
    ];

    /// Stable code, which is also the field name in [`AgeCounts`].
    pub fn code(self) -> &'static str {
        match self {
            AgeBand::Age12To17 => "age_12_17",
            AgeBand::Age18To29 => "age_18_29",
            AgeBand::Age30To59 => "age_30_59",
            AgeBand::Age60Plus => "age_60_plus",
            AgeBand::Unknown => "unknown",
        }
    }

    /// A short human label (`12–17`).
    pub fn label(self) -> &'static str {
        match self {
            AgeBand::Age12To17 => "12–17",
            AgeBand::Age18To29 => "18–29",
            AgeBand::Age30To59 => "30–59",
            AgeBand::Age60Plus => "60+",
            AgeBand::Unknown => "unknown",
        }
    }
}

/// Participant counts of one sex, by age band.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeCounts {
    /// 12 to 17 years.
    pub age_12_17: u32,
    /// 18 to 29 years.
    pub age_18_29: u32,
    /// 30 to 59 years.
    pub age_30_59: u32,
    /// 60 years and over.
    pub age_60_plus: u32,
    /// Age not known.
    pub unknown: u32,
}

impl AgeCounts {
    /// Counts given in [`AgeBand::ALL`] order.
    pub fn from_bands([age_12_17, age_18_29, age_30_59, age_60_plus, unknown]: [u32; 5]) -> Self {
        AgeCounts {
            age_12_17,
            age_18_29,
            age_30_59,
            age_60_plus,
            unknown,
        }
    }

    /// The count of `band`.
    pub fn get(&self, band: AgeBand) -> u32 {
        match band {
            AgeBand::Age12To17 => self.age_12_17,
            AgeBand::Age18To29 => self.age_18_29,
            AgeBand::Age30To59 => self.age_30_59,
            AgeBand::Age60Plus => self.age_60_plus,
            AgeBand::Unknown => self.unknown,
        }
    }

    /// A mutable reference to the count of `band`.
    pub fn get_mut(&mut self, band: AgeBand) -> &mut u32 {
        match band {
            AgeBand::Age12To17 => &mut self.age_12_17,
            AgeBand::Age18To29 => &mut self.age_18_29,
            AgeBand::Age30To59 => &mut self.age_30_59,
            AgeBand::Age60Plus => &mut self.age_60_plus,
            AgeBand::Unknown => &mut self.unknown,
        }
    }

    /// Sum over all bands (in u64: no overflow whatever the counts).
    pub fn total(&self) -> u64 {
        AgeBand::ALL.iter().map(|b| u64::from(self.get(*b))).sum()
    }
}

/// Participants by sex × age band.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participants {
    /// Female participants.
    pub female: AgeCounts,
    /// Male participants.
    pub male: AgeCounts,
    /// Participants whose sex was not disclosed.
    pub undisclosed: AgeCounts,
}

impl Participants {
    /// The counts of one sex.
    pub fn of(&self, sex: Sex) -> &AgeCounts {
        match sex {
            Sex::Female => &self.female,
            Sex::Male => &self.male,
            Sex::Undisclosed => &self.undisclosed,
        }
    }

    /// Mutable counts of one sex.
    pub fn of_mut(&mut self, sex: Sex) -> &mut AgeCounts {
        match sex {
            Sex::Female => &mut self.female,
            Sex::Male => &mut self.male,
            Sex::Undisclosed => &mut self.undisclosed,
        }
    }

    /// All participants.
    pub fn total(&self) -> u64 {
        Sex::ALL.iter().map(|s| self.of(*s).total()).sum()
    }
}

/// Members of the patrol who facilitated the session, by sex.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facilitators {
    /// Women facilitators.
    pub female: u32,
    /// Men facilitators.
    pub male: u32,
}

/// Sex of the interpreter, if there was one.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum InterpreterSex {
    /// No interpreter.
    #[default]
    None,
    /// A woman interpreter.
    Female,
    /// A man interpreter.
    Male,
}

/// The interpreter of a session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interpreter {
    /// Whether there was one, and their sex.
    pub sex: InterpreterSex,
    /// Language interpreted from (`Juba Arabic`); required when there is an interpreter.
    pub language: String,
}

/// Where the session was held; a private setting lets people speak more freely.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    /// Away from others.
    Private,
    /// A community space (hall, school, under the meeting tree).
    CommunitySpace,
    /// In public, where others can listen.
    Public,
}

/// Consent of the participants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Verbal informed consent was obtained; required before a session can be submitted.
    pub verbal_informed: bool,
}

/// How a checklist topic went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicResponse {
    /// The topic was discussed.
    Discussed,
    /// The topic was raised and the group declined to discuss it.
    Declined,
    /// The topic was not raised.
    NotRaised,
}

/// The answer to one checklist topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistAnswer {
    /// Topic code of the session's checklist version.
    pub topic: String,
    /// How the topic went.
    pub response: TopicResponse,
    /// What was said.
    pub note: String,
}

/// One ranked priority of the group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priority {
    /// Rank 1 (highest) to 5, unique within a session.
    pub rank: u8,
    /// Category of the taxonomy.
    pub category: PriorityCategory,
    /// The label of an `other` priority; empty for the others.
    pub other_label: String,
    /// What the group said about it.
    pub note: String,
}

impl Priority {
    /// Priorities of the given categories ranked 1, 2, ... in that order, without notes.
    pub fn ranked(categories: &[PriorityCategory]) -> Vec<Priority> {
        (1u8..)
            .zip(categories)
            .map(|(rank, category)| Priority {
                rank,
                category: *category,
                other_label: String::new(),
                note: String::new(),
            })
            .collect()
    }
}

/// A protection concern raised in the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concern {
    /// Category of the taxonomy.
    pub category: ConcernCategory,
    /// Who it affects; at least one group.
    pub affected: BTreeSet<AffectedGroup>,
    /// Where (a place name, a road), never a home.
    pub location: String,
    /// When (`nights, since the harvest`).
    pub timing: String,
    /// How fast it needs attention.
    pub urgency: Urgency,
    /// Detail. Must stay empty for sexual-violence risk: a referral is offered instead.
    pub note: String,
}

/// A referral offered during the session. A disclosure of sexual violence is never recorded
/// in detail: the session records only that a referral was offered, and to which service.
///
/// Which service (a GBV clinic, say) can itself say what was disclosed, so the service is
/// handled like the sensitive note: in plaintext only on the authoring device while the
/// session is being written, sealed at submission into [`Referral::sealed_service_id`], and
/// never sent in plaintext (see [`Session::as_sent`]). The referral itself stays visible, so
/// reports count referrals offered without reading any service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// The service of the referral directory, in plaintext: set by the author; emptied by
    /// submission, which seals it. Absent from the JSON when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<ReferralServiceId>,
    /// The service id sealed to the sector's focal points (and the mission escrow key), set
    /// by submission only; opaque to the server. Absent from the JSON when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_service_id: Option<SealedField>,
}

impl Referral {
    /// A referral to `service_id`, not yet sealed.
    pub fn to(service_id: ReferralServiceId) -> Self {
        Referral {
            service_id: Some(service_id),
            sealed_service_id: None,
        }
    }
}

/// One consultation session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Session id.
    pub id: SessionId,
    /// The visit it belongs to.
    pub visit_id: VisitId,
    /// Women, men, or mixed.
    pub group: Group,
    /// Groups deliberately reached.
    pub focus: BTreeSet<FocusTag>,
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
    /// When the session started.
    pub started_at: Timestamp,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
    /// Version of the checklist answered.
    pub checklist_version: u32,
    /// Answers to checklist topics.
    pub answers: Vec<ChecklistAnswer>,
    /// Ranked priorities of this group.
    pub priorities: Vec<Priority>,
    /// Concerns raised.
    pub concerns: Vec<Concern>,
    /// Referral offered, if any.
    pub referral: Option<Referral>,
    /// Free text for the gender unit only. Plaintext lives only on the authoring device, in
    /// a draft or a returned session being edited: submission seals it into
    /// [`Session::sealed_note`] and empties this field, and it never travels (see
    /// [`Session::as_sent`]).
    pub sensitive_note: String,
    /// The sensitive note sealed to the sector's focal points (and the mission escrow key),
    /// set by submission only; opaque to the server. Absent from the JSON when `None`, so
    /// records without one keep their content hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_note: Option<SealedField>,
    /// The devices that hold plaintext of this session sealed only at submission (its
    /// sensitive note or its referral's service), by device id. In the form a draft or a
    /// returned session travels in ([`Session::as_sent`]) the sending device is listed when
    /// it holds such plaintext; a device's own copy lists only the others. While any other
    /// device is listed, submitting needs a confirmation
    /// ([`crate::validation::WarningKind::PlaintextElsewhere`]), since that plaintext would be
    /// left behind. Cleared by submission. Absent from the JSON when empty, so records
    /// without it keep their content hash.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub plaintext_held_by: BTreeSet<String>,
    /// Workflow status; changed only by the actions of [`crate::status`].
    pub status: Status,
}

impl Session {
    /// A new, empty draft of a session of `group` in `visit_id`.
    pub fn new_draft(visit_id: VisitId, group: Group, started_at: Timestamp) -> Self {
        Session {
            id: SessionId::new(),
            visit_id,
            group,
            focus: BTreeSet::new(),
            participants: Participants::default(),
            facilitators: Facilitators::default(),
            interpreter: Interpreter::default(),
            setting: Setting::CommunitySpace,
            consent: Consent::default(),
            started_at,
            ended_at: None,
            checklist_version: 1,
            answers: Vec::new(),
            priorities: Vec::new(),
            concerns: Vec::new(),
            referral: None,
            sensitive_note: String::new(),
            sealed_note: None,
            plaintext_held_by: BTreeSet::new(),
            status: Status::Draft,
        }
    }

    /// The session as it may leave `device_id`, the device holding this copy: without the
    /// plaintext sensitive note and referral service (a draft's stay on the device that wrote
    /// it; a submitted session's travel only sealed). A referral offered stays visible as
    /// offered.
    ///
    /// The device is listed in [`Session::plaintext_held_by`] when it holds such plaintext
    /// (and taken off when it no longer does), so that no other device submits the session
    /// without knowing the plaintext stays behind.
    pub fn as_sent(&self, device_id: &str) -> Session {
        let mut s = self.clone();
        if self.holds_plaintext() {
            s.plaintext_held_by.insert(device_id.to_owned());
        } else {
            s.plaintext_held_by.remove(device_id);
        }
        s.drop_plaintext();
        s
    }

    fn drop_plaintext(&mut self) {
        self.sensitive_note.clear();
        if let Some(r) = &mut self.referral {
            r.service_id = None;
        }
    }

    /// Whether, on the device holding this copy, another device holds plaintext of it that
    /// submission here would leave behind.
    pub fn plaintext_elsewhere(&self) -> bool {
        !self.plaintext_held_by.is_empty()
    }

    /// Whether this copy holds plaintext that submission seals: a sensitive note (not only
    /// white space) or a referral's service.
    pub fn holds_plaintext(&self) -> bool {
        !self.sensitive_note.trim().is_empty()
            || self
                .referral
                .as_ref()
                .is_some_and(|r| r.service_id.is_some())
    }

    /// The session without its sensitive fields, plaintext or sealed, for reports: a
    /// referral stays, as offered, without its service.
    pub fn without_sensitive_fields(&self) -> Session {
        let mut s = self.clone();
        s.drop_plaintext();
        s.plaintext_held_by.clear();
        s.sealed_note = None;
        if let Some(r) = &mut s.referral {
            r.sealed_service_id = None;
        }
        s
    }

    /// Whether any concern is urgent (such sessions jump the sync queue).
    pub fn has_urgent_concern(&self) -> bool {
        self.concerns.iter().any(|c| c.urgency == Urgency::Urgent)
    }
}
