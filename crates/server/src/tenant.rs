//! One tenant in memory: its profile, state, compiled snapshot and revision, swapped
//! atomically on every write. Reads never lock; writes are serialized per tenant,
//! validated by building the new snapshot, then committed to the store.

use std::sync::Arc;

use arc_swap::ArcSwap;
use rolecall_core::{Change, MemState};
use rolecall_core::{Profile, Snapshot};
use rolecall_store::{Store, TenantRecord};
use tokio::sync::{Mutex, watch};

use crate::error::{ApiError, ApiResult};

/// A tenant's current, immutable view.
#[derive(Debug)]
pub struct Current {
    /// The stored record (name, profile id).
    pub record: TenantRecord,
    /// The profile.
    pub profile: Arc<Profile>,
    /// The state with its index.
    pub mem: MemState,
    /// The compiled snapshot.
    pub snapshot: Arc<Snapshot>,
    /// The revision this view is at.
    pub revision: u64,
}

/// A tenant: its current view and the lock that serializes its writes.
#[derive(Debug)]
pub struct Tenant {
    /// Id.
    pub id: String,
    current: ArcSwap<Current>,
    /// Serializes writes, and keeps what lets a write mutate a state in place instead
    /// of cloning the whole tenant.
    write: Mutex<Writer>,
    revision_tx: watch::Sender<u64>,
}

/// The writer's reusable state.
#[derive(Debug, Default)]
struct Writer {
    /// The view the last write replaced, with that write's changes: once no reader
    /// holds it any more, its state plus those changes equals the current state.
    previous: Option<(Arc<Current>, Vec<Change>)>,
}

impl Writer {
    /// A copy of the current state to mutate: the reclaimed previous view brought
    /// level, or (when a reader still holds it) a clone of `current`.
    fn take_state(&mut self, current: &Current) -> MemState {
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

/// Most changes in a batch applied by patching the snapshot rather than rebuilding it.
const PATCH_LIMIT: usize = 8;

/// The snapshot deltas a batch stands for, if every change has one.
fn patch_deltas<'c>(
    old: &'c MemState,
    changes: &'c [Change],
) -> Option<Vec<rolecall_core::snapshot::Delta<'c>>> {
    use rolecall_core::snapshot::Delta;
    // Each tuple patch rewrites its relation's store; past a few changes one rebuild
    // is cheaper than many patches.
    if changes.len() > PATCH_LIMIT {
        return None;
    }
    changes
        .iter()
        .map(|c| match c {
            Change::PutAssignment(a) => Some(Delta::Assignments {
                principal: &a.principal,
            }),
            Change::DeleteAssignment { id } => old
                .state
                .assignments
                .iter()
                .find(|a| a.id == *id)
                .map(|a| Delta::Assignments {
                    principal: &a.principal,
                }),
            Change::PutRelation(t) | Change::DeleteRelation(t) => Some(Delta::Tuple {
                rtype: &t.rtype,
                rid: &t.rid,
                relation: &t.relation,
                sid: &t.sid,
                put: matches!(c, Change::PutRelation(_)),
            }),
            Change::UpsertEntity {
                ty, id, attributes, ..
            } if old.entity(ty, id).is_some() => Some(Delta::Attributes { ty, id, attributes }),
            Change::SetSetting { key, value } => Some(Delta::Setting { key, value }),
            _ => None,
        })
        .collect()
}

/// Formats snapshot build errors for a client.
fn describe(errors: &[rolecall_core::StateError]) -> String {
    let mut msgs: Vec<String> = errors.iter().take(5).map(|e| e.message.clone()).collect();
    if errors.len() > 5 {
        msgs.push(format!("and {} more", errors.len() - 5));
    }
    msgs.join("; ")
}

