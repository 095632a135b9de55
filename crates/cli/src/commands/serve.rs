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
    /// `revision_wait_ms`, `follow_poll_ms`, `audit_window_secs`,
    /// `audit_retention_days`, `audit_actor_budget`.
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

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
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
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .with_context(|| format!("cannot listen on {}", cfg.listen))?;
        let addr = listener.local_addr()?;
        let state = AppState::new(engine, cfg.clone())?;
        println!(
            "rolecall listening on http://{addr} ({backend}); API under /v1, description at /openapi.json"
        );
        serve(listener, state, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(Status::Ok)
}
