//! The report's charts as SVG, drawn with plotters: the participation pyramid (women to the
//! left, men to the right, one bar per age band) and the top priorities of women and men side
//! by side.
//!
//! Both charts use the same two colours, a dark purple for women and an orange for men: they
//! differ in hue for every common kind of colour blindness and in lightness in a grey print.
//! A count hidden by small-cell suppression is never drawn to scale: its row gets a grey stub
//! of fixed width and the hidden-cell mark (`x`), so no bar length gives the count away.

use std::error::Error;

use fieldconsult_model::report::monthly::RankedPriority;
use fieldconsult_model::report::text::priority_label;
use fieldconsult_model::report::{MonthlyReport, SexAgeCells};
use fieldconsult_model::{AgeBand, Language, Sex};
use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::RenderError;
use crate::labels::{self, Labels};

/// Fonts the SVG text asks for, in order: DejaVu Sans is what the PDF and PNG renderers
/// embed, the others are what a browser is sure to have.
pub const FONT_FAMILY: &str = "DejaVu Sans, Arial, sans-serif";

/// Colour of women's bars (and of the female side of the pyramid).
pub const WOMEN_COLOUR: RGBColor = RGBColor(0x5e, 0x3c, 0x99);
/// Colour of men's bars (and of the male side of the pyramid).
pub const MEN_COLOUR: RGBColor = RGBColor(0xe6, 0x61, 0x01);
/// Fill of the stub that marks a hidden count.
const HIDDEN_FILL: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);
/// Outline and text of the hidden-count stub, and of secondary text.
const GREY: RGBColor = RGBColor(0x66, 0x66, 0x66);
/// Body text.
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);

/// Width and height of every chart, in pixels: half an A4 page's text width at 96 dpi.
pub const SIZE: (u32, u32) = (720, 360);

const PYRAMID: &str = "participation-pyramid";
const PRIORITIES: &str = "priorities";

/// Height of the band above the plot holding the title and the legend.
const HEAD: u32 = 56;

/// Longest priority label drawn in full; the tables hold the rest.
const MAX_LABEL_CHARS: usize = 46;

type DrawResult = Result<(), Box<dyn Error>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// A chart, drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    /// Stable name, used in file names: `participation-pyramid`, `priorities`.
    pub id: &'static str,
    /// Its title in the report's language.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// Every chart of the report, in the order the document shows them.
pub fn all(report: &MonthlyReport, lang: Language) -> Result<Vec<Chart>, RenderError> {
    Ok(vec![
        participation_pyramid(report, lang)?,
        priorities(report, lang)?,
    ])
}

/// Participants by sex and age band: women's bars to the left, men's to the right.
pub fn participation_pyramid(report: &MonthlyReport, lang: Language) -> Result<Chart, RenderError> {
    let l = labels::of(lang);
    let cells = &report.participation.total;
    let min_cell = report.options.min_cell;
    let svg = draw(PYRAMID, l.chart_pyramid, |root| {
        if cells.total == Some(0) {
            nothing_to_show(root, l.chart_pyramid, l)
        } else {
            pyramid(root, cells, min_cell, lang)
        }
    })?;
    Ok(Chart {
        id: PYRAMID,
        title: l.chart_pyramid.to_owned(),
        svg,
    })
}

/// Women's and men's top priorities side by side, by Borda score.
pub fn priorities(report: &MonthlyReport, lang: Language) -> Result<Chart, RenderError> {
    let l = labels::of(lang);
    let side = &report.priorities;
    let svg = draw(PRIORITIES, l.chart_priorities, |root| {
        if side.women.is_empty() && side.men.is_empty() {
            nothing_to_show(root, l.chart_priorities, l)
        } else {
            priority_panels(root, &side.women, &side.men, lang)
        }
    })?;
    Ok(Chart {
        id: PRIORITIES,
        title: l.chart_priorities.to_owned(),
        svg,
    })
}

/// Runs `paint` on a fresh SVG canvas and returns the document, with a `<title>` so that a
/// screen reader announces the chart.
fn draw(
    id: &'static str,
    title: &str,
    paint: impl FnOnce(&Area<'_>) -> DrawResult,
) -> Result<String, RenderError> {
    let fail = |_| RenderError::Chart { chart: id };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|_| RenderError::Chart { chart: id })?;
        paint(&root).map_err(fail)?;
        root.present()
            .map_err(|_| RenderError::Chart { chart: id })?;
    }
    Ok(with_title(&svg, title))
}

