//! The rules of a session.

use std::collections::BTreeSet;

use chrono::Utc;

use super::{
    MAX_ANSWERS, MAX_CONCERNS, MAX_COUNT, MAX_DEVICE_ID, MAX_FACILITATORS, MAX_PLAINTEXT_HOLDERS,
    MAX_PRIORITIES, PLAINTEXT_ELSEWHERE_FIELD, Problem, Report, ValidationContext,
    ValidationErrors,
};
use crate::checklist::ChecklistTemplate;
use crate::crypto::seal::{REFERRAL_SERVICE_FIELD, SENSITIVE_NOTE_FIELD, check_shape};
use crate::session::{AgeBand, Group, InterpreterSex, Session, Sex};
use crate::status::Status;
use crate::taxonomy::{ConcernCategory, PriorityCategory};
use crate::text::{MAX_LINE, MAX_NOTE, TextKind, normalize_in_place};
use crate::time::round_to_stored_precision;

/// How complete a session must be.
#[derive(Clone, Copy, Debug)]
pub enum Completeness<'a> {
    /// A draft: every value present must be valid, but values may still be missing.
    Draft,
    /// Ready to submit: also complete (participants, consent, end time, required topics of
    /// the checklist the session answered).
    Submit(&'a ChecklistTemplate),
}

impl Session {
    /// NFC-normalises every text field and truncates times to milliseconds, in place.
    pub fn normalize(&mut self) {
        round_to_stored_precision(&mut self.started_at);
        if let Some(t) = &mut self.ended_at {
            round_to_stored_precision(t);
        }
        normalize_in_place(&mut self.interpreter.language);
        normalize_in_place(&mut self.sensitive_note);
        for a in &mut self.answers {
            normalize_in_place(&mut a.topic);
            normalize_in_place(&mut a.note);
        }
        for p in &mut self.priorities {
            normalize_in_place(&mut p.other_label);
            normalize_in_place(&mut p.note);
        }
        for c in &mut self.concerns {
            normalize_in_place(&mut c.location);
            normalize_in_place(&mut c.timing);
            normalize_in_place(&mut c.note);
        }
    }
}

/// Checks `session` against every rule, reporting every problem at once.
pub fn validate_session(
    session: &Session,
    completeness: Completeness<'_>,
    ctx: &ValidationContext,
) -> Result<(), ValidationErrors> {
    let mut r = Report::default();
    participants(&mut r, session);
    r.range(
        "facilitators.female",
        session.facilitators.female.into(),
        0,
        MAX_FACILITATORS.into(),
    );
    r.range(
        "facilitators.male",
        session.facilitators.male.into(),
        0,
        MAX_FACILITATORS.into(),
    );
    r.text(
        "interpreter.language",
        &session.interpreter.language,
        TextKind::Line,
        MAX_LINE,
    );
    if session.interpreter.sex == InterpreterSex::None && !session.interpreter.language.is_empty() {
        r.add("interpreter.language", Problem::MustBeEmpty);
    }
    times(&mut r, session, ctx);
    if session.checklist_version == 0 {
        r.add(
            "checklist_version",
            Problem::OutOfRange {
                min: 1,
                max: i64::from(u32::MAX),
            },
        );
    }
    answers(&mut r, session);
    priorities(&mut r, session);
    concerns(&mut r, session);
    r.text(
        SENSITIVE_NOTE_FIELD,
        &session.sensitive_note,
        TextKind::Note,
        MAX_NOTE,
    );
    sealing(&mut r, session);

    if let Completeness::Submit(checklist) = completeness {
        complete(&mut r, session, checklist);
    }
    r.finish()
}

/// Checks that `session` may leave its device or be accepted from one: besides
/// [`validate_session`], its sensitive note travels only sealed, whatever its status (a
/// draft's plaintext note stays on the device that wrote it). The server applies this to every
/// pushed session.
pub fn validate_sent_session(session: &Session) -> Result<(), ValidationErrors> {
    let mut r = Report::default();
    if !session.sensitive_note.is_empty() {
        r.add(SENSITIVE_NOTE_FIELD, Problem::NotSealed);
    }
    if session
        .referral
        .as_ref()
        .is_some_and(|x| x.service_id.is_some())
    {
        r.add(REFERRAL_SERVICE_FIELD, Problem::NotSealed);
    }
    r.finish()
}