impl Tenant {
    /// Loads a tenant from the store and compiles it.
    pub async fn load(store: &dyn Store, record: TenantRecord) -> anyhow::Result<Tenant> {
        let profile = rolecall_core::load_profile(
            &format!("{}.toml", record.profile_id),
            &record.profile_text,
        )
        .map_err(|e| anyhow::anyhow!("tenant `{}`: its profile does not load: {e}", record.id))?;
        let profile = Arc::new(profile);
        let loaded = store.load_state(&record.id).await?;
        let revision = loaded.revision;
        let mem = MemState::from(loaded);
        let snapshot = Snapshot::build(profile.clone(), &mem.state).map_err(|e| {
            anyhow::anyhow!(
                "tenant `{}`: stored state does not compile: {}",
                record.id,
                describe(&e)
            )
        })?;
        let (revision_tx, _) = watch::channel(revision);
        Ok(Tenant {
            id: record.id.clone(),
            current: ArcSwap::from_pointee(Current {
                record,
                profile,
                mem,
                snapshot: Arc::new(snapshot),
                revision,
            }),
            write: Mutex::new(Writer::default()),
            revision_tx,
        })
    }

    /// The current view.
    pub fn current(&self) -> Arc<Current> {
        self.current.load_full()
    }

    /// Waits until the tenant is at `revision` or later (up to `wait`), then returns the view.
    pub async fn at_least(
        &self,
        revision: Option<u64>,
        wait: std::time::Duration,
    ) -> ApiResult<Arc<Current>> {
        let Some(want) = revision else {
            return Ok(self.current());
        };
        let cur = self.current();
        if cur.revision >= want {
            return Ok(cur);
        }
        let mut rx = self.revision_tx.subscribe();
        let reached = tokio::time::timeout(wait, rx.wait_for(|r| *r >= want)).await;
        match reached {
            Ok(Ok(_)) => Ok(self.current()),
            _ => Err(ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "revision_unavailable",
                format!(
                    "revision {want} is not visible here yet (at {})",
                    self.current().revision
                ),
            )),
        }
    }

    /// Validates and commits `changes` as one revision; returns it. With `expected`,
    /// fails with 409 unless the tenant is at that revision. `check` may inspect the
    /// candidate state and snapshot (e.g. anti-escalation) and refuse the batch.
    pub async fn write<F>(
        &self,
        store: &dyn Store,
        changes: Vec<Change>,
        actor: &str,
        expected: Option<u64>,
        now: i64,
        check: F,
    ) -> ApiResult<u64>
    where
        F: FnOnce(&Current, &MemState, &Snapshot) -> ApiResult<()>,
    {
        self.write_inner(store, changes, actor, expected, now, true, check)
            .await
    }

    /// A write of separation-of-duty rules themselves: a new rule may already be broken
    /// (that is what `/sod-violations` lists), so it is not refused for that.
    pub async fn write_allowing_existing_sod(
        &self,
        store: &dyn Store,
        changes: Vec<Change>,
        actor: &str,
        now: i64,
    ) -> ApiResult<u64> {
        self.write_inner(store, changes, actor, None, now, false, |_, _, _| Ok(()))
            .await
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one private entry point for both kinds of write"
    )]
    async fn write_inner<F>(
        &self,
        store: &dyn Store,
        changes: Vec<Change>,
        actor: &str,
        expected: Option<u64>,
        now: i64,
        sod_check: bool,
        check: F,
    ) -> ApiResult<u64>
    where
        F: FnOnce(&Current, &MemState, &Snapshot) -> ApiResult<()>,
    {
        let mut writer = self.write.lock().await;
        let cur = self.current();
        if let Some(e) = expected
            && e != cur.revision
        {
            return Err(ApiError::conflict(format!(
                "revision conflict: expected {e}, the tenant is at {}",
                cur.revision
            )));
        }
        // INVARIANT: `writer.previous` is the view the last successful write replaced
        // (revision one less than the current one) with that write's changes.
        let mut mem = writer.take_state(&cur);
        for c in &changes {
            mem.apply(&cur.profile, c);
        }
        // Patch the current snapshot when every change allows it (sharing untouched
        // tables); otherwise rebuild, which validates everything.
        let snapshot = match patch_deltas(&cur.mem, &changes)
            .and_then(|d| cur.snapshot.patched(&mem.state, &d).ok())
        {
            Some(s) => s,
            None => Snapshot::build(cur.profile.clone(), &mem.state)
                .map_err(|e| ApiError::invalid(describe(&e)))?,
        };
        // Profile invariants (e.g. seats only upgrade) and separation of duty.
        let broken = rolecall_core::profile::invariants::violations(
            &cur.profile,
            &cur.mem.state,
            &mem.state,
        );
        if let Some(first) = broken.first() {
            return Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invariant",
                first.clone(),
            ));
        }
        if sod_check {
            let before: std::collections::BTreeSet<(String, String)> = cur
                .snapshot
                .sod_violations(now)
                .into_iter()
                .map(|v| (v.rule, v.user))
                .collect();
            if let Some(v) = snapshot
                .sod_violations(now)
                .into_iter()
                .find(|v| !before.contains(&(v.rule.clone(), v.user.clone())))
            {
                return Err(ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "separation_of_duty",
                    format!(
                        "`{}` would hold {} together, which separation-of-duty rule `{}` ({}) forbids",
                        v.user,
                        v.holding
                            .iter()
                            .map(|h| format!("`{h}`"))
                            .collect::<Vec<_>>()
                            .join(" and "),
                        v.rule,
                        v.name
                    ),
                ));
            }
        }
        check(&cur, &mem, &snapshot)?;
        let audit = crate::audit_log::drafts(&cur.profile, &cur.mem, &mem, &changes);
        let revision = store
            .apply_audited(&self.id, Some(cur.revision), &changes, &audit, actor, now)
            .await?;
        let mut record = cur.record.clone();
        record.revision = revision;
        let old = self.current.swap(Arc::new(Current {
            record,
            profile: cur.profile.clone(),
            mem,
            snapshot: Arc::new(snapshot),
            revision,
        }));
        let _ = self.revision_tx.send(revision);
        // Keep the replaced view: the next write reuses its state if no reader holds it.
        writer.previous = Some((old, changes));
        Ok(revision)
    }
}

