//! A tour of the FieldConsult device core: one patrol, two visits, three sessions, a review.
//!
//! ```text
//! cargo run --release -p fieldconsult-core --example patrol            # temp store, deleted at exit
//! cargo run --release -p fieldconsult-core --example patrol -- --keep  # keep the encrypted file
//! ```
//!
//! It opens an encrypted store, loads the reference data a mission server would publish, lets
//! a patrol record a women's, a men's and a mixed session, sends one back and forth through a
//! gender focal point's review, and prints the reports that come out of it.

use std::collections::BTreeSet;
use std::error::Error;
use std::io::Read;

use chrono::{Duration, FixedOffset, Utc};
use fieldconsult_core::{DatabaseKey, SessionFilter, Store};
use fieldconsult_model::report::{GroupBy, PriorityKey, PriorityStat};
use fieldconsult_model::*;

fn main() -> Result<(), Box<dyn Error>> {
    // 1. An encrypted store. On a phone the 32-byte key comes from the Android Keystore or the
    //    iOS Keychain; here, 244 random bits from two UUIDv4s stand in for it.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("fieldconsult.db");
    let mut raw = zeroize::Zeroizing::new([0u8; 32]);
    raw[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    raw[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let store = Store::open(&path, &DatabaseKey::from_bytes(&raw[..])?)?;

    // 2. Reference data, as the mission server publishes it.
    let team = Team {
        id: TeamId::new(),
        name: "Engagement Team 3".into(),
        sector: "Sector East".into(),
    };
    let place = |name: &str, lat, lon| Community {
        id: CommunityId::new(),
        name: name.into(),
        admin_area: "Yei County".into(),
        location: Some(Location { lat, lon }),
    };
    let (kajo, morobo) = (
        place("Kajo Keji", 3.8512, 31.6573),
        place("Morobo", 3.6942, 30.7681),
    );
    let clinic = ReferralService {
        id: ReferralServiceId::new(),
        name: "Yei Women's Health Centre".into(),
        kind: ReferralServiceKind::Health,
        area: "Yei County".into(),
    };
    let checklist = ChecklistTemplate::default_v1();
    store.upsert_teams(std::slice::from_ref(&team))?;
    store.upsert_communities(&[kajo.clone(), morobo.clone()])?;
    store.upsert_referral_services(std::slice::from_ref(&clinic))?;
    store.publish_checklist(&checklist)?;

    // 3. The patrol records. Times carry the local offset (East Africa, UTC+3).
    let member = Actor {
        id: "device-7f3a".into(),
        role: Role::TeamMember { team_id: team.id },
    };
    let focal_point = Actor {
        id: "gfp-east-1".into(),
        role: Role::Reviewer {
            sector: team.sector.clone(),
        },
    };
    let local = FixedOffset::east_opt(3 * 3600).ok_or("bad offset")?;
    let ago = |hours: i64| (Utc::now() - Duration::hours(hours)).with_timezone(&local);
    let visit1 = store.save_visit(
        &member,
        &Visit {
            id: VisitId::new(),
            team_id: team.id,
            community_id: kajo.id,
            started_at: ago(6),
            ended_at: Some(ago(3)),
            notes: "Market day; many men away.".into(),
        },
    )?;
    let visit2 = store.save_visit(
        &member,
        &Visit {
            id: VisitId::new(),
            team_id: team.id,
            community_id: morobo.id,
            started_at: ago(2),
            ended_at: None,
            notes: String::new(),
        },
    )?;

    let mut women = session(&checklist, visit1.id, Group::Women, ago(6), ago(5));
    women.participants.female = AgeCounts {
        age_12_17: 3,
        age_18_29: 8,
        age_30_59: 11,
        age_60_plus: 4,
        unknown: 0,
    };
    women.participants.undisclosed.unknown = 1;
    women.facilitators = Facilitators { female: 1, male: 1 };
    women.interpreter = Interpreter {
        sex: InterpreterSex::Female,
        language: "Bari".into(),
    };
    women.setting = Setting::Private;
    women.focus = BTreeSet::from([FocusTag::Elderly, FocusTag::Youth]);
    women.priorities = ranked(&[
        PriorityCategory::Water,
        PriorityCategory::SafeMovement,
        PriorityCategory::FuelAndFirewood,
        PriorityCategory::Health,
        PriorityCategory::Schools,
    ]);
    women.concerns = vec![
        concern(
            ConcernCategory::SexualViolenceRisk,
            &[AffectedGroup::Women, AffectedGroup::Girls],
            "path to the firewood area",
            "early mornings",
            Urgency::Urgent,
        ),
        concern(
            ConcernCategory::MovementRestriction,
            &[AffectedGroup::Women],
            "checkpoint on the Yei road",
            "since the harvest",
            Urgency::Routine,
        ),
    ];
    women.referral = Some(Referral {
        service_id: clinic.id,
    }); // offered; never the details

    let mut men = session(&checklist, visit1.id, Group::Men, ago(5), ago(4));
    men.participants.male = AgeCounts {
        age_12_17: 2,
        age_18_29: 6,
        age_30_59: 9,
        age_60_plus: 5,
        unknown: 1,
    };
    men.facilitators = Facilitators { female: 0, male: 2 };
    men.interpreter = Interpreter {
        sex: InterpreterSex::Male,
        language: "Bari".into(),
    };
    men.priorities = ranked(&[
        PriorityCategory::SecurityAndProtection,
        PriorityCategory::LivelihoodsAndWork,
        PriorityCategory::Water,
        PriorityCategory::ReturnAndLand,
        PriorityCategory::Schools,
    ]);
    men.concerns = vec![
        concern(
            ConcernCategory::ArmedGroupPresence,
            &[AffectedGroup::Men, AffectedGroup::Boys],
            "river crossing",
            "last two nights",
            Urgency::Priority,
        ),
        concern(
            ConcernCategory::ChildRecruitment,
            &[AffectedGroup::Boys],
            "cattle camps",
            "this month",
            Urgency::Priority,
        ),
    ];

    let mut mixed = session(&checklist, visit2.id, Group::Mixed, ago(2), ago(1));
    mixed.participants.female.age_30_59 = 7;
    mixed.participants.male = AgeCounts {
        age_18_29: 4,
        age_30_59: 6,
        ..AgeCounts::default()
    };
    mixed.facilitators = Facilitators { female: 1, male: 1 };
    mixed.priorities = ranked(&[
        PriorityCategory::Schools,
        PriorityCategory::Health,
        PriorityCategory::Water,
    ]);
    mixed.concerns = vec![concern(
        ConcernCategory::IntercommunalTension,
        &[AffectedGroup::Women, AffectedGroup::Men],
        "grazing land",
        "dry season",
        Urgency::Routine,
    )];

    for s in [&women, &men, &mixed] {
        store.save_session(&member, s)?; // a draft: validated, encrypted, durable
        store.submit_session(&member, &s.id)?; // complete: consent, end time, required topics
    }

    // 4. The focal point returns the men's session; the team completes it and resubmits.
    store.record_review(
        &focal_point,
        &men.id,
        Decision::Returned,
        "Who was not in the room? Please say whether youth and elderly men attended.",
    )?;
    let mut returned = store.get_session(&men.id)?.session;
    if let Some(a) = returned
        .answers
        .iter_mut()
        .find(|a| a.topic == "who_was_missing")
    {
        a.note = "Young men away at the cattle camps; elderly men attended.".into();
    }
    store.save_session(&member, &returned)?;
    store.submit_session(&member, &men.id)?;
    for s in [&women, &men, &mixed] {
        store.record_review(&focal_point, &s.id, Decision::Accepted, "")?;
    }
    let steps: Vec<String> = store
        .history(&men.id.to_string())?
        .into_iter()
        .map(|h| h.action)
        .collect();
    println!("FieldConsult patrol demo: 2 visits, 3 sessions, all accepted");
    println!("history of the returned session: {}\n", steps.join(" → "));

    // 5. Reports.
    let by_visit = SessionFilter {
        visit_id: Some(visit1.id),
        ..SessionFilter::default()
    };
    let cmp = store.paired_comparison(&by_visit)?;
    println!(
        "== Paired comparison, visit 1 ({}; {} women's, {} men's session) ==",
        kajo.name, cmp.women_sessions, cmp.men_sessions
    );
    let rank = |s: Option<PriorityStat>| s.map_or("–".to_string(), |s| s.best_rank.to_string());
    let rows = cmp
        .priorities
        .iter()
        .map(|r| vec![key(&r.key), rank(r.women), rank(r.men)])
        .collect();
    print_table(&["Priority", "Women's rank", "Men's rank"], rows);
    let list = |keys: &[PriorityKey]| keys.iter().map(key).collect::<Vec<_>>().join(", ");
    println!("Raised only by women: {}", list(&cmp.only_women));
    println!("Raised only by men:   {}\n", list(&cmp.only_men));
    let rows = cmp
        .concerns
        .iter()
        .map(|c| {
            vec![
                c.affected.label(Language::En).to_string(),
                c.raised_by_women.to_string(),
                c.raised_by_men.to_string(),
                c.urgent.to_string(),
            ]
        })
        .collect();
    print_table(
        &[
            "Concerns affecting",
            "Raised by women",
            "Raised by men",
            "Urgent",
        ],
        rows,
    );

    let table = store.participation_table(&SessionFilter::default(), GroupBy::Overall)?;
    println!(
        "\n== Participants by sex and age, all visits ({} sessions) ==",
        table.total.sessions
    );
    let mut header = vec!["Sex"];
    header.extend(AgeBand::ALL.iter().map(|b| b.label()));
    header.push("Total");
    let t = &table.total;
    let mut rows: Vec<Vec<String>> = [
        ("Female", Sex::Female),
        ("Male", Sex::Male),
        ("Undisclosed", Sex::Undisclosed),
    ]
    .into_iter()
    .map(|(label, sex)| {
        let mut row = vec![label.to_string()];
        row.extend(t.of(sex).iter().map(u64::to_string));
        row.push(t.total_of(sex).to_string());
        row
    })
    .collect();
    let mut total = vec!["Total".to_string()];
    total.extend(AgeBand::ALL.iter().map(|b| t.total_of_band(*b).to_string()));
    total.push(t.total().to_string());
    rows.push(total);
    print_table(&header, rows);
    let c = &table.coverage;
    let pct = |s: Option<f64>| s.map_or("n/a".to_string(), |s| format!("{:.0}%", s * 100.0));
    println!(
        "Visits with a separate women's session: {} of {} ({})",
        c.visits_with_women_session,
        c.visits,
        pct(c.women_session_share())
    );
    println!(
        "Sessions with a woman facilitator:      {} of {} ({})",
        c.sessions_with_woman_facilitator,
        c.sessions,
        pct(c.woman_facilitator_share())
    );
    println!(
        "Interpreters: {} female, {} male, {} sessions without",
        c.interpreters_female, c.interpreters_male, c.interpreters_none
    );

    // 6. Device state: badges, what waits for sync, and the file on disk.
    let b = store.badge_counts()?;
    println!("\n== Device ==");
    println!(
        "Badges: {} drafts, {} returned, {} urgent not yet synced",
        b.drafts, b.returned, b.urgent_unsynced
    );
    println!(
        "Outbox: {} records waiting to be pushed (urgent first)",
        store.pending_count()?
    );
    store.checkpoint()?;
    let mut head = [0u8; 16];
    std::fs::File::open(&path)?.read_exact(&mut head)?;
    if &head == b"SQLite format 3\0" {
        return Err("the database file is not encrypted".into());
    }
    let hex: String = head.iter().map(|b| format!("{b:02x}")).collect();
    println!("Database: {}", path.display());
    println!("First 16 bytes: {hex} (not \"SQLite format 3\\0\": encrypted)");
    let wrong = DatabaseKey::from_bytes(&[7u8; 32])?;
    match Store::open(&path, &wrong) {
        Err(e) => println!("Opening it with another key: {e}"),
        Ok(_) => return Err("a wrong key opened the store".into()),
    }
    if std::env::args().any(|a| a == "--keep") {
        println!("Kept: {}", dir.keep().display());
    } else {
        store.wipe()?; // deletes the database and its -wal/-shm/-journal files
        println!("Wiped (run with -- --keep to keep the file).");
    }
    Ok(())
}

/// A session of `group` that answers every topic of `checklist`, with consent and end time.
fn session(
    checklist: &ChecklistTemplate,
    visit: VisitId,
    group: Group,
    start: Timestamp,
    end: Timestamp,
) -> Session {
    let mut s = Session::new_draft(visit, group, start);
    s.ended_at = Some(end);
    s.consent.verbal_informed = true;
    s.checklist_version = checklist.version;
    s.answers = checklist
        .topics
        .iter()
        .map(|t| ChecklistAnswer {
            topic: t.code.clone(),
            response: TopicResponse::Discussed,
            note: String::new(),
        })
        .collect();
    s
}

/// Priorities ranked 1, 2, ... in the order given.
fn ranked(categories: &[PriorityCategory]) -> Vec<Priority> {
    (1u8..)
        .zip(categories)
        .map(|(rank, c)| Priority {
            rank,
            category: *c,
            other_label: String::new(),
            note: String::new(),
        })
        .collect()
}

fn concern(
    category: ConcernCategory,
    affected: &[AffectedGroup],
    location: &str,
    timing: &str,
    urgency: Urgency,
) -> Concern {
    Concern {
        category,
        affected: affected.iter().copied().collect(),
        location: location.into(),
        timing: timing.into(),
        urgency,
        note: String::new(), // sexual-violence risk never carries details
    }
}

/// The English label of a priority.
fn key(k: &PriorityKey) -> String {
    match k {
        PriorityKey::Category(c) => c.label(Language::En).to_string(),
        PriorityKey::Other(label) => label.clone(),
    }
}

/// Prints an aligned plain-text table: first column left-aligned, the others right-aligned.
fn print_table(header: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let cells: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        println!("  {}", cells.join("  "));
    };
    line(header.iter().map(|h| h.to_string()).collect());
    println!(
        "  {}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  ")
    );
    rows.into_iter().for_each(line);
}
