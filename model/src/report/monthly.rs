//! The monthly gender report for the military gender adviser and headquarters: for a team, a
//! sector or the whole mission, over one month, everything the guidance asks a report to
//! show, disaggregated by sex and age, with women's and men's views side by side.
//!
//! Substantive figures (participation, coverage, priorities, concerns, referrals) count the
//! **accepted** sessions of the month: what a focal point has reviewed. The review state
//! counts every submitted session of the month, so a reader sees how much is still pending.
//! A session belongs to the month of its local start date, the day as the team lived it.
//!
//! Every figure is a count or sum over [`MonthlyReport::sessions`], the sessions behind the
//! report, so each number can be traced back to them. Sensitive notes never enter a report:
//! nothing here reads them.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::ids::{CommunityId, SessionId, TeamId, VisitId};
use crate::reference::{Community, Team};
use crate::report::paired::{PairedComparison, PriorityKey, PriorityRow, PriorityStat};
use crate::report::participation::{Coverage, GroupBy, ParticipationTable, SexAgeTable};
use crate::report::suppression::{SexAgeCells, suppress};
use crate::session::{Facilitators, Group, InterpreterSex, Session};
use crate::status::Status;
use crate::taxonomy::{AffectedGroup, ConcernCategory, Urgency};
use crate::visit::Visit;

/// A calendar month, written `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

/// Why a month could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("month must be written YYYY-MM, for example 2026-11")]
pub struct MonthError;

impl Month {
    /// The month `month` (1–12) of `year`; `None` for a month out of range.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|_| Month { year, month })
    }

    /// The month a date falls in.
    pub fn of(date: NaiveDate) -> Self {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month of the year, 1–12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// Whether `date` falls in this month.
    pub fn contains(self, date: NaiveDate) -> bool {
        Month::of(date) == self
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = MonthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (y, m) = s.trim().split_once('-').ok_or(MonthError)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(MonthError);
        }
        let year = y.parse().map_err(|_| MonthError)?;
        let month = m.parse().map_err(|_| MonthError)?;
        Month::new(year, month).ok_or(MonthError)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Whose sessions a report covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReportScope {
    /// One engagement team.
    Team {
        /// The team.
        team_id: TeamId,
    },
    /// Every team of a sector.
    Sector {
        /// The sector.
        sector: String,
    },
    /// Every team of the mission.
    Mission,
}

impl ReportScope {
    /// Whether the sessions of `team_id` (known as `team`, if the team is known) are in scope.
    pub fn includes(&self, team_id: TeamId, team: Option<&Team>) -> bool {
        match self {
            ReportScope::Team { team_id: id } => *id == team_id,
            ReportScope::Sector { sector } => team.is_some_and(|t| t.sector == *sector),
            ReportScope::Mission => true,
        }
    }
}

/// Choices a reader makes about a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportOptions {
    /// Participant counts from 1 to `min_cell - 1` are hidden (with complementary
    /// suppression); 0 or 1 hides nothing.
    pub min_cell: u32,
    /// How many top priorities of each group are set side by side.
    pub top_priorities: usize,
}

impl Default for ReportOptions {
    /// Hides counts below 5, the usual threshold for published tables, and shows five
    /// priorities per group, as many as a session ranks.
    fn default() -> Self {
        ReportOptions {
            min_cell: 5,
            top_priorities: 5,
        }
    }
}

/// What a report is computed from: the reference data and the sessions with their visits.
/// Anything may be passed; the report picks its scope and month itself.
#[derive(Clone, Copy, Debug)]
pub struct ReportData<'a> {
    /// The mission's teams.
    pub teams: &'a [Team],
    /// The communities (for their names).
    pub communities: &'a [Community],
    /// Visits of the sessions.
    pub visits: &'a [Visit],
    /// Sessions of any status and month; earlier months count for "never consulted with
    /// women".
    pub sessions: &'a [Session],
}

/// [`ReportData`] owned: what a server or a test loads before computing a report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportInputs {
    /// The mission's teams.
    pub teams: Vec<Team>,
    /// The communities.
    pub communities: Vec<Community>,
    /// Visits of the sessions.
    pub visits: Vec<Visit>,
    /// Sessions of any status and month.
    pub sessions: Vec<Session>,
}

