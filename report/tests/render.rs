//! The heavier formats render: the printed HTML and the PDF are not blank pages, the charts
//! rasterise, the workbook holds the report's numbers, and French reads French.
//!
//! Run with `--all-features`. The page checks need Chromium and poppler-utils (pdftoppm,
//! pdftotext, pdfinfo); without them these tests fail and say which Debian package to
//! install, rather than passing without having looked at a page.

#![cfg(all(feature = "xlsx", feature = "pdf", feature = "png"))]

use std::collections::BTreeSet;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::DateTime;
use fieldconsult_model::report::{
    Month, MonthlyReport, ReportData, ReportOptions, ReportScope, SexAgeCells,
};
use fieldconsult_model::{
    AffectedGroup, AgeBand, AgeCounts, Community, CommunityId, Concern, ConcernCategory,
    Facilitators, Group, Interpreter, InterpreterSex, Language, Participants, Priority,
    PriorityCategory, Referral, ReferralServiceId, Session, Sex, Status, Team, TeamId, Urgency,
    Visit, VisitId,
};
use fieldconsult_report::{Format, ReportFile, charts, render};

const ARABIC_COMMUNITY: &str = "الحصاحيصا";

// ---------------------------------------------------------------------------------------
// The report under test.

struct Fixture {
    teams: Vec<Team>,
    communities: Vec<Community>,
    visits: Vec<Visit>,
    sessions: Vec<Session>,
}

fn at(rfc3339: &str) -> fieldconsult_model::Timestamp {
    DateTime::parse_from_rfc3339(rfc3339).unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
}

fn counts(bands: [u32; 5]) -> AgeCounts {
    AgeCounts::from_bands(bands)
}

impl Fixture {
    fn new() -> Self {
        let team = |name: &str| Team {
            id: TeamId::new(),
            name: name.to_owned(),
            sector: "West".to_owned(),
        };
        let community = |name: &str| Community {
            id: CommunityId::new(),
            name: name.to_owned(),
            admin_area: "Gezira".to_owned(),
            location: None,
        };
        let teams = vec![team("Alpha"), team("Bravo")];
        let communities = vec![
            community(ARABIC_COMMUNITY),
            community("Wad Madani"),
            community("Sennar"),
        ];
        let mut f = Fixture {
            teams,
            communities,
            visits: Vec::new(),
            sessions: Vec::new(),
        };
        let v1 = f.visit(0, 0, "2026-03-04T08:00:00+03:00");
        let v2 = f.visit(0, 1, "2026-03-11T08:00:00+03:00");
        let v3 = f.visit(1, 2, "2026-03-18T08:00:00+03:00");

        let mut s = f.session(v1, Group::Women, "2026-03-04T09:00:00+03:00");
        s.participants.female = counts([3, 14, 22, 7, 0]);
        s.facilitators = Facilitators { female: 2, male: 0 };
        s.interpreter = Interpreter {
            sex: InterpreterSex::Female,
            language: "Arabic".to_owned(),
        };
        s.priorities = Priority::ranked(&[
            PriorityCategory::Water,
            PriorityCategory::Health,
            PriorityCategory::SafeMovement,
        ]);
        s.concerns.push(concern(
            ConcernCategory::MovementRestriction,
            &[AffectedGroup::Women, AffectedGroup::Girls],
            Urgency::Urgent,
        ));
        s.referral = Some(Referral::to(ReferralServiceId::new()));
        f.sessions.push(s);

        let mut s = f.session(v1, Group::Men, "2026-03-04T11:00:00+03:00");
        s.participants.male = counts([5, 11, 19, 8, 0]);
        s.facilitators = Facilitators { female: 0, male: 2 };
        s.interpreter = Interpreter {
            sex: InterpreterSex::Male,
            language: "Arabic".to_owned(),
        };
        s.priorities = Priority::ranked(&[
            PriorityCategory::SecurityAndProtection,
            PriorityCategory::Water,
            PriorityCategory::LivelihoodsAndWork,
        ]);
        s.concerns.push(concern(
            ConcernCategory::TheftAndLooting,
            &[AffectedGroup::Men],
            Urgency::Priority,
        ));
        f.sessions.push(s);

        let mut s = f.session(v2, Group::Women, "2026-03-11T09:00:00+03:00");
        s.participants.female = counts([0, 9, 12, 3, 0]);
        s.facilitators = Facilitators { female: 1, male: 1 };
        s.priorities = Priority::ranked(&[
            PriorityCategory::Water,
            PriorityCategory::Other,
            PriorityCategory::Schools,
        ]);
        s.priorities[1].other_label = "Mobile clinic".to_owned();
        f.sessions.push(s);

        let mut s = f.session(v2, Group::Men, "2026-03-11T11:00:00+03:00");
        s.participants.male = counts([2, 10, 15, 6, 0]);
        s.facilitators = Facilitators { female: 0, male: 2 };
        s.priorities = Priority::ranked(&[
            PriorityCategory::SecurityAndProtection,
            PriorityCategory::ReturnAndLand,
        ]);
        f.sessions.push(s);

        let mut s = f.session(v3, Group::Mixed, "2026-03-18T09:00:00+03:00");
        s.participants = Participants {
            female: counts([0, 4, 6, 2, 0]),
            male: counts([0, 3, 5, 2, 0]),
            undisclosed: counts([0, 0, 0, 0, 6]),
        };
        s.facilitators = Facilitators { female: 1, male: 1 };
        s.priorities = Priority::ranked(&[PriorityCategory::Food, PriorityCategory::Water]);
        f.sessions.push(s);

        // Not counted in the figures, only in the review state.
        let mut s = f.session(v3, Group::Women, "2026-03-18T11:00:00+03:00");
        s.status = Status::Submitted;
        s.participants.female = counts([0, 8, 8, 0, 0]);
        f.sessions.push(s);
        let mut s = f.session(v3, Group::Men, "2026-03-18T13:00:00+03:00");
        s.status = Status::Returned;
        s.participants.male = counts([0, 8, 8, 0, 0]);
        f.sessions.push(s);
        f
    }

