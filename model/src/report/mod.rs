//! Report computations over sessions, pure so that device and server compute the same numbers.

pub mod paired;
pub mod participation;
pub mod text;

pub use paired::{ConcernTally, PairedComparison, PriorityKey, PriorityRow, PriorityStat};
pub use participation::{Coverage, GroupBy, ParticipationTable, SexAgeTable};
