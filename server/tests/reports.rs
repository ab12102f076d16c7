//! The monthly gender report over HTTP (`GET /v1/reports/monthly`) and through the admin's
//! `report` command: who may see what, parameter errors, numbers equal to the model's
//! computation, and no note ever leaking into any format.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;

use axum::http::{StatusCode, header};
use common::{Reply, Server, acceptance, new_change, submitted_session, visit_and_session};
use fieldconsult_model::report::{Month, MonthlyReport, ReportData, ReportOptions, ReportScope};
use fieldconsult_model::wire::Record;
use fieldconsult_model::{Decision, Group, Review, ReviewId, Session, Team, Visit};
use fieldconsult_report::Format;

/// Put in every sensitive note and every visit's notes; must appear in no report byte.
const MARKER: &str = "ZZMARKER-7f3a-never-in-a-report";

struct World {
    server: Server,
    month: Month,
    member_a: String,
    member_b: String,
    west: String,
    east: String,
    revoked: String,
    /// Team A: accepted women's and men's sessions and a pending women's session.
    a_accepted: Vec<Session>,
    a_pending: Session,
    a_returned: Session,
}

fn session_of(visit: &Visit, group: Group) -> Session {
    let mut s = submitted_session(visit);
    s.group = group;
    common::seal_note(&mut s, MARKER);
    match group {
        Group::Women => {}
        Group::Men => {
            s.participants.female = Default::default();
            s.participants.male.age_30_59 = 7;
            s.participants.male.age_18_29 = 3;
        }
        Group::Mixed => {
            s.participants.male.age_30_59 = 4;
        }
    }
    s.normalize();
    s
}

fn marked_visit(server: &Server, team: &Team) -> Visit {
    let mut v = server.visit(team);
    v.notes = format!("observations {MARKER}");
    v.normalize();
    v
}

fn review(session: &Session, decision: Decision) -> Record {
    let mut r = acceptance(session);
    r.decision = decision;
    if decision == Decision::Returned {
        r.comment = "please add the facilitators".to_owned();
    }
    Record::Review(Review {
        id: ReviewId::new(),
        ..r
    })
}

async fn world() -> World {
    let server = Server::new();
    let member_a = server.member(&server.team_a).await;
    let member_b = server.member(&server.team_b).await;
    let west = server.reviewer("West").await;
    let east = server.reviewer("East").await;
    let revoked_device = server
        .enrol(fieldconsult_model::Role::TeamMember {
            team_id: server.team_a.id,
        })
        .await;

    let visit_a = marked_visit(&server, &server.team_a);
    let women = session_of(&visit_a, Group::Women);
    let men = session_of(&visit_a, Group::Men);
    let pending = session_of(&visit_a, Group::Women);
    let returned = session_of(&visit_a, Group::Mixed);
    let mut changes = visit_and_session(&visit_a, &women);
    for s in [&men, &pending, &returned] {
        changes.push(new_change(Record::Session(Box::new(s.clone()))));
    }
    server.push(&member_a, changes).await;
    server
        .push(
            &west,
            vec![
                new_change(review(&women, Decision::Accepted)),
                new_change(review(&men, Decision::Accepted)),
                new_change(review(&returned, Decision::Returned)),
            ],
        )
        .await;

    let visit_b = marked_visit(&server, &server.team_b);
    let women_b = session_of(&visit_b, Group::Women);
    server
        .push(&member_b, visit_and_session(&visit_b, &women_b))
        .await;
    server
        .push(
            &east,
            vec![new_change(review(&women_b, Decision::Accepted))],
        )
        .await;

    assert!(
        fieldconsult_server::admin::revoke(server.storage.as_ref(), &revoked_device.device_id)
            .unwrap()
    );
    let month = Month::of(women.started_at.date_naive());
    World {
        server,
        month,
        member_a,
        member_b,
        west,
        east,
        revoked: revoked_device.token,
        a_accepted: vec![women, men],
        a_pending: pending,
        a_returned: returned,
    }
}

impl World {
    fn scope_query(&self, scope: &str) -> String {
        match scope {
            "team A" => format!("scope=team&team={}", self.server.team_a.id),
            "team B" => format!("scope=team&team={}", self.server.team_b.id),
            "sector West" => "scope=sector&sector=West".to_owned(),
            "sector East" => "scope=sector&sector=East".to_owned(),
            "mission" => "scope=mission".to_owned(),
            other => panic!("unknown scope {other}"),
        }
    }

