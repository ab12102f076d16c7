//! Reports computed on the server from what it stores: the paired comparison and the sex ×
//! age-band participation table, over **accepted** sessions only, and the monthly gender
//! report of a team, a sector or the mission ([`monthly_report`]).
//!
//! The numbers come from `fieldconsult_model::report`, the same code a device runs, so a
//! report on the server and on a phone agree for the same sessions. The `demo` command
//! prints them; an HTTP endpoint can serve them through the same functions.
//!
//! Sensitive notes and visit notes are emptied before anything is computed: no report ever
//! needs them, and none can leak them.

use std::collections::{HashMap, HashSet};

use fieldconsult_model::report::{
    GroupBy, Month, MonthlyReport, PairedComparison, ParticipationTable, ReportInputs,
    ReportOptions, ReportScope,
};
use fieldconsult_model::wire::Record;
use fieldconsult_model::{CommunityId, Session, Status, Team, TeamId, Visit, VisitId};

use crate::storage::{Storage, StorageError};

/// Which accepted sessions a report covers. Empty fields do not filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// Only the sessions of this visit.
    pub visit_id: Option<VisitId>,
    /// Only the sessions of visits to this community.
    pub community_id: Option<CommunityId>,
    /// Only the sessions of this team's visits.
    pub team_id: Option<TeamId>,
    /// Only the sessions of teams of this sector (a reviewer's scope).
    pub sector: Option<String>,
}

/// Every accepted session matching `filter`, with its visit, oldest first. Sessions whose
/// visit the server does not hold are left out (a push refuses them anyway).
pub fn accepted_sessions(
    storage: &dyn Storage,
    filter: &ReportFilter,
) -> Result<Vec<(Visit, Session)>, StorageError> {
    let stored = stored(storage)?;
    let sector_of_team: HashMap<TeamId, &str> = stored
        .teams
        .iter()
        .map(|t| (t.id, t.sector.as_str()))
        .collect();
    let visits: HashMap<VisitId, &Visit> = stored.visits.iter().map(|v| (v.id, v)).collect();
    let mut out = Vec::new();
    for session in stored.sessions {
        if session.status != Status::Accepted {
            continue;
        }
        let Some(visit) = visits.get(&session.visit_id) else {
            continue;
        };
        let keep = filter.visit_id.is_none_or(|id| id == visit.id)
            && filter
                .community_id
                .is_none_or(|id| id == visit.community_id)
            && filter.team_id.is_none_or(|id| id == visit.team_id)
            && filter
                .sector
                .as_deref()
                .is_none_or(|s| sector_of_team.get(&visit.team_id).copied() == Some(s));
        if keep {
            out.push(((*visit).clone(), session));
        }
    }
    out.sort_by(|a, b| {
        (a.1.started_at, a.1.id.to_string()).cmp(&(b.1.started_at, b.1.id.to_string()))
    });
    Ok(out)
}

/// Everything stored that a report or an export reads: every team, community, visit and
/// session, with the visit notes, sensitive notes and sealed notes (ciphertext) emptied as
/// they are loaded, so that no report or export can leak them whatever it does next.
pub fn stored(storage: &dyn Storage) -> Result<ReportInputs, StorageError> {
    let mut inputs = ReportInputs::default();
    for kind in ["team", "community", "visit", "session"] {
        for r in storage.records_of_kind(kind)? {
            match r.record {
                Record::Team(t) => inputs.teams.push(t),
                Record::Community(c) => inputs.communities.push(c),
                Record::Visit(mut v) => {
                    v.notes.clear();
                    inputs.visits.push(v);
                }
                Record::Session(s) => {
                    inputs.sessions.push(s.without_sensitive_fields());
                }
                _ => {}
            }
        }
    }
    Ok(inputs)
}

/// Women's and men's views side by side over the accepted sessions matching `filter`.
pub fn paired_comparison(
    storage: &dyn Storage,
    filter: &ReportFilter,
) -> Result<PairedComparison, StorageError> {
    let items = accepted_sessions(storage, filter)?;
    Ok(PairedComparison::compute(items.iter().map(|(_, s)| s)))
}

/// Participants by sex × age band, with coverage, over the accepted sessions matching
/// `filter`, one row per `by` key.
pub fn participation_table(
    storage: &dyn Storage,
    filter: &ReportFilter,
    by: GroupBy,
) -> Result<ParticipationTable, StorageError> {
    let items = accepted_sessions(storage, filter)?;
    Ok(ParticipationTable::compute(
        items.iter().map(|(v, s)| (v, s)),
        by,
    ))
}

/// Loads what the monthly report of `scope` for `month` needs. The report filters scope and
/// month itself; this leaves out what can never count, so that the report and its renderers
/// carry only the scope's sessions: visits of teams out of scope, drafts, and sessions that
/// started after the month (earlier months stay: they say whether a community was ever
/// consulted with women).
pub fn report_inputs(
    storage: &dyn Storage,
    scope: &ReportScope,
    month: Month,
) -> Result<ReportInputs, StorageError> {
    let mut inputs = stored(storage)?;
    let team_of: HashMap<TeamId, &Team> = inputs.teams.iter().map(|t| (t.id, t)).collect();
    inputs
        .visits
        .retain(|v| scope.includes(v.team_id, team_of.get(&v.team_id).copied()));
    let visit_ids: HashSet<VisitId> = inputs.visits.iter().map(|v| v.id).collect();
    inputs.sessions.retain(|s| {
        let later = Month::of(s.started_at.date_naive()) > month;
        s.status != Status::Draft && !later && visit_ids.contains(&s.visit_id)
    });
    Ok(inputs)
}

/// The monthly gender report of `scope` for `month`, from what the server stores: the same
/// computation a device runs ([`MonthlyReport::compute`]), over inputs without any note.
pub fn monthly_report(
    storage: &dyn Storage,
    scope: ReportScope,
    month: Month,
    options: ReportOptions,
) -> Result<MonthlyReport, StorageError> {
    let inputs = report_inputs(storage, &scope, month)?;
    Ok(MonthlyReport::compute(scope, month, inputs.data(), options))
}
