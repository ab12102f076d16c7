//! The charts as PNG, for slides and messages where an SVG or a PDF will not do.

use fieldconsult_model::Language;
use fieldconsult_model::report::MonthlyReport;
use resvg::{tiny_skia, usvg};

use crate::{RenderError, ReportFile, fonts};

/// Pixel density of the PNG files relative to the SVG's size: sharp on a phone or a projector.
const SCALE: f32 = 2.0;

/// The largest side of an image, in pixels: an SVG claiming a huge size must not exhaust
/// the server's memory.
const MAX_SIDE: u32 = 8192;

/// Every chart of the report as a PNG file, in the document's order.
pub fn render(report: &MonthlyReport, lang: Language) -> Result<Vec<ReportFile>, RenderError> {
    crate::charts::all(report, lang)?
        .into_iter()
        .map(|chart| {
            let bytes =
                rasterise(&chart.svg, SCALE).ok_or(RenderError::Raster { chart: chart.id })?;
            Ok(ReportFile {
                name: crate::file_name(report, crate::Format::Png, lang, Some(chart.id)),
                media_type: "image/png",
                bytes,
            })
        })
        .collect()
}

/// `svg` rasterised at `scale` times its size, on white, as PNG bytes. Text is set in the
/// report font ([`fonts::database`]).
pub fn svg_to_png(svg: &str, scale: f32) -> Result<Vec<u8>, RenderError> {
    // Fonts missing is a different fault from a bad SVG, and one an operator can fix.
    fonts::database()?;
    rasterise(svg, scale).ok_or(RenderError::Raster { chart: "svg" })
}

fn rasterise(svg: &str, scale: f32) -> Option<Vec<u8>> {
    if !(scale.is_finite() && scale > 0.0) {
        return None;
    }
    let db = fonts::database().ok()?;
    let family = fonts::report_font().ok()?.family.clone();
    let options = usvg::Options {
        font_family: family,
        fontdb: db,
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).ok()?;
    let side = |v: f32| {
        let px = (v * scale).ceil();
        (px >= 1.0 && px <= MAX_SIDE as f32).then_some(px as u32)
    };
    let (width, height) = (side(tree.size().width())?, side(tree.size().height())?);
    let mut pixmap = tiny_skia::Pixmap::new(width, height)?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().ok()
}