/// Change-log rows read at once when replaying history.
const HISTORY_PAGE: u32 = 10_000;

/// The change-log rows after revision `after`, a page of whole revisions. A page of
/// `changes_since` may end inside a revision, and the next page (which starts after a
/// revision) would skip that revision's remaining rows: a full page therefore leaves its
/// last revision to the next one, and a revision larger than a page is read whole.
async fn whole_revisions(
    store: &dyn Store,
    tenant: &str,
    after: u64,
) -> ApiResult<Vec<rolecall_store::ChangeRecord>> {
    let mut limit = HISTORY_PAGE;
    loop {
        let mut rows = store.changes_since(tenant, after, limit).await?;
        if (rows.len() as u64) < u64::from(limit) {
            return Ok(rows);
        }
        let last = rows.last().map_or(0, |r| r.revision);
        if rows.first().is_some_and(|r| r.revision < last) {
            rows.retain(|r| r.revision < last);
            return Ok(rows);
        }
        if limit == u32::MAX {
            return Ok(rows);
        }
        limit = limit.saturating_mul(2);
    }
}

impl Tenant {
    /// The tenant's snapshot as it was at `revision`, rebuilt from the change log.
    pub async fn snapshot_at(&self, store: &dyn Store, revision: u64) -> ApiResult<Arc<Snapshot>> {
        let cur = self.current();
        if revision >= cur.revision {
            return Ok(cur.snapshot.clone());
        }
        let mut mem = MemState::new(rolecall_core::state::TenantState {
            tenant_id: cur.mem.state.tenant_id.clone(),
            tenant_name: cur.mem.state.tenant_name.clone(),
            ..Default::default()
        });
        let mut after = 0u64;
        'pages: loop {
            let rows = whole_revisions(store, &self.id, after).await?;
            if rows.is_empty() {
                break;
            }
            for r in rows {
                if r.revision > revision {
                    break 'pages;
                }
                after = r.revision;
                mem.apply(&cur.profile, &r.change);
            }
        }
        let snap = Snapshot::build(cur.profile.clone(), &mem.state).map_err(|e| {
            ApiError::internal(format!(
                "history does not compile at revision {revision}: {}",
                describe(&e)
            ))
        })?;
        Ok(Arc::new(snap))
    }

    /// The last revision written at or before time `t` (1, the creation, if none).
    pub async fn revision_at_time(&self, store: &dyn Store, t: i64) -> ApiResult<u64> {
        let mut after = 0u64;
        let mut best = 1u64;
        loop {
            let rows = whole_revisions(store, &self.id, after).await?;
            if rows.is_empty() {
                return Ok(best);
            }
            for r in rows {
                after = r.revision;
                if r.at <= t {
                    best = r.revision;
                } else {
                    return Ok(best);
                }
            }
        }
    }
}
