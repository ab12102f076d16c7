//! The XLSX workbook, for analysts: a sheet per table of the report, the sessions behind
//! them one per row, and native Excel charts that follow the numbers if an analyst edits them.
//!
//! Counts are written as numbers and dates as dates, so that sums and filters work; a hidden
//! count is the text of [`Labels::cell`], which no sum can mistake for a number. Text from
//! the field (team and community names, labels of `other` priorities) is written with
//! `write_string` only: a name starting with `=` stays a name, never a formula.

use fieldconsult_model::report::monthly::{ByGroup, RankedPriority};
use fieldconsult_model::report::text::priority_label;
use fieldconsult_model::report::{Cell, MonthlyReport, PriorityKey, PriorityStat, SexAgeCells};
use fieldconsult_model::{AffectedGroup, AgeBand, Group, InterpreterSex, Language, Sex, Urgency};
use rust_xlsxwriter::{
    Chart, ChartFormat, ChartSolidFill, ChartType, Color, DocProperties, ExcelDateTime, Format,
    FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

use crate::RenderError;
use crate::labels::{self, Labels, fill};

// Sheet names are stable, whatever the language, so that an analyst's formulas and
// scripts keep working from one month's workbook to the next.
const SUMMARY: &str = "Summary";
const PARTICIPATION: &str = "Participation";
const BY_TEAM: &str = "By team";
const COVERAGE: &str = "Coverage";
const PRIORITIES: &str = "Priorities";
const CONCERNS: &str = "Concerns";
const REFERRALS: &str = "Referrals";
const REVIEW: &str = "Review";
const SESSIONS: &str = "Sessions";

/// Excel refuses longer strings in a cell.
const MAX_CELL_CHARS: usize = 32_767;

/// Colours of women's and men's series: those of the report's other charts, so a reader
/// moving between the PDF and the workbook sees the same colour for the same group.
const WOMEN_COLOUR: u32 = rgb(crate::charts::WOMEN_COLOUR);
const MEN_COLOUR: u32 = rgb(crate::charts::MEN_COLOUR);
const UNDISCLOSED_COLOUR: u32 = 0x999999;

const fn rgb(c: plotters::style::RGBColor) -> u32 {
    ((c.0 as u32) << 16) | ((c.1 as u32) << 8) | c.2 as u32
}

/// Widest column autofit may choose, in pixels: long names wrap instead of pushing the
/// numbers off screen.
const MAX_COLUMN_PX: u32 = 320;

pub(crate) fn render(report: &MonthlyReport, lang: Language) -> Result<Vec<u8>, RenderError> {
    let ctx = Ctx {
        report,
        lang,
        l: labels::of(lang),
        f: Formats::new(),
    };
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!(
                "{} – {} – {}",
                ctx.l.title,
                ctx.l.scope_line(&report.scope, &report.scope_name),
                report.month
            ))
            .set_author("FieldConsult")
            .set_comment(ctx.l.footer),
    );
    let sheets: [(&'static str, SheetFn); 9] = [
        (SUMMARY, summary),
        (PARTICIPATION, participation),
        (BY_TEAM, by_team),
        (COVERAGE, coverage),
        (PRIORITIES, priorities),
        (CONCERNS, concerns),
        (REFERRALS, referrals),
        (REVIEW, review),
        (SESSIONS, sessions),
    ];
    for (name, write) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(name)
            .and_then(|ws| write(&ctx, ws))
            .map_err(|_| RenderError::Workbook { sheet: name })?;
    }
    wb.save_to_buffer()
        .map_err(|_| RenderError::Workbook { sheet: "workbook" })
}

type SheetFn = fn(&Ctx<'_>, &mut Worksheet) -> Result<(), XlsxError>;

struct Ctx<'a> {
    report: &'a MonthlyReport,
    lang: Language,
    l: &'static Labels,
    f: Formats,
}

struct Formats {
    title: Format,
    heading: Format,
    header: Format,
    label: Format,
    total: Format,
    hidden: Format,
    percent: Format,
    date: Format,
    note: Format,
}