fn sealing(r: &mut Report, s: &Session) {
    // A submitted or accepted session has been sealed; a returned one may hold a new note
    // its team is writing on the device.
    let sealed_status = matches!(s.status, Status::Submitted | Status::Accepted);
    if sealed_status && !s.sensitive_note.is_empty() {
        r.add(SENSITIVE_NOTE_FIELD, Problem::NotSealed);
    }
    if let Some(sealed) = &s.sealed_note
        && check_shape(sealed, SENSITIVE_NOTE_FIELD).is_err()
    {
        r.add("sealed_note", Problem::InvalidFormat);
    }
    plaintext_holders(r, s, sealed_status);
    if let Some(referral) = &s.referral {
        if sealed_status && referral.service_id.is_some() {
            r.add(REFERRAL_SERVICE_FIELD, Problem::NotSealed);
        }
        if let Some(sealed) = &referral.sealed_service_id
            && check_shape(sealed, REFERRAL_SERVICE_FIELD).is_err()
        {
            r.add("referral.sealed_service_id", Problem::InvalidFormat);
        }
    }
}

/// The devices a session names as holding its plaintext: a few device ids (the server's
/// UUIDs), and none once submission has sealed what there was to seal.
fn plaintext_holders(r: &mut Report, s: &Session, sealed_status: bool) {
    let holders = &s.plaintext_held_by;
    if sealed_status && !holders.is_empty() {
        r.add(PLAINTEXT_ELSEWHERE_FIELD, Problem::MustBeEmpty);
    }
    if holders.len() > MAX_PLAINTEXT_HOLDERS {
        r.add(
            PLAINTEXT_ELSEWHERE_FIELD,
            Problem::TooLong {
                max: MAX_PLAINTEXT_HOLDERS,
                actual: holders.len(),
            },
        );
    }
    let well_formed = |id: &str| {
        (1..=MAX_DEVICE_ID).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    for (i, id) in holders.iter().enumerate() {
        if !well_formed(id) {
            r.add(
                format!("{PLAINTEXT_ELSEWHERE_FIELD}[{i}]"),
                Problem::InvalidFormat,
            );
        }
    }
}

fn participants(r: &mut Report, s: &Session) {
    for sex in Sex::ALL {
        let counts = s.participants.of(sex);
        let wrong_sex = matches!(
            (s.group, sex),
            (Group::Women, Sex::Male) | (Group::Men, Sex::Female)
        );
        for band in AgeBand::ALL {
            let field = format!("participants.{}.{}", sex.code(), band.code());
            let n = counts.get(band);
            if n > MAX_COUNT {
                r.add(
                    field,
                    Problem::OutOfRange {
                        min: 0,
                        max: MAX_COUNT.into(),
                    },
                );
            } else if wrong_sex && n > 0 {
                r.add(field, Problem::WrongSexForGroup { group: s.group });
            }
        }
    }
}

fn times(r: &mut Report, s: &Session, ctx: &ValidationContext) {
    r.time("started_at", &s.started_at, ctx);
    if let Some(end) = &s.ended_at {
        if end.with_timezone(&Utc) < s.started_at.with_timezone(&Utc) {
            r.add("ended_at", Problem::BeforeStart);
        } else {
            r.time("ended_at", end, ctx);
        }
    }
}

fn answers(r: &mut Report, s: &Session) {
    if s.answers.len() > MAX_ANSWERS {
        r.add(
            "answers",
            Problem::TooLong {
                max: MAX_ANSWERS,
                actual: s.answers.len(),
            },
        );
    }
    let mut seen = BTreeSet::new();
    for (i, a) in s.answers.iter().enumerate() {
        r.required_text(
            format!("answers[{i}].topic"),
            &a.topic,
            TextKind::Line,
            MAX_LINE,
        );
        if !seen.insert(a.topic.as_str()) {
            r.add(format!("answers[{i}].topic"), Problem::Duplicate);
        }
        r.text(
            format!("answers[{i}].note"),
            &a.note,
            TextKind::Note,
            MAX_NOTE,
        );
    }
}

fn priorities(r: &mut Report, s: &Session) {
    if s.priorities.len() > MAX_PRIORITIES {
        r.add(
            "priorities",
            Problem::TooLong {
                max: MAX_PRIORITIES,
                actual: s.priorities.len(),
            },
        );
    }
    let mut ranks = BTreeSet::new();
    let mut categories = BTreeSet::new();
    for (i, p) in s.priorities.iter().enumerate() {
        let max_rank = MAX_PRIORITIES as u8;
        if !(1..=max_rank).contains(&p.rank) {
            r.add(
                format!("priorities[{i}].rank"),
                Problem::OutOfRange {
                    min: 1,
                    max: i64::from(max_rank),
                },
            );
        } else if !ranks.insert(p.rank) {
            r.add(format!("priorities[{i}].rank"), Problem::Duplicate);
        }
        let label_field = format!("priorities[{i}].other_label");
        if p.category == PriorityCategory::Other {
            r.required_text(label_field, &p.other_label, TextKind::Line, MAX_LINE);
        } else if !p.other_label.is_empty() {
            r.add(label_field, Problem::MustBeEmpty);
        }
        let key = (p.category, p.other_label.trim().to_lowercase());
        if !categories.insert(key) {
            r.add(format!("priorities[{i}].category"), Problem::Duplicate);
        }
        r.text(
            format!("priorities[{i}].note"),
            &p.note,
            TextKind::Note,
            MAX_NOTE,
        );
    }
}

fn concerns(r: &mut Report, s: &Session) {
    if s.concerns.len() > MAX_CONCERNS {
        r.add(
            "concerns",
            Problem::TooLong {
                max: MAX_CONCERNS,
                actual: s.concerns.len(),
            },
        );
    }
    for (i, c) in s.concerns.iter().enumerate() {
        r.text(
            format!("concerns[{i}].location"),
            &c.location,
            TextKind::Line,
            MAX_LINE,
        );
        r.text(
            format!("concerns[{i}].timing"),
            &c.timing,
            TextKind::Line,
            MAX_LINE,
        );
        if c.category == ConcernCategory::SexualViolenceRisk && !c.note.is_empty() {
            r.add(format!("concerns[{i}].note"), Problem::DetailNotAllowed);
        } else {
            r.text(
                format!("concerns[{i}].note"),
                &c.note,
                TextKind::Note,
                MAX_NOTE,
            );
        }
    }
}

fn complete(r: &mut Report, s: &Session, checklist: &ChecklistTemplate) {
    if s.participants.total() == 0 {
        r.add("participants", Problem::Required);
    }
    if s.referral
        .as_ref()
        .is_some_and(|x| x.service_id.is_none() && x.sealed_service_id.is_none())
    {
        r.add(REFERRAL_SERVICE_FIELD, Problem::Required);
    }
    if !s.consent.verbal_informed {
        r.add("consent.verbal_informed", Problem::Required);
    }
    if s.ended_at.is_none() {
        r.add("ended_at", Problem::Required);
    }
    if s.interpreter.sex != InterpreterSex::None && s.interpreter.language.trim().is_empty() {
        r.add("interpreter.language", Problem::Required);
    }
    for (i, c) in s.concerns.iter().enumerate() {
        if c.affected.is_empty() {
            r.add(format!("concerns[{i}].affected"), Problem::Required);
        }
    }
    if checklist.version != s.checklist_version {
        r.add("checklist_version", Problem::Unknown);
        return;
    }
    for (i, a) in s.answers.iter().enumerate() {
        if checklist.topic(&a.topic).is_none() {
            r.add(format!("answers[{i}].topic"), Problem::Unknown);
        }
    }
    for topic in checklist.topics.iter().filter(|t| t.required) {
        if !s.answers.iter().any(|a| a.topic == topic.code) {
            r.add(format!("answers.{}", topic.code), Problem::Required);
        }
    }
}
