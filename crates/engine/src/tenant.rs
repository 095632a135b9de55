//! One tenant in memory: its current [`View`], swapped atomically on every write, and
//! the lock that serializes its writes. Reads never lock; a write is planned, applied
//! to a private copy of the state, validated by compiling the candidate snapshot,
//! authorized against it, committed to the store with its audit entries in one
//! transaction, and only then made visible.
//!
//! Other processes may write the same tenant (several nodes on one PostgreSQL): the
//! change log is the truth, and [`Tenant::catch_up`] applies what they committed, one
//! revision at a time, through the same patch as a local write. A write whose expected
//! revision the store refuses catches up and is planned and validated again against
//! the newer state.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use rolecall_core::{Change, MemState, Snapshot};
use rolecall_store::{Store, StoreError, TenantRecord};
use tokio::sync::{Mutex, watch};

use crate::actor::Actor;
use crate::command::{Candidate, Command, SodCheck, Written};
use crate::error::{EngineError, EngineResult};
use crate::history::AsOfCache;
use crate::shared::Shared;
use crate::view::{View, describe};

/// A node this many revisions behind reloads the whole state instead of replaying.
pub const RELOAD_AFTER: u64 = 10_000;

/// Attempts of a write that meets other nodes' commits before it is refused (each lost
/// race means another write succeeded, so the nodes as a whole always progress).
const WRITE_ATTEMPTS: u32 = 64;

/// A tenant: its current view and the lock that serializes its writes.
#[derive(Debug)]
pub struct Tenant {
    /// Id.
    pub id: String,
    pub(crate) shared: Arc<Shared>,
    current: ArcSwap<View>,
    /// Serializes writes, and keeps what lets a write mutate a state in place instead
    /// of cloning the whole tenant.
    write: Mutex<Writer>,
    revision_tx: watch::Sender<u64>,
    /// Snapshots of earlier revisions recently asked for.
    pub(crate) as_of: AsOfCache,
    /// The revision of the newest checkpoint stored by this process (0: none yet).
    checkpointed: AtomicU64,
}

/// The writer's reusable state.
#[derive(Debug, Default)]
struct Writer {
    /// The view the last write replaced, with that write's changes: once no reader
    /// holds it any more, its state plus those changes equals the current state.
    previous: Option<(Arc<View>, Vec<Change>)>,
}

impl Writer {
    /// A copy of the current state to mutate: the reclaimed previous view brought
    /// level, or (when a reader still holds it) a clone of `current`.
    fn take_state(&mut self, current: &View) -> MemState {
        if let Some((old, changes)) = self.previous.take()
            && old.revision + 1 == current.revision
            && let Ok(prev) = Arc::try_unwrap(old)
        {
            let mut m = prev.mem;
            for c in &changes {
                m.apply(&prev.profile, c);
            }
            return m;
        }
        current.mem.clone()
    }
}

impl Tenant {
    /// Loads a tenant from the store and compiles it. Its profile was admitted within
    /// the deployment's limits when the tenant was created; it is loaded again within
    /// the structural ones only (`Limits::unbounded`), so that lowering a tunable limit
    /// never keeps a stored tenant from loading.
    pub(crate) async fn load(shared: Arc<Shared>, record: TenantRecord) -> EngineResult<Tenant> {
        let profile = rolecall_core::load_profile_with(
            &format!("{}.toml", record.profile_id),
            &record.profile_text,
            &rolecall_core::Limits::unbounded(),
        )
        .map_err(|e| {
            EngineError::internal(format!(
                "tenant `{}`: its profile does not load: {e}",
                record.id
            ))
        })?;
        Self::load_with(shared, record, Arc::new(profile)).await
    }

    /// Loads a tenant whose profile (the record's text) is already loaded.
    pub(crate) async fn load_with(
        shared: Arc<Shared>,
        record: TenantRecord,
        profile: Arc<rolecall_core::Profile>,
    ) -> EngineResult<Tenant> {
        let loaded = shared.store.load_state(&record.id).await?;
        let revision = loaded.revision;
        let mem = MemState::from(loaded);
        let snapshot = Snapshot::build(profile.clone(), &mem.state).map_err(|e| {
            EngineError::internal(format!(
                "tenant `{}`: stored state does not compile: {}",
                record.id,
                describe(&e)
            ))
        })?;
        let (revision_tx, _) = watch::channel(revision);
        Ok(Tenant {
            id: record.id.clone(),
            shared,
            current: ArcSwap::from_pointee(View {
                record,
                profile,
                mem,
                snapshot: Arc::new(snapshot),
                revision,
            }),
            write: Mutex::new(Writer::default()),
            revision_tx,
            as_of: AsOfCache::default(),
            checkpointed: AtomicU64::new(revision),
        })
    }