impl Formats {
    fn new() -> Self {
        let header = Format::new()
            .set_bold()
            .set_text_wrap()
            .set_background_color(Color::RGB(0xDDE4EE))
            .set_border_bottom(FormatBorder::Thin);
        Formats {
            title: Format::new().set_bold().set_font_size(16),
            heading: Format::new().set_bold().set_font_size(12),
            header,
            label: Format::new().set_bold(),
            total: Format::new().set_bold().set_border_top(FormatBorder::Thin),
            hidden: Format::new()
                .set_align(FormatAlign::Right)
                .set_font_color(Color::RGB(0x666666)),
            percent: Format::new().set_num_format("0%"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            note: Format::new()
                .set_italic()
                .set_font_color(Color::RGB(0x444444)),
        }
    }
}

impl Ctx<'_> {
    fn min_cell(&self) -> u32 {
        self.report.options.min_cell
    }

    fn hidden_mark(&self) -> String {
        self.l.cell(None, self.min_cell())
    }
}

/// Field text as a string cell, cut to what Excel accepts.
fn text(ws: &mut Worksheet, row: u32, col: u16, value: &str) -> Result<(), XlsxError> {
    ws.write_string(row, col, clip(value))?;
    Ok(())
}

fn text_f(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    value: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    ws.write_string_with_format(row, col, clip(value), format)?;
    Ok(())
}

fn clip(value: &str) -> String {
    value.chars().take(MAX_CELL_CHARS).collect()
}

fn number(ws: &mut Worksheet, row: u32, col: u16, value: impl Into<f64>) -> Result<(), XlsxError> {
    ws.write_number(row, col, value.into())?;
    Ok(())
}

/// A published count: the number, or the hidden-cell mark as text.
fn cell(ctx: &Ctx<'_>, ws: &mut Worksheet, row: u32, col: u16, c: Cell) -> Result<(), XlsxError> {
    match c {
        // Counts are far below 2^53: the conversion is exact.
        Some(n) => number(ws, row, col, n as f64),
        None => text_f(ws, row, col, &ctx.hidden_mark(), &ctx.f.hidden),
    }
}

fn header(ctx: &Ctx<'_>, ws: &mut Worksheet, row: u32, cols: &[&str]) -> Result<(), XlsxError> {
    for (col, h) in (0u16..).zip(cols) {
        text_f(ws, row, col, h, &ctx.f.header)?;
    }
    Ok(())
}

fn heading(ctx: &Ctx<'_>, ws: &mut Worksheet, row: u32, value: &str) -> Result<(), XlsxError> {
    text_f(ws, row, 0, value, &ctx.f.heading)
}

/// The sentence under a table with hidden cells: what the mark means.
fn hidden_key(ctx: &Ctx<'_>, ws: &mut Worksheet, row: u32) -> Result<(), XlsxError> {
    let note = format!("{}: {}", ctx.hidden_mark(), ctx.l.suppressed_key);
    text_f(ws, row, 0, &note, &ctx.f.note)
}

fn basis_sentence(ctx: &Ctx<'_>) -> String {
    let r = &ctx.report.review;
    fill(
        ctx.l.basis,
        &[
            ("accepted", &r.accepted.total().to_string()),
            ("pending", &r.pending.total().to_string()),
            ("returned", &r.returned.total().to_string()),
        ],
    )
}

fn suppression_sentence(ctx: &Ctx<'_>) -> String {
    if ctx.min_cell() > 1 {
        fill(
            ctx.l.suppression_on,
            &[("min_cell", &ctx.min_cell().to_string())],
        )
    } else {
        ctx.l.suppression_off.to_owned()
    }
}

