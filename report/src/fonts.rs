//! Finding a font for PDF and PNG text.
//!
//! Community names may be in Arabic script and headings are in English or French, so the font
//! must cover both Arabic and Latin: DejaVu Sans does, and every Debian-based server has it
//! (`fonts-dejavu-core`). A deployment can point `FIELDCONSULT_REPORT_FONT` at another
//! TrueType file. The search runs once per process: scanning the system fonts takes far
//! longer than rendering a report.

use std::sync::{Arc, OnceLock};

use fontdb::{Database, Family, Query, Source, Stretch, Style, Weight};

use crate::RenderError;

/// The environment variable naming a TrueType or OpenType file to set report text in.
pub const FONT_ENV: &str = "FIELDCONSULT_REPORT_FONT";

/// The family looked for first.
const PREFERRED_FAMILY: &str = "DejaVu Sans";

/// One face of a font file: its bytes and its index within the file (a collection holds
/// several).
#[derive(Clone, Debug)]
pub struct FontFace {
    /// The whole font file.
    pub data: Arc<Vec<u8>>,
    /// The face's index within the file.
    pub index: u32,
}

/// The font report text is set in.
#[derive(Clone, Debug)]
pub struct ReportFont {
    /// Its family name, as SVG text asks for it.
    pub family: String,
    /// The regular face.
    pub regular: FontFace,
    /// A bold face of the same family, if there is one; headings fall back to the regular
    /// face.
    pub bold: Option<FontFace>,
}

/// The report font: `FIELDCONSULT_REPORT_FONT` if set, else DejaVu Sans, else any sans-serif
/// face covering Arabic and Latin. [`RenderError::NoFont`] if there is none, or if the file
/// the variable names is not a usable font (a setting that is wrong should be noticed, not
/// silently replaced).
pub fn report_font() -> Result<&'static ReportFont, RenderError> {
    static FONT: OnceLock<Option<ReportFont>> = OnceLock::new();
    FONT.get_or_init(find_font)
        .as_ref()
        .ok_or(RenderError::NoFont)
}

/// A font database for SVG rendering (resvg, krilla-svg): the system fonts, for glyphs the
/// report font lacks, with the report font added and answering every generic family, so
/// that `sans-serif` in a chart means the report font.
pub fn database() -> Result<Arc<Database>, RenderError> {
    static DATABASE: OnceLock<Option<Arc<Database>>> = OnceLock::new();
    DATABASE
        .get_or_init(|| {
            let font = report_font().ok()?;
            let mut db = system_fonts().clone();
            for face in [Some(&font.regular), font.bold.as_ref()]
                .into_iter()
                .flatten()
            {
                db.load_font_source(Source::Binary(face.data.clone()));
            }
            db.set_sans_serif_family(font.family.clone());
            db.set_serif_family(font.family.clone());
            db.set_monospace_family(font.family.clone());
            db.set_cursive_family(font.family.clone());
            db.set_fantasy_family(font.family.clone());
            Some(Arc::new(db))
        })
        .clone()
        .ok_or(RenderError::NoFont)
}

fn system_fonts() -> &'static Database {
    static SYSTEM: OnceLock<Database> = OnceLock::new();
    SYSTEM.get_or_init(|| {
        let mut db = Database::new();
        db.load_system_fonts();
        db
    })
}

fn find_font() -> Option<ReportFont> {
    if let Some(path) = std::env::var_os(FONT_ENV).filter(|p| !p.is_empty()) {
        return font_from_file(std::path::Path::new(&path));
    }
    let db = system_fonts();
    let regular = |family: &str| {
        db.query(&Query {
            families: &[Family::Name(family)],
            weight: Weight::NORMAL,
            stretch: Stretch::Normal,
            style: Style::Normal,
        })
        .filter(|id| db.face(*id).is_some_and(|f| f.weight == Weight::NORMAL))
    };
    let id = regular(PREFERRED_FAMILY).or_else(|| any_covering_sans(db))?;
    let info = db.face(id)?;
    let family = info.families.first().map(|(name, _)| name.clone())?;
    let regular = face_of(db, id)?;
    let bold = db
        .query(&Query {
            families: &[Family::Name(&family)],
            weight: Weight::BOLD,
            stretch: Stretch::Normal,
            style: Style::Normal,
        })
        .filter(|id| db.face(*id).is_some_and(|f| f.weight.0 >= 600))
        .and_then(|id| face_of(db, id));
    Some(ReportFont {
        family,
        regular,
        bold,
    })
}

/// The first regular, upright, proportional face (by family name, so the choice does not
/// depend on directory order) whose family is not a serif one and which has glyphs for
/// Arabic and accented Latin letters.
fn any_covering_sans(db: &Database) -> Option<fontdb::ID> {
    let mut candidates: Vec<(&str, fontdb::ID)> = db
        .faces()
        .filter(|f| f.weight == Weight::NORMAL && f.style == Style::Normal && !f.monospaced)
        .filter_map(|f| f.families.first().map(|(name, _)| (name.as_str(), f.id)))
        .filter(|(name, _)| {
            let lower = name.to_lowercase();
            !lower.contains("mono") && (!lower.contains("serif") || lower.contains("sans"))
        })
        .collect();
    candidates.sort();
    candidates
        .into_iter()
        .map(|(_, id)| id)
        .find(|id| db.with_face_data(*id, covers_report_text).unwrap_or(false))
}

/// Whether a face can set report text: Latin with French accents, and Arabic.
fn covers_report_text(data: &[u8], index: u32) -> bool {
    ttf_parser::Face::parse(data, index).is_ok_and(|face| {
        ['a', 'Z', 'é', 'É', 'ç', 'ا', 'ب', 'ح', 'ص']
            .iter()
            .all(|c| face.glyph_index(*c).is_some())
    })
}

fn face_of(db: &Database, id: fontdb::ID) -> Option<FontFace> {
    db.with_face_data(id, |data, index| FontFace {
        data: Arc::new(data.to_vec()),
        index,
    })
}

fn font_from_file(path: &std::path::Path) -> Option<ReportFont> {
    let data = Arc::new(std::fs::read(path).ok()?);
    // fontdb reads the family the way SVG text looks it up (typographic family first).
    let mut db = Database::new();
    let id = *db.load_font_source(Source::Binary(data.clone())).first()?;
    let (family, index) = db
        .face(id)
        .and_then(|f| Some((f.families.first()?.0.clone(), f.index)))?;
    Some(ReportFont {
        family,
        regular: FontFace { data, index },
        bold: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_font_is_not_used() {
        assert!(!covers_report_text(b"not a font", 0));
        assert!(font_from_file(std::path::Path::new("/nonexistent/font.ttf")).is_none());
        let dir = std::env::temp_dir().join(format!("fc-font-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let junk = dir.join("junk.ttf");
        let _ = std::fs::write(&junk, b"\0\x01\0\0 definitely not a font");
        assert!(font_from_file(&junk).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn dejavu_sans_names_its_family_and_covers_arabic() {
        let path = std::path::Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        assert!(
            path.is_file(),
            "{} missing: install the Debian package `fonts-dejavu-core`",
            path.display()
        );
        let font = font_from_file(path).unwrap_or_else(|| panic!("DejaVu Sans loads"));
        assert_eq!(font.family, "DejaVu Sans");
        assert!(covers_report_text(&font.regular.data, font.regular.index));
    }
}