    /// The current view.
    pub fn current(&self) -> Arc<View> {
        self.current.load_full()
    }

    /// The tenant's revision as this node sees it, for waiting on new ones: it moves
    /// on every local write and every revision the follower applies from other nodes.
    pub fn revisions(&self) -> watch::Receiver<u64> {
        self.revision_tx.subscribe()
    }

    /// Now, by the engine's clock (Unix seconds).
    pub fn now(&self) -> i64 {
        self.shared.clock.now()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.shared.store
    }

    /// The engine's options.
    pub fn options(&self) -> &crate::options::Options {
        &self.shared.options
    }

    /// The view at `revision` or later (`None`: the current view). A revision this node
    /// has not seen is read from the store's change log at once (another node wrote
    /// it); a revision not yet committed anywhere is waited for up to the engine's
    /// revision wait, then `RevisionUnavailable` — never an older view.
    pub async fn at_least(&self, revision: Option<u64>) -> EngineResult<Arc<View>> {
        let Some(want) = revision else {
            return Ok(self.current());
        };
        let cur = self.current();
        if cur.revision >= want {
            return Ok(cur);
        }
        let mut rx = self.revision_tx.subscribe();
        let wait = self.shared.options.revision_wait;
        let caught = async {
            // Another node may have committed it: read the log rather than wait for the
            // follower's notification. A store that cannot answer leaves the wait.
            if let Err(e) = self.catch_up().await {
                tracing::debug!(tenant = %self.id, error = %e, "catch-up for a read failed");
            }
            rx.wait_for(|r| *r >= want).await.map(|_| ())
        };
        match tokio::time::timeout(wait, caught).await {
            Ok(Ok(())) => Ok(self.current()),
            _ => Err(EngineError::RevisionUnavailable(format!(
                "revision {want} is not visible here yet (at {})",
                self.current().revision
            ))),
        }
    }

    /// The store's current revision applied here first: a read that sees every write
    /// committed before it started, on any node (`consistency=fully_consistent`).
    pub async fn fully_consistent(&self) -> EngineResult<Arc<View>> {
        self.catch_up().await?;
        Ok(self.current())
    }

    /// Applies what other processes committed since this node's revision; returns the
    /// revision reached.
    pub async fn catch_up(&self) -> EngineResult<u64> {
        let mut writer = self.write.lock().await;
        self.catch_up_locked(&mut writer).await
    }

    /// [`Tenant::catch_up`] under the write lock: the revisions of the change log after
    /// the current one are applied and patched like a local write (together, as one
    /// patch, when several are pending); a node far behind
    /// (more than [`RELOAD_AFTER`] revisions) reloads the whole state instead.
    async fn catch_up_locked(&self, writer: &mut Writer) -> EngineResult<u64> {
        let cur = self.current();
        let target = self.shared.store.revision(&self.id).await?;
        if target <= cur.revision {
            return Ok(cur.revision);
        }
        if target - cur.revision > RELOAD_AFTER {
            return self.reload_locked(writer).await;
        }
        // Every revision up to the target in one patch (the state is what applying them
        // in order gives, and one snapshot is built instead of one per revision), read a
        // page at a time; past a page of changes, the complete revisions read so far are
        // applied first, so memory stays bounded by about two pages.
        let mut batch: Vec<Change> = Vec::new();
        let mut batch_rev = cur.revision;
        let mut open: Vec<Change> = Vec::new();
        let mut open_rev = cur.revision;
        let (mut at_rev, mut at_seq) = (cur.revision, u32::MAX);
        let page = self.shared.options.catch_up_page.max(1);
        loop {
            let rows = self
                .shared
                .store
                .changes_after(&self.id, at_rev, at_seq, page)
                .await?;
            let full = rows.len() >= page as usize;
            let mut past_target = false;
            for r in rows {
                if r.revision > target {
                    past_target = true;
                    break;
                }
                (at_rev, at_seq) = (r.revision, r.seq);
                if r.revision != open_rev {
                    batch.append(&mut open);
                    batch_rev = open_rev;
                    open_rev = r.revision;
                }
                open.push(r.change);
            }
            if !full || past_target {
                break;
            }
            if batch.len() >= page as usize {
                self.apply_committed(writer, batch_rev, std::mem::take(&mut batch))?;
            }
        }
        batch.append(&mut open);
        let reached = if batch.is_empty() {
            // Revisions with no change (an empty batch) leave no log row.
            self.set_revision(writer, target)
        } else {
            self.apply_committed(writer, target, batch)?
        };
        Ok(reached)
    }