    fn visit(&mut self, team: usize, community: usize, start: &str) -> VisitId {
        let id = VisitId::new();
        self.visits.push(Visit {
            id,
            team_id: self.teams[team].id,
            community_id: self.communities[community].id,
            started_at: at(start),
            ended_at: None,
            notes: String::new(),
        });
        id
    }

    /// An accepted session; the caller fills in what it says.
    fn session(&self, visit: VisitId, group: Group, start: &str) -> Session {
        let mut s = Session::new_draft(visit, group, at(start));
        s.status = Status::Accepted;
        s.consent.verbal_informed = true;
        s
    }

    fn report(&self, scope: ReportScope) -> MonthlyReport {
        MonthlyReport::compute(
            scope,
            Month::new(2026, 3).unwrap_or_else(|| panic!("valid month")),
            ReportData {
                teams: &self.teams,
                communities: &self.communities,
                visits: &self.visits,
                sessions: &self.sessions,
            },
            ReportOptions {
                min_cell: 5,
                top_priorities: 5,
            },
        )
    }
}

fn concern(category: ConcernCategory, affected: &[AffectedGroup], urgency: Urgency) -> Concern {
    Concern {
        category,
        affected: affected.iter().copied().collect::<BTreeSet<_>>(),
        location: "market road".to_owned(),
        timing: "at night".to_owned(),
        urgency,
        note: String::new(),
    }
}

fn mission_report() -> MonthlyReport {
    let report = Fixture::new().report(ReportScope::Mission);
    assert_eq!(report.sessions.len(), 5, "five accepted sessions in March");
    assert!(
        report.participation.total.total.is_some(),
        "the fixture's grand total is published"
    );
    assert!(
        report.participation.total.suppressed() > 0,
        "the fixture has hidden cells"
    );
    report
}

fn one_file(report: &MonthlyReport, format: Format, lang: Language) -> ReportFile {
    let mut files = render(report, format, lang)
        .unwrap_or_else(|e| panic!("rendering {format:?} in {lang:?}: {e}"));
    assert_eq!(files.len(), 1, "{format:?} is one file");
    files.remove(0)
}

