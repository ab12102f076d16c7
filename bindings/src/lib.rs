//! FieldConsult's UniFFI layer: the one shared library the Android and iOS apps load.
//!
//! A thin translation layer. It converts between FFI records and `fieldconsult-model` types
//! (in each record's module) and calls `fieldconsult-core`; no business rule lives here.
//! Ids cross as strings and times as RFC 3339 strings with their offset; a malformed one is
//! a `Validation` error naming its field, like any other bad input. Every call is guarded so
//! that a panic below becomes [`FieldConsultError::Internal`] instead of crashing the app.

mod consent;
mod enums;
mod error;
mod labels;
mod lift;
mod listing;
mod progress;
mod reference;
mod reports;
mod session;
mod store;
mod sync;
mod warnings;

pub use error::{FieldConsultError, FieldProblem};
pub use labels::{
    affected_group_label, concern_category_label, focus_tag_label, priority_category_label,
    urgency_label,
};
pub use listing::{HistoryEntry, SessionFilter, SessionPage, SessionRecord, SessionSummary};
pub use progress::{CancellationToken, ProgressListener};
pub use reference::{
    ChecklistTemplate, ChecklistTopic, Community, Location, ReferralService, Team,
    default_checklist,
};
pub use reports::{
    AgeTotals, PairedComparison, ParticipationRow, ParticipationTable, PriorityKey, PriorityRow,
    ReportFile, ReportFormat, ReportScope, SexAgeTable,
};
pub use session::{
    Addendum, Concern, Identity, Referral, Review, Role, Session, Visit, new_id, new_session_draft,
};
pub use store::FieldConsultStore;
pub use sync::{
    Enrolment, HttpHeader, HttpRequest, HttpResponse, HttpTransport, TlsOptions, TransportFailure,
};
pub use warnings::{FieldWarning, session_warnings, visit_warnings};

uniffi::setup_scaffolding!();

/// The version of the FieldConsult core library.
#[uniffi::export]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
