//! Write commands. A command is planned under its tenant's write lock against the
//! current view: it checks its own preconditions and the actor's authority there,
//! once, and says which changes it makes. The write path then applies them to a copy
//! of the state, compiles the candidate snapshot (which validates everything), lets the
//! command inspect the candidate (anti-escalation), checks the profile's invariants and
//! separation of duty, and commits.

use rolecall_core::{Change, MemState, Snapshot};

use crate::actor::Actor;
use crate::error::EngineResult;
use crate::view::View;

/// Whether a write is refused for separation-of-duty violations it adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SodCheck {
    /// Refuse any violation the write adds (every ordinary write).
    #[default]
    New,
    /// Do not (writes of the rules themselves: a new rule may already be broken, and
    /// `/sod-violations` lists who breaks it).
    Skip,
}

/// What a planned write does.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The changes, as one revision.
    pub changes: Vec<Change>,
    /// Refuse unless the tenant is at this revision.
    pub expected_revision: Option<u64>,
    /// Separation-of-duty policy.
    pub sod: SodCheck,
    /// Whether the write creates its main object (for a 201 rather than a 200).
    pub created: bool,
}

impl Plan {
    /// A plan of these changes, with the defaults.
    pub fn of(changes: Vec<Change>) -> Self {
        Plan {
            changes,
            ..Plan::default()
        }
    }
}

/// The state a write would produce, before it is committed.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The state after the changes.
    pub mem: &'a MemState,
    /// Its compiled snapshot.
    pub snapshot: &'a Snapshot,
}

/// A write command.
pub trait Command: Send + Sync {
    /// The changes to make against `view`, after checking preconditions and `actor`'s
    /// authority (runs under the tenant's write lock).
    fn plan(&self, view: &View, actor: &Actor, now: i64) -> EngineResult<Plan>;

    /// Checks that need the state after the write (e.g. nobody grants what they do not
    /// hold). By default none.
    fn check_candidate(
        &self,
        _view: &View,
        _candidate: Candidate<'_>,
        _actor: &Actor,
        _now: i64,
    ) -> EngineResult<()> {
        Ok(())
    }
}

/// A committed write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// The tenant's new revision.
    pub revision: u64,
    /// Whether the write created its main object.
    pub created: bool,
}
