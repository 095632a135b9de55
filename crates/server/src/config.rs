//! Server configuration: flags, environment (`ROLECALL_*`), and an optional TOML file,
//! in that order of precedence.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

/// Everything `rolecall serve` needs.
#[derive(Clone)]
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
    /// A connection must deliver a request's head (request line and headers) within
    /// this time of its first byte, and its first request's within this time of being
    /// accepted (zero: no limit).
    pub header_timeout: Duration,
    /// A keep-alive connection with no request in flight is closed after this long
    /// without a new request, and any connection whose client reads nothing of what is
    /// written to it for this long is closed (zero: no limit).
    pub idle_timeout: Duration,
    /// A request's body must arrive whole within this time of its head (zero: no
    /// limit); later, 408.
    pub body_timeout: Duration,
    /// Most connections open at once (0: as many as the file-descriptor limit allows);
    /// past it a new connection is answered 503 with `Retry-After` and closed. Always
    /// kept below the process's file-descriptor limit.
    pub max_connections: usize,
    /// Requests per second per token (0: unlimited); past it, 429 with `Retry-After`.
    pub rate_limit: u32,
    /// Requests a token may send at once above its rate (the bucket's size; 0: the
    /// rate).
    pub rate_burst: u32,
    /// Store lookups of never-seen tokens per second per client address (0:
    /// unlimited); past it, an unknown token from that address gets 429 without one.
    pub unknown_token_rate: u32,
    /// The burst of [`Config::unknown_token_rate`] (0: the rate).
    pub unknown_token_burst: u32,
    /// How long a token the store did not know is remembered as unknown (zero: not at
    /// all). A token minted by another process works here at the latest this long after
    /// it was presented before it existed.
    pub negative_token_ttl: Duration,
    /// The bearer secret that reads the full `/metrics` (with per-tenant series), besides
    /// the operator token; without either, `/metrics` is aggregate only.
    pub metrics_token: Option<String>,
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

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Every field but the metrics secret, which is never logged.
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &self.database_url)
            .field("body_limit", &self.body_limit)
            .field("demo", &self.demo)
            .field("batch_limit", &self.batch_limit)
            .field("relation_batch_limit", &self.relation_batch_limit)
            .field("revision_wait", &self.revision_wait)
            .field("follow_poll", &self.follow_poll)
            .field("max_context_bytes", &self.max_context_bytes)
            .field("max_context_value_bytes", &self.max_context_value_bytes)
            .field("max_profile_bytes", &self.max_profile_bytes)
            .field("max_expression_terms", &self.max_expression_terms)
            .field("max_profile_terms", &self.max_profile_terms)
            .field("header_timeout", &self.header_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("max_connections", &self.max_connections)
            .field("rate_limit", &self.rate_limit)
            .field("rate_burst", &self.rate_burst)
            .field("unknown_token_rate", &self.unknown_token_rate)
            .field("unknown_token_burst", &self.unknown_token_burst)
            .field("negative_token_ttl", &self.negative_token_ttl)
            .field("audit_window", &self.audit_window)
            .field("audit_retention", &self.audit_retention)
            .field("audit_actor_budget", &self.audit_actor_budget)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "(set)"),
            )
            .finish()
    }
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
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(75),
            body_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            rate_limit: 5_000,
            rate_burst: 10_000,
            unknown_token_rate: 20,
            unknown_token_burst: 100,
            negative_token_ttl: engine.negative_token_ttl,
            metrics_token: None,
            audit_window: engine.audit_window,
            audit_retention: None,
            audit_actor_budget: engine.audit_actor_budget,
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
            negative_token_ttl: self.negative_token_ttl,
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
    /// See [`Config::header_timeout`], in milliseconds.
    pub header_timeout_ms: Option<u64>,
    /// See [`Config::idle_timeout`], in milliseconds.
    pub idle_timeout_ms: Option<u64>,
    /// See [`Config::body_timeout`], in milliseconds.
    pub body_timeout_ms: Option<u64>,
    /// See [`Config::max_connections`].
    pub max_connections: Option<usize>,
    /// See [`Config::rate_limit`].
    pub rate_limit: Option<u32>,
    /// See [`Config::rate_burst`].
    pub rate_burst: Option<u32>,
    /// See [`Config::unknown_token_rate`].
    pub unknown_token_rate: Option<u32>,
    /// See [`Config::unknown_token_burst`].
    pub unknown_token_burst: Option<u32>,
    /// See [`Config::negative_token_ttl`], in milliseconds.
    pub negative_token_ttl_ms: Option<u64>,
    /// See [`Config::metrics_token`].
    pub metrics_token: Option<String>,
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
