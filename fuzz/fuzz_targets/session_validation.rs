//! A session from arbitrary bytes, validated as a draft and for submission: must never panic.
//!
//! An even first byte reads the rest as the session's JSON (what a device pushes); an odd one
//! edits the fields of a complete, valid session with the rest, so the fuzzer starts deep in
//! the rules instead of at JSON syntax.
#![no_main]

use chrono::{Duration, FixedOffset};
use fieldconsult_fuzz::{check_round_trip, fixed_now, validate_record};
use fieldconsult_model::session::{ChecklistAnswer, Priority, TopicResponse};
use fieldconsult_model::wire::Record;
use fieldconsult_model::{
    ChecklistTemplate, Group, PriorityCategory, Session, Status, ValidationContext, VisitId,
};
use libfuzzer_sys::fuzz_target;

fn template() -> Session {
    let now = fixed_now().fixed_offset();
    let mut s = Session::new_draft(VisitId::new(), Group::Women, now - Duration::hours(2));
    s.participants.female.age_18_29 = 6;
    s.consent.verbal_informed = true;
    s.ended_at = Some(now - Duration::hours(1));
    s.answers = ChecklistTemplate::default_v1()
        .topics
        .iter()
        .map(|t| ChecklistAnswer {
            topic: t.code.clone(),
            response: TopicResponse::Discussed,
            note: String::new(),
        })
        .collect();
    s.priorities = Priority::ranked(&[PriorityCategory::Water]);
    s.status = Status::Submitted;
    s
}

fn word(bytes: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    for (dst, src) in b.iter_mut().zip(bytes) {
        *dst = *src;
    }
    u32::from_le_bytes(b)
}

fn edit(s: &mut Session, ops: &[u8]) {
    for op in ops.chunks(5) {
        let (code, value) = (op[0], word(&op[1..]));
        let text = String::from_utf8_lossy(&op[1..]).repeat(1 + (value as usize % 700));
        match code % 16 {
            0 => s.participants.female.age_12_17 = value,
            1 => s.participants.male.age_30_59 = value,
            2 => s.participants.undisclosed.unknown = value,
            3 => s.facilitators.female = value,
            4 => s.interpreter.language = text,
            5 => s.sensitive_note = text,
            6 => s.checklist_version = value,
            7 => {
                let offset = Duration::seconds(i64::from(value as i32) * 60);
                // Out of chrono's range is not a time a device could hold: keep it as it was.
                s.ended_at = s
                    .ended_at
                    .map(|t| t.checked_add_signed(offset).unwrap_or(t));
            }
            8 => {
                let shift = Duration::seconds(i64::from(value as i32) * 1000);
                s.started_at = s
                    .started_at
                    .checked_add_signed(shift)
                    .unwrap_or(s.started_at);
            }
            9 => {
                if let Some(tz) = FixedOffset::east_opt((value % 86_400) as i32 - 43_200) {
                    s.started_at = s.started_at.with_timezone(&tz);
                }
            }
            10 => {
                let n = s.answers.len();
                if n > 0 {
                    s.answers.remove(value as usize % n);
                }
            }
            11 => {
                if let Some(a) = s.answers.first_mut() {
                    a.topic = text;
                }
            }
            12 => {
                let mut p = Priority::ranked(&[PriorityCategory::Health]);
                if let Some(first) = p.first_mut() {
                    first.rank = op.get(1).copied().unwrap_or(0);
                    let label = op.get(2..).unwrap_or_default();
                    first.other_label = String::from_utf8_lossy(label).into_owned();
                }
                s.priorities.extend(p);
            }
            13 => s.group = [Group::Women, Group::Men, Group::Mixed][value as usize % 3],
            14 => s.consent.verbal_informed = value % 2 == 0,
            _ => s.ended_at = None,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let session = if mode % 2 == 0 {
        match serde_json::from_slice::<Session>(rest) {
            Ok(s) => s,
            Err(_) => return,
        }
    } else {
        let mut s = template();
        edit(&mut s, rest);
        // As a store saves it: what it then pushes must survive the wire unchanged.
        s.normalize();
        s
    };
    let record = Record::Session(Box::new(session));
    check_round_trip(&record);
    let _ = validate_record(&record, &ValidationContext::at(fixed_now()));
});