    /// Applies the committed `changes` up to `revision` (written by another process)
    /// and makes the result current.
    fn apply_committed(
        &self,
        writer: &mut Writer,
        revision: u64,
        changes: Vec<Change>,
    ) -> EngineResult<u64> {
        let cur = self.current();
        let mut mem = writer.take_state(&cur);
        for c in &changes {
            mem.apply(&cur.profile, c);
        }
        let snapshot = cur.snapshot.next(&cur.mem, &mem, &changes).map_err(|e| {
            EngineError::internal(format!(
                "tenant `{}`: revision {revision} from the change log does not compile: {}",
                self.id,
                describe(&e)
            ))
        })?;
        self.install(writer, cur, mem, Arc::new(snapshot), revision, changes);
        Ok(revision)
    }

    /// Moves the current view to `revision` without changes (a revision whose batch was
    /// empty).
    fn set_revision(&self, writer: &mut Writer, revision: u64) -> u64 {
        let cur = self.current();
        let mem = writer.take_state(&cur);
        let snapshot = cur.snapshot.clone();
        self.install(writer, cur, mem, snapshot, revision, Vec::new());
        revision
    }

    /// Replaces the current view by the whole state read from the store.
    async fn reload_locked(&self, writer: &mut Writer) -> EngineResult<u64> {
        let cur = self.current();
        let loaded = self.shared.store.load_state(&self.id).await?;
        let revision = loaded.revision;
        let mem = MemState::from(loaded);
        let snapshot = Snapshot::build(cur.profile.clone(), &mem.state).map_err(|e| {
            EngineError::internal(format!(
                "tenant `{}`: stored state does not compile: {}",
                self.id,
                describe(&e)
            ))
        })?;
        self.install(writer, cur, mem, Arc::new(snapshot), revision, Vec::new());
        // The replaced view's state is not one batch behind: never reuse it.
        writer.previous = None;
        Ok(revision)
    }

    /// Makes `mem` / `snapshot` at `revision` the current view; keeps the replaced one
    /// (with `changes`) for the next write to reuse.
    fn install(
        &self,
        writer: &mut Writer,
        cur: Arc<View>,
        mem: MemState,
        snapshot: Arc<Snapshot>,
        revision: u64,
        changes: Vec<Change>,
    ) -> Arc<View> {
        let mut record = cur.record.clone();
        record.revision = revision;
        let view = Arc::new(View {
            record,
            profile: cur.profile.clone(),
            mem,
            snapshot,
            revision,
        });
        let old = self.current.swap(view.clone());
        let _ = self.revision_tx.send(revision);
        writer.previous = Some((old, changes));
        view
    }

