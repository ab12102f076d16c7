//! Reports over the store, computed by `fieldconsult-model` so that the server gets the same
//! numbers from the same sessions.

use std::collections::HashMap;

use chrono::{Months, NaiveDate, NaiveTime};

use super::Store;
use super::sessions::SessionFilter;
use super::visits::visit_in;
use crate::error::Result;
use crate::progress::{NoProgress, Progress};
use fieldconsult_model::report::{
    GroupBy, Month, MonthlyReport, PairedComparison, ParticipationTable, ReportData, ReportOptions,
    ReportScope,
};
use fieldconsult_model::{Session, Visit, VisitId};

impl Store {
    /// Women's and men's views side by side over the sessions matching `filter` (a visit, a
    /// community, a period).
    pub fn paired_comparison(&self, filter: &SessionFilter) -> Result<PairedComparison> {
        self.paired_comparison_with(filter, &NoProgress)
    }

    /// [`Store::paired_comparison`] reporting progress, cancellable.
    pub fn paired_comparison_with(
        &self,
        filter: &SessionFilter,
        progress: &dyn Progress,
    ) -> Result<PairedComparison> {
        let sessions = self.sessions_matching(filter, progress)?;
        Ok(PairedComparison::compute(&sessions))
    }

    /// The sex × age-band participation table with coverage, over the sessions matching
    /// `filter`, one row per `by`.
    pub fn participation_table(
        &self,
        filter: &SessionFilter,
        by: GroupBy,
    ) -> Result<ParticipationTable> {
        self.participation_table_with(filter, by, &NoProgress)
    }

    /// [`Store::participation_table`] reporting progress, cancellable.
    pub fn participation_table_with(
        &self,
        filter: &SessionFilter,
        by: GroupBy,
        progress: &dyn Progress,
    ) -> Result<ParticipationTable> {
        let sessions = self.sessions_matching(filter, progress)?;
        let visits = self.visits_of(&sessions)?;
        let pairs = sessions
            .iter()
            .filter_map(|s| visits.get(&s.visit_id).map(|v| (v, s)));
        Ok(ParticipationTable::compute(pairs, by))
    }

    /// The monthly gender report of `scope` for `month` over what this device holds: a
    /// team member's phone holds its team's sessions, a focal point's its sector's. Earlier
    /// months are read too, for "communities never consulted with women".
    pub fn monthly_report(
        &self,
        scope: ReportScope,
        month: Month,
        options: ReportOptions,
    ) -> Result<MonthlyReport> {
        self.monthly_report_with(scope, month, options, &NoProgress)
    }

    /// [`Store::monthly_report`] reporting progress, cancellable.
    pub fn monthly_report_with(
        &self,
        scope: ReportScope,
        month: Month,
        options: ReportOptions,
        progress: &dyn Progress,
    ) -> Result<MonthlyReport> {
        // A session belongs to the month of its local date, up to 14 hours from UTC: read a
        // day past the month's end and let the report pick.
        let started_before = NaiveDate::from_ymd_opt(month.year(), month.month(), 1)
            .and_then(|first| first.checked_add_months(Months::new(1)))
            .and_then(|next| next.succ_opt())
            .map(|d| d.and_time(NaiveTime::MIN).and_utc());
        let filter = SessionFilter {
            started_before,
            ..SessionFilter::default()
        };
        let mut sessions = self.sessions_matching(&filter, progress)?;
        // Reports never need the sensitive fields (a referral counts as offered, whatever its
        // service); dropping them here means no renderer can leak them, whatever it does.
        for s in &mut sessions {
            *s = s.without_sensitive_fields();
        }
        let visits: Vec<Visit> = self
            .visits_of(&sessions)?
            .into_values()
            .map(|mut v| {
                v.notes.clear();
                v
            })
            .collect();
        let data = ReportData {
            teams: &self.teams()?,
            communities: &self.communities()?,
            visits: &visits,
            sessions: &sessions,
        };
        Ok(MonthlyReport::compute(scope, month, data, options))
    }

    fn visits_of(&self, sessions: &[Session]) -> Result<HashMap<VisitId, Visit>> {
        let mut visits: HashMap<VisitId, Visit> = HashMap::new();
        self.read(|tx| {
            for s in sessions {
                if let std::collections::hash_map::Entry::Vacant(e) = visits.entry(s.visit_id) {
                    e.insert(visit_in(tx, &s.visit_id)?);
                }
            }
            Ok(())
        })?;
        Ok(visits)
    }
}
