//! `fieldconsult-server demo`: the whole path of a consultation, end to end, on this machine.
//!
//! It starts the real server (in-process, loopback, an embedded database in a temporary
//! folder), sets up a sector as a mission admin would, enrols two team devices and a gender
//! focal point's device (each a real encrypted device store with its own random key), has
//! the teams record women's, men's and a mixed session offline, syncs, has the focal point
//! return one session and accept the rest, lets the team fix it, and prints the paired
//! comparison and the participation table **computed on the server** from what reached it
//! through sync (see [`crate::reports`]). Everything is deleted at exit.
//!
//! This is the only part of the server that uses `fieldconsult-core` (the device side).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, FixedOffset, Utc};
use fieldconsult_core::{DatabaseKey, HttpsTransport, NoProgress, Store, SyncReport, SyncState};
use fieldconsult_model::report::monthly::RankedPriority;
use fieldconsult_model::report::{GroupBy, Month, ReportOptions, ReportScope, text};
use fieldconsult_model::wire::Record;
use fieldconsult_model::{
    Actor, AffectedGroup, AgeCounts, ChecklistAnswer, ChecklistTemplate, Community, Concern,
    ConcernCategory, Decision, Facilitators, FocusTag, Group, Interpreter, InterpreterSex,
    Language, Priority, PriorityCategory, Referral, ReferralServiceKind, Role, Session, SessionId,
    Setting, Status, Team, Timestamp, TopicResponse, Urgency, Visit, VisitId,
};

use crate::admin::{self, CommunityInput};
use crate::reports::{self, ReportFilter};
use crate::storage::{SqliteStorage, Storage};

/// Why the demo stopped. The message says which step failed; a failure in a sync or a
/// device-store step points at a bug in the server or the core, not in the demo's data.
#[derive(Debug, thiserror::Error)]
#[error("demo step \"{step}\" failed: {detail}")]
pub struct DemoError {
    step: String,
    detail: String,
}

fn fail(step: &str, detail: impl std::fmt::Display) -> DemoError {
    DemoError {
        step: step.to_owned(),
        detail: detail.to_string(),
    }
}

/// Wraps any error with the step it happened in.
trait Step<T> {
    fn step(self, step: &str) -> Result<T, DemoError>;
}

impl<T, E: std::fmt::Display> Step<T> for Result<T, E> {
    fn step(self, step: &str) -> Result<T, DemoError> {
        self.map_err(|e| fail(step, e))
    }
}

/// A device: its encrypted store, who it is, and a running tally of its syncs.
struct Device {
    name: &'static str,
    store: Store,
    actor: Actor,
}

/// Runs the demo, printing to stdout. Everything it creates lives in a temporary folder that
/// is deleted when it returns.
pub fn run() -> Result<(), DemoError> {
    let dir = tempfile::tempdir().step("create a temporary folder")?;
    println!("FieldConsult demo: a mission server and three devices, all on this machine.");
    println!(
        "Temporary folder (deleted at exit): {}\n",
        dir.path().display()
    );

    // 1. The mission server, with its embedded database, on a loopback port.
    let storage =
        Arc::new(SqliteStorage::open(&dir.path().join("server.db")).step("open the server db")?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .step("start the server runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(SocketAddr::from((
            [127, 0, 0, 1],
            0,
        ))))
        .step("listen on 127.0.0.1")?;
    let addr = listener.local_addr().step("read the server address")?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(crate::app::serve(
        storage.clone() as Arc<dyn Storage>,
        listener,
        async move {
            // Either a send or a dropped sender means: stop.
            let _ = stopped.await;
        },
    ));
    println!("== 1. Server ==");
    println!("Listening on http://{addr} (embedded SQLite database in the temporary folder)");

    // The device side runs on this (non-runtime) thread: device syncs are blocking calls.
    let result = scenario(storage.as_ref(), &format!("http://{addr}"), dir.path());

    let _ = stop.send(());
    match runtime.block_on(server) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(fail("stop the server", e)),
        Err(e) => return Err(fail("stop the server", e)),
    }
    if let Err(e) = &result {
        println!("\nTHE DEMO STOPPED: {e}");
        println!(
            "This is a bug in the server or the device core if it happened in a sync or a \
             device step; the data above is what got through."
        );
    }
    result
}

