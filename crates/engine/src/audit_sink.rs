//! The audit entries of sensitive decisions, written off the request path and
//! coalesced.
//!
//! **Group commit.** A decision's entry is handed to one background writer per engine,
//! which takes every entry waiting (up to [`MAX_BATCH`]) and appends them per tenant in
//! one transaction ([`rolecall_store::Store::append_audit_batch`]), in the order they
//! came; the request waits for that commit (a oneshot) before it answers, so no
//! decision is given whose evidence is not durable, and many requests share a commit.
//! The chain stays in order: one writer per process, and the store holds the tenant's
//! lock while it extends the chain.
//!
//! **Coalescing.** The same decision (tenant, actor, action, target and outcome) repeated
//! within the window ([`crate::Options::audit_window`]) after its first entry is not one
//! entry each: it is counted in a tally row in the same group commit (still durable
//! before the answer), and when the window has ended the tally becomes one chained
//! entry with its count, first and last time ([`rolecall_store::Store::
//! flush_audit_tallies`], run every [`FLUSH_EVERY`] and at start). Nothing is dropped:
//! every decision is either its own entry or counted in one.
//!
//! **Budget.** Distinct decisions (entries of their own) are limited per caller and
//! tenant to [`crate::Options::audit_actor_budget`] a minute: a check that would pass
//! it is refused (`RateLimited`, 429) before it is answered, so no decision is ever
//! given without its evidence, and one caller cannot grow the trail without bound by
//! varying what it asks about.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rolecall_store::{AuditAppend, AuditDraft, AuditTally, Store, StoreError};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::error::{EngineError, EngineResult};
use crate::shared::Shared;

/// Most entries one group commit appends.
pub const MAX_BATCH: usize = 4096;

/// Entries waiting for the writer before requests wait to hand theirs over.
const QUEUE: usize = 65_536;

/// How often ended tallies are written into the chain.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Open windows kept in memory before the ended ones are pruned.
const PRUNE_ABOVE: usize = 100_000;

/// Why a group commit failed, for every request in it.
#[derive(Debug, Clone)]
struct Failure {
    unavailable: bool,
    message: String,
}

impl From<Failure> for EngineError {
    fn from(f: Failure) -> Self {
        if f.unavailable {
            EngineError::Store(StoreError::Unreachable(f.message))
        } else {
            EngineError::Internal(format!("audit entry not written: {}", f.message))
        }
    }
}

enum Item {
    Entry(AuditAppend),
    Tally(AuditTally),
}

struct Pending {
    tenant: String,
    item: Item,
    done: oneshot::Sender<Result<(), Failure>>,
}

/// The engine's decision audit writer.
#[derive(Debug)]
pub(crate) struct AuditSink {
    tx: mpsc::Sender<Pending>,
    /// Open windows: decision key → the window's start (Unix seconds).
    windows: Mutex<HashMap<String, i64>>,
    window: i64,
    /// Entries of their own per (tenant, actor) this minute: (minute, count).
    spent: Mutex<HashMap<(String, String), (i64, u64)>>,
    budget: u64,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl AuditSink {
    /// A sink writing to `store`, its writer task started; `window` is the coalescing
    /// window (zero: every decision its own entry).
    pub(crate) fn start(store: Arc<dyn Store>, window: Duration, budget: u32) -> AuditSink {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, rx));
        AuditSink {
            tx,
            windows: Mutex::new(HashMap::new()),
            window: i64::try_from(window.as_secs()).unwrap_or(i64::MAX),
            spent: Mutex::new(HashMap::new()),
            budget: u64::from(budget),
        }
    }

    /// Records the entries of decisions `drafts` by `actor` in `tenant` at `now`, and
    /// returns once they are durable (each its own entry, or counted in its tally).
    /// `RateLimited`, recording nothing, when the entries of their own would pass the
    /// actor's budget for the minute.
    pub(crate) async fn record(
        &self,
        tenant: &str,
        actor: &str,
        drafts: Vec<AuditDraft>,
        now: i64,
    ) -> EngineResult<()> {
        let items = self.classify(tenant, actor, drafts, now)?;
        let mut waits = Vec::with_capacity(items.len());
        for item in items {
            let (done, wait) = oneshot::channel();
            let pending = Pending {
                tenant: tenant.to_owned(),
                item,
                done,
            };
            self.tx
                .send(pending)
                .await
                .map_err(|_| EngineError::internal("the audit writer has stopped"))?;
            waits.push(wait);
        }
        for wait in waits {
            wait.await
                .map_err(|_| EngineError::internal("the audit writer has stopped"))??;
        }
        Ok(())
    }

    /// The first decision of its key in a window is an entry; the rest of the window
    /// are counted. All or none: the entries of their own must fit the actor's budget.
    fn classify(
        &self,
        tenant: &str,
        actor: &str,
        drafts: Vec<AuditDraft>,
        now: i64,
    ) -> EngineResult<Vec<Item>> {
        let entry = |draft| {
            Item::Entry(AuditAppend {
                actor: actor.to_owned(),
                at: now,
                draft,
            })
        };
        let mut windows = self.windows.lock().map_err(EngineError::internal)?;
        let mut fresh: HashSet<String> = HashSet::new();
        let mut items: Vec<Option<(String, Option<i64>, AuditDraft)>> = Vec::new();
        for draft in drafts {
            if self.window <= 0 {
                items.push(Some((String::new(), None, draft)));
                continue;
            }
            let key = key_of(tenant, actor, &draft);
            let open = windows
                .get(&key)
                .copied()
                .filter(|start| now < start.saturating_add(self.window));
            // A key seen earlier in this same request is a repeat of it.
            let open = open.or_else(|| fresh.contains(&key).then_some(now));
            if open.is_none() {
                fresh.insert(key.clone());
            }
            items.push(Some((key, open, draft)));
        }
        let new_entries = items
            .iter()
            .flatten()
            .filter(|(_, open, _)| open.is_none())
            .count() as u64;
        self.spend(tenant, actor, new_entries, now)?;
        if windows.len() >= PRUNE_ABOVE {
            let w = self.window;
            windows.retain(|_, start| now < start.saturating_add(w));
        }
        for key in fresh {
            windows.insert(key, now);
        }
        Ok(items
            .into_iter()
            .flatten()
            .map(|(key, open, draft)| match open {
                Some(window_start) => Item::Tally(AuditTally {
                    key,
                    window_start,
                    actor: actor.to_owned(),
                    draft,
                    first_at: now,
                    last_at: now,
                    count: 1,
                }),
                None => entry(draft),
            })
            .collect())
    }

    /// Takes `n` entries of their own from the actor's budget for the current minute,
    /// or refuses them all.
    fn spend(&self, tenant: &str, actor: &str, n: u64, now: i64) -> EngineResult<()> {
        if self.budget == 0 || n == 0 {
            return Ok(());
        }
        let minute = now.div_euclid(60);
        let mut spent = self.spent.lock().map_err(EngineError::internal)?;
        if spent.len() >= PRUNE_ABOVE {
            spent.retain(|_, (m, _)| *m == minute);
        }
        let slot = spent
            .entry((tenant.to_owned(), actor.to_owned()))
            .or_insert((minute, 0));
        if slot.0 != minute {
            *slot = (minute, 0);
        }
        if slot.1.saturating_add(n) > self.budget {
            let wait = u32::try_from(60 - now.rem_euclid(60)).unwrap_or(60);
            return Err(EngineError::RateLimited(
                wait,
                format!(
                    "`{actor}` made more than {} distinct sensitive decisions this minute; \
                     each is audited, so further ones are refused until the next minute",
                    self.budget
                ),
            ));
        }
        slot.1 += n;
        Ok(())
    }

    /// The start of the oldest window that may still be open at `now`: tallies of
    /// windows begun before it have ended.
    pub(crate) fn ended_before(&self, now: i64) -> i64 {
        now.saturating_sub(self.window.max(0))
    }
}

