//! Separation of duty: the tenant's rules (besides its profile's) and the principals
//! who currently break one (e.g. after a rule is added).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use rolecall_core::profile::SodRule;
use rolecall_store::Change;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    ApiJson, ApiPath, ApiQuery, REVISION_WAIT, ReadQuery, WriteResponse, tenant_for, valid_id,
};
use crate::app::{AppState, now};
use crate::auth::Caller;
use crate::authz::authorize;
use crate::error::{ApiError, ApiResult};

/// A rule: privileges (`Name` or `Name: Level`) and roles no one may hold together.
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
#[utoipa::path(get, path = "/v1/tenants/{tenant}/sod-rules", params(("tenant" = String, Path,), ReadQuery), responses((status = 200, body = SodRules)), security(("bearer" = [])))]
pub async fn list(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Json<SodRules>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    let cur = t.at_least(q.at_least_revision, REVISION_WAIT).await?;
    Ok(Json(SodRules {
        profile: cur.profile.separation_of_duty.iter().map(body).collect(),
        tenant: cur.mem.state.sod_rules.iter().map(body).collect(),
        revision: cur.revision,
    }))
}

/// Adds or replaces a tenant rule. Existing violations do not block it (list them
/// with `/sod-violations`); new ones are refused from then on.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/sod-rules", params(("tenant" = String, Path,)), request_body = SodRuleBody, responses((status = 200, body = WriteResponse), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn put(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(b): ApiJson<SodRuleBody>,
) -> ApiResult<Json<WriteResponse>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    valid_id(&b.id, "rule")?;
    let cur = t.current();
    authorize(&cur.snapshot, &caller, "sod.write", None, now())?;
    if cur.profile.separation_of_duty.iter().any(|r| r.id == b.id) {
        return Err(ApiError::conflict(format!(
            "rule `{}` belongs to the profile and cannot be replaced",
            b.id
        )));
    }
    let rule = SodRule {
        id: b.id,
        name: b.name,
        privileges: b.privileges,
        roles: b.roles,
    };
    // A new rule may already be broken: that must not block adding it, so the write
    // checks only violations the rule did not already have.
    let rev = write_rule(&s, &caller, &t, Change::PutSodRule(rule)).await?;
    Ok(Json(WriteResponse { revision: rev }))
}

async fn write_rule(
    s: &AppState,
    caller: &Caller,
    t: &crate::tenant::Tenant,
    change: Change,
) -> ApiResult<u64> {
    let rev = t
        .write_allowing_existing_sod(s.store.as_ref(), vec![change], &caller.actor(), now())
        .await?;
    s.saw_revision(&t.id, rev);
    Ok(rev)
}

/// Removes a tenant rule.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/sod-rules/{id}", params(("tenant" = String, Path,), ("id" = String, Path,)), responses((status = 200, body = WriteResponse), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<WriteResponse>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    valid_id(&id, "rule")?;
    let cur = t.current();
    authorize(&cur.snapshot, &caller, "sod.write", None, now())?;
    if !cur.mem.state.sod_rules.iter().any(|r| r.id == id) {
        return Err(ApiError::not_found(format!("unknown tenant rule `{id}`")));
    }
    let rev = write_rule(&s, &caller, &t, Change::DeleteSodRule { id }).await?;
    Ok(Json(WriteResponse { revision: rev }))
}

/// Principals who hold every part of some rule now.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/sod-violations", params(("tenant" = String, Path,), ReadQuery), responses((status = 200, body = Violations)), security(("bearer" = [])))]
pub async fn violations(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Json<Violations>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    let cur = t.at_least(q.at_least_revision, REVISION_WAIT).await?;
    authorize(&cur.snapshot, &caller, "audit.read", None, now())?;
    let violations = cur
        .snapshot
        .sod_violations(now())
        .into_iter()
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
