//! A tenant's past: its snapshot as of an earlier revision or time. The state at a
//! revision is the newest stored checkpoint at or before it plus the change log from
//! there; a write stores a checkpoint every few hundred revisions (see
//! [`crate::Options::checkpoint_every`]), so a history read replays at most that many
//! revisions, never the whole log. The last few snapshots asked for stay in memory.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rolecall_core::state::TenantState;
use rolecall_core::{MemState, Snapshot};
use rolecall_store::{ChangeRecord, Store};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, EngineResult};
use crate::tenant::Tenant;
use crate::view::describe;

/// Change-log rows read at once when replaying history.
const HISTORY_PAGE: u32 = 10_000;

/// Snapshots of earlier revisions kept per tenant.
const AS_OF_KEPT: usize = 4;

/// The checkpoint format: the state and its custom roles' versions.
#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    /// Format version.
    format: u32,
    /// The state.
    state: TenantState,
    /// Custom roles' versions.
    role_versions: BTreeMap<String, u64>,
}

/// The bytes of a checkpoint of `mem`.
pub fn encode_checkpoint(mem: &MemState) -> EngineResult<Vec<u8>> {
    #[derive(Serialize)]
    struct Borrowed<'a> {
        format: u32,
        state: &'a TenantState,
        role_versions: &'a BTreeMap<String, u64>,
    }
    serde_json::to_vec(&Borrowed {
        format: 1,
        state: &mem.state,
        role_versions: &mem.role_versions,
    })
    .map_err(EngineError::internal)
}

/// The state a checkpoint holds.
pub fn decode_checkpoint(data: &[u8]) -> EngineResult<MemState> {
    let c: Checkpoint = serde_json::from_slice(data)
        .map_err(|e| EngineError::internal(format!("unreadable checkpoint: {e}")))?;
    if c.format != 1 {
        return Err(EngineError::internal(format!(
            "checkpoint format {} is not known",
            c.format
        )));
    }
    Ok(MemState::with_versions(c.state, c.role_versions))
}

/// Recently asked-for snapshots of earlier revisions.
#[derive(Debug, Default)]
pub(crate) struct AsOfCache(Mutex<Vec<(u64, Arc<Snapshot>)>>);

impl AsOfCache {
    fn get(&self, revision: u64) -> Option<Arc<Snapshot>> {
        let mut v = self.0.lock().ok()?;
        let i = v.iter().position(|(r, _)| *r == revision)?;
        let hit = v.remove(i);
        let snap = hit.1.clone();
        v.push(hit);
        Some(snap)
    }

    fn put(&self, revision: u64, snap: Arc<Snapshot>) {
        if let Ok(mut v) = self.0.lock() {
            v.retain(|(r, _)| *r != revision);
            if v.len() >= AS_OF_KEPT {
                v.remove(0);
            }
            v.push((revision, snap));
        }
    }
}

/// The change-log rows after revision `after`, a page of whole revisions. A page of
/// `changes_since` may end inside a revision, and the next page (which starts after a
/// revision) would skip that revision's remaining rows: a full page therefore leaves its
/// last revision to the next one, and a revision larger than a page is read whole.
async fn whole_revisions(
    store: &dyn Store,
    tenant: &str,
    after: u64,
) -> EngineResult<Vec<ChangeRecord>> {
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
    /// The tenant's snapshot as it was at `revision`: from the newest checkpoint at or
    /// before it, plus the change log up to it.
    pub async fn snapshot_at(&self, revision: u64) -> EngineResult<Arc<Snapshot>> {
        let cur = self.current();
        if revision >= cur.revision {
            return Ok(cur.snapshot.clone());
        }
        if let Some(s) = self.as_of.get(revision) {
            return Ok(s);
        }
        let store = self.store().as_ref();
        let (mut after, mut mem) = match store.checkpoint_at_or_before(&self.id, revision).await? {
            Some((r, data)) => (r, decode_checkpoint(&data)?),
            None => (
                0,
                MemState::new(TenantState {
                    tenant_id: cur.mem.state.tenant_id.clone(),
                    tenant_name: cur.mem.state.tenant_name.clone(),
                    ..TenantState::default()
                }),
            ),
        };
        // Replaying a long stretch leaves checkpoints behind (history written before
        // checkpoints existed, or by another process), so the next read is short.
        let every = self.options().checkpoint_every;
        let mut next_checkpoint = if every == 0 { u64::MAX } else { after + every };
        'pages: loop {
            let rows = whole_revisions(store, &self.id, after).await?;
            if rows.is_empty() {
                break;
            }
            for r in rows {
                if r.revision > revision {
                    break 'pages;
                }
                if r.revision > after && after >= next_checkpoint {
                    store
                        .put_checkpoint(&self.id, after, &encode_checkpoint(&mem)?)
                        .await?;
                    next_checkpoint = after + every;
                }
                after = r.revision;
                mem.apply(&cur.profile, &r.change);
            }
        }
        let snap = Snapshot::build(cur.profile.clone(), &mem.state).map_err(|e| {
            EngineError::internal(format!(
                "history does not compile at revision {revision}: {}",
                describe(&e)
            ))
        })?;
        let snap = Arc::new(snap);
        self.as_of.put(revision, snap.clone());
        Ok(snap)
    }

    /// The last revision written at or before time `t` (1, the creation, if none).
    pub async fn revision_at_time(&self, t: i64) -> EngineResult<u64> {
        Ok(self.store().revision_at_time(&self.id, t).await?)
    }
}
