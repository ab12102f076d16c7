//! Progress listeners and cancellation for long operations, implemented by the app.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Receives the progress of a long operation. Called from the thread running the operation,
/// never while the database is locked.
#[uniffi::export(with_foreign)]
pub trait ProgressListener: Send + Sync {
    /// `done` of `total` units of work are complete.
    fn on_progress(&self, done: u64, total: u64);
}

/// Cancels a long operation from any thread: the operation stops at its next checkpoint and
/// fails with `Cancelled`, having changed nothing.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancellationToken {
    cancelled: AtomicBool,
}

#[uniffi::export]
impl CancellationToken {
    /// A token not yet cancelled.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Asks the operation to stop.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

/// The app's listener and token as the core's `Progress`.
pub(crate) struct Adapter {
    pub(crate) listener: Option<Arc<dyn ProgressListener>>,
    pub(crate) token: Option<Arc<CancellationToken>>,
}

impl fieldconsult_core::Progress for Adapter {
    fn on_progress(&self, done: u64, total: u64) {
        if let Some(l) = &self.listener {
            l.on_progress(done, total);
        }
    }

    fn is_cancelled(&self) -> bool {
        self.token.as_ref().is_some_and(|t| t.is_cancelled())
    }
}
