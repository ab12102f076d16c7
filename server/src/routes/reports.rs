//! `GET /v1/reports/monthly`: the monthly gender report of a team or a sector, rendered on
//! the server, for the devices allowed to see it.
//!
//! # Query
//!
//! | parameter | values | default |
//! |---|---|---|
//! | `month` | `YYYY-MM` | required |
//! | `scope` | `team`, `sector`, `mission` | `team` when `team` is given, `sector` when `sector` is given, else the device's own scope (its team, or its sector for a reviewer) |
//! | `team` | team id (UUID); only with scope `team` | a team device's own team |
//! | `sector` | sector name; only with scope `sector` | a reviewer's own sector |
//! | `format` | `html`, `csv`, `json`, `xlsx`, `pdf`, `png` | `json` |
//! | `lang` | `en`, `fr` | `en` |
//! | `min_cell` | counts from 1 to `min_cell - 1` are hidden; [`MIN_CELL_FLOOR`]`..=`[`MAX_MIN_CELL`] | [`MIN_CELL_FLOOR`] |
//! | `part` | one file of a multi-file format (`csv`, `png`), as the index names it | none: the index |
//! | `why` | why the report is asked for, kept in the audit log | empty |
//!
//! # Who may see what
//!
//! - a team device: its own team's report only;
//! - a reviewer (gender focal point): its sector's report, and the report of any team of its
//!   sector;
//! - an HQ analyst (mission headquarters): any scope, the mission report included (its
//!   default scope);
//! - an admin device: nothing (403 on `scope`); the admin reads no consultation data.
//!
//! A reviewer asking for a team of another sector gets exactly the answer it would get for a
//! team that does not exist (403 on `team`), so refusals tell nothing about other sectors.
//! Lowering `min_cell` below [`MIN_CELL_FLOOR`] is refused (403 on `min_cell`): only the
//! admin command may show smaller counts.
//!
//! # Answers
//!
//! - `html`, `json`, `xlsx`, `pdf`: 200 with the file itself, its media type, and
//!   `Content-Disposition: attachment; filename="gender-report-…"`.
//! - `csv` (one file per table) and `png` (one image per chart) without `part`: 200 with a
//!   JSON index, `{"format", "month", "scope", "parts": [{"part", "name", "media_type",
//!   "bytes", "href"}]}`; fetch each part by following its `href` (the same query with
//!   `part=<part>`), which answers that file as above.
//! - Errors are `application/problem+json` and never carry report data: 401 without a valid
//!   token, 403 `/problems/revoked` for a revoked device, 403 `/problems/forbidden` naming the
//!   parameter that asked for too much, 400 `/problems/malformed-request` naming the invalid
//!   parameter in `problems[0].field` (`month`, `scope`, `team`, `sector`, `format`, `lang`,
//!   `min_cell`, `part`, or `query` for an unknown parameter).
//!
//! Every answer, error or not, carries `Cache-Control: no-store`: these reports are about
//! people at risk and must not sit in a proxy's cache. The report is computed and rendered on
//! the blocking pool (a PDF is seconds of CPU for a large sector). The log records who asked
//! for which scope, month and format, never what the report says.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fieldconsult_model::report::{Month, ReportOptions, ReportScope};
use fieldconsult_model::wire::Record;
use fieldconsult_model::{Language, Problem, Role, TeamId};
use fieldconsult_report::{Format, ReportFile};
use serde::Serialize;

use crate::app::{AppState, blocking};
use crate::audit::{self, AuditAction, AuditEntry, Who};
use crate::auth::Authenticated;
use crate::problem::ApiError;
use crate::reports::monthly_report;
use crate::storage::{Device, Storage, StoredRecord};

/// The smallest `min_cell` a device may ask for: counts from 1 to 4 stay hidden in every
/// report that leaves the server over HTTP.
pub const MIN_CELL_FLOOR: u32 = 5;
/// The largest `min_cell` anyone may ask for (beyond it a report hides nearly everything).
pub const MAX_MIN_CELL: u32 = 100;

/// The path of this endpoint under `/v1`.
pub const PATH: &str = "/reports/monthly";

/// Reports rendered at once. A PDF keeps a core busy for seconds; without a bound, a few
/// reviewers asking at the same time would slow every sync on the server. Others wait their
/// turn (within the request timeout).
const CONCURRENT_RENDERS: usize = 2;
static RENDERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_RENDERS);

