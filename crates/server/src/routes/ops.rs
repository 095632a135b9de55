//! Operational endpoints: health and metrics; the OpenAPI document's frame; the JSON
//! 404 and 405.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::MetricsReader;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "rolecall", description = "Access control for contact centers. Every write answers with the tenant's new revision; every read accepts `at_least_revision`. Errors are `{\"error\": {\"code\", \"message\"}}`. Any request may be refused with 429 `too_many_requests` (a token past its rate, or an address past its budget of unknown tokens) or, at the connection cap, 503 `too_many_connections`; both carry `Retry-After`."),
    modifiers(&Bearer)
)]
struct ApiDoc;

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi
            .components
            .get_or_insert_with(utoipa::openapi::Components::new);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document the routes' descriptions are added to: title, description, bearer
/// authentication.
pub(super) fn base_document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// Liveness (the process answers), the backend and the number of tenants. Readiness,
/// which also reflects the database and the follower, is `/readyz`.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "ok")))]
pub async fn healthz(State(s): State<Arc<AppState>>) -> impl IntoResponse {
    let tenants = s.engine.tenants().len();
    Json(
        serde_json::json!({"status": "ok", "backend": s.engine.store().backend(), "tenants": tenants}),
    )
}

/// Readiness: the database answers (within 2 s) and, on PostgreSQL, this node has read
/// the other nodes' commits recently (within five follower polls). 503 otherwise, with
/// the reason; a load balancer stops sending traffic until it is 200 again.
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "ready"), (status = 503, description = "not ready, and why")))]
pub async fn readyz(State(s): State<Arc<AppState>>) -> axum::response::Response {
    let store = s.engine.store();
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), store.ping()).await;
    let db = match ping {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the database did not answer within 2 s".to_owned()),
    };
    let follows = store.backend() == "postgres";
    let report = s.engine.follow_state().report();
    let limit = s.engine.options().follow_poll * 5;
    let lag_ms = report.since_sync.map(|d| d.as_millis() as u64);
    let behind = follows
        && report
            .since_sync
            .is_none_or(|d| d > limit.max(std::time::Duration::from_secs(5)));
    let ready = db.is_ok() && !behind;
    let body = serde_json::json!({
        "ready": ready,
        "backend": store.backend(),
        "database": match &db { Ok(()) => "ok".to_owned(), Err(e) => e.clone() },
        "follower": if follows {
            serde_json::json!({"since_last_sync_ms": lag_ms, "last_error": report.last_error})
        } else {
            serde_json::json!("not needed (one process)")
        },
    });
    let status = if ready {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Prometheus metrics. Without an `Authorization` header: the aggregate series only
/// (nothing names a tenant). With the metrics token (`--metrics-token`) or the operator
/// token as a bearer: the per-tenant series too. Any other credential: 401 or 403.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text exposition"), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn metrics(
    State(s): State<Arc<AppState>>,
    MetricsReader(with_tenants): MetricsReader,
) -> impl IntoResponse {
    let tenants = s.engine.tenants();
    s.metrics
        .tenant_count
        .set(i64::try_from(tenants.len()).unwrap_or(i64::MAX));
    if with_tenants {
        for t in &tenants {
            s.metrics.saw_revision(&t.id, t.current().revision);
        }
    }
    s.metrics.saw_tokens(&s.engine.token_stats());
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(with_tenants),
    )
}

/// The JSON 404 of every unknown path.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see /openapi.json")
}

/// The JSON 405 of a known path with another method.
pub async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("method {method} is not allowed here; see the Allow header and /openapi.json"),
    )
}
