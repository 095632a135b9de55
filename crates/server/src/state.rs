//! What every handler shares: the engine, the configuration, the metrics and the rate
//! limiters.

use std::sync::Arc;

use rolecall_engine::Engine;

use crate::config::Config;
use crate::limits::Limits;
use crate::metrics::Metrics;

/// State shared by every handler.
#[derive(Debug)]
pub struct AppState {
    /// The engine: tenants, writes, credentials.
    pub engine: Arc<Engine>,
    /// Configuration.
    pub config: Config,
    /// Metrics.
    pub metrics: Metrics,
    /// Request rates per token and unknown-token lookups per address.
    pub limits: Arc<Limits>,
    /// Becomes `true` when the server begins to shut down: long-lived responses (watch
    /// streams) end, so that the graceful shutdown does not wait for them forever.
    pub closing: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    /// The state for `engine`.
    pub fn new(engine: Arc<Engine>, config: Config) -> anyhow::Result<Arc<AppState>> {
        let limits = Arc::new(Limits::new(&config));
        Ok(Arc::new(AppState {
            engine,
            config,
            metrics: Metrics::new()?,
            limits,
            closing: tokio::sync::watch::Sender::new(false),
        }))
    }
}
