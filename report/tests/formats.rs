//! The HTML, CSV and JSON renderings and the SVG charts of the monthly report, over a month
//! built here: two teams of one sector, four visits, six accepted sessions (women's, men's and
//! mixed), one pending and one returned; names in Arabic, names that look like markup or a
//! spreadsheet formula, and counts small enough to be hidden.

use std::collections::BTreeSet;

use chrono::DateTime;
use fieldconsult_model::report::{
    Month, MonthlyReport, ReportData, ReportOptions, ReportScope, SexAgeCells,
};
use fieldconsult_model::{
    AffectedGroup, AgeCounts, ChecklistAnswer, Community, CommunityId, Concern, ConcernCategory,
    Facilitators, Group, InterpreterSex, Language, Priority, PriorityCategory, Referral,
    ReferralServiceId, Session, SessionId, Status, Team, TeamId, TopicResponse, Urgency, Visit,
    VisitId,
};
use fieldconsult_report::labels::{self, fill};
use fieldconsult_report::{Format, ReportFile, charts, render};
use uuid::Uuid;

const SENSITIVE: &str = "SENSITIVE-NOTE-QZX";
const ARABIC_VILLAGE: &str = "قرية النور";
const ARABIC_PRIORITY: &str = "عيادة متنقلة";
const SCRIPT_VILLAGE: &str = "<script>alert('x')</script>";
const FORMULA_TEAM: &str = "=HYPERLINK(\"http://example.org\",\"click\")";

/// Counts the fixture hides: female 18–29 of the first women's session (4811) and of the
/// whole month (4829), hidden to protect the 3 girls of 12–17 next to them.
const HIDDEN_SESSION_COUNT: &str = "4811";
const HIDDEN_MONTH_COUNT: &str = "4829";

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

struct Fixture {
    teams: Vec<Team>,
    communities: Vec<Community>,
    visits: Vec<Visit>,
    sessions: Vec<Session>,
}

impl Fixture {
    fn report(&self, scope: ReportScope) -> MonthlyReport {
        MonthlyReport::compute(
            scope,
            march(),
            ReportData {
                teams: &self.teams,
                communities: &self.communities,
                visits: &self.visits,
                sessions: &self.sessions,
            },
            ReportOptions::default(),
        )
    }

    fn sector(&self) -> MonthlyReport {
        self.report(ReportScope::Sector {
            sector: "West".to_owned(),
        })
    }

    /// The sector's report with nothing hidden.
    fn sector_unsuppressed(&self) -> MonthlyReport {
        MonthlyReport::compute(
            ReportScope::Sector {
                sector: "West".to_owned(),
            },
            march(),
            ReportData {
                teams: &self.teams,
                communities: &self.communities,
                visits: &self.visits,
                sessions: &self.sessions,
            },
            ReportOptions {
                min_cell: 0,
                ..ReportOptions::default()
            },
        )
    }
}

fn march() -> Month {
    Month::new(2026, 3).unwrap_or_else(|| panic!("March 2026 is a month"))
}

fn at(rfc3339: &str) -> fieldconsult_model::Timestamp {
    DateTime::parse_from_rfc3339(rfc3339).unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
}

fn team(n: u128, name: &str) -> Team {
    Team {
        id: TeamId(id(n)),
        name: name.to_owned(),
        sector: "West".to_owned(),
    }
}

fn community(n: u128, name: &str) -> Community {
    Community {
        id: CommunityId(id(n)),
        name: name.to_owned(),
        admin_area: "County".to_owned(),
        location: None,
    }
}

fn visit(n: u128, team: u128, community: u128, day: &str) -> Visit {
    Visit {
        id: VisitId(id(n)),
        team_id: TeamId(id(team)),
        community_id: CommunityId(id(community)),
        started_at: at(day),
        ended_at: None,
        notes: format!("visit notes {SENSITIVE}"),
    }
}

struct SessionSpec {
    n: u128,
    visit: u128,
    group: Group,
    female: [u32; 5],
    male: [u32; 5],
    undisclosed: [u32; 5],
    priorities: &'static [PriorityCategory],
    others: &'static [&'static str],
    status: Status,
}