fn summary(ctx: &Ctx<'_>, ws: &mut Worksheet) -> Result<(), XlsxError> {
    let (l, r) = (ctx.l, ctx.report);
    text_f(ws, 0, 0, l.title, &ctx.f.title)?;
    text_f(ws, 2, 0, l.scope, &ctx.f.label)?;
    text(ws, 2, 1, &l.scope_line(&r.scope, &r.scope_name))?;
    text_f(ws, 3, 0, l.month, &ctx.f.label)?;
    text(ws, 3, 1, &r.month.to_string())?;
    text(ws, 5, 0, &basis_sentence(ctx))?;
    text(ws, 6, 0, &suppression_sentence(ctx))?;
    if ctx.min_cell() > 1 {
        hidden_key(ctx, ws, 7)?;
    }
    text_f(ws, 9, 0, l.footer, &ctx.f.note)?;
    ws.set_column_width(0, 18)?;
    ws.set_column_width(1, 40)?;
    Ok(())
}

/// Writes a sex × age-band table with its header at `row`; returns the row after it.
fn sex_age_table(
    ctx: &Ctx<'_>,
    ws: &mut Worksheet,
    row: u32,
    cells: &SexAgeCells,
) -> Result<u32, XlsxError> {
    let l = ctx.l;
    let mut cols = vec![l.sex];
    cols.extend(AgeBand::ALL.map(|b| l.age_band(b)));
    cols.push(l.total);
    header(ctx, ws, row, &cols)?;
    let mut r = row + 1;
    for sex in Sex::ALL {
        text_f(ws, r, 0, l.sex(sex), &ctx.f.label)?;
        for (col, c) in (1u16..).zip(cells.of(sex)) {
            cell(ctx, ws, r, col, *c)?;
        }
        cell(ctx, ws, r, 6, cells.total_of(sex))?;
        r += 1;
    }
    text_f(ws, r, 0, l.total, &ctx.f.total)?;
    for (col, c) in (1u16..).zip(cells.band_totals) {
        cell(ctx, ws, r, col, c)?;
    }
    cell(ctx, ws, r, 6, cells.total)?;
    Ok(r + 1)
}

fn participation(ctx: &Ctx<'_>, ws: &mut Worksheet) -> Result<(), XlsxError> {
    let l = ctx.l;
    heading(ctx, ws, 0, l.participation)?;
    let header_row = 2;
    let next = sex_age_table(ctx, ws, header_row, &ctx.report.participation.total)?;
    let mut row = next + 1;
    if ctx.report.participation.total.suppressed() > 0 {
        hidden_key(ctx, ws, row)?;
        row += 1;
    }
    text_f(ws, row, 0, &suppression_sentence(ctx), &ctx.f.note)?;
    ws.set_column_width(0, 16)?;
    for col in 1..=6 {
        ws.set_column_width(col, 10)?;
    }
    ws.set_freeze_panes(header_row + 1, 1)?;

    // Women and men side by side per age band; the rows of the table feed the chart, so an
    // analyst who corrects a number sees the chart follow.
    let mut chart = Chart::new(ChartType::Column);
    chart.title().set_name(l.chart_pyramid);
    for (sex, colour) in [
        (Sex::Female, WOMEN_COLOUR),
        (Sex::Male, MEN_COLOUR),
        (Sex::Undisclosed, UNDISCLOSED_COLOUR),
    ] {
        let r = header_row + 1 + sex_row(sex);
        chart
            .add_series()
            .set_name((PARTICIPATION, r, 0))
            .set_categories((PARTICIPATION, header_row, 1, header_row, 5))
            .set_values((PARTICIPATION, r, 1, r, 5))
            .set_format(ChartFormat::new().set_solid_fill(ChartSolidFill::new().set_color(colour)));
    }
    chart.x_axis().set_name(l.age_band);
    chart.set_width(640).set_height(320);
    ws.insert_chart(row + 2, 0, &chart)?;
    Ok(())
}

fn sex_row(sex: Sex) -> u32 {
    match sex {
        Sex::Female => 0,
        Sex::Male => 1,
        Sex::Undisclosed => 2,
    }
}