    /// Plans, validates, authorizes and commits `cmd` for `actor` as one revision. When
    /// another process committed first, this node catches up and plans the write again
    /// against the newer state (preconditions, authority, invariants and separation of
    /// duty all checked anew); it is refused only if that state makes it invalid.
    pub async fn execute(&self, actor: &Actor, cmd: &dyn Command) -> EngineResult<Written> {
        let mut writer = self.write.lock().await;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.try_execute(&mut writer, actor, cmd).await {
                Err(EngineError::Store(StoreError::Conflict { .. }))
                    if attempts < WRITE_ATTEMPTS =>
                {
                    if attempts > 2 {
                        // Contended: let the other nodes' writers through first.
                        let jitter = u64::from(rand::random::<u16>() % 2000);
                        let pause = u64::from(attempts.min(20)) * 500 + jitter;
                        tokio::time::sleep(std::time::Duration::from_micros(pause)).await;
                    }
                    self.catch_up_locked(&mut writer).await?;
                }
                other => return other,
            }
        }
    }

    /// One attempt of [`Tenant::execute`] against the current view.
    async fn try_execute(
        &self,
        writer: &mut Writer,
        actor: &Actor,
        cmd: &dyn Command,
    ) -> EngineResult<Written> {
        let now = self.now();
        let cur = self.current();
        let plan = cmd.plan(&cur, actor, now)?;
        // Text both backends store alike: no control characters, wherever they came from.
        for c in &plan.changes {
            c.check_text()
                .map_err(|e| EngineError::BadRequest(e.to_string()))?;
        }
        if let Some(e) = plan.expected_revision
            && e != cur.revision
        {
            return Err(EngineError::Conflict(format!(
                "revision conflict: expected {e}, the tenant is at {}",
                cur.revision
            )));
        }
        // INVARIANT: `writer.previous` is the view the last write or catch-up replaced
        // (revision one less than the current one) with its changes.
        let mut mem = writer.take_state(&cur);
        for c in &plan.changes {
            mem.apply(&cur.profile, c);
        }
        // Patch the current snapshot when every change allows it (sharing untouched
        // tables); otherwise rebuild, which validates everything.
        let snapshot = cur
            .snapshot
            .next(&cur.mem, &mem, &plan.changes)
            .map_err(|e| EngineError::Invalid(describe(&e)))?;
        check_rules(&cur, &mem, &snapshot, &plan, now)?;
        cmd.check_candidate(
            &cur,
            Candidate {
                mem: &mem,
                snapshot: &snapshot,
            },
            actor,
            now,
        )?;
        let audit = crate::audit::drafts(&cur.profile, &cur.mem, &mem, &plan.changes);
        let stored = self
            .shared
            .store
            .apply_audited(
                &self.id,
                Some(cur.revision),
                &plan.changes,
                &audit,
                &actor.name(),
                now,
            )
            .await;
        let revision = match stored {
            Ok(r) => r,
            Err(e) => {
                // The private copy was consumed: the next attempt clones the current state.
                writer.previous = None;
                return Err(e.into());
            }
        };
        let view = self.install(writer, cur, mem, Arc::new(snapshot), revision, plan.changes);
        self.maybe_checkpoint(view);
        Ok(Written {
            revision,
            created: plan.created,
        })
    }

    /// Stores a checkpoint of `view` in the background when enough revisions passed
    /// since the last one (a missing checkpoint only makes history reads replay more).
    fn maybe_checkpoint(&self, view: Arc<View>) {
        let every = self.shared.options.checkpoint_every;
        let last = self.checkpointed.load(Ordering::Relaxed);
        if every == 0 || view.revision < last.saturating_add(every) {
            return;
        }
        self.checkpointed.store(view.revision, Ordering::Relaxed);
        let (store, id) = (self.shared.store.clone(), self.id.clone());
        tokio::spawn(async move {
            let revision = view.revision;
            let encoded =
                tokio::task::spawn_blocking(move || crate::history::encode_checkpoint(&view.mem))
                    .await;
            let result = match encoded {
                Ok(Ok(data)) => store
                    .put_checkpoint(&id, revision, &data)
                    .await
                    .map_err(|e| e.to_string()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = result {
                tracing::warn!(tenant = %id, revision, error = %e, "checkpoint not stored");
            }
        });
    }
}

/// The profile's invariants (e.g. seats only upgrade) and, unless the plan says
/// otherwise, separation of duty for the users the write touches.
fn check_rules(
    cur: &View,
    mem: &MemState,
    snapshot: &Snapshot,
    plan: &crate::command::Plan,
    now: i64,
) -> EngineResult<()> {
    let broken =
        rolecall_core::profile::invariants::violations(&cur.profile, &cur.mem.state, &mem.state);
    if let Some(first) = broken.first() {
        return Err(EngineError::Invariant(first.clone()));
    }
    if plan.sod == SodCheck::Skip {
        return Ok(());
    }
    match snapshot
        .new_sod_violations(&cur.snapshot, &cur.mem, &plan.changes, now)
        .first()
    {
        None => Ok(()),
        Some(v) => Err(EngineError::SeparationOfDuty(format!(
            "`{}` would hold {} together, which separation-of-duty rule `{}` ({}) forbids",
            v.user,
            v.holding
                .iter()
                .map(|h| format!("`{h}`"))
                .collect::<Vec<_>>()
                .join(" and "),
            v.rule,
            v.name
        ))),
    }
}
