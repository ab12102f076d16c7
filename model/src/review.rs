//! Reviews by gender focal points, and addenda to accepted sessions. Both are append-only:
//! a decision or a correction is never edited, only followed by another.

use serde::{Deserialize, Serialize};

use crate::ids::{AddendumId, ReviewId, SessionId};
use crate::time::Timestamp;

/// A reviewer's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Accepted: final.
    Accepted,
    /// Returned to the team with a comment.
    Returned,
}

/// One review decision on a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// Review id.
    pub id: ReviewId,
    /// The session reviewed.
    pub session_id: SessionId,
    /// Pseudonymous id of the reviewer.
    pub reviewer: String,
    /// The decision.
    pub decision: Decision,
    /// Comment to the team; required when returning.
    pub comment: String,
    /// When the decision was made.
    pub at: Timestamp,
}

/// A correction appended to an accepted session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addendum {
    /// Addendum id.
    pub id: AddendumId,
    /// The accepted session it corrects.
    pub session_id: SessionId,
    /// Pseudonymous id of the author.
    pub author: String,
    /// The correction.
    pub text: String,
    /// When it was written.
    pub at: Timestamp,
}
