//! The engine's tunables, with defaults a public deployment can keep.

use std::time::Duration;

/// Limits and timings of an [`crate::Engine`].
#[derive(Debug, Clone)]
pub struct Options {
    /// How long a read naming `at_least_revision` waits for it before giving up.
    pub revision_wait: Duration,
    /// Most checks in one batch.
    pub batch_limit: usize,
    /// Most tuples in one relation write.
    pub relation_batch_limit: usize,
    /// A checkpoint of a tenant's state is stored every this many revisions (0: never),
    /// so history reads replay at most this many revisions of the change log.
    pub checkpoint_every: u64,
    /// How often a node reads every tenant's revision from the store to follow the
    /// other nodes (notices wake it sooner on PostgreSQL).
    pub follow_poll: Duration,
    /// Change-log rows read per page while catching up with other nodes; past a page,
    /// the complete revisions read so far are applied before reading on.
    pub catch_up_page: u32,
    /// Identical sensitive decisions (same actor, action, target and outcome) within
    /// this window after the first are counted, not each written: one entry with the
    /// count when the window ends (zero: every decision its own entry).
    pub audit_window: Duration,
    /// Audit entries older than this are pruned from the front of each tenant's chain
    /// (every minute), the last pruned hash kept as the chain's root; `None`: kept
    /// forever.
    pub audit_retention: Option<Duration>,
    /// Most distinct sensitive decisions (entries of their own, repeats aside) one
    /// caller may have audited per minute in a tenant; beyond it a check is refused
    /// (429) before it is decided, so nothing goes unaudited (0: no limit).
    pub audit_actor_budget: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            revision_wait: Duration::from_secs(2),
            batch_limit: 1000,
            relation_batch_limit: 1000,
            checkpoint_every: 500,
            follow_poll: Duration::from_secs(1),
            catch_up_page: 50_000,
            audit_window: Duration::from_secs(60),
            audit_retention: None,
            audit_actor_budget: 10_000,
        }
    }
}
