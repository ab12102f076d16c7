//! The charts as PNG.

use fieldconsult_model::Language;
use fieldconsult_model::report::MonthlyReport;

use crate::{RenderError, ReportFile};

/// Every chart of the report as a PNG file.
pub fn render(report: &MonthlyReport, lang: Language) -> Result<Vec<ReportFile>, RenderError> {
    let _ = (report, lang);
    Err(RenderError::Raster { chart: "stub" })
}