    async fn report(&self, token: Option<&str>, query: &str) -> Reply {
        let reply = self
            .server
            .get(
                &format!("/v1/reports/monthly?month={}&{query}", self.month),
                token,
            )
            .await;
        assert_eq!(
            reply
                .headers
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "every answer, refusals included, is no-store: {query}"
        );
        reply
    }

    /// Strings that only a report (or the stored data) holds.
    fn report_data_markers(&self) -> Vec<String> {
        let mut m = vec![
            "Kaya".to_owned(),
            "Engagement Team".to_owned(),
            "participation".to_owned(),
            "sessions".to_owned(),
        ];
        for s in self.a_accepted.iter().chain([&self.a_pending]) {
            m.push(s.id.to_string());
        }
        m
    }

    fn assert_refusal_without_data(&self, reply: &Reply, what: &str) {
        assert_eq!(
            reply.content_type(),
            "application/problem+json",
            "{what}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let body = String::from_utf8_lossy(&reply.body);
        for m in self.report_data_markers() {
            assert!(!body.contains(&m), "{what}: refusal carries `{m}`: {body}");
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The bytes of a file and, for containers, of what they contain: XLSX (zip) entries and
/// PDF streams inflated, so that compressed text is looked at too.
fn readable_layers(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut layers = vec![bytes.to_vec()];
    if bytes.starts_with(b"PK") {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).unwrap();
            let mut out = Vec::new();
            entry.read_to_end(&mut out).unwrap();
            layers.push(out);
        }
    }
    if bytes.starts_with(b"%PDF") {
        let mut rest = bytes;
        while let Some(i) = rest.windows(6).position(|w| w == b"stream") {
            let mut start = i + 6;
            while start < rest.len() && (rest[start] == b'\r' || rest[start] == b'\n') {
                start += 1;
            }
            let body = &rest[start..];
            let end = body
                .windows(9)
                .position(|w| w == b"endstream")
                .unwrap_or(body.len());
            let mut out = Vec::new();
            if flate2::read::ZlibDecoder::new(&body[..end])
                .read_to_end(&mut out)
                .is_ok()
            {
                layers.push(out);
            }
            rest = &body[end..];
            if rest.len() >= 9 {
                rest = &rest[9..];
            }
        }
    }
    layers
}

fn report_from(reply: &Reply) -> MonthlyReport {
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    serde_json::from_slice(&reply.body).expect("a MonthlyReport")
}

#[tokio::test]
async fn only_a_devices_own_team_or_its_sector_and_sector_teams_get_the_report() {
    let w = world().await;
    let scopes = ["team A", "team B", "sector West", "sector East", "mission"];
    // (device, token, allowed scopes, status of the others)
    let devices: [(&str, Option<&str>, &[&str], StatusCode); 6] = [
        (
            "team A device",
            Some(&w.member_a),
            &["team A"],
            StatusCode::FORBIDDEN,
        ),
        (
            "team B device",
            Some(&w.member_b),
            &["team B"],
            StatusCode::FORBIDDEN,
        ),
        (
            "West reviewer",
            Some(&w.west),
            &["team A", "sector West"],
            StatusCode::FORBIDDEN,
        ),
        (
            "East reviewer",
            Some(&w.east),
            &["team B", "sector East"],
            StatusCode::FORBIDDEN,
        ),
        ("no token", None, &[], StatusCode::UNAUTHORIZED),
        (
            "revoked device",
            Some(&w.revoked),
            &[],
            StatusCode::FORBIDDEN,
        ),
    ];
    for (who, token, allowed, refusal) in devices {
        for scope in scopes {
            let reply = w
                .report(token, &format!("{}&format=json", w.scope_query(scope)))
                .await;
            let cell = format!("{who} × {scope}");
            if allowed.contains(&scope) {
                let report = report_from(&reply);
                assert_eq!(reply.content_type(), "application/json", "{cell}");
                let expected_scope = match scope {
                    "team A" => ReportScope::Team {
                        team_id: w.server.team_a.id,
                    },
                    "team B" => ReportScope::Team {
                        team_id: w.server.team_b.id,
                    },
                    "sector West" => ReportScope::Sector {
                        sector: "West".to_owned(),
                    },
                    _ => ReportScope::Sector {
                        sector: "East".to_owned(),
                    },
                };
                assert_eq!(report.scope, expected_scope, "{cell}");
                assert!(!report.sessions.is_empty(), "{cell}: the report has data");
            } else {
                assert_eq!(reply.status, refusal, "{cell}");
                w.assert_refusal_without_data(&reply, &cell);
                if who == "revoked device" {
                    assert_eq!(reply.json()["type"], "/problems/revoked", "{cell}");
                } else if refusal == StatusCode::FORBIDDEN {
                    assert_eq!(reply.json()["type"], "/problems/forbidden", "{cell}");
                }
            }
        }
    }
}

#[tokio::test]
async fn a_team_of_another_sector_is_refused_exactly_like_a_team_that_does_not_exist() {
    let w = world().await;
    let other_sector = w
        .report(
            Some(&w.west),
            &format!("scope=team&team={}", w.server.team_b.id),
        )
        .await;
    let unknown = w
        .report(
            Some(&w.west),
            &format!("scope=team&team={}", fieldconsult_model::TeamId::new()),
        )
        .await;
    assert_eq!(other_sector.status, StatusCode::FORBIDDEN);
    assert_eq!(unknown.status, other_sector.status);
    assert_eq!(unknown.body, other_sector.body);
    assert_eq!(
        other_sector.json()["detail"]
            .as_str()
            .unwrap()
            .split(':')
            .next(),
        Some("team")
    );
}

#[tokio::test]
async fn the_mission_report_is_refused_over_http_naming_scope() {
    let w = world().await;
    for token in [&w.member_a, &w.west] {
        let reply = w.report(Some(token), "scope=mission").await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert_eq!(reply.json()["type"], "/problems/forbidden");
        assert!(
            reply.json()["detail"]
                .as_str()
                .unwrap()
                .starts_with("scope:")
        );
    }
}

#[tokio::test]
async fn invalid_parameters_are_400_naming_the_field() {
    let w = world().await;
    let team = w.server.team_a.id;
    let cases: Vec<(String, &str)> = vec![
        ("month=2026-13&scope=sector".to_owned(), "month"),
        ("month=october&scope=sector".to_owned(), "month"),
        ("scope=sector".to_owned(), "month"),
        ("month=2026-10&month=2026-11".to_owned(), "month"),
        ("month=2026-10&scope=planet".to_owned(), "scope"),
        (
            "month=2026-10&scope=team&team=not-a-uuid".to_owned(),
            "team",
        ),
        ("month=2026-10&scope=team".to_owned(), "team"),
        (
            format!("month=2026-10&scope=sector&sector=West&team={team}"),
            "team",
        ),
        (
            "month=2026-10&scope=mission&sector=West".to_owned(),
            "sector",
        ),
        ("month=2026-10&scope=sector&sector=%20".to_owned(), "sector"),
        ("month=2026-10&format=docx".to_owned(), "format"),
        ("month=2026-10&format=all".to_owned(), "format"),
        ("month=2026-10&lang=de".to_owned(), "lang"),
        ("month=2026-10&min_cell=abc".to_owned(), "min_cell"),
        ("month=2026-10&min_cell=-1".to_owned(), "min_cell"),
        ("month=2026-10&min_cell=101".to_owned(), "min_cell"),
        ("month=2026-10&format=json&part=sessions".to_owned(), "part"),
        ("month=2026-10&colour=red".to_owned(), "query"),
    ];
    for (query, field) in cases {
        let reply = w
            .server
            .get(&format!("/v1/reports/monthly?{query}"), Some(&w.west))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.content_type(), "application/problem+json", "{query}");
        let problem = reply.json();
        assert_eq!(problem["type"], "/problems/malformed-request", "{query}");
        assert_eq!(problem["problems"][0]["field"], field, "{query}");
        w.assert_refusal_without_data(&reply, &query);
    }
}

#[tokio::test]
async fn min_cell_below_the_floor_is_refused_over_http() {
    let w = world().await;
    for n in [0, 1, 4] {
        let reply = w.report(Some(&w.member_a), &format!("min_cell={n}")).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "min_cell={n}");
        let problem = reply.json();
        assert_eq!(problem["type"], "/problems/forbidden");
        assert_eq!(problem["problems"][0]["field"], "min_cell");
        assert_eq!(problem["problems"][0]["problem"]["code"], "out_of_range");
        assert_eq!(problem["problems"][0]["problem"]["min"], 5);
        w.assert_refusal_without_data(&reply, "min_cell");
    }
    let at_floor = report_from(&w.report(Some(&w.member_a), "min_cell=5").await);
    assert_eq!(at_floor.options.min_cell, 5);
    let higher = report_from(&w.report(Some(&w.member_a), "min_cell=12").await);
    assert_eq!(higher.options.min_cell, 12);
    let default = report_from(&w.report(Some(&w.member_a), "").await);
    assert_eq!(default.options.min_cell, 5);
}

