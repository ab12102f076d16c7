//! Report benchmark: a realistic month of N sessions stored through the server's real storage,
//! then the monthly MISSION gender report loaded, computed and rendered in every format.
//! Prints ONE JSON line on stdout (progress goes to stderr).
//!
//! ```text
//! cargo run --release -p fieldconsult-server --example reportbench -- --sessions 10000 --out /tmp/reportbench
//! ```
//!
//! - The mission: `--teams` engagement teams over four sectors, `--communities` communities
//!   (names in Arabic, French and local languages), the default checklist and a referral
//!   service. One device per team and one reviewer per sector are enrolled the way the
//!   `enrol` endpoint does it.
//! - The month is the previous calendar month (nothing may start in the future). Visits have
//!   women's and men's sessions, sometimes a mixed one too, sometimes only a mixed or only a
//!   men's session (so some communities were never consulted with women). Sessions come from
//!   `support::realistic_session`: every topic answered, five ranked priorities, two or three
//!   concerns; about 3% offered a referral; every one has a sensitive note.
//! - Storage: [`SqliteStorage`] in a temporary folder. Team devices push visits and submitted
//!   sessions, reviewers push reviews, both through `Storage::push`, the function the push
//!   endpoint calls (push rules, validation, workflow, group commit); about 85% of the
//!   sessions end accepted, 5% returned, 10% pending.
//! - Timed (`std::time::Instant`): `load_ms` (reading the mission's records from storage,
//!   notes emptied), `compute_ms` (`MonthlyReport::compute`), `render_ms` per format, and
//!   `report_ms`, their sum: load + compute + render every format of `Format::ALL`. Writing
//!   the files into `--out` is `write_ms`, apart.
//! - `peak_rss_mb` is the peak during the report alone when Linux lets the peak be reset
//!   after the data is stored (`rss_peak_scope: "report"`), else of the whole run
//!   (`"whole_run"`).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use clap::Parser;
use fieldconsult_model::crypto::seal::{SealContext, seal};
use fieldconsult_model::crypto::sign::SigningKey;
use fieldconsult_model::report::{Month, MonthlyReport, ReportOptions, ReportScope};
use fieldconsult_model::wire::{AckOutcome, PushChange, Record};
use fieldconsult_model::{
    ChecklistTemplate, Community, Decision, Group, Language, RecipientSecret, Referral,
    ReferralServiceId, ReferralServiceKind, Review, ReviewId, Role, Session, Status, Team, Visit,
    VisitId,
};
use fieldconsult_report::Format;
use fieldconsult_server::admin::{self, CommunityInput};
use fieldconsult_server::auth::{canonical_code, issue_enrolment_code, new_token, secret_hash};
use fieldconsult_server::storage::Device;
use fieldconsult_server::{SqliteStorage, Storage};
use support::{Error, Rng, peak_rss_mb, realistic_session, round1, sentence};

/// Report benchmark (see the file's documentation).
#[derive(Parser, Debug)]
struct Args {
    /// Sessions in the month.
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    /// Folder to write the report's files into (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Engagement teams, spread over four sectors.
    #[arg(long, default_value_t = 40)]
    teams: usize,
    /// Communities.
    #[arg(long, default_value_t = 180)]
    communities: usize,
    /// Seed of the generator: the same seed builds the same mission.
    #[arg(long, default_value_t = 0x5eed_2026)]
    seed: u64,
}

const SECTORS: [&str; 4] = ["West", "East", "North", "Centre"];

/// Community names as teams write them: Arabic, French and local names.
const PLACES: &[&str] = &[
    "أم دافوق",
    "الفاشر",
    "كتم",
    "طويلة",
    "زالنجي",
    "مليط",
    "كبكابية",
    "أبو شوك",
    "Ndélé",
    "Kaga-Bandoro",
    "Bossangoa-Centre",
    "Bria",
    "Bambari Élevage",
    "Obo",
    "Zémio",
    "Batangafo",
    "Mbrès",
    "Kaya",
    "Yei",
    "Morobo",
    "Lainya",
    "Kajo-Keji",
    "Wau Shilluk",
    "Malakal PoC",
    "Bentiu",
    "Leer",
    "Nyal",
    "Pibor",
    "Likuangole",
    "Tambura",
];