// ---------------------------------------------------------------------------------------
// External tools, pixels and text.

/// The path of a tool, or a failure naming the Debian package that provides it.
fn tool(names: &[&str], package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        let direct = Path::new(name);
        if direct.is_absolute() && direct.is_file() {
            return direct.to_owned();
        }
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "{} not found: install the Debian package `{package}` (apt-get install {package}); \
         this test must look at a rendered page and cannot pass without it",
        names.join(" or ")
    )
}

/// Runs a command to completion within `limit`, failing the test with its output otherwise.
fn run(cmd: &mut Command, limit: Duration) -> Vec<u8> {
    let described = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {described}: {e}"));
    // Drain the pipes on threads so that a chatty tool cannot block on a full pipe.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = std::io::Read::read_to_end(s, &mut buf);
        }
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = std::io::Read::read_to_end(s, &mut buf);
        }
        buf
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{described} did not finish within {limit:?}");
            }
            Err(e) => panic!("waiting for {described}: {e}"),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    assert!(
        status.success(),
        "{described} failed ({status}): {}",
        String::from_utf8_lossy(&stderr)
    );
    stdout
}

struct Pixels {
    width: u32,
    height: u32,
    rgb: Vec<[u8; 3]>,
}

fn decode_png(bytes: &[u8]) -> Pixels {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .unwrap_or_else(|e| panic!("not a PNG: {e}"));
    let size = reader
        .output_buffer_size()
        .unwrap_or_else(|| panic!("PNG too large"));
    let mut buf = vec![0; size];
    let info = reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("cannot decode the PNG: {e}"));
    let channels = info.color_type.samples();
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|p| match channels {
            1 | 2 => [p[0], p[0], p[0]],
            // Composite on white: a transparent pixel is a blank one.
            4 => {
                let a = u16::from(p[3]);
                let over = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
                [over(p[0]), over(p[1]), over(p[2])]
            }
            _ => [p[0], p[1], p[2]],
        })
        .collect();
    Pixels {
        width: info.width,
        height: info.height,
        rgb,
    }
}

impl Pixels {
    /// Share of pixels that are not white or nearly so.
    fn ink_share(&self) -> f64 {
        let inked = self
            .rgb
            .iter()
            .filter(|p| p.iter().any(|c| *c < 235))
            .count();
        inked as f64 / self.rgb.len().max(1) as f64
    }

    /// Pixels within a small distance of `colour`.
    fn count_near(&self, colour: (u8, u8, u8)) -> usize {
        let (r, g, b) = colour;
        self.rgb
            .iter()
            .filter(|p| p[0].abs_diff(r) <= 24 && p[1].abs_diff(g) <= 24 && p[2].abs_diff(b) <= 24)
            .count()
    }

    fn assert_not_blank(&self, what: &str, min_share: f64) {
        let share = self.ink_share();
        assert!(
            share >= min_share,
            "{what} is (nearly) blank: {:.2}% of {}×{} pixels inked, expected at least {:.2}%",
            share * 100.0,
            self.width,
            self.height,
            min_share * 100.0
        );
    }

    fn assert_has_chart_colours(&self, what: &str) {
        for (name, c) in [
            ("women's", charts::WOMEN_COLOUR),
            ("men's", charts::MEN_COLOUR),
        ] {
            let n = self.count_near((c.0, c.1, c.2));
            assert!(
                n >= 40,
                "{what} shows no {name} chart colour #{:02x}{:02x}{:02x} ({n} pixels): are the charts drawn?",
                c.0,
                c.1,
                c.2
            );
        }
    }
}

fn pdf_page_png(pdf: &Path, page: u32, dpi: u32, out_dir: &Path) -> Pixels {
    let pdftoppm = tool(&["pdftoppm"], "poppler-utils");
    let prefix = out_dir.join(format!("page-{page}"));
    run(
        Command::new(pdftoppm)
            .args(["-png", "-r", &dpi.to_string(), "-singlefile"])
            .args(["-f", &page.to_string(), "-l", &page.to_string()])
            .arg(pdf)
            .arg(&prefix),
        Duration::from_secs(60),
    );
    let png = prefix.with_extension("png");
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    decode_png(&bytes)
}