/// A session with every free-text field holding the sensitive marker, which no report may
/// show.
fn session(spec: SessionSpec, day: &str) -> Session {
    let mut s = Session::new_draft(VisitId(id(spec.visit)), spec.group, at(day));
    s.id = SessionId(id(spec.n));
    s.participants.female = AgeCounts::from_bands(spec.female);
    s.participants.male = AgeCounts::from_bands(spec.male);
    s.participants.undisclosed = AgeCounts::from_bands(spec.undisclosed);
    s.facilitators = Facilitators { female: 0, male: 2 };
    s.consent.verbal_informed = true;
    let mut priorities = Priority::ranked(spec.priorities);
    for label in spec.others {
        let mut p = Priority::ranked(&[PriorityCategory::Other]).remove(0);
        p.rank = u8::try_from(priorities.len() + 1).unwrap_or(5);
        p.other_label = (*label).to_owned();
        priorities.push(p);
    }
    // Priority notes are the one free text a report quotes ("in their own words"); every
    // other note of a session carries the marker that must never show.
    for p in &mut priorities {
        p.note = "priority note, quoted".to_owned();
    }
    s.priorities = priorities;
    s.answers = vec![ChecklistAnswer {
        topic: "community_status".to_owned(),
        response: TopicResponse::Discussed,
        note: format!("answer {SENSITIVE}"),
    }];
    s.sensitive_note = format!("sealed {SENSITIVE}");
    s.status = spec.status;
    s
}

fn concern(category: ConcernCategory, affected: &[AffectedGroup], urgency: Urgency) -> Concern {
    Concern {
        category,
        affected: affected.iter().copied().collect::<BTreeSet<_>>(),
        location: format!("road {SENSITIVE}"),
        timing: format!("nights {SENSITIVE}"),
        urgency,
        note: String::new(),
    }
}

fn spec(n: u128, visit: u128, group: Group) -> SessionSpec {
    SessionSpec {
        n,
        visit,
        group,
        female: [0; 5],
        male: [0; 5],
        undisclosed: [0; 5],
        priorities: &[],
        others: &[],
        status: Status::Accepted,
    }
}

fn fixture() -> Fixture {
    use PriorityCategory as P;
    let teams = vec![team(1, "Engagement Team 1"), team(2, FORMULA_TEAM)];
    let communities = vec![
        community(11, ARABIC_VILLAGE),
        community(12, SCRIPT_VILLAGE),
        community(13, "+Kaya"),
        community(14, "@Gbarnga"),
    ];
    let visits = vec![
        visit(21, 1, 11, "2026-03-04T09:00:00+03:00"),
        visit(22, 2, 12, "2026-03-10T09:00:00+03:00"),
        visit(23, 2, 13, "2026-03-12T09:00:00+03:00"),
        visit(24, 1, 14, "2026-03-20T09:00:00+03:00"),
    ];

    let mut s1 = session(
        SessionSpec {
            female: [3, 4811, 4933, 5057, 5119],
            priorities: &[P::Water, P::SafeMovement, P::Health],
            others: &["Mobile clinic"],
            ..spec(31, 21, Group::Women)
        },
        "2026-03-04T10:00:00+03:00",
    );
    s1.facilitators = Facilitators { female: 2, male: 1 };
    s1.interpreter.sex = InterpreterSex::Female;
    s1.interpreter.language = "Juba Arabic".to_owned();
    s1.concerns = vec![concern(
        ConcernCategory::SexualViolenceRisk,
        &[AffectedGroup::Women, AffectedGroup::Girls],
        Urgency::Urgent,
    )];
    s1.referral = Some(Referral::to(ReferralServiceId(id(91))));

    let mut s2 = session(
        SessionSpec {
            male: [20, 41, 52, 17, 0],
            undisclosed: [0, 0, 0, 0, 6],
            priorities: &[P::LivelihoodsAndWork, P::Water, P::Justice],
            ..spec(32, 21, Group::Men)
        },
        "2026-03-04T12:00:00+03:00",
    );
    s2.interpreter.sex = InterpreterSex::Male;
    s2.interpreter.language = "Juba Arabic".to_owned();
    s2.concerns = vec![concern(
        ConcernCategory::ArmedGroupPresence,
        &[AffectedGroup::Men, AffectedGroup::Boys],
        Urgency::Priority,
    )];

    let mut s3 = session(
        SessionSpec {
            female: [0, 12, 9, 0, 0],
            priorities: &[P::Schools, P::Water],
            others: &[ARABIC_PRIORITY],
            ..spec(33, 22, Group::Women)
        },
        "2026-03-10T10:00:00+03:00",
    );
    s3.facilitators = Facilitators { female: 1, male: 1 };
    s3.concerns = vec![concern(
        ConcernCategory::MovementRestriction,
        &[AffectedGroup::Women],
        Urgency::Routine,
    )];

    let s4 = session(
        SessionSpec {
            male: [0, 8, 11, 0, 0],
            priorities: &[P::Water, P::Shelter],
            others: &["<b>roads</b>"],
            ..spec(34, 22, Group::Men)
        },
        "2026-03-10T12:00:00+03:00",
    );
    let s5 = session(
        SessionSpec {
            female: [0, 6, 0, 0, 0],
            male: [0, 7, 0, 0, 0],
            priorities: &[P::Food],
            ..spec(35, 23, Group::Mixed)
        },
        "2026-03-12T10:00:00+03:00",
    );
    let s6 = session(
        SessionSpec {
            female: [0, 0, 5, 0, 0],
            male: [0, 0, 5, 0, 0],
            priorities: &[P::Food],
            ..spec(36, 24, Group::Mixed)
        },
        "2026-03-20T10:00:00+03:00",
    );
    let pending = session(
        SessionSpec {
            female: [0, 9, 0, 0, 0],
            status: Status::Submitted,
            ..spec(37, 21, Group::Women)
        },
        "2026-03-05T10:00:00+03:00",
    );
    let returned = session(
        SessionSpec {
            male: [0, 9, 0, 0, 0],
            status: Status::Returned,
            ..spec(38, 22, Group::Men)
        },
        "2026-03-11T10:00:00+03:00",
    );
    let draft = session(
        SessionSpec {
            female: [0, 9, 0, 0, 0],
            status: Status::Draft,
            ..spec(39, 22, Group::Women)
        },
        "2026-03-11T11:00:00+03:00",
    );
    Fixture {
        teams,
        communities,
        visits,
        sessions: vec![s1, s2, s3, s4, s5, s6, pending, returned, draft],
    }
}

