//! Following the other nodes of a shared database: every tenant's change log is the
//! truth, PostgreSQL notices wake the follower at once, and a poll every
//! [`Options::follow_poll`] catches whatever a lost notice would have said. Tenants
//! created on another node are loaded; revoked tokens are forgotten at once.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rolecall_store::Notice;
use tokio::task::JoinHandle;

use crate::error::{EngineError, EngineResult};
use crate::options::Options;
use crate::registry::Engine;
use crate::tenant::Tenant;

/// How the following goes, for readiness.
#[derive(Debug, Default)]
pub struct FollowState {
    inner: Mutex<FollowInner>,
}

#[derive(Debug, Default)]
struct FollowInner {
    /// When the store was last read successfully.
    last_sync: Option<Instant>,
    /// The last failure, if the last attempt failed.
    last_error: Option<String>,
}

/// A snapshot of [`FollowState`].
#[derive(Debug, Clone)]
pub struct FollowReport {
    /// Time since the store was last read successfully (`None`: never yet).
    pub since_sync: Option<Duration>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
}

impl FollowState {
    fn ok(&self) {
        if let Ok(mut g) = self.inner.lock() {
            g.last_sync = Some(Instant::now());
            g.last_error = None;
        }
    }

    fn failed(&self, e: &EngineError) {
        if let Ok(mut g) = self.inner.lock() {
            g.last_error = Some(e.to_string());
        }
    }

    /// The current report.
    pub fn report(&self) -> FollowReport {
        match self.inner.lock() {
            Ok(g) => FollowReport {
                since_sync: g.last_sync.map(|t| t.elapsed()),
                last_error: g.last_error.clone(),
            },
            Err(_) => FollowReport {
                since_sync: None,
                last_error: Some("follower state poisoned".into()),
            },
        }
    }
}

impl Engine {
    /// Reads every tenant's revision from the store: loads tenants created elsewhere and
    /// catches up those behind.
    pub async fn sync(&self) -> EngineResult<()> {
        let result = self.sync_inner().await;
        match &result {
            Ok(()) => self.follow_state().ok(),
            Err(e) => self.follow_state().failed(e),
        }
        result
    }

    async fn sync_inner(&self) -> EngineResult<()> {
        for record in self.store().list_tenants().await? {
            match self.tenant(&record.id) {
                Ok(t) => {
                    if record.revision > t.current().revision {
                        t.catch_up().await?;
                    }
                }
                Err(_) => {
                    self.adopt(record).await?;
                }
            }
        }
        Ok(())
    }

    /// Catches up tenant `id`, loading it if another node created it.
    async fn follow_tenant(&self, id: &str) -> EngineResult<()> {
        match self.tenant(id) {
            Ok(t) => t.catch_up().await.map(|_| ()),
            Err(_) => match self.store().get_tenant(id).await? {
                Some(record) => self.adopt(record).await.map(|_| ()),
                None => Ok(()),
            },
        }
    }

    /// Follows the other nodes until the returned task is aborted: notices when the
    /// store has them, and a poll every `follow_poll`.
    pub fn follow(self: &Arc<Self>) -> JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            let Options { follow_poll, .. } = *engine.options();
            let mut notices = match engine.store().listen().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other nodes' commits; polling only");
                    None
                }
            };
            let mut tick = tokio::time::interval(follow_poll);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let notice = async {
                    match notices.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = tick.tick() => {
                        if let Err(e) = engine.sync().await {
                            tracing::warn!(error = %e, "following the store failed; retrying");
                        }
                    }
                    n = notice => match n {
                        Some(Notice::Tenant(id)) => {
                            if let Err(e) = engine.follow_tenant(&id).await {
                                tracing::warn!(tenant = %id, error = %e, "catching up failed");
                            }
                        }
                        Some(Notice::TokenRevoked(id)) => engine.forget_token(&id),
                        Some(Notice::Resumed) => {
                            engine.forget_tokens();
                            let _ = engine.sync().await;
                        }
                        None => notices = None, // the listener ended: poll only
                    },
                }
            }
        })
    }

    /// Loads a tenant another node created (unless this node loaded it meanwhile).
    pub(crate) async fn adopt(
        &self,
        record: rolecall_store::TenantRecord,
    ) -> EngineResult<Arc<Tenant>> {
        let id = record.id.clone();
        let tenant = Arc::new(Tenant::load(self.shared().clone(), record).await?);
        Ok(self.insert_tenant(id, tenant))
    }
}
