//! The engine's tunables, with defaults a public deployment can keep.

use std::time::Duration;

use rolecall_core::Limits;

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
    /// Most bytes of a check's context: every key and value together (an integer counts
    /// 8 bytes, a bool 1). A larger one is refused before anything is decided.
    pub max_context_bytes: usize,
    /// Most bytes of one context value (a string's length).
    pub max_context_value_bytes: usize,
    /// Most bytes of a new tenant's profile text (the request body limit applies
    /// first to text sent over HTTP).
    pub max_profile_bytes: usize,
    /// Most terms in one expression of a new tenant's profile.
    pub max_expression_terms: usize,
    /// Most terms in all the expressions of a new tenant's profile together.
    pub max_profile_terms: usize,
    /// How long a token hash the store did not know is remembered as unknown (zero: not
    /// at all), so that the same unknown token presented again costs no store lookup.
    /// A token minted through this engine is forgotten from it at once; one minted by
    /// another process (`rolecall token create`, another node) is accepted here at the
    /// latest this long after someone presented it before it existed.
    pub negative_token_ttl: Duration,
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
        let profile = Limits::default();
        Self {
            revision_wait: Duration::from_secs(2),
            batch_limit: 1000,
            relation_batch_limit: 1000,
            checkpoint_every: 500,
            follow_poll: Duration::from_secs(1),
            catch_up_page: 50_000,
            max_context_bytes: 16 * 1024,
            max_context_value_bytes: 4 * 1024,
            max_profile_bytes: profile.max_profile_bytes,
            max_expression_terms: profile.max_expression_terms,
            max_profile_terms: profile.max_profile_terms,
            negative_token_ttl: Duration::from_secs(2),
            audit_window: Duration::from_secs(60),
            audit_retention: None,
            audit_actor_budget: 10_000,
        }
    }
}

impl Options {
    /// The limits a new tenant's profile is loaded within. (A stored tenant's profile,
    /// admitted when it was created, is loaded within the structural limits only, so
    /// that lowering these never keeps a tenant from starting.)
    pub fn profile_limits(&self) -> Limits {
        Limits {
            max_profile_bytes: self.max_profile_bytes,
            max_expression_terms: self.max_expression_terms,
            max_profile_terms: self.max_profile_terms,
        }
    }
}
