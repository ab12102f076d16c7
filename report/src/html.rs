//! The printable HTML document: one self-contained HTML5 file (inline CSS, charts inline as
//! SVG, no script, nothing fetched) laid out for A4.
//!
//! Every text a user typed (team, community and sector names, labels of `other` priorities)
//! is escaped and isolated in a `<bdi>`, so that an Arabic community name inside an English
//! table keeps its own direction without reordering the cells around it.

use fieldconsult_model::report::monthly::{ByGroup, CommunityRef, RankedPriority, SessionLine};
use fieldconsult_model::report::text::priority_label;
use fieldconsult_model::report::{
    Cell, MonthlyReport, PriorityKey, PriorityStat, ReportScope, SexAgeCells,
};
use fieldconsult_model::{AgeBand, Group, Language, Sex, Urgency};

use crate::RenderError;
use crate::charts;
use crate::labels::{self, Labels, fill};

const GROUPS: [Group; 3] = [Group::Women, Group::Men, Group::Mixed];

const CSS: &str = r#"
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; line-height: 1.35;
  color: #222; margin: 0 auto; max-width: 190mm; padding: 8mm 0; }
h1 { font-size: 18pt; margin: 0 0 4pt; }
h2 { font-size: 13pt; margin: 16pt 0 6pt; border-bottom: 1px solid #999; padding-bottom: 2pt;
  page-break-after: avoid; break-after: avoid; }
