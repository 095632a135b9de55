//! The application: the router with its middleware, and `run(listener, state,
//! shutdown)`. `rolecall serve` (and every HTTP test) calls [`run`].

use std::future::Future;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::RequestBodyDeadlineLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// The routes [`router`] adds without an OpenAPI description: the description itself
/// and the console's static files.
pub const UNDESCRIBED: &[(&str, &str)] = &[
    ("GET", "/openapi.json"),
    ("GET", "/"),
    ("GET", "/console/{file}"),
];

/// The OpenAPI document, generated once from the routes' registration.
static OPENAPI: LazyLock<String> = LazyLock::new(|| {
    crate::routes::api()
        .into_openapi()
        .to_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
});

async fn openapi() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI.as_str(),
    )
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

/// The whole router: the API, `/openapi.json`, the console's static files (public like
/// `/healthz`: they hold no data), the JSON 404 and 405, and the middleware.
pub fn router(state: Arc<AppState>) -> Router {
    let body_limit = state.config.body_limit;
    // A zero timeout means none: a deadline no request body reaches.
    let body_timeout = Some(state.config.body_timeout)
        .filter(|d| !d.is_zero())
        .unwrap_or(std::time::Duration::from_secs(100 * 365 * 24 * 3600));
    let (api, _) = crate::routes::api().split_for_parts();
    // The routes of UNDESCRIBED.
    api.route("/openapi.json", get(openapi))
        .route("/", get(crate::console::index))
        .route("/console/{file}", get(crate::console::asset))
        // Last, after every route: it applies to the routes registered before it.
        .method_not_allowed_fallback(crate::routes::method_not_allowed)
        .fallback(crate::routes::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyDeadlineLayer::new(body_timeout))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes; in-flight requests finish,
/// watch streams end. Connections are capped and timed out as `state.config` says
/// (see [`crate::connections`]); the soft open-file limit is raised to the hard one.
pub async fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Several nodes may share a PostgreSQL database: follow their commits, for as long
    // as this future runs (dropping it, or returning, stops the follower).
    let _follower =
        (state.engine.store().backend() == "postgres").then(|| AbortOnDrop(state.engine.follow()));
    // Rate-limit keys whose buckets are full again are dropped every few seconds.
    let limits = state.limits.clone();
    let _housekeeping = AbortOnDrop(tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
        loop {
            every.tick().await;
            limits.housekeeping();
        }
    }));
    let cap = crate::connections::effective_cap(
        state.config.max_connections,
        crate::connections::fd_budget(),
    );
    let limits = crate::connections::ConnectionLimits {
        header_timeout: state.config.header_timeout,
        idle_timeout: state.config.idle_timeout,
        max_connections: cap,
    };
    state
        .metrics
        .connections_max
        .set(i64::try_from(cap).unwrap_or(i64::MAX));
    let (closing, metrics) = (state.closing.clone(), state.metrics.clone());
    let app = router(state);
    crate::connections::serve(listener, app, limits, metrics, closing, shutdown).await?;
    Ok(())
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