impl ReportInputs {
    /// Borrowed, as [`MonthlyReport::compute`] reads it.
    pub fn data(&self) -> ReportData<'_> {
        ReportData {
            teams: &self.teams,
            communities: &self.communities,
            visits: &self.visits,
            sessions: &self.sessions,
        }
    }
}

/// A community by id and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CommunityRef {
    /// The community.
    pub id: CommunityId,
    /// Its name (empty if the community is not in the reference data).
    pub name: String,
}

/// Participation of one team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamParticipation {
    /// The team.
    pub team_id: TeamId,
    /// Its name.
    pub team: String,
    /// Its accepted sessions of the month.
    pub sessions: u32,
    /// Its participants, suppressed.
    pub participants: SexAgeCells,
}

/// Participants by sex × age band.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participation {
    /// All accepted sessions of the month together.
    pub total: SexAgeCells,
    /// One row per team, by team name (a team report has one).
    pub by_team: Vec<TeamParticipation>,
}

/// Whether the consultations followed the guidance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyCoverage {
    /// Visits, separate women's sessions, women facilitators, interpreters by sex.
    pub sessions: Coverage,
    /// Communities consulted this month.
    pub communities: Vec<CommunityRef>,
    /// Of them, those with no accepted women's session, this month or before.
    pub never_consulted_with_women: Vec<CommunityRef>,
    /// Of them, those whose every session this month was mixed.
    pub only_mixed: Vec<CommunityRef>,
}

/// One group's priority, at its place in that group's ranking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankedPriority {
    /// Place in the group's ranking, from 1.
    pub place: u32,
    /// The priority.
    pub key: PriorityKey,
    /// How the group's sessions ranked it.
    pub stat: PriorityStat,
    /// In their own words: the notes the group's sessions gave with this priority, the
    /// first [`MAX_VOICES`] in session order. Priority notes are the team's record of what
    /// was said, not the sensitive note, which no report reads.
    pub voices: Vec<String>,
}

/// Notes shown per priority and group.
pub const MAX_VOICES: usize = 3;

/// The top priorities of women and of men side by side, and what each raised alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrioritiesSideBySide {
    /// Women's top priorities, highest Borda score first.
    pub women: Vec<RankedPriority>,
    /// Men's top priorities.
    pub men: Vec<RankedPriority>,
    /// Mixed sessions' top priorities, shown apart.
    pub mixed: Vec<RankedPriority>,
    /// Raised in women's sessions and in no men's session.
    pub only_women: Vec<PriorityKey>,
    /// Raised in men's sessions and in no women's session.
    pub only_men: Vec<PriorityKey>,
    /// Every priority raised, with every group's figures.
    pub all: Vec<PriorityRow>,
}

/// Counts by who raised something: women's, men's and mixed sessions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByGroup {
    /// In women's sessions.
    pub women: u32,
    /// In men's sessions.
    pub men: u32,
    /// In mixed sessions.
    pub mixed: u32,
}

impl ByGroup {
    fn add(&mut self, group: Group) {
        match group {
            Group::Women => self.women += 1,
            Group::Men => self.men += 1,
            Group::Mixed => self.mixed += 1,
        }
    }

    /// The count of one group.
    pub fn of(&self, group: Group) -> u32 {
        match group {
            Group::Women => self.women,
            Group::Men => self.men,
            Group::Mixed => self.mixed,
        }
    }

    /// All groups together.
    pub fn total(&self) -> u32 {
        self.women + self.men + self.mixed
    }
}

/// Concerns affecting one group: who raised them and how urgent they were. A concern that
/// affects several groups counts in each of their rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcernsAffecting {
    /// The affected group.
    pub affected: AffectedGroup,
    /// Raised in women's, men's and mixed sessions.
    pub raised: ByGroup,
    /// Routine, priority and urgent concerns, in [`Urgency::ALL`] order.
    pub by_urgency: [u32; 3],
}

/// Concerns of one category, by who raised them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcernsOfCategory {
    /// The category.
    pub category: ConcernCategory,
    /// Raised in women's, men's and mixed sessions.
    pub raised: ByGroup,
    /// Of them, urgent.
    pub urgent: u32,
}

/// Where the month's submitted sessions stand in review.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewState {
    /// Submitted, not yet reviewed.
    pub pending: ByGroup,
    /// Returned to the team for changes.
    pub returned: ByGroup,
    /// Accepted: the sessions the figures count.
    pub accepted: ByGroup,
}

