//! HTTP routes under `/v1`, plus `/healthz` and `/metrics`. Each module registers its
//! handlers once, with `utoipa_axum::routes!`, which routes them and describes them in
//! `/openapi.json` from the same `#[utoipa::path]` attribute.

mod assignments;
mod audit;
mod catalog_model;
mod credentials;
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
mod watch;
mod whoami;

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use rolecall_engine::{Command, Consistency, Tenant};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use ops::{method_not_allowed, not_found};

/// Every documented route, with its OpenAPI description.
pub fn api() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(ops::base_document())
        .merge(ops::routes())
        .merge(whoami::routes())
        .merge(tenants::routes())
        .merge(roles::routes())
        .merge(entities::routes())
        .merge(assignments::routes())
        .merge(relations::routes())
        .merge(settings::routes())
        .merge(decisions::routes())
        .merge(tokens::routes())
        .merge(credentials::routes())
        .merge(audit::routes())
        .merge(sod::routes())
        .merge(lookup::routes())
        .merge(watch::routes())
}

/// `?at_least_revision=N&consistency=…` on reads.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReadQuery {
    /// Answer from this revision or a later one (waits briefly, else 503).
    pub at_least_revision: Option<u64>,
    /// `minimize_latency` (this node's state), `at_least_revision` (with
    /// `at_least_revision`; the default when it is given) or `fully_consistent` (every
    /// write committed on any node before this read).
    pub consistency: Option<ConsistencyMode>,
}

impl ReadQuery {
    /// The consistency this query asks for.
    pub fn consistency(&self) -> ApiResult<Consistency> {
        consistency(self.consistency, self.at_least_revision)
    }
}

/// How fresh a read must be (see `docs/DEPLOYMENT.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsistencyMode {
    /// This node's current state.
    MinimizeLatency,
    /// `at_least_revision` or later, on any node.
    AtLeastRevision,
    /// Every write committed before the read began, on any node.
    FullyConsistent,
}

/// The consistency of a read from its `consistency` and `at_least_revision`: the mode
/// when given (`at_least_revision` needs the revision, the other two refuse one), else
/// `at_least_revision` when a revision is given, else `minimize_latency`.
pub fn consistency(mode: Option<ConsistencyMode>, at_least: Option<u64>) -> ApiResult<Consistency> {
    use ConsistencyMode as M;
    match (mode, at_least) {
        (None, r) => Ok(r.into()),
        (Some(M::AtLeastRevision), Some(r)) => Ok(Consistency::AtLeast(r)),
        (Some(M::AtLeastRevision), None) => Err(ApiError::bad_request(
            "`consistency=at_least_revision` needs `at_least_revision`",
        )),
        (Some(M::MinimizeLatency), None) => Ok(Consistency::MinimizeLatency),
        (Some(M::FullyConsistent), None) => Ok(Consistency::FullyConsistent),
        (Some(m), Some(_)) => Err(ApiError::bad_request(format!(
            "`at_least_revision` goes with `consistency=at_least_revision`, not `{}`",
            match m {
                M::MinimizeLatency => "minimize_latency",
                M::FullyConsistent => "fully_consistent",
                M::AtLeastRevision => "at_least_revision",
            }
        ))),
    }
}

/// The tenant `caller` may use (another tenant is reported as unknown).
pub async fn tenant_for(s: &AppState, caller: &Caller, tenant: &str) -> ApiResult<Arc<Tenant>> {
    Ok(s.engine.tenant_for(&caller.0, tenant).await?)
}

/// Checks an id from a path or body.
pub fn valid_id(id: &str, what: &str) -> ApiResult<()> {
    Ok(rolecall_engine::valid_id(id, what)?)
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

/// The answer to a write.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct WriteResponse {
    /// The tenant's new revision.
    pub revision: u64,
}

/// Runs a write command on `tenant` for `caller`; answers with the new revision, 201
/// when the write created its object, else 200.
pub async fn write(
    s: &AppState,
    caller: &Caller,
    tenant: &str,
    cmd: &dyn Command,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    let t = tenant_for(s, caller, tenant).await?;
    let w = t.execute(&caller.0, cmd).await?;
    let status = if w.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(WriteResponse {
            revision: w.revision,
        }),
    ))
}

#[cfg(test)]
mod tests {
    /// Every routed API path is described, and every description is routed: both come
    /// from the one registration in [`super::api`].
    #[test]
    fn every_route_is_described() {
        let doc = super::api().into_openapi();
        let paths: Vec<&String> = doc.paths.paths.keys().collect();
        assert!(paths.len() >= 30, "only {} paths: {paths:?}", paths.len());
        for must in [
            "/v1/tenants/{tenant}/roles/{role}",
            "/v1/tenants/{tenant}/check/batch",
            "/v1/tenants/{tenant}/users/{id}",
            "/healthz",
        ] {
            assert!(doc.paths.paths.contains_key(must), "{must} missing");
        }
    }
}
