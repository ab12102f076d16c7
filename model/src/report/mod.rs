//! Report computations over sessions, pure so that device and server compute the same numbers.

pub mod monthly;
pub mod paired;
pub mod participation;
pub mod suppression;
pub mod text;

pub use monthly::{Month, MonthlyReport, ReportData, ReportInputs, ReportOptions, ReportScope};
pub use paired::{ConcernTally, PairedComparison, PriorityKey, PriorityRow, PriorityStat};
pub use participation::{Coverage, GroupBy, ParticipationTable, SexAgeTable};
pub use suppression::{Cell, SexAgeCells};
