//! The XLSX workbook.

use fieldconsult_model::Language;
use fieldconsult_model::report::MonthlyReport;

use crate::RenderError;

pub(crate) fn render(report: &MonthlyReport, lang: Language) -> Result<Vec<u8>, RenderError> {
    let _ = (report, lang);
    Err(RenderError::Workbook { sheet: "stub" })
}
