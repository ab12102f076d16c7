//! gzip vs zstd on push batches of realistic sessions: prints, per batch size, the
//! uncompressed JSON bytes and, per codec, the compressed bytes, the ratio and the time to
//! compress (median of 15). The figures chose `sync::compress::PUSH_CODEC`.
//!
//! ```text
//! cargo run --release -p fieldconsult-core --example compression
//! ```
//!
//! Sessions are complete (every topic of the default checklist answered with a note, 5
//! priorities, 2 concerns, interpreter, facilitators), with counts, times, ids and notes that
//! vary from session to session, so that the codecs do not see one record repeated.

use std::time::{Duration, Instant};

use chrono::{Duration as Minutes, FixedOffset, Offset, TimeZone};
use fieldconsult_core::sync::compress::PUSH_CODEC;
use fieldconsult_model::crypto::sign::SigningKey;
use fieldconsult_model::wire::{PushChange, PushRequest, Record};
use fieldconsult_model::{
    AffectedGroup, AgeCounts, ChecklistAnswer, ChecklistTemplate, Concern, ConcernCategory,
    Facilitators, Group, Interpreter, InterpreterSex, Priority, PriorityCategory, Session,
    TopicResponse, Urgency, VisitId,
};

const NOTES: &[&str] = &[
    "Discussed at length; the group agreed on the main points.",
    "Women said the water point is too far and the road is unsafe after dark.",
    "Men raised grazing disputes with the neighbouring community.",
    "Few comments; participants were reluctant with soldiers present.",
    "The market closes early since the last incident; traders are afraid.",
    "Youth asked about schooling and jobs; elders spoke about land.",
];

/// A compression function under test.
type Compress = dyn Fn(&[u8]) -> std::io::Result<Vec<u8>>;

/// A small deterministic generator, so that runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn session(i: usize, rng: &mut Rng, checklist: &ChecklistTemplate) -> Session {
    let tz = FixedOffset::east_opt(3 * 3600).unwrap_or(chrono::Utc.fix());
    let started = tz
        .timestamp_opt(1_760_000_000 + i as i64 * 5_417, 0)
        .single()
        .unwrap_or_default();
    let group = [Group::Women, Group::Men, Group::Mixed][i % 3];
    let mut s = Session::new_draft(VisitId::new(), group, started);
    s.ended_at = Some(started + Minutes::minutes(30 + rng.next(60) as i64));
    s.consent.verbal_informed = true;
    let mut counts = || AgeCounts {
        age_12_17: rng.next(4) as u32,
        age_18_29: rng.next(9) as u32,
        age_30_59: rng.next(12) as u32,
        age_60_plus: rng.next(5) as u32,
        unknown: rng.next(2) as u32,
    };
    match group {
        Group::Women => s.participants.female = counts(),
        Group::Men => s.participants.male = counts(),
        Group::Mixed => (s.participants.female, s.participants.male) = (counts(), counts()),
    }
    s.facilitators = Facilitators { female: 1, male: 1 };
    s.interpreter = Interpreter {
        sex: InterpreterSex::Female,
        language: "Juba Arabic".into(),
    };
    s.answers = checklist
        .topics
        .iter()
        .map(|t| ChecklistAnswer {
            topic: t.code.clone(),
            response: TopicResponse::Discussed,
            note: format!("{} (item {})", NOTES[rng.next(NOTES.len())], rng.next(1000)),
        })
        .collect();
    s.priorities = (1u8..)
        .zip(&PriorityCategory::ALL[..5])
        .map(|(rank, c)| Priority {
            rank,
            category: *c,
            other_label: String::new(),
            note: NOTES[rng.next(NOTES.len())].into(),
        })
        .collect();
    s.concerns = [
        (ConcernCategory::ArmedGroupPresence, Urgency::Priority),
        (ConcernCategory::MovementRestriction, Urgency::Routine),
    ]
    .into_iter()
    .map(|(category, urgency)| Concern {
        category,
        affected: [AffectedGroup::Women, AffectedGroup::Girls].into(),
        location: format!("road to the market, km {}", rng.next(40)),
        timing: "at night".into(),
        urgency,
        note: NOTES[rng.next(NOTES.len())].into(),
    })
    .collect();
    s
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let checklist = ChecklistTemplate::default_v1();
    let mut rng = Rng(7);
    let device_key = SigningKey::from_seed(&[7; 32]);
    println!("sessions,json_bytes,codec,bytes,ratio,compress_ms");
    for n in [10usize, 100, 300] {
        let request = PushRequest {
            changes: (0..n)
                .map(|i| {
                    // Signed as a device signs it: nonce and signature are incompressible.
                    let record = Record::Session(Box::new(session(i, &mut rng, &checklist)));
                    let hash = record.hash();
                    PushChange::signed(record, &hash, None, "bench-device", &device_key)
                })
                .collect(),
        };
        let json = serde_json::to_vec(&request)?;
        let gzip = |level: u32| {
            move |data: &[u8]| -> std::io::Result<Vec<u8>> {
                use std::io::Write;
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
                enc.write_all(data)?;
                enc.finish()
            }
        };
        let zstd = |level: i32| move |data: &[u8]| zstd::bulk::compress(data, level);
        let codecs: [(&str, Box<Compress>); 6] = [
            ("gzip-6", Box::new(gzip(6))),
            ("gzip-9", Box::new(gzip(9))),
            ("zstd-3", Box::new(zstd(3))),
            ("zstd-9", Box::new(zstd(9))),
            ("zstd-12", Box::new(zstd(12))),
            ("zstd-19", Box::new(zstd(19))),
        ];
        for (name, compress) in &codecs {
            let mut times = Vec::new();
            let mut size = 0;
            for _ in 0..9 {
                let t = Instant::now();
                size = compress(&json)?.len();
                times.push(t.elapsed());
            }
            println!(
                "{n},{},{name},{size},{:.1},{:.2}",
                json.len(),
                json.len() as f64 / size as f64,
                median(times).as_secs_f64() * 1000.0
            );
        }
        // What sync sends, through the core's own codec.
        let sent = PUSH_CODEC.compress(&json)?.len();
        println!("{n},{},core:{},{sent},,", json.len(), PUSH_CODEC.token());
    }
    Ok(())
}
