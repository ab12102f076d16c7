//! FieldConsult device core: the encrypted store a team records consultations in.
//!
//! [`Store`] holds everything on the device in one SQLCipher database. Every write is one
//! transaction that also appends to the outbox (what sync will push, urgent first) and to the
//! append-only history (who changed what, when). Validation and the status workflow come from
//! `fieldconsult-model`, so the device and the mission server apply the same rules.

pub mod error;
pub mod key;
pub mod progress;
pub mod store;
pub mod sync;

pub use error::{Error, Result};
pub use key::DatabaseKey;
pub use progress::{NoProgress, Progress};
pub use store::consent::Withdrawal;
pub use store::history::HistoryEntry;
pub use store::outbox::{Entity, OutboxEntry};
pub use store::sessions::{BadgeCounts, Page, SessionFilter, SessionRecord, SessionSummary};
pub use store::{Store, StoreOptions, StoreSettings};
pub use sync::{
    CertificateProblem, Enrolment, HttpRequest, HttpResponse, HttpsTransport,
    HttpsTransportBuilder, Method, SpkiPin, SyncReport, SyncState, TlsOptions, Transport,
    TransportError,
};
