//! Who-can and what-can: every user who may perform an action on a resource, every
//! resource a user may act on — now, or as of an earlier revision or time (answered
//! from history). Lookups run the same compiled check for every candidate.

use std::sync::Arc;

use rolecall_core::{Context, Snapshot};

use crate::actor::Actor;
use crate::authz::{Object, Reader, authorize};
use crate::error::{EngineError, EngineResult};
use crate::tenant::Tenant;

/// When to answer as of (default: now).
#[derive(Debug, Clone, Copy, Default)]
pub struct AsOf {
    /// The tenant's state at this revision.
    pub revision: Option<u64>,
    /// This time (Unix seconds): the state last written at or before it, and
    /// assignments' expiry judged at it.
    pub time: Option<i64>,
}

/// A lookup's answer.
#[derive(Debug, Clone)]
pub struct Found {
    /// Matching ids, sorted.
    pub ids: Vec<String>,
    /// The revision answered from.
    pub revision: u64,
    /// The time decisions were evaluated at (Unix seconds).
    pub evaluated_at: i64,
}

impl Tenant {
    /// The snapshot, revision and time a history-aware read answers from.
    pub async fn snapshot_for(
        &self,
        as_of: Option<AsOf>,
        at_least: impl Into<crate::Consistency>,
    ) -> EngineResult<(Arc<Snapshot>, u64, i64)> {
        let cur = self.read(at_least).await?;
        let Some(a) = as_of else {
            return Ok((cur.snapshot.clone(), cur.revision, self.now()));
        };
        let time = a.time.unwrap_or_else(|| self.now());
        let revision = match (a.revision, a.time) {
            (Some(r), _) => r,
            (None, Some(t0)) => self.revision_at_time(t0).await?,
            (None, None) => cur.revision,
        };
        if revision == 0 || revision > cur.revision {
            return Err(EngineError::BadRequest(format!(
                "revision {revision} does not exist (the tenant is at {})",
                cur.revision
            )));
        }
        Ok((self.snapshot_at(revision).await?, revision, time))
    }

    /// Every user who may perform `action` on `rtype:rid` (who-can).
    pub async fn who_can(
        &self,
        actor: &Actor,
        action: &str,
        rtype: &str,
        rid: &str,
        as_of: Option<AsOf>,
        at_least: impl Into<crate::Consistency>,
    ) -> EngineResult<Found> {
        let now_view = self.current();
        let reader = Reader::new(&now_view.snapshot, actor, "check.others", self.now())?;
        let (snap, revision, time) = self.snapshot_for(as_of, at_least).await?;
        let mut ids = snap
            .lookup_subjects(action, rtype, rid, &Context::new(), time)
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
        // Only the users the caller may decide for.
        ids.retain(|u| reader.may(Object::user(u)));
        Ok(Found {
            ids,
            revision,
            evaluated_at: time,
        })
    }

    /// Every resource of `action`'s type that `principal` may act on (what-can).
    pub async fn what_can(
        &self,
        actor: &Actor,
        principal: &str,
        action: &str,
        as_of: Option<AsOf>,
        at_least: impl Into<crate::Consistency>,
    ) -> EngineResult<Found> {
        if !actor.is_user(principal) {
            authorize(
                &self.current().snapshot,
                actor,
                "check.others",
                Object::user(principal),
                self.now(),
            )?;
        }
        let (snap, revision, time) = self.snapshot_for(as_of, at_least).await?;
        let ids = snap
            .lookup_resources(principal, action, &Context::new(), time)
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
        Ok(Found {
            ids,
            revision,
            evaluated_at: time,
        })
    }
}
