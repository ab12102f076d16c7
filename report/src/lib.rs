//! Renders the monthly gender report ([`MonthlyReport`], computed by `fieldconsult-model`) in
//! the formats its readers expect: a printable HTML document with its charts, CSV of every
//! table, JSON for machines; with the `xlsx`, `pdf` and `png` features, an XLSX workbook for
//! analysts, a PDF, and the charts as PNG.
//!
//! The phone app renders HTML, CSV and JSON through the FFI; the server renders every format.
//! Rendering never reads anything the report does not hold, and the report holds no
//! sensitive note, so no format can leak one.

pub mod charts;
mod csv;
#[cfg(feature = "fonts")]
pub mod fonts;
mod html;
pub mod labels;
#[cfg(feature = "pdf")]
mod pdf;
#[cfg(feature = "png")]
pub mod png;
#[cfg(feature = "xlsx")]
mod xlsx;

use fieldconsult_model::Language;
use fieldconsult_model::report::{MonthlyReport, ReportScope};

/// How many sessions a printed report (HTML, PDF) lists: a mission's month can hold
/// thousands, which no one prints (10,000 made an 855-page PDF); the data files list them all.
pub const PRINTED_SESSIONS: usize = 300;

/// The formats of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// One printable HTML document with its charts inline as SVG.
    Html,
    /// One CSV file per table, and one of the sessions behind them.
    Csv,
    /// The whole report as one JSON document.
    Json,
    /// An XLSX workbook: a sheet per table, the sessions, and charts.
    #[cfg(feature = "xlsx")]
    Xlsx,
    /// A printable PDF document with its charts.
    #[cfg(feature = "pdf")]
    Pdf,
    /// The charts as PNG images.
    #[cfg(feature = "png")]
    Png,
}

impl Format {
    /// Every format this build renders.
    pub const ALL: &'static [Format] = &[
        Format::Html,
        Format::Csv,
        Format::Json,
        #[cfg(feature = "xlsx")]
        Format::Xlsx,
        #[cfg(feature = "pdf")]
        Format::Pdf,
        #[cfg(feature = "png")]
        Format::Png,
    ];

    /// The format's name in a URL or on a command line: `html`, `csv`, `json`, `xlsx`, `pdf`,
    /// `png`.
    pub fn code(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Csv => "csv",
            Format::Json => "json",
            #[cfg(feature = "xlsx")]
            Format::Xlsx => "xlsx",
            #[cfg(feature = "pdf")]
            Format::Pdf => "pdf",
            #[cfg(feature = "png")]
            Format::Png => "png",
        }
    }

    /// Parses [`Format::code`]; `None` for a format this build does not render.
    pub fn from_code(code: &str) -> Option<Self> {
        Format::ALL.iter().copied().find(|f| f.code() == code)
    }
}

/// One file of a rendered report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportFile {
    /// File name, without folders: `gender-report-<scope>-<month>[-<lang>][-<part>].<ext>`.
    pub name: String,
    /// Its media type, for an HTTP response or a share sheet.
    pub media_type: &'static str,
    /// Its content.
    pub bytes: Vec<u8>,
}

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A chart could not be drawn.
    #[error("cannot draw the chart `{chart}`")]
    Chart {
        /// Which chart.
        chart: &'static str,
    },
    /// Writing a table failed.
    #[error("cannot write the table `{table}`")]
    Table {
        /// Which table.
        table: &'static str,
    },
    /// Serialising the JSON failed.
    #[error("cannot serialise the report as JSON")]
    Json,
    /// The workbook could not be written.
    #[error("cannot write the XLSX workbook (sheet `{sheet}`)")]
    Workbook {
        /// Which sheet.
        sheet: &'static str,
    },
    /// The PDF could not be written.
    #[error("cannot write the PDF ({0})")]
    Pdf(&'static str),
    /// An image could not be rasterised.
    #[error("cannot rasterise the chart `{chart}`")]
    Raster {
        /// Which chart.
        chart: &'static str,
    },
    /// No font to set PDF or PNG text in was found on this system.
    #[error(
        "no usable font found for the report (install fonts-dejavu-core, or set FIELDCONSULT_REPORT_FONT to a .ttf file)"
    )]
    NoFont,
}

