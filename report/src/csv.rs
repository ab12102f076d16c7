//! CSV: one file per table of the report, and one of the sessions behind them.
//!
//! Rules every file follows, for the analysts' scripts that read them:
//! - UTF-8 without a byte-order mark, comma-separated, quoted where needed (RFC 4180).
//! - The header row holds stable snake_case column names, the same in every language.
//! - Categories, groups, sexes and states are written as their stable codes (`women`,
//!   `safe_movement`); an `other` priority as `other:<its label>`. A `label` column, where
//!   there is one, holds the human label in the report's language.
//! - A count hidden by small-cell suppression is written as the hidden-cell mark of the
//!   report (`x`): never empty, which a script could read as zero, and never a number. Shares are not written: they follow from the counts.
//! - Where a group did not rank a priority its columns are empty.
//! - A cell that would start with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
//!   leading apostrophe (the OWASP rule against CSV injection): team and community names are
//!   typed by users and these files are opened in spreadsheets.

use fieldconsult_model::report::monthly::{ByGroup, CommunityRef, SessionLine};
use fieldconsult_model::report::text::priority_label;
use fieldconsult_model::report::{Cell, MonthlyReport, PriorityKey, PriorityStat, SexAgeCells};
use fieldconsult_model::{AgeBand, Group, InterpreterSex, Language, Sex, Urgency};

use crate::labels::{self, Labels};
use crate::{RenderError, ReportFile};

const GROUPS: [Group; 3] = [Group::Women, Group::Men, Group::Mixed];

/// Every table as a CSV file, in the order of the HTML document.
pub(crate) fn render(
    report: &MonthlyReport,
    lang: Language,
) -> Result<Vec<ReportFile>, RenderError> {
    let t = Tables {
        report,
        lang,
        l: labels::of(lang),
    };
    [
        t.participation(),
        t.participation_by_team(),
        t.coverage(),
        t.priorities(),
        t.priorities_side_by_side(),
        t.concerns_by_affected(),
        t.concerns_by_category(),
        t.referrals(),
        t.review(),
        t.sessions(),
    ]
    .into_iter()
    .map(|table| write(report, lang, table))
    .collect()
}

/// One CSV file before writing.
struct Table {
    part: &'static str,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn write(report: &MonthlyReport, lang: Language, table: Table) -> Result<ReportFile, RenderError> {
    let fail = |_| RenderError::Table { table: table.part };
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(&table.header).map_err(fail)?;
    for row in &table.rows {
        w.write_record(row.iter().map(|c| guard(c))).map_err(fail)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|_| RenderError::Table { table: table.part })?;
    Ok(ReportFile {
        name: crate::file_name(report, crate::Format::Csv, lang, Some(table.part)),
        media_type: "text/csv; charset=utf-8",
        bytes,
    })
}

/// `cell`, with a leading apostrophe if a spreadsheet would read it as a formula.
pub(crate) fn guard(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// The column suffix of an age band: `12_17`, `18_29`, `30_59`, `60_plus`, `unknown`.
fn band_suffix(band: AgeBand) -> &'static str {
    let code = band.code();
    code.strip_prefix("age_").unwrap_or(code)
}

fn sex_prefix(sex: Sex) -> &'static str {
    match sex {
        Sex::Female => "f",
        Sex::Male => "m",
        Sex::Undisclosed => "u",
    }
}

/// `f_12_17`, …, `u_unknown`: the wide columns of a sex × age table.
fn wide_columns() -> Vec<String> {
    Sex::ALL
        .iter()
        .flat_map(|s| {
            AgeBand::ALL
                .iter()
                .map(move |b| format!("{}_{}", sex_prefix(*s), band_suffix(*b)))
        })
        .collect()
}

/// The stable code of a priority: its category's, or `other:<label>`.
pub(crate) fn priority_code(key: &PriorityKey) -> String {
    match key {
        PriorityKey::Category(c) => c.code().to_owned(),
        PriorityKey::Other(label) => format!("other:{label}"),
    }
}

pub(crate) fn interpreter_code(sex: InterpreterSex) -> &'static str {
    match sex {
        InterpreterSex::None => "none",
        InterpreterSex::Female => "female",
        InterpreterSex::Male => "male",
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|n| (*n).to_owned()).collect()
}

fn by_group(b: &ByGroup) -> Vec<String> {
    GROUPS
        .iter()
        .map(|g| b.of(*g).to_string())
        .chain([b.total().to_string()])
        .collect()
}

fn stat(s: Option<PriorityStat>) -> [String; 3] {
    match s {
        Some(s) => [
            s.sessions.to_string(),
            s.best_rank.to_string(),
            s.score.to_string(),
        ],
        None => [String::new(), String::new(), String::new()],
    }
}

struct Tables<'a> {
    report: &'a MonthlyReport,
    lang: Language,
    l: &'static Labels,
}

