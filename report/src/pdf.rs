//! The PDF document: A4, the same sections in the same order as the printable HTML, the
//! charts as vector graphics.
//!
//! Layout runs first and produces a list of drawing operations per page; the PDF is written
//! afterwards, when the page count is known for the footers. Text is shaped here with
//! rustybuzz (the shaper krilla uses) rather than with krilla's simple text, because tables
//! need widths to wrap and align, and a line mixing Latin and Arabic (a team "Alpha" visiting
//! "الحصاحيصا") needs its runs put in visual order first, which simple text does not do.

use std::ops::Range;

use fieldconsult_model::report::monthly::{ByGroup, RankedPriority, SessionLine};
use fieldconsult_model::report::text::priority_label;
use fieldconsult_model::report::{
    MonthlyReport, PriorityKey, PriorityStat, ReportScope, SexAgeCells,
};
use fieldconsult_model::{AgeBand, Group, InterpreterSex, Language, Sex, Urgency};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla_svg::{SurfaceExt, SvgSettings};
use rustybuzz::{Direction, UnicodeBuffer};
use unicode_bidi::BidiInfo;

use crate::labels::{self, Labels, fill};
use crate::{RenderError, fonts};

// A4 in points, with margins that leave room for a binder's holes and the footer.
const PAGE_W: f32 = 595.276;
const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 48.0;
const MARGIN_TOP: f32 = 56.0;
const MARGIN_BOTTOM: f32 = 60.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
const BOTTOM: f32 = PAGE_H - MARGIN_BOTTOM;

const TITLE_SIZE: f32 = 18.0;
const HEADING_SIZE: f32 = 12.5;
const BODY_SIZE: f32 = 9.5;
const TABLE_SIZE: f32 = 8.5;
const SESSIONS_SIZE: f32 = 7.5;
const SMALL_SIZE: f32 = 7.5;
const LINE_GAP: f32 = 1.3;
const CELL_PAD: f32 = 3.0;

/// A cell's text beyond this many lines is cut with an ellipsis, so that no row (an absurdly
/// long community name, say) is taller than a page.
const MAX_CELL_LINES: usize = 6;

/// Field text longer than this is cut with an ellipsis (see [`field`]).
const MAX_FIELD_CHARS: usize = 160;

const INK: Rgb = Rgb(0x22, 0x22, 0x22);
const GREY: Rgb = Rgb(0x66, 0x66, 0x66);
const HEADING: Rgb = Rgb(0x1f, 0x3a, 0x5f);
const RULE: Rgb = Rgb(0xb0, 0xb0, 0xb0);
const HEADER_FILL: Rgb = Rgb(0xe8, 0xec, 0xf2);

pub(crate) fn render(report: &MonthlyReport, lang: Language) -> Result<Vec<u8>, RenderError> {
    let font = fonts::report_font()?;
    let typefaces = Typefaces::new(font)?;
    let l = labels::of(lang);
    let mut layout = Layout::new(&typefaces);
    let ctx = Ctx { report, lang, l };
    let svg_options = usvg::Options {
        font_family: font.family.clone(),
        fontdb: fonts::database()?,
        ..usvg::Options::default()
    };
    // The same charts as the HTML's, as vector graphics.
    let tree = |chart: crate::charts::Chart| {
        usvg::Tree::from_str(&chart.svg, &svg_options)
            .map_err(|_| RenderError::Chart { chart: chart.id })
    };
    let pyramid = tree(crate::charts::participation_pyramid(report, lang)?)?;
    let priorities_chart = tree(crate::charts::priorities(report, lang)?)?;

    title_block(&ctx, &mut layout);
    participation(&ctx, &mut layout, pyramid);
    by_team(&ctx, &mut layout);
    coverage(&ctx, &mut layout);
    priorities(&ctx, &mut layout, priorities_chart);
    concerns(&ctx, &mut layout);
    referrals_and_review(&ctx, &mut layout);
    sessions(&ctx, &mut layout);

    let running_head = format!(
        "{} – {} – {}",
        l.title,
        l.scope_line(&report.scope, &field(&report.scope_name)),
        report.month
    );
    write_pdf(layout, &typefaces, &ctx, &running_head)
}

struct Ctx<'a> {
    report: &'a MonthlyReport,
    lang: Language,
    l: &'static Labels,
}