fn with_title(svg: &str, title: &str) -> String {
    match svg
        .find("<svg")
        .and_then(|s| svg[s..].find('>').map(|e| s + e + 1))
    {
        Some(end) => format!(
            "{}\n<title>{}</title>{}",
            &svg[..end],
            escape(title),
            &svg[end..]
        ),
        None => svg.to_owned(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn font(size: u32) -> FontDesc<'static> {
    (FONT_FAMILY, size).into_font()
}

fn text_style(size: u32, colour: &RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    font(size).color(colour).pos(Pos::new(h, v))
}

/// The chart's frame and title with a sentence saying there is nothing to show: an empty
/// month still gets a chart, so that a document's layout does not depend on the data.
fn nothing_to_show(root: &Area<'_>, title: &str, l: &Labels) -> DrawResult {
    let (w, h) = (SIZE.0 as i32, SIZE.1 as i32);
    root.draw_text(
        title,
        &text_style(18, &INK, HPos::Center, VPos::Top),
        (w / 2, 10),
    )?;
    root.draw(&Rectangle::new(
        [(20, HEAD as i32), (w - 20, h - 20)],
        GREY.stroke_width(1),
    ))?;
    root.draw_text(
        l.no_data,
        &text_style(15, &GREY, HPos::Center, VPos::Center),
        (w / 2, (h + HEAD as i32) / 2),
    )?;
    Ok(())
}

/// A coloured square and its label, starting at `x` (or ending there, right-aligned).
fn legend_item(
    area: &Area<'_>,
    colour: &RGBColor,
    label: &str,
    x: i32,
    y: i32,
    right: bool,
) -> DrawResult {
    let (swatch, text_x, h) = if right {
        (x - 12, x - 18, HPos::Right)
    } else {
        (x, x + 18, HPos::Left)
    };
    area.draw(&Rectangle::new(
        [(swatch, y - 6), (swatch + 12, y + 6)],
        colour.filled(),
    ))?;
    area.draw_text(label, &text_style(13, &INK, h, VPos::Center), (text_x, y))?;
    Ok(())
}

fn pyramid(root: &Area<'_>, cells: &SexAgeCells, min_cell: u32, lang: Language) -> DrawResult {
    let l = labels::of(lang);
    let (head, body) = root.split_vertically(HEAD);
    pyramid_head(&head, cells, min_cell, lang)?;

    let widest = Sex::ALL[..2]
        .iter()
        .flat_map(|s| cells.of(*s).iter().flatten())
        .copied()
        .max()
        .unwrap_or(0);
    let widest = i64::try_from(widest).unwrap_or(i64::MAX / 2);
    // Room beyond the longest bar for its number, and a scale even when every count is hidden.
    let extent = (widest + widest / 6 + 1).max(10);
    let mut chart = ChartBuilder::on(&body)
        .margin_left(12)
        .margin_right(24)
        .margin_bottom(6)
        .x_label_area_size(42)
        .y_label_area_size(64)
        .build_cartesian_2d(-extent..extent, (0i32..4).into_segmented())?;
    let band_label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => usize::try_from(*i)
            .ok()
            .and_then(|i| AgeBand::ALL.get(i))
            .map_or_else(String::new, |b| l.age_band(*b).to_owned()),
        SegmentValue::Last => String::new(),
    };
    let count_label = |v: &i64| v.abs().to_string();
    let x_desc = format!("{}  ◀  |  ▶  {}", l.sexes[0], l.sexes[1]);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(9)
        .y_labels(5)
        .x_label_formatter(&count_label)
        .y_label_formatter(&band_label)
        .x_desc(x_desc)
        .y_desc(l.age_band)
        .label_style(font(12).color(&INK))
        .axis_desc_style(font(13).color(&INK))
        .max_light_lines(1)
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()?;

    let marker = l.cell(None, min_cell);
    let pad = (extent / 80).max(1);
    for (i, _) in AgeBand::ALL.iter().enumerate() {
        let row = i32::try_from(i).unwrap_or(0);
        for (sex, sign, colour) in [(Sex::Female, -1, WOMEN_COLOUR), (Sex::Male, 1, MEN_COLOUR)] {
            let cell = cells.of(sex)[i];
            let bar = PyramidBar {
                row,
                sign,
                colour,
                pad,
                extent,
            };
            match cell {
                Some(0) => {}
                Some(n) => bar.count(&mut chart, i64::try_from(n).unwrap_or(extent))?,
                None => bar.hidden(&mut chart, &marker)?,
            }
        }
    }
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0, SegmentValue::Exact(0)), (0, SegmentValue::Last)],
        INK.stroke_width(1),
    )))?;
    Ok(())
}

