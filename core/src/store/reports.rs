//! Reports over the store, computed by `fieldconsult-model` so that the server gets the same
//! numbers from the same sessions.

use std::collections::HashMap;

use super::Store;
use super::sessions::SessionFilter;
use super::visits::visit_in;
use crate::error::Result;
use crate::progress::{NoProgress, Progress};
use fieldconsult_model::report::{GroupBy, PairedComparison, ParticipationTable};
use fieldconsult_model::{Visit, VisitId};

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
        let mut visits: HashMap<VisitId, Visit> = HashMap::new();
        self.read(|tx| {
            for s in &sessions {
                if let std::collections::hash_map::Entry::Vacant(e) = visits.entry(s.visit_id) {
                    e.insert(visit_in(tx, &s.visit_id)?);
                }
            }
            Ok(())
        })?;
        let pairs = sessions
            .iter()
            .filter_map(|s| visits.get(&s.visit_id).map(|v| (v, s)));
        Ok(ParticipationTable::compute(pairs, by))
    }
}
