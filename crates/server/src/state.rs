//! What every handler shares: the engine, the configuration and the metrics.

use std::sync::Arc;

use rolecall_engine::Engine;

use crate::config::Config;
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
}

impl AppState {
    /// The state for `engine`.
    pub fn new(engine: Arc<Engine>, config: Config) -> anyhow::Result<Arc<AppState>> {
        Ok(Arc::new(AppState {
            engine,
            config,
            metrics: Metrics::new()?,
        }))
    }
}