fn by_team(ctx: &Ctx<'_>, ws: &mut Worksheet) -> Result<(), XlsxError> {
    let l = ctx.l;
    let mut cols: Vec<String> = vec![l.team.to_owned(), l.sessions_count.to_owned()];
    for sex in Sex::ALL {
        for band in AgeBand::ALL {
            cols.push(format!("{} {}", l.sex(sex), l.age_band(band)));
        }
        cols.push(format!("{} – {}", l.sex(sex), l.total));
    }
    cols.push(l.total.to_owned());
    let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    header(ctx, ws, 0, &refs)?;
    let mut row = 1;
    let mut hidden = false;
    for t in &ctx.report.participation.by_team {
        text(ws, row, 0, &t.team)?;
        number(ws, row, 1, t.sessions)?;
        let mut col = 2u16;
        for sex in Sex::ALL {
            for c in t.participants.of(sex) {
                cell(ctx, ws, row, col, *c)?;
                col += 1;
            }
            cell(ctx, ws, row, col, t.participants.total_of(sex))?;
            col += 1;
        }
        cell(ctx, ws, row, col, t.participants.total)?;
        hidden |= t.participants.suppressed() > 0;
        row += 1;
    }
    let last_col = u16::try_from(refs.len().saturating_sub(1)).unwrap_or(0);
    ws.autofilter(0, 0, row.saturating_sub(1).max(1), last_col)?;
    ws.set_freeze_panes(1, 1)?;
    ws.set_column_width(0, 24)?;
    for col in 1..=last_col {
        ws.set_column_width(col, 11)?;
    }
    ws.set_row_height(0, 45)?;
    if hidden {
        hidden_key(ctx, ws, row + 1)?;
    }
    Ok(())
}

fn coverage(ctx: &Ctx<'_>, ws: &mut Worksheet) -> Result<(), XlsxError> {
    let (l, c) = (ctx.l, &ctx.report.coverage);
    let s = &c.sessions;
    heading(ctx, ws, 0, l.coverage)?;
    header(ctx, ws, 2, &["", l.sessions_count, l.total, "%"])?;
    let share_row = |ws: &mut Worksheet, row: u32, label: &str, part: u32, whole: u32| {
        text_f(ws, row, 0, label, &ctx.f.label)?;
        number(ws, row, 1, part)?;
        number(ws, row, 2, whole)?;
        if whole > 0 {
            ws.write_number_with_format(
                row,
                3,
                f64::from(part) / f64::from(whole),
                &ctx.f.percent,
            )?;
        } else {
            text(ws, row, 3, l.not_applicable)?;
        }
        Ok::<(), XlsxError>(())
    };
    share_row(
        ws,
        3,
        l.visits_with_women_session,
        s.visits_with_women_session,
        s.visits,
    )?;
    share_row(
        ws,
        4,
        l.sessions_with_woman_facilitator,
        s.sessions_with_woman_facilitator,
        s.sessions,
    )?;
    let mut row = 5;
    for (sex, n) in [
        (InterpreterSex::Female, s.interpreters_female),
        (InterpreterSex::Male, s.interpreters_male),
        (InterpreterSex::None, s.interpreters_none),
    ] {
        let label = format!("{}: {}", l.interpreters, l.interpreter_sex(sex));
        share_row(ws, row, &label, n, s.sessions)?;
        row += 1;
    }
    text_f(ws, row, 0, l.communities_consulted, &ctx.f.label)?;
    number(
        ws,
        row,
        1,
        u32::try_from(c.communities.len()).unwrap_or(u32::MAX),
    )?;
    row += 2;
    for (title, list) in [
        (l.communities_consulted, &c.communities),
        (l.never_with_women, &c.never_consulted_with_women),
        (l.only_mixed, &c.only_mixed),
    ] {
        text_f(ws, row, 0, title, &ctx.f.heading)?;
        row += 1;
        if list.is_empty() {
            text_f(ws, row, 0, l.none, &ctx.f.note)?;
            row += 1;
        }
        for community in list {
            text(ws, row, 0, &community.name)?;
            row += 1;
        }
        row += 1;
    }
    ws.set_column_width(0, 48)?;
    for col in 1..=3 {
        ws.set_column_width(col, 11)?;
    }
    Ok(())
}

