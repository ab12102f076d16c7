//! The device's sync client (DESIGN.md "Sync"): enrolment, then push of the outbox and pull
//! of the server's changes, over any [`Transport`].
//!
//! A sync never reports success it did not have: a record leaves the outbox only when the
//! server's acknowledgement carries the hash of exactly what was sent; any failure of a
//! request acknowledges nothing of its batch and ends the sync with an error. Pulled pages
//! are applied each in one transaction together with the cursor advance. Progress is
//! reported, and cancellation checked, between requests, outside the database lock.

mod apply;
pub mod compress;
pub mod https;
mod pull;
mod push;
pub mod transport;
mod withdrawals;

use std::sync::atomic::Ordering;

use serde::de::DeserializeOwned;

pub use crate::store::sync::SyncState;
pub use https::{HttpsTransport, HttpsTransportBuilder, SpkiPin, TlsOptions};
pub use transport::{
    CertificateProblem, HttpRequest, HttpResponse, Method, Transport, TransportError,
};

use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::store::Store;
use crate::store::sync::{Credentials, credentials, save_enrolment};
use fieldconsult_model::Role;
use fieldconsult_model::crypto::sign::{SEED_LEN, SigningKey};
use fieldconsult_model::wire::{EnrolRequest, EnrolResponse, ProblemDetails, problem_types};

/// What one sync did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Records sent in push batches.
    pub pushed: u64,
    /// Records the server acknowledged with the hash of what was sent (now `synced`, or
    /// `pending` if edited meanwhile).
    pub acknowledged: u64,
    /// Records the server found built on an older version (now `conflict`).
    pub conflicts: u64,
    /// Records refused, or acknowledged with another hash (now `error`).
    pub rejected: u64,
    /// Records pulled and applied.
    pub pulled: u64,
    /// HTTP requests made.
    pub requests: u64,
    /// Bytes sent (bodies as on the wire, compressed).
    pub bytes_up: u64,
    /// Bytes received (bodies as on the wire).
    pub bytes_down: u64,
}

/// The device's enrolment, without its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    /// The device id the server issued.
    pub device_id: String,
    /// What the device may do and see.
    pub role: Role,
    /// The server address, when the transport told it.
    pub server_url: Option<String>,
}

impl Store {
    /// Enrols this device with a one-time `code` from a mission admin, and keeps the
    /// credentials in the encrypted store: a fresh Ed25519 key pair (the server registers
    /// the public half and accepts only pushes it signed) and the mission root key the
    /// server announces, pinned: reference data is then applied only from bundles that
    /// root key signed. `expected_root_fingerprint` (from the enrolment QR code) must match
    /// the announced key, or nothing is stored ([`Error::RootKeyMismatch`]). A new
    /// enrolment replaces an older one and pulls from the beginning. A refused code is
    /// [`Error::Unauthorized`] (or [`Error::Server`] with the problem type).
    pub fn enrol(
        &self,
        transport: &dyn Transport,
        code: &str,
        device_label: &str,
        expected_root_fingerprint: Option<&str>,
    ) -> Result<Enrolment> {
        let _running = Running::start(self)?;
        // A fresh key pair per enrolment: the secret never leaves this store.
        let mut seed = zeroize::Zeroizing::new([0u8; SEED_LEN]);
        getrandom::fill(&mut seed[..])
            .map_err(|_| Error::Io(std::io::Error::other("the random source failed")))?;
        let signing_key = SigningKey::from_seed(&seed);
        let body = serde_json::to_vec(&EnrolRequest {
            code: code.trim().to_owned(),
            device_label: device_label.trim().to_owned(),
            public_key: signing_key.public_key(),
        })
        .map_err(|_| Error::Protocol {
            what: "enrolment request",
        })?;
        let mut report = SyncReport::default();
        let response: EnrolResponse = call(
            transport,
            &mut report,
            Method::Post,
            "/v1/enrol".to_owned(),
            None,
            body,
        )?;
        if let Some(expected) = expected_root_fingerprint {
            let expected = expected.trim().to_ascii_lowercase();
            if response.root_key.map(|k| k.fingerprint()) != Some(expected) {
                return Err(Error::RootKeyMismatch);
            }
        }
        let server_url = transport.endpoint();
        self.write(|tx| {
            save_enrolment(
                tx,
                server_url.as_deref(),
                &response.device_id,
                &response.token,
                &response.role,
                &signing_key,
                response.root_key.as_ref(),
            )
        })?;
        Ok(Enrolment {
            device_id: response.device_id,
            role: response.role,
            server_url,
        })
    }

