//! Operational endpoints: health, metrics, the OpenAPI description, and the JSON 404.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::app::AppState;
use crate::error::ApiError;

/// The OpenAPI description, generated from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "rolecall", description = "Access control for contact centers. Every write answers with the tenant's new revision; every read accepts `at_least_revision`. Errors are `{\"error\": {\"code\", \"message\"}}`."),
    paths(
        super::tenants::create, super::tenants::list, super::tenants::get_one, super::tenants::catalog, super::tenants::changes,
        super::roles::list, super::roles::create, super::roles::get_one, super::roles::update, super::roles::delete,
        super::entities::list_users, super::entities::create_user, super::entities::get_user, super::entities::put_user, super::entities::delete_user,
        super::entities::list_groups, super::entities::create_group, super::entities::get_group, super::entities::put_group, super::entities::delete_group,
        super::entities::list_org_units, super::entities::create_org_unit, super::entities::get_org_unit, super::entities::put_org_unit, super::entities::delete_org_unit,
        super::entities::list_queues, super::entities::create_queue, super::entities::get_queue, super::entities::put_queue, super::entities::delete_queue,
        super::entities::list_resources, super::entities::get_resource, super::entities::put_resource, super::entities::delete_resource,
        super::assignments::list, super::assignments::create, super::assignments::get_one, super::assignments::delete,
        super::relations::write, super::relations::read,
        super::settings::get_all, super::settings::put,
        super::decisions::check, super::decisions::check_batch, super::decisions::explain, super::decisions::permissions,
        super::tokens::create, super::tokens::list, super::tokens::revoke,
        super::audit::list, super::audit::verify,
        super::sod::list, super::sod::put, super::sod::delete, super::sod::violations,
        super::lookup::subjects, super::lookup::resources, super::lookup::impact,
        super::whoami::whoami,
        healthz, metrics,
    ),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// Liveness: 200 when the server answers.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "ok")))]
pub async fn healthz(State(s): State<Arc<AppState>>) -> impl IntoResponse {
    let tenants = s.tenants.read().map(|t| t.len()).unwrap_or(0);
    Json(serde_json::json!({"status": "ok", "backend": s.store.backend(), "tenants": tenants}))
}

/// Prometheus text metrics.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text exposition")))]
pub async fn metrics(State(s): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

/// `/openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}

/// Unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see /openapi.json")
}

/// A known route asked with a method it does not serve (the `Allow` header lists those
/// it does).
pub async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("method {method} is not allowed here; see the Allow header and /openapi.json"),
    )
}
