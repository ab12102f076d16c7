//! What the server's benchmarks share: the server as a child process, sessions of realistic
//! size, and small helpers for the figures they print. Each benchmark uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;

use chrono::Duration;
use fieldconsult_model::{
    AffectedGroup, AgeCounts, ChecklistAnswer, ChecklistTemplate, Concern, ConcernCategory,
    Facilitators, Group, Interpreter, InterpreterSex, Priority, PriorityCategory, Session, Setting,
    TopicResponse, Urgency, VisitId,
};
use fieldconsult_server::{SqliteStorage, Storage};

/// What the benchmarks return.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The server side: serve the database until stdin closes, then print the peak RSS.
pub fn server_child(db: &Path) -> Result<(), Error> {
    let storage = Arc::new(SqliteStorage::open(db)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        println!("{}", listener.local_addr()?.port());
        std::io::stdout().flush()?;
        let stop = async {
            // The parent closes our stdin to stop us (also when it exits on its time bound).
            let _ = tokio::task::spawn_blocking(|| {
                let mut sink = String::new();
                while std::io::stdin()
                    .read_line(&mut sink)
                    .map(|n| n > 0)
                    .unwrap_or(false)
                {
                    sink.clear();
                }
            })
            .await;
        };
        // Hundreds of devices enrol from this one loopback address: the per-address limits
        // would measure themselves, not the sync.
        let config = fieldconsult_server::app::HttpConfig {
            enrolment_limit: fieldconsult_server::rate_limit::Limit::per_minute(100_000),
            ..fieldconsult_server::app::HttpConfig::default()
        };
        fieldconsult_server::app::serve_with(storage as Arc<dyn Storage>, config, listener, stop)
            .await
    })?;
    println!("rss {}", peak_rss_mb("/proc/self/status").unwrap_or(-1.0));
    Ok(())
}

