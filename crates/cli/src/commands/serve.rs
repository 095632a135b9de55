//! `rolecall serve`: the HTTP server on SQLite (default) or PostgreSQL.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use rolecall_engine::{Engine, open_store};
use rolecall_server::config::FileConfig;
use rolecall_server::{AppState, Config, run as serve};

use crate::exit::Status;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "ROLECALL_LISTEN")]
    listen: Option<SocketAddr>,
    /// `sqlite://PATH` (or a path) or `postgres://…`. Default: sqlite://rolecall.db.
    #[arg(long, env = "ROLECALL_DATABASE_URL")]
    database_url: Option<String>,
    /// Create one demo tenant per shipped profile (once).
    #[arg(long, env = "ROLECALL_DEMO")]
    demo: bool,
    /// Largest request body in bytes (default 1 MiB).
    #[arg(long, env = "ROLECALL_BODY_LIMIT")]
    body_limit: Option<usize>,
    /// How long (ms) a read waits for an `at_least_revision` this node has not reached
    /// before answering 503 with Retry-After (default 2000).
    #[arg(long, env = "ROLECALL_REVISION_WAIT_MS")]
    revision_wait_ms: Option<u64>,
    /// How often (ms) a node reads the change log when no PostgreSQL notification woke
    /// it (default 1000).
    #[arg(long, env = "ROLECALL_FOLLOW_POLL_MS")]
    follow_poll_ms: Option<u64>,
    /// Most bytes of a check's context, keys and values together (default 16384).
    #[arg(long, env = "ROLECALL_MAX_CONTEXT_BYTES")]
    max_context_bytes: Option<usize>,
    /// Most bytes of one context value (default 4096).
    #[arg(long, env = "ROLECALL_MAX_CONTEXT_VALUE_BYTES")]
    max_context_value_bytes: Option<usize>,
    /// Most bytes of a new tenant's profile text (default 4194304; the body limit
    /// applies first to text sent over HTTP).
    #[arg(long, env = "ROLECALL_MAX_PROFILE_BYTES")]
    max_profile_bytes: Option<usize>,
    /// Most terms in one expression of a new tenant's profile (default 1000).
    #[arg(long, env = "ROLECALL_MAX_EXPRESSION_TERMS")]
    max_expression_terms: Option<usize>,
    /// Most terms in all the expressions of a new tenant's profile (default 20000).
    #[arg(long, env = "ROLECALL_MAX_PROFILE_TERMS")]
    max_profile_terms: Option<usize>,
    /// A request head must arrive within this many ms (of a new connection, or of the
    /// head's first byte); else the connection is closed (default 10000; 0: no limit).
    #[arg(long, env = "ROLECALL_HEADER_TIMEOUT_MS")]
    header_timeout_ms: Option<u64>,
    /// A keep-alive connection waiting for its next request, or whose client reads
    /// nothing, is closed after this many ms (default 75000; 0: no limit).
    #[arg(long, env = "ROLECALL_IDLE_TIMEOUT_MS")]
    idle_timeout_ms: Option<u64>,
    /// A request body must arrive whole within this many ms of its head; else 408
    /// (default 30000; 0: no limit).
    #[arg(long, env = "ROLECALL_BODY_TIMEOUT_MS")]
    body_timeout_ms: Option<u64>,
    /// Most connections open at once; past it new ones get 503 with Retry-After
    /// (default 10000; 0: as many as the open-file limit allows; always kept below it).
    #[arg(long, env = "ROLECALL_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Requests per second per token; past it, 429 with Retry-After (default 5000;
    /// 0: unlimited).
    #[arg(long, env = "ROLECALL_RATE_LIMIT")]
    rate_limit: Option<u32>,
    /// Requests a token may send at once above its rate (default 10000; 0: the rate).
    #[arg(long, env = "ROLECALL_RATE_BURST")]
    rate_burst: Option<u32>,
    /// Store lookups of never-seen tokens per second per client address; past it such
    /// a token gets 429 (default 20; 0: unlimited).
    #[arg(long, env = "ROLECALL_UNKNOWN_TOKEN_RATE")]
    unknown_token_rate: Option<u32>,
    /// The burst of --unknown-token-rate (default 100; 0: the rate).
    #[arg(long, env = "ROLECALL_UNKNOWN_TOKEN_BURST")]
    unknown_token_burst: Option<u32>,
    /// How long (ms) an unknown token is remembered as unknown, costing no store lookup
    /// when presented again; a token minted by another process may be refused here this
    /// long after someone presented it (default 2000; 0: not remembered).
    #[arg(long, env = "ROLECALL_NEGATIVE_TOKEN_TTL_MS")]
    negative_token_ttl_ms: Option<u64>,
    /// A secret (16 characters or more) that, as a bearer token, reads /metrics with the
    /// per-tenant series (the operator token does too); without one, /metrics is
    /// aggregate only. Prefer the environment variable or the file to the flag.
    #[arg(long, env = "ROLECALL_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Identical sensitive decisions (same caller, action, resource and outcome) within
    /// this many seconds after the first are counted in one audit entry, written when
    /// the window ends (default 60; 0: every decision its own entry).
    #[arg(long, env = "ROLECALL_AUDIT_WINDOW_SECS")]
    audit_window_secs: Option<u64>,
    /// Prune audit entries older than this many days from each tenant's chain (every
    /// minute; the last pruned hash is kept as the chain's root, so the rest still
    /// verifies). Default: keep forever.
    #[arg(long, env = "ROLECALL_AUDIT_RETENTION_DAYS")]
    audit_retention_days: Option<u64>,
    /// Most distinct sensitive decisions (each audited on its own; repeats are counted)
    /// one caller may make per minute in a tenant; beyond it checks answer 429
    /// (default 10000; 0: no limit).
    #[arg(long, env = "ROLECALL_AUDIT_ACTOR_BUDGET")]
    audit_actor_budget: Option<u32>,
    /// A TOML file with `listen`, `database_url`, `body_limit`, `demo`,
    /// `revision_wait_ms`, `follow_poll_ms`, `header_timeout_ms`, `idle_timeout_ms`,
    /// `body_timeout_ms`, `max_connections`, `rate_limit`, `rate_burst`,
    /// `unknown_token_rate`, `unknown_token_burst`, `negative_token_ttl_ms`,
    /// `metrics_token`, `max_context_bytes`, `max_context_value_bytes`,
    /// `max_profile_bytes`, `max_expression_terms`, `max_profile_terms`,
    /// `audit_window_secs`, `audit_retention_days`, `audit_actor_budget`.
    #[arg(long, env = "ROLECALL_CONFIG")]
    config: Option<PathBuf>,
    /// Log as JSON lines.
    #[arg(long, env = "ROLECALL_LOG_JSON")]
    log_json: bool,
}

