//! Separation of duty: the tenant's rules (besides its profile's) and the principals
//! who currently break one (e.g. after a rule is added).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rolecall_core::profile::SodRule;
use rolecall_engine::authz::{Object, Reader, authorize};
use rolecall_engine::commands::{DeleteSodRule, PutSodRule};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ReadQuery, WriteResponse, tenant_for, write};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list, put))
        .routes(routes!(delete))
        .routes(routes!(violations))
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SodRuleBody {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Privileges held together.
    #[serde(default)]
    pub privileges: Vec<String>,
    /// Roles held together.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Rules in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct SodRules {
    /// The profile's rules (read-only).
    pub profile: Vec<SodRuleBody>,
    /// The tenant's rules.
    pub tenant: Vec<SodRuleBody>,
    /// Revision answered from.
    pub revision: u64,
}

/// One principal breaking one rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct Violation {
    /// Rule id.
    pub rule: String,
    /// Rule name.
    pub name: String,
    /// The user.
    pub user: String,
    /// What they hold together.
    pub holding: Vec<String>,
}

/// Current violations.
#[derive(Debug, Serialize, ToSchema)]
pub struct Violations {
    /// By rule, then user.
    pub violations: Vec<Violation>,
    /// Revision answered from.
    pub revision: u64,
}

fn body(r: &SodRule) -> SodRuleBody {
    SodRuleBody {
        id: r.id.clone(),
        name: r.name.clone(),
        privileges: r.privileges.clone(),
        roles: r.roles.clone(),
    }
}

/// The separation-of-duty rules.
/// The profile's rules and the tenant's own.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/sod-rules", params(("tenant" = String, Path,), ReadQuery), responses((status = 200, body = SodRules)), security(("bearer" = [])))]
pub async fn list(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Json<SodRules>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let cur = t.read(q.consistency()?).await?;
    authorize(
        &cur.snapshot,
        &caller.0,
        "sod.read",
        Object::Shared,
        t.now(),
    )?;
    Ok(Json(SodRules {
        profile: cur.profile.separation_of_duty.iter().map(body).collect(),
        tenant: cur.mem.state.sod_rules.iter().map(body).collect(),
        revision: cur.revision,
    }))
}

/// Adds or replaces a tenant rule (one that may already be broken).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/sod-rules", params(("tenant" = String, Path,)), request_body = SodRuleBody, responses((status = 200, body = WriteResponse), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn put(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(b): ApiJson<SodRuleBody>,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    let rule = SodRule {
        id: b.id,
        name: b.name,
        privileges: b.privileges,
        roles: b.roles,
    };
    write(&s, &caller, &tenant, &PutSodRule(rule)).await
}

/// Removes a tenant rule.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/sod-rules/{id}", params(("tenant" = String, Path,), ("id" = String, Path,)), responses((status = 200, body = WriteResponse), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    write(&s, &caller, &tenant, &DeleteSodRule(id)).await
}

/// Who breaks a rule now.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/sod-violations", params(("tenant" = String, Path,), ReadQuery), responses((status = 200, body = Violations)), security(("bearer" = [])))]
pub async fn violations(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Json<Violations>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let cur = t.read(q.consistency()?).await?;
    let now = t.now();
    let reader = Reader::new(&cur.snapshot, &caller.0, "sod.read", now)?;
    let violations = cur
        .snapshot
        .sod_violations(now)
        .into_iter()
        .filter(|v| reader.may(Object::user(&v.user)))
        .map(|v| Violation {
            rule: v.rule,
            name: v.name,
            user: v.user,
            holding: v.holding,
        })
        .collect();
    Ok(Json(Violations {
        violations,
        revision: cur.revision,
    }))
}