fn label_of(ctx: &Ctx<'_>, key: &PriorityKey) -> String {
    priority_label(key, ctx.lang)
}

fn priorities(ctx: &Ctx<'_>, ws: &mut Worksheet) -> Result<(), XlsxError> {
    let (l, p) = (ctx.l, &ctx.report.priorities);
    heading(ctx, ws, 0, l.priorities)?;
    let columns = [
        (l.womens_priorities, &p.women),
        (l.mens_priorities, &p.men),
        (l.mixed_priorities, &p.mixed),
    ];
    let mut cols = vec![l.place];
    for (title, _) in &columns {
        cols.extend([*title, l.score, l.sessions_count, l.best_rank]);
    }
    header(ctx, ws, 2, &cols)?;
    let places = columns.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    let mut row = 3;
    for i in 0..places {
        number(ws, row, 0, u32::try_from(i + 1).unwrap_or(u32::MAX))?;
        for (g, (_, ranked)) in (0u16..).zip(&columns) {
            if let Some(rp) = ranked.get(i) {
                ranked_cells(ctx, ws, row, 1 + g * 4, rp)?;
            }
        }
        row += 1;
    }
    row += 1;
    for (title, keys) in [(l.only_women, &p.only_women), (l.only_men, &p.only_men)] {
        text_f(ws, row, 0, title, &ctx.f.heading)?;
        row += 1;
        if keys.is_empty() {
            text_f(ws, row, 0, l.none, &ctx.f.note)?;
            row += 1;
        }
        for key in keys {
            text(ws, row, 0, &label_of(ctx, key))?;
            row += 1;
        }
        row += 1;
    }

    heading(ctx, ws, row, l.all_priorities)?;
    row += 1;
    let mut cols = vec![l.priority.to_owned()];
    for g in [Group::Women, Group::Men, Group::Mixed] {
        for what in [l.score, l.sessions_count, l.best_rank] {
            cols.push(format!("{} – {}", l.group(g), what));
        }
    }
    let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    header(ctx, ws, row, &refs)?;
    row += 1;
    for r in &p.all {
        text(ws, row, 0, &label_of(ctx, &r.key))?;
        for (g, stat) in (0u16..).zip([r.women, r.men, r.mixed]) {
            if let Some(s) = stat {
                stat_cells(ws, row, 1 + g * 3, &s)?;
            }
        }
        row += 1;
    }
    row += 1;

    // The chart's data: women's and men's top priorities together, with each group's score
    // (blank where a group did not rank it), so that the bars of one priority stand together.
    heading(ctx, ws, row, l.chart_priorities)?;
    row += 1;
    header(ctx, ws, row, &[l.priority, l.groups[0], l.groups[1]])?;
    let chart_header = row;
    row += 1;
    let mut keys: Vec<&PriorityKey> = Vec::new();
    for rp in p.women.iter().chain(&p.men) {
        if !keys.contains(&&rp.key) {
            keys.push(&rp.key);
        }
    }
    for key in &keys {
        text(ws, row, 0, &label_of(ctx, key))?;
        for (col, ranked) in [(1u16, &p.women), (2, &p.men)] {
            if let Some(rp) = ranked.iter().find(|rp| rp.key == **key) {
                number(ws, row, col, rp.stat.score)?;
            }
        }
        row += 1;
    }
    ws.set_column_width(0, 28)?;
    for col in 1..=12u16 {
        let width = if col % 4 == 1 { 26 } else { 10 };
        ws.set_column_width(col, width)?;
    }
    ws.set_row_height(2, 30)?;
    if !keys.is_empty() {
        let last = chart_header + u32::try_from(keys.len()).unwrap_or(0);
        let mut chart = Chart::new(ChartType::Bar);
        chart.title().set_name(l.chart_priorities);
        for (col, colour) in [(1u16, WOMEN_COLOUR), (2, MEN_COLOUR)] {
            chart
                .add_series()
                .set_name((PRIORITIES, chart_header, col))
                .set_categories((PRIORITIES, chart_header + 1, 0, last, 0))
                .set_values((PRIORITIES, chart_header + 1, col, last, col))
                .set_format(
                    ChartFormat::new().set_solid_fill(ChartSolidFill::new().set_color(colour)),
                );
        }
        chart.y_axis().set_name(l.score);
        // Bar charts list categories bottom-up; reversed, the first priority is on top.
        chart.x_axis().set_reverse();
        chart.set_width(640).set_height(360);
        ws.insert_chart(row + 1, 0, &chart)?;
    }
    Ok(())
}

