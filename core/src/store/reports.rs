//! Reports over the store, computed by `fieldconsult-model` so that the server gets the same
//! numbers from the same sessions.

use std::collections::HashMap;

use super::Store;
use super::sessions::SessionFilter;
use super::visits::visit_in;
use crate::error::Result;
use fieldconsult_model::report::{GroupBy, PairedComparison, ParticipationTable};
use fieldconsult_model::{Visit, VisitId};

impl Store {
    /// Women's and men's views side by side over the sessions matching `filter` (a visit, a
    /// community, a period).
    pub fn paired_comparison(&self, filter: &SessionFilter) -> Result<PairedComparison> {
        let sessions = self.sessions_matching(filter)?;
        Ok(PairedComparison::compute(&sessions))
    }

    /// The sex × age-band participation table with coverage, over the sessions matching
    /// `filter`, one row per `by`.
    pub fn participation_table(
        &self,
        filter: &SessionFilter,
        by: GroupBy,
    ) -> Result<ParticipationTable> {
        let sessions = self.sessions_matching(filter)?;
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
