//! The mission admin's operations, callable in-process (tests, demo) and from the CLI.

use chrono::{Duration, Utc};
use fieldconsult_model::validation::{
    ValidationErrors, validate_checklist, validate_community, validate_referral_service,
    validate_sealing_keys, validate_team,
};
use fieldconsult_model::wire::Record;
use fieldconsult_model::{
    ChecklistTemplate, Community, CommunityId, Location, RecipientKey, ReferralService,
    ReferralServiceId, ReferralServiceKind, Role, SealingKeys, Team, TeamId,
};

use crate::auth::{SecretError, issue_enrolment_code};
use crate::storage::{DeviceInfo, Storage, StorageError};

/// Why an admin operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The input breaks a validation rule.
    #[error("invalid {what}: {errors}")]
    Invalid {
        /// What was invalid (`team`, `community on line 3`).
        what: String,
        /// The field problems.
        errors: ValidationErrors,
    },
    /// A secret could not be made.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The team does not exist.
    #[error("no team with id {0}")]
    UnknownTeam(String),
}

fn invalid(what: impl Into<String>, errors: ValidationErrors) -> AdminError {
    AdminError::Invalid {
        what: what.into(),
        errors,
    }
}

/// Adds a team; returns it with its new id.
pub fn add_team(storage: &dyn Storage, name: &str, sector: &str) -> Result<Team, AdminError> {
    let mut team = Team {
        id: TeamId::new(),
        name: name.trim().to_owned(),
        sector: sector.trim().to_owned(),
    };
    team.normalize();
    validate_team(&team).map_err(|e| invalid("team", e))?;
    storage.put_reference(&[Record::Team(team.clone())], false)?;
    Ok(team)
}

/// Every team.
pub fn teams(storage: &dyn Storage) -> Result<Vec<Team>, AdminError> {
    Ok(storage
        .records_of_kind("team")?
        .into_iter()
        .filter_map(|r| match r.record {
            Record::Team(t) => Some(t),
            _ => None,
        })
        .collect())
}

/// One community to import.
#[derive(Clone, Debug, PartialEq)]
pub struct CommunityInput {
    /// Name.
    pub name: String,
    /// Administrative area.
    pub admin_area: String,
    /// Location, rounded to the coarse grid on import.
    pub location: Option<Location>,
}

/// Imports communities in one transaction (all or none); locations are stored coarse
/// (~1 km). Returns the stored communities.
pub fn import_communities(
    storage: &dyn Storage,
    inputs: &[CommunityInput],
) -> Result<Vec<Community>, AdminError> {
    let mut out = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let mut c = Community {
            id: CommunityId::new(),
            name: input.name.trim().to_owned(),
            admin_area: input.admin_area.trim().to_owned(),
            location: input.location.map(Location::coarse),
        };
        c.normalize();
        validate_community(&c).map_err(|e| invalid(format!("community {}", i + 1), e))?;
        out.push(c);
    }
    let records: Vec<Record> = out.iter().cloned().map(Record::Community).collect();
    storage.put_reference(&records, false)?;
    Ok(out)
}

/// Publishes a checklist version. Versions are immutable: publishing the same content again
/// is a no-op, other content under a published version is refused.
pub fn publish_checklist(
    storage: &dyn Storage,
    checklist: &ChecklistTemplate,
) -> Result<bool, AdminError> {
    let mut c = checklist.clone();
    c.normalize();
    validate_checklist(&c).map_err(|e| invalid("checklist", e))?;
    Ok(storage.put_reference(&[Record::Checklist(c)], true)? > 0)
}

/// Adds a service to the referral directory.
pub fn add_referral_service(
    storage: &dyn Storage,
    name: &str,
    kind: ReferralServiceKind,
    area: &str,
) -> Result<ReferralService, AdminError> {
    let mut s = ReferralService {
        id: ReferralServiceId::new(),
        name: name.trim().to_owned(),
        kind,
        area: area.trim().to_owned(),
    };
    s.normalize();
    validate_referral_service(&s).map_err(|e| invalid("referral service", e))?;
    storage.put_reference(&[Record::ReferralService(s.clone())], false)?;
    Ok(s)
}

/// Sets the keys a sector's sensitive notes are sealed to (replacing earlier ones); devices
/// receive them at their next pull. Notes sealed before keep the keys they were sealed to.
pub fn set_sealing_keys(
    storage: &dyn Storage,
    sector: &str,
    focal_point_keys: Vec<RecipientKey>,
    escrow_key: Option<RecipientKey>,
) -> Result<SealingKeys, AdminError> {
    let mut keys = SealingKeys {
        sector: sector.trim().to_owned(),
        focal_point_keys,
        escrow_key,
    };
    keys.normalize();
    validate_sealing_keys(&keys).map_err(|e| invalid("sealing keys", e))?;
    storage.put_reference(&[Record::SealingKeys(keys.clone())], false)?;
    Ok(keys)
}

/// The sealing keys of every sector.
pub fn sealing_keys(storage: &dyn Storage) -> Result<Vec<SealingKeys>, AdminError> {
    Ok(storage
        .records_of_kind("sealing_keys")?
        .into_iter()
        .filter_map(|r| match r.record {
            Record::SealingKeys(k) => Some(k),
            _ => None,
        })
        .collect())
}

/// Issues a one-time enrolment code for `role`, valid `ttl_hours`. A team role must name
/// an existing team.
pub fn enrolment_code(
    storage: &dyn Storage,
    role: &Role,
    ttl_hours: i64,
) -> Result<String, AdminError> {
    if let Role::TeamMember { team_id } = role
        && storage.get_record("team", &team_id.to_string())?.is_none()
    {
        return Err(AdminError::UnknownTeam(team_id.to_string()));
    }
    Ok(issue_enrolment_code(
        storage,
        role,
        Duration::hours(ttl_hours),
        Utc::now(),
    )?)
}

/// A role as the device list shows it: `team:<id>`, `reviewer:<sector>`, `hq_analyst`,
/// `admin`.
pub fn role_label(role: &Role) -> String {
    match role {
        Role::TeamMember { team_id } => format!("team:{team_id}"),
        Role::Reviewer { sector } => format!("reviewer:{sector}"),
        Role::HqAnalyst | Role::Admin => role.kind_code().to_owned(),
    }
}

/// Revokes a device; `false` when it does not exist.
pub fn revoke(storage: &dyn Storage, device_id: &str) -> Result<bool, AdminError> {
    Ok(storage.revoke(device_id, Utc::now())?)
}

/// Every enrolled device.
pub fn devices(storage: &dyn Storage) -> Result<Vec<DeviceInfo>, AdminError> {
    Ok(storage.devices()?)
}
