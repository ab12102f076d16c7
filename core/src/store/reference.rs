//! Reference data: teams, communities, the referral directory and checklist templates.
//! The server publishes them; devices may add communities offline (those go to the outbox).

use rusqlite::{OptionalExtension, Transaction, named_params};

use super::codec::{checked_list, decode, encode};
use super::history::{self, Change};
use super::outbox::{self, Entity};
use super::{Store, now};
use crate::error::{Error, Result};
use fieldconsult_model::validation::{
    validate_checklist, validate_community, validate_referral_service, validate_team,
};
use fieldconsult_model::{
    Action, Actor, ChecklistTemplate, Community, CommunityId, FieldError, Location, Problem,
    ReferralService, ReferralServiceId, Role, Team, TeamId, TransitionError, ValidationErrors,
};

impl Store {
    /// Inserts or replaces teams from the server. All or nothing: one invalid team stores none.
    pub fn upsert_teams(&self, teams: &[Team]) -> Result<()> {
        let teams = checked_list("teams", teams, |t| {
            t.normalize();
            validate_team(t)
        })?;
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO teams (id, name, sector) VALUES (:id, :name, :sector)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, sector = excluded.sector",
            )?;
            for t in &teams {
                stmt.execute(named_params! {
                    ":id": t.id.to_string(), ":name": t.name, ":sector": t.sector,
                })?;
            }
            Ok(())
        })
    }

    /// Inserts or replaces communities from the server.
    pub fn upsert_communities(&self, communities: &[Community]) -> Result<()> {
        let communities = self.prepare_communities(communities)?;
        self.write(|tx| {
            for c in &communities {
                write_community(tx, c, false)?;
            }
            Ok(())
        })
    }

    /// Adds a community found on patrol, offline; it is pushed to the server with the rest.
    pub fn add_community(&self, actor: &Actor, community: &Community) -> Result<Community> {
        if !matches!(actor.role, Role::TeamMember { .. }) {
            return Err(TransitionError::NotPermitted {
                action: Action::Edit,
            }
            .into());
        }
        let c = self
            .prepare_community(community.clone())
            .map_err(ValidationErrors)?;
        let (at, _) = now();
        self.write(|tx| {
            write_community(tx, &c, true)?;
            let id = c.id.to_string();
            outbox::enqueue(tx, Entity::Community, &id, false)?;
            history::append(
                tx,
                actor,
                at,
                Change {
                    entity: "community",
                    entity_id: &id,
                    action: "create",
                    revision: None,
                    from_status: None,
                    to_status: None,
                    fields: vec!["name".into(), "admin_area".into(), "location".into()],
                },
            )?;
            Ok(())
        })?;
        Ok(c)
    }

    fn prepare_communities(&self, communities: &[Community]) -> Result<Vec<Community>> {
        Ok(checked_list("communities", communities, |c| {
            *c = self
                .prepare_community(c.clone())
                .map_err(ValidationErrors)?;
            Ok(())
        })?)
    }

    /// Normalised, validated, and coarsened unless the mission keeps precise locations.
    fn prepare_community(&self, mut c: Community) -> Result<Community, Vec<FieldError>> {
        c.normalize();
        validate_community(&c).map_err(|e| e.0)?;
        if !self.options().precise_locations {
            c.location = c.location.map(Location::coarse);
        }
        Ok(c)
    }

    /// Inserts or replaces services of the referral directory.
    pub fn upsert_referral_services(&self, services: &[ReferralService]) -> Result<()> {
        let services = checked_list("services", services, |s| {
            s.normalize();
            validate_referral_service(s)
        })?;
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO referral_services (id, name, kind, area)
                 VALUES (:id, :name, :kind, :area)
                 ON CONFLICT (id) DO UPDATE
                 SET name = excluded.name, kind = excluded.kind, area = excluded.area",
            )?;
            for s in &services {
                let kind = encode(&s.kind, "referral service", &s.id.to_string())?;
                stmt.execute(named_params! {
                    ":id": s.id.to_string(), ":name": s.name, ":kind": kind, ":area": s.area,
                })?;
            }
            Ok(())
        })
    }

    /// Stores a checklist template version. A published version is immutable: publishing
    /// the same version again with different content is refused.
    pub fn publish_checklist(&self, checklist: &ChecklistTemplate) -> Result<()> {
        let mut c = checklist.clone();
        c.normalize();
        validate_checklist(&c)?;
        let body = encode(&c, "checklist", &c.version.to_string())?;
        self.write(|tx| {
            let existing: Option<String> = tx
                .prepare_cached("SELECT body FROM checklists WHERE version = :v")?
                .query_row(named_params! {":v": c.version}, |r| r.get(0))
                .optional()?;
            match existing {
                Some(old) if old == body => Ok(()),
                Some(_) => Err(ValidationErrors(vec![FieldError {
                    field: "version".into(),
                    problem: Problem::Duplicate,
                }])
                .into()),
                None => {
                    tx.prepare_cached("INSERT INTO checklists (version, body) VALUES (:v, :body)")?
                        .execute(named_params! {":v": c.version, ":body": body})?;
                    Ok(())
                }
            }
        })
    }

    /// A checklist template by version.
    pub fn checklist(&self, version: u32) -> Result<ChecklistTemplate> {
        self.read(|tx| {
            checklist_in(tx, version)?.ok_or(Error::NotFound {
                entity: "checklist",
                id: version.to_string(),
            })
        })
    }

    /// The newest checklist template, if any was published.
    pub fn latest_checklist(&self) -> Result<Option<ChecklistTemplate>> {
        self.read(|tx| {
            let row: Option<(u32, String)> = tx
                .query_row(
                    "SELECT version, body FROM checklists ORDER BY version DESC LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            row.map(|(v, body)| decode(&body, "checklist", &v.to_string()))
                .transpose()
        })
    }

    /// All teams, by name.
    pub fn teams(&self) -> Result<Vec<Team>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached("SELECT id, name, sector FROM teams ORDER BY name")?;
            let rows = stmt.query_map([], team_from_row)?;
            rows.map(|r| r?).collect()
        })
    }

    /// All communities, by name.
    pub fn communities(&self) -> Result<Vec<Community>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT id, name, admin_area, lat, lon FROM communities ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| {
                let id: String = r.get(0)?;
                let lat: Option<f64> = r.get(3)?;
                let lon: Option<f64> = r.get(4)?;
                Ok((id, r.get(1)?, r.get(2)?, lat.zip(lon)))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, name, admin_area, loc) = row?;
                out.push(Community {
                    id: parse_id(&id, "community")?,
                    name,
                    admin_area,
                    location: loc.map(|(lat, lon)| Location { lat, lon }),
                });
            }
            Ok(out)
        })
    }

    /// The referral directory, by name.
    pub fn referral_services(&self) -> Result<Vec<ReferralService>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT id, name, kind, area FROM referral_services ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, name, kind, area) = row?;
                out.push(ReferralService {
                    id: parse_id(&id, "referral service")?,
                    name,
                    kind: decode(&kind, "referral service", &id)?,
                    area,
                });
            }
            Ok(out)
        })
    }
}

