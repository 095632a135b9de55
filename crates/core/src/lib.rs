//! rolecall's decision core: the profile language, tenant state, compiled snapshots,
//! checks, explanations and the reference evaluator.
//!
//! Pure and synchronous: no I/O, no async, no clock (time is a parameter).
//! Callers read files and pass their text; every decision is a function of a
//! [`Snapshot`] and a [`Request`].

pub mod change;
pub mod decision;
pub mod expr;
pub(crate) mod graph;
pub mod mem;
pub mod pairs;
pub mod profile;
pub mod reference;
pub mod snapshot;
pub mod span;
pub mod state;
pub mod text;
pub mod world;

pub use change::{Change, Object, Tuple};
pub use decision::{Context, Decision, EvalError, Request};
pub use mem::MemState;
pub use profile::{Limits, Profile, load_profile, load_profile_with};
pub use snapshot::{ResolvedRequest, Snapshot};
pub use span::{Diagnostic, Diagnostics, Location};
pub use state::{Assignment, Entity, Scope, StateError, StatePath, TenantState};
pub use text::TextError;

pub(crate) fn profile_id_ok(id: &str) -> bool {
    profile::valid_id(id)
}

pub(crate) fn profile_quoted(items: &[String]) -> String {
    profile::quoted(items)
}
