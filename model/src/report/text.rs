//! Plain-text renderings of the reports, for terminals: the demo, the examples and the admin
//! commands print the same tables. Labels in English or French.

use crate::checklist::Language;
use crate::report::paired::{PairedComparison, PriorityKey, PriorityStat};
use crate::report::participation::{Coverage, SexAgeTable};
use crate::session::{AgeBand, Sex};

/// The label of a priority: its category's, or the label of an `other` priority.
pub fn priority_label(key: &PriorityKey, lang: Language) -> String {
    match key {
        PriorityKey::Category(c) => c.label(lang).to_owned(),
        PriorityKey::Other(label) => label.clone(),
    }
}

/// An aligned table, one line per row: the first column left-aligned, the others right-aligned,
/// under a header and a rule. Widths count characters, so any script aligns.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::from(" ");
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = w.saturating_sub(c.chars().count());
            if i == 0 {
                out.push(' ');
                out.push_str(c);
                out.push_str(&" ".repeat(pad));
            } else {
                out.push_str("  ");
                out.push_str(&" ".repeat(pad));
                out.push_str(c);
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(&header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
    out += &line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>());
    for row in rows {
        out += &line(row);
    }
    out
}

/// Priorities side by side with the women's and men's best ranks, what only women and only
/// men raised, and the concerns by affected group.
pub fn paired_comparison(c: &PairedComparison, lang: Language) -> String {
    let rank = |s: Option<PriorityStat>| s.map_or("–".to_owned(), |s| s.best_rank.to_string());
    let rows: Vec<Vec<String>> = c
        .priorities
        .iter()
        .map(|r| vec![priority_label(&r.key, lang), rank(r.women), rank(r.men)])
        .collect();
    let mut out = table(&["Priority", "Women's rank", "Men's rank"], &rows);
    let list = |keys: &[PriorityKey]| {
        let labels: Vec<String> = keys.iter().map(|k| priority_label(k, lang)).collect();
        if labels.is_empty() {
            "–".to_owned()
        } else {
            labels.join(", ")
        }
    };
    out += &format!("Raised only by women: {}\n", list(&c.only_women));
    out += &format!("Raised only by men:   {}\n\n", list(&c.only_men));
    let rows: Vec<Vec<String>> = c
        .concerns
        .iter()
        .map(|t| {
            let counts = [t.raised_by_women, t.raised_by_men, t.urgent].map(|n| n.to_string());
            [t.affected.label(lang).to_owned()]
                .into_iter()
                .chain(counts)
                .collect()
        })
        .collect();
    out + &table(
        &[
            "Concerns affecting",
            "Raised by women",
            "Raised by men",
            "Urgent",
        ],
        &rows,
    )
}

/// Participants by sex (rows) and age band (columns), with totals.
pub fn participation(t: &SexAgeTable) -> String {
    let header: Vec<&str> = ["Sex"]
        .into_iter()
        .chain(AgeBand::ALL.map(AgeBand::label))
        .chain(["Total"])
        .collect();
    let row = |label: &str, cells: Vec<u64>, total: u64| -> Vec<String> {
        let numbers = cells.into_iter().chain([total]).map(|n| n.to_string());
        [label.to_owned()].into_iter().chain(numbers).collect()
    };
    let mut rows: Vec<Vec<String>> = [
        ("Female", Sex::Female),
        ("Male", Sex::Male),
        ("Undisclosed", Sex::Undisclosed),
    ]
    .into_iter()
    .map(|(label, sex)| row(label, t.of(sex).to_vec(), t.total_of(sex)))
    .collect();
    rows.push(row(
        "Total",
        AgeBand::ALL.map(|b| t.total_of_band(b)).to_vec(),
        t.total(),
    ));
    table(&header, &rows)
}

/// The coverage figures, one per line.
pub fn coverage(c: &Coverage) -> String {
    let pct = |s: Option<f64>| s.map_or("n/a".to_owned(), |s| format!("{:.0}%", s * 100.0));
    format!(
        "Visits with a separate women's session: {} of {} ({})\n\
         Sessions with a woman facilitator:      {} of {} ({})\n\
         Interpreters: {} female, {} male; {} session(s) without one\n",
        c.visits_with_women_session,
        c.visits,
        pct(c.women_session_share()),
        c.sessions_with_woman_facilitator,
        c.sessions,
        pct(c.woman_facilitator_share()),
        c.interpreters_female,
        c.interpreters_male,
        c.interpreters_none,
    )
}
