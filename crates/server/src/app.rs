//! The application: shared state, the router, and `run(listener, config, shutdown)`.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use rolecall_store::{Store, TokenRecord};
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use crate::tenant::Tenant;

/// How long a token found in the store is trusted without asking again. Revocations
/// through the API take effect at once; through `rolecall token revoke` (another
/// process) within this time.
pub const TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Tokens by hash, cached in memory for [`TOKEN_CACHE_TTL`] (misses go to the store).
#[derive(Debug, Default)]
pub struct TokenCache {
    by_hash: RwLock<HashMap<String, (TokenRecord, Instant)>>,
}

impl TokenCache {
    /// The token with this hash.
    pub async fn find(&self, store: &Arc<dyn Store>, hash: &str) -> ApiResult<Option<TokenRecord>> {
        if let Some((t, at)) = self.by_hash.read().map_err(ApiError::internal)?.get(hash)
            && at.elapsed() < TOKEN_CACHE_TTL
        {
            return Ok(Some(t.clone()));
        }
        let found = store.find_token(hash).await?;
        if let Some(t) = &found {
            self.by_hash
                .write()
                .map_err(ApiError::internal)?
                .insert(hash.to_owned(), (t.clone(), Instant::now()));
        } else if let Ok(mut m) = self.by_hash.write() {
            m.remove(hash);
        }
        Ok(found)
    }

    /// Forgets a token (after revocation).
    pub fn forget(&self, id: &str) {
        if let Ok(mut m) = self.by_hash.write() {
            m.retain(|_, (t, _)| t.id != id);
        }
    }
}

/// State shared by every handler.
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Tenants in memory.
    pub tenants: RwLock<BTreeMap<String, Arc<Tenant>>>,
    /// Token cache.
    pub tokens: TokenCache,
    /// Configuration.
    pub config: Config,
    /// Metrics.
    pub metrics: Metrics,
}

impl AppState {
    /// A tenant by id.
    pub fn tenant(&self, id: &str) -> ApiResult<Arc<Tenant>> {
        self.tenants
            .read()
            .map_err(ApiError::internal)?
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("unknown tenant `{id}`")))
    }

    /// Records a tenant's new revision in the metrics.
    pub fn saw_revision(&self, tenant: &str, revision: u64) {
        self.metrics
            .revision
            .with_label_values(&[tenant])
            .set(i64::try_from(revision).unwrap_or(i64::MAX));
    }
}

/// Now, Unix seconds.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn track(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    state
        .metrics
        .requests
        .with_label_values(&[&method, &route, res.status().as_str()])
        .inc();
    state
        .metrics
        .latency
        .with_label_values(&[&method, &route])
        .observe(secs);
    res
}

/// The whole router.
pub fn router(state: Arc<AppState>) -> Router {
    let body_limit = state.config.body_limit;
    crate::routes::router()
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Loads every stored tenant.
pub async fn load_tenants(store: &Arc<dyn Store>) -> anyhow::Result<BTreeMap<String, Arc<Tenant>>> {
    let mut out = BTreeMap::new();
    for record in store.list_tenants().await? {
        let id = record.id.clone();
        let t = Tenant::load(store.as_ref(), record).await?;
        out.insert(id, Arc::new(t));
    }
    Ok(out)
}

/// Builds the state: loads tenants, creates demo tenants when asked.
pub async fn build_state(store: Arc<dyn Store>, config: Config) -> anyhow::Result<Arc<AppState>> {
    let tenants = load_tenants(&store).await?;
    let state = Arc::new(AppState {
        store,
        tenants: RwLock::new(tenants),
        tokens: TokenCache::default(),
        config,
        metrics: Metrics::new()?,
    });
    if state.config.demo {
        crate::demo_tenants::ensure(&state).await?;
    }
    let revisions: Vec<(String, u64)> = state
        .tenants
        .read()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .iter()
        .map(|(k, t)| (k.clone(), t.current().revision))
        .collect();
    for (k, r) in revisions {
        state.saw_revision(&k, r);
    }
    Ok(state)
}

/// Creates the first operator token when there is none; returns its secret to print once.
pub async fn ensure_operator_token(store: &Arc<dyn Store>) -> anyhow::Result<Option<String>> {
    if !store.list_tokens(None).await?.is_empty() {
        return Ok(None);
    }
    let (secret, record) = crate::auth::mint(None, None, now());
    store.put_token(&record).await?;
    Ok(Some(secret))
}

/// Serves `state` on `listener` until `shutdown` completes; in-flight requests finish.
pub async fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Opens the store named by a database URL.
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            rolecall_store::postgres::PgStore::connect(url).await?,
        ))
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Ok(Arc::new(
            rolecall_store::sqlite::SqliteStore::open(path).await?,
        ))
    }
}
