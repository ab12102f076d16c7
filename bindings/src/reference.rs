//! Reference data records: teams, communities, referral directory, checklists.

use std::collections::HashMap;

use fieldconsult_model as model;
use fieldconsult_model::ReferralServiceKind;

use crate::lift::Lift;

/// An engagement team or patrol unit.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Team {
    /// Team id (UUID).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Sector; reviewers see their sector.
    pub sector: String,
}

/// A point in WGS 84 degrees.
#[derive(Clone, Copy, Debug, PartialEq, uniffi::Record)]
pub struct Location {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

/// A community a team visits.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Community {
    /// Community id (UUID).
    pub id: String,
    /// Name.
    pub name: String,
    /// Administrative area.
    pub admin_area: String,
    /// Location; stored rounded to ~1 km unless the mission opted in to precise points.
    pub location: Option<Location>,
}

/// A service of the referral directory.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ReferralService {
    /// Service id (UUID).
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind of service.
    pub kind: ReferralServiceKind,
    /// Area served.
    pub area: String,
}

/// One topic of a checklist.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ChecklistTopic {
    /// Stable code.
    pub code: String,
    /// Label per BCP 47 language tag.
    pub labels: HashMap<String, String>,
    /// Required before submission.
    pub required: bool,
}

/// A versioned checklist template.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ChecklistTemplate {
    /// Version.
    pub version: u32,
    /// Topics in order.
    pub topics: Vec<ChecklistTopic>,
}

impl Team {
    pub(crate) fn lift(self, l: &mut Lift) -> model::Team {
        model::Team {
            id: l.id("id", &self.id),
            name: self.name,
            sector: self.sector,
        }
    }
}

impl From<model::Team> for Team {
    fn from(t: model::Team) -> Self {
        Team {
            id: t.id.to_string(),
            name: t.name,
            sector: t.sector,
        }
    }
}

impl Community {
    pub(crate) fn lift(self, l: &mut Lift) -> model::Community {
        model::Community {
            id: l.id("id", &self.id),
            name: self.name,
            admin_area: self.admin_area,
            location: self.location.map(|p| model::Location {
                lat: p.lat,
                lon: p.lon,
            }),
        }
    }
}

impl From<model::Community> for Community {
    fn from(c: model::Community) -> Self {
        Community {
            id: c.id.to_string(),
            name: c.name,
            admin_area: c.admin_area,
            location: c.location.map(|p| Location {
                lat: p.lat,
                lon: p.lon,
            }),
        }
    }
}

impl ReferralService {
    pub(crate) fn lift(self, l: &mut Lift) -> model::ReferralService {
        model::ReferralService {
            id: l.id("id", &self.id),
            name: self.name,
            kind: self.kind,
            area: self.area,
        }
    }
}

impl From<model::ReferralService> for ReferralService {
    fn from(s: model::ReferralService) -> Self {
        ReferralService {
            id: s.id.to_string(),
            name: s.name,
            kind: s.kind,
            area: s.area,
        }
    }
}

impl From<ChecklistTemplate> for model::ChecklistTemplate {
    fn from(c: ChecklistTemplate) -> Self {
        model::ChecklistTemplate {
            version: c.version,
            topics: c
                .topics
                .into_iter()
                .map(|t| model::ChecklistTopic {
                    code: t.code,
                    labels: t.labels.into_iter().collect(),
                    required: t.required,
                })
                .collect(),
        }
    }
}

impl From<model::ChecklistTemplate> for ChecklistTemplate {
    fn from(c: model::ChecklistTemplate) -> Self {
        ChecklistTemplate {
            version: c.version,
            topics: c
                .topics
                .into_iter()
                .map(|t| ChecklistTopic {
                    code: t.code,
                    labels: t.labels.into_iter().collect(),
                    required: t.required,
                })
                .collect(),
        }
    }
}

/// The default checklist FieldConsult ships (version 1, English and French).
#[uniffi::export]
pub fn default_checklist() -> ChecklistTemplate {
    model::ChecklistTemplate::default_v1().into()
}
