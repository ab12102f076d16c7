//! Small-cell suppression of the sex × age-band tables, so that no one is identifiable from a
//! published count ("the only woman over 60 who came").
//!
//! Primary suppression hides every count from 1 to `min_cell - 1`; zeros stay visible, as is
//! usual in statistical disclosure control. Complementary suppression then hides more cells
//! wherever a hidden count could be recovered by subtraction: in every row, column and
//! margin, a total equals the sum of its cells, so a line with exactly one hidden entry gives
//! it away. The smallest visible non-zero cell of that line is hidden too (or its total, when
//! only zeros are left; on the margins the grand total first), until no line has exactly one
//! hidden entry.

use serde::{Deserialize, Serialize};

use crate::report::participation::SexAgeTable;
use crate::session::{AgeBand, Sex};

/// A count of participants, or `None` where suppression hid it.
pub type Cell = Option<u64>;

/// A sex × age-band table after suppression: what a report may publish.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SexAgeCells {
    /// Female participants by age band, in [`AgeBand::ALL`] order.
    pub female: [Cell; 5],
    /// Male participants by age band.
    pub male: [Cell; 5],
    /// Participants who did not disclose their sex, by age band.
    pub undisclosed: [Cell; 5],
    /// Totals of female, male and undisclosed, in [`Sex::ALL`] order.
    pub sex_totals: [Cell; 3],
    /// Totals of each age band, all sexes together.
    pub band_totals: [Cell; 5],
    /// The grand total.
    pub total: Cell,
}

impl SexAgeCells {
    /// The cells of one sex, by age band.
    pub fn of(&self, sex: Sex) -> &[Cell; 5] {
        match sex {
            Sex::Female => &self.female,
            Sex::Male => &self.male,
            Sex::Undisclosed => &self.undisclosed,
        }
    }

    /// The total of one sex.
    pub fn total_of(&self, sex: Sex) -> Cell {
        self.sex_totals[sex_index(sex)]
    }

    /// The total of one age band.
    pub fn total_of_band(&self, band: AgeBand) -> Cell {
        self.band_totals[band_index(band)]
    }

    /// How many entries (cells and totals) are hidden.
    pub fn suppressed(&self) -> usize {
        self.entries().iter().filter(|c| c.is_none()).count()
    }

    fn entries(&self) -> Vec<Cell> {
        let mut all: Vec<Cell> = Vec::with_capacity(24);
        all.extend(self.female);
        all.extend(self.male);
        all.extend(self.undisclosed);
        all.extend(self.sex_totals);
        all.extend(self.band_totals);
        all.push(self.total);
        all
    }
}

fn sex_index(sex: Sex) -> usize {
    Sex::ALL.iter().position(|s| *s == sex).unwrap_or(0)
}

fn band_index(band: AgeBand) -> usize {
    AgeBand::ALL.iter().position(|b| *b == band).unwrap_or(0)
}

// The 24 entries of a table, as positions in one flat array: 15 cells (sex-major), 3 sex
// totals, 5 band totals, the grand total.
const SEX_TOTAL: usize = 15;
const BAND_TOTAL: usize = 18;
const GRAND_TOTAL: usize = 23;
/// Index in [`lines`] of the first margin line (3 sex rows and 5 band columns come first).
const MARGINS: usize = 8;

/// The lines of the table: each a list of cells whose sum is the line's last entry, a total.
fn lines() -> Vec<Vec<usize>> {
    let mut lines = Vec::new();
    for s in 0..3 {
        let mut line: Vec<usize> = (0..5).map(|b| s * 5 + b).collect();
        line.push(SEX_TOTAL + s);
        lines.push(line);
    }
    for b in 0..5 {
        let mut line: Vec<usize> = (0..3).map(|s| s * 5 + b).collect();
        line.push(BAND_TOTAL + b);
        lines.push(line);
    }
    let mut margin: Vec<usize> = (0..3).map(|s| SEX_TOTAL + s).collect();
    margin.push(GRAND_TOTAL);
    lines.push(margin);
    let mut margin: Vec<usize> = (0..5).map(|b| BAND_TOTAL + b).collect();
    margin.push(GRAND_TOTAL);
    lines.push(margin);
    lines
}