fn empty_month() -> MonthlyReport {
    MonthlyReport::compute(
        ReportScope::Mission,
        march(),
        ReportData {
            teams: &[],
            communities: &[],
            visits: &[],
            sessions: &[],
        },
        ReportOptions::default(),
    )
}

fn files(report: &MonthlyReport, format: Format, lang: Language) -> Vec<ReportFile> {
    render(report, format, lang).unwrap_or_else(|e| panic!("{format:?} renders: {e}"))
}

fn html(report: &MonthlyReport, lang: Language) -> String {
    let files = files(report, Format::Html, lang);
    assert_eq!(files.len(), 1);
    String::from_utf8(files[0].bytes.clone()).unwrap_or_else(|e| panic!("HTML is UTF-8: {e}"))
}

/// The CSV file whose name ends in `-<part>.csv`, parsed: header and rows.
fn csv_table(
    report: &MonthlyReport,
    lang: Language,
    part: &str,
) -> (Vec<String>, Vec<Vec<String>>) {
    let files = files(report, Format::Csv, lang);
    let suffix = format!("-{part}.csv");
    let file = files
        .iter()
        .find(|f| f.name.ends_with(&suffix))
        .unwrap_or_else(|| panic!("no file {suffix} among {:?}", names(&files)));
    parse_csv(&file.bytes)
}

fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader
        .headers()
        .unwrap_or_else(|e| panic!("CSV header: {e}"))
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("CSV row: {e}"))
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    (header, rows)
}

fn names(files: &[ReportFile]) -> Vec<&str> {
    files.iter().map(|f| f.name.as_str()).collect()
}

/// The text inside the first `<table class="{class}">` of `html`: each cell's content
/// without its tags, row by row, header row first.
fn html_table(html: &str, class: &str) -> Vec<Vec<String>> {
    let open = format!("<table class=\"{class}\">");
    let start = html
        .find(&open)
        .unwrap_or_else(|| panic!("no table {class}"));
    let end = start + html[start..].find("</table>").unwrap_or(0);
    html[start..end]
        .split("<tr>")
        .skip(1)
        .map(|row| {
            row.replace("</th>", "</td>")
                .split("</td>")
                .filter_map(|cell| {
                    let open = cell.rfind("<td").or_else(|| cell.rfind("<th"))?;
                    let content = &cell[open..];
                    let content = &content[content.find('>')? + 1..];
                    Some(strip_tags(content))
                })
                .collect()
        })
        .collect()
}

fn without_svg(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("</svg>")
            .map_or(rest.len(), |e| start + e + 6);
        rest = &rest[end..];
    }
    out + rest
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn expected_row(label: &str, cells: &[Option<u64>], total: Option<u64>) -> Vec<String> {
    let l = &labels::EN;
    [label.to_owned()]
        .into_iter()
        .chain(cells.iter().map(|c| l.cell(*c, 5).replace('<', "&lt;")))
        .chain([l.cell(total, 5).replace('<', "&lt;")])
        .collect()
}

fn all_participants(f: &Fixture) -> u64 {
    f.sessions
        .iter()
        .filter(|s| s.status == Status::Accepted)
        .map(|s| s.participants.total())
        .sum()
}

