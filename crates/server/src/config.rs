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
        }
    }
}

impl Config {
    /// The engine's options this configuration sets.
    pub fn engine_options(&self) -> rolecall_engine::Options {
        rolecall_engine::Options {
            batch_limit: self.batch_limit,
            relation_batch_limit: self.relation_batch_limit,
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
}

impl FileConfig {
    /// Reads a configuration file.
    pub fn read(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("`{}`: {e}", path.display()))
    }
}