/// Title, the legend of the two sides, and the undisclosed participants, who have no side.
fn pyramid_head(head: &Area<'_>, cells: &SexAgeCells, min_cell: u32, lang: Language) -> DrawResult {
    let l = labels::of(lang);
    let w = SIZE.0 as i32;
    head.draw_text(
        l.chart_pyramid,
        &text_style(18, &INK, HPos::Center, VPos::Top),
        (w / 2, 8),
    )?;
    let centre = (64 + 12 + w - 24) / 2;
    legend_item(head, &WOMEN_COLOUR, l.sexes[0], centre - 16, 42, true)?;
    legend_item(head, &MEN_COLOUR, l.sexes[1], centre + 16, 42, false)?;
    let undisclosed = cells.total_of(Sex::Undisclosed);
    if undisclosed != Some(0) {
        let note = format!(
            "{}{}{}",
            l.sexes[2],
            crate::html::colon(lang),
            l.cell(undisclosed, min_cell)
        );
        head.draw_text(
            &note,
            &text_style(12, &GREY, HPos::Right, VPos::Center),
            (w - 24, 42),
        )?;
    }
    Ok(())
}

type PyramidChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<
        plotters::coord::types::RangedCoordi64,
        SegmentedCoord<plotters::coord::types::RangedCoordi32>,
    >,
>;

/// One side of one age band's row.
struct PyramidBar {
    row: i32,
    sign: i64,
    colour: RGBColor,
    pad: i64,
    extent: i64,
}

impl PyramidBar {
    fn anchor(&self) -> HPos {
        if self.sign < 0 {
            HPos::Right
        } else {
            HPos::Left
        }
    }

    fn rect(&self, length: i64, style: ShapeStyle) -> Rectangle<(i64, SegmentValue<i32>)> {
        let mut r = Rectangle::new(
            [
                (0, SegmentValue::Exact(self.row)),
                (self.sign * length, SegmentValue::Exact(self.row + 1)),
            ],
            style,
        );
        r.set_margin(5, 5, 0, 0);
        r
    }

    fn label(
        &self,
        chart: &mut PyramidChart<'_, '_>,
        at: i64,
        text: &str,
        colour: &RGBColor,
    ) -> DrawResult {
        let style = text_style(12, colour, self.anchor(), VPos::Center);
        chart.draw_series(std::iter::once(Text::new(
            text.to_owned(),
            (
                self.sign * (at + self.pad),
                SegmentValue::CenterOf(self.row),
            ),
            style,
        )))?;
        Ok(())
    }

    fn count(&self, chart: &mut PyramidChart<'_, '_>, n: i64) -> DrawResult {
        chart.draw_series(std::iter::once(self.rect(n, self.colour.filled())))?;
        self.label(chart, n, &n.to_string(), &INK)
    }

    /// A stub of fixed width, whatever the hidden count, and the hidden-cell mark.
    fn hidden(&self, chart: &mut PyramidChart<'_, '_>, marker: &str) -> DrawResult {
        let stub = (self.extent / 25).max(1);
        chart.draw_series(std::iter::once(self.rect(stub, HIDDEN_FILL.filled())))?;
        chart.draw_series(std::iter::once(self.rect(stub, GREY.stroke_width(1))))?;
        self.label(chart, stub, marker, &GREY)
    }
}

/// Women's panel on the left, men's on the right, on one score scale so that bar lengths
/// compare across the two.
fn priority_panels(
    root: &Area<'_>,
    women: &[RankedPriority],
    men: &[RankedPriority],
    lang: Language,
) -> DrawResult {
    let l = labels::of(lang);
    let w = SIZE.0 as i32;
    let (head, body) = root.split_vertically(HEAD - 20);
    head.draw_text(
        l.chart_priorities,
        &text_style(18, &INK, HPos::Center, VPos::Top),
        (w / 2, 8),
    )?;
    let max_score = women
        .iter()
        .chain(men)
        .map(|p| p.stat.score)
        .max()
        .unwrap_or(0);
    let rows = women.len().max(men.len()).max(1);
    let (left, right) = body.split_horizontally(SIZE.0 / 2);
    let scale = PanelScale { max_score, rows };
    priority_panel(
        &left,
        l.womens_priorities,
        &WOMEN_COLOUR,
        women,
        scale,
        lang,
    )?;
    priority_panel(&right, l.mens_priorities, &MEN_COLOUR, men, scale, lang)
}

