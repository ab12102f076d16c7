//! The printable HTML document.

use fieldconsult_model::Language;
use fieldconsult_model::report::MonthlyReport;

use crate::RenderError;

pub(crate) fn render(report: &MonthlyReport, lang: Language) -> Result<String, RenderError> {
    let _ = (report, lang);
    Err(RenderError::Table { table: "html" })
}
