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
use fieldconsult_model::report::{GroupBy, text};
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
    // The sector focal point's public key: submission seals the service a referral went to
    // (and any sensitive note) to it. On a real phone it arrives in a signed bundle; here a
    // key pair made on the spot stands in for the focal point's device.
    let focal_point_key = RecipientSecret::generate()?;
    store.upsert_sealing_keys(&[SealingKeys {
        sector: team.sector.clone(),
        focal_point_keys: vec![focal_point_key.public_key().clone()],
        escrow_key: None,
    }])?;

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

    use {AffectedGroup as A, ConcernCategory as C, PriorityCategory as P, Urgency as U};
    let mut women = session(&checklist, visit1.id, Group::Women, ago(6), ago(5));
    women.participants.female = AgeCounts::from_bands([3, 8, 11, 4, 0]);
    women.participants.undisclosed = AgeCounts::from_bands([0, 0, 0, 0, 1]);
    women.facilitators = Facilitators { female: 1, male: 1 }; // a woman in the team
    women.interpreter = interpreter(InterpreterSex::Female, "Bari");
    women.setting = Setting::Private;
    women.focus = BTreeSet::from([FocusTag::Elderly, FocusTag::Youth]);
    women.priorities = Priority::ranked(&[
        P::Water,
        P::SafeMovement,
        P::FuelAndFirewood,
        P::Health,
        P::Schools,
    ]);
    women.concerns = vec![
        concern(
            C::SexualViolenceRisk,
            &[A::Women, A::Girls],
            U::Urgent,
            "firewood path, at dawn",
        ),
        concern(
            C::MovementRestriction,
            &[A::Women],
            U::Routine,
            "Yei road checkpoint",
        ),
    ];
    // A disclosure is never recorded: only that a referral was offered, and to which service.
    women.referral = Some(Referral::to(clinic.id));

    let mut men = session(&checklist, visit1.id, Group::Men, ago(5), ago(4));
    men.participants.male = AgeCounts::from_bands([2, 6, 9, 5, 1]);
    men.facilitators = Facilitators { female: 0, male: 2 };
    men.interpreter = interpreter(InterpreterSex::Male, "Bari");
    men.priorities = Priority::ranked(&[
        P::SecurityAndProtection,
        P::LivelihoodsAndWork,
        P::Water,
        P::ReturnAndLand,
        P::Schools,
    ]);
    men.concerns = vec![
        concern(
            C::ArmedGroupPresence,
            &[A::Men, A::Boys],
            U::Priority,
            "river crossing, at night",
        ),
        concern(
            C::ChildRecruitment,
            &[A::Boys],
            U::Priority,
            "cattle camps, this month",
        ),
    ];

    let mut mixed = session(&checklist, visit2.id, Group::Mixed, ago(2), ago(1));
    mixed.participants.female = AgeCounts::from_bands([0, 0, 7, 0, 0]);
    mixed.participants.male = AgeCounts::from_bands([0, 4, 6, 0, 0]);
    mixed.facilitators = Facilitators { female: 1, male: 1 };
    mixed.priorities = Priority::ranked(&[P::Schools, P::Health, P::Water]);
    mixed.concerns = vec![concern(
        C::IntercommunalTension,
        &[A::Women, A::Men],
        U::Routine,
        "grazing land",
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

    // 5. Reports, computed by fieldconsult-model exactly as the server computes them.
    let visit_filter = SessionFilter {
        visit_id: Some(visit1.id),
        ..SessionFilter::default()
    };
    let cmp = store.paired_comparison(&visit_filter)?;
    println!(
        "== Paired comparison, visit 1 to {} ({} women's, {} men's session) ==",
        kajo.name, cmp.women_sessions, cmp.men_sessions
    );
    print!("{}", text::paired_comparison(&cmp, Language::En));

    let table = store.participation_table(&SessionFilter::default(), GroupBy::Overall)?;
    let t = &table.total;
    println!(
        "\n== Participants by sex and age band, both visits ({} sessions) ==",
        t.sessions
    );
    print!(
        "{}{}",
        text::participation(t),
        text::coverage(&table.coverage)
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

/// A concern; `place_time` says where and when ("river crossing, at night"), never a home.
fn concern(
    category: ConcernCategory,
    affected: &[AffectedGroup],
    urgency: Urgency,
    place_time: &str,
) -> Concern {
    let (location, timing) = place_time.split_once(", ").unwrap_or((place_time, ""));
    Concern {
        category,
        affected: affected.iter().copied().collect(),
        location: location.into(),
        timing: timing.into(),
        urgency,
        note: String::new(), // sexual-violence risk never carries details
    }
}

fn interpreter(sex: InterpreterSex, language: &str) -> Interpreter {
    Interpreter {
        sex,
        language: language.into(),
    }
}