fn pdf_text(pdf: &Path, pages: Option<(u32, u32)>) -> String {
    let pdftotext = tool(&["pdftotext"], "poppler-utils");
    let mut cmd = Command::new(pdftotext);
    if let Some((first, last)) = pages {
        cmd.args(["-f", &first.to_string(), "-l", &last.to_string()]);
    }
    let out = run(cmd.arg(pdf).arg("-"), Duration::from_secs(60));
    String::from_utf8(out).unwrap_or_else(|e| panic!("pdftotext printed no UTF-8: {e}"))
}

fn pdf_pages(pdf: &Path) -> u32 {
    let pdfinfo = tool(&["pdfinfo"], "poppler-utils");
    let out = String::from_utf8(run(Command::new(pdfinfo).arg(pdf), Duration::from_secs(60)))
        .unwrap_or_default();
    out.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("pdfinfo gave no page count:\n{out}"))
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"))
}

/// Keeps a copy of a rendered file in `$FIELDCONSULT_RENDER_TEST_OUT`, when that is set, for
/// a person to look at what the tests looked at.
fn keep(file: &ReportFile) {
    if let Some(out) = std::env::var_os("FIELDCONSULT_RENDER_TEST_OUT") {
        let out = Path::new(&out);
        let _ = std::fs::create_dir_all(out);
        let _ = std::fs::write(out.join(&file.name), &file.bytes);
    }
}

