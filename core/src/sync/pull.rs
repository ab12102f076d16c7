//! Pull: the server's changes after the stored cursor, in pages of [`MAX_PULL_PAGE`], each
//! applied in one transaction together with the cursor advance.

use super::{SyncReport, apply, call, checkpoint};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::store::Store;
use crate::store::sync::{Credentials, credentials};
use fieldconsult_model::wire::{MAX_PULL_PAGE, PullResponse};

/// Pulls until the server has nothing more. `done` is the work already reported by push.
pub(super) fn pull(
    store: &Store,
    transport: &dyn super::Transport,
    creds: &Credentials,
    progress: &dyn Progress,
    report: &mut SyncReport,
    done: u64,
) -> Result<()> {
    let mut cursor = store.read(credentials)?.map_or(0, |c| c.cursor);
    let mut done = done;
    loop {
        let page: PullResponse = call(
            transport,
            report,
            super::Method::Get,
            format!("/v1/pull?after={cursor}&limit={MAX_PULL_PAGE}"),
            Some(creds),
            Vec::new(),
        )?;
        if page.more && page.cursor <= cursor {
            return Err(Error::Protocol {
                what: "pull cursor did not advance",
            });
        }
        let applied = store.write(|tx| apply::apply_page(tx, &page.records, page.cursor))?;
        report.pulled += page.records.len() as u64;
        report.conflicts += applied.conflicts;
        cursor = page.cursor;
        done += page.records.len() as u64;
        if !page.more {
            progress.on_progress(done, done);
            return Ok(());
        }
        checkpoint(progress, done, done + u64::from(MAX_PULL_PAGE))?;
    }
}
