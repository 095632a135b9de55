//! HTTP routes under `/v1`, plus `/healthz`, `/metrics`, `/openapi.json` and the
//! console's static files (`/`, `/console/{file}`).
//! Extractors here turn every rejection into the API's JSON error.

mod assignments;
mod audit;
mod catalog_model;
mod decisions;
mod entities;
mod lookup;
mod ops;
mod relations;
mod roles;
mod settings;
mod sod;
mod tenants;
mod tokens;
mod whoami;

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::tenant::Tenant;

pub use ops::ApiDoc;

/// The router (state is attached by [`crate::app::router`]).
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        // The admin console: static files, public like /healthz (they hold no data;
        // the page calls this API with the token its user gives).
        .route("/", get(crate::console::index))
        .route("/console/{file}", get(crate::console::asset))
        .route("/v1/whoami", get(whoami::whoami))
        .route("/v1/tenants", get(tenants::list).post(tenants::create))
        .route("/v1/tenants/{tenant}", get(tenants::get_one))
        .route("/v1/tenants/{tenant}/catalog", get(tenants::catalog))
        .route("/v1/tenants/{tenant}/changes", get(tenants::changes))
        .route(
            "/v1/tenants/{tenant}/roles",
            get(roles::list).post(roles::create),
        )
        .route(
            "/v1/tenants/{tenant}/roles/{role}",
            get(roles::get_one).put(roles::update).delete(roles::delete),
        )
        .route(
            "/v1/tenants/{tenant}/users",
            get(entities::list_users).post(entities::create_user),
        )
        .route(
            "/v1/tenants/{tenant}/users/{id}",
            get(entities::get_user)
                .put(entities::put_user)
                .delete(entities::delete_user),
        )
        .route(
            "/v1/tenants/{tenant}/users/{id}/permissions",
            get(decisions::permissions),
        )
        .route(
            "/v1/tenants/{tenant}/groups",
            get(entities::list_groups).post(entities::create_group),
        )
        .route(
            "/v1/tenants/{tenant}/groups/{id}",
            get(entities::get_group)
                .put(entities::put_group)
                .delete(entities::delete_group),
        )
        .route(
            "/v1/tenants/{tenant}/org-units",
            get(entities::list_org_units).post(entities::create_org_unit),
        )
        .route(
            "/v1/tenants/{tenant}/org-units/{id}",
            get(entities::get_org_unit)
                .put(entities::put_org_unit)
                .delete(entities::delete_org_unit),
        )
        .route(
            "/v1/tenants/{tenant}/queues",
            get(entities::list_queues).post(entities::create_queue),
        )
        .route(
            "/v1/tenants/{tenant}/queues/{id}",
            get(entities::get_queue)
                .put(entities::put_queue)
                .delete(entities::delete_queue),
        )
        .route(
            "/v1/tenants/{tenant}/resources/{ty}",
            get(entities::list_resources),
        )
        .route(
            "/v1/tenants/{tenant}/resources/{ty}/{id}",
            get(entities::get_resource)
                .put(entities::put_resource)
                .delete(entities::delete_resource),
        )
        .route(
            "/v1/tenants/{tenant}/assignments",
            get(assignments::list).post(assignments::create),
        )
        .route(
            "/v1/tenants/{tenant}/assignments/{id}",
            get(assignments::get_one).delete(assignments::delete),
        )
        .route(
            "/v1/tenants/{tenant}/relations",
            get(relations::read).post(relations::write),
        )
        .route(
            "/v1/tenants/{tenant}/settings",
            get(settings::get_all).put(settings::put),
        )
        .route("/v1/tenants/{tenant}/check", post(decisions::check))
        .route(
            "/v1/tenants/{tenant}/check/batch",
            post(decisions::check_batch),
        )
        .route("/v1/tenants/{tenant}/explain", post(decisions::explain))
        .route(
            "/v1/tenants/{tenant}/tokens",
            get(tokens::list).post(tokens::create),
        )
        .route(
            "/v1/tenants/{tenant}/tokens/{id}",
            put(tokens::not_allowed).delete(tokens::revoke),
        )
        .route("/v1/tenants/{tenant}/audit", get(audit::list))
        .route("/v1/tenants/{tenant}/audit/verify", get(audit::verify))
        .route(
            "/v1/tenants/{tenant}/sod-rules",
            get(sod::list).post(sod::put),
        )
        .route(
            "/v1/tenants/{tenant}/sod-rules/{id}",
            axum::routing::delete(sod::delete),
        )
        .route("/v1/tenants/{tenant}/sod-violations", get(sod::violations))
        .route(
            "/v1/tenants/{tenant}/lookup/subjects",
            post(lookup::subjects),
        )
        .route(
            "/v1/tenants/{tenant}/lookup/resources",
            post(lookup::resources),
        )
        .route("/v1/tenants/{tenant}/impact", post(lookup::impact))
        // Last, after every route: it applies to the routes registered before it.
        .method_not_allowed_fallback(ops::method_not_allowed)
        .fallback(ops::not_found)
}

