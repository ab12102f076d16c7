//! The report's charts as SVG, drawn with plotters: the participation pyramid (women to the
//! left, men to the right, one bar per age band) and the top priorities of women and men side
//! by side.

use fieldconsult_model::Language;
use fieldconsult_model::report::MonthlyReport;

use crate::RenderError;

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
    let _ = (report, lang);
    Err(RenderError::Chart {
        chart: "participation-pyramid",
    })
}

/// Women's and men's top priorities side by side, by Borda score.
pub fn priorities(report: &MonthlyReport, lang: Language) -> Result<Chart, RenderError> {
    let _ = (report, lang);
    Err(RenderError::Chart {
        chart: "priorities",
    })
}
