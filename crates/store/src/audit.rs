//! The audit trail: every change and every sensitive decision, appended per tenant
//! with a SHA-256 chain (each entry's hash covers its fields and the previous hash),
//! so that altering or removing a stored entry is detected by [`crate::Store::verify_audit`].

use sha2::{Digest, Sha256};

/// An entry to append (the store assigns sequence, revision, time, actor and hashes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDraft {
    /// What happened, e.g. `role.update`, `assignment.create`, `decision.engagement.listen`.
    pub action: String,
    /// What it happened to, e.g. `role:team_lead`, `user:alice`.
    pub target: String,
    /// The target before (JSON), if it existed.
    pub before: Option<String>,
    /// The target after (JSON), if it exists.
    pub after: Option<String>,
}

/// An entry to append with its own actor and time (entries of many requests appended
/// together by one group commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditAppend {
    /// Who.
    pub actor: String,
    /// When, Unix seconds.
    pub at: i64,
    /// What.
    pub draft: AuditDraft,
}

/// Repetitions of one decision within a window, to add to its tally (see
/// [`crate::Store::append_audit_batch`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditTally {
    /// What identifies the decision (actor, action, target, outcome), as the caller
    /// computes it.
    pub key: String,
    /// When the window began (Unix seconds); the tally is one row per key and window.
    pub window_start: i64,
    /// Who.
    pub actor: String,
    /// The entry the tally stands for (written with its count when the window ends).
    pub draft: AuditDraft,
    /// The first and last time counted here.
    pub first_at: i64,
    /// The last time counted here.
    pub last_at: i64,
    /// How many.
    pub count: u64,
}

/// Where a verification of the chain may resume: the last entry found intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheckpoint {
    /// The entry's sequence number.
    pub seq: u64,
    /// Its hash.
    pub hash: String,
    /// When it was verified, Unix seconds.
    pub verified_at: i64,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the tenant's chain, from 1.
    pub seq: u64,
    /// The tenant revision it belongs to.
    pub revision: u64,
    /// When, Unix seconds.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What happened.
    pub action: String,
    /// To what.
    pub target: String,
    /// Before (JSON).
    pub before: Option<String>,
    /// After (JSON).
    pub after: Option<String>,
    /// The previous entry's hash (empty for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// Which entries to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditFilter {
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this target.
    pub target: Option<String>,
    /// Only actions starting with this prefix.
    pub action: Option<String>,
    /// At or after this time.
    pub from: Option<i64>,
    /// Before this time.
    pub to: Option<i64>,
    /// Only entries with a greater sequence number (paging forward).
    pub after_seq: Option<u64>,
    /// Only entries with a smaller sequence number (paging backward).
    pub before_seq: Option<u64>,
    /// Newest first (descending sequence numbers) instead of oldest first.
    pub newest_first: bool,
    /// At most this many (0 = 1,000).
    pub limit: u32,
}

/// The result of verifying a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    /// Entries checked.
    pub entries: u64,
    /// The first entry that fails, with why.
    pub first_bad: Option<(u64, String)>,
}

/// The result of verifying a chain from a checkpoint on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerified {
    /// Entries checked (after the checkpoint, when resuming).
    pub entries: u64,
    /// The first entry that fails, with why.
    pub first_bad: Option<(u64, String)>,
    /// Where it started: after this entry (`None`: the first entry).
    pub from: Option<(u64, String)>,
    /// The last entry found intact (sequence number and hash), if any.
    pub last: Option<(u64, String)>,
}

/// The hash of an entry: SHA-256 over its previous hash and every field, each
/// length-prefixed so that no two different entries hash the same input.
pub fn hash_of(r: &AuditRecord) -> String {
    compute(
        &r.prev_hash,
        r.seq,
        r.revision,
        r.at,
        &r.actor,
        &r.action,
        &r.target,
        r.before.as_deref(),
        r.after.as_deref(),
    )
}

/// The hash of an entry from its parts.
#[expect(
    clippy::too_many_arguments,
    reason = "the hash covers every field of an entry, listed explicitly"
)]
pub fn compute(
    prev: &str,
    seq: u64,
    revision: u64,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        h.update((b.len() as u64).to_be_bytes());
        h.update(b);
    };
    field(prev.as_bytes());
    field(&seq.to_be_bytes());
    field(&revision.to_be_bytes());
    field(&at.to_be_bytes());
    field(actor.as_bytes());
    field(action.as_bytes());
    field(target.as_bytes());
    field(before.unwrap_or("\u{0}none").as_bytes());
    field(after.unwrap_or("\u{0}none").as_bytes());
    let digest = h.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