/// One concern of a session, without its notes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcernLine {
    /// The category.
    pub category: ConcernCategory,
    /// Who it affects.
    pub affected: BTreeSet<AffectedGroup>,
    /// How urgent.
    pub urgency: Urgency,
}

/// A session behind the report, with what every figure counts of it; no free text but the
/// label of an `other` priority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLine {
    /// The session.
    pub id: SessionId,
    /// Its visit.
    pub visit_id: VisitId,
    /// Local date it started.
    pub date: NaiveDate,
    /// The team's name.
    pub team: String,
    /// The community.
    pub community: CommunityRef,
    /// Women, men or mixed.
    pub group: Group,
    /// Participants, suppressed like the tables.
    pub participants: SexAgeCells,
    /// Facilitators by sex.
    pub facilitators: Facilitators,
    /// The interpreter's sex, or none.
    pub interpreter: InterpreterSex,
    /// Ranked priorities, rank 1 first.
    pub priorities: Vec<(u8, PriorityKey)>,
    /// Concerns.
    pub concerns: Vec<ConcernLine>,
    /// Whether a referral was offered.
    pub referral_offered: bool,
}

/// The monthly gender report. Serialises to the JSON the server and the app export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyReport {
    /// Whose sessions.
    pub scope: ReportScope,
    /// The team's name for a team report, the sector's for a sector report.
    pub scope_name: String,
    /// The month.
    pub month: Month,
    /// The options it was computed with.
    pub options: ReportOptions,
    /// Participants by sex × age band.
    pub participation: Participation,
    /// Coverage.
    pub coverage: MonthlyCoverage,
    /// Women's and men's priorities side by side.
    pub priorities: PrioritiesSideBySide,
    /// Concerns by affected group and urgency.
    pub concerns_by_affected: Vec<ConcernsAffecting>,
    /// Concerns by category.
    pub concerns_by_category: Vec<ConcernsOfCategory>,
    /// Sessions in which a referral was offered (counts only).
    pub referrals_offered: ByGroup,
    /// Review state of the month's submitted sessions.
    pub review: ReviewState,
    /// The accepted sessions every figure counts, oldest first.
    pub sessions: Vec<SessionLine>,
}

