//! What can go wrong in the engine, in its own words: the server maps each kind to an
//! HTTP status in one place, the CLI to an exit code. Messages name what is wrong and
//! where, with user input in backticks.

use rolecall_store::StoreError;

/// An engine error.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Malformed input (a bad id, a missing field, a field that does not belong).
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed input that the tenant's profile or state rejects.
    #[error("{0}")]
    Invalid(String),
    /// No such tenant or object (also what another tenant's objects look like).
    #[error("{0}")]
    NotFound(String),
    /// No credential, or an unknown or revoked one.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// A stale revision or version: read again and retry.
    #[error("{0}")]
    Conflict(String),
    /// The id is taken.
    #[error("{0}")]
    Exists(String),
    /// A template or other object that cannot be changed.
    #[error("{0}")]
    ReadOnly(String),
    /// The write would break one of the profile's invariants (e.g. seats only upgrade).
    #[error("{0}")]
    Invariant(String),
    /// The write would make someone hold what a separation-of-duty rule forbids together.
    #[error("{0}")]
    SeparationOfDuty(String),
    /// Too many requests of some kind from one caller or address: retry later.
    #[error("{0}")]
    Throttled(String),
    /// A read asked for a revision this node has not reached in time.
    #[error("{0}")]
    RevisionUnavailable(String),
    /// The caller made more distinct sensitive decisions than its audit budget allows
    /// in the current minute: refused, to be retried after `.0` seconds.
    #[error("{1}")]
    RateLimited(u32, String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bug or corrupt data: logged in full, reported generically.
    #[error("{0}")]
    Internal(String),
}

impl EngineError {
    /// An internal error, logged here with its detail.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        EngineError::Internal(detail.to_string())
    }
}

/// Result of an engine operation.
pub type EngineResult<T> = Result<T, EngineError>;
