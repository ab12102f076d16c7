//! Plain-text report rendering.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldconsult_model::Language;
use fieldconsult_model::report::text::{coverage, table};
use fieldconsult_model::report::{Coverage, PairedComparison};

#[test]
fn table_columns_align_by_characters_not_bytes() {
    let out = table(
        &["Priorité", "Rang"],
        &[
            vec!["Écoles".into(), "1".into()],
            vec!["ውሃ".into(), "12".into()],
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4);
    let width = |l: &str| l.chars().count();
    assert!(lines.iter().all(|l| width(l) == width(lines[0])), "{out}");
    assert!(lines[3].starts_with("  ውሃ") && lines[3].ends_with("12"));
}

#[test]
fn an_empty_comparison_says_nobody_raised_anything_only_on_one_side() {
    let text = fieldconsult_model::report::text::paired_comparison(
        &PairedComparison::compute(std::iter::empty()),
        Language::Fr,
    );
    assert!(text.contains("Raised only by women: –"));
    assert!(
        text.contains("Femmes"),
        "French labels for affected groups: {text}"
    );
}

#[test]
fn coverage_without_visits_is_not_a_percentage() {
    let text = coverage(&Coverage::default());
    assert!(text.contains("0 of 0 (n/a)"));
}
