//! Labels of the taxonomies in English and French, for the app's pickers and reports.

use fieldconsult_model::checklist::Language;
use fieldconsult_model::{AffectedGroup, ConcernCategory, FocusTag, PriorityCategory, Urgency};

/// The label of a priority category.
#[uniffi::export]
pub fn priority_category_label(category: PriorityCategory, language: Language) -> String {
    category.label(language).to_owned()
}

/// The label of a concern category.
#[uniffi::export]
pub fn concern_category_label(category: ConcernCategory, language: Language) -> String {
    category.label(language).to_owned()
}

/// The label of an affected group.
#[uniffi::export]
pub fn affected_group_label(group: AffectedGroup, language: Language) -> String {
    group.label(language).to_owned()
}

/// The label of an urgency.
#[uniffi::export]
pub fn urgency_label(urgency: Urgency, language: Language) -> String {
    urgency.label(language).to_owned()
}

/// The label of a focus tag.
#[uniffi::export]
pub fn focus_tag_label(tag: FocusTag, language: Language) -> String {
    tag.label(language).to_owned()
}
