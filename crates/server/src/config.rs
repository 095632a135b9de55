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
    /// Most bytes of a check's context, keys and values together.
    pub max_context_bytes: usize,
    /// Most bytes of one context value.
    pub max_context_value_bytes: usize,
    /// Most bytes of a new tenant's profile text (`body_limit` applies first).
    pub max_profile_bytes: usize,
    /// Most terms in one expression of a new tenant's profile.
    pub max_expression_terms: usize,
    /// Most terms in all the expressions of a new tenant's profile.
    pub max_profile_terms: usize,
}

impl Default for Config {
    fn default() -> Self {
        let engine = rolecall_engine::Options::default();
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8470)),
            database_url: "sqlite://rolecall.db".into(),
            body_limit: 1024 * 1024,
            demo: false,
            batch_limit: 1000,
            relation_batch_limit: 1000,
            revision_wait: engine.revision_wait,
            follow_poll: engine.follow_poll,
            max_context_bytes: engine.max_context_bytes,
            max_context_value_bytes: engine.max_context_value_bytes,
            max_profile_bytes: engine.max_profile_bytes,
            max_expression_terms: engine.max_expression_terms,
            max_profile_terms: engine.max_profile_terms,
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
            max_context_bytes: self.max_context_bytes,
            max_context_value_bytes: self.max_context_value_bytes,
            max_profile_bytes: self.max_profile_bytes,
            max_expression_terms: self.max_expression_terms,
            max_profile_terms: self.max_profile_terms,
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
    /// See [`Config::max_context_bytes`].
    pub max_context_bytes: Option<usize>,
    /// See [`Config::max_context_value_bytes`].
    pub max_context_value_bytes: Option<usize>,
    /// See [`Config::max_profile_bytes`].
    pub max_profile_bytes: Option<usize>,
    /// See [`Config::max_expression_terms`].
    pub max_expression_terms: Option<usize>,
    /// See [`Config::max_profile_terms`].
    pub max_profile_terms: Option<usize>,
}

impl FileConfig {
    /// Reads a configuration file.
    pub fn read(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("`{}`: {e}", path.display()))
    }
}
