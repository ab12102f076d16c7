//! CSV: one file per table.

use fieldconsult_model::Language;
use fieldconsult_model::report::MonthlyReport;

use crate::{RenderError, ReportFile};

pub(crate) fn render(
    report: &MonthlyReport,
    lang: Language,
) -> Result<Vec<ReportFile>, RenderError> {
    let _ = (report, lang);
    Err(RenderError::Table { table: "csv" })
}