h3 { font-size: 11pt; margin: 10pt 0 4pt; page-break-after: avoid; break-after: avoid; }
p { margin: 3pt 0; }
.scope { font-size: 12pt; font-weight: bold; }
.note, .key { color: #555; font-size: 9pt; }
table { border-collapse: collapse; margin: 4pt 0 8pt; page-break-inside: avoid;
  break-inside: avoid; }
table.long { page-break-inside: auto; break-inside: auto; }
table.long { width: 100%; font-size: 8.5pt; table-layout: fixed; }
table.long th { overflow-wrap: break-word; }
table.long thead th { font-size: 8pt; }
table.long thead th:nth-child(1) { width: 11%; }
table.long thead th:nth-child(2), table.long thead th:nth-child(3) { width: 12%; }
table.long thead th:nth-child(4), table.long thead th:nth-child(9) { width: 9%; }
table.long thead th:nth-child(5) { width: 7%; }
table.long thead th:nth-child(6), table.long thead th:nth-child(7),
table.long thead th:nth-child(10) { width: 8%; }
table.long thead th:nth-child(8) { width: 16%; }
table.long tr { page-break-inside: avoid; break-inside: avoid; }
table.long th[scope="row"] { white-space: nowrap; }
thead { display: table-header-group; }
th, td { border: 1px solid #bbb; padding: 2pt 5pt; vertical-align: top; }
th { background: #eee; text-align: start; font-weight: bold; }
td { text-align: end; font-variant-numeric: tabular-nums; }
td.text { text-align: start; overflow-wrap: break-word; }
td.suppressed { color: #666; font-style: italic; }
.women { color: #5e3c99; }
.voice { page-break-inside: avoid; margin: 0.4em 0; }
.voice p { margin: 0; font-weight: bold; }
.voice blockquote { margin: 0.2em 0 0.2em 1.5em; font-style: italic; unicode-bidi: plaintext; }
.men { color: #b34a00; }
figure { margin: 6pt 0 10pt; page-break-inside: avoid; break-inside: avoid; }
figure svg { max-width: 100%; height: auto; display: block; }
ul { margin: 2pt 0 6pt; padding-inline-start: 18pt; }
footer { margin-top: 18pt; border-top: 1px solid #999; padding-top: 4pt; color: #555;
  font-size: 9pt; }
@media print {
  body { padding: 0; max-width: none; font-size: 9.5pt; }
  h2 { margin-top: 12pt; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// The whole document in `lang`.
pub(crate) fn render(report: &MonthlyReport, lang: Language) -> Result<String, RenderError> {
    let l = labels::of(lang);
    let doc = Doc { report, lang, l };
    let mut body = doc.header();
    body += &doc.participation()?;
    body += &doc.participation_by_team();
    body += &doc.coverage();
    body += &doc.priorities()?;
    body += &doc.concerns();
    body += &doc.referrals();
    body += &doc.review();
    body += &doc.sessions();
    body += &format!("<footer><p>{}</p></footer>\n", esc(l.footer));
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        lang = lang.tag(),
        title = esc(&doc.plain_title()),
    ))
}

/// `&`, `<`, `>`, `"` and `'` as character references: safe in text and in quoted attributes.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A text a user typed, escaped and isolated from the direction of what surrounds it.
fn user(s: &str) -> String {
    format!("<bdi>{}</bdi>", esc(s))
}

fn community(c: &CommunityRef) -> String {
    if c.name.is_empty() {
        // Not in the reference data: the id still lets a reader trace it.
        esc(&c.id.to_string())
    } else {
        user(&c.name)
    }
}

fn th(label: &str) -> String {
    format!("<th scope=\"col\">{}</th>", esc(label))
}

fn th_row(label_html: &str) -> String {
    format!("<th scope=\"row\">{label_html}</th>")
}

fn num(n: impl std::fmt::Display) -> String {
    format!("<td>{n}</td>")
}

fn text(html: &str) -> String {
    format!("<td class=\"text\">{html}</td>")
}

fn section(id: &str, heading: &str, content: &str) -> String {
    format!(
        "<section id=\"{id}\">\n<h2>{}</h2>\n{content}</section>\n",
        esc(heading)
    )
}

fn table(class: &str, head: &[String], rows: &[Vec<String>]) -> String {
    let mut out = format!(
        "<table class=\"{class}\">\n<thead><tr>{}</tr></thead>\n<tbody>\n",
        head.concat()
    );
    for row in rows {
        out += &format!("<tr>{}</tr>\n", row.concat());
    }
    out + "</tbody>\n</table>\n"
}

fn list(items: &[String], none: &str) -> String {
    if items.is_empty() {
        return format!("<p>{}</p>\n", esc(none));
    }
    let items: String = items.iter().map(|i| format!("<li>{i}</li>")).collect();
    format!("<ul>{items}</ul>\n")
}

fn percent(part: u32, whole: u32, lang: Language, l: &Labels) -> String {
    if whole == 0 {
        return esc(l.not_applicable);
    }
    let pct = (f64::from(part) * 100.0 / f64::from(whole)).round();
    match lang {
        // French sets a narrow no-break space before the percent sign.
        Language::Fr => format!("{pct:.0}\u{202f}%"),
        Language::En => format!("{pct:.0}%"),
    }
}

/// A colon and its space: French sets a no-break space before it.
pub(crate) fn colon(lang: Language) -> &'static str {
    match lang {
        Language::En => ": ",
        Language::Fr => "\u{a0}: ",
    }
}

fn group_total(b: &ByGroup) -> Vec<String> {
    GROUPS
        .iter()
        .map(|g| num(b.of(*g)))
        .chain([num(b.total())])
        .collect()
}

struct Doc<'a> {
    report: &'a MonthlyReport,
    lang: Language,
    l: &'static Labels,
}

impl Doc<'_> {
    /// A published count, or the hidden-cell mark with its key as a tooltip.
    fn cell(&self, c: Cell) -> String {
        match c {
            Some(n) => num(n),
            None => format!(
                "<td class=\"suppressed\" title=\"{}\">{}</td>",
                esc(self.l.suppressed_key),
                esc(&self.l.cell(None, self.report.options.min_cell))
            ),
        }
    }

    fn scope_html(&self) -> String {
        // A marker no label holds stands for the name, so the label is escaped as text and
        // the name goes in isolated.
        const NAME: &str = "\u{e000}";
        esc(&self.l.scope_line(&self.report.scope, NAME))
            .replace(NAME, &user(&self.report.scope_name))
    }

    fn plain_title(&self) -> String {
        let scope = self
            .l
            .scope_line(&self.report.scope, &self.report.scope_name);
        format!("{} — {} — {}", self.l.title, scope, self.report.month)
    }

    fn header(&self) -> String {
        let (l, r) = (self.l, self.report);
        let basis = fill(
            l.basis,
            &[
                ("accepted", &r.review.accepted.total().to_string()),
                ("pending", &r.review.pending.total().to_string()),
                ("returned", &r.review.returned.total().to_string()),
            ],
        );
        let suppression = if r.options.min_cell > 1 {
            fill(
                l.suppression_on,
                &[("min_cell", &r.options.min_cell.to_string())],
            )
        } else {
            l.suppression_off.to_owned()
        };
        format!(
            "<header>\n<h1>{}</h1>\n<p class=\"scope\">{}</p>\n<p>{}{colon}<time datetime=\"{month}\">{month}</time></p>\n\
             <p>{}</p>\n<p>{}</p>\n</header>\n",
            esc(l.title),
            self.scope_html(),
            esc(l.month),
            esc(&basis),
            esc(&suppression),
            month = r.month,
            colon = colon(self.lang),
        )
    }

    fn sex_age_table(&self, cells: &SexAgeCells) -> String {
        let l = self.l;
        let head: Vec<String> = [th(l.sex)]
            .into_iter()
            .chain(AgeBand::ALL.iter().map(|b| th(l.age_band(*b))))
            .chain([th(l.total)])
            .collect();
        let mut rows: Vec<Vec<String>> = Sex::ALL
            .iter()
            .map(|s| {
                [th_row(&esc(l.sex(*s)))]
                    .into_iter()
                    .chain(cells.of(*s).iter().map(|c| self.cell(*c)))
                    .chain([self.cell(cells.total_of(*s))])
                    .collect()
            })
            .collect();
        rows.push(
            [th_row(&esc(l.total))]
                .into_iter()
                .chain(cells.band_totals.iter().map(|c| self.cell(*c)))
                .chain([self.cell(cells.total)])
                .collect(),
        );
        table("participation", &head, &rows)
    }

    fn key(&self) -> String {
        if self.report.options.min_cell <= 1 {
            return String::new();
        }
        format!(
            "<p class=\"key\">{} = {}</p>\n",
            esc(&self.l.cell(None, self.report.options.min_cell)),
            esc(self.l.suppressed_key)
        )
    }

    fn participation(&self) -> Result<String, RenderError> {
        let chart = charts::participation_pyramid(self.report, self.lang)?;
        let content = format!(
            "{}{}<figure>\n{}</figure>\n",
            self.sex_age_table(&self.report.participation.total),
            self.key(),
            chart.svg
        );
        Ok(section("participation", self.l.participation, &content))
    }

    fn participation_by_team(&self) -> String {
        let r = self.report;
        let one_team = matches!(r.scope, ReportScope::Team { .. });
        if one_team && r.participation.by_team.len() <= 1 {
            return String::new();
        }
        let l = self.l;
        if r.participation.by_team.is_empty() {
            let none = format!("<p>{}</p>\n", esc(l.none));
            return section("participation-by-team", l.participation_by_team, &none);
        }
        let head: Vec<String> = [th(l.team), th(l.sessions_count)]
            .into_iter()
            .chain(l.sexes.iter().map(|s| th(s)))
            .chain([th(l.total)])
            .collect();
        let rows: Vec<Vec<String>> = r
            .participation
            .by_team
            .iter()
            .map(|t| {
                [th_row(&user(&t.team)), num(t.sessions)]
                    .into_iter()
                    .chain(
                        Sex::ALL
                            .iter()
                            .map(|s| self.cell(t.participants.total_of(*s))),
                    )
                    .chain([self.cell(t.participants.total)])
                    .collect()
            })
            .collect();
        section(
            "participation-by-team",
            l.participation_by_team,
            &table("by-team", &head, &rows),
        )
    }

    fn coverage(&self) -> String {
        let (l, c) = (self.l, &self.report.coverage);
        let s = &c.sessions;
        let share =
            |part, whole| format!("{part} / {whole} ({})", percent(part, whole, self.lang, l));
        let interpreters = format!(
            "{}{c}{}, {}{c}{}, {}{c}{}",
            esc(l.interpreter_sexes[1]),
            s.interpreters_female,
            esc(l.interpreter_sexes[2]),
            s.interpreters_male,
            esc(l.interpreter_sexes[0]),
            s.interpreters_none,
            c = colon(self.lang),
        );
        let rows = [
            vec![
                th_row(&esc(l.visits_with_women_session)),
                text(&share(s.visits_with_women_session, s.visits)),
            ],
            vec![
                th_row(&esc(l.sessions_with_woman_facilitator)),
                text(&share(s.sessions_with_woman_facilitator, s.sessions)),
            ],
            vec![th_row(&esc(l.interpreters)), text(&interpreters)],
            vec![
                th_row(&esc(l.communities_consulted)),
                text(&c.communities.len().to_string()),
            ],
        ];
        let names = |cs: &[CommunityRef]| cs.iter().map(community).collect::<Vec<_>>();
        let content = format!(
            "<table class=\"coverage\">\n<tbody>\n{}</tbody>\n</table>\n<h3>{}</h3>\n{}<h3>{}</h3>\n{}",
            rows.iter()
                .map(|r| format!("<tr>{}</tr>\n", r.concat()))
                .collect::<String>(),
            esc(l.never_with_women),
            list(&names(&c.never_consulted_with_women), l.none),
            esc(l.only_mixed),
            list(&names(&c.only_mixed), l.none),
        );
        section("coverage", l.coverage, &content)
    }

    fn priority(&self, key: &PriorityKey) -> String {
        match key {
            PriorityKey::Category(_) => esc(&priority_label(key, self.lang)),
            PriorityKey::Other(label) => user(label),
        }
    }

    fn ranked(&self, p: Option<&RankedPriority>) -> String {
        match p {
            Some(p) => text(&format!("{} ({})", self.priority(&p.key), p.stat.score)),
            None => text(""),
        }
    }

    fn side_by_side(&self) -> String {
        let (l, p) = (self.l, &self.report.priorities);
        let with_mixed = !p.mixed.is_empty();
        let mut head = vec![
            th(l.place),
            format!(
                "<th scope=\"col\" class=\"women\">{} ({})</th>",
                esc(l.womens_priorities),
                esc(l.score)
            ),
            format!(
                "<th scope=\"col\" class=\"men\">{} ({})</th>",
                esc(l.mens_priorities),
                esc(l.score)
            ),
        ];
        if with_mixed {
            head.push(format!(
                "<th scope=\"col\">{} ({})</th>",
                esc(l.mixed_priorities),
                esc(l.score)
            ));
        }
        let rows_count = p.women.len().max(p.men.len()).max(p.mixed.len());
        let rows: Vec<Vec<String>> = (0..rows_count)
            .map(|i| {
                let mut row = vec![
                    th_row(&(i + 1).to_string()),
                    self.ranked(p.women.get(i)),
                    self.ranked(p.men.get(i)),
                ];
                if with_mixed {
                    row.push(self.ranked(p.mixed.get(i)));
                }
                row
            })
            .collect();
        if rows.is_empty() {
            return format!("<p>{}</p>\n", esc(l.none));
        }
        table("side-by-side", &head, &rows)
    }

    fn stat_cells(stat: Option<PriorityStat>) -> [String; 3] {
        match stat {
            Some(s) => [num(s.sessions), num(s.best_rank), num(s.score)],
            None => [num("–"), num("–"), num("–")],
        }
    }

    fn all_priorities(&self) -> String {
        let (l, p) = (self.l, &self.report.priorities);
        if p.all.is_empty() {
            return format!("<p>{}</p>\n", esc(l.none));
        }
        let group_heads: String = GROUPS
            .iter()
            .map(|g| {
                format!(
                    "<th scope=\"colgroup\" colspan=\"3\">{}</th>",
                    esc(l.group(*g))
                )
            })
            .collect();
        let sub: String = GROUPS
            .iter()
            .flat_map(|_| [th(l.sessions_count), th(l.best_rank), th(l.score)])
            .collect();
        let mut out = format!(
            "<table class=\"all-priorities\">\n<thead><tr><th scope=\"col\" rowspan=\"2\">{}</th>{group_heads}</tr>\n<tr>{sub}</tr></thead>\n<tbody>\n",
            esc(l.priority)
        );
        for row in &p.all {
            let cells: String = [row.women, row.men, row.mixed]
                .into_iter()
                .flat_map(Self::stat_cells)
                .collect();
            out += &format!("<tr>{}{cells}</tr>\n", th_row(&self.priority(&row.key)));
        }
        out + "</tbody>\n</table>\n"
    }

    fn priorities(&self) -> Result<String, RenderError> {
        let (l, p) = (self.l, &self.report.priorities);
        let chart = charts::priorities(self.report, self.lang)?;
        let keys = |ks: &[PriorityKey]| ks.iter().map(|k| self.priority(k)).collect::<Vec<_>>();
        let content = format!(
            "{}<figure>\n{}</figure>\n{}<h3 class=\"women\">{}</h3>\n{}<h3 class=\"men\">{}</h3>\n{}<h3>{}</h3>\n{}",
            self.side_by_side(),
            chart.svg,
            self.voices(),
            esc(l.only_women),
            list(&keys(&p.only_women), l.none),
            esc(l.only_men),
            list(&keys(&p.only_men), l.none),
            esc(l.all_priorities),
            self.all_priorities(),
        );
        Ok(section("priorities", l.priorities, &content))
    }

    /// What each group said about its top priorities, quoted as given: each note in its own
    /// `dir="auto"` block, so an Arabic note reads right to left inside an English page.
    fn voices(&self) -> String {
        let p = &self.report.priorities;
        let mut out = String::new();
        for (group, class, ranking) in [
            (Group::Women, "women", &p.women),
            (Group::Men, "men", &p.men),
            (Group::Mixed, "mixed", &p.mixed),
        ] {
            for ranked in ranking.iter().filter(|r| !r.voices.is_empty()) {
                let quotes: String = ranked
                    .voices
                    .iter()
                    .map(|v| format!("<blockquote dir=\"auto\">{}</blockquote>", esc(v)))
                    .collect();
                out += &format!(
                    "<div class=\"voice\"><p class=\"{class}\">{} · {}</p>{quotes}</div>\n",
                    esc(self.l.group(group)),
                    self.priority(&ranked.key),
                );
            }
        }
        if out.is_empty() {
            return out;
        }
        format!("<h3>{}</h3>\n{out}", esc(self.l.in_their_words))
    }

    fn concerns(&self) -> String {
        let (l, r) = (self.l, self.report);
        let head: Vec<String> = [
            th(l.affected),
            th(l.raised_by_women),
            th(l.raised_by_men),
            th(l.raised_in_mixed),
        ]
        .into_iter()
        .chain(Urgency::ALL.iter().map(|u| th(u.label(self.lang))))
        .collect();
        let rows: Vec<Vec<String>> = r
            .concerns_by_affected
            .iter()
            .map(|c| {
                [th_row(&esc(c.affected.label(self.lang)))]
                    .into_iter()
                    .chain(GROUPS.iter().map(|g| num(c.raised.of(*g))))
                    .chain(c.by_urgency.iter().map(num))
                    .collect()
            })
            .collect();
        let by_affected = format!(
            "{}<p class=\"note\">{}</p>\n",
            table("concerns-by-affected", &head, &rows),
            esc(l.concerns_note)
        );
        let head = vec![
            th(l.category),
            th(l.raised_by_women),
            th(l.raised_by_men),
            th(l.raised_in_mixed),
            th(l.total),
            th(Urgency::Urgent.label(self.lang)),
        ];
        let rows: Vec<Vec<String>> = r
            .concerns_by_category
            .iter()
            .map(|c| {
                [th_row(&esc(c.category.label(self.lang)))]
                    .into_iter()
                    .chain(group_total(&c.raised))
                    .chain([num(c.urgent)])
                    .collect()
            })
            .collect();
        section("concerns-by-affected", l.concerns_by_affected, &by_affected)
            + &section(
                "concerns-by-category",
                l.concerns_by_category,
                &table("concerns-by-category", &head, &rows),
            )
    }

    fn group_head(&self, first: &str) -> Vec<String> {
        [th(first)]
            .into_iter()
            .chain(GROUPS.iter().map(|g| th(self.l.group(*g))))
            .chain([th(self.l.total)])
            .collect()
    }

    fn referrals(&self) -> String {
        let l = self.l;
        let row = [th_row(&esc(l.sessions_count))]
            .into_iter()
            .chain(group_total(&self.report.referrals_offered))
            .collect();
        section(
            "referrals",
            l.referrals,
            &table("referrals", &self.group_head(l.referral), &[row]),
        )
    }

    fn review(&self) -> String {
        let (l, r) = (self.l, &self.report.review);
        let rows: Vec<Vec<String>> = [(0, &r.pending), (1, &r.returned), (2, &r.accepted)]
            .into_iter()
            .map(|(i, b)| {
                [th_row(&esc(l.review_states[i]))]
                    .into_iter()
                    .chain(group_total(b))
                    .collect()
            })
            .collect();
        section(
            "review",
            l.review,
            &table("review", &self.group_head(""), &rows),
        )
    }

    fn session_priorities(&self, s: &SessionLine) -> String {
        s.priorities
            .iter()
            .map(|(rank, key)| format!("{rank}. {}", self.priority(key)))
            .collect::<Vec<_>>()
            .join("<br>")
    }

    fn session_row(&self, s: &SessionLine) -> Vec<String> {
        let l = self.l;
        vec![
            th_row(&format!("<time>{}</time>", s.date)),
            text(&user(&s.team)),
            text(&community(&s.community)),
            text(&esc(l.group(s.group))),
            self.cell(s.participants.total),
            num(format!("{}/{}", s.facilitators.female, s.facilitators.male)),
            text(&esc(l.interpreter_sex(s.interpreter))),
            text(&self.session_priorities(s)),
            num(s.concerns.len()),
            text(&esc(if s.referral_offered { l.yes } else { l.no })),
        ]
    }

    fn sessions(&self) -> String {
        let l = self.l;
        let head: Vec<String> = [
            l.date,
            l.team,
            l.community,
            l.group,
            l.total,
            l.facilitators,
            l.interpreter,
            l.priority,
            l.concerns,
            l.referral,
        ]
        .into_iter()
        .map(th)
        .collect();
        let rows: Vec<Vec<String>> = self
            .report
            .sessions
            .iter()
            .take(crate::PRINTED_SESSIONS)
            .map(|s| self.session_row(s))
            .collect();
        let content = format!(
            "<p class=\"note\">{}</p>\n{}",
            esc(&crate::labels::sessions_note(l, self.report.sessions.len())),
            table("sessions long", &head, &rows)
        );
        section("sessions", l.sessions, &content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_markup_character() {
        assert_eq!(
            esc(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn shares_of_nothing_are_not_applicable() {
        assert_eq!(percent(0, 0, Language::En, &labels::EN), "n/a");
        assert_eq!(percent(1, 3, Language::En, &labels::EN), "33%");
        assert_eq!(percent(1, 2, Language::Fr, &labels::FR), "50\u{202f}%");
    }
}
