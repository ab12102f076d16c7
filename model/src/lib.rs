//! FieldConsult domain model.
//!
//! The types every part of FieldConsult shares — device core, mission server, bindings — with
//! the one copy of the validation rules and the report computations, so that a record a device
//! accepts is a record the server accepts and both compute the same numbers. Nothing here
//! touches a database, a file or a socket.

pub mod checklist;
pub mod classification;
pub mod crypto;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod ids;
pub mod reference;
pub mod report;
pub mod review;
pub mod session;
pub mod status;
pub mod taxonomy;
pub mod text;
pub mod time;
pub mod validation;
pub mod visit;
pub mod wire;

pub use checklist::{ChecklistTemplate, ChecklistTopic, Language};
pub use crypto::seal::{RecipientKey, RecipientSecret, SealError, SealedField};
pub use ids::{AddendumId, CommunityId, ReferralServiceId, ReviewId, SessionId, TeamId, VisitId};
pub use reference::{Community, Location, ReferralService, ReferralServiceKind, SealingKeys, Team};
pub use review::{Addendum, Decision, Review};
pub use session::{
    AgeBand, AgeCounts, ChecklistAnswer, Concern, Consent, Facilitators, Group, Interpreter,
    InterpreterSex, Participants, Priority, Referral, Session, Setting, Sex, TopicResponse,
};
pub use status::{Action, Actor, Role, Status, TransitionError};
pub use taxonomy::{AffectedGroup, ConcernCategory, FocusTag, PriorityCategory, Urgency};
pub use time::Timestamp;
pub use validation::{
    FieldError, FieldWarning, Problem, ValidationContext, ValidationErrors, WarningKind,
};
pub use visit::Visit;