/// What makes two decisions the same for coalescing: tenant, actor, action, target and
/// the recorded outcome (principal, allowed, error, obligations), hashed.
fn key_of(tenant: &str, actor: &str, d: &AuditDraft) -> String {
    let mut h = Sha256::new();
    for part in [
        tenant,
        actor,
        &d.action,
        &d.target,
        d.after.as_deref().unwrap_or(""),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The writer: every waiting entry (up to [`MAX_BATCH`]) per tenant in one transaction,
/// then each request told. Ends when the sink is dropped.
async fn write_batches(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Pending>) {
    let mut batch = Vec::new();
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let mut by_tenant: BTreeMap<String, Vec<Pending>> = BTreeMap::new();
        for p in batch.drain(..) {
            by_tenant.entry(p.tenant.clone()).or_default().push(p);
        }
        for (tenant, items) in by_tenant {
            let mut entries = Vec::new();
            let mut tallies: Vec<AuditTally> = Vec::new();
            let mut dones = Vec::with_capacity(items.len());
            for p in items {
                match p.item {
                    Item::Entry(e) => entries.push(e),
                    Item::Tally(t) => match tallies
                        .iter_mut()
                        .find(|x| x.key == t.key && x.window_start == t.window_start)
                    {
                        Some(x) => {
                            x.count += t.count;
                            x.first_at = x.first_at.min(t.first_at);
                            x.last_at = x.last_at.max(t.last_at);
                        }
                        None => tallies.push(t),
                    },
                }
                dones.push(p.done);
            }
            let result = store
                .append_audit_batch(&tenant, &entries, &tallies)
                .await
                .map_err(|e| Failure {
                    unavailable: e.is_unavailable(),
                    message: e.to_string(),
                });
            if let Err(f) = &result {
                tracing::warn!(tenant = %tenant, error = %f.message, "decision audit entries not written");
            }
            for done in dones {
                let _ = done.send(result.clone());
            }
        }
    }
}

/// Writes ended tallies into the chain every [`FLUSH_EVERY`] (the first at once), and
/// with a retention prunes every tenant's chain every [`PRUNE_EVERY`], until the
/// engine is dropped.
pub(crate) fn flush_periodically(shared: Weak<Shared>, tenants: Weak<crate::Engine>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune: Option<tokio::time::Instant> = None;
        loop {
            tick.tick().await;
            let Some(shared) = shared.upgrade() else {
                return;
            };
            if let Err(e) = flush(&shared).await {
                tracing::warn!(error = %e, "coalesced audit entries not written yet; retrying");
            }
            if shared.options.audit_retention.is_some()
                && last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY)
                && let Some(engine) = tenants.upgrade()
            {
                last_prune = Some(tokio::time::Instant::now());
                if let Err(e) = engine.prune_audit().await {
                    tracing::warn!(error = %e, "audit retention: pruning failed; retrying");
                }
            }
        }
    });
}

/// How often chains are pruned when a retention is set.
pub const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Writes every ended tally into the chain; returns how many entries.
pub(crate) async fn flush(shared: &Shared) -> EngineResult<u64> {
    let before = shared.audit.ended_before(shared.clock.now());
    Ok(shared.store.flush_audit_tallies(before).await?)
}