impl MonthlyReport {
    /// Computes the report of `scope` for `month` from `data`.
    pub fn compute(
        scope: ReportScope,
        month: Month,
        data: ReportData<'_>,
        options: ReportOptions,
    ) -> Self {
        let teams: HashMap<TeamId, &Team> = data.teams.iter().map(|t| (t.id, t)).collect();
        let communities: HashMap<CommunityId, &Community> =
            data.communities.iter().map(|c| (c.id, c)).collect();
        let visits: HashMap<VisitId, &Visit> = data.visits.iter().map(|v| (v.id, v)).collect();
        let community_ref = |id: CommunityId| CommunityRef {
            id,
            name: communities
                .get(&id)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
        };
        let team_name = |id: TeamId| teams.get(&id).map(|t| t.name.clone()).unwrap_or_default();

        // The sessions in scope, with their visit and local date, oldest first.
        let mut in_scope: Vec<(&Visit, &Session, NaiveDate)> = data
            .sessions
            .iter()
            .filter(|s| s.status != Status::Draft)
            .filter_map(|s| visits.get(&s.visit_id).map(|v| (*v, s)))
            .filter(|(v, _)| scope.includes(v.team_id, teams.get(&v.team_id).copied()))
            .map(|(v, s)| (v, s, s.started_at.date_naive()))
            .collect();
        in_scope.sort_by_key(|(_, s, _)| (s.started_at, s.id));

        let mut review = ReviewState::default();
        for (_, s, date) in &in_scope {
            if !month.contains(*date) {
                continue;
            }
            match s.status {
                Status::Submitted => review.pending.add(s.group),
                Status::Returned => review.returned.add(s.group),
                Status::Accepted => review.accepted.add(s.group),
                Status::Draft => {}
            }
        }

        let accepted: Vec<(&Visit, &Session, NaiveDate)> = in_scope
            .iter()
            .copied()
            .filter(|(_, s, _)| s.status == Status::Accepted)
            .collect();
        let month_items: Vec<(&Visit, &Session, NaiveDate)> = accepted
            .iter()
            .copied()
            .filter(|(_, _, d)| month.contains(*d))
            .collect();

        let table = ParticipationTable::compute(
            month_items.iter().map(|(v, s, _)| (*v, *s)),
            GroupBy::Team,
        );
        let mut by_team: Vec<TeamParticipation> = table
            .rows
            .iter()
            .filter_map(|(key, t)| {
                let id: TeamId = key.parse().ok()?;
                Some(TeamParticipation {
                    team_id: id,
                    team: team_name(id),
                    sessions: t.sessions,
                    participants: suppress(t, options.min_cell),
                })
            })
            .collect();
        by_team.sort_by_cached_key(|t| (natural_key(&t.team), t.team_id));

        let coverage = community_coverage(&accepted, month, &community_ref, table.coverage);
        let paired = PairedComparison::compute(month_items.iter().map(|(_, s, _)| *s));
        let mut priorities = side_by_side(paired, options.top_priorities);
        for (group, ranking) in [
            (Group::Women, &mut priorities.women),
            (Group::Men, &mut priorities.men),
            (Group::Mixed, &mut priorities.mixed),
        ] {
            for ranked in ranking.iter_mut() {
                ranked.voices = month_items
                    .iter()
                    .filter(|(_, s, _)| s.group == group)
                    .flat_map(|(_, s, _)| &s.priorities)
                    .filter(|p| !p.note.trim().is_empty() && PriorityKey::of(p) == ranked.key)
                    .map(|p| p.note.clone())
                    .take(MAX_VOICES)
                    .collect();
            }
        }

        let mut concerns_by_affected: Vec<ConcernsAffecting> = AffectedGroup::ALL
            .iter()
            .map(|a| ConcernsAffecting {
                affected: *a,
                raised: ByGroup::default(),
                by_urgency: [0; 3],
            })
            .collect();
        let mut concerns_by_category: Vec<ConcernsOfCategory> = ConcernCategory::ALL
            .iter()
            .map(|c| ConcernsOfCategory {
                category: *c,
                raised: ByGroup::default(),
                urgent: 0,
            })
            .collect();
        let mut referrals_offered = ByGroup::default();
        for (_, s, _) in &month_items {
            if s.referral.is_some() {
                referrals_offered.add(s.group);
            }
            for c in &s.concerns {
                let urgency = Urgency::ALL.iter().position(|u| *u == c.urgency);
                for row in concerns_by_affected
                    .iter_mut()
                    .filter(|r| c.affected.contains(&r.affected))
                {
                    row.raised.add(s.group);
                    if let Some(u) = urgency {
                        row.by_urgency[u] += 1;
                    }
                }
                if let Some(row) = concerns_by_category
                    .iter_mut()
                    .find(|r| r.category == c.category)
                {
                    row.raised.add(s.group);
                    if c.urgency == Urgency::Urgent {
                        row.urgent += 1;
                    }
                }
            }
        }

        let sessions = month_items
            .iter()
            .map(|(v, s, date)| SessionLine {
                id: s.id,
                visit_id: v.id,
                date: *date,
                team: team_name(v.team_id),
                community: community_ref(v.community_id),
                group: s.group,
                participants: suppress(&one_session_table(s), options.min_cell),
                facilitators: s.facilitators,
                interpreter: s.interpreter.sex,
                priorities: s
                    .priorities
                    .iter()
                    .map(|p| (p.rank, PriorityKey::of(p)))
                    .collect(),
                concerns: s
                    .concerns
                    .iter()
                    .map(|c| ConcernLine {
                        category: c.category,
                        affected: c.affected.clone(),
                        urgency: c.urgency,
                    })
                    .collect(),
                referral_offered: s.referral.is_some(),
            })
            .collect();

        let scope_name = match &scope {
            ReportScope::Team { team_id } => team_name(*team_id),
            ReportScope::Sector { sector } => sector.clone(),
            ReportScope::Mission => String::new(),
        };
        MonthlyReport {
            scope,
            scope_name,
            month,
            options,
            participation: Participation {
                total: suppress(&table.total, options.min_cell),
                by_team,
            },
            coverage,
            priorities,
            concerns_by_affected,
            concerns_by_category,
            referrals_offered,
            review,
            sessions,
        }
    }
}

/// A sort key that orders names as people read them: "Team 2" before "Team 10". Runs of
/// digits compare by value, the rest as text.
fn natural_key(name: &str) -> Vec<(String, u128)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in name.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                key.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u128::MAX),
                ));
                digits.clear();
            }
            text.push(c);
        }
    }
    key.push((text, digits.parse().unwrap_or(0)));
    key
}