fn write_community(tx: &Transaction<'_>, c: &Community, on_device: bool) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO communities (id, name, admin_area, lat, lon, added_on_device)
         VALUES (:id, :name, :area, :lat, :lon, :on_device)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, admin_area = excluded.admin_area,
             lat = excluded.lat, lon = excluded.lon",
    )?
    .execute(named_params! {
        ":id": c.id.to_string(),
        ":name": c.name,
        ":area": c.admin_area,
        ":lat": c.location.map(|l| l.lat),
        ":lon": c.location.map(|l| l.lon),
        ":on_device": on_device,
    })?;
    Ok(())
}

fn team_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Team>> {
    let id: String = r.get(0)?;
    Ok(parse_id::<TeamId>(&id, "team").map(|id| Team {
        id,
        name: r.get(1).unwrap_or_default(),
        sector: r.get(2).unwrap_or_default(),
    }))
}

/// The team with `id`, within a transaction.
pub(crate) fn team_in(tx: &Transaction<'_>, id: &TeamId) -> Result<Team> {
    tx.prepare_cached("SELECT id, name, sector FROM teams WHERE id = :id")?
        .query_row(named_params! {":id": id.to_string()}, team_from_row)
        .optional()?
        .ok_or(Error::NotFound {
            entity: "team",
            id: id.to_string(),
        })?
}

/// Whether a community exists, within a transaction.
pub(crate) fn community_exists(tx: &Transaction<'_>, id: &CommunityId) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM communities WHERE id = :id")?
        .exists(named_params! {":id": id.to_string()})?)
}

/// Whether a referral service exists, within a transaction.
pub(crate) fn referral_service_exists(
    tx: &Transaction<'_>,
    id: &ReferralServiceId,
) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM referral_services WHERE id = :id")?
        .exists(named_params! {":id": id.to_string()})?)
}

/// A checklist version, within a transaction.
pub(crate) fn checklist_in(
    tx: &Transaction<'_>,
    version: u32,
) -> Result<Option<ChecklistTemplate>> {
    let body: Option<String> = tx
        .prepare_cached("SELECT body FROM checklists WHERE version = :v")?
        .query_row(named_params! {":v": version}, |r| r.get(0))
        .optional()?;
    body.map(|b| decode(&b, "checklist", &version.to_string()))
        .transpose()
}

/// An id column parsed, or a typed corruption error.
pub(crate) fn parse_id<T: std::str::FromStr>(s: &str, entity: &'static str) -> Result<T> {
    s.parse().map_err(|_| Error::Corrupt {
        entity,
        id: s.to_owned(),
    })
}
