//! Server configuration: flags, environment (`ROLECALL_*`), and an optional TOML file,
//! in that order of precedence.

use std::net::SocketAddr;

use serde::Deserialize;

/// Everything `rolecall serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite://path`, a plain path, or `postgres://…`.
    pub database_url: String,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Create demo tenants (one per shipped profile) when absent.
    pub demo: bool,
    /// Most checks in one batch.
    pub batch_limit: usize,
    /// Most tuples in one relation write.
    pub relation_batch_limit: usize,
    /// How long a read asking for a revision this node has not reached waits for it
    /// before answering 503 with `Retry-After`.
    pub revision_wait: std::time::Duration,
    /// How often a node reads the change log when no notification woke it (PostgreSQL).
    pub follow_poll: std::time::Duration,
    /// Identical sensitive decisions within this window after the first are counted in
    /// one audit entry rather than written each (zero: every decision its own entry).
    pub audit_window: std::time::Duration,
    /// Audit entries older than this are pruned (the chain's root kept, so the rest
    /// still verifies); `None`: kept forever.
    pub audit_retention: Option<std::time::Duration>,
    /// Most distinct sensitive decisions one caller may have audited per minute in a
    /// tenant (beyond: 429); 0 for no limit.
    pub audit_actor_budget: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8470)),
            database_url: "sqlite://rolecall.db".into(),
            body_limit: 1024 * 1024,
            demo: false,
            batch_limit: 1000,
            relation_batch_limit: 1000,
            revision_wait: rolecall_engine::Options::default().revision_wait,
            follow_poll: rolecall_engine::Options::default().follow_poll,
            audit_window: rolecall_engine::Options::default().audit_window,
            audit_retention: None,
            audit_actor_budget: rolecall_engine::Options::default().audit_actor_budget,
        }
    }
}

impl Config {
    /// The engine's options this configuration sets.
    pub fn engine_options(&self) -> rolecall_engine::Options {
        rolecall_engine::Options {
            batch_limit: self.batch_limit,
            relation_batch_limit: self.relation_batch_limit,
            revision_wait: self.revision_wait,
            follow_poll: self.follow_poll,
            audit_window: self.audit_window,
            audit_retention: self.audit_retention,
            audit_actor_budget: self.audit_actor_budget,
            ..rolecall_engine::Options::default()
        }
    }
}

/// The optional configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// See [`Config::listen`].
    pub listen: Option<SocketAddr>,
    /// See [`Config::database_url`].
    pub database_url: Option<String>,
    /// See [`Config::body_limit`].
    pub body_limit: Option<usize>,
    /// See [`Config::demo`].
    pub demo: Option<bool>,
    /// See [`Config::revision_wait`], in milliseconds.
    pub revision_wait_ms: Option<u64>,
    /// See [`Config::follow_poll`], in milliseconds.
    pub follow_poll_ms: Option<u64>,
    /// See [`Config::audit_window`], in seconds.
    pub audit_window_secs: Option<u64>,
    /// See [`Config::audit_retention`], in days.
    pub audit_retention_days: Option<u64>,
    /// See [`Config::audit_actor_budget`].
    pub audit_actor_budget: Option<u32>,
}

impl FileConfig {
    /// Reads a configuration file.
    pub fn read(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("`{}`: {e}", path.display()))
    }
}
