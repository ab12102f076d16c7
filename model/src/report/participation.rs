//! The sex- and age-disaggregated participation table, with coverage figures.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::VisitId;
use crate::session::{AgeBand, Group, InterpreterSex, Participants, Session, Sex};
use crate::visit::Visit;

/// How rows of the table are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One row for everything.
    Overall,
    /// One row per team (key: team id).
    Team,
    /// One row per community (key: community id).
    Community,
    /// One row per month of the session's local date (key: `YYYY-MM`).
    Month,
}

/// Participants by sex × age band over a set of sessions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SexAgeTable {
    /// Sessions counted.
    pub sessions: u32,
    /// Summed participants. Sums are u64 so that no number of sessions overflows them.
    pub female: [u64; 5],
    /// Male participants by age band, in [`AgeBand::ALL`] order.
    pub male: [u64; 5],
    /// Undisclosed participants by age band, in [`AgeBand::ALL`] order.
    pub undisclosed: [u64; 5],
}

impl SexAgeTable {
    /// Counts one more session with these participants.
    pub fn add(&mut self, p: &Participants) {
        self.sessions += 1;
        for (i, band) in AgeBand::ALL.iter().enumerate() {
            self.female[i] += u64::from(p.female.get(*band));
            self.male[i] += u64::from(p.male.get(*band));
            self.undisclosed[i] += u64::from(p.undisclosed.get(*band));
        }
    }

    /// The counts of one sex, by age band in [`AgeBand::ALL`] order.
    pub fn of(&self, sex: Sex) -> &[u64; 5] {
        match sex {
            Sex::Female => &self.female,
            Sex::Male => &self.male,
            Sex::Undisclosed => &self.undisclosed,
        }
    }

    /// The count of one cell.
    pub fn get(&self, sex: Sex, band: AgeBand) -> u64 {
        let i = AgeBand::ALL.iter().position(|b| *b == band).unwrap_or(0);
        self.of(sex)[i]
    }

    /// Total of one sex.
    pub fn total_of(&self, sex: Sex) -> u64 {
        self.of(sex).iter().sum()
    }

    /// Total of one age band.
    pub fn total_of_band(&self, band: AgeBand) -> u64 {
        Sex::ALL.iter().map(|s| self.get(*s, band)).sum()
    }

    /// Grand total.
    pub fn total(&self) -> u64 {
        Sex::ALL.iter().map(|s| self.total_of(*s)).sum()
    }
}

/// How well the consultations followed the guidance: women consulted separately, women in
/// the teams, interpreters by sex.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Visits with at least one session counted.
    pub visits: u32,
    /// Of them, visits with a separate women's session.
    pub visits_with_women_session: u32,
    /// Sessions counted.
    pub sessions: u32,
    /// Of them, sessions with at least one woman facilitator.
    pub sessions_with_woman_facilitator: u32,
    /// Sessions without an interpreter.
    pub interpreters_none: u32,
    /// Sessions with a woman interpreter.
    pub interpreters_female: u32,
    /// Sessions with a man interpreter.
    pub interpreters_male: u32,
}

impl Coverage {
    /// Share (0–1) of visits with a separate women's session; `None` without visits.
    pub fn women_session_share(&self) -> Option<f64> {
        share(self.visits_with_women_session, self.visits)
    }

    /// Share (0–1) of sessions with at least one woman facilitator; `None` without sessions.
    pub fn woman_facilitator_share(&self) -> Option<f64> {
        share(self.sessions_with_woman_facilitator, self.sessions)
    }
}

fn share(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

/// The disaggregated table: one row per group key, the total, and coverage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ParticipationTable {
    /// Rows by key, in key order.
    pub rows: Vec<(String, SexAgeTable)>,
    /// All sessions together.
    pub total: SexAgeTable,
    /// Coverage over all sessions.
    pub coverage: Coverage,
}

impl ParticipationTable {
    /// Builds the table over sessions with their visits.
    pub fn compute<'a>(
        items: impl IntoIterator<Item = (&'a Visit, &'a Session)>,
        by: GroupBy,
    ) -> Self {
        let mut rows: BTreeMap<String, SexAgeTable> = BTreeMap::new();
        let mut total = SexAgeTable::default();
        let mut coverage = Coverage::default();
        let mut visits: BTreeSet<VisitId> = BTreeSet::new();
        let mut visits_with_women: BTreeSet<VisitId> = BTreeSet::new();

        for (visit, session) in items {
            let key = match by {
                GroupBy::Overall => String::new(),
                GroupBy::Team => visit.team_id.to_string(),
                GroupBy::Community => visit.community_id.to_string(),
                GroupBy::Month => session.started_at.format("%Y-%m").to_string(),
            };
            rows.entry(key).or_default().add(&session.participants);
            total.add(&session.participants);

            visits.insert(visit.id);
            if session.group == Group::Women {
                visits_with_women.insert(visit.id);
            }
            coverage.sessions += 1;
            if session.facilitators.female > 0 {
                coverage.sessions_with_woman_facilitator += 1;
            }
            match session.interpreter.sex {
                InterpreterSex::None => coverage.interpreters_none += 1,
                InterpreterSex::Female => coverage.interpreters_female += 1,
                InterpreterSex::Male => coverage.interpreters_male += 1,
            }
        }
        coverage.visits = u32::try_from(visits.len()).unwrap_or(u32::MAX);
        coverage.visits_with_women_session =
            u32::try_from(visits_with_women.len()).unwrap_or(u32::MAX);
        ParticipationTable {
            rows: rows.into_iter().collect(),
            total,
            coverage,
        }
    }
}