/// Longest sector name or part name read from a query.
const MAX_NAME_CHARS: usize = 200;

const PARAMETERS: [&str; 9] = [
    "month", "scope", "team", "sector", "format", "lang", "min_cell", "part", "why",
];

/// What a request asks for, its parameters checked but not yet its rights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthlyRequest {
    /// Whose sessions.
    pub scope: ReportScope,
    /// Which month.
    pub month: Month,
    /// Which format.
    pub format: Format,
    /// Labels and headings in.
    pub lang: Language,
    /// Counts from 1 to `min_cell - 1` hidden.
    pub min_cell: u32,
    /// One file of a multi-file format; `None` for the file itself or the index.
    pub part: Option<String>,
    /// Why it is asked for, for the audit log; empty when not given.
    pub why: String,
}

/// One file of a multi-file format, as the index lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartEntry {
    /// What to pass as `part=`.
    pub part: String,
    /// The file name.
    pub name: String,
    /// Its media type.
    pub media_type: &'static str,
    /// Its size.
    pub bytes: usize,
    /// The query that answers it.
    pub href: String,
}

/// The answer for a multi-file format asked without `part`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartIndex {
    /// The format's code.
    pub format: &'static str,
    /// The month.
    pub month: Month,
    /// The scope.
    pub scope: ReportScope,
    /// The files, in the renderer's order.
    pub parts: Vec<PartEntry>,
}

