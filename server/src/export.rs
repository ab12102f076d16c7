//! Exports of accepted sessions for the gender unit: CSV (one row per session, wide
//! sex × age columns) and JSON Lines. The sensitive fields (the note and the referral
//! service, plaintext or sealed) never leave the server this way.

use std::collections::HashMap;
use std::io::Write;

use fieldconsult_model::report::Month;
use fieldconsult_model::{AgeBand, Community, Session, Sex, Status, Team, Urgency, Visit};
use serde::Serialize;

use crate::csv;
use crate::storage::{Storage, StorageError};

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values, one row per session, for spreadsheets.
    Csv,
    /// JSON Lines, one session with its context per line.
    Jsonl,
}

impl Format {
    /// Stable code (`csv`, `jsonl`).
    pub fn code(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }

    /// Media type of the export.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Jsonl => "application/jsonl",
        }
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Writing failed.
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    /// Serialising failed.
    #[error("cannot serialise the export")]
    Json,
}

/// An accepted session with what a report needs around it.
#[derive(Clone, Debug, Serialize)]
pub struct ExportedSession {
    /// The session, its sensitive fields removed (a referral shows only as offered).
    pub session: Session,
    /// The visit's team, if known.
    pub team: Option<Team>,
    /// The visited community, if known.
    pub community: Option<Community>,
    /// The visit, its notes removed.
    pub visit: Option<Visit>,
}

/// Every accepted session, oldest first, with its team, community and visit; sensitive
/// fields and visit notes removed.
pub fn accepted_sessions(storage: &dyn Storage) -> Result<Vec<ExportedSession>, ExportError> {
    let stored = crate::reports::stored(storage)?;
    let teams: HashMap<_, _> = stored.teams.into_iter().map(|t| (t.id, t)).collect();
    let communities: HashMap<_, _> = stored.communities.into_iter().map(|c| (c.id, c)).collect();
    let visits: HashMap<_, _> = stored.visits.into_iter().map(|v| (v.id, v)).collect();
    let mut out: Vec<ExportedSession> = stored
        .sessions
        .into_iter()
        .filter(|s| s.status == Status::Accepted)
        .map(|session| {
            let visit = visits.get(&session.visit_id).cloned();
            let team = visit.as_ref().and_then(|v| teams.get(&v.team_id).cloned());
            let community = visit
                .as_ref()
                .and_then(|v| communities.get(&v.community_id).cloned());
            ExportedSession {
                session,
                team,
                community,
                visit,
            }
        })
        .collect();
    out.sort_by_key(|s| s.session.started_at);
    Ok(out)
}

/// Writes the accepted sessions in `format` to `out`; returns how many.
pub fn export(
    storage: &dyn Storage,
    format: Format,
    out: &mut dyn Write,
) -> Result<usize, ExportError> {
    export_month(storage, format, None, out)
}

/// Writes the accepted sessions of `month` (by the local date a session started, as the
/// monthly report counts them; every month when `None`) in `format` to `out`; returns how
/// many.
pub fn export_month(
    storage: &dyn Storage,
    format: Format,
    month: Option<Month>,
    out: &mut dyn Write,
) -> Result<usize, ExportError> {
    let mut sessions = accepted_sessions(storage)?;
    if let Some(month) = month {
        sessions.retain(|s| month.contains(s.session.started_at.date_naive()));
    }
    match format {
        Format::Csv => write_csv(&sessions, out)?,
        Format::Jsonl => {
            for s in &sessions {
                serde_json::to_writer(&mut *out, s).map_err(|_| ExportError::Json)?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()?;
    Ok(sessions.len())
}

fn code<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn band_column(sex: Sex, band: AgeBand) -> String {
    format!(
        "{}_{}",
        sex.code(),
        band.code().strip_prefix("age_").unwrap_or(band.code())
    )
}

/// The CSV header.
pub fn csv_header() -> Vec<String> {
    let mut h: Vec<String> = [
        "session_id",
        "visit_id",
        "team",
        "sector",
        "community",
        "admin_area",
        "group",
        "started_at",
        "ended_at",
        "setting",
        "focus",
        "facilitators_female",
        "facilitators_male",
        "interpreter",
        "interpreter_language",
        "checklist_version",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for sex in Sex::ALL {
        for band in AgeBand::ALL {
            h.push(band_column(sex, band));
        }
    }
    for c in [
        "participants_total",
        "priorities",
        "concerns",
        "urgent_concerns",
        "referral_offered",
    ] {
        h.push(c.to_owned());
    }
    h
}

fn write_csv(sessions: &[ExportedSession], out: &mut dyn Write) -> Result<(), ExportError> {
    out.write_all(csv::line(&csv_header()).as_bytes())?;
    for e in sessions {
        let s = &e.session;
        let mut row = vec![
            s.id.to_string(),
            s.visit_id.to_string(),
            e.team.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
            e.team
                .as_ref()
                .map(|t| t.sector.clone())
                .unwrap_or_default(),
            e.community
                .as_ref()
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            e.community
                .as_ref()
                .map(|c| c.admin_area.clone())
                .unwrap_or_default(),
            s.group.code().to_owned(),
            s.started_at.to_rfc3339(),
            s.ended_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            code(&s.setting),
            s.focus.iter().map(code).collect::<Vec<_>>().join(";"),
            s.facilitators.female.to_string(),
            s.facilitators.male.to_string(),
            code(&s.interpreter.sex),
            s.interpreter.language.clone(),
            s.checklist_version.to_string(),
        ];
        for sex in Sex::ALL {
            for band in AgeBand::ALL {
                row.push(s.participants.of(sex).get(band).to_string());
            }
        }
        row.push(s.participants.total().to_string());
        row.push(s.priorities.len().to_string());
        row.push(s.concerns.len().to_string());
        row.push(
            s.concerns
                .iter()
                .filter(|c| c.urgency == Urgency::Urgent)
                .count()
                .to_string(),
        );
        row.push(if s.referral.is_some() { "yes" } else { "no" }.to_owned());
        out.write_all(csv::line(&row).as_bytes())?;
    }
    Ok(())
}