#[derive(Clone, Copy)]
struct PanelScale {
    max_score: u32,
    rows: usize,
}

fn priority_panel(
    area: &Area<'_>,
    title: &str,
    colour: &RGBColor,
    ranked: &[RankedPriority],
    scale: PanelScale,
    lang: Language,
) -> DrawResult {
    let l = labels::of(lang);
    let top = i32::try_from(scale.rows).unwrap_or(1) - 1;
    let extent = scale.max_score + scale.max_score / 8 + 2;
    let mut chart = ChartBuilder::on(area)
        .caption(title, font(14).color(colour))
        .margin_left(8)
        .margin_right(16)
        .x_label_area_size(36)
        .y_label_area_size(24)
        .build_cartesian_2d(0..extent, (0..top).into_segmented())?;
    // Place 1 is drawn at the top.
    let place = move |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => (top - i + 1).to_string(),
        SegmentValue::Last => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(6)
        .y_labels(scale.rows)
        .y_label_formatter(&place)
        .x_desc(l.score)
        .label_style(font(12).color(&INK))
        .axis_desc_style(font(12).color(&INK))
        .max_light_lines(1)
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()?;
    if ranked.is_empty() {
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        area.draw_text(
            l.none,
            &text_style(13, &GREY, HPos::Center, VPos::Center),
            (
                (xs.start + xs.end) / 2 - area.get_base_pixel().0,
                (ys.start + ys.end) / 2 - area.get_base_pixel().1,
            ),
        )?;
        return Ok(());
    }
    for p in ranked {
        let row = top - i32::try_from(p.place).unwrap_or(1) + 1;
        priority_bar(&mut chart, row, p, colour, lang)?;
    }
    Ok(())
}

type PanelChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<
        plotters::coord::types::RangedCoordu32,
        SegmentedCoord<plotters::coord::types::RangedCoordi32>,
    >,
>;

/// A bar in the lower half of its row, its label above it and its score at its end.
fn priority_bar(
    chart: &mut PanelChart<'_, '_>,
    row: i32,
    p: &RankedPriority,
    colour: &RGBColor,
    lang: Language,
) -> DrawResult {
    let (_, bottom) = chart.backend_coord(&(0, SegmentValue::Exact(row)));
    let (_, top) = chart.backend_coord(&(0, SegmentValue::Exact(row + 1)));
    let height = u32::try_from(bottom - top).unwrap_or(0);
    let mut bar = Rectangle::new(
        [
            (0, SegmentValue::Exact(row)),
            (p.stat.score, SegmentValue::Exact(row + 1)),
        ],
        colour.filled(),
    );
    bar.set_margin(height / 2, 3, 0, 0);
    chart.draw_series(std::iter::once(bar))?;
    let label = short(&priority_label(&p.key, lang));
    let (x0, _) = chart.backend_coord(&(0, SegmentValue::Exact(row)));
    let (x1, _) = chart.backend_coord(&(p.stat.score, SegmentValue::Exact(row)));
    let area = chart.plotting_area().strip_coord_spec();
    let (bx, by) = area.get_base_pixel();
    let text_y = top + i32::try_from(height / 2).unwrap_or(0) - 3 - by;
    area.draw_text(
        &label,
        &text_style(12, &INK, HPos::Left, VPos::Bottom),
        (x0 + 2 - bx, text_y),
    )?;
    let bar_middle = top + i32::try_from(height * 3 / 4).unwrap_or(0) - by;
    area.draw_text(
        &p.stat.score.to_string(),
        &text_style(12, &INK, HPos::Left, VPos::Center),
        (x1 + 4 - bx, bar_middle),
    )?;
    Ok(())
}

/// `label`, cut with an ellipsis when it would not fit its panel.
fn short(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL_CHARS {
        label.to_owned()
    } else {
        let cut: String = label.chars().take(MAX_LABEL_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_are_cut_with_an_ellipsis() {
        assert_eq!(short("Water"), "Water");
        let long = "x".repeat(80);
        assert_eq!(short(&long).chars().count(), MAX_LABEL_CHARS);
        assert!(short(&long).ends_with('…'));
    }

    #[test]
    fn the_title_goes_right_after_the_svg_tag() {
        let svg = with_title("<svg width=\"1\">\n<rect/></svg>", "A & <B>");
        assert_eq!(
            svg,
            "<svg width=\"1\">\n<title>A &amp; &lt;B&gt;</title>\n<rect/></svg>"
        );
    }
}