/// JSON body extractor whose rejections are API errors.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| bytes_rejection(&e.body_text()))?;
        // Every body of this API is a JSON object; serde would also read a struct from
        // an array (`["alice"]` as `{"principal": "alice"}`), so refuse other shapes.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() {
            return Err(ApiError::bad_request(
                "invalid request body: expected a JSON object",
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
}

/// `application/json` or `application/*+json`, parameters allowed (as axum's `Json`).
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", sub)) => sub == "json" || sub.ends_with("+json"),
        _ => false,
    }
}

fn bytes_rejection(text: &str) -> ApiError {
    if text.contains("length limit") || text.contains("too large") {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "request body is larger than the limit",
        )
    } else {
        ApiError::bad_request(format!("cannot read the request body: {}", trim(text)))
    }
}

fn json_rejection(e: JsonRejection) -> ApiError {
    let text = e.body_text();
    match e {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected `Content-Type: application/json`",
        ),
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::bad_request(format!("malformed JSON: {}", trim(&text)))
        }
        JsonRejection::JsonDataError(_) => {
            ApiError::bad_request(format!("invalid request body: {}", trim(&text)))
        }
        JsonRejection::BytesRejection(_) => bytes_rejection(&text),
        _ => ApiError::bad_request(trim(&text)),
    }
}

fn trim(s: &str) -> String {
    s.trim_start_matches("Failed to deserialize the JSON body into the target type: ")
        .trim_start_matches("Failed to parse the request body as JSON: ")
        .to_owned()
}

/// Path extractor whose rejections are API errors.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(path_rejection(e)),
        }
    }
}

fn path_rejection(e: PathRejection) -> ApiError {
    ApiError::bad_request(format!("invalid path: {}", e.body_text()))
}

/// Query extractor whose rejections are API errors.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(query_rejection(e)),
        }
    }
}

fn query_rejection(e: QueryRejection) -> ApiError {
    ApiError::bad_request(format!("invalid query string: {}", e.body_text()))
}

/// `?at_least_revision=N` on reads.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReadQuery {
    /// Answer from this revision or a later one (waits briefly, else 503).
    pub at_least_revision: Option<u64>,
}

/// The tenant a caller may use: the operator any, a tenant token only its own
/// (another tenant is reported as unknown, so existence does not leak).
pub fn tenant_for(state: &AppState, caller: &Caller, tenant: &str) -> ApiResult<Arc<Tenant>> {
    valid_id(tenant, "tenant")?;
    if let Caller::Tenant { tenant: own, .. } = caller
        && own != tenant
    {
        return Err(ApiError::not_found(format!("unknown tenant `{tenant}`")));
    }
    state.tenant(tenant)
}

/// Checks an id from a path or body.
pub fn valid_id(id: &str, what: &str) -> ApiResult<()> {
    if rolecall_core::profile::valid_id(id) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid {what} id `{}`: use 1–200 letters, digits, `_`, `-`, `.` or `:`",
            id.chars().take(60).collect::<String>()
        )))
    }
}

/// A scalar value (setting, attribute, context) as JSON.
pub fn value_json(v: &rolecall_core::profile::Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// A JSON bool, integer or string as a scalar value; `what` names it in the error
/// (e.g. "attribute `seat_level`").
pub fn json_scalar(what: &str, v: &serde_json::Value) -> ApiResult<rolecall_core::profile::Value> {
    use rolecall_core::profile::Value;
    match v {
        serde_json::Value::Bool(b) => Ok(Value::Bool(*b)),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(Value::Int)
            .ok_or_else(|| ApiError::bad_request(format!("{what}: {n} is not an integer"))),
        serde_json::Value::String(s) => Ok(Value::Str(s.clone())),
        other => Err(ApiError::bad_request(format!(
            "{what}: {other} is not a bool, integer or string"
        ))),
    }
}

/// How long a read waits for `at_least_revision`.
pub const REVISION_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The answer to a write.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct WriteResponse {
    /// The tenant's new revision.
    pub revision: u64,
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    /// Every route the router declares is described in `/openapi.json`, with the same
    /// methods.
    #[test]
    fn openapi_describes_every_route() {
        let doc = super::ApiDoc::openapi();
        let source = include_str!("mod.rs");
        let body = source
            .split("pub fn router()")
            .nth(1)
            .and_then(|b| b.split(".fallback(").next())
            .unwrap_or("");
        let mut checked = 0;
        for chunk in body.split(".route(").skip(1) {
            let chunk: String = chunk.split_whitespace().collect();
            let path = chunk
                .trim_start_matches('"')
                .split('"')
                .next()
                .unwrap_or("");
            // Not API routes: the description itself and the console's static files.
            if path == "/openapi.json" || path == "/" || path.starts_with("/console/") {
                continue;
            }
            let item =
                doc.paths.paths.get(path).unwrap_or_else(|| {
                    panic!("`{path}` is routed but not in the OpenAPI description")
                });
            for (method, present) in [
                ("get(", item.get.is_some()),
                ("post(", item.post.is_some()),
                ("delete(", item.delete.is_some()),
                ("put(", item.put.is_some()),
            ] {
                let routed = chunk
                    .split("),")
                    .any(|part| part.contains(method) && !part.contains("not_allowed"));
                if routed {
                    assert!(present, "`{path}`: `{method}` is routed but not described");
                }
            }
            checked += 1;
        }
        assert!(checked >= 25, "only {checked} routes found");
    }
}