/// Starts this binary again as the server child (`env` set to the database path) and waits
/// for the port it listens on. Closing the child's stdin stops it; it then prints `rss MB`
/// on the returned stdout.
pub fn spawn_server(env: &str, db: &Path) -> Result<(Child, BufReader<ChildStdout>, u16), Error> {
    let mut child = Command::new(std::env::current_exe()?)
        .env(env, db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut child_out = BufReader::new(child.stdout.take().ok_or("no child stdout")?);
    let mut line = String::new();
    child_out.read_line(&mut line)?;
    let port: u16 = line
        .trim()
        .parse()
        .map_err(|_| "the server did not start")?;
    Ok((child, child_out, port))
}

/// VmHWM of a process from its `/proc/<pid>/status`, in MB.
pub fn peak_rss_mb(status_path: &str) -> Option<f64> {
    let status = std::fs::read_to_string(status_path).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A session of realistic size: every topic answered with a short note, five ranked
/// priorities, two or three concerns with place and time.
pub fn realistic_session(
    rng: &mut Rng,
    checklist: &ChecklistTemplate,
    visit: VisitId,
    group: Group,
    start: fieldconsult_model::Timestamp,
) -> Session {
    const LOCS: &[&str] = &[
        "firewood path",
        "river crossing",
        "market road",
        "Yei road checkpoint",
        "water point",
        "farmland by the river",
    ];
    const TIMES: &[&str] = &["at dawn", "at night", "on market days", "this month", ""];
    let mut s = Session::new_draft(visit, group, start);
    s.ended_at = Some(start + Duration::minutes(50 + rng.below(40) as i64));
    s.consent.verbal_informed = true;
    s.checklist_version = checklist.version;
    s.setting = if group == Group::Women {
        Setting::Private
    } else {
        Setting::CommunitySpace
    };
    let n = |rng: &mut Rng| rng.below(12) as u32;
    let counts = |rng: &mut Rng| AgeCounts {
        age_12_17: n(rng),
        age_18_29: n(rng),
        age_30_59: 1 + n(rng),
        age_60_plus: n(rng) / 2,
        unknown: n(rng) / 4,
    };
    match group {
        Group::Women => s.participants.female = counts(rng),
        _ => s.participants.male = counts(rng),
    }
    s.facilitators = Facilitators {
        female: 1,
        male: u32::from(group != Group::Women),
    };
    s.interpreter = Interpreter {
        sex: if group == Group::Women {
            InterpreterSex::Female
        } else {
            InterpreterSex::Male
        },
        language: "Bari".into(),
    };
    s.answers = checklist
        .topics
        .iter()
        .map(|t| ChecklistAnswer {
            topic: t.code.clone(),
            response: TopicResponse::Discussed,
            // Teams note a few topics, not all.
            note: if rng.below(5) == 0 {
                sentence(rng, 5, 12)
            } else {
                String::new()
            },
        })
        .collect();
    let cats = PriorityCategory::ALL
        .iter()
        .filter(|c| **c != PriorityCategory::Other)
        .copied()
        .collect::<Vec<_>>();
    let mut picked: Vec<PriorityCategory> = Vec::new();
    while picked.len() < 5 {
        let c = cats[rng.below(cats.len())];
        if !picked.contains(&c) {
            picked.push(c);
        }
    }
    s.priorities = (1u8..)
        .zip(picked)
        .map(|(rank, category)| Priority {
            rank,
            category,
            other_label: String::new(),
            note: if rank == 1 {
                sentence(rng, 4, 10)
            } else {
                String::new()
            },
        })
        .collect();
    let concern_cats = [
        ConcernCategory::ArmedGroupPresence,
        ConcernCategory::MovementRestriction,
        ConcernCategory::TheftAndLooting,
        ConcernCategory::LandOrResourceDispute,
        ConcernCategory::IntercommunalTension,
    ];
    let groups = [
        AffectedGroup::Women,
        AffectedGroup::Girls,
        AffectedGroup::Men,
        AffectedGroup::Boys,
        AffectedGroup::Elderly,
    ];
    s.concerns = (0..2 + rng.below(2))
        .map(|i| Concern {
            category: concern_cats[(rng.below(concern_cats.len()) + i) % concern_cats.len()],
            affected: [
                groups[rng.below(groups.len())],
                groups[rng.below(groups.len())],
            ]
            .into_iter()
            .collect(),
            location: LOCS[rng.below(LOCS.len())].to_owned(),
            timing: TIMES[rng.below(TIMES.len())].to_owned(),
            urgency: match rng.below(20) {
                0 => Urgency::Urgent,
                1..=6 => Urgency::Priority,
                _ => Urgency::Routine,
            },
            note: if rng.below(2) == 0 {
                sentence(rng, 3, 8)
            } else {
                String::new()
            },
        })
        .collect();
    s
}

/// A note of `min..max` words drawn from a field vocabulary: text that compresses about as
/// well as real notes do (a fixed set of sentences would compress unrealistically well).
pub fn sentence(rng: &mut Rng, min: usize, max: usize) -> String {
    const WORDS: &[&str] = &[
        "water",
        "point",
        "broken",
        "weeks",
        "women",
        "walk",
        "hours",
        "each",
        "way",
        "patrol",
        "welcome",
        "daytime",
        "only",
        "fear",
        "moving",
        "fields",
        "after",
        "dark",
        "school",
        "closed",
        "teachers",
        "left",
        "March",
        "prices",
        "market",
        "doubled",
        "road",
        "youth",
        "work",
        "mines",
        "elderly",
        "could",
        "not",
        "come",
        "meeting",
        "place",
        "far",
        "disputes",
        "grazing",
        "land",
        "herders",
        "north",
        "health",
        "centre",
        "medicine",
        "clinic",
        "km",
        "returned",
        "families",
        "camp",
        "calm",
        "since",
        "last",
        "visit",
        "checkpoint",
        "soldiers",
        "ask",
        "money",
        "night",
        "river",
        "crossing",
        "boats",
        "cattle",
        "raid",
        "village",
        "chief",
        "committee",
        "girls",
        "boys",
        "firewood",
        "collect",
        "morning",
        "group",
        "armed",
        "men",
        "seen",
        "near",
        "borehole",
        "rains",
        "harvest",
        "seeds",
        "tools",
        "NGO",
        "distribution",
        "food",
        "ration",
        "cut",
        "half",
        "registration",
        "documents",
        "lost",
        "fire",
        "houses",
        "burned",
        "rebuilt",
        "some",
        "many",
        "few",
        "two",
        "three",
        "five",
        "ten",
        "twenty",
        "people",
        "children",
        "widows",
        "disabled",
        "cannot",
        "reach",
        "latrines",
        "unsafe",
        "lighting",
        "needed",
        "police",
        "post",
        "empty",
        "court",
        "case",
        "pending",
        "land",
        "return",
        "owners",
        "occupied",
        "church",
        "mosque",
        "leaders",
        "asked",
        "mission",
        "to",
        "the",
        "a",
        "and",
        "of",
        "in",
        "on",
        "at",
        "is",
        "are",
        "was",
        "were",
        "no",
        "since",
        "every",
        "week",
        "month",
        "day",
        "again",
        "still",
        "now",
        "more",
        "less",
        "than",
        "before",
    ];
    let n = min + rng.below(max - min + 1);
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(WORDS[rng.below(WORDS.len())]);
    }
    out.push('.');
    out
}

/// xorshift64*: deterministic, so every run builds the same sessions.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}