/// Answers the monthly report, or a problem document; always with `Cache-Control: no-store`.
pub async fn monthly(
    State(state): State<AppState>,
    auth: Result<Authenticated, ApiError>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let mut response = match answer(state, auth, query).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn answer(
    state: AppState,
    auth: Result<Authenticated, ApiError>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Authenticated(device) = auth?;
    let Query(pairs) = query.map_err(|_| ApiError::InvalidParameter {
        field: "query",
        problem: Problem::InvalidFormat,
        detail: "the query string cannot be read",
    })?;
    let request = parse(&pairs, &device.role).inspect_err(|e| {
        tracing::info!(device = %device.id, error = %e, "monthly report refused");
    })?;
    // Rights first, on their own: a refusal never waits behind someone else's rendering.
    let storage = state.storage.clone();
    let (who, req) = (device.clone(), request.clone());
    blocking(move || authorize(storage.as_ref(), &who, &req))
        .await
        .inspect_err(|e| {
            tracing::info!(
                device = %device.id,
                scope = %scope_label(&request.scope),
                error = %e,
                "monthly report refused"
            );
        })?;
    // The permit moves into the blocking task: it is released when the work ends, not when
    // a timed-out request stops waiting for it.
    let permit = RENDERS.acquire().await.map_err(|_| ApiError::Task)?;
    let storage = state.storage.clone();
    let req = request.clone();
    let who = device.clone();
    let (stem, files) = blocking(move || {
        let _permit = permit;
        // Audited before it is computed: a report that cannot be audited is not served.
        audit::append(
            storage.as_ref(),
            &AuditEntry {
                who: Who::device(&who.id, &who.role),
                action: AuditAction::Report,
                target: format!(
                    "{} month={} format={}{}",
                    scope_label(&req.scope),
                    req.month,
                    req.format.code(),
                    req.part
                        .as_deref()
                        .map(|p| format!(" part={p}"))
                        .unwrap_or_default()
                ),
                why: req.why.clone(),
                at: chrono::Utc::now(),
            },
        )?;
        let options = ReportOptions {
            min_cell: req.min_cell,
            ..ReportOptions::default()
        };
        let report = monthly_report(storage.as_ref(), req.scope.clone(), req.month, options)?;
        let stem = fieldconsult_report::file_name(&report, req.format, req.lang, None);
        let files = fieldconsult_report::render(&report, req.format, req.lang)
            .map_err(|e| ApiError::Render(e.to_string()))?;
        Ok((stem, files))
    })
    .await?;
    tracing::info!(
        device = %device.id,
        role = role_label(&device.role),
        scope = %scope_label(&request.scope),
        month = %request.month,
        format = request.format.code(),
        lang = request.lang.tag(),
        min_cell = request.min_cell,
        part = request.part.is_some(),
        "monthly report served"
    );
    let multi = is_multi_part(request.format) || files.len() != 1;
    if !multi {
        // `parse` refused `part` for this format already.
        return files
            .into_iter()
            .next()
            .map(file_response)
            .ok_or_else(|| ApiError::Render("the renderer returned no file".to_owned()));
    }
    let parts: Vec<(String, ReportFile)> = files
        .into_iter()
        .map(|f| (part_name(&stem, request.format.code(), &f.name), f))
        .collect();
    match &request.part {
        Some(wanted) => parts
            .into_iter()
            .find(|(p, f)| p == wanted || f.name == *wanted)
            .map(|(_, f)| file_response(f))
            .ok_or(ApiError::InvalidParameter {
                field: "part",
                problem: Problem::Unknown,
                detail: "no such part; ask without part for the index of parts",
            }),
        None => {
            let index = PartIndex {
                format: request.format.code(),
                month: request.month,
                scope: request.scope.clone(),
                parts: parts
                    .iter()
                    .map(|(p, f)| PartEntry {
                        part: p.clone(),
                        name: f.name.clone(),
                        media_type: f.media_type,
                        bytes: f.bytes.len(),
                        href: href(&request, p),
                    })
                    .collect(),
            };
            Ok(axum::Json(index).into_response())
        }
    }
}

/// Formats whose rendering is several files, answered as an index of parts.
fn is_multi_part(format: Format) -> bool {
    matches!(format, Format::Csv | Format::Png)
}

/// `sessions` for `gender-report-team-x-2026-10-sessions.csv` given the stem
/// `gender-report-team-x-2026-10.csv`; the file name without extension when a renderer names
/// its files otherwise, so that every part stays addressable.
fn part_name(stem: &str, ext: &str, name: &str) -> String {
    let dot_ext = format!(".{ext}");
    let base = stem.strip_suffix(&dot_ext).unwrap_or(stem);
    let without_ext = name.strip_suffix(&dot_ext).unwrap_or(name);
    without_ext
        .strip_prefix(base)
        .and_then(|rest| rest.strip_prefix('-'))
        .filter(|p| !p.is_empty())
        .unwrap_or(without_ext)
        .to_owned()
}

fn file_response(file: ReportFile) -> Response {
    let mut response = (StatusCode::OK, file.bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(file.media_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    let disposition = format!("attachment; filename=\"{}\"", safe_file_name(&file.name));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// The renderer already writes ASCII names; anything else is replaced rather than trusted
/// inside a quoted header value.
fn safe_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The query answering one part: every parameter explicit, so the link means the same thing
/// whatever the defaults become.
fn href(req: &MonthlyRequest, part: &str) -> String {
    let scope = match &req.scope {
        ReportScope::Team { team_id } => format!("scope=team&team={team_id}"),
        ReportScope::Sector { sector } => format!("scope=sector&sector={}", encode(sector)),
        ReportScope::Mission => "scope=mission".to_owned(),
    };
    let why = if req.why.is_empty() {
        String::new()
    } else {
        format!("&why={}", encode(&req.why))
    };
    format!(
        "{}{PATH}?month={}&{scope}&format={}&lang={}&min_cell={}&part={}{why}",
        fieldconsult_model::wire::API_PREFIX,
        req.month,
        req.format.code(),
        req.lang.tag(),
        req.min_cell,
        encode(part)
    )
}

/// Percent-encodes all but RFC 3986 unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn scope_label(scope: &ReportScope) -> String {
    match scope {
        ReportScope::Team { team_id } => format!("team:{team_id}"),
        ReportScope::Sector { sector } => format!("sector:{sector}"),
        ReportScope::Mission => "mission".to_owned(),
    }
}

fn role_label(role: &Role) -> &'static str {
    role.kind_code()
}

fn invalid(field: &'static str, problem: Problem, detail: &'static str) -> ApiError {
    ApiError::InvalidParameter {
        field,
        problem,
        detail,
    }
}

fn forbidden(field: &'static str, detail: &'static str) -> ApiError {
    ApiError::Forbidden {
        field,
        detail,
        allowed: None,
    }
}

/// Reads and checks the query of a request from a device of `role`. Rights are checked
/// later, by [`authorize`]; `role` only supplies the defaults.
pub fn parse(pairs: &[(String, String)], role: &Role) -> Result<MonthlyRequest, ApiError> {
    let mut values: [Option<&str>; PARAMETERS.len()] = [None; PARAMETERS.len()];
    for (key, value) in pairs {
        let Some(i) = PARAMETERS.iter().position(|p| p == key) else {
            return Err(invalid(
                "query",
                Problem::Unknown,
                "unknown parameter; known are month, scope, team, sector, format, lang, \
                 min_cell, part and why",
            ));
        };
        if values[i].is_some() {
            return Err(invalid(PARAMETERS[i], Problem::Duplicate, "given twice"));
        }
        values[i] = Some(value.as_str());
    }
    let [
        month,
        scope,
        team,
        sector,
        format,
        lang,
        min_cell,
        part,
        why,
    ] = values;

    let month = month
        .ok_or(invalid(
            "month",
            Problem::Required,
            "month=YYYY-MM is required",
        ))?
        .parse::<Month>()
        .map_err(|_| {
            invalid(
                "month",
                Problem::InvalidFormat,
                "must be written YYYY-MM, for example 2026-10",
            )
        })?;

    let scope = match scope {
        Some("team") => ScopeKind::Team,
        Some("sector") => ScopeKind::Sector,
        Some("mission") => ScopeKind::Mission,
        Some(_) => {
            return Err(invalid(
                "scope",
                Problem::Unknown,
                "must be team, sector or mission",
            ));
        }
        None => match (team, sector) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "scope",
                    Problem::Required,
                    "give scope=team or scope=sector when giving both team and sector",
                ));
            }
            (Some(_), None) => ScopeKind::Team,
            (None, Some(_)) => ScopeKind::Sector,
            (None, None) => match role {
                Role::TeamMember { .. } => ScopeKind::Team,
                Role::Reviewer { .. } => ScopeKind::Sector,
                Role::HqAnalyst | Role::Admin => ScopeKind::Mission,
            },
        },
    };
    let only = "only with the matching scope";
    let scope = match scope {
        ScopeKind::Team => {
            if sector.is_some() {
                return Err(invalid("sector", Problem::MustBeEmpty, only));
            }
            let team_id = match (team, role) {
                (Some(t), _) => t.trim().parse::<TeamId>().map_err(|_| {
                    invalid("team", Problem::InvalidFormat, "must be a team id (UUID)")
                })?,
                (None, Role::TeamMember { team_id }) => *team_id,
                (None, Role::Reviewer { .. } | Role::HqAnalyst | Role::Admin) => {
                    return Err(invalid(
                        "team",
                        Problem::Required,
                        "a team report needs team=<team id>",
                    ));
                }
            };
            ReportScope::Team { team_id }
        }
        ScopeKind::Sector => {
            if team.is_some() {
                return Err(invalid("team", Problem::MustBeEmpty, only));
            }
            let sector = match (sector, role) {
                (Some(s), _) => checked_name("sector", s)?,
                (None, Role::Reviewer { sector }) => sector.clone(),
                (None, Role::TeamMember { .. } | Role::HqAnalyst | Role::Admin) => {
                    return Err(invalid(
                        "sector",
                        Problem::Required,
                        "a sector report needs sector=<name>",
                    ));
                }
            };
            ReportScope::Sector { sector }
        }
        ScopeKind::Mission => {
            if team.is_some() {
                return Err(invalid("team", Problem::MustBeEmpty, only));
            }
            if sector.is_some() {
                return Err(invalid("sector", Problem::MustBeEmpty, only));
            }
            ReportScope::Mission
        }
    };

    let format = match format {
        None => Format::Json,
        Some(code) => Format::from_code(code).ok_or(invalid(
            "format",
            Problem::Unknown,
            "must be html, csv, json, xlsx, pdf or png",
        ))?,
    };
    let lang = match lang {
        None | Some("en") => Language::En,
        Some("fr") => Language::Fr,
        Some(_) => return Err(invalid("lang", Problem::Unknown, "must be en or fr")),
    };
    let min_cell = match min_cell {
        None => MIN_CELL_FLOOR,
        Some(s) => {
            let n: u32 = s.trim().parse().map_err(|_| {
                invalid("min_cell", Problem::InvalidFormat, "must be a whole number")
            })?;
            if n > MAX_MIN_CELL {
                return Err(invalid(
                    "min_cell",
                    Problem::OutOfRange {
                        min: i64::from(MIN_CELL_FLOOR),
                        max: i64::from(MAX_MIN_CELL),
                    },
                    "must be at most 100",
                ));
            }
            if n < MIN_CELL_FLOOR {
                return Err(ApiError::Forbidden {
                    field: "min_cell",
                    detail: "small counts stay hidden over HTTP: min_cell is at least 5; \
                             only the mission admin's report command goes lower",
                    allowed: Some(Problem::OutOfRange {
                        min: i64::from(MIN_CELL_FLOOR),
                        max: i64::from(MAX_MIN_CELL),
                    }),
                });
            }
            n
        }
    };
    let part = part.map(|p| checked_name("part", p)).transpose()?;
    if part.is_some() && !is_multi_part(format) {
        return Err(invalid(
            "part",
            Problem::MustBeEmpty,
            "only csv and png have parts",
        ));
    }
    let why = why.map(|w| checked_name("why", w)).transpose()?;
    Ok(MonthlyRequest {
        scope,
        month,
        format,
        lang,
        min_cell,
        part,
        why: why.unwrap_or_default(),
    })
}