fn ranked_cells(
    ctx: &Ctx<'_>,
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    rp: &RankedPriority,
) -> Result<(), XlsxError> {
    text(ws, row, col, &label_of(ctx, &rp.key))?;
    stat_cells(ws, row, col + 1, &rp.stat)
}

fn stat_cells(ws: &mut Worksheet, row: u32, col: u16, s: &PriorityStat) -> Result<(), XlsxError> {
    number(ws, row, col, s.score)?;
    number(ws, row, col + 1, s.sessions)?;
    number(ws, row, col + 2, s.best_rank)
}

fn by_group_cells(ws: &mut Worksheet, row: u32, col: u16, g: &ByGroup) -> Result<(), XlsxError> {
    number(ws, row, col, g.women)?;
    number(ws, row, col + 1, g.men)?;
    number(ws, row, col + 2, g.mixed)?;
    number(ws, row, col + 3, g.total())
}

fn concerns(ctx: &Ctx<'_>, ws: &mut Worksheet) -> Result<(), XlsxError> {
    let (l, lang) = (ctx.l, ctx.lang);
    heading(ctx, ws, 0, l.concerns_by_affected)?;
    let mut cols = vec![
        l.affected,
        l.raised_by_women,
        l.raised_by_men,
        l.raised_in_mixed,
        l.total,
    ];
    cols.extend(Urgency::ALL.iter().map(|u| u.label(lang)));
    header(ctx, ws, 2, &cols)?;
    let mut row = 3;
    for c in &ctx.report.concerns_by_affected {
        text(ws, row, 0, AffectedGroup::label(c.affected, lang))?;
        by_group_cells(ws, row, 1, &c.raised)?;
        for (col, n) in (5u16..).zip(c.by_urgency) {
            number(ws, row, col, n)?;
        }
        row += 1;
    }
    text_f(ws, row, 0, l.concerns_note, &ctx.f.note)?;
    row += 2;

    heading(ctx, ws, row, l.concerns_by_category)?;
    row += 1;
    header(
        ctx,
        ws,
        row,
        &[
            l.category,
            l.raised_by_women,
            l.raised_by_men,
            l.raised_in_mixed,
            l.total,
            Urgency::Urgent.label(lang),
        ],
    )?;
    row += 1;
    for c in &ctx.report.concerns_by_category {
        text(ws, row, 0, c.category.label(lang))?;
        by_group_cells(ws, row, 1, &c.raised)?;
        number(ws, row, 5, c.urgent)?;
        row += 1;
    }
    ws.set_column_width(0, 34)?;
    for col in 1..=7 {
        ws.set_column_width(col, 14)?;
    }
    ws.set_row_height(2, 30)?;
    Ok(())
}

fn referrals(ctx: &Ctx<'_>, ws: &mut Worksheet) -> Result<(), XlsxError> {
    let (l, g) = (ctx.l, &ctx.report.referrals_offered);
    heading(ctx, ws, 0, l.referrals)?;
    header(ctx, ws, 2, &[l.group, l.sessions_count])?;
    let mut row = 3;
    for group in [Group::Women, Group::Men, Group::Mixed] {
        text_f(ws, row, 0, l.group(group), &ctx.f.label)?;
        number(ws, row, 1, g.of(group))?;
        row += 1;
    }
    text_f(ws, row, 0, l.total, &ctx.f.total)?;
    number(ws, row, 1, g.total())?;
    ws.set_column_width(0, 24)?;
    ws.set_column_width(1, 12)?;
    Ok(())
}