fn config(a: Args) -> anyhow::Result<(Config, bool)> {
    let file = match &a.config {
        Some(p) => FileConfig::read(p)?,
        None => FileConfig::default(),
    };
    let d = Config::default();
    Ok((
        Config {
            listen: a.listen.or(file.listen).unwrap_or(d.listen),
            database_url: a
                .database_url
                .or(file.database_url)
                .unwrap_or(d.database_url),
            body_limit: a.body_limit.or(file.body_limit).unwrap_or(d.body_limit),
            demo: a.demo || file.demo.unwrap_or(false),
            revision_wait: a
                .revision_wait_ms
                .or(file.revision_wait_ms)
                .map_or(d.revision_wait, Duration::from_millis),
            follow_poll: a
                .follow_poll_ms
                .or(file.follow_poll_ms)
                .map_or(d.follow_poll, |ms| Duration::from_millis(ms.max(10))),
            max_context_bytes: a
                .max_context_bytes
                .or(file.max_context_bytes)
                .unwrap_or(d.max_context_bytes),
            max_context_value_bytes: a
                .max_context_value_bytes
                .or(file.max_context_value_bytes)
                .unwrap_or(d.max_context_value_bytes),
            max_profile_bytes: a
                .max_profile_bytes
                .or(file.max_profile_bytes)
                .unwrap_or(d.max_profile_bytes),
            max_expression_terms: a
                .max_expression_terms
                .or(file.max_expression_terms)
                .unwrap_or(d.max_expression_terms),
            max_profile_terms: a
                .max_profile_terms
                .or(file.max_profile_terms)
                .unwrap_or(d.max_profile_terms),
            header_timeout: a
                .header_timeout_ms
                .or(file.header_timeout_ms)
                .map_or(d.header_timeout, Duration::from_millis),
            idle_timeout: a
                .idle_timeout_ms
                .or(file.idle_timeout_ms)
                .map_or(d.idle_timeout, Duration::from_millis),
            body_timeout: a
                .body_timeout_ms
                .or(file.body_timeout_ms)
                .map_or(d.body_timeout, Duration::from_millis),
            max_connections: a
                .max_connections
                .or(file.max_connections)
                .unwrap_or(d.max_connections),
            rate_limit: a.rate_limit.or(file.rate_limit).unwrap_or(d.rate_limit),
            rate_burst: a.rate_burst.or(file.rate_burst).unwrap_or(d.rate_burst),
            unknown_token_rate: a
                .unknown_token_rate
                .or(file.unknown_token_rate)
                .unwrap_or(d.unknown_token_rate),
            unknown_token_burst: a
                .unknown_token_burst
                .or(file.unknown_token_burst)
                .unwrap_or(d.unknown_token_burst),
            negative_token_ttl: a
                .negative_token_ttl_ms
                .or(file.negative_token_ttl_ms)
                .map_or(d.negative_token_ttl, Duration::from_millis),
            metrics_token: metrics_token(a.metrics_token.or(file.metrics_token))?,
            audit_window: a
                .audit_window_secs
                .or(file.audit_window_secs)
                .map_or(d.audit_window, Duration::from_secs),
            audit_retention: a
                .audit_retention_days
                .or(file.audit_retention_days)
                .map(|days| Duration::from_secs(days.saturating_mul(86_400))),
            audit_actor_budget: a
                .audit_actor_budget
                .or(file.audit_actor_budget)
                .unwrap_or(d.audit_actor_budget),
            ..d
        },
        a.log_json,
    ))
}