fn write(dir: &Path, file: &ReportFile) -> PathBuf {
    keep(file);
    let path = dir.join(&file.name);
    std::fs::write(&path, &file.bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

fn chromium() -> PathBuf {
    tool(
        &["/usr/bin/chromium", "chromium", "chromium-browser"],
        "chromium",
    )
}

/// Headless Chromium with a throwaway profile and nothing that reaches the network.
fn chromium_command(profile: &Path) -> Command {
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

// ---------------------------------------------------------------------------------------
// The tests.

#[test]
fn printed_html_page_is_not_blank() {
    let report = mission_report();
    let html = one_file(&report, Format::Html, Language::En);
    let dir = temp_dir();
    let page = write(dir.path(), &html);

    let shot = dir.path().join("screenshot.png");
    let profile = temp_dir();
    run(
        chromium_command(profile.path())
            .arg(format!("--screenshot={}", shot.display()))
            .arg("--window-size=1200,1800")
            .arg(file_url(&page)),
        Duration::from_secs(120),
    );
    let bytes = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot: {e}"));
    let pixels = decode_png(&bytes);
    assert_eq!((pixels.width, pixels.height), (1200, 1800));
    pixels.assert_not_blank("the HTML report on screen", 0.03);
    pixels.assert_has_chart_colours("the HTML report on screen");

    // And printed, as a reader prints it.
    let pdf = dir.path().join("printed.pdf");
    let profile = temp_dir();
    run(
        chromium_command(profile.path())
            .arg("--no-pdf-header-footer")
            .arg(format!("--print-to-pdf={}", pdf.display()))
            .arg(file_url(&page)),
        Duration::from_secs(120),
    );
    let first = pdf_page_png(&pdf, 1, 60, dir.path());
    first.assert_not_blank("the printed HTML report's first page", 0.02);
    first.assert_has_chart_colours("the printed HTML report's first page");
    let text = pdf_text(&pdf, None);
    assert!(text.contains("Monthly gender report"), "{text}");
}

#[test]
fn pdf_first_page_is_not_blank() {
    let report = mission_report();
    let pdf = one_file(&report, Format::Pdf, Language::En);
    assert_eq!(pdf.media_type, "application/pdf");
    assert!(pdf.name.ends_with(".pdf"), "{}", pdf.name);
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    let dir = temp_dir();
    let path = write(dir.path(), &pdf);

    let first = pdf_page_png(&path, 1, 60, dir.path());
    first.assert_not_blank("the PDF's first page", 0.02);
    first.assert_has_chart_colours("the PDF's first page (the participation pyramid)");

    let text = pdf_text(&path, None);
    assert!(
        text.contains("Monthly gender report"),
        "title missing:\n{text}"
    );
    assert!(text.contains("Whole mission"), "scope missing:\n{text}");
    assert!(text.contains("2026-03"), "month missing:\n{text}");
    let total = report
        .participation
        .total
        .total
        .unwrap_or_else(|| panic!("published total"));
    assert!(
        text.contains(&total.to_string()),
        "the grand total {total} is missing:\n{text}"
    );
    // The basis sentence counts 5 accepted sessions, 1 pending and 1 returned.
    assert!(
        text.contains("5 accepted sessions"),
        "basis missing:\n{text}"
    );
    // An `other` priority is compared, and shown, lower-cased.
    assert!(text.contains("mobile clinic"), "{text}");
    assert!(
        text.contains("x: hidden to protect participants"),
        "hidden cells are marked and the mark explained:\n{text}"
    );
}

#[test]
fn pdf_sets_arabic_community_names_as_joined_text() {
    let report = mission_report();
    let pdf = one_file(&report, Format::Pdf, Language::En);
    let dir = temp_dir();
    let path = write(dir.path(), &pdf);
    let text = pdf_text(&path, None);
    // Shaped glyphs map back to the name's letters in reading order; a name drawn letter by
    // letter in the wrong direction would come out reversed.
    let reversed: String = ARABIC_COMMUNITY.chars().rev().collect();
    assert!(
        text.contains(ARABIC_COMMUNITY),
        "the Arabic community name is missing (reversed: {}):\n{text}",
        text.contains(&reversed)
    );
}

#[test]
fn pdf_metadata_names_the_report() {
    let report = mission_report();
    let pdf = one_file(&report, Format::Pdf, Language::En);
    let dir = temp_dir();
    let path = write(dir.path(), &pdf);
    let pdfinfo = tool(&["pdfinfo"], "poppler-utils");
    let info = String::from_utf8(run(
        Command::new(pdfinfo).arg(&path),
        Duration::from_secs(60),
    ))
    .unwrap_or_default();
    let title = info
        .lines()
        .find_map(|l| l.strip_prefix("Title:"))
        .unwrap_or_else(|| panic!("no title:\n{info}"));
    assert!(title.contains("Monthly gender report"), "{info}");
    assert!(title.contains("2026-03"), "{info}");
    assert!(info.contains("595.276 x 841.89 pts (A4)"), "{info}");
}

#[test]
fn long_session_lists_run_onto_more_pages_with_their_headers() {
    let mut f = Fixture::new();
    let template: Vec<Session> = f.sessions.clone();
    for day in 1..=28u32 {
        for s in template.iter().filter(|s| s.status == Status::Accepted) {
            let mut s = s.clone();
            s.id = fieldconsult_model::SessionId::new();
            s.started_at = at(&format!("2026-03-{day:02}T15:00:00+03:00"));
            f.sessions.push(s);
        }
    }
    let report = f.report(ReportScope::Mission);
    assert!(report.sessions.len() > 100);
    let pdf = one_file(&report, Format::Pdf, Language::En);
    let dir = temp_dir();
    let path = write(dir.path(), &pdf);
    let pages = pdf_pages(&path);
    assert!(
        pages >= 4,
        "{} sessions on only {pages} pages",
        report.sessions.len()
    );
    let last = pdf_text(&path, Some((pages, pages)));
    for header in ["Date", "Community", "Referral"] {
        assert!(
            last.contains(header),
            "the last page repeats no `{header}` header:\n{last}"
        );
    }
    let folio = format!("{pages}/{pages}");
    assert!(last.replace(' ', "").contains(&folio), "{last}");
    let bottom = pdf_page_png(&path, pages, 40, dir.path());
    bottom.assert_not_blank("the last page", 0.005);
}

#[test]
fn french_pdf_has_french_headings() {
    let report = mission_report();
    let pdf = one_file(&report, Format::Pdf, Language::Fr);
    let dir = temp_dir();
    let path = write(dir.path(), &pdf);
    let text = pdf_text(&path, None);
    for heading in [
        "Rapport mensuel sur le genre",
        "Participants par sexe et par âge",
        "Couverture",
        "Préoccupations par catégorie",
        "Toute la mission",
    ] {
        assert!(text.contains(heading), "`{heading}` missing:\n{text}");
    }
    assert!(!text.contains("Monthly gender report"), "{text}");
    assert!(!text.contains("Participants by sex and age"), "{text}");
}

#[test]
fn png_charts_decode_and_are_not_blank() {
    let report = mission_report();
    let files =
        render(&report, Format::Png, Language::En).unwrap_or_else(|e| panic!("PNG charts: {e}"));
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "gender-report-mission-2026-03-en-participation-pyramid.png",
            "gender-report-mission-2026-03-en-priorities.png",
        ]
    );
    let dir = temp_dir();
    for file in &files {
        assert_eq!(file.media_type, "image/png");
        write(dir.path(), file);
        let pixels = decode_png(&file.bytes);
        let (w, h) = charts::SIZE;
        assert_eq!(
            (pixels.width, pixels.height),
            (2 * w, 2 * h),
            "{}",
            file.name
        );
        pixels.assert_not_blank(&file.name, 0.03);
        pixels.assert_has_chart_colours(&file.name);
        // On white, not transparent: every corner is white.
        for corner in [0, pixels.width as usize - 1, pixels.rgb.len() - 1] {
            assert_eq!(pixels.rgb[corner], [255, 255, 255], "{}", file.name);
        }
    }
}

#[test]
fn svg_to_png_rasterises_at_scale_and_refuses_bad_input() {
    let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">
        <rect x="0" y="0" width="20" height="20" fill="#5e3c99"/>
        <text x="22" y="15" font-family="sans-serif" font-size="12">Aa</text></svg>"##;
    let png = fieldconsult_report::png::svg_to_png(svg, 3.0)
        .unwrap_or_else(|e| panic!("rasterising: {e}"));
    let pixels = decode_png(&png);
    assert_eq!((pixels.width, pixels.height), (120, 60));
    assert!(pixels.count_near((0x5e, 0x3c, 0x99)) >= 55 * 55);
    assert_eq!(pixels.rgb[119], [255, 255, 255], "white background");

    for (bad, scale) in [
        ("not svg at all", 2.0),
        (
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"0\" height=\"0\"/>",
            2.0,
        ),
        (svg, f32::NAN),
        (svg, -1.0),
        (svg, 1.0e9),
    ] {
        assert!(
            fieldconsult_report::png::svg_to_png(bad, scale).is_err(),
            "{bad:?} at {scale} should be refused"
        );
    }
}

fn workbook(report: &MonthlyReport, lang: Language) -> Xlsx<Cursor<Vec<u8>>> {
    let file = one_file(report, Format::Xlsx, lang);
    assert!(file.name.ends_with(".xlsx"));
    keep(&file);
    open_workbook_from_rs(Cursor::new(file.bytes)).unwrap_or_else(|e| panic!("not XLSX: {e}"))
}

fn sheet(wb: &mut Xlsx<Cursor<Vec<u8>>>, name: &str) -> calamine::Range<Data> {
    wb.worksheet_range(name)
        .unwrap_or_else(|e| panic!("no sheet {name}: {e}"))
}

/// What a published cell must read back as: a number, or the hidden-cell mark as text.
fn expect_cell(sheet: &calamine::Range<Data>, pos: (u32, u32), cell: Option<u64>) {
    let got = sheet.get_value(pos);
    match cell {
        Some(n) => assert_eq!(got, Some(&Data::Float(n as f64)), "cell {pos:?}"),
        None => assert_eq!(got, Some(&Data::String("x".to_owned())), "cell {pos:?}"),
    }
}

fn expect_table(sheet: &calamine::Range<Data>, header_row: u32, cells: &SexAgeCells) {
    for (r, sex) in (header_row + 1..).zip(Sex::ALL) {
        for (c, band) in (1u32..).zip(AgeBand::ALL) {
            expect_cell(sheet, (r, c), cells.of(sex)[c as usize - 1]);
            let _ = band;
        }
        expect_cell(sheet, (r, 6), cells.total_of(sex));
    }
    for c in 1..=5u32 {
        expect_cell(
            sheet,
            (header_row + 4, c),
            cells.band_totals[c as usize - 1],
        );
    }
    expect_cell(sheet, (header_row + 4, 6), cells.total);
}

#[test]
fn workbook_holds_the_reports_participation_numbers() {
    let report = mission_report();
    let mut wb = workbook(&report, Language::En);
    assert_eq!(
        wb.sheet_names(),
        [
            "Summary",
            "Participation",
            "By team",
            "Coverage",
            "Priorities",
            "Concerns",
            "Referrals",
            "Review",
            "Sessions"
        ]
    );
    let participation = sheet(&mut wb, "Participation");
    assert_eq!(
        participation.get_value((2, 0)),
        Some(&Data::String("Sex".to_owned()))
    );
    expect_table(&participation, 2, &report.participation.total);

    // One row per team: the team's name as text, its sessions and grand total as numbers.
    let by_team = sheet(&mut wb, "By team");
    for (row, team) in (1u32..).zip(&report.participation.by_team) {
        assert_eq!(
            by_team.get_value((row, 0)),
            Some(&Data::String(team.team.clone()))
        );
        assert_eq!(
            by_team.get_value((row, 1)),
            Some(&Data::Float(f64::from(team.sessions)))
        );
        expect_cell(&by_team, (row, 20), team.participants.total);
    }

    // The sessions sheet: the CSV's columns, one row per session, numbers as numbers.
    let sessions = sheet(&mut wb, "Sessions");
    assert_eq!(sessions.height(), report.sessions.len() + 1);
    let header: Vec<String> = (0..34u32)
        .map(|c| match sessions.get_value((0, c)) {
            Some(Data::String(s)) => s.clone(),
            other => panic!("header {c}: {other:?}"),
        })
        .collect();
    assert_eq!(
        &header[..8],
        [
            "id",
            "visit_id",
            "date",
            "team",
            "community_id",
            "community",
            "group",
            "f_12_17"
        ]
    );
    assert_eq!(header[21], "u_unknown");
    assert_eq!(header[22], "total");
    assert_eq!(header[33], "referral_offered");
    for (row, s) in (1u32..).zip(&report.sessions) {
        assert_eq!(
            sessions.get_value((row, 0)),
            Some(&Data::String(s.id.to_string()))
        );
        assert!(
            matches!(sessions.get_value((row, 2)), Some(Data::DateTime(_))),
            "the date is a date"
        );
        assert_eq!(
            sessions.get_value((row, 5)),
            Some(&Data::String(s.community.name.clone()))
        );
        for (i, c) in Sex::ALL
            .iter()
            .flat_map(|sex| s.participants.of(*sex).iter())
            .enumerate()
        {
            expect_cell(&sessions, (row, 7 + i as u32), *c);
        }
        expect_cell(&sessions, (row, 22), s.participants.total);
        assert_eq!(
            sessions.get_value((row, 33)),
            Some(&Data::Bool(s.referral_offered))
        );
    }
    assert!(
        (1..=report.sessions.len() as u32)
            .any(|r| sessions.get_value((r, 5)) == Some(&Data::String(ARABIC_COMMUNITY.to_owned())))
    );
}

#[test]
fn workbook_keeps_formula_like_names_as_text() {
    let mut f = Fixture::new();
    f.teams[0].name = "=HYPERLINK(\"http://example.invalid\",\"x\")".to_owned();
    f.communities[1].name = "+1+1".to_owned();
    let report = f.report(ReportScope::Mission);
    let mut wb = workbook(&report, Language::En);
    let sessions = sheet(&mut wb, "Sessions");
    let formulas = wb
        .worksheet_formula("Sessions")
        .unwrap_or_else(|e| panic!("formulas: {e}"));
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell of the sessions sheet is a formula"
    );
    assert!(
        (1..sessions.height() as u32).any(|r| {
            sessions.get_value((r, 3)) == Some(&Data::String(f.teams[0].name.clone()))
        })
    );
    assert!(
        (1..sessions.height() as u32)
            .any(|r| sessions.get_value((r, 5)) == Some(&Data::String("+1+1".to_owned())))
    );
}