#[test]
fn html_shows_every_number_of_the_participation_table() {
    let f = fixture();
    let report = f.sector();
    let page = html(&report, Language::En);
    let rows = html_table(&page, "participation");
    assert_eq!(
        rows[0],
        ["Sex", "12–17", "18–29", "30–59", "60+", "Unknown", "Total"]
    );
    let t: &SexAgeCells = &report.participation.total;
    assert_eq!(rows[1], expected_row("Female", &t.female, t.sex_totals[0]));
    assert_eq!(rows[2], expected_row("Male", &t.male, t.sex_totals[1]));
    assert_eq!(
        rows[3],
        expected_row("Undisclosed", &t.undisclosed, t.sex_totals[2])
    );
    assert_eq!(rows[4], expected_row("Total", &t.band_totals, t.total));
    // The numbers themselves, counted from the sessions rather than read from the report.
    assert_eq!(rows[1][3], "4947", "female 30–59: 4933 + 9 + 5");
    assert_eq!(rows[4][6], all_participants(&f).to_string());
    assert_eq!(rows[4][6], "20122");
    let rows = html_table(
        &html(&f.sector_unsuppressed(), Language::En),
        "participation",
    );
    assert_eq!(rows[2][2], "56", "male 18–29: 41 + 8 + 7");
    assert_eq!(rows[3][5], "6");
}

#[test]
fn suppressed_cells_never_appear_in_any_format() {
    let report = fixture().sector();
    // The fixture hides what it means to hide.
    assert_eq!(report.participation.total.female[0], None);
    assert_eq!(report.participation.total.female[1], None);
    assert_eq!(report.sessions[0].participants.female[1], None);
    for lang in [Language::En, Language::Fr] {
        for format in [Format::Html, Format::Csv, Format::Json] {
            for file in files(&report, format, lang) {
                let text = String::from_utf8_lossy(&file.bytes);
                for hidden in [HIDDEN_SESSION_COUNT, HIDDEN_MONTH_COUNT] {
                    assert!(
                        !text.contains(hidden),
                        "{} shows the hidden {hidden}",
                        file.name
                    );
                }
            }
        }
        for chart in charts::all(&report, lang).unwrap_or_else(|e| panic!("charts: {e}")) {
            assert!(!chart.svg.contains(HIDDEN_MONTH_COUNT), "{}", chart.id);
        }
    }
    let page = html(&report, Language::En);
    assert!(
        page.contains("<td class=\"suppressed\" title=\"hidden to protect participants\">x</td>")
    );
    let (_, rows) = csv_table(&report, Language::En, "participation");
    assert_eq!(rows[0][..3], ["female", "x", "x"]);
}

#[test]
fn sensitive_notes_appear_in_no_format() {
    let report = fixture().sector();
    for lang in [Language::En, Language::Fr] {
        for format in [Format::Html, Format::Csv, Format::Json] {
            for file in files(&report, format, lang) {
                let text = String::from_utf8_lossy(&file.bytes);
                assert!(!text.contains(SENSITIVE), "{} leaks a note", file.name);
            }
        }
    }
}

#[test]
fn arabic_community_names_are_isolated_for_right_to_left() {
    // A chart's SVG <text> holds one label alone, isolated by its element already.
    let page = without_svg(&html(&fixture().sector(), Language::En));
    for name in [ARABIC_VILLAGE, ARABIC_PRIORITY] {
        let occurrences = page.matches(name).count();
        let isolated = page.matches(&format!("<bdi>{name}</bdi>")).count();
        assert!(occurrences > 0, "{name} is shown");
        assert_eq!(isolated, occurrences, "every {name} sits in its own <bdi>");
    }
    // The village's two accepted sessions; the priority's place among women's, the women's
    // words on it, its "only women" line, its row of every priority and its session.
    assert_eq!(page.matches(ARABIC_VILLAGE).count(), 2);
    assert_eq!(page.matches(ARABIC_PRIORITY).count(), 5);
    assert!(
        page.contains("<bdi>=HYPERLINK(&quot;http://example.org&quot;,&quot;click&quot;)</bdi>")
    );
}

#[test]
fn user_typed_markup_is_shown_as_text() {
    let page = html(&fixture().sector(), Language::En);
    assert!(!page.contains("<script"), "no script element, typed or not");
    assert!(
        !page.contains("<b>roads"),
        "a priority label cannot add markup"
    );
    assert!(page.contains("<bdi>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</bdi>"));
    assert!(page.contains("<bdi>&lt;b&gt;roads&lt;/b&gt;</bdi>"));
}