impl Tables<'_> {
    fn cell(&self, c: Cell) -> String {
        self.l.cell(c, self.report.options.min_cell)
    }

    /// The 15 cells of a table, sex-major, in [`wide_columns`] order.
    fn wide(&self, cells: &SexAgeCells) -> Vec<String> {
        Sex::ALL
            .iter()
            .flat_map(|s| cells.of(*s).iter().map(|c| self.cell(*c)))
            .collect()
    }

    fn label(&self, key: &PriorityKey) -> String {
        priority_label(key, self.lang)
    }

    fn participation(&self) -> Table {
        let cells = &self.report.participation.total;
        let mut header = vec!["sex".to_owned()];
        header.extend(AgeBand::ALL.iter().map(|b| band_suffix(*b).to_owned()));
        header.push("total".to_owned());
        let mut rows: Vec<Vec<String>> = Sex::ALL
            .iter()
            .map(|s| {
                [s.code().to_owned()]
                    .into_iter()
                    .chain(cells.of(*s).iter().map(|c| self.cell(*c)))
                    .chain([self.cell(cells.total_of(*s))])
                    .collect()
            })
            .collect();
        rows.push(
            ["total".to_owned()]
                .into_iter()
                .chain(cells.band_totals.iter().map(|c| self.cell(*c)))
                .chain([self.cell(cells.total)])
                .collect(),
        );
        Table {
            part: "participation",
            header,
            rows,
        }
    }

    fn participation_by_team(&self) -> Table {
        let mut header = names(&["team_id", "team", "sessions"]);
        header.extend(wide_columns());
        header.extend(header_totals());
        let rows = self
            .report
            .participation
            .by_team
            .iter()
            .map(|t| {
                let mut row = vec![
                    t.team_id.to_string(),
                    t.team.clone(),
                    t.sessions.to_string(),
                ];
                row.extend(self.wide(&t.participants));
                row.extend(self.totals(&t.participants));
                row
            })
            .collect();
        Table {
            part: "participation-by-team",
            header,
            rows,
        }
    }

    fn totals(&self, cells: &SexAgeCells) -> Vec<String> {
        Sex::ALL
            .iter()
            .map(|s| self.cell(cells.total_of(*s)))
            .chain([self.cell(cells.total)])
            .collect()
    }

    fn coverage(&self) -> Table {
        let c = &self.report.coverage;
        let s = &c.sessions;
        let measure = |name: &str, value: u64| {
            vec![
                name.to_owned(),
                value.to_string(),
                String::new(),
                String::new(),
            ]
        };
        let mut rows = vec![
            measure("visits", s.visits.into()),
            measure(
                "visits_with_women_session",
                s.visits_with_women_session.into(),
            ),
            measure("sessions", s.sessions.into()),
            measure(
                "sessions_with_woman_facilitator",
                s.sessions_with_woman_facilitator.into(),
            ),
            measure("interpreters_none", s.interpreters_none.into()),
            measure("interpreters_female", s.interpreters_female.into()),
            measure("interpreters_male", s.interpreters_male.into()),
            measure("communities_consulted", len(&c.communities)),
            measure(
                "never_consulted_with_women",
                len(&c.never_consulted_with_women),
            ),
            measure("only_mixed", len(&c.only_mixed)),
        ];
        let listed = [
            ("community_consulted", &c.communities),
            (
                "community_never_consulted_with_women",
                &c.never_consulted_with_women,
            ),
            ("community_only_mixed", &c.only_mixed),
        ];
        for (name, list) in listed {
            rows.extend(list.iter().map(|cr| community_row(name, cr)));
        }
        Table {
            part: "coverage",
            header: names(&["measure", "value", "community_id", "community"]),
            rows,
        }
    }

    fn priorities(&self) -> Table {
        let p = &self.report.priorities;
        let only = |key: &PriorityKey| {
            if p.only_women.contains(key) {
                "women"
            } else if p.only_men.contains(key) {
                "men"
            } else {
                ""
            }
        };
        let rows = p
            .all
            .iter()
            .map(|r| {
                let mut row = vec![priority_code(&r.key), self.label(&r.key)];
                for s in [r.women, r.men, r.mixed] {
                    row.extend(stat(s));
                }
                row.push(only(&r.key).to_owned());
                row
            })
            .collect();
        let mut header = names(&["priority", "label"]);
        for g in GROUPS {
            for col in ["sessions", "best_rank", "score"] {
                header.push(format!("{}_{col}", g.code()));
            }
        }
        header.push("raised_only_by".to_owned());
        Table {
            part: "priorities",
            header,
            rows,
        }
    }

    fn priorities_side_by_side(&self) -> Table {
        let p = &self.report.priorities;
        let lists = [&p.women, &p.men, &p.mixed];
        let places = lists.iter().map(|l| l.len()).max().unwrap_or(0);
        let rows = (0..places)
            .map(|i| {
                let mut row = vec![(i + 1).to_string()];
                for list in lists {
                    match list.get(i) {
                        Some(r) => row.extend([
                            priority_code(&r.key),
                            self.label(&r.key),
                            r.stat.score.to_string(),
                            r.stat.sessions.to_string(),
                        ]),
                        None => {
                            row.extend([String::new(), String::new(), String::new(), String::new()])
                        }
                    }
                }
                row
            })
            .collect();
        let mut header = vec!["place".to_owned()];
        for g in GROUPS {
            for col in ["priority", "label", "score", "sessions"] {
                header.push(format!("{}_{col}", g.code()));
            }
        }
        Table {
            part: "priorities-side-by-side",
            header,
            rows,
        }
    }

    fn concerns_by_affected(&self) -> Table {
        let rows = self
            .report
            .concerns_by_affected
            .iter()
            .map(|c| {
                [c.affected.code().to_owned()]
                    .into_iter()
                    .chain(GROUPS.iter().map(|g| c.raised.of(*g).to_string()))
                    .chain(c.by_urgency.iter().map(u32::to_string))
                    .collect()
            })
            .collect();
        let mut header = names(&[
            "affected",
            "raised_by_women",
            "raised_by_men",
            "raised_in_mixed",
        ]);
        header.extend(Urgency::ALL.iter().map(|u| u.code().to_owned()));
        Table {
            part: "concerns-by-affected",
            header,
            rows,
        }
    }

    fn concerns_by_category(&self) -> Table {
        let rows = self
            .report
            .concerns_by_category
            .iter()
            .map(|c| {
                [c.category.code().to_owned()]
                    .into_iter()
                    .chain(by_group(&c.raised))
                    .chain([c.urgent.to_string()])
                    .collect()
            })
            .collect();
        Table {
            part: "concerns-by-category",
            header: names(&[
                "category",
                "raised_by_women",
                "raised_by_men",
                "raised_in_mixed",
                "total",
                "urgent",
            ]),
            rows,
        }
    }

    fn referrals(&self) -> Table {
        let b = &self.report.referrals_offered;
        let rows = GROUPS
            .iter()
            .map(|g| vec![g.code().to_owned(), b.of(*g).to_string()])
            .chain([vec!["total".to_owned(), b.total().to_string()]])
            .collect();
        Table {
            part: "referrals",
            header: names(&["group", "sessions_with_referral_offered"]),
            rows,
        }
    }

    fn review(&self) -> Table {
        let r = &self.report.review;
        // Submitted sessions wait for review: the state a reader calls "pending".
        let rows = [
            ("pending", &r.pending),
            ("returned", &r.returned),
            ("accepted", &r.accepted),
        ]
        .into_iter()
        .map(|(state, b)| [state.to_owned()].into_iter().chain(by_group(b)).collect())
        .collect();
        Table {
            part: "review",
            header: names(&["state", "women", "men", "mixed", "total"]),
            rows,
        }
    }

    fn session_row(&self, s: &SessionLine) -> Vec<String> {
        let mut row = vec![
            s.id.to_string(),
            s.visit_id.to_string(),
            s.date.to_string(),
            s.team.clone(),
            s.community.id.to_string(),
            s.community.name.clone(),
            s.group.code().to_owned(),
        ];
        row.extend(self.wide(&s.participants));
        row.push(self.cell(s.participants.total));
        row.extend([
            s.facilitators.female.to_string(),
            s.facilitators.male.to_string(),
            interpreter_code(s.interpreter).to_owned(),
        ]);
        row.extend((1..=5u8).map(|rank| {
            s.priorities
                .iter()
                .find(|(r, _)| *r == rank)
                .map(|(_, k)| priority_code(k))
                .unwrap_or_default()
        }));
        let urgent = s
            .concerns
            .iter()
            .filter(|c| c.urgency == Urgency::Urgent)
            .count();
        row.extend([
            s.concerns.len().to_string(),
            urgent.to_string(),
            s.referral_offered.to_string(),
        ]);
        row
    }

    fn sessions(&self) -> Table {
        let header = session_columns();
        let rows = self
            .report
            .sessions
            .iter()
            .map(|s| self.session_row(s))
            .collect();
        Table {
            part: "sessions",
            header,
            rows,
        }
    }
}