/// The metrics token, if one is set: 16 characters or more, no spaces.
fn metrics_token(t: Option<String>) -> anyhow::Result<Option<String>> {
    match t {
        Some(t) if t.chars().count() < 16 || t.chars().any(char::is_whitespace) => {
            anyhow::bail!("the metrics token must be 16 characters or more, without spaces")
        }
        other => Ok(other),
    }
}

/// The future that completes on SIGTERM or Ctrl-C. The handlers are installed here, at
/// once (not when the future is first polled), so a signal sent as soon as the server
/// says it listens is never met by the default action, which would kill the process.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let mut interrupt =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            let term = async {
                match term.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let interrupt = async {
                match interrupt.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = term => {},
                () = interrupt => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing in-flight requests");
    }
}

pub fn run(a: Args) -> anyhow::Result<Status> {
    let (cfg, json) = config(a)?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        // SQLite serves one process per file: a second `serve` is refused here, before
        // it could diverge from the first.
        let _lock = if cfg.database_url.starts_with("postgres") {
            None
        } else {
            Some(rolecall_store::sqlite::ProcessLock::acquire(&cfg.database_url)?)
        };
        let store = open_store(&cfg.database_url).await?;
        let backend = store.backend();
        let engine = Engine::open(store, cfg.engine_options()).await?;
        if let Some(secret) = engine.ensure_operator_token().await? {
            println!("operator token (shown once; only its hash is stored): {secret}");
        }
        if cfg.demo {
            for d in engine.seed_demo().await? {
                let lines: Vec<String> = d
                    .tokens
                    .iter()
                    .map(|(u, secret)| format!("    {u:<11} {secret}"))
                    .collect();
                println!(
                    "demo tenant `{}` ({}): tokens\n{}",
                    d.id,
                    d.profile_name,
                    lines.join("\n")
                );
            }
        }
        let shutdown = shutdown_signal();
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .with_context(|| format!("cannot listen on {}", cfg.listen))?;
        let addr = listener.local_addr()?;
        let state = AppState::new(engine, cfg.clone())?;
        println!(
            "rolecall listening on http://{addr} ({backend}); API under /v1, description at /openapi.json"
        );
        serve(listener, state, shutdown).await?;
        anyhow::Ok(())
    })?;
    Ok(Status::Ok)
}
