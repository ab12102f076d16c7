//! Reference data the mission server publishes: teams, communities and the referral directory.

use serde::{Deserialize, Serialize};

use crate::crypto::seal::RecipientKey;
use crate::ids::{CommunityId, ReferralServiceId, TeamId};

/// An engagement team or patrol unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Team id.
    pub id: TeamId,
    /// Display name (`Engagement Team 3`).
    pub name: String,
    /// The sector the team operates in; reviewers see their sector.
    pub sector: String,
}

/// A point on the map, in WGS 84 degrees.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// Latitude, −90 to 90.
    pub lat: f64,
    /// Longitude, −180 to 180.
    pub lon: f64,
}

impl Location {
    /// Degrees of the coarse grid: 0.01° is about 1.1 km of latitude.
    pub const COARSE_STEP: f64 = 0.01;

    /// This location rounded to the coarse (~1 km) grid, so that a stored point does not
    /// pinpoint a home.
    pub fn coarse(self) -> Self {
        let round = |v: f64| (v / Self::COARSE_STEP).round() * Self::COARSE_STEP;
        Location {
            lat: round(self.lat),
            lon: round(self.lon),
        }
    }
}

/// A community a team visits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Community {
    /// Community id.
    pub id: CommunityId,
    /// Name as the community uses it.
    pub name: String,
    /// Administrative area (district, county).
    pub admin_area: String,
    /// Location, coarse unless the mission opted in to precise points.
    pub location: Option<Location>,
}

/// The kind of service a referral goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralServiceKind {
    /// Medical care.
    Health,
    /// Psychosocial support.
    Psychosocial,
    /// Legal aid.
    Legal,
    /// Safety and shelter.
    Safety,
    /// Other services.
    Other,
}

/// A service of the referral directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralService {
    /// Service id.
    pub id: ReferralServiceId,
    /// Service name.
    pub name: String,
    /// What kind of service it is.
    pub kind: ReferralServiceKind,
    /// The area it serves.
    pub area: String,
}

/// The public keys a sector's sensitive notes are sealed to: its gender focal points' and,
/// optionally, the mission's escrow key (so that a lost focal-point phone does not lose every
/// note). Reference data, server → device, one record per sector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealingKeys {
    /// The sector, as teams name it.
    pub sector: String,
    /// The focal points' keys; at least one.
    pub focal_point_keys: Vec<RecipientKey>,
    /// The mission's escrow key, if it keeps one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escrow_key: Option<RecipientKey>,
}

impl SealingKeys {
    /// Every key a note of this sector is sealed to: focal points first, then escrow.
    pub fn recipients(&self) -> Vec<RecipientKey> {
        let mut out = self.focal_point_keys.clone();
        out.extend(self.escrow_key.clone());
        out
    }
}
