//! Report records: the paired comparison and the participation table.

use fieldconsult_model::report::{self, ConcernTally, Coverage, PriorityStat};
use fieldconsult_model::{AffectedGroup, AgeBand, PriorityCategory, Sex};

/// How one group ranked one priority.
#[uniffi::remote(Record)]
pub struct PriorityStat {
    pub sessions: u32,
    pub best_rank: u8,
    pub score: u32,
}

/// Concerns affecting one group, by who raised them.
#[uniffi::remote(Record)]
pub struct ConcernTally {
    pub affected: AffectedGroup,
    pub raised_by_women: u32,
    pub raised_by_men: u32,
    pub raised_in_mixed: u32,
    pub urgent: u32,
}

/// Coverage of the guidance: women consulted separately, women facilitators, interpreters.
#[uniffi::remote(Record)]
pub struct Coverage {
    pub visits: u32,
    pub visits_with_women_session: u32,
    pub sessions: u32,
    pub sessions_with_woman_facilitator: u32,
    pub interpreters_none: u32,
    pub interpreters_female: u32,
    pub interpreters_male: u32,
}

/// What a priority is about.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum PriorityKey {
    /// A category of the taxonomy.
    Category {
        /// The category.
        category: PriorityCategory,
    },
    /// An `other` priority, by its lower-cased label.
    Other {
        /// The label.
        label: String,
    },
}

/// One priority, women and men side by side.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PriorityRow {
    /// The priority.
    pub key: PriorityKey,
    /// Women's sessions' ranking.
    pub women: Option<PriorityStat>,
    /// Men's sessions' ranking.
    pub men: Option<PriorityStat>,
    /// Mixed sessions' ranking.
    pub mixed: Option<PriorityStat>,
}

/// Women's and men's views side by side.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PairedComparison {
    /// Women's sessions compared.
    pub women_sessions: u32,
    /// Men's sessions compared.
    pub men_sessions: u32,
    /// Mixed sessions alongside.
    pub mixed_sessions: u32,
    /// Every priority, highest combined score first.
    pub priorities: Vec<PriorityRow>,
    /// Raised by women only.
    pub only_women: Vec<PriorityKey>,
    /// Raised by men only.
    pub only_men: Vec<PriorityKey>,
    /// Concerns by affected group.
    pub concerns: Vec<ConcernTally>,
}

/// Participant totals of one sex by age band.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AgeTotals {
    /// 12–17.
    pub age_12_17: u64,
    /// 18–29.
    pub age_18_29: u64,
    /// 30–59.
    pub age_30_59: u64,
    /// 60+.
    pub age_60_plus: u64,
    /// Age unknown.
    pub unknown: u64,
    /// All ages.
    pub total: u64,
}

/// Participants by sex × age band over a set of sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SexAgeTable {
    /// Sessions counted.
    pub sessions: u32,
    /// Female participants.
    pub female: AgeTotals,
    /// Male participants.
    pub male: AgeTotals,
    /// Participants of undisclosed sex.
    pub undisclosed: AgeTotals,
    /// Everyone.
    pub total: u64,
}

/// One row of a participation table.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ParticipationRow {
    /// Team id, community id or `YYYY-MM`, by the grouping; empty for `Overall`.
    pub key: String,
    /// The counts.
    pub table: SexAgeTable,
}

/// The sex × age-band participation table with coverage.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ParticipationTable {
    /// Rows, by key.
    pub rows: Vec<ParticipationRow>,
    /// All sessions.
    pub total: SexAgeTable,
    /// Coverage figures.
    pub coverage: Coverage,
}

impl From<report::PriorityKey> for PriorityKey {
    fn from(k: report::PriorityKey) -> Self {
        match k {
            report::PriorityKey::Category(category) => PriorityKey::Category { category },
            report::PriorityKey::Other(label) => PriorityKey::Other { label },
        }
    }
}

impl From<report::PairedComparison> for PairedComparison {
    fn from(c: report::PairedComparison) -> Self {
        PairedComparison {
            women_sessions: c.women_sessions,
            men_sessions: c.men_sessions,
            mixed_sessions: c.mixed_sessions,
            priorities: c
                .priorities
                .into_iter()
                .map(|r| PriorityRow {
                    key: r.key.into(),
                    women: r.women,
                    men: r.men,
                    mixed: r.mixed,
                })
                .collect(),
            only_women: c.only_women.into_iter().map(Into::into).collect(),
            only_men: c.only_men.into_iter().map(Into::into).collect(),
            concerns: c.concerns,
        }
    }
}

fn age_totals(t: &report::SexAgeTable, sex: Sex) -> AgeTotals {
    AgeTotals {
        age_12_17: t.get(sex, AgeBand::Age12To17),
        age_18_29: t.get(sex, AgeBand::Age18To29),
        age_30_59: t.get(sex, AgeBand::Age30To59),
        age_60_plus: t.get(sex, AgeBand::Age60Plus),
        unknown: t.get(sex, AgeBand::Unknown),
        total: t.total_of(sex),
    }
}

impl From<&report::SexAgeTable> for SexAgeTable {
    fn from(t: &report::SexAgeTable) -> Self {
        SexAgeTable {
            sessions: t.sessions,
            female: age_totals(t, Sex::Female),
            male: age_totals(t, Sex::Male),
            undisclosed: age_totals(t, Sex::Undisclosed),
            total: t.total(),
        }
    }
}

impl From<report::ParticipationTable> for ParticipationTable {
    fn from(t: report::ParticipationTable) -> Self {
        ParticipationTable {
            rows: t
                .rows
                .iter()
                .map(|(key, table)| ParticipationRow {
                    key: key.clone(),
                    table: table.into(),
                })
                .collect(),
            total: (&t.total).into(),
            coverage: t.coverage,
        }
    }
}

/// Whose sessions a monthly report covers. On a device it can only count what the device
/// holds: a team member's phone its team's sessions, a focal point's its sector's.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ReportScope {
    /// One team.
    Team {
        /// The team's id.
        team_id: String,
    },
    /// Every team of a sector.
    Sector {
        /// The sector.
        sector: String,
    },
    /// Everything on this device.
    Mission,
}

/// The formats the app renders a monthly report in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ReportFormat {
    /// One printable HTML document with its charts, for a WebView, printing or sharing.
    Html,
    /// One CSV file per table, and one of the sessions behind them.
    Csv,
    /// The whole report as JSON.
    Json,
}

/// One file of a rendered report, ready to show or share.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ReportFile {
    /// File name, e.g. `gender-report-team-alpha-2026-10-en.html`.
    pub name: String,
    /// Media type, e.g. `text/html; charset=utf-8`.
    pub media_type: String,
    /// The content.
    pub content: Vec<u8>,
}

impl From<fieldconsult_report::ReportFile> for ReportFile {
    fn from(f: fieldconsult_report::ReportFile) -> Self {
        ReportFile {
            name: f.name,
            media_type: f.media_type.to_owned(),
            content: f.bytes,
        }
    }
}

impl From<ReportFormat> for fieldconsult_report::Format {
    fn from(f: ReportFormat) -> Self {
        match f {
            ReportFormat::Html => fieldconsult_report::Format::Html,
            ReportFormat::Csv => fieldconsult_report::Format::Csv,
            ReportFormat::Json => fieldconsult_report::Format::Json,
        }
    }
}