#[tokio::test]
async fn the_json_report_equals_the_models_computation_on_the_stored_data() {
    let w = world().await;
    let storage = w.server.storage.as_ref();
    let of_kind = |kind: &str| {
        fieldconsult_server::Storage::records_of_kind(storage, kind)
            .unwrap()
            .into_iter()
            .map(|r| r.record)
            .collect::<Vec<_>>()
    };
    let teams: Vec<_> = of_kind("team")
        .into_iter()
        .filter_map(|r| match r {
            Record::Team(t) => Some(t),
            _ => None,
        })
        .collect();
    let communities: Vec<_> = of_kind("community")
        .into_iter()
        .filter_map(|r| match r {
            Record::Community(c) => Some(c),
            _ => None,
        })
        .collect();
    let visits: Vec<_> = of_kind("visit")
        .into_iter()
        .filter_map(|r| match r {
            Record::Visit(v) => Some(v),
            _ => None,
        })
        .collect();
    let sessions: Vec<_> = of_kind("session")
        .into_iter()
        .filter_map(|r| match r {
            Record::Session(s) => Some(*s),
            _ => None,
        })
        .collect();
    let data = ReportData {
        teams: &teams,
        communities: &communities,
        visits: &visits,
        sessions: &sessions,
    };
    let cases = [
        (
            w.west.as_str(),
            format!("scope=team&team={}&min_cell=5", w.server.team_a.id),
            ReportScope::Team {
                team_id: w.server.team_a.id,
            },
            5,
        ),
        (
            w.west.as_str(),
            "scope=sector&sector=West&min_cell=7".to_owned(),
            ReportScope::Sector {
                sector: "West".to_owned(),
            },
            7,
        ),
        (
            w.east.as_str(),
            "min_cell=5".to_owned(),
            ReportScope::Sector {
                sector: "East".to_owned(),
            },
            5,
        ),
    ];
    for (token, query, scope, min_cell) in cases {
        let served = report_from(&w.report(Some(token), &format!("{query}&format=json")).await);
        let expected = MonthlyReport::compute(
            scope,
            w.month,
            data,
            ReportOptions {
                min_cell,
                ..ReportOptions::default()
            },
        );
        assert_eq!(served, expected, "{query}");
    }
    // The same numbers straight from the server's own function.
    let direct = fieldconsult_server::reports::monthly_report(
        storage,
        ReportScope::Mission,
        w.month,
        ReportOptions::default(),
    )
    .unwrap();
    assert_eq!(
        direct,
        MonthlyReport::compute(
            ReportScope::Mission,
            w.month,
            data,
            ReportOptions::default()
        )
    );
    assert_eq!(direct.sessions.len(), 3);
}