enum ScopeKind {
    Team,
    Sector,
    Mission,
}

fn checked_name(field: &'static str, s: &str) -> Result<String, ApiError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(invalid(field, Problem::Required, "must not be empty"));
    }
    let chars = s.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(invalid(
            field,
            Problem::TooLong {
                max: MAX_NAME_CHARS,
                actual: chars,
            },
            "too long",
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(
            field,
            Problem::ControlCharacter,
            "must not hold control characters",
        ));
    }
    Ok(s.to_owned())
}

/// Whether `device` may see the report `req` asks for: a team device its own team's, a
/// reviewer its sector's and its sector's teams', an HQ analyst any scope's, the mission's
/// included; an admin none (it reads no consultation data).
pub fn authorize(
    storage: &dyn Storage,
    device: &Device,
    req: &MonthlyRequest,
) -> Result<(), ApiError> {
    // One answer for "not yours" and "does not exist", so that it reveals neither.
    let not_yours_team = "this device may not see that team's report";
    match (&device.role, &req.scope) {
        (Role::HqAnalyst, _) => Ok(()),
        (Role::Admin, _) => Err(forbidden(
            "scope",
            "an admin device reads no consultation data, reports included",
        )),
        (_, ReportScope::Mission) => Err(forbidden(
            "scope",
            "only headquarters may see the mission report",
        )),
        (Role::TeamMember { team_id: own }, ReportScope::Team { team_id }) => {
            if own == team_id {
                Ok(())
            } else {
                Err(forbidden("team", not_yours_team))
            }
        }
        (Role::TeamMember { .. }, ReportScope::Sector { .. }) => Err(forbidden(
            "scope",
            "a team device may see its own team's report only",
        )),
        (Role::Reviewer { sector: own }, ReportScope::Sector { sector }) => {
            if own == sector {
                Ok(())
            } else {
                Err(forbidden(
                    "sector",
                    "a reviewer may see its own sector's report only",
                ))
            }
        }
        (Role::Reviewer { sector: own }, ReportScope::Team { team_id }) => {
            match storage.get_record("team", &team_id.to_string())? {
                Some(StoredRecord {
                    record: Record::Team(team),
                    ..
                }) if team.sector == *own => Ok(()),
                _ => Err(forbidden("team", not_yours_team)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_come_from_the_file_names() {
        let stem = "gender-report-team-a-2026-10.csv";
        assert_eq!(
            part_name(stem, "csv", "gender-report-team-a-2026-10-sessions.csv"),
            "sessions"
        );
        assert_eq!(part_name(stem, "csv", "other.csv"), "other");
    }

    #[test]
    fn hrefs_encode_sector_names() {
        let req = MonthlyRequest {
            scope: ReportScope::Sector {
                sector: "Nord & Est".to_owned(),
            },
            month: Month::new(2026, 10).unwrap_or_else(|| panic!("valid month")),
            format: Format::Csv,
            lang: Language::Fr,
            min_cell: 5,
            part: None,
            why: String::new(),
        };
        assert_eq!(
            href(&req, "sessions"),
            "/v1/reports/monthly?month=2026-10&scope=sector&sector=Nord%20%26%20Est\
             &format=csv&lang=fr&min_cell=5&part=sessions"
        );
    }
}
