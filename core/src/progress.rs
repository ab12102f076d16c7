//! Progress and cancellation of long operations (reports over many sessions, and later sync
//! and exports). The operation calls back between chunks of work, never while it holds the
//! database lock, so a slow listener cannot stall other calls.

/// Receives progress and may ask the operation to stop.
pub trait Progress: Send + Sync {
    /// `done` of `total` units of work are complete.
    fn on_progress(&self, done: u64, total: u64);

    /// Whether the operation should stop; it then ends with [`crate::Error::Cancelled`].
    fn is_cancelled(&self) -> bool {
        false
    }
}

/// Ignores progress and never cancels.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn on_progress(&self, _done: u64, _total: u64) {}
}