/// The publishable cells of `table`: counts below `min_cell` hidden, with complementary
/// suppression. `min_cell` of 0 or 1 hides nothing.
pub fn suppress(table: &SexAgeTable, min_cell: u32) -> SexAgeCells {
    let mut values = [0u64; 24];
    for (s, sex) in Sex::ALL.iter().enumerate() {
        for b in 0..5 {
            values[s * 5 + b] = table.of(*sex)[b];
        }
        values[SEX_TOTAL + s] = table.total_of(*sex);
    }
    for (b, band) in AgeBand::ALL.iter().enumerate() {
        values[BAND_TOTAL + b] = table.total_of_band(*band);
    }
    values[GRAND_TOTAL] = table.total();

    let threshold = u64::from(min_cell);
    let mut hidden: [bool; 24] = values.map(|v| v > 0 && v < threshold);
    let lines = lines();
    loop {
        let mut changed = false;
        for (n, line) in lines.iter().enumerate() {
            if line.iter().filter(|i| hidden[**i]).count() != 1 {
                continue;
            }
            // Hide the smallest visible non-zero cell of the line; failing that the total,
            // and a zero only as a last resort: a reader often knows a zero anyway (no men
            // in a women's session), so hiding one protects nothing. On the two margins the
            // grand total goes first: women's and men's totals are what a gender report is
            // read for.
            let (cells, total) = line.split_at(line.len() - 1);
            let visible = |i: &&usize| !hidden[**i];
            let smallest = cells
                .iter()
                .filter(visible)
                .filter(|i| values[**i] > 0)
                .min_by_key(|i| (values[**i], **i));
            let total = total.iter().find(visible);
            let pick = if n >= MARGINS {
                total.or(smallest)
            } else {
                smallest.or(total)
            }
            .or(cells.iter().find(visible));
            if let Some(i) = pick {
                hidden[*i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    let cell = |i: usize| (!hidden[i]).then_some(values[i]);
    let row = |s: usize| [0, 1, 2, 3, 4].map(|b| cell(s * 5 + b));
    SexAgeCells {
        female: row(0),
        male: row(1),
        undisclosed: row(2),
        sex_totals: [0, 1, 2].map(|s| cell(SEX_TOTAL + s)),
        band_totals: [0, 1, 2, 3, 4].map(|b| cell(BAND_TOTAL + b)),
        total: cell(GRAND_TOTAL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(female: [u64; 5], male: [u64; 5]) -> SexAgeTable {
        SexAgeTable {
            sessions: 1,
            female,
            male,
            undisclosed: [0; 5],
        }
    }

    #[test]
    fn nothing_is_hidden_without_a_threshold() {
        let t = table([1, 2, 0, 1, 0], [3, 0, 0, 0, 1]);
        for min_cell in [0, 1] {
            let c = suppress(&t, min_cell);
            assert_eq!(c.suppressed(), 0);
            assert_eq!(c.female, [Some(1), Some(2), Some(0), Some(1), Some(0)]);
            assert_eq!(c.total, Some(8));
        }
    }

    #[test]
    fn no_hidden_count_can_be_recovered_from_a_line() {
        let t = table([12, 3, 20, 9, 0], [15, 11, 30, 7, 0]);
        let c = suppress(&t, 5);
        let flat = c.entries();
        for line in lines() {
            let hidden = line.iter().filter(|i| flat[**i].is_none()).count();
            assert_ne!(hidden, 1, "line {line:?} has exactly one hidden entry");
        }
        assert_eq!(c.female[1], None, "3 < 5 is hidden");
        assert_eq!(c.total, Some(107));
    }

    #[test]
    fn zeros_and_large_counts_stay_visible_when_no_line_needs_them() {
        let t = table([10, 10, 0, 0, 0], [10, 10, 0, 0, 0]);
        let c = suppress(&t, 5);
        assert_eq!(c.suppressed(), 0);
    }
}
