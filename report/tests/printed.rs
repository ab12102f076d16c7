//! What the printed formats (HTML, PDF) list of the sessions behind a report: all of them up
//! to `PRINTED_SESSIONS`, then the first ones and where the rest are; the data files always
//! hold every one.

use fieldconsult_model::Language;
use fieldconsult_model::fixtures::{Fixture, october_2026};
use fieldconsult_model::report::{MonthlyReport, ReportOptions, ReportScope};
use fieldconsult_report::{Format, PRINTED_SESSIONS, render};

/// The fixture's mission report with its session lines repeated to `n`.
fn report_with_sessions(n: usize) -> MonthlyReport {
    let f = october_2026();
    let mut r = MonthlyReport::compute(
        ReportScope::Mission,
        Fixture::month(),
        f.data(),
        ReportOptions::default(),
    );
    let lines = r.sessions.clone();
    r.sessions = lines.iter().cycle().take(n).cloned().collect();
    r
}

fn text(format: Format, r: &MonthlyReport) -> Vec<(String, String)> {
    render(r, format, Language::En)
        .unwrap_or_else(|e| panic!("{format:?}: {e}"))
        .into_iter()
        .map(|f| (f.name, String::from_utf8_lossy(&f.bytes).into_owned()))
        .collect()
}

fn html_session_rows(r: &MonthlyReport) -> usize {
    let (_, page) = text(Format::Html, r).remove(0);
    let section = page
        .split("id=\"sessions\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no sessions section"));
    let body = section.split("</table>").next().unwrap_or_default();
    body.matches("<tr").count() - 1
}

#[test]
fn a_printed_report_lists_every_session_up_to_the_limit() {
    let r = report_with_sessions(PRINTED_SESSIONS);
    assert_eq!(html_session_rows(&r), PRINTED_SESSIONS);
    let (_, page) = text(Format::Html, &r).remove(0);
    assert!(!page.contains("are listed here"));
}

#[test]
fn past_the_limit_a_printed_report_says_where_every_session_is() {
    let total = PRINTED_SESSIONS + 7;
    let r = report_with_sessions(total);
    assert_eq!(html_session_rows(&r), PRINTED_SESSIONS);
    let (_, page) = text(Format::Html, &r).remove(0);
    assert!(page.contains(&format!(
        "The first {PRINTED_SESSIONS} of the {total} sessions are listed here"
    )));
    let csv = text(Format::Csv, &r);
    let (_, sessions) = csv
        .iter()
        .find(|(name, _)| name.ends_with("-sessions.csv"))
        .unwrap_or_else(|| panic!("no sessions.csv"));
    assert_eq!(
        sessions.trim_end().lines().count(),
        total + 1,
        "header and every session"
    );
}

#[test]
fn html_quotes_each_groups_own_words_with_their_direction() {
    use fieldconsult_model::fixtures::{MENS_SECURITY_NOTE, WOMENS_WATER_NOTE};
    let (_, page) = text(Format::Html, &report_with_sessions(5)).remove(0);
    assert!(page.contains("In their own words"));
    assert!(page.contains(&format!(
        "<blockquote dir=\"auto\">{WOMENS_WATER_NOTE}</blockquote>"
    )));
    assert!(page.contains(&format!(
        "<blockquote dir=\"auto\">{MENS_SECURITY_NOTE}</blockquote>"
    )));
}