    /// The device's enrolment, if it has one.
    pub fn enrolment(&self) -> Result<Option<Enrolment>> {
        Ok(self.read(credentials)?.map(|c| Enrolment {
            device_id: c.device_id,
            role: c.role,
            server_url: c.server_url,
        }))
    }

    /// Pushes the outbox (urgent first, in bounded compressed batches), then pulls the
    /// server's changes after the stored cursor, page by page.
    ///
    /// Refuses to run twice at once ([`Error::Busy`]). With nothing to push it makes one
    /// request. Batches and pages completed before a failure or a cancellation stay done;
    /// the failing batch acknowledges nothing and its records go back to `pending`. A
    /// revoked device gets [`Error::Revoked`]: the store has then deleted its files and
    /// refuses every further call.
    pub fn sync(&self, transport: &dyn Transport, progress: &dyn Progress) -> Result<SyncReport> {
        let running = Running::start(self)?;
        let creds = self.read(credentials)?.ok_or(Error::NotEnrolled)?;
        if creds.signing_key.is_none() {
            // Enrolled before pushes were signed: the server would refuse every change.
            return Err(Error::NotEnrolled);
        }
        let mut report = SyncReport::default();
        let result = withdrawals::push_withdrawals(self, transport, &creds, &mut report)
            .and_then(|()| push::push(self, transport, &creds, progress, &mut report))
            .and_then(|done| pull::pull(self, transport, &creds, progress, &mut report, done));
        drop(running);
        match result {
            Ok(()) => Ok(report),
            Err(Error::Revoked) => {
                // The mission revoked this device: nothing of it may stay on the phone.
                self.close_and_delete()?;
                Err(Error::Revoked)
            }
            Err(e) => Err(e),
        }
    }
}

/// Marks a sync as running on a store until dropped.
struct Running<'a>(&'a Store);

impl<'a> Running<'a> {
    fn start(store: &'a Store) -> Result<Self> {
        store
            .syncing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map_err(|_| Error::Busy)?;
        Ok(Running(store))
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.syncing.store(false, Ordering::Release);
    }
}

/// Checks cancellation and reports progress; called between requests, outside the lock.
fn checkpoint(progress: &dyn Progress, done: u64, total: u64) -> Result<()> {
    progress.on_progress(done, total.max(done));
    if progress.is_cancelled() {
        return Err(Error::Cancelled);
    }
    Ok(())
}

/// Sends one request (a JSON `body`, compressed when not empty, with the bearer token when
/// given) and decodes a 2xx answer as `T`; maps problem answers to typed errors.
fn call<T: DeserializeOwned>(
    transport: &dyn Transport,
    report: &mut SyncReport,
    method: Method,
    path: String,
    creds: Option<&Credentials>,
    body: Vec<u8>,
) -> Result<T> {
    let mut headers = vec![
        ("accept".to_owned(), "application/json".to_owned()),
        (
            "accept-encoding".to_owned(),
            compress::ACCEPT_ENCODING.to_owned(),
        ),
    ];
    if let Some(c) = creds {
        headers.push(("authorization".to_owned(), format!("Bearer {}", c.token)));
    }
    let body = if body.is_empty() {
        body
    } else {
        headers.push(("content-type".to_owned(), "application/json".to_owned()));
        headers.push((
            "content-encoding".to_owned(),
            compress::PUSH_CODEC.token().to_owned(),
        ));
        compress::PUSH_CODEC.compress(&body)?
    };
    report.requests += 1;
    report.bytes_up += body.len() as u64;
    let response = transport.send(HttpRequest {
        method,
        path,
        headers,
        body,
    })?;
    report.bytes_down += response.body.len() as u64;
    let status = response.status;
    let encoding = response.header("content-encoding").map(str::to_owned);
    let body = compress::decode(encoding.as_deref(), response.body)?;
    if (200..300).contains(&status) {
        return serde_json::from_slice(&body).map_err(|_| Error::Protocol {
            what: "response body",
        });
    }
    let problem = serde_json::from_slice::<ProblemDetails>(&body)
        .map(|p| p.kind)
        .unwrap_or_default();
    Err(match (status, problem.as_str()) {
        (403, problem_types::REVOKED) => Error::Revoked,
        (401, _) => Error::Unauthorized,
        (_, problem_types::INVALID_ENROLMENT_CODE) => Error::Unauthorized,
        _ => Error::Server { status, problem },
    })
}
