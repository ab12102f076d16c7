//! Headings and labels of the report in English and French. One struct per language, so a
//! label missing in one language does not compile. Labels of categories and groups come from
//! the model's taxonomies; the ones here are the report's own.
//!
//! A `{name}` in a label is filled in by [`fill`].

use fieldconsult_model::report::ReportScope;
use fieldconsult_model::{AgeBand, Group, InterpreterSex, Language, Sex, Status};

/// Every heading, column and sentence of the report, in one language.
#[derive(Clone, Copy, Debug)]
pub struct Labels {
    /// Document title.
    pub title: &'static str,
    /// "Month".
    pub month: &'static str,
    /// "Scope".
    pub scope: &'static str,
    /// Scope of a team report: `{name}`.
    pub scope_team: &'static str,
    /// Scope of a sector report: `{name}`.
    pub scope_sector: &'static str,
    /// Scope of a mission report.
    pub scope_mission: &'static str,
    /// What the figures count: `{accepted}`, `{pending}`, `{returned}`.
    pub basis: &'static str,
    /// The suppression rule in force: `{min_cell}`.
    pub suppression_on: &'static str,
    /// No suppression.
    pub suppression_off: &'static str,
    /// Shown in place of a hidden count. Not "<5": a cell hidden only because it would reveal
    /// another may hold any number.
    pub suppressed_cell: &'static str,
    /// Key to the hidden-cell mark.
    pub suppressed_key: &'static str,
    /// Section: participants by sex and age.
    pub participation: &'static str,
    /// Section: participants by team.
    pub participation_by_team: &'static str,
    /// Section: coverage.
    pub coverage: &'static str,
    /// Section: priorities side by side.
    pub priorities: &'static str,
    /// Subsection: the notes each group gave with its top priorities.
    pub in_their_words: &'static str,
    /// Section: every priority with every group's figures.
    pub all_priorities: &'static str,
    /// Section: concerns by affected group.
    pub concerns_by_affected: &'static str,
    /// Section: concerns by category.
    pub concerns_by_category: &'static str,
    /// Section: referrals offered.
    pub referrals: &'static str,
    /// Section: review state.
    pub review: &'static str,
    /// Section: the sessions behind the figures.
    pub sessions: &'static str,
    /// Under the sessions heading: how to trace a figure.
    pub sessions_note: &'static str,
    /// Under the sessions heading of a printed report that lists only some: `{shown}`,
    /// `{total}`.
    pub sessions_truncated: &'static str,
    /// Chart title: the participation pyramid.
    pub chart_pyramid: &'static str,
    /// Chart title: priorities side by side.
    pub chart_priorities: &'static str,
    /// Column: sex.
    pub sex: &'static str,
    /// Column: age band.
    pub age_band: &'static str,
    /// Column: total.
    pub total: &'static str,
    /// Column: team.
    pub team: &'static str,
    /// Column: community.
    pub community: &'static str,
    /// Column: date.
    pub date: &'static str,
    /// Column: session id.
    pub session: &'static str,
    /// Column: group (women, men, mixed).
    pub group: &'static str,
    /// Column: number of sessions.
    pub sessions_count: &'static str,
    /// Column: place in a group's ranking.
    pub place: &'static str,
    /// Column: priority.
    pub priority: &'static str,
    /// Column: Borda score.
    pub score: &'static str,
    /// Column: best rank given.
    pub best_rank: &'static str,
    /// Column: women's priorities.
    pub womens_priorities: &'static str,
    /// Column: men's priorities.
    pub mens_priorities: &'static str,
    /// Column: mixed sessions' priorities.
    pub mixed_priorities: &'static str,
    /// "Raised only by women".
    pub only_women: &'static str,
    /// "Raised only by men".
    pub only_men: &'static str,
    /// Column: affected group.
    pub affected: &'static str,
    /// Column: concern category.
    pub category: &'static str,
    /// Column: urgency.
    pub urgency: &'static str,
    /// Column: raised in women's sessions.
    pub raised_by_women: &'static str,
    /// Column: raised in men's sessions.
    pub raised_by_men: &'static str,
    /// Column: raised in mixed sessions.
    pub raised_in_mixed: &'static str,
    /// Under the concerns by affected group: a concern counts once per group it affects.
    pub concerns_note: &'static str,
    /// Coverage line: visits with a separate women's session.
    pub visits_with_women_session: &'static str,
    /// Coverage line: sessions with a woman facilitator.
    pub sessions_with_woman_facilitator: &'static str,
    /// Coverage line: interpreters by sex.
    pub interpreters: &'static str,
    /// Coverage line: communities consulted.
    pub communities_consulted: &'static str,
    /// Coverage list: communities never consulted with women.
    pub never_with_women: &'static str,
    /// Coverage list: communities consulted only in mixed groups.
    pub only_mixed: &'static str,
    /// Column: facilitators (F/M).
    pub facilitators: &'static str,
    /// Column: interpreter.
    pub interpreter: &'static str,
    /// Column: concerns.
    pub concerns: &'static str,
    /// Column: referral offered.
    pub referral: &'static str,
    /// "yes".
    pub yes: &'static str,
    /// "no".
    pub no: &'static str,
    /// "none" (an empty list).
    pub none: &'static str,
    /// "n/a" (a share of nothing).
    pub not_applicable: &'static str,
    /// In a chart with no data: nothing to show.
    pub no_data: &'static str,
    /// Footer: the report holds no sensitive note.
    pub footer: &'static str,
    /// Sexes, in [`Sex::ALL`] order.
    pub sexes: [&'static str; 3],
    /// Groups: women, men, mixed.
    pub groups: [&'static str; 3],
    /// Review states: pending, returned, accepted.
    pub review_states: [&'static str; 3],
    /// Interpreter: none, female, male.
    pub interpreter_sexes: [&'static str; 3],
    /// The age band `unknown` (the others are numbers).
    pub age_unknown: &'static str,
}

/// English.
pub const EN: Labels = Labels {
    title: "Monthly gender report",
    month: "Month",
    scope: "Scope",
    scope_team: "Team {name}",
    scope_sector: "Sector {name}",
    scope_mission: "Whole mission",
    basis: "Figures count the {accepted} accepted sessions of the month. {pending} more await review and {returned} were returned to their team.",
    suppression_on: "Counts of fewer than {min_cell} participants are hidden, with further cells where a hidden count could be worked out from a total.",
    suppression_off: "No counts are hidden.",
    suppressed_cell: "x",
    suppressed_key: "hidden to protect participants",
    participation: "Participants by sex and age",
    participation_by_team: "Participants by team",
    coverage: "Coverage",
    priorities: "Priorities of women and of men, side by side",
    in_their_words: "In their own words",
    all_priorities: "Every priority raised",
    concerns_by_affected: "Concerns by group affected and urgency",
    concerns_by_category: "Concerns by category",
    referrals: "Referrals offered (sessions)",
    review: "Review state of the month's sessions",
    sessions: "Sessions behind these figures",
    sessions_note: "Every figure above is a count or a sum over these sessions.",
    sessions_truncated: "The first {shown} of the {total} sessions are listed here; every one is in the CSV, XLSX and JSON files of this report.",
    chart_pyramid: "Participants by sex and age band",
    chart_priorities: "Top priorities: women and men (Borda score)",
    sex: "Sex",
    age_band: "Age",
    total: "Total",
    team: "Team",
    community: "Community",
    date: "Date",
    session: "Session",
    group: "Group",
    sessions_count: "Sessions",
    place: "Place",
    priority: "Priority",
    score: "Score",
    best_rank: "Best rank",
    womens_priorities: "Women's priorities",
    mens_priorities: "Men's priorities",
    mixed_priorities: "Mixed groups' priorities",
    only_women: "Raised only by women",
    only_men: "Raised only by men",
    affected: "Affecting",
    category: "Category",
    urgency: "Urgency",
    raised_by_women: "Raised by women",
    raised_by_men: "Raised by men",
    raised_in_mixed: "Raised in mixed groups",
    concerns_note: "A concern affecting several groups counts once in each of their rows.",
    visits_with_women_session: "Visits with a separate women's session",
    sessions_with_woman_facilitator: "Sessions with at least one woman facilitator",
    interpreters: "Interpreters",
    communities_consulted: "Communities consulted",
    never_with_women: "Communities never consulted with women",
    only_mixed: "Communities consulted only in mixed groups",
    facilitators: "Facilitators (F/M)",
    interpreter: "Interpreter",
    concerns: "Concerns",
    referral: "Referral offered",
    yes: "yes",
    no: "no",
    none: "none",
    not_applicable: "n/a",
    no_data: "Nothing to show for this month.",
    footer: "FieldConsult. This report holds no sensitive note and no name of a participant.",
    sexes: ["Female", "Male", "Undisclosed"],
    groups: ["Women", "Men", "Mixed"],
    review_states: ["Pending", "Returned", "Accepted"],
    interpreter_sexes: ["None", "Female", "Male"],
    age_unknown: "Unknown",
};

/// French.
pub const FR: Labels = Labels {
    title: "Rapport mensuel sur le genre",
    month: "Mois",
    scope: "Périmètre",
    scope_team: "Équipe {name}",
    scope_sector: "Secteur {name}",
    scope_mission: "Toute la mission",
    basis: "Les chiffres portent sur les {accepted} séances acceptées du mois. {pending} autres attendent la revue et {returned} ont été renvoyées à leur équipe.",
    suppression_on: "Les effectifs de moins de {min_cell} participants sont masqués, ainsi que d'autres cases là où un total permettrait de les retrouver.",
    suppression_off: "Aucun effectif n'est masqué.",
    suppressed_cell: "x",
    suppressed_key: "masqué pour protéger les participants",
    participation: "Participants par sexe et par âge",
    participation_by_team: "Participants par équipe",
    coverage: "Couverture",
    priorities: "Priorités des femmes et des hommes, côte à côte",
    in_their_words: "Avec leurs propres mots",
    all_priorities: "Toutes les priorités exprimées",
    concerns_by_affected: "Préoccupations par groupe concerné et par urgence",
    concerns_by_category: "Préoccupations par catégorie",
    referrals: "Orientations proposées (séances)",
    review: "État de la revue des séances du mois",
    sessions: "Séances à l'origine de ces chiffres",
    sessions_note: "Chaque chiffre ci-dessus est un décompte ou une somme sur ces séances.",
    sessions_truncated: "Les {shown} premières des {total} séances sont listées ici ; toutes figurent dans les fichiers CSV, XLSX et JSON de ce rapport.",
    chart_pyramid: "Participants par sexe et tranche d'âge",
    chart_priorities: "Priorités principales : femmes et hommes (score de Borda)",
    sex: "Sexe",
    age_band: "Âge",
    total: "Total",
    team: "Équipe",
    community: "Communauté",
    date: "Date",
    session: "Séance",
    group: "Groupe",
    sessions_count: "Séances",
    place: "Place",
    priority: "Priorité",
    score: "Score",
    best_rank: "Meilleur rang",
    womens_priorities: "Priorités des femmes",
    mens_priorities: "Priorités des hommes",
    mixed_priorities: "Priorités des groupes mixtes",
    only_women: "Exprimé seulement par les femmes",
    only_men: "Exprimé seulement par les hommes",
    affected: "Concernant",
    category: "Catégorie",
    urgency: "Urgence",
    raised_by_women: "Exprimé par les femmes",
    raised_by_men: "Exprimé par les hommes",
    raised_in_mixed: "Exprimé en groupe mixte",
    concerns_note: "Une préoccupation qui concerne plusieurs groupes compte une fois dans chacune de leurs lignes.",
    visits_with_women_session: "Visites avec une séance séparée pour les femmes",
    sessions_with_woman_facilitator: "Séances avec au moins une animatrice",
    interpreters: "Interprètes",
    communities_consulted: "Communautés consultées",
    never_with_women: "Communautés jamais consultées avec les femmes",
    only_mixed: "Communautés consultées seulement en groupe mixte",
    facilitators: "Animateurs (F/H)",
    interpreter: "Interprète",
    concerns: "Préoccupations",
    referral: "Orientation proposée",
    yes: "oui",
    no: "non",
    none: "aucune",
    not_applicable: "s.o.",
    no_data: "Rien à afficher pour ce mois.",
    footer: "FieldConsult. Ce rapport ne contient aucune note sensible ni aucun nom de participant.",
    sexes: ["Femmes", "Hommes", "Non précisé"],
    groups: ["Femmes", "Hommes", "Mixte"],
    review_states: ["En attente", "Renvoyées", "Acceptées"],
    interpreter_sexes: ["Aucun", "Femme", "Homme"],
    age_unknown: "Inconnu",
};

/// The note a printed report (HTML, PDF) puts under its list of sessions: what it shows,
/// and, past [`crate::PRINTED_SESSIONS`], where the rest is.
pub fn sessions_note(l: &Labels, total: usize) -> String {
    if total <= crate::PRINTED_SESSIONS {
        return l.sessions_note.to_owned();
    }
    let truncated = fill(
        l.sessions_truncated,
        &[
            ("shown", &crate::PRINTED_SESSIONS.to_string()),
            ("total", &total.to_string()),
        ],
    );
    format!("{} {truncated}", l.sessions_note)
}

/// The labels of `lang`.
pub fn of(lang: Language) -> &'static Labels {
    match lang {
        Language::En => &EN,
        Language::Fr => &FR,
    }
}

/// `template` with every `{key}` replaced by its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (key, value) in values {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    out
}

impl Labels {
    /// The label of a sex.
    pub fn sex(&self, sex: Sex) -> &'static str {
        self.sexes[Sex::ALL.iter().position(|s| *s == sex).unwrap_or(0)]
    }

    /// The label of a group.
    pub fn group(&self, group: Group) -> &'static str {
        match group {
            Group::Women => self.groups[0],
            Group::Men => self.groups[1],
            Group::Mixed => self.groups[2],
        }
    }