/// The scenario, from the admin's setup to the reports.
fn scenario(storage: &dyn Storage, url: &str, dir: &Path) -> Result<(), DemoError> {
    // 2. The mission admin sets up one sector.
    let sector = "Sector West";
    let team3 = admin::add_team(storage, "Engagement Team 3", sector).step("add team 3")?;
    let team5 = admin::add_team(storage, "Engagement Team 5", sector).step("add team 5")?;
    let place = |name: &str, lat, lon| CommunityInput {
        name: name.to_owned(),
        admin_area: "Yei County".to_owned(),
        location: Some(fieldconsult_model::Location { lat, lon }),
    };
    let communities = admin::import_communities(
        storage,
        &[
            place("Kajo Keji", 3.8512, 31.6573),
            place("Morobo", 3.6942, 30.7681),
            place("Lainya", 4.3511, 30.9542),
        ],
    )
    .step("import communities")?;
    let [kajo, morobo, lainya] = <[Community; 3]>::try_from(communities)
        .map_err(|_| fail("import communities", "expected three communities"))?;
    let checklist = ChecklistTemplate::default_v1();
    admin::publish_checklist(storage, &checklist).step("publish the checklist")?;
    let clinic = admin::add_referral_service(
        storage,
        "Yei Women's Health Centre",
        ReferralServiceKind::Health,
        "Yei County",
    )
    .step("add a referral service")?;
    println!("\n== 2. Mission admin ==");
    println!(
        "Sector \"{sector}\": teams \"{}\" and \"{}\"",
        team3.name, team5.name
    );
    println!(
        "Communities: {}, {}, {}; checklist version {}; referral service: {}",
        kajo.name, morobo.name, lainya.name, checklist.version, clinic.name
    );
    // The mission root key signs the reference data; devices pin it at enrolment (its
    // fingerprint comes with the enrolment QR code) and take reference data only from
    // bundles it signed. On a mission its file stays on the admin's machine.
    let root_file = dir.join("mission-root.key");
    let root_public =
        crate::bundle::generate_root_key(&root_file).step("generate the mission root key")?;
    let root = crate::bundle::read_root_key(&root_file).step("read the mission root key")?;
    let bundle = crate::bundle::sign_bundle(storage, &root).step("sign the reference data")?;
    let fingerprint = root_public.fingerprint();
    println!(
        "Reference data signed as bundle {} ({} records) by the mission root key {}…",
        bundle.sequence,
        bundle.records.len(),
        &fingerprint[..16]
    );

    // 3. Enrolment: one-time codes, each used by one device.
    let transport = HttpsTransport::new(url).step("create the HTTP transport")?;
    let team_role = |t: &Team| Role::TeamMember { team_id: t.id };
    let reviewer_role = Role::Reviewer {
        sector: sector.to_owned(),
    };
    println!("\n== 3. Enrolment (one-time codes; each device has its own encrypted store) ==");
    let phone3 = enrol(
        storage,
        &transport,
        dir,
        "Team 3 tablet",
        &team_role(&team3),
        &fingerprint,
    )?;
    let phone5 = enrol(
        storage,
        &transport,
        dir,
        "Team 5 tablet",
        &team_role(&team5),
        &fingerprint,
    )?;
    let gfp = enrol(
        storage,
        &transport,
        dir,
        "Gender focal point, Sector West",
        &reviewer_role,
        &fingerprint,
    )?;

    // The focal point's phone made its sealing key pair; the admin registers the public half
    // for the sector and signs the reference data again, so that the teams' phones (which
    // take keys only from bundles the root key signed) seal women's notes to it.
    let gfp_key = gfp
        .store
        .sealing_public_key()
        .step("read the focal point's sealing key")?;
    admin::set_sealing_keys(storage, sector, vec![gfp_key.clone()], None)
        .step("register the focal point's sealing key")?;
    let bundle = crate::bundle::sign_bundle(storage, &root).step("sign the reference data")?;
    println!(
        "The focal point's sealing key {} is registered for sector \"{sector}\"; reference data \
         signed again as bundle {}",
        gfp_key.key_id(),
        bundle.sequence
    );

    println!("\n== 4. Before the patrol: each device downloads the reference data ==");
    for d in [&phone3, &phone5, &gfp] {
        sync(d, &transport, "reference data")?;
    }

    // 4. On patrol, offline: nothing is sent until the devices sync.
    let local = FixedOffset::east_opt(3 * 3600).ok_or_else(|| fail("time zone", "offset"))?;
    let ago = |hours: i64| (Utc::now() - Duration::hours(hours)).with_timezone(&local);
    use {AffectedGroup as A, ConcernCategory as C, PriorityCategory as P, Urgency as U};

    let v1 = save_visit(&phone3, &team3, &kajo, ago(8), Some(ago(5)))?;
    let mut w1 = session(&checklist, v1, Group::Women, ago(8), ago(7));
    w1.participants.female = AgeCounts::from_bands([3, 8, 11, 4, 0]);
    w1.participants.undisclosed = AgeCounts::from_bands([0, 0, 0, 0, 1]);
    w1.facilitators = Facilitators { female: 1, male: 1 };
    w1.interpreter = interpreter(InterpreterSex::Female, "Bari");
    w1.setting = Setting::Private;
    w1.focus = BTreeSet::from([FocusTag::Elderly, FocusTag::Youth]);
    w1.priorities = Priority::ranked(&[
        P::Water,
        P::SafeMovement,
        P::FuelAndFirewood,
        P::Health,
        P::Schools,
    ]);
    w1.concerns = vec![
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
    // Free text for the gender unit only: sealed to the focal point's key at submission.
    w1.sensitive_note =
        "A woman asked to speak privately to a female officer about the checkpoint at the well."
            .into();
    // A disclosure is never recorded: only that a referral was offered, and to which service
    // (itself sealed at submission, since the service can say what was disclosed).
    w1.referral = Some(Referral::to(clinic.id));
    let mut m1 = session(&checklist, v1, Group::Men, ago(7), ago(6));
    m1.participants.male = AgeCounts::from_bands([2, 6, 9, 5, 1]);
    m1.facilitators = Facilitators { female: 0, male: 2 };
    m1.interpreter = interpreter(InterpreterSex::Male, "Bari");
    m1.setting = Setting::CommunitySpace;
    m1.priorities = Priority::ranked(&[
        P::SecurityAndProtection,
        P::LivelihoodsAndWork,
        P::Water,
        P::ReturnAndLand,
        P::Schools,
    ]);
    m1.concerns = vec![
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
    // The session the focal point will return: "who was missing" was not raised.
    if let Some(a) = m1.answers.iter_mut().find(|a| a.topic == "who_was_missing") {
        a.response = TopicResponse::NotRaised;
    }

    let v2 = save_visit(&phone3, &team3, &morobo, ago(4), Some(ago(2)))?;
    let mut x2 = session(&checklist, v2, Group::Mixed, ago(4), ago(3));
    x2.participants.female = AgeCounts::from_bands([0, 0, 7, 0, 0]);
    x2.participants.male = AgeCounts::from_bands([0, 4, 6, 0, 0]);
    x2.facilitators = Facilitators { female: 1, male: 1 };
    x2.setting = Setting::CommunitySpace;
    x2.priorities = Priority::ranked(&[P::Schools, P::Health, P::Water]);
    x2.concerns = vec![concern(
        C::IntercommunalTension,
        &[A::Women, A::Men],
        U::Routine,
        "grazing land",
    )];

    let v3 = save_visit(&phone5, &team5, &lainya, ago(9), Some(ago(6)))?;
    let mut w3 = session(&checklist, v3, Group::Women, ago(9), ago(8));
    w3.participants.female = AgeCounts::from_bands([5, 9, 6, 2, 0]);
    w3.facilitators = Facilitators { female: 2, male: 0 };
    w3.interpreter = interpreter(InterpreterSex::Female, "Kakwa");
    w3.setting = Setting::Private;
    w3.priorities = Priority::ranked(&[P::Food, P::Water, P::Documentation, P::Health]);
    w3.concerns = vec![concern(
        C::TheftAndLooting,
        &[A::Women, A::Elderly],
        U::Priority,
        "market road, on market days",
    )];
    let mut m3 = session(&checklist, v3, Group::Men, ago(8), ago(7));
    m3.participants.male = AgeCounts::from_bands([1, 7, 8, 3, 0]);
    m3.facilitators = Facilitators { female: 1, male: 1 };
    m3.interpreter = interpreter(InterpreterSex::Male, "Kakwa");
    m3.setting = Setting::CommunitySpace;
    m3.priorities = Priority::ranked(&[P::Food, P::Justice, P::LivelihoodsAndWork]);
    m3.concerns = vec![concern(
        C::LandOrResourceDispute,
        &[A::Men],
        U::Routine,
        "farmland by the river",
    )];

    for s in [&w1, &m1, &x2] {
        record(&phone3, s)?;
    }
    for s in [&w3, &m3] {
        record(&phone5, s)?;
    }
    println!("\n== 5. On patrol, offline ==");
    println!(
        "{}: visit to {} (a women's and a men's session), visit to {} (a mixed session)",
        phone3.name, kajo.name, morobo.name
    );
    println!(
        "{}: visit to {} (a women's and a men's session)",
        phone5.name, lainya.name
    );
    for d in [&phone3, &phone5] {
        println!(
            "{}: {} records waiting in the outbox (urgent concerns go first)",
            d.name,
            d.store.pending_count().step("count the outbox")?
        );
    }
    let unsynced = list_states(&phone3)?;
    println!("{}: sync state of its sessions: {unsynced}", phone3.name);

    println!("\n== 6. Back in range: the teams sync ==");
    sync(&phone3, &transport, "submit 3 sessions")?;
    sync(&phone5, &transport, "submit 2 sessions")?;
    println!(
        "{}: sync state of its sessions: {}",
        phone3.name,
        list_states(&phone3)?
    );

    let on_server = storage
        .get_record("session", &w1.id.to_string())
        .step("read the women's session on the server")?;
    // Each sealed field counts only if no plaintext of it is left beside it.
    let sealed_copies = |s: &Session| {
        let note = s
            .sealed_note
            .as_ref()
            .filter(|_| s.sensitive_note.is_empty());
        let service = s
            .referral
            .as_ref()
            .filter(|r| r.service_id.is_none())
            .and_then(|r| r.sealed_service_id.as_ref());
        (
            note.map_or(0, |n| n.copies.len()),
            service.map_or(0, |n| n.copies.len()),
        )
    };
    let on_server = match on_server.map(|r| r.record) {
        Some(Record::Session(s)) => sealed_copies(&s),
        _ => (0, 0),
    };
    let on_phone = phone3
        .store
        .get_session(&w1.id)
        .step("read the women's session on the team's phone")?;
    let on_phone = sealed_copies(&on_phone.session);
    if on_server.0 == 0 || on_server.1 == 0 || on_phone.0 == 0 || on_phone.1 == 0 {
        return Err(fail(
            "seal the sensitive fields",
            "the server or the team's phone still holds the note or the referral service in \
             plaintext",
        ));
    }
    println!(
        "The server holds the women's session's sensitive note and the service its referral \
         went to as {} sealed copy each (HPKE): no plaintext; {} can no longer read them either",
        on_server.0, phone3.name
    );

    println!("\n== 7. The gender focal point reviews ==");
    sync(&gfp, &transport, "receive the sector's sessions")?;
    let note = gfp
        .store
        .open_sensitive_note(&gfp.actor, &w1.id)
        .step("open the sealed note on the focal point's phone")?;
    println!(
        "{} opens the sealed note offline: \"{}\"",
        gfp.name,
        note.as_str()
    );
    let service = gfp
        .store
        .open_referral_service(&gfp.actor, &w1.id)
        .step("open the sealed referral service on the focal point's phone")?;
    let service = gfp
        .store
        .referral_services()
        .step("read the referral directory")?
        .into_iter()
        .find(|s| s.id == service)
        .map_or_else(|| "a service not in the directory".to_owned(), |s| s.name);
    println!(
        "{} opens the sealed referral service offline: the referral went to {service}; \
         the reports count only that a referral was offered",
        gfp.name
    );
    let comment = "Who was not in the room? Please say whether young and elderly men attended.";
    review(&gfp, &m1.id, Decision::Returned, comment)?;
    println!("Returned the men's session in {} with a comment", kajo.name);
    for s in [&w1, &x2, &w3, &m3] {
        review(&gfp, &s.id, Decision::Accepted, "")?;
    }
    println!("Accepted the other 4 sessions");
    sync(&gfp, &transport, "send 5 decisions")?;

    println!("\n== 8. Team 3 fixes the returned session ==");
    sync(&phone3, &transport, "receive the decisions")?;
    let returned = phone3
        .store
        .get_session(&m1.id)
        .step("read the returned session")?;
    if returned.session.status != Status::Returned {
        return Err(fail(
            "team 3 receives the return",
            format!(
                "the session is {:?} on the team's device, expected returned",
                returned.session.status
            ),
        ));
    }
    if let Some(r) = returned.reviews.last() {
        println!("{} sees: returned — \"{}\"", phone3.name, r.comment);
    }
    let mut fixed = returned.session;
    if let Some(a) = fixed
        .answers
        .iter_mut()
        .find(|a| a.topic == "who_was_missing")
    {
        a.response = TopicResponse::Discussed;
        a.note = "Young men away at the cattle camps; elderly men attended.".into();
    }
    phone3
        .store
        .save_session(&phone3.actor, &fixed)
        .step("save the fixed session")?;
    phone3
        .store
        .submit_session(&phone3.actor, &m1.id)
        .step("resubmit the fixed session")?;
    sync(&phone3, &transport, "resubmit")?;

    println!("\n== 9. The focal point accepts the fixed session ==");
    sync(&gfp, &transport, "receive the resubmission")?;
    review(&gfp, &m1.id, Decision::Accepted, "")?;
    sync(&gfp, &transport, "send the decision")?;
    sync(&phone3, &transport, "receive the decision")?;
    sync(&phone5, &transport, "receive the decisions")?;
    println!(
        "{}: sync state of its sessions: {}",
        phone3.name,
        list_states(&phone3)?
    );

    // 10. Reports, on the server, from what it stores.
    let accepted =
        reports::accepted_sessions(storage, &ReportFilter::default()).step("read the reports")?;
    if accepted.len() != 5 {
        return Err(fail(
            "check the server",
            format!(
                "the server holds {} accepted sessions, expected 5",
                accepted.len()
            ),
        ));
    }
    let filter = ReportFilter {
        visit_id: Some(v1),
        ..ReportFilter::default()
    };
    let cmp = reports::paired_comparison(storage, &filter).step("compute the comparison")?;
    println!(
        "\n== 10. Paired comparison, computed on the server: {} visit to {} ({} women's, {} men's session) ==",
        team3.name, kajo.name, cmp.women_sessions, cmp.men_sessions
    );
    print!("{}", text::paired_comparison(&cmp, Language::En));

    let table = reports::participation_table(storage, &ReportFilter::default(), GroupBy::Overall)
        .step("compute the participation table")?;
    let t = &table.total;
    println!(
        "\n== 11. Participants by sex and age band in {sector}, computed on the server ({} accepted sessions, {} visits) ==",
        t.sessions, table.coverage.visits
    );
    print!(
        "{}{}",
        text::participation(t),
        text::coverage(&table.coverage)
    );
    monthly_report(storage, &gfp, sector, w1.started_at, dir)?;
    println!(
        "\nEverything above went through real syncs over HTTP; the temporary folder is now deleted."
    );
    Ok(())
}

/// Step 12: the sector's monthly gender report, computed on the server and on the focal
/// point's phone from what each holds (the same numbers, or the demo fails), and rendered in
/// every format into the temporary folder.
fn monthly_report(
    storage: &dyn Storage,
    gfp: &Device,
    sector: &str,
    during: Timestamp,
    dir: &Path,
) -> Result<(), DemoError> {
    let month = Month::of(during.date_naive());
    let scope = ReportScope::Sector {
        sector: sector.to_owned(),
    };
    let options = ReportOptions::default();
    let on_server = reports::monthly_report(storage, scope.clone(), month, options)
        .step("compute the monthly report on the server")?;
    let on_phone = gfp
        .store
        .monthly_report(scope, month, options)
        .step("compute the monthly report on the phone")?;
    if on_phone != on_server {
        return Err(fail(
            "compare the monthly reports",
            "the focal point's phone and the server computed different monthly reports",
        ));
    }
    let t = &on_server.participation.total;
    let shown = |c: Option<u64>| c.map_or("hidden".to_owned(), |n| n.to_string());
    println!(
        "\n== 12. Monthly gender report, {sector}, {month}: the same numbers on the server and on the focal point's phone =="
    );
    println!(
        "{} accepted sessions; participants: {} women, {} men (counts under {} hidden); \
         women's top priority: {}, men's: {}",
        on_server.sessions.len(),
        shown(t.sex_totals[0]),
        shown(t.sex_totals[1]),
        options.min_cell,
        top(&on_server.priorities.women),
        top(&on_server.priorities.men),
    );
    let out = dir.join("reports");
    std::fs::create_dir_all(&out).step("create the report folder")?;
    let mut written = Vec::new();
    for format in fieldconsult_report::Format::ALL {
        let files = fieldconsult_report::render(&on_server, *format, Language::Fr)
            .step(&format!("render the report as {}", format.code()))?;
        for f in files {
            std::fs::write(out.join(&f.name), &f.bytes).step("write the report")?;
            written.push(format!("{} ({} KB)", f.name, f.bytes.len().div_ceil(1024)));
        }
    }
    println!(
        "Rendered in French, every format ({} files): {}",
        written.len(),
        written.join(", ")
    );
    Ok(())
}

fn top(ranking: &[RankedPriority]) -> String {
    ranking.first().map_or("none".to_owned(), |p| {
        text::priority_label(&p.key, Language::En)
    })
}

/// Issues a code as the admin and enrols a new device with it.
fn enrol(
    storage: &dyn Storage,
    transport: &HttpsTransport,
    dir: &Path,
    name: &'static str,
    role: &Role,
    fingerprint: &str,
) -> Result<Device, DemoError> {
    let code = admin::enrolment_code(storage, role, 1).step("issue an enrolment code")?;
    // On a phone the 32-byte key comes from the Android Keystore or the iOS Keychain.
    let mut raw = [0u8; DatabaseKey::LEN];
    getrandom::fill(&mut raw).step("make a database key")?;
    let key = DatabaseKey::from_bytes(&raw).step("make a database key")?;
    raw.fill(0);
    let file = format!("{}.db", name.replace([' ', ','], "_").to_lowercase());
    let store = Store::open(dir.join(file), &key).step("open a device store")?;
    let enrolment = store
        .enrol(transport, &code, name, Some(fingerprint))
        .step(&format!("enrol \"{name}\""))?;
    let what = match &enrolment.role {
        Role::TeamMember { .. } => "team member".to_owned(),
        Role::Reviewer { sector } => format!("reviewer of {sector}"),
        Role::HqAnalyst => "headquarters analyst".to_owned(),
        Role::Admin => "mission admin".to_owned(),
    };
    println!(
        "{name}: enrolled as {what}, device id {}",
        enrolment.device_id
    );
    Ok(Device {
        name,
        store,
        actor: Actor {
            id: enrolment.device_id,
            role: enrolment.role,
        },
    })
}

/// Syncs a device and prints one line about it. Refused or conflicting records stop the
/// demo: in this scenario every record is valid, so either is a bug.
fn sync(device: &Device, transport: &HttpsTransport, why: &str) -> Result<SyncReport, DemoError> {
    let step = format!("sync {} ({why})", device.name);
    let r = device.store.sync(transport, &NoProgress).step(&step)?;
    println!(
        "  sync · {:<32} {:<31} pushed {:>2} (acknowledged {:>2}), pulled {:>2}, {} request(s), {} B up / {} B down",
        device.name,
        format!("[{why}]"),
        r.pushed,
        r.acknowledged,
        r.pulled,
        r.requests,
        r.bytes_up,
        r.bytes_down
    );
    if r.rejected > 0 || r.conflicts > 0 {
        return Err(fail(
            &step,
            format!(
                "the server refused {} and found {} in conflict of {} records pushed",
                r.rejected, r.conflicts, r.pushed
            ),
        ));
    }
    let pending = device.store.pending_count().step(&step)?;
    if pending > 0 {
        return Err(fail(
            &step,
            format!("{pending} records are still waiting after a successful sync"),
        ));
    }
    Ok(r)
}

fn save_visit(
    device: &Device,
    team: &Team,
    community: &Community,
    start: Timestamp,
    end: Option<Timestamp>,
) -> Result<VisitId, DemoError> {
    let visit = Visit {
        id: VisitId::new(),
        team_id: team.id,
        community_id: community.id,
        started_at: start,
        ended_at: end,
        notes: String::new(),
    };
    device
        .store
        .save_visit(&device.actor, &visit)
        .step("save a visit")?;
    Ok(visit.id)
}

/// Saves a session as a draft and submits it for review.
fn record(device: &Device, s: &Session) -> Result<(), DemoError> {
    device
        .store
        .save_session(&device.actor, s)
        .step("save a session")?;
    device
        .store
        .submit_session(&device.actor, &s.id)
        .step("submit a session")?;
    Ok(())
}

fn review(device: &Device, id: &SessionId, d: Decision, comment: &str) -> Result<(), DemoError> {
    device
        .store
        .record_review(&device.actor, id, d, comment)
        .map(|_| ())
        .step("record a review on the focal point's device")
}

/// "3 synced, 1 pending" over a device's sessions.
fn list_states(device: &Device) -> Result<String, DemoError> {
    let page = device
        .store
        .list_sessions(&fieldconsult_core::SessionFilter::default(), 100, None)
        .step("list sessions")?;
    let mut counts: std::collections::BTreeMap<&'static str, u32> = Default::default();
    for s in &page.items {
        let label = match s.sync_state {
            SyncState::Pending => "pending",
            SyncState::Sent => "sent",
            SyncState::Synced => "synced",
            SyncState::Conflict => "conflict",
            SyncState::Error => "error",
        };
        *counts.entry(label).or_default() += 1;
    }
    Ok(counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", "))
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

/// A concern; `place_time` says where and when, never a home.
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
        note: String::new(),
    }
}

fn interpreter(sex: InterpreterSex, language: &str) -> Interpreter {
    Interpreter {
        sex,
        language: language.into(),
    }
}

#[cfg(test)]
mod tests {
    /// The README's first command keeps working: the whole flow, through real syncs.
    #[test]
    fn the_demo_runs_end_to_end() {
        if let Err(e) = super::run() {
            panic!("{e}");
        }
    }
}