#[test]
fn french_workbook_has_french_headings_and_the_same_numbers() {
    let report = mission_report();
    let mut wb = workbook(&report, Language::Fr);
    let participation = sheet(&mut wb, "Participation");
    assert_eq!(
        participation.get_value((0, 0)),
        Some(&Data::String("Participants par sexe et par âge".to_owned()))
    );
    assert_eq!(
        participation.get_value((3, 0)),
        Some(&Data::String("Femmes".to_owned()))
    );
    expect_table(&participation, 2, &report.participation.total);
    let summary = sheet(&mut wb, "Summary");
    assert_eq!(
        summary.get_value((0, 0)),
        Some(&Data::String("Rapport mensuel sur le genre".to_owned()))
    );
}

#[test]
fn an_empty_month_still_renders_every_format() {
    let f = Fixture::new();
    let report = MonthlyReport::compute(
        ReportScope::Team {
            team_id: f.teams[1].id,
        },
        Month::new(2025, 1).unwrap_or_else(|| panic!("valid month")),
        ReportData {
            teams: &f.teams,
            communities: &f.communities,
            visits: &f.visits,
            sessions: &f.sessions,
        },
        ReportOptions::default(),
    );
    assert!(report.sessions.is_empty());
    for format in [Format::Pdf, Format::Xlsx, Format::Png] {
        for lang in [Language::En, Language::Fr] {
            let files = render(&report, format, lang).unwrap_or_else(|e| panic!("{format:?}: {e}"));
            assert!(files.iter().all(|f| !f.bytes.is_empty()), "{format:?}");
        }
    }
}