fn header_totals() -> Vec<String> {
    names(&["female_total", "male_total", "undisclosed_total", "total"])
}

fn len<T>(list: &[T]) -> u64 {
    u64::try_from(list.len()).unwrap_or(u64::MAX)
}

fn community_row(measure: &str, c: &CommunityRef) -> Vec<String> {
    vec![
        measure.to_owned(),
        String::new(),
        c.id.to_string(),
        c.name.clone(),
    ]
}

/// The columns of the sessions file, one row per session: the XLSX workbook's Sessions sheet
/// uses the same, so that one script reads both.
pub(crate) fn session_columns() -> Vec<String> {
    let mut header = names(&[
        "id",
        "visit_id",
        "date",
        "team",
        "community_id",
        "community",
        "group",
    ]);
    header.extend(wide_columns());
    header.extend(names(&[
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
    ]));
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_get_an_apostrophe_and_nothing_else_does() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(guard(bad), format!("'{bad}"));
        }
        for fine in ["Team 1", "<5", "2026-03-01", "", "a=b"] {
            assert_eq!(guard(fine), fine);
        }
    }

    #[test]
    fn wide_columns_name_every_sex_and_band() {
        let cols = wide_columns();
        assert_eq!(cols.len(), 15);
        assert_eq!(cols[0], "f_12_17");
        assert_eq!(cols[3], "f_60_plus");
        assert_eq!(cols[14], "u_unknown");
    }
}