/// Renders `report` in `format`, with labels and headings in `lang`.
pub fn render(
    report: &MonthlyReport,
    format: Format,
    lang: Language,
) -> Result<Vec<ReportFile>, RenderError> {
    let name = || file_name(report, format, lang, None);
    match format {
        Format::Html => Ok(vec![ReportFile {
            name: name(),
            media_type: "text/html; charset=utf-8",
            bytes: html::render(report, lang)?.into_bytes(),
        }]),
        Format::Csv => csv::render(report, lang),
        Format::Json => Ok(vec![ReportFile {
            name: name(),
            media_type: "application/json",
            bytes: serde_json::to_vec_pretty(report).map_err(|_| RenderError::Json)?,
        }]),
        #[cfg(feature = "xlsx")]
        Format::Xlsx => Ok(vec![ReportFile {
            name: name(),
            media_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            bytes: xlsx::render(report, lang)?,
        }]),
        #[cfg(feature = "pdf")]
        Format::Pdf => Ok(vec![ReportFile {
            name: name(),
            media_type: "application/pdf",
            bytes: pdf::render(report, lang)?,
        }]),
        #[cfg(feature = "png")]
        Format::Png => png::render(report, lang),
    }
}

/// `gender-report-<scope>-<month>[-<lang>][-<part>].<ext>`, in ASCII whatever the scope's
/// name, so it is safe as a file name on any phone or server. Every format but JSON (data
/// only) names its language, so the English and the French report of one month can sit in
/// one folder.
pub fn file_name(
    report: &MonthlyReport,
    format: Format,
    lang: Language,
    part: Option<&str>,
) -> String {
    // A sector named "Sector West" is `sector-west`, not `sector-sector-west`.
    let scoped = |kind: &str| {
        let name = slug(&report.scope_name);
        match name.strip_prefix(kind).and_then(|n| n.strip_prefix('-')) {
            Some(rest) => format!("{kind}-{rest}"),
            None => format!("{kind}-{name}"),
        }
    };
    let scope = match &report.scope {
        ReportScope::Team { .. } => scoped("team"),
        ReportScope::Sector { .. } => scoped("sector"),
        ReportScope::Mission => "mission".to_owned(),
    };
    let lang = match format {
        Format::Json => String::new(),
        _ => format!("-{}", lang.tag()),
    };
    let part = part.map(|p| format!("-{p}")).unwrap_or_default();
    format!(
        "gender-report-{scope}-{}{lang}{part}.{}",
        report.month,
        format.code()
    )
}

/// Lower-case ASCII letters and digits, runs of anything else as one `-`; `x` when nothing
/// is left (a name in Arabic script, say).
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() { "x".to_owned() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii_and_never_empty() {
        assert_eq!(slug("Engagement Team 3"), "engagement-team-3");
        assert_eq!(slug("  West / Nord "), "west-nord");
        assert_eq!(slug("القطاع الغربي"), "x");
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn a_scope_named_after_its_kind_is_not_named_twice() {
        let mut report = MonthlyReport::compute(
            ReportScope::Sector {
                sector: "Sector West".into(),
            },
            "2026-11".parse().unwrap(),
            fieldconsult_model::report::ReportData {
                teams: &[],
                communities: &[],
                visits: &[],
                sessions: &[],
            },
            fieldconsult_model::report::ReportOptions::default(),
        );
        report.scope_name = "Sector West".into();
        let name = file_name(&report, Format::Html, Language::En, None);
        assert_eq!(name, "gender-report-sector-west-2026-11-en.html");
        report.scope_name = "Sectorial West".into();
        let name = file_name(&report, Format::Html, Language::En, None);
        assert_eq!(name, "gender-report-sector-sectorial-west-2026-11-en.html");
    }

    #[test]
    fn every_format_code_parses_back() {
        for f in Format::ALL {
            assert_eq!(Format::from_code(f.code()), Some(*f));
        }
        assert_eq!(Format::from_code("docx"), None);
    }
}