#[test]
fn hostile_names_neither_panic_nor_break_the_pdf_and_workbook() {
    let mut f = Fixture::new();
    f.teams[0].name = format!("Alpha {}", "W".repeat(3000));
    f.communities[0].name = format!("{ARABIC_COMMUNITY} (Nord)\n\tبلدة 2 \u{200d}\u{202e}x🙂");
    f.communities[1].name = String::new();
    f.communities[2].name = "=SUM(A1:A9)".to_owned();
    for scope in [
        ReportScope::Mission,
        ReportScope::Team {
            team_id: f.teams[0].id,
        },
    ] {
        let report = f.report(scope);
        for lang in [Language::En, Language::Fr] {
            for format in [Format::Pdf, Format::Xlsx, Format::Png] {
                let files = render(&report, format, lang)
                    .unwrap_or_else(|e| panic!("{format:?} {lang:?}: {e}"));
                assert!(files.iter().all(|f| !f.bytes.is_empty()));
            }
        }
    }
    let report = f.report(ReportScope::Mission);
    let pdf = one_file(&report, Format::Pdf, Language::En);
    let dir = temp_dir();
    let path = write(dir.path(), &pdf);
    let text = pdf_text(&path, None);
    assert!(text.contains("=SUM(A1:A9)"), "{text}");
    assert!(
        text.contains('…'),
        "a name too long for its cell is cut:\n{text}"
    );
}

#[test]
fn pdf_quotes_each_groups_own_words_in_its_script() {
    use fieldconsult_model::fixtures::{
        Fixture as Month, MENS_SECURITY_NOTE, WOMENS_WATER_NOTE, october_2026,
    };
    let f = october_2026();
    let report = MonthlyReport::compute(
        ReportScope::Mission,
        Month::month(),
        f.data(),
        ReportOptions::default(),
    );
    let pdf = one_file(&report, Format::Pdf, Language::En);
    let dir = temp_dir();
    let text = pdf_text(&write(dir.path(), &pdf), None);
    assert!(text.contains("In their own words"), "{text}");
    assert!(
        text.contains(WOMENS_WATER_NOTE),
        "the Arabic note, in reading order:\n{text}"
    );
    assert!(text.contains(MENS_SECURITY_NOTE), "{text}");
}