fn review(ctx: &Ctx<'_>, ws: &mut Worksheet) -> Result<(), XlsxError> {
    let (l, r) = (ctx.l, &ctx.report.review);
    heading(ctx, ws, 0, l.review)?;
    header(
        ctx,
        ws,
        2,
        &["", l.groups[0], l.groups[1], l.groups[2], l.total],
    )?;
    for ((row, state), g) in
        (3u32..)
            .zip(l.review_states)
            .zip([&r.pending, &r.returned, &r.accepted])
    {
        text_f(ws, row, 0, state, &ctx.f.label)?;
        by_group_cells(ws, row, 1, g)?;
    }
    ws.set_column_width(0, 24)?;
    for col in 1..=4 {
        ws.set_column_width(col, 12)?;
    }
    Ok(())
}

/// One row per session with wide columns, named like the CSV export's so that the same
/// scripts read both.
fn sessions(ctx: &Ctx<'_>, ws: &mut Worksheet) -> Result<(), XlsxError> {
    let cols = crate::csv::session_columns();
    let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    header(ctx, ws, 0, &refs)?;
    let mut row = 1;
    for s in &ctx.report.sessions {
        text(ws, row, 0, &s.id.to_string())?;
        text(ws, row, 1, &s.visit_id.to_string())?;
        let date = u16::try_from(chrono::Datelike::year(&s.date))
            .ok()
            .and_then(|y| {
                ExcelDateTime::from_ymd(
                    y,
                    u8::try_from(chrono::Datelike::month(&s.date)).ok()?,
                    u8::try_from(chrono::Datelike::day(&s.date)).ok()?,
                )
                .ok()
            });
        match date {
            Some(d) => {
                ws.write_datetime_with_format(row, 2, &d, &ctx.f.date)?;
            }
            // A date Excel cannot hold (before 1900) is still shown.
            None => text(ws, row, 2, &s.date.to_string())?,
        }
        text(ws, row, 3, &s.team)?;
        text(ws, row, 4, &s.community.id.to_string())?;
        text(ws, row, 5, &s.community.name)?;
        text(ws, row, 6, s.group.code())?;
        let mut col = 7u16;
        for sex in Sex::ALL {
            for c in s.participants.of(sex) {
                cell(ctx, ws, row, col, *c)?;
                col += 1;
            }
        }
        cell(ctx, ws, row, col, s.participants.total)?;
        col += 1;
        number(ws, row, col, s.facilitators.female)?;
        number(ws, row, col + 1, s.facilitators.male)?;
        text(
            ws,
            row,
            col + 2,
            crate::csv::interpreter_code(s.interpreter),
        )?;
        col += 3;
        for rank in 1..=5u8 {
            if let Some((_, key)) = s.priorities.iter().find(|(r, _)| *r == rank) {
                text(ws, row, col, &crate::csv::priority_code(key))?;
            }
            col += 1;
        }
        number(
            ws,
            row,
            col,
            u32::try_from(s.concerns.len()).unwrap_or(u32::MAX),
        )?;
        let urgent = s
            .concerns
            .iter()
            .filter(|c| c.urgency == Urgency::Urgent)
            .count();
        number(ws, row, col + 1, u32::try_from(urgent).unwrap_or(u32::MAX))?;
        ws.write_boolean(row, col + 2, s.referral_offered)?;
        row += 1;
    }
    let last_col = u16::try_from(refs.len().saturating_sub(1)).unwrap_or(0);
    ws.autofilter(0, 0, row.saturating_sub(1).max(1), last_col)?;
    ws.set_freeze_panes(1, 1)?;
    ws.set_autofit_max_width(MAX_COLUMN_PX);
    ws.autofit();
    ws.set_column_width(2, 11)?;
    Ok(())
}