    /// The label of an age band ("18–29", …, or unknown).
    pub fn age_band(&self, band: AgeBand) -> &'static str {
        match band {
            AgeBand::Unknown => self.age_unknown,
            b => b.label(),
        }
    }

    /// The label of an interpreter's sex.
    pub fn interpreter_sex(&self, sex: InterpreterSex) -> &'static str {
        match sex {
            InterpreterSex::None => self.interpreter_sexes[0],
            InterpreterSex::Female => self.interpreter_sexes[1],
            InterpreterSex::Male => self.interpreter_sexes[2],
        }
    }

    /// The label of a review state; `None` for a draft, which no report counts.
    pub fn status(&self, status: Status) -> Option<&'static str> {
        match status {
            Status::Submitted => Some(self.review_states[0]),
            Status::Returned => Some(self.review_states[1]),
            Status::Accepted => Some(self.review_states[2]),
            Status::Draft => None,
        }
    }

    /// "Team Alpha", "Sector West", "Whole mission".
    pub fn scope_line(&self, scope: &ReportScope, name: &str) -> String {
        match scope {
            ReportScope::Team { .. } => fill(self.scope_team, &[("name", name)]),
            ReportScope::Sector { .. } => fill(self.scope_sector, &[("name", name)]),
            ReportScope::Mission => self.scope_mission.to_owned(),
        }
    }

    /// A published count: the number, or the hidden-cell mark.
    pub fn cell(&self, cell: Option<u64>, min_cell: u32) -> String {
        match cell {
            Some(n) => n.to_string(),
            None => fill(self.suppressed_cell, &[("min_cell", &min_cell.to_string())]),
        }
    }
}
