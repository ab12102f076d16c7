//! Data classification: every field a record carries, as it travels (`wire::Record` JSON),
//! with the class that says where it may go. `model/tests/classification.rs` serialises a
//! fully populated record of every kind and fails on any field missing from [`FIELDS`], so a
//! new field cannot ship unclassified.
//!
//! - **Aggregate-safe**: may leave the mission in counts and tables (the monthly report's
//!   figures): who was in the room by sex and age, which categories were raised.
//! - **Internal**: stays within the mission's teams, focal points and headquarters: ids,
//!   times, names of teams and communities, free text that is not the sensitive note.
//! - **Sensitive**: only the gender focal points may read it: the sensitive note, and which
//!   referral service a survivor was offered (which says what was disclosed).
//!
//! A path names a field inside its record kind: `session.priorities[].note`; `[]` stands for
//! any element of a list and `*` for any key of a map. A conflict notice carries a whole
//! record (`conflict.lost`), whose fields have that record's own classes; so do the records
//! of a reference bundle (`bundle.records[]`).

use serde::{Deserialize, Serialize};

/// Where a field may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// May be published in aggregate, outside the mission.
    AggregateSafe,
    /// Stays within the mission.
    Internal,
    /// Only the gender focal points may read it.
    Sensitive,
}

use Class::{AggregateSafe as A, Internal as I, Sensitive as S};

/// Every field of every record kind, with its class.
pub const FIELDS: &[(&str, Class)] = &[
    ("team.id", I),
    ("team.name", I),
    ("team.sector", I),
    ("community.id", I),
    ("community.name", I),
    ("community.admin_area", I),
    ("community.location.lat", I),
    ("community.location.lon", I),
    ("checklist.version", I),
    ("checklist.topics[].code", A),
    ("checklist.topics[].labels.*", A),
    ("checklist.topics[].required", I),
    ("referral_service.id", I),
    ("referral_service.name", I),
    ("referral_service.kind", I),
    ("referral_service.area", I),
    ("sealing_keys.sector", I),
    ("sealing_keys.focal_point_keys[]", I),
    ("sealing_keys.escrow_key", I),
    ("visit.id", I),
    ("visit.team_id", I),
    ("visit.community_id", I),
    ("visit.started_at", I),
    ("visit.ended_at", I),
    ("visit.notes", I),
    ("session.id", I),
    ("session.visit_id", I),
    ("session.group", A),
    ("session.focus[]", A),
    ("session.participants.female.age_12_17", A),
    ("session.participants.female.age_18_29", A),
    ("session.participants.female.age_30_59", A),
    ("session.participants.female.age_60_plus", A),
    ("session.participants.female.unknown", A),
    ("session.participants.male.age_12_17", A),
    ("session.participants.male.age_18_29", A),
    ("session.participants.male.age_30_59", A),
    ("session.participants.male.age_60_plus", A),
    ("session.participants.male.unknown", A),
    ("session.participants.undisclosed.age_12_17", A),
    ("session.participants.undisclosed.age_18_29", A),
    ("session.participants.undisclosed.age_30_59", A),
    ("session.participants.undisclosed.age_60_plus", A),
    ("session.participants.undisclosed.unknown", A),
    ("session.facilitators.female", A),
    ("session.facilitators.male", A),
    ("session.interpreter.sex", A),
    ("session.interpreter.language", I),
    ("session.setting", A),
    ("session.consent.verbal_informed", I),
    ("session.started_at", I),
    ("session.ended_at", I),
    ("session.checklist_version", I),
    ("session.answers[].topic", A),
    ("session.answers[].response", A),
    ("session.answers[].note", I),
    ("session.priorities[].rank", A),
    ("session.priorities[].category", A),
    ("session.priorities[].other_label", I),
    ("session.priorities[].note", I),
    ("session.concerns[].category", A),
    ("session.concerns[].affected[]", A),
    ("session.concerns[].location", I),
    ("session.concerns[].timing", I),
    ("session.concerns[].urgency", A),
    ("session.concerns[].note", I),
    ("session.referral.service_id", S),
    ("session.referral.sealed_service_id.version", I),
    ("session.referral.sealed_service_id.field", I),
    ("session.referral.sealed_service_id.copies[].key_id", I),
    ("session.referral.sealed_service_id.copies[].enc", S),
    ("session.referral.sealed_service_id.copies[].ct", S),
    ("session.sensitive_note", S),
    ("session.sealed_note.version", I),
    ("session.sealed_note.field", I),
    ("session.sealed_note.copies[].key_id", I),
    // Ciphertext only the focal points (and the escrow key) can open: sensitive, so that no
    // report or export carries it even though the server may store it.
    ("session.sealed_note.copies[].enc", S),
    ("session.sealed_note.copies[].ct", S),
    ("session.plaintext_held_by[]", I),
    ("session.status", I),
    ("session_tombstone.id", I),
    ("session_tombstone.visit_id", I),
    ("review.id", I),
    ("review.session_id", I),
    ("review.reviewer", I),
    ("review.decision", I),
    ("review.comment", I),
    ("review.at", I),
    ("addendum.id", I),
    ("addendum.session_id", I),
    ("addendum.author", I),
    ("addendum.text", I),
    ("addendum.at", I),
    ("consent_withdrawal.session_id", I),
    ("consent_withdrawal.visit_id", I),
    ("consent_withdrawal.withdrawn_at", I),
    ("conflict.lost_hash", I),
    ("conflict.kept_hash", I),
    ("conflict.base_hash", I),
    ("conflict.device_id", I),
    ("conflict.detected_at", I),
    ("bundle.sequence", I),
    ("bundle.issued_at", I),
    ("bundle.signature", I),
];

/// The class of the field at `path` (`session.priorities[].note`); `None` for a path that
/// names no field.
pub fn class_of(path: &str) -> Option<Class> {
    FIELDS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, class)| *class)
}
