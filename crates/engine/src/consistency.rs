//! How fresh a read must be, in the manner of Zanzibar's zookies and SpiceDB's
//! consistency options. Every write answers with the tenant's new revision; a client
//! that passes it back (`at_least_revision`) is answered from that revision or a later
//! one, on whichever node it reaches — so a check made after a revoke, with the revoke's
//! revision, never sees the state before it (the "new enemy" problem).

use std::sync::Arc;

use crate::error::EngineResult;
use crate::tenant::Tenant;
use crate::view::View;

/// The freshness a read asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consistency {
    /// This node's current state, whatever it is (the fastest; may lag other nodes by
    /// the follower's delay).
    #[default]
    MinimizeLatency,
    /// This revision or a later one: read from the change log at once if another node
    /// committed it, waited for (bounded) if not committed yet, else refused — never an
    /// older state.
    AtLeast(u64),
    /// Every write committed anywhere before the read began: the store's current
    /// revision is read first and applied.
    FullyConsistent,
}

impl From<Option<u64>> for Consistency {
    fn from(r: Option<u64>) -> Self {
        r.map_or(Consistency::MinimizeLatency, Consistency::AtLeast)
    }
}

impl Tenant {
    /// The view a read with consistency `c` is answered from.
    pub async fn read(&self, c: impl Into<Consistency>) -> EngineResult<Arc<View>> {
        match c.into() {
            Consistency::MinimizeLatency => Ok(self.current()),
            Consistency::AtLeast(r) => self.at_least(Some(r)).await,
            Consistency::FullyConsistent => self.fully_consistent().await,
        }
    }
}
