//! A visit: one team's visit to one community, holding one or more sessions.

use serde::{Deserialize, Serialize};

use crate::ids::{CommunityId, TeamId, VisitId};
use crate::time::Timestamp;

/// One team's visit to one community.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    /// Visit id.
    pub id: VisitId,
    /// The team that made the visit.
    pub team_id: TeamId,
    /// The community visited.
    pub community_id: CommunityId,
    /// When the visit started, with the local offset.
    pub started_at: Timestamp,
    /// When it ended, once it has.
    pub ended_at: Option<Timestamp>,
    /// Observations of the visit as a whole.
    pub notes: String,
}