#[test]
fn html_is_one_self_contained_printable_file() {
    let page = html(&fixture().sector(), Language::En);
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(page.contains("<meta charset=\"utf-8\">"));
    assert!(page.contains("@page { size: A4; margin: 15mm; }"));
    assert!(page.contains("@media print"));
    assert!(page.contains("page-break-inside: avoid"));
    for outside in ["<script", "<link", "src=", "href=", "url(", "@import"] {
        assert!(
            !page.contains(outside),
            "{outside} reaches outside the file"
        );
    }
    assert_eq!(page.matches("<svg").count(), 2, "both charts inline");
    assert!(page.trim_end().ends_with("</html>"));
}

#[test]
fn html_sections_follow_the_report_order() {
    let page = html(&fixture().sector(), Language::En);
    let l = &labels::EN;
    let headings = [
        l.title,
        l.participation,
        l.participation_by_team,
        l.coverage,
        l.priorities,
        l.all_priorities,
        l.concerns_by_affected,
        l.concerns_by_category,
        l.referrals,
        l.review,
        l.sessions,
    ];
    let positions: Vec<usize> = headings
        .iter()
        .map(|h| {
            let h = h.replace('\'', "&#39;");
            page.find(&format!(">{h}</h"))
                .unwrap_or_else(|| panic!("no heading {h}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let footer = page.find("<footer>").unwrap_or(0);
    assert!(footer > positions[10]);
}

#[test]
fn html_states_what_the_figures_count_and_what_is_hidden() {
    let page = html(&fixture().sector(), Language::En);
    assert!(page.contains("<p class=\"scope\">Sector <bdi>West</bdi></p>"));
    assert!(page.contains("2026-03"));
    assert!(page.contains(
        "Figures count the 6 accepted sessions of the month. 1 more await review and 1 were returned to their team."
    ));
    assert!(page.contains("Counts of fewer than 5 participants are hidden"));
}

#[test]
fn html_sets_womens_and_mens_priorities_side_by_side() {
    let page = html(&fixture().sector(), Language::En);
    let rows = html_table(&page, "side-by-side");
    // Women: water 5 + 4, schools 5, safe movement 4, health 3, then the Arabic label 3.
    // Men: water 5 + 4, livelihoods 5, shelter 4, justice 3, roads 3.
    assert_eq!(rows[1], ["1", "Water (9)", "Water (9)", "Food (10)"]);
    assert_eq!(
        rows[2],
        ["2", "Schools (5)", "Livelihoods and work (5)", ""]
    );
    assert_eq!(rows[3], ["3", "Safe movement (4)", "Shelter (4)", ""]);
    assert_eq!(rows[4], ["4", "Health (3)", "Justice (3)", ""]);
    assert_eq!(rows[5][0], "5");
    assert_eq!(rows.len(), 6);
    let only_women = page
        .split("Raised only by women</h3>")
        .nth(1)
        .and_then(|s| s.split("</ul>").next())
        .unwrap_or_default();
    assert!(only_women.contains("<li>Schools</li>"));
    assert!(only_women.contains("<li><bdi>mobile clinic</bdi></li>"));
    assert!(!only_women.contains("Water"));
}

#[test]
fn html_coverage_shows_the_shares_and_the_communities_left_out() {
    let page = html(&fixture().sector(), Language::En);
    let rows = html_table(&page, "coverage");
    assert_eq!(
        rows[0],
        ["Visits with a separate women&#39;s session", "2 / 4 (50%)"]
    );
    assert_eq!(
        rows[1],
        [
            "Sessions with at least one woman facilitator",
            "2 / 6 (33%)"
        ]
    );
    assert_eq!(rows[2], ["Interpreters", "Female: 1, Male: 1, None: 4"]);
    assert_eq!(rows[3], ["Communities consulted", "4"]);
    let never = page
        .split("Communities never consulted with women</h3>")
        .nth(1)
        .and_then(|s| s.split("</ul>").next())
        .unwrap_or_default();
    assert_eq!(
        never,
        "\n<ul><li><bdi>+Kaya</bdi></li><li><bdi>@Gbarnga</bdi></li>"
    );
}

#[test]
fn html_counts_concerns_referrals_review_and_sessions() {
    let page = html(&fixture().sector(), Language::En);
    let affected = html_table(&page, "concerns-by-affected");
    assert_eq!(affected[0][4..], ["Routine", "Priority", "Urgent"]);
    assert_eq!(affected[1], ["Women", "2", "0", "0", "1", "0", "1"]);
    assert_eq!(affected[4], ["Boys", "0", "1", "0", "0", "1", "0"]);
    let category = html_table(&page, "concerns-by-category");
    let svr = category
        .iter()
        .find(|r| r[0] == "Sexual violence risk")
        .unwrap_or_else(|| panic!("row of sexual violence risk"));
    assert_eq!(svr, &["Sexual violence risk", "1", "0", "0", "1", "1"]);
    let referrals = html_table(&page, "referrals");
    assert_eq!(referrals[1], ["Sessions", "1", "0", "0", "1"]);
    let review = html_table(&page, "review");
    assert_eq!(review[1], ["Pending", "1", "0", "0", "1"]);
    assert_eq!(review[2], ["Returned", "0", "1", "0", "1"]);
    assert_eq!(review[3], ["Accepted", "2", "2", "2", "6"]);
    let sessions = html_table(&page, "sessions long");
    assert_eq!(sessions.len(), 7, "header and the six accepted sessions");
    assert_eq!(sessions[1][0], "2026-03-04");
    assert_eq!(
        sessions[1][4], "19923",
        "3 + 4811 + 4933 + 5057 + 5119, its cells hidden"
    );
    assert_eq!(sessions[1][5], "2/1");
    assert_eq!(sessions[1][6], "Female");
    assert_eq!(sessions[1][8], "1");
    assert_eq!(sessions[1][9], "yes");
    assert_eq!(sessions[2][4], "136", "20 + 41 + 52 + 17 + 6");
}

#[test]
fn the_per_team_table_appears_unless_the_report_is_one_teams() {
    let f = fixture();
    let sector = html(&f.sector(), Language::En);
    let rows = html_table(&sector, "by-team");
    assert_eq!(rows.len(), 3);
    // By name: "=" sorts before "E".
    assert_eq!(
        rows[1][0],
        "=HYPERLINK(&quot;http://example.org&quot;,&quot;click&quot;)"
    );
    assert_eq!(rows[1][1..], ["3", "27", "26", "0", "53"]);
    assert_eq!(rows[2][0], "Engagement Team 1");
    assert_eq!(rows[2][1], "3");
    let team = html(
        &f.report(ReportScope::Team {
            team_id: TeamId(id(1)),
        }),
        Language::En,
    );
    assert!(!team.contains("Participants by team"));
    assert!(team.contains("Team <bdi>Engagement Team 1</bdi>"));
}

#[test]
fn french_report_uses_french_headings() {
    let report = fixture().sector();
    let page = html(&report, Language::Fr);
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"));
    let l = &labels::FR;
    for heading in [l.participation, l.coverage, l.referrals, l.review] {
        assert!(page.contains(&format!(">{heading}</h2>")), "{heading}");
    }
    assert!(page.contains("Secteur <bdi>West</bdi>"));
    assert!(page.contains("<p>Mois\u{a0}: <time datetime=\"2026-03\">2026-03</time></p>"));
    assert!(page.contains("2 / 4 (50\u{202f}%)"));
    assert!(page.contains("<td class=\"text\">Eau (9)</td>"));
    assert!(page.contains("masqué pour protéger les participants"));
    for english in [
        "Coverage",
        "Participants by sex",
        "Raised only by women",
        "Water",
    ] {
        assert!(!page.contains(english), "{english} in the French report");
    }
    let charts = charts::all(&report, Language::Fr).unwrap_or_else(|e| panic!("charts: {e}"));
    assert_eq!(charts[0].title, l.chart_pyramid);
    assert!(charts[0].svg.contains("Femmes"));
    assert!(charts[1].svg.contains("Priorités des hommes"));
}

#[test]
fn csv_cells_cannot_start_a_formula() {
    let report = fixture().sector();
    for file in files(&report, Format::Csv, Language::En) {
        let (_, rows) = parse_csv(&file.bytes);
        for cell in rows.iter().flatten() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{}: {cell}",
                file.name
            );
        }
    }
    let (header, rows) = csv_table(&report, Language::En, "sessions");
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    assert_eq!(rows[2][col("team")], format!("'{FORMULA_TEAM}"));
    assert_eq!(rows[4][col("community")], "'+Kaya");
    assert_eq!(rows[5][col("community")], "'@Gbarnga");
    assert_eq!(rows[0][col("community")], ARABIC_VILLAGE);
}

#[test]
fn csv_has_one_file_per_table_with_stable_names() {
    let report = fixture().sector();
    let files = files(&report, Format::Csv, Language::En);
    let parts = [
        "participation",
        "participation-by-team",
        "coverage",
        "priorities",
        "priorities-side-by-side",
        "concerns-by-affected",
        "concerns-by-category",
        "referrals",
        "review",
        "sessions",
    ];
    let expected: Vec<String> = parts
        .iter()
        .map(|p| format!("gender-report-sector-west-2026-03-en-{p}.csv"))
        .collect();
    assert_eq!(names(&files), expected);
    assert!(
        files
            .iter()
            .all(|f| f.media_type == "text/csv; charset=utf-8")
    );
    // Headers are for scripts: the same whatever the report's language.
    for part in parts {
        assert_eq!(
            csv_table(&report, Language::En, part).0,
            csv_table(&report, Language::Fr, part).0,
            "{part}"
        );
    }
}

#[test]
fn csv_sessions_have_one_wide_row_per_session() {
    let report = fixture().sector();
    let (header, rows) = csv_table(&report, Language::En, "sessions");
    let mut expected: Vec<String> = [
        "id",
        "visit_id",
        "date",
        "team",
        "community_id",
        "community",
        "group",
    ]
    .map(str::to_owned)
    .to_vec();
    for sex in ["f", "m", "u"] {
        for band in ["12_17", "18_29", "30_59", "60_plus", "unknown"] {
            expected.push(format!("{sex}_{band}"));
        }
    }
    expected.extend(
        [
            "total",
            "facilitators_female",
            "facilitators_male",
            "interpreter",
            "priority_1",
            "priority_2",
            "priority_3",
            "priority_4",
            "priority_5",
            "concerns",
            "urgent_concerns",
            "referral_offered",
        ]
        .map(str::to_owned),
    );
    assert_eq!(header, expected);
    assert_eq!(rows.len(), 6);
    let first: Vec<&str> = rows[0].iter().map(String::as_str).collect();
    assert_eq!(first[0], id(31).to_string());
    assert_eq!(first[1], id(21).to_string());
    assert_eq!(
        first[2..7],
        [
            "2026-03-04",
            "Engagement Team 1",
            &id(11).to_string(),
            ARABIC_VILLAGE,
            "women"
        ]
    );
    assert_eq!(first[7..12], ["x", "x", "4933", "5057", "5119"]);
    assert_eq!(
        first[22..],
        [
            "19923",
            "2",
            "1",
            "female",
            "water",
            "safe_movement",
            "health",
            "other:mobile clinic",
            "",
            "1",
            "1",
            "true"
        ]
    );
    assert_eq!(rows[1][22], "136");
    assert_eq!(rows[1][6], "men");
    assert_eq!(rows[1][32], "0", "a priority concern is not urgent");
    assert_eq!(rows[4][6], "mixed");
}

#[test]
fn csv_tables_hold_the_reports_numbers_as_codes() {
    let report = fixture().sector();
    let (header, rows) = csv_table(&report, Language::Fr, "participation");
    assert_eq!(
        header,
        [
            "sex", "12_17", "18_29", "30_59", "60_plus", "unknown", "total"
        ]
    );
    // Male 12–17 and 18–29 are hidden only because they are the smallest counts beside the
    // hidden female ones in their columns.
    assert_eq!(rows[1], ["male", "x", "x", "68", "17", "0", "161"]);
    assert_eq!(rows[3][6], "20122");
    let unsuppressed =
        fieldconsult_report::render(&fixture().sector_unsuppressed(), Format::Csv, Language::Fr)
            .unwrap_or_else(|e| panic!("csv: {e}"));
    let participation = unsuppressed
        .iter()
        .find(|f| f.name.ends_with("-participation.csv"))
        .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
        .unwrap_or_default();
    assert!(
        participation.contains("male,20,56,68,17,0,161"),
        "{participation}"
    );
    let (_, rows) = csv_table(&report, Language::Fr, "priorities");
    let water = rows
        .iter()
        .find(|r| r[0] == "water")
        .unwrap_or_else(|| panic!("water row"));
    assert_eq!(water[1], "Eau");
    assert_eq!(water[2..], ["2", "1", "9", "2", "1", "9", "", "", "", ""]);
    let schools = rows
        .iter()
        .find(|r| r[0] == "schools")
        .map(|r| r[11].as_str());
    assert_eq!(schools, Some("women"));
    let (_, rows) = csv_table(&report, Language::En, "priorities-side-by-side");
    assert_eq!(
        rows[0][..9],
        ["1", "water", "Water", "9", "2", "water", "Water", "9", "2"]
    );
    let (_, rows) = csv_table(&report, Language::En, "review");
    assert_eq!(rows[2], ["accepted", "2", "2", "2", "6"]);
    let (_, rows) = csv_table(&report, Language::En, "coverage");
    assert_eq!(rows[0], ["visits", "4", "", ""]);
    assert_eq!(rows[1], ["visits_with_women_session", "2", "", ""]);
    assert!(rows.contains(&vec![
        "community_never_consulted_with_women".to_owned(),
        String::new(),
        id(13).to_string(),
        "'+Kaya".to_owned()
    ]));
    let (_, rows) = csv_table(&report, Language::En, "concerns-by-affected");
    assert_eq!(rows[1], ["girls", "1", "0", "0", "0", "0", "1"]);
}

#[test]
fn charts_draw_nothing_for_a_suppressed_cell() {
    let report = fixture().sector();
    let t = &report.participation.total;
    assert_eq!(t.female[..2], [None, None]);
    let chart = charts::participation_pyramid(&report, Language::En)
        .unwrap_or_else(|e| panic!("pyramid: {e}"));
    let svg = &chart.svg;
    let women_rects = svg
        .split("<rect")
        .filter(|r| {
            r.split('>')
                .next()
                .unwrap_or("")
                .contains("fill=\"#5E3C99\"")
        })
        .count();
    // Three visible female counts and the legend's swatch; nothing for the two hidden ones.
    assert_eq!(women_rects, 4);
    let hidden = [&t.female, &t.male]
        .iter()
        .flat_map(|row| row.iter())
        .filter(|c| c.is_none())
        .count();
    assert_eq!(svg.matches(">\nx\n</text>").count(), hidden);
    for shown in ["4947", "5057", "5119", "68"] {
        assert!(svg.contains(&format!(">\n{shown}\n</text>")), "{shown}");
    }
    assert!(svg.contains("Undisclosed: 6"));
    assert!(svg.contains("font-family=\"DejaVu Sans, Arial, sans-serif\""));
}

#[test]
fn charts_use_one_colour_per_sex_in_both_charts() {
    let report = fixture().sector();
    let charts = charts::all(&report, Language::En).unwrap_or_else(|e| panic!("charts: {e}"));
    assert_eq!(
        charts.iter().map(|c| c.id).collect::<Vec<_>>(),
        ["participation-pyramid", "priorities"]
    );
    for chart in &charts {
        assert!(
            chart.svg.starts_with("<svg width=\"720\" height=\"360\""),
            "{}",
            chart.id
        );
        assert!(
            chart.svg.contains("#5E3C99") && chart.svg.contains("#E66101"),
            "{}",
            chart.id
        );
        assert!(
            chart
                .svg
                .contains(&format!("<title>{}</title>", chart.title))
        );
    }
    let priorities = &charts[1].svg;
    assert!(
        priorities.contains("Women's priorities") || priorities.contains("Women&apos;s priorities")
    );
    assert!(
        priorities.contains("&lt;b&gt;roads&lt;/b&gt;"),
        "labels are escaped"
    );
    assert!(!priorities.contains("<b>"));
}

#[test]
fn empty_month_renders_every_format() {
    let report = empty_month();
    for lang in [Language::En, Language::Fr] {
        let l = labels::of(lang);
        let page = html(&report, lang);
        let basis = fill(
            l.basis,
            &[("accepted", "0"), ("pending", "0"), ("returned", "0")],
        );
        assert!(page.contains(&basis.replace('\'', "&#39;")));
        assert_eq!(page.matches(l.no_data).count(), 2, "both charts say so");
        let charts = charts::all(&report, lang).unwrap_or_else(|e| panic!("charts: {e}"));
        assert_eq!(charts.len(), 2);
        for chart in charts {
            assert!(chart.svg.contains(l.no_data));
            assert!(chart.svg.trim_end().ends_with("</svg>"));
        }
        let csv = files(&report, Format::Csv, lang);
        assert_eq!(csv.len(), 10);
        let (_, sessions) = csv_table(&report, lang, "sessions");
        assert!(sessions.is_empty());
        let (_, participation) = csv_table(&report, lang, "participation");
        assert_eq!(participation[3], ["total", "0", "0", "0", "0", "0", "0"]);
        let json = files(&report, Format::Json, lang);
        assert_eq!(json[0].name, "gender-report-mission-2026-03.json");
    }
}

#[test]
fn the_english_and_french_files_of_one_month_have_different_names_but_the_json_data_one() {
    let report = empty_month();
    for format in Format::ALL.iter().copied() {
        let en = files(&report, format, Language::En);
        let fr = files(&report, format, Language::Fr);
        let en: BTreeSet<&str> = names(&en).into_iter().collect();
        let fr: BTreeSet<&str> = names(&fr).into_iter().collect();
        if format == Format::Json {
            assert_eq!(en, fr, "the same data in either language");
        } else {
            assert!(en.is_disjoint(&fr), "{format:?}: {en:?} and {fr:?}");
            assert!(fr.iter().all(|n| n.contains("-2026-03-fr")), "{fr:?}");
        }
    }
}