#[tokio::test]
async fn a_pending_session_counts_in_review_state_but_not_in_participation() {
    let w = world().await;
    let report = report_from(&w.report(Some(&w.member_a), "format=json").await);
    assert_eq!(report.review.pending.women, 1);
    assert_eq!(report.review.accepted.women, 1);
    assert_eq!(report.review.accepted.men, 1);
    assert_eq!(report.review.returned.mixed, 1);
    let ids: Vec<_> = report.sessions.iter().map(|s| s.id).collect();
    assert_eq!(
        ids.len(),
        2,
        "only the accepted sessions are behind the figures"
    );
    assert!(!ids.contains(&w.a_pending.id));
    assert!(!ids.contains(&w.a_returned.id));
    for s in &w.a_accepted {
        assert!(ids.contains(&s.id));
    }
    assert_eq!(report.participation.by_team.len(), 1);
    assert_eq!(report.participation.by_team[0].sessions, 2);
}

#[tokio::test]
async fn no_note_appears_in_any_format_or_part_served() {
    let w = world().await;
    let mut checked = 0;
    for format in Format::ALL {
        let code = format.code();
        let reply = w
            .report(
                Some(&w.west),
                &format!("scope=sector&sector=West&format={code}"),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{code}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert!(!contains(&reply.body, MARKER.as_bytes()), "{code}");
        let mut files: Vec<Reply> = Vec::new();
        if matches!(code, "csv" | "png") {
            assert_eq!(reply.content_type(), "application/json", "{code} index");
            let index = reply.json();
            assert_eq!(index["format"], code);
            let parts = index["parts"].as_array().expect("parts").clone();
            assert!(!parts.is_empty(), "{code}: at least one part");
            for p in parts {
                let href = p["href"].as_str().unwrap();
                assert!(href.contains("part="), "{href}");
                let part = w.server.get(href, Some(&w.west)).await;
                assert_eq!(part.status, StatusCode::OK, "{href}");
                assert_eq!(part.content_type(), p["media_type"].as_str().unwrap());
                assert_eq!(part.body.len() as u64, p["bytes"].as_u64().unwrap());
                files.push(part);
            }
        } else {
            files.push(reply);
        }
        for f in files {
            assert!(!f.content_type().is_empty(), "{code}: a media type");
            assert!(!f.body.is_empty(), "{code}: a body");
            let disposition = f
                .headers
                .get(header::CONTENT_DISPOSITION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert!(
                disposition.starts_with("attachment; filename=\"gender-report-"),
                "{code}: {disposition}"
            );
            for layer in readable_layers(&f.body) {
                assert!(
                    !contains(&layer, MARKER.as_bytes()),
                    "{code}: {disposition}"
                );
                assert!(!contains(&layer, b"observations"), "{code}: visit notes");
            }
            checked += 1;
        }
    }
    assert!(checked >= Format::ALL.len());
}

#[tokio::test]
async fn a_part_that_does_not_exist_is_400_naming_part() {
    let w = world().await;
    let reply = w.report(Some(&w.west), "format=csv&part=nonsense").await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["problems"][0]["field"], "part");
}

fn run_cli(server: &Server, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_fieldconsult-server"))
        .arg("--db")
        .arg(server.db_path())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run fieldconsult-server")
}

#[tokio::test]
async fn the_report_command_writes_every_format_and_prints_the_paths() {
    let w = world().await;
    let out = tempfile::tempdir().unwrap();
    let month = w.month.to_string();
    let dir = out.path().to_str().unwrap();
    let run = run_cli(
        &w.server,
        &["report", "--month", &month, "--mission", "--out", dir],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let stdout = String::from_utf8(run.stdout).unwrap();
    let printed: Vec<&str> = stdout.lines().collect();
    for format in Format::ALL {
        let ext = format!(".{}", format.code());
        assert!(
            printed.iter().any(|p| p.ends_with(&ext)),
            "no {ext} file among {printed:?}"
        );
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    on_disk.sort();
    let mut printed_sorted: Vec<String> = printed.iter().map(|s| (*s).to_owned()).collect();
    printed_sorted.sort();
    assert_eq!(on_disk, printed_sorted);
    for path in &printed {
        let bytes = std::fs::read(path).unwrap();
        assert!(!bytes.is_empty(), "{path}");
        for layer in readable_layers(&bytes) {
            assert!(!contains(&layer, MARKER.as_bytes()), "{path}");
        }
    }
    let json = printed.iter().find(|p| p.ends_with(".json")).unwrap();
    let report: MonthlyReport = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    assert_eq!(report.scope, ReportScope::Mission);
    assert_eq!(report.sessions.len(), 3);
}

#[tokio::test]
async fn the_report_command_may_go_below_the_floor_and_says_so() {
    let w = world().await;
    let out = tempfile::tempdir().unwrap();
    let month = w.month.to_string();
    let run = run_cli(
        &w.server,
        &[
            "report",
            "--month",
            &month,
            "--sector",
            "West",
            "--format",
            "json",
            "--min-cell",
            "0",
            "--out",
            out.path().to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("internal analysis"), "{stderr}");
    let stdout = String::from_utf8(run.stdout).unwrap();
    let path = stdout.lines().next().unwrap();
    let report: MonthlyReport = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(report.options.min_cell, 0);
}

#[tokio::test]
async fn the_report_command_names_the_bad_argument() {
    let w = world().await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let month = w.month.to_string();
    let unknown_team = fieldconsult_model::TeamId::new().to_string();
    let cases: [(Vec<&str>, &str); 6] = [
        (vec!["--month", "2026-13", "--mission"], "--month"),
        (vec!["--month", &month, "--team", "nope"], "--team"),
        (vec!["--month", &month, "--team", &unknown_team], "--team"),
        (vec!["--month", &month, "--sector", "Nowhere"], "--sector"),
        (
            vec!["--month", &month, "--mission", "--format", "docx"],
            "--format",
        ),
        (
            vec!["--month", &month, "--mission", "--min-cell", "101"],
            "--min-cell",
        ),
    ];
    for (args, arg) in cases {
        let mut all = vec!["report"];
        all.extend(args.iter().copied());
        all.extend(["--out", dir]);
        let run = run_cli(&w.server, &all);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{args:?}");
        assert!(stderr.contains(arg), "{args:?}: {stderr}");
    }
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}