fn one_session_table(s: &Session) -> SexAgeTable {
    let mut t = SexAgeTable::default();
    t.add(&s.participants);
    t
}

fn community_coverage(
    accepted: &[(&Visit, &Session, NaiveDate)],
    month: Month,
    community_ref: &dyn Fn(CommunityId) -> CommunityRef,
    sessions: Coverage,
) -> MonthlyCoverage {
    // Groups heard per community this month, and whether women were ever heard separately
    // up to the month's end.
    let mut groups_this_month: BTreeMap<CommunityId, BTreeSet<Group>> = BTreeMap::new();
    let mut women_ever: BTreeSet<CommunityId> = BTreeSet::new();
    for (v, s, date) in accepted {
        if Month::of(*date) > month {
            continue;
        }
        if s.group == Group::Women {
            women_ever.insert(v.community_id);
        }
        if month.contains(*date) {
            groups_this_month
                .entry(v.community_id)
                .or_default()
                .insert(s.group);
        }
    }
    let sorted = |ids: Vec<CommunityId>| {
        let mut refs: Vec<CommunityRef> = ids.into_iter().map(community_ref).collect();
        refs.sort_by_cached_key(|c| (natural_key(&c.name), c.id));
        refs
    };
    MonthlyCoverage {
        sessions,
        communities: sorted(groups_this_month.keys().copied().collect()),
        never_consulted_with_women: sorted(
            groups_this_month
                .keys()
                .filter(|c| !women_ever.contains(c))
                .copied()
                .collect(),
        ),
        only_mixed: sorted(
            groups_this_month
                .iter()
                .filter(|(_, g)| g.iter().all(|g| *g == Group::Mixed))
                .map(|(c, _)| *c)
                .collect(),
        ),
    }
}

fn side_by_side(paired: PairedComparison, top: usize) -> PrioritiesSideBySide {
    let ranking = |pick: fn(&PriorityRow) -> Option<PriorityStat>| {
        let mut rows: Vec<(PriorityKey, PriorityStat)> = paired
            .priorities
            .iter()
            .filter_map(|r| pick(r).map(|s| (r.key.clone(), s)))
            .collect();
        // Highest score first; ties by more sessions, then by better rank, then by key.
        rows.sort_by_key(|(key, s)| {
            (
                Reverse(s.score),
                Reverse(s.sessions),
                s.best_rank,
                key.clone(),
            )
        });
        (1u32..)
            .zip(rows)
            .take(top)
            .map(|(place, (key, stat))| RankedPriority {
                place,
                key,
                stat,
                voices: Vec::new(),
            })
            .collect::<Vec<_>>()
    };
    PrioritiesSideBySide {
        women: ranking(|r| r.women),
        men: ranking(|r| r.men),
        mixed: ranking(|r| r.mixed),
        only_women: paired.only_women.clone(),
        only_men: paired.only_men.clone(),
        all: paired.priorities,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_as_people_read_them() {
        let mut names = [
            "Team 10", "Team 2", "Team 1", "Bravo", "Alpha 3b", "Alpha 3a", "Team 02",
        ];
        names.sort_by_key(|n| natural_key(n));
        assert_eq!(
            names,
            [
                "Alpha 3a", "Alpha 3b", "Bravo", "Team 1", "Team 2", "Team 02", "Team 10"
            ]
        );
    }

    #[test]
    fn months_read_and_write_as_yyyy_mm() {
        let m: Month = "2026-03".parse().unwrap_or_else(|_| panic!("valid month"));
        assert_eq!(m.to_string(), "2026-03");
        assert_eq!((m.year(), m.month()), (2026, 3));
        for bad in ["2026-13", "2026-3", "26-03", "march", "2026-00", ""] {
            assert_eq!(bad.parse::<Month>(), Err(MonthError), "{bad}");
        }
    }

    #[test]
    fn a_month_contains_its_first_and_last_day_only() {
        let m = Month::new(2026, 2).unwrap_or_else(|| panic!("valid month"));
        let day = |y, mo, d| NaiveDate::from_ymd_opt(y, mo, d).unwrap_or_default();
        assert!(m.contains(day(2026, 2, 1)));
        assert!(m.contains(day(2026, 2, 28)));
        assert!(!m.contains(day(2026, 3, 1)));
        assert!(!m.contains(day(2025, 2, 15)));
    }
}