fn main() -> Result<(), Error> {
    let args = Args::parse();
    if args.sessions == 0 || args.teams == 0 || args.communities == 0 {
        return Err("--sessions, --teams and --communities must be at least 1".into());
    }
    let dir = tempfile::tempdir()?;
    let storage = SqliteStorage::open(&dir.path().join("server.db"))?;
    let setup = Instant::now();
    let month = previous_month();
    let mut rng = Rng(args.seed);
    let mission = build_mission(&storage, &args)?;
    let figures = store_month(&storage, &mission, month, args.sessions, &mut rng)?;
    let setup_s = setup.elapsed().as_secs_f64();
    eprintln!(
        "stored {} sessions in {} visits ({setup_s:.1} s); rendering the mission report of {month}",
        figures.sessions, figures.visits
    );

    let rss_peak_scope = if std::fs::write("/proc/self/clear_refs", "5").is_ok() {
        "report"
    } else {
        "whole_run"
    };
    let t = Instant::now();
    let inputs =
        fieldconsult_server::reports::report_inputs(&storage, &ReportScope::Mission, month)?;
    let load_ms = ms(t);
    let t = Instant::now();
    let report = MonthlyReport::compute(
        ReportScope::Mission,
        month,
        inputs.data(),
        ReportOptions::default(),
    );
    let compute_ms = ms(t);
    drop(inputs);
    let mut render_ms = BTreeMap::new();
    let mut rendered = Vec::new();
    for format in Format::ALL {
        let t = Instant::now();
        let files = fieldconsult_report::render(&report, *format, Language::En)?;
        render_ms.insert(format.code(), round1(ms(t)));
        rendered.extend(files);
    }
    let report_ms = load_ms + compute_ms + render_ms.values().sum::<f64>();
    let peak = peak_rss_mb("/proc/self/status");

    let t = Instant::now();
    std::fs::create_dir_all(&args.out)?;
    let mut files = Vec::new();
    let mut bytes = BTreeMap::new();
    for f in &rendered {
        let name = Path::new(&f.name)
            .file_name()
            .ok_or("a rendered file has no name")?;
        let path = args.out.join(name);
        std::fs::write(&path, &f.bytes)?;
        bytes.insert(f.name.clone(), f.bytes.len());
        files.push(path.display().to_string());
    }
    let write_ms = ms(t);

    let line = serde_json::json!({
        "sessions": figures.sessions,
        "report_ms": round1(report_ms),
        "peak_rss_mb": peak.map(round1),
        "rss_peak_scope": rss_peak_scope,
        "files": files,
        "load_ms": round1(load_ms),
        "compute_ms": round1(compute_ms),
        "render_ms": render_ms,
        "write_ms": round1(write_ms),
        "bytes": bytes,
        "month": month.to_string(),
        "teams": mission.teams.len(),
        "sectors": SECTORS.len(),
        "communities": mission.communities.len(),
        "visits": figures.visits,
        "accepted": figures.accepted,
        "returned": figures.returned,
        "pending": figures.pending,
        "report_sessions": report.sessions.len(),
        "never_consulted_with_women": report.coverage.never_consulted_with_women.len(),
        "setup_s": round1(setup_s),
    });
    println!("{line}");
    Ok(())
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// The calendar month before today's (UTC): every session of it lies in the past.
fn previous_month() -> Month {
    let today = Utc::now().date_naive();
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    Month::of(first - Duration::days(1))
}

struct Mission {
    teams: Vec<Team>,
    communities: Vec<Community>,
    checklist: ChecklistTemplate,
    referral_service: ReferralServiceId,
    team_devices: Vec<Device>,
    reviewers: BTreeMap<String, Device>,
}

/// The one key every bench device signs with (a benchmark, not a mission).
fn bench_key() -> SigningKey {
    SigningKey::from_seed(&[7; 32])
}

/// `changes` signed by `device`, as its core would sign them.
fn signed(changes: &[PushChange], device: &Device) -> Vec<PushChange> {
    let key = bench_key();
    changes
        .iter()
        .map(|c| {
            let hash = c.record.hash();
            PushChange::signed(
                c.record.clone(),
                &hash,
                c.base_hash.clone(),
                &device.id,
                &key,
            )
        })
        .collect()
}

fn enrol(storage: &SqliteStorage, role: Role, label: &str) -> Result<Device, Error> {
    let now = Utc::now();
    let code = issue_enrolment_code(storage, &role, Duration::hours(1), now)?;
    let token = new_token()?;
    storage
        .enrol(
            &secret_hash(&canonical_code(&code)),
            label,
            &secret_hash(&token),
            &bench_key().public_key(),
            now,
        )?
        .ok_or_else(|| "enrolment refused a fresh code".into())
}

fn build_mission(storage: &SqliteStorage, args: &Args) -> Result<Mission, Error> {
    let mut teams = Vec::new();
    for i in 0..args.teams {
        let sector = SECTORS[i % SECTORS.len()];
        teams.push(admin::add_team(
            storage,
            &format!("Engagement Team {}", i + 1),
            sector,
        )?);
    }
    let inputs: Vec<CommunityInput> = (0..args.communities)
        .map(|i| CommunityInput {
            name: PLACES[i % PLACES.len()].to_owned(),
            admin_area: format!("District {}", 1 + i / PLACES.len()),
            location: None,
        })
        .collect();
    let communities = admin::import_communities(storage, &inputs)?;
    let checklist = ChecklistTemplate::default_v1();
    admin::publish_checklist(storage, &checklist)?;
    let service = admin::add_referral_service(
        storage,
        "Women's protection centre",
        ReferralServiceKind::Psychosocial,
        "Mission area",
    )?;
    let team_devices = teams
        .iter()
        .map(|t| {
            enrol(
                storage,
                Role::TeamMember { team_id: t.id },
                &format!("tablet {}", t.name),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut reviewers = BTreeMap::new();
    for s in SECTORS {
        let role = Role::Reviewer {
            sector: s.to_owned(),
        };
        reviewers.insert(s.to_owned(), enrol(storage, role, &format!("gfp {s}"))?);
    }
    Ok(Mission {
        teams,
        communities,
        checklist,
        referral_service: service.id,
        team_devices,
        reviewers,
    })
}

struct Figures {
    sessions: usize,
    visits: usize,
    accepted: usize,
    returned: usize,
    pending: usize,
}

/// Generates and stores the month: visits and sessions pushed by each team's device, then
/// reviews pushed by each sector's reviewer.
fn store_month(
    storage: &SqliteStorage,
    mission: &Mission,
    month: Month,
    n: usize,
    rng: &mut Rng,
) -> Result<Figures, Error> {
    let offset = FixedOffset::east_opt(3 * 3600).ok_or("offset")?;
    let days = (1..=31)
        .filter(|d| NaiveDate::from_ymd_opt(month.year(), month.month(), *d).is_some())
        .count();
    // Per team: its changes in push order (each visit before its sessions).
    let mut by_team: Vec<Vec<PushChange>> = vec![Vec::new(); mission.teams.len()];
    let mut sessions: Vec<(usize, Session)> = Vec::new();
    // Deterministic, like the rest of the generated month; the server never holds its secret.
    let gender_unit = RecipientSecret::derive(b"reportbench gender unit key, 32+ bytes of ikm")
        .public_key()
        .clone();
    let mut visits = 0;
    while sessions.len() < n {
        let team = rng.below(mission.teams.len());
        let community_index = rng.below(mission.communities.len());
        let community = &mission.communities[community_index];
        let day = 1 + rng.below(days) as u32;
        let start = offset
            .with_ymd_and_hms(
                month.year(),
                month.month(),
                day,
                7 + rng.below(6) as u32,
                rng.below(60) as u32,
                0,
            )
            .single()
            .ok_or("a local time that does not exist")?;
        let mut visit = Visit {
            id: VisitId::new(),
            team_id: mission.teams[team].id,
            community_id: community.id,
            started_at: start,
            ended_at: Some(start + Duration::hours(5)),
            notes: if rng.below(3) == 0 {
                sentence(rng, 8, 20)
            } else {
                String::new()
            },
        };
        visit.normalize();
        by_team[team].push(PushChange {
            record: Record::Visit(visit.clone()),
            base_hash: None,
            nonce: None,
            signature: None,
        });
        visits += 1;
        // One community in twelve is never reached with women separately (where elders
        // refuse it, say), so the report's "never consulted with women" list is not empty.
        let groups: &[Group] = match rng.below(20) {
            _ if community_index.is_multiple_of(12) => &[Group::Men, Group::Mixed],
            0..=13 => &[Group::Women, Group::Men],
            14..=16 => &[Group::Women, Group::Men, Group::Mixed],
            17..=18 => &[Group::Mixed],
            _ => &[Group::Men],
        };
        for (i, group) in groups.iter().enumerate() {
            if sessions.len() >= n {
                break;
            }
            let s_start = start + Duration::minutes(30 + 90 * i as i64);
            let mut s = realistic_session(rng, &mission.checklist, visit.id, *group, s_start);
            if *group == Group::Mixed {
                s.participants.female.age_18_29 = 1 + rng.below(8) as u32;
                s.participants.female.age_30_59 = rng.below(8) as u32;
            }
            // Sealed to the gender unit's key, as a device does at submission: the referral's
            // service, and stand-in note text of a note's size.
            let id = s.id.to_string();
            if rng.below(33) == 0 {
                let service = seal(
                    &mission.referral_service.to_string(),
                    &SealContext::referral_service(&id),
                    std::slice::from_ref(&gender_unit),
                )
                .map_err(|_| "seal")?;
                s.referral = Some(Referral {
                    service_id: None,
                    sealed_service_id: Some(service),
                });
            }
            let ctx = SealContext {
                kind: "session",
                id: &id,
                field: "sensitive_note",
            };
            s.sealed_note = Some(
                seal(
                    &sentence(rng, 10, 30),
                    &ctx,
                    std::slice::from_ref(&gender_unit),
                )
                .map_err(|_| "seal")?,
            );
            s.status = Status::Submitted;
            s.normalize();
            by_team[team].push(PushChange {
                record: Record::Session(Box::new(s.clone())),
                base_hash: None,
                nonce: None,
                signature: None,
            });
            sessions.push((team, s));
        }
    }
    let now = Utc::now();
    for (team, changes) in by_team.iter().enumerate() {
        for batch in changes.chunks(400) {
            let device = &mission.team_devices[team];
            check_acks(storage.push(device, &signed(batch, device), now)?)?;
        }
    }
    let mut reviews: BTreeMap<&str, Vec<PushChange>> = BTreeMap::new();
    let (mut accepted, mut returned, mut pending) = (0, 0, 0);
    for (team, s) in &sessions {
        let decision = match rng.below(20) {
            0..=16 => Decision::Accepted,
            17 => Decision::Returned,
            _ => {
                pending += 1;
                continue;
            }
        };
        match decision {
            Decision::Accepted => accepted += 1,
            Decision::Returned => returned += 1,
        }
        let sector = mission.teams[*team].sector.as_str();
        reviews.entry(sector).or_default().push(PushChange {
            record: Record::Review(Review {
                id: ReviewId::new(),
                session_id: s.id,
                reviewer: format!("gfp-{}", sector.to_lowercase()),
                decision,
                comment: if decision == Decision::Returned {
                    "Please add the facilitators and the interpreter.".to_owned()
                } else {
                    String::new()
                },
                at: (now - Duration::hours(1)).fixed_offset(),
            }),
            base_hash: None,
            nonce: None,
            signature: None,
        });
    }
    for (sector, changes) in &reviews {
        let reviewer = mission
            .reviewers
            .get(*sector)
            .ok_or("no reviewer for a sector")?;
        for batch in changes.chunks(400) {
            check_acks(storage.push(reviewer, &signed(batch, reviewer), now)?)?;
        }
    }
    Ok(Figures {
        sessions: sessions.len(),
        visits,
        accepted,
        returned,
        pending,
    })
}

fn check_acks(acks: Vec<fieldconsult_model::wire::Ack>) -> Result<(), Error> {
    for a in acks {
        if let AckOutcome::Rejected { reason, problems } = &a.outcome {
            return Err(format!("the server refused a {}: {reason} {problems:?}", a.kind).into());
        }
        if a.outcome == AckOutcome::Conflict {
            return Err(format!("a {} conflicted", a.kind).into());
        }
    }
    Ok(())
}
