//! The paired comparison: what women and what men of the same place said, side by side.
//!
//! Over any set of sessions (a visit, a community, a period): each priority with its rank in
//! the women's and in the men's sessions, what only women raised and what only men raised, and
//! the concerns by the group they affect, counted by who raised them. Mixed sessions appear in
//! their own column and do not count towards "only women" or "only men".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::session::{Group, Session};
use crate::taxonomy::{AffectedGroup, PriorityCategory, Urgency};
use crate::validation::MAX_PRIORITIES;

/// What a priority is about: a category, or the label of an `other` priority (compared
/// case-insensitively, so "Mobile clinic" and "mobile clinic" are one priority).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorityKey {
    /// A category of the taxonomy other than `other`.
    Category(PriorityCategory),
    /// An `other` priority, by its lower-cased, trimmed label.
    Other(String),
}

impl PriorityKey {
    /// The key of a priority.
    pub fn of(p: &crate::session::Priority) -> Self {
        match p.category {
            PriorityCategory::Other => PriorityKey::Other(p.other_label.trim().to_lowercase()),
            c => PriorityKey::Category(c),
        }
    }
}

/// How one group ranked one priority across its sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityStat {
    /// Sessions of the group that ranked it.
    pub sessions: u32,
    /// Its best (lowest) rank in any of them.
    pub best_rank: u8,
    /// Borda score: rank 1 scores 5, rank 5 scores 1, summed over sessions.
    pub score: u32,
}

/// One priority, side by side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityRow {
    /// The priority.
    pub key: PriorityKey,
    /// How women's sessions ranked it, if any did.
    pub women: Option<PriorityStat>,
    /// How men's sessions ranked it, if any did.
    pub men: Option<PriorityStat>,
    /// How mixed sessions ranked it, if any did.
    pub mixed: Option<PriorityStat>,
}

impl PriorityRow {
    fn total_score(&self) -> u32 {
        [self.women, self.men, self.mixed]
            .iter()
            .flatten()
            .map(|s| s.score)
            .sum()
    }
}

/// Concerns affecting one group, by who raised them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcernTally {
    /// The affected group.
    pub affected: AffectedGroup,
    /// Concerns raised in women's sessions.
    pub raised_by_women: u32,
    /// Concerns raised in men's sessions.
    pub raised_by_men: u32,
    /// Concerns raised in mixed sessions.
    pub raised_in_mixed: u32,
    /// How many of them were urgent.
    pub urgent: u32,
}

/// Women's and men's views side by side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairedComparison {
    /// Women's sessions compared.
    pub women_sessions: u32,
    /// Men's sessions compared.
    pub men_sessions: u32,
    /// Mixed sessions shown alongside.
    pub mixed_sessions: u32,
    /// Every priority raised, highest combined score first.
    pub priorities: Vec<PriorityRow>,
    /// Priorities raised in women's sessions and in no men's session.
    pub only_women: Vec<PriorityKey>,
    /// Priorities raised in men's sessions and in no women's session.
    pub only_men: Vec<PriorityKey>,
    /// Concerns by affected group, one row per group in taxonomy order.
    pub concerns: Vec<ConcernTally>,
}

impl PairedComparison {
    /// Compares the given sessions.
    pub fn compute<'a>(sessions: impl IntoIterator<Item = &'a Session>) -> Self {
        let mut rows: BTreeMap<PriorityKey, PriorityRow> = BTreeMap::new();
        let mut concerns: Vec<ConcernTally> = AffectedGroup::ALL
            .iter()
            .map(|g| ConcernTally {
                affected: *g,
                raised_by_women: 0,
                raised_by_men: 0,
                raised_in_mixed: 0,
                urgent: 0,
            })
            .collect();
        let (mut women, mut men, mut mixed) = (0, 0, 0);

        for s in sessions {
            match s.group {
                Group::Women => women += 1,
                Group::Men => men += 1,
                Group::Mixed => mixed += 1,
            }
            for p in &s.priorities {
                let key = PriorityKey::of(p);
                let row = rows.entry(key.clone()).or_insert_with(|| PriorityRow {
                    key,
                    women: None,
                    men: None,
                    mixed: None,
                });
                let slot = match s.group {
                    Group::Women => &mut row.women,
                    Group::Men => &mut row.men,
                    Group::Mixed => &mut row.mixed,
                };
                let score = u32::from((MAX_PRIORITIES as u8 + 1).saturating_sub(p.rank));
                let stat = slot.get_or_insert(PriorityStat {
                    sessions: 0,
                    best_rank: u8::MAX,
                    score: 0,
                });
                stat.sessions += 1;
                stat.best_rank = stat.best_rank.min(p.rank);
                stat.score += score;
            }
            for c in &s.concerns {
                for tally in concerns
                    .iter_mut()
                    .filter(|t| c.affected.contains(&t.affected))
                {
                    match s.group {
                        Group::Women => tally.raised_by_women += 1,
                        Group::Men => tally.raised_by_men += 1,
                        Group::Mixed => tally.raised_in_mixed += 1,
                    }
                    if c.urgency == Urgency::Urgent {
                        tally.urgent += 1;
                    }
                }
            }
        }

        let mut priorities: Vec<PriorityRow> = rows.into_values().collect();
        // Stable sort after the BTreeMap's key order: ties break by key, deterministically.
        priorities.sort_by_key(|r| std::cmp::Reverse(r.total_score()));
        let only_women = priorities
            .iter()
            .filter(|r| r.women.is_some() && r.men.is_none())
            .map(|r| r.key.clone())
            .collect();
        let only_men = priorities
            .iter()
            .filter(|r| r.men.is_some() && r.women.is_none())
            .map(|r| r.key.clone())
            .collect();
        PairedComparison {
            women_sessions: women,
            men_sessions: men,
            mixed_sessions: mixed,
            priorities,
            only_women,
            only_men,
            concerns,
        }
    }

    /// Whether both a women's and a men's session were compared.
    pub fn has_pair(&self) -> bool {
        self.women_sessions > 0 && self.men_sessions > 0
    }
}
