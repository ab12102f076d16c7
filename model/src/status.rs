//! The workflow of a session and who may move it.
//!
//! ```text
//! draft ──submit──▶ submitted ──accept──▶ accepted (final; corrections are addenda)
//!                     │   ▲
//!                return  submit
//!                     ▼   │
//!                   returned
//! ```
//! Only the authoring team edits, submits or deletes; only a reviewer of the team's sector
//! accepts or returns. The rules are one pure function, [`authorize`], used by the device
//! store and the server alike.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::TeamId;
use crate::reference::Team;

/// Workflow status of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being written by the team.
    Draft,
    /// Sent for review.
    Submitted,
    /// Returned by a reviewer with a comment; the team edits and resubmits.
    Returned,
    /// Accepted by a reviewer. Final.
    Accepted,
}

impl Status {
    /// Every value.
    pub const ALL: [Status; 4] = [
        Status::Draft,
        Status::Submitted,
        Status::Returned,
        Status::Accepted,
    ];

    /// Stable code used on the wire and in storage.
    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Returned => "returned",
            Status::Accepted => "accepted",
        }
    }

    /// Parses a stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether the authoring team may still change the content.
    pub fn is_editable(self) -> bool {
        matches!(self, Status::Draft | Status::Returned)
    }

    /// The status `action` leads to from `self`, or why it is not allowed. Says nothing of who
    /// acts: see [`authorize`].
    pub fn after(self, action: Action) -> Result<Status, TransitionError> {
        use Action::*;
        use Status::*;
        let next = match (self, action) {
            (Draft | Returned, Edit) => self,
            (Draft | Returned, Submit) => Submitted,
            (Submitted, Accept) => Accepted,
            (Submitted, Return) => Returned,
            (Draft, Delete) => Draft,
            (Accepted, AddAddendum) => Accepted,
            // Consent is withdrawn whatever the status, even after acceptance: the session
            // is then deleted everywhere, so the status it "leads to" is moot.
            (_, WithdrawConsent) => self,
            _ => {
                return Err(TransitionError::NotAllowed { from: self, action });
            }
        };
        Ok(next)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Something a person does to a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Change the content.
    Edit,
    /// Send for review.
    Submit,
    /// Accept (reviewer).
    Accept,
    /// Return with a comment (reviewer).
    Return,
    /// Delete a draft.
    Delete,
    /// Append a correction to an accepted session.
    AddAddendum,
    /// Delete the session everywhere because its participants withdrew their consent (the
    /// authoring team only, in any status).
    WithdrawConsent,
}

impl Action {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Action::Edit => "edit",
            Action::Submit => "submit",
            Action::Accept => "accept",
            Action::Return => "return",
            Action::Delete => "delete",
            Action::AddAddendum => "add_addendum",
            Action::WithdrawConsent => "withdraw_consent",
        }
    }

    /// Whether this action belongs to reviewers rather than to the authoring team.
    pub fn is_review(self) -> bool {
        matches!(self, Action::Accept | Action::Return)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What a person is allowed to do.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Role {
    /// A member of an engagement team: writes the team's entries.
    TeamMember {
        /// The team.
        team_id: TeamId,
    },
    /// A gender focal point: reviews the entries of the teams of a sector.
    Reviewer {
        /// The sector reviewed.
        sector: String,
    },
    /// Mission headquarters (gender unit, military gender adviser): aggregate reports of any
    /// scope and the export of accepted sessions with notes emptied. Never pulls records and
    /// never edits, submits, accepts or returns.
    HqAnalyst,
    /// Mission admin: devices, enrolment codes, revocation and the audit log. Reads no
    /// consultation data and changes no session.
    Admin,
}

impl Role {
    /// Stable code of the kind of role (`team_member`, `reviewer`, `hq_analyst`, `admin`),
    /// for logs and the audit log: it names no team or sector.
    pub fn kind_code(&self) -> &'static str {
        match self {
            Role::TeamMember { .. } => "team_member",
            Role::Reviewer { .. } => "reviewer",
            Role::HqAnalyst => "hq_analyst",
            Role::Admin => "admin",
        }
    }

    /// Whether the role syncs records (pushes and pulls): team devices and reviewers. HQ
    /// analysts read aggregates and exports only; admins read no consultation data at all.
    pub fn syncs_records(&self) -> bool {
        matches!(self, Role::TeamMember { .. } | Role::Reviewer { .. })
    }
}

/// Who performs an action: recorded in the history of every write.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// A stable pseudonymous id of the person or device (never a name).
    pub id: String,
    /// What they may do.
    pub role: Role,
}

/// Why an action on a session was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum TransitionError {
    /// The workflow does not allow `action` in status `from`.
    #[error("cannot {action} a session that is {from}")]
    NotAllowed {
        /// Current status.
        from: Status,
        /// The refused action.
        action: Action,
    },
    /// The actor's role does not allow `action` on this session.
    #[error("not permitted to {action} this session")]
    NotPermitted {
        /// The refused action.
        action: Action,
    },
}

/// Checks that `actor` may perform `action` on a session in status `status` that belongs to
/// `owner` (the team of its visit), and returns the status after it.
pub fn authorize(
    actor: &Actor,
    action: Action,
    status: Status,
    owner: &Team,
) -> Result<Status, TransitionError> {
    let permitted = match &actor.role {
        Role::TeamMember { team_id } => !action.is_review() && *team_id == owner.id,
        Role::Reviewer { sector } => action.is_review() && *sector == owner.sector,
        // Headquarters and the admin read; they never change a session.
        Role::HqAnalyst | Role::Admin => false,
    };
    if !permitted {
        return Err(TransitionError::NotPermitted { action });
    }
    status.after(action)
}
