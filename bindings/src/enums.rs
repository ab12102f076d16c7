//! The model's plain enums, exposed as they are (`uniffi::remote` mirrors: the variants
//! must match the model's, which the compiler checks).

use fieldconsult_core::{Entity, SyncState};
use fieldconsult_model::checklist::Language;
use fieldconsult_model::report::GroupBy;
use fieldconsult_model::{
    Action, AffectedGroup, ConcernCategory, Decision, FocusTag, Group, InterpreterSex,
    PriorityCategory, ReferralServiceKind, Setting, Status, TopicResponse, Urgency,
};

/// Who a session consulted.
#[uniffi::remote(Enum)]
pub enum Group {
    Women,
    Men,
    Mixed,
}

/// Workflow status of a session.
#[uniffi::remote(Enum)]
pub enum Status {
    Draft,
    Submitted,
    Returned,
    Accepted,
}

/// Something a person does to a session.
#[uniffi::remote(Enum)]
pub enum Action {
    Edit,
    Submit,
    Accept,
    Return,
    Delete,
    AddAddendum,
    WithdrawConsent,
}

/// A reviewer's decision.
#[uniffi::remote(Enum)]
pub enum Decision {
    Accepted,
    Returned,
}

/// Sex of the interpreter, if there was one.
#[uniffi::remote(Enum)]
pub enum InterpreterSex {
    None,
    Female,
    Male,
}

/// Where the session was held.
#[uniffi::remote(Enum)]
pub enum Setting {
    Private,
    CommunitySpace,
    Public,
}

/// How a checklist topic went.
#[uniffi::remote(Enum)]
pub enum TopicResponse {
    Discussed,
    Declined,
    NotRaised,
}

/// Groups a session deliberately reached.
#[uniffi::remote(Enum)]
pub enum FocusTag {
    Elderly,
    Youth,
    PersonsWithDisabilities,
    Displaced,
    MinorityOrIndigenous,
    Caregivers,
}

/// Priority categories.
#[uniffi::remote(Enum)]
pub enum PriorityCategory {
    Water,
    Food,
    FuelAndFirewood,
    SafeMovement,
    SecurityAndProtection,
    Schools,
    Health,
    LivelihoodsAndWork,
    Justice,
    Shelter,
    Documentation,
    ParticipationInDecisions,
    ReturnAndLand,
    Other,
}

/// Concern categories.
#[uniffi::remote(Enum)]
pub enum ConcernCategory {
    ArmedGroupPresence,
    MovementRestriction,
    SexualViolenceRisk,
    ChildRecruitment,
    Abduction,
    TheftAndLooting,
    LandOrResourceDispute,
    IntercommunalTension,
    EarlyWarningSign,
    Other,
}

/// Who a concern affects.
#[uniffi::remote(Enum)]
pub enum AffectedGroup {
    Women,
    Girls,
    Men,
    Boys,
    Elderly,
}

/// How fast a concern needs attention.
#[uniffi::remote(Enum)]
pub enum Urgency {
    Routine,
    Priority,
    Urgent,
}

/// The kind of service a referral goes to.
#[uniffi::remote(Enum)]
pub enum ReferralServiceKind {
    Health,
    Psychosocial,
    Legal,
    Safety,
    Other,
}

/// Languages of the built-in labels.
#[uniffi::remote(Enum)]
pub enum Language {
    En,
    Fr,
}

/// How rows of a participation table are grouped.
#[uniffi::remote(Enum)]
pub enum GroupBy {
    Overall,
    Team,
    Community,
    Month,
}

/// Kinds of record that travel in the outbox.
#[uniffi::remote(Enum)]
pub enum Entity {
    Community,
    Visit,
    Session,
    Review,
    Addendum,
}

/// Whether a record reached the server.
#[uniffi::remote(Enum)]
pub enum SyncState {
    Pending,
    Sent,
    Synced,
    Error,
    Conflict,
}