impl Ctx<'_> {
    fn cell(&self, c: Option<u64>) -> String {
        self.l.cell(c, self.report.options.min_cell)
    }

    fn priority(&self, key: &PriorityKey) -> String {
        field(&priority_label(key, self.lang))
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Rgb(u8, u8, u8);

impl Rgb {
    fn fill(self) -> Fill {
        Fill {
            paint: rgb::Color::new(self.0, self.1, self.2).into(),
            opacity: NormalizedF32::ONE,
            rule: FillRule::NonZero,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Text: shaping, measuring, wrapping.

struct Typeface {
    face: rustybuzz::Face<'static>,
    font: Font,
    units_per_em: f32,
}

struct Typefaces {
    regular: Typeface,
    /// The bold face, or the regular one where the font has none.
    bold: Option<Typeface>,
}

impl Typefaces {
    fn new(font: &'static fonts::ReportFont) -> Result<Self, RenderError> {
        let load = |f: &'static fonts::FontFace| -> Option<Typeface> {
            let face = rustybuzz::Face::from_slice(f.data.as_slice(), f.index)?;
            let units_per_em = (face.units_per_em() as f32).max(1.0);
            let font = Font::new(f.data.clone().into(), f.index)?;
            Some(Typeface {
                face,
                font,
                units_per_em,
            })
        };
        Ok(Typefaces {
            regular: load(&font.regular).ok_or(RenderError::NoFont)?,
            bold: font.bold.as_ref().and_then(load),
        })
    }

    fn get(&self, bold: bool) -> &Typeface {
        match (&self.bold, bold) {
            (Some(b), true) => b,
            _ => &self.regular,
        }
    }
}

/// A run of text in one direction, shaped: glyph advances in ems.
#[derive(Clone)]
struct Run {
    text: String,
    glyphs: Vec<KrillaGlyph>,
    width_em: f32,
}

/// A line of text, its runs in visual order (left to right on the page).
#[derive(Clone)]
struct Line {
    runs: Vec<Run>,
    width_em: f32,
    bold: bool,
}

impl Line {
    fn width(&self, size: f32) -> f32 {
        self.width_em * size
    }
}

/// Field text (a name, the label of an `other` priority) cut to a length a page can show.
/// Names are short in practice; the cut keeps a pathological one from costing minutes of
/// layout for text no reader would see anyway.
fn field(text: &str) -> String {
    if text.chars().count() <= MAX_FIELD_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_FIELD_CHARS).collect();
    cut.push('…');
    cut
}

/// Text as one line: newlines and other control characters become spaces, so a name typed
/// with a line break cannot break the table.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn shape_line(t: &Typefaces, text: &str, bold: bool) -> Line {
    let tf = t.get(bold);
    let text = clean(text);
    let mut runs = Vec::new();
    let info = BidiInfo::new(&text, None);
    for para in &info.paragraphs {
        let (levels, visual) = info.visual_runs(para, para.range.clone());
        for range in visual {
            let rtl = levels.get(range.start).is_some_and(|l| l.is_rtl());
            if let Some(part) = text.get(range) {
                runs.push(shape_run(tf, part, rtl));
            }
        }
    }
    let width_em = runs.iter().map(|r| r.width_em).sum();
    Line {
        runs,
        width_em,
        bold,
    }
}

/// Shapes one run, with each glyph's range of text worked out as krilla's own simple text
/// does, so that copied and extracted text comes out right (Arabic included).
fn shape_run(tf: &Typeface, text: &str, rtl: bool) -> Run {
    let mut buffer = UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.guess_segment_properties();
    buffer.set_direction(if rtl {
        Direction::RightToLeft
    } else {
        Direction::LeftToRight
    });
    let output = rustybuzz::shape(&tf.face, &[], buffer);
    let infos = output.glyph_infos();
    let positions = output.glyph_positions();
    let upem = tf.units_per_em;
    let mut glyphs = Vec::with_capacity(infos.len());
    let mut width_em = 0.0;
    for (i, (info, pos)) in infos.iter().zip(positions).enumerate() {
        let start = info.cluster as usize;
        // The next cluster in logical order ends this one: after it in visual order for
        // left-to-right text, before it for right-to-left.
        let next = if rtl {
            infos[..i]
                .iter()
                .rev()
                .find(|other| other.cluster != info.cluster)
        } else {
            infos[i + 1..]
                .iter()
                .find(|other| other.cluster != info.cluster)
        };
        let end = next.map_or(text.len(), |n| n.cluster as usize);
        let range: Range<usize> = if end > start {
            start..end
        } else {
            start..text.len()
        };
        let advance = pos.x_advance as f32 / upem;
        width_em += advance;
        glyphs.push(KrillaGlyph::new(
            GlyphId::new(info.glyph_id),
            advance,
            pos.x_offset as f32 / upem,
            pos.y_offset as f32 / upem,
            pos.y_advance as f32 / upem,
            range,
            None,
        ));
    }
    Run {
        text: text.to_owned(),
        glyphs,
        width_em,
    }
}

/// Breaks `text` into lines no wider than `width`: at spaces, and inside a word only when
/// the word alone is too wide.
fn wrap(t: &Typefaces, text: &str, size: f32, bold: bool, width: f32) -> Vec<Line> {
    // A line break in the text (the report's own, between a session's priorities) starts a
    // new line.
    let mut lines: Vec<String> = Vec::new();
    for paragraph in text.lines() {
        wrap_paragraph(t, paragraph, size, bold, width, &mut lines);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines.iter().map(|s| shape_line(t, s, bold)).collect()
}

fn wrap_paragraph(
    t: &Typefaces,
    text: &str,
    size: f32,
    bold: bool,
    width: f32,
    lines: &mut Vec<String>,
) {
    let fits = |s: &str| shape_line(t, s, bold).width(size) <= width;
    let mut current = String::new();
    for word in clean(text).split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if fits(&candidate) {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if fits(word) {
            current = word.to_owned();
            continue;
        }
        for c in word.chars() {
            let mut next = current.clone();
            next.push(c);
            if !current.is_empty() && !fits(&next) {
                lines.push(std::mem::take(&mut current));
                current.push(c);
            } else {
                current = next;
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
}

// ---------------------------------------------------------------------------------------
// Layout: drawing operations, page by page.

enum Op {
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        line: Line,
        colour: Rgb,
    },
    Rule {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
        colour: Rgb,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        colour: Rgb,
    },
    Svg {
        tree: Box<usvg::Tree>,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
    Center,
}

/// A table cell laid out: its width and its wrapped lines.
struct Cell {
    width: f32,
    align: Align,
    lines: Vec<Line>,
}

struct Column {
    header: String,
    align: Align,
}

struct Table {
    columns: Vec<Column>,
    /// A header row above the columns' headers, grouping them: a label and how many
    /// columns it spans.
    groups: Vec<(String, usize)>,
    rows: Vec<Vec<String>>,
    /// Rows set in bold (totals).
    bold_rows: Vec<usize>,
    size: f32,
}

impl Table {
    fn new(size: f32, columns: &[(&str, Align)]) -> Self {
        Table {
            columns: columns
                .iter()
                .map(|(h, a)| Column {
                    header: (*h).to_owned(),
                    align: *a,
                })
                .collect(),
            groups: Vec::new(),
            rows: Vec::new(),
            bold_rows: Vec::new(),
            size,
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn total_row(&mut self, cells: Vec<String>) {
        self.bold_rows.push(self.rows.len());
        self.rows.push(cells);
    }
}

struct Layout<'t> {
    t: &'t Typefaces,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl<'t> Layout<'t> {
    fn new(t: &'t Typefaces) -> Self {
        Layout {
            t,
            pages: vec![Vec::new()],
            y: MARGIN_TOP,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN_TOP;
    }

    /// Starts a new page unless `height` more fits on this one (or this page is still empty:
    /// whatever does not fit on an empty page goes there anyway).
    fn ensure(&mut self, height: f32) -> bool {
        if self.y + height > BOTTOM && self.y > MARGIN_TOP {
            self.new_page();
            return true;
        }
        false
    }

    fn space(&mut self, h: f32) {
        if self.y > MARGIN_TOP {
            self.y += h;
        }
    }

    fn line_height(size: f32) -> f32 {
        size * LINE_GAP
    }

    fn text_line(&mut self, x: f32, line: Line, size: f32, colour: Rgb) {
        let baseline = self.y + size;
        self.ops().push(Op::Text {
            x,
            baseline,
            size,
            line,
            colour,
        });
    }

    fn paragraph(&mut self, text: &str, size: f32, bold: bool, colour: Rgb) {
        for line in wrap(self.t, text, size, bold, CONTENT_W) {
            let h = Self::line_height(size);
            self.ensure(h);
            self.text_line(MARGIN_X, line, size, colour);
            self.y += h;
        }
    }

    fn title(&mut self, text: &str) {
        self.paragraph(text, TITLE_SIZE, true, HEADING);
        self.y += 4.0;
    }

    /// A section heading, kept on the same page as the first lines after it.
    fn heading(&mut self, text: &str) {
        self.space(12.0);
        self.ensure(HEADING_SIZE * LINE_GAP + 60.0);
        self.paragraph(text, HEADING_SIZE, true, HEADING);
        let y = self.y + 1.0;
        self.ops().push(Op::Rule {
            from: (MARGIN_X, y),
            to: (MARGIN_X + CONTENT_W, y),
            width: 0.6,
            colour: HEADING,
        });
        self.y += 6.0;
    }

    /// A heading within a section.
    fn subheading(&mut self, text: &str) {
        self.space(6.0);
        self.ensure(BODY_SIZE * LINE_GAP + 30.0);
        self.paragraph(text, BODY_SIZE + 0.5, true, HEADING);
        self.y += 1.0;
    }

    fn note(&mut self, text: &str) {
        self.y += 2.0;
        self.paragraph(text, SMALL_SIZE, false, GREY);
    }

    /// `label: value` on one line, wrapped if long.
    fn pair(&mut self, label: &str, value: &str) {
        self.paragraph(&format!("{label}: {value}"), BODY_SIZE, false, INK);
    }

    fn svg(&mut self, tree: usvg::Tree) {
        let size = tree.size();
        let w = CONTENT_W.min(size.width());
        let h = w * size.height() / size.width().max(1.0);
        if !(w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0) {
            return;
        }
        self.space(6.0);
        self.ensure(h);
        let (x, y) = (MARGIN_X + (CONTENT_W - w) / 2.0, self.y);
        self.ops().push(Op::Svg {
            tree: Box::new(tree),
            x,
            y,
            w,
            h,
        });
        self.y += h + 6.0;
    }

    fn table(&mut self, table: &Table) {
        let size = table.size;
        let ncols = table.columns.len();
        if ncols == 0 {
            return;
        }
        let widths = self.column_widths(table);
        let lh = Self::line_height(size);
        let t = self.t;
        let cell_lines = |text: &str, width: f32, bold: bool| {
            let inner = (width - 2.0 * CELL_PAD).max(size);
            let mut lines = wrap(t, text, size, bold, inner);
            if lines.len() > MAX_CELL_LINES {
                lines.truncate(MAX_CELL_LINES);
                if let Some(last) = lines.last_mut() {
                    let text: String = last.runs.iter().map(|r| r.text.as_str()).collect();
                    *last = shape_line(t, &format!("{text}…"), bold);
                }
            }
            lines
        };
        // Header rows: the groups spanning columns, if any, then the columns.
        let mut header_rows: Vec<Vec<Cell>> = Vec::new();
        if !table.groups.is_empty() {
            let mut first = 0;
            let mut row = Vec::new();
            for (label, span) in &table.groups {
                let last = (first + span).min(ncols);
                let w: f32 = widths.get(first..last).map_or(0.0, |w| w.iter().sum());
                row.push(Cell {
                    width: w,
                    align: Align::Center,
                    lines: cell_lines(label, w, true),
                });
                first = last;
            }
            header_rows.push(row);
        }
        let has_header = table.columns.iter().any(|c| !c.header.is_empty());
        if has_header {
            header_rows.push(
                table
                    .columns
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| Cell {
                        width: *w,
                        align: c.align,
                        lines: cell_lines(&c.header, *w, true),
                    })
                    .collect(),
            );
        }
        let rows: Vec<Vec<Cell>> = table
            .rows
            .iter()
            .enumerate()
            .map(|(r, cells)| {
                let bold = table.bold_rows.contains(&r);
                table
                    .columns
                    .iter()
                    .zip(&widths)
                    .enumerate()
                    .map(|(i, (c, w))| Cell {
                        width: *w,
                        align: c.align,
                        lines: cell_lines(cells.get(i).map_or("", String::as_str), *w, bold),
                    })
                    .collect()
            })
            .collect();
        let height = |cells: &[Cell]| {
            cells
                .iter()
                .map(|c| c.lines.len())
                .max()
                .unwrap_or(1)
                .max(1) as f32
                * lh
                + 2.0 * CELL_PAD
        };
        let header_h: f32 = header_rows.iter().map(|r| height(r)).sum();

        self.space(4.0);
        let first_row_h = rows.first().map_or(0.0, |c| height(c));
        self.ensure(header_h + first_row_h);
        for r in &header_rows {
            self.table_row(r, height(r), size, true);
        }
        for cells in &rows {
            let h = height(cells);
            // Repeat the headers on every page the table runs onto.
            if self.ensure(h) {
                for r in &header_rows {
                    self.table_row(r, height(r), size, true);
                }
            }
            self.table_row(cells, h, size, false);
        }
        self.y += 4.0;
    }

    fn table_row(&mut self, cells: &[Cell], h: f32, size: f32, is_header: bool) {
        let top = self.y;
        let total_w: f32 = cells.iter().map(|c| c.width).sum();
        if is_header {
            self.ops().push(Op::Rect {
                x: MARGIN_X,
                y: top,
                w: total_w,
                h,
                colour: HEADER_FILL,
            });
        }
        let lh = Self::line_height(size);
        let mut x = MARGIN_X;
        let mut texts = Vec::new();
        for cell in cells {
            for (i, line) in cell.lines.iter().enumerate() {
                let free = cell.width - 2.0 * CELL_PAD - line.width(size);
                let lx = match cell.align {
                    Align::Left => x + CELL_PAD,
                    Align::Right => x + CELL_PAD + free,
                    Align::Center => x + CELL_PAD + free / 2.0,
                };
                texts.push(Op::Text {
                    x: lx,
                    baseline: top + CELL_PAD + i as f32 * lh + size,
                    size,
                    line: line.clone(),
                    colour: INK,
                });
            }
            x += cell.width;
        }
        self.ops().extend(texts);
        // Thin grid: rules above and under the row, and between cells.
        let rule = |from, to, width| Op::Rule {
            from,
            to,
            width,
            colour: RULE,
        };
        let bottom = top + h;
        let mut grid = vec![
            rule((MARGIN_X, top), (MARGIN_X + total_w, top), 0.4),
            rule((MARGIN_X, bottom), (MARGIN_X + total_w, bottom), 0.4),
        ];
        let mut x = MARGIN_X;
        grid.push(rule((x, top), (x, bottom), 0.3));
        for cell in cells {
            x += cell.width;
            grid.push(rule((x, top), (x, bottom), 0.3));
        }
        self.ops().extend(grid);
        self.y = bottom;
    }

    /// Each column as wide as its widest cell and header when the table fits the page.
    /// Otherwise headers wrap first (their longest word is enough), then the room beyond
    /// every column's longest word is shared in proportion to what each cell needs, and
    /// cells wrap too.
    fn column_widths(&self, table: &Table) -> Vec<f32> {
        let size = table.size;
        let measure = |s: &str, bold: bool| shape_line(self.t, s, bold).width(size);
        let longest_word = |s: &str, bold: bool| {
            s.split_whitespace()
                .map(|w| measure(w, bold))
                .fold(0.0f32, f32::max)
        };
        let pad = 2.0 * CELL_PAD + 0.5;
        let (mut full, mut cells_natural, mut minimum) = (Vec::new(), Vec::new(), Vec::new());
        for (i, col) in table.columns.iter().enumerate() {
            let cells = table.rows.iter().filter_map(|r| r.get(i));
            let header_word = longest_word(&col.header, true);
            let widest_line = cells
                .clone()
                .flat_map(|c| c.lines())
                .map(|c| measure(c, false))
                .fold(header_word, f32::max);
            let min = cells
                .map(|c| longest_word(c, false))
                .fold(header_word, f32::max);
            let with_header = widest_line.max(measure(&col.header, true));
            full.push(with_header.min(CONTENT_W) + pad);
            cells_natural.push(widest_line.min(CONTENT_W) + pad);
            minimum.push(min.min(CONTENT_W) + pad);
        }
        let sum = |v: &[f32]| v.iter().sum::<f32>();
        // Grow `from` towards `to`, sharing `CONTENT_W - sum(from)` by what each lacks.
        let grow = |from: &[f32], to: &[f32]| -> Vec<f32> {
            let spare = CONTENT_W - sum(from);
            let wanted = (sum(to) - sum(from)).max(1.0);
            from.iter()
                .zip(to)
                .map(|(f, t)| f + (t - f) * spare / wanted)
                .collect()
        };
        if sum(&full) <= CONTENT_W {
            full
        } else if sum(&cells_natural) <= CONTENT_W {
            grow(&cells_natural, &full)
        } else if sum(&minimum) < CONTENT_W {
            grow(&minimum, &cells_natural)
        } else {
            let total = sum(&minimum).max(1.0);
            minimum.iter().map(|m| m * CONTENT_W / total).collect()
        }
    }
}

// ---------------------------------------------------------------------------------------
// The sections, in the HTML report's order.

fn title_block(ctx: &Ctx<'_>, lay: &mut Layout<'_>) {
    let (l, r) = (ctx.l, ctx.report);
    lay.title(l.title);
    lay.pair(l.scope, &l.scope_line(&r.scope, &field(&r.scope_name)));
    lay.pair(l.month, &r.month.to_string());
    lay.y += 4.0;
    let review = &r.review;
    lay.paragraph(
        &fill(
            l.basis,
            &[
                ("accepted", &review.accepted.total().to_string()),
                ("pending", &review.pending.total().to_string()),
                ("returned", &review.returned.total().to_string()),
            ],
        ),
        BODY_SIZE,
        false,
        INK,
    );
    let min_cell = r.options.min_cell;
    if min_cell > 1 {
        lay.paragraph(
            &fill(l.suppression_on, &[("min_cell", &min_cell.to_string())]),
            BODY_SIZE,
            false,
            INK,
        );
    } else {
        lay.paragraph(l.suppression_off, BODY_SIZE, false, INK);
    }
}

fn hidden_key(ctx: &Ctx<'_>, lay: &mut Layout<'_>) {
    lay.note(&format!("{}: {}", ctx.cell(None), ctx.l.suppressed_key));
}

fn sex_age_table(ctx: &Ctx<'_>, cells: &SexAgeCells) -> Table {
    let l = ctx.l;
    let mut cols = vec![(l.sex, Align::Left)];
    cols.extend(AgeBand::ALL.map(|b| (l.age_band(b), Align::Right)));
    cols.push((l.total, Align::Right));
    let mut t = Table::new(TABLE_SIZE, &cols);
    for sex in Sex::ALL {
        let mut row = vec![l.sex(sex).to_owned()];
        row.extend(cells.of(sex).iter().map(|c| ctx.cell(*c)));
        row.push(ctx.cell(cells.total_of(sex)));
        t.row(row);
    }
    let mut row = vec![l.total.to_owned()];
    row.extend(cells.band_totals.iter().map(|c| ctx.cell(*c)));
    row.push(ctx.cell(cells.total));
    t.total_row(row);
    t
}

fn participation(ctx: &Ctx<'_>, lay: &mut Layout<'_>, chart: usvg::Tree) {
    let total = &ctx.report.participation.total;
    lay.heading(ctx.l.participation);
    lay.table(&sex_age_table(ctx, total));
    if total.suppressed() > 0 {
        hidden_key(ctx, lay);
    }
    lay.svg(chart);
}

fn by_team(ctx: &Ctx<'_>, lay: &mut Layout<'_>) {
    let (l, r) = (ctx.l, ctx.report);
    // A team's own report has nothing to break down, as in the HTML.
    if matches!(r.scope, ReportScope::Team { .. }) && r.participation.by_team.len() <= 1 {
        return;
    }
    lay.heading(l.participation_by_team);
    let mut cols = vec![(l.team, Align::Left), (l.sessions_count, Align::Right)];
    cols.extend(Sex::ALL.map(|s| (l.sex(s), Align::Right)));
    cols.push((l.total, Align::Right));
    let mut t = Table::new(TABLE_SIZE, &cols);
    let mut hidden = false;
    for team in &ctx.report.participation.by_team {
        let p = &team.participants;
        let mut row = vec![field(&team.team), team.sessions.to_string()];
        row.extend(Sex::ALL.map(|s| ctx.cell(p.total_of(s))));
        row.push(ctx.cell(p.total));
        hidden |= p.suppressed() > 0;
        t.row(row);
    }
    if t.rows.is_empty() {
        lay.paragraph(l.none, BODY_SIZE, false, GREY);
    } else {
        lay.table(&t);
    }
    if hidden {
        hidden_key(ctx, lay);
    }
}

fn share(ctx: &Ctx<'_>, part: u32, whole: u32) -> String {
    if whole == 0 {
        return format!("{part} / {whole} ({})", ctx.l.not_applicable);
    }
    let pct = (f64::from(part) * 100.0 / f64::from(whole)).round();
    match ctx.lang {
        // French sets a narrow no-break space before the percent sign, as the HTML does.
        Language::Fr => format!("{part} / {whole} ({pct:.0}\u{202f}%)"),
        Language::En => format!("{part} / {whole} ({pct:.0}%)"),
    }
}

fn coverage(ctx: &Ctx<'_>, lay: &mut Layout<'_>) {
    let (l, c) = (ctx.l, &ctx.report.coverage);
    let s = &c.sessions;
    lay.heading(l.coverage);
    let mut t = Table::new(TABLE_SIZE, &[("", Align::Left), ("", Align::Right)]);
    t.row(vec![
        l.visits_with_women_session.to_owned(),
        share(ctx, s.visits_with_women_session, s.visits),
    ]);
    t.row(vec![
        l.sessions_with_woman_facilitator.to_owned(),
        share(ctx, s.sessions_with_woman_facilitator, s.sessions),
    ]);
    t.row(vec![
        l.interpreters.to_owned(),
        [
            (InterpreterSex::Female, s.interpreters_female),
            (InterpreterSex::Male, s.interpreters_male),
            (InterpreterSex::None, s.interpreters_none),
        ]
        .iter()
        .map(|(sex, n)| format!("{}: {n}", l.interpreter_sex(*sex)))
        .collect::<Vec<_>>()
        .join(", "),
    ]);
    t.row(vec![
        l.communities_consulted.to_owned(),
        c.communities.len().to_string(),
    ]);
    lay.table(&t);
    for (title, list) in [
        (l.never_with_women, &c.never_consulted_with_women),
        (l.only_mixed, &c.only_mixed),
    ] {
        let names: Vec<String> = list.iter().map(|c| field(&c.name)).collect();
        let value = if names.is_empty() {
            l.none.to_owned()
        } else {
            names.join(", ")
        };
        lay.pair(title, &value);
    }
}

/// What each group said about its top priorities, each note as its own paragraph (shaped
/// and ordered right to left where it is Arabic).
fn voices(ctx: &Ctx<'_>, lay: &mut Layout<'_>) {
    let p = &ctx.report.priorities;
    let quoted: Vec<(Group, &RankedPriority)> = [
        (Group::Women, &p.women),
        (Group::Men, &p.men),
        (Group::Mixed, &p.mixed),
    ]
    .into_iter()
    .flat_map(|(g, ranking)| ranking.iter().map(move |r| (g, r)))
    .filter(|(_, r)| !r.voices.is_empty())
    .collect();
    if quoted.is_empty() {
        return;
    }
    lay.subheading(ctx.l.in_their_words);
    for (group, ranked) in quoted {
        let who = format!("{} · {}", ctx.l.group(group), ctx.priority(&ranked.key));
        lay.paragraph(&who, BODY_SIZE, true, INK);
        for voice in &ranked.voices {
            lay.paragraph(&format!("“{}”", field(voice)), BODY_SIZE, false, GREY);
        }
    }
}

fn priorities(ctx: &Ctx<'_>, lay: &mut Layout<'_>, chart: usvg::Tree) {
    let (l, p) = (ctx.l, &ctx.report.priorities);
    lay.heading(l.priorities);
    let mut groups: Vec<(&str, &Vec<RankedPriority>)> =
        vec![(l.womens_priorities, &p.women), (l.mens_priorities, &p.men)];
    if !p.mixed.is_empty() {
        groups.push((l.mixed_priorities, &p.mixed));
    }
    let heads: Vec<String> = groups
        .iter()
        .map(|(title, _)| format!("{title} ({})", l.score))
        .collect();
    let mut cols = vec![(l.place, Align::Right)];
    cols.extend(heads.iter().map(|h| (h.as_str(), Align::Left)));
    let mut t = Table::new(TABLE_SIZE, &cols);
    let places = groups.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    for i in 0..places {
        let mut row = vec![(i + 1).to_string()];
        for (_, ranked) in &groups {
            row.push(ranked.get(i).map_or_else(String::new, |rp| {
                format!("{} ({})", ctx.priority(&rp.key), rp.stat.score)
            }));
        }
        t.row(row);
    }
    if places == 0 {
        lay.paragraph(l.none, BODY_SIZE, false, GREY);
    } else {
        lay.table(&t);
    }
    lay.svg(chart);
    voices(ctx, lay);
    for (title, keys) in [(l.only_women, &p.only_women), (l.only_men, &p.only_men)] {
        lay.subheading(title);
        let value = if keys.is_empty() {
            l.none.to_owned()
        } else {
            keys.iter()
                .map(|k| ctx.priority(k))
                .collect::<Vec<_>>()
                .join(", ")
        };
        lay.paragraph(&value, BODY_SIZE, false, INK);
    }

    lay.subheading(l.all_priorities);
    let mut cols = vec![(l.priority, Align::Left)];
    for _ in GROUPS {
        cols.extend([
            (l.sessions_count, Align::Right),
            (l.best_rank, Align::Right),
            (l.score, Align::Right),
        ]);
    }
    let mut t = Table::new(TABLE_SIZE, &cols);
    t.groups = [(String::new(), 1)]
        .into_iter()
        .chain(GROUPS.iter().map(|g| (l.group(*g).to_owned(), 3)))
        .collect();
    let stat = |s: Option<PriorityStat>| match s {
        Some(s) => [
            s.sessions.to_string(),
            s.best_rank.to_string(),
            s.score.to_string(),
        ],
        None => ["–", "–", "–"].map(str::to_owned),
    };
    for r in &p.all {
        let mut row = vec![ctx.priority(&r.key)];
        for s in [r.women, r.men, r.mixed] {
            row.extend(stat(s));
        }
        t.row(row);
    }
    if t.rows.is_empty() {
        lay.paragraph(l.none, BODY_SIZE, false, GREY);
    } else {
        lay.table(&t);
    }
}

const GROUPS: [Group; 3] = [Group::Women, Group::Men, Group::Mixed];

fn by_group_cells(g: &ByGroup) -> [String; 4] {
    [g.women, g.men, g.mixed, g.total()].map(|n| n.to_string())
}

fn concerns(ctx: &Ctx<'_>, lay: &mut Layout<'_>) {
    let (l, lang) = (ctx.l, ctx.lang);
    lay.heading(l.concerns_by_affected);
    let mut cols = vec![
        (l.affected, Align::Left),
        (l.raised_by_women, Align::Right),
        (l.raised_by_men, Align::Right),
        (l.raised_in_mixed, Align::Right),
        (l.total, Align::Right),
    ];
    cols.extend(Urgency::ALL.iter().map(|u| (u.label(lang), Align::Right)));
    let mut t = Table::new(TABLE_SIZE, &cols);
    for c in &ctx.report.concerns_by_affected {
        let mut row = vec![c.affected.label(lang).to_owned()];
        row.extend(by_group_cells(&c.raised));
        row.extend(c.by_urgency.map(|n| n.to_string()));
        t.row(row);
    }
    lay.table(&t);
    lay.note(l.concerns_note);

    lay.heading(l.concerns_by_category);
    let mut t = Table::new(
        TABLE_SIZE,
        &[
            (l.category, Align::Left),
            (l.raised_by_women, Align::Right),
            (l.raised_by_men, Align::Right),
            (l.raised_in_mixed, Align::Right),
            (l.total, Align::Right),
            (Urgency::Urgent.label(lang), Align::Right),
        ],
    );
    for c in &ctx.report.concerns_by_category {
        let mut row = vec![c.category.label(lang).to_owned()];
        row.extend(by_group_cells(&c.raised));
        row.push(c.urgent.to_string());
        t.row(row);
    }
    lay.table(&t);
}

fn referrals_and_review(ctx: &Ctx<'_>, lay: &mut Layout<'_>) {
    let l = ctx.l;
    let group_cols = |first: &'static str| {
        let mut cols = vec![(first, Align::Left)];
        cols.extend(GROUPS.map(|g| (l.group(g), Align::Right)));
        cols.push((l.total, Align::Right));
        Table::new(TABLE_SIZE, &cols)
    };
    lay.heading(l.referrals);
    let mut t = group_cols(l.referral);
    let mut row = vec![l.sessions_count.to_owned()];
    row.extend(by_group_cells(&ctx.report.referrals_offered));
    t.row(row);
    lay.table(&t);

    lay.heading(l.review);
    let r = &ctx.report.review;
    let mut t = group_cols("");
    for (state, g) in l
        .review_states
        .iter()
        .zip([&r.pending, &r.returned, &r.accepted])
    {
        let mut row = vec![(*state).to_owned()];
        row.extend(by_group_cells(g));
        t.row(row);
    }
    lay.table(&t);
}

fn sessions(ctx: &Ctx<'_>, lay: &mut Layout<'_>) {
    let l = ctx.l;
    lay.heading(l.sessions);
    lay.note(&crate::labels::sessions_note(l, ctx.report.sessions.len()));
    let t = {
        let mut t = Table::new(
            SESSIONS_SIZE,
            &[
                (l.date, Align::Left),
                (l.team, Align::Left),
                (l.community, Align::Left),
                (l.group, Align::Left),
                (l.total, Align::Right),
                (l.facilitators, Align::Right),
                (l.interpreter, Align::Left),
                (l.priority, Align::Left),
                (l.concerns, Align::Right),
                (l.referral, Align::Left),
            ],
        );
        for s in ctx.report.sessions.iter().take(crate::PRINTED_SESSIONS) {
            t.row(session_row(ctx, s));
        }
        t
    };
    if t.rows.is_empty() {
        lay.paragraph(l.none, BODY_SIZE, false, GREY);
    } else {
        lay.table(&t);
    }
    if ctx
        .report
        .sessions
        .iter()
        .any(|s| s.participants.total.is_none())
    {
        hidden_key(ctx, lay);
    }
}

fn session_row(ctx: &Ctx<'_>, s: &SessionLine) -> Vec<String> {
    let l = ctx.l;
    let mut ranked = s.priorities.clone();
    ranked.sort_by_key(|(rank, _)| *rank);
    let priorities = ranked
        .iter()
        .map(|(rank, key)| format!("{rank}. {}", ctx.priority(key)))
        .collect::<Vec<_>>()
        .join("\n");
    vec![
        s.date.to_string(),
        field(&s.team),
        field(&s.community.name),
        l.group(s.group).to_owned(),
        ctx.cell(s.participants.total),
        format!("{}/{}", s.facilitators.female, s.facilitators.male),
        l.interpreter_sex(s.interpreter).to_owned(),
        priorities,
        s.concerns.len().to_string(),
        if s.referral_offered { l.yes } else { l.no }.to_owned(),
    ]
}

// ---------------------------------------------------------------------------------------
// Writing the PDF.

fn write_pdf(
    layout: Layout<'_>,
    t: &Typefaces,
    ctx: &Ctx<'_>,
    running_head: &str,
) -> Result<Vec<u8>, RenderError> {
    let l = ctx.l;
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(running_head.to_owned())
            .language(ctx.lang.tag().to_owned())
            .creator("FieldConsult".to_owned())
            .description(l.footer.to_owned()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(RenderError::Pdf("page size"))?;
    let count = layout.pages.len();
    for (n, ops) in layout.pages.into_iter().enumerate() {
        let mut page = doc.start_page_with(settings.clone());
        let mut surface = page.surface();
        for op in ops {
            draw(&mut surface, t, op);
        }
        // Running head from the second page, footer with page numbers on every page.
        let small = |text: &str| shape_line(t, text, false);
        if n > 0 {
            let head = small(running_head);
            draw_line(
                &mut surface,
                t,
                MARGIN_X,
                MARGIN_TOP - 18.0,
                SMALL_SIZE,
                &head,
                GREY,
            );
        }
        let foot_y = PAGE_H - MARGIN_BOTTOM + 26.0;
        let footer = wrap(t, l.footer, SMALL_SIZE, false, CONTENT_W - 50.0);
        for (i, line) in footer.iter().enumerate() {
            let y = foot_y + i as f32 * Layout::line_height(SMALL_SIZE);
            draw_line(&mut surface, t, MARGIN_X, y, SMALL_SIZE, line, GREY);
        }
        let number = small(&format!("{} / {count}", n + 1));
        let x = MARGIN_X + CONTENT_W - number.width(SMALL_SIZE);
        draw_line(&mut surface, t, x, foot_y, SMALL_SIZE, &number, GREY);
        surface.finish();
        page.finish();
    }
    doc.finish()
        .map_err(|_| RenderError::Pdf("krilla could not write the document"))
}

fn draw(surface: &mut Surface<'_>, t: &Typefaces, op: Op) {
    match op {
        Op::Text {
            x,
            baseline,
            size,
            line,
            colour,
        } => draw_line(surface, t, x, baseline, size, &line, colour),
        Op::Rule {
            from,
            to,
            width,
            colour,
        } => {
            let mut pb = PathBuilder::new();
            pb.move_to(from.0, from.1);
            pb.line_to(to.0, to.1);
            if let Some(path) = pb.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
                    width,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
        Op::Rect { x, y, w, h, colour } => {
            let mut pb = PathBuilder::new();
            if let Some(rect) = Rect::from_xywh(x, y, w, h) {
                pb.push_rect(rect);
            }
            if let Some(path) = pb.finish() {
                surface.set_stroke(None);
                surface.set_fill(Some(colour.fill()));
                surface.draw_path(&path);
            }
        }
        Op::Svg { tree, x, y, w, h } => {
            if let Some(size) = Size::from_wh(w, h) {
                surface.push_transform(&Transform::from_translate(x, y));
                // A chart krilla-svg cannot draw leaves a gap, not a broken document.
                let _ = surface.draw_svg(&tree, size, SvgSettings::default());
                surface.pop();
            }
        }
    }
}

fn draw_line(
    surface: &mut Surface<'_>,
    t: &Typefaces,
    x: f32,
    baseline: f32,
    size: f32,
    line: &Line,
    colour: Rgb,
) {
    let font = &t.get(line.bold).font;
    surface.set_stroke(None);
    surface.set_fill(Some(colour.fill()));
    let mut x = x;
    for run in &line.runs {
        if !run.glyphs.is_empty() {
            surface.draw_glyphs(
                Point::from_xy(x, baseline),
                &run.glyphs,
                font.clone(),
                &run.text,
                size,
                false,
            );
        }
        x += run.width_em * size;
    }
}
