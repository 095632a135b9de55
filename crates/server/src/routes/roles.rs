//! Roles: templates (read-only, copyable) and the tenant's custom roles, with
//! optimistic concurrency; the engine refuses any role that would grant what its
//! editor does not hold.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rolecall_core::profile::{GrantSpec, Profile};
use rolecall_engine::View;
use rolecall_engine::authz::{Object, authorize};
use rolecall_engine::commands::{CreateRole, DeleteRole, RoleDraft, UpdateRole};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ReadQuery, WriteResponse, tenant_for, valid_id, write};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
}

/// A role as shown and as written. Grant values: `true`/`false`, a level name, a
/// choice name or list of choice names, or an integer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoleView {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Role type id.
    #[serde(rename = "type")]
    pub role_type: Option<String>,
    /// A template of the profile (read-only).
    pub template: bool,
    /// Version, for optimistic concurrency (custom roles).
    pub version: Option<u64>,
    /// Included role ids.
    pub includes: Vec<String>,
    /// Privilege id → value.
    #[schema(value_type = Object)]
    pub grants: BTreeMap<String, serde_json::Value>,
    /// Locked privilege id → value.
    #[schema(value_type = Object)]
    pub locked: BTreeMap<String, serde_json::Value>,
}

/// Create (or copy) a role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateRole)]
pub struct CreateRoleBody {
    /// New role id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Role type id.
    #[serde(rename = "type")]
    pub role_type: Option<String>,
    /// Copy this role (template or custom) first; the fields given override it.
    pub copy_of: Option<String>,
    /// Included role ids.
    pub includes: Option<Vec<String>>,
    /// Privilege (id or name) → value.
    #[schema(value_type = Object)]
    pub grants: Option<BTreeMap<String, serde_json::Value>>,
}

/// Replace a custom role. `version` must be the role's current version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateRole)]
pub struct UpdateRoleBody {
    /// The version being edited.
    pub version: u64,
    /// Display name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Role type id.
    #[serde(rename = "type")]
    pub role_type: Option<String>,
    /// Included role ids (kept when absent).
    pub includes: Option<Vec<String>>,
    /// Privilege (id or name) → value: the role's whole grants (required; `{}` clears
    /// them).
    #[schema(value_type = Object)]
    pub grants: BTreeMap<String, serde_json::Value>,
}

/// Roles of a tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleList {
    /// Templates first, then custom roles.
    pub roles: Vec<RoleView>,
    /// Revision answered from.
    pub revision: u64,
}

/// A grant value as JSON: `true`/`false`, a level, a list of choices, or a number.
fn spec_json(g: &GrantSpec) -> serde_json::Value {
    match g {
        GrantSpec::Bool(b) => serde_json::Value::Bool(*b),
        GrantSpec::Str(s) => serde_json::Value::String(s.clone()),
        GrantSpec::List(l) => serde_json::json!(l),
        GrantSpec::Int(n) => serde_json::json!(n),
    }
}

/// Grants as JSON (privilege id → value), from resolved grants.
pub(crate) fn grants_json(
    p: &Profile,
    g: &[(usize, rolecall_core::profile::GrantValue)],
) -> BTreeMap<String, serde_json::Value> {
    g.iter()
        .filter_map(|(q, v)| {
            let id = p.privileges.get(*q)?.id.clone();
            Some((
                id,
                v.to_spec(p, *q)
                    .map_or(serde_json::Value::Null, |s| spec_json(&s)),
            ))
        })
        .collect()
}

/// A JSON grants object as grant specs, refusing values that are not grants.
fn grant_specs(
    grants: &BTreeMap<String, serde_json::Value>,
) -> ApiResult<Vec<(String, GrantSpec)>> {
    grants
        .iter()
        .map(|(k, v)| {
            let spec = match v {
                serde_json::Value::Bool(b) => GrantSpec::Bool(*b),
                serde_json::Value::String(s) => GrantSpec::Str(s.clone()),
                serde_json::Value::Number(n) => GrantSpec::Int(n.as_i64().ok_or_else(|| ApiError::bad_request(format!("grant `{k}`: {n} is not an integer")))?),
                serde_json::Value::Array(a) => GrantSpec::List(
                    a.iter()
                        .map(|x| x.as_str().map(str::to_owned).ok_or_else(|| ApiError::bad_request(format!("grant `{k}`: choices must be strings"))))
                        .collect::<ApiResult<_>>()?,
                ),
                other => return Err(ApiError::bad_request(format!("grant `{k}`: {other} is not a grant value (true/false, a level, choices, or an integer)"))),
            };
            Ok((k.clone(), spec))
        })
        .collect()
}

impl CreateRoleBody {
    /// The engine's draft of this body.
    pub(crate) fn draft(self) -> ApiResult<RoleDraft> {
        Ok(RoleDraft {
            grants: self.grants.as_ref().map(grant_specs).transpose()?,
            id: self.id,
            copy_of: self.copy_of,
            name: self.name,
            description: self.description,
            role_type: self.role_type,
            includes: self.includes,
        })
    }
}

fn view(cur: &View, id: &str) -> Option<RoleView> {
    let p = &cur.profile;
    if let Some(d) = p.role(id) {
        return Some(RoleView {
            id: d.id.clone(),
            name: d.name.clone(),
            description: d.description.clone(),
            role_type: d
                .role_type
                .and_then(|t| p.role_types.get(t))
                .map(|t| t.id.clone()),
            template: true,
            version: None,
            includes: d.includes.clone(),
            grants: grants_json(p, &d.grants),
            locked: grants_json(p, &d.locked),
        });
    }
    let spec = cur.mem.state.roles.iter().find(|r| r.id == id)?;
    let d = rolecall_core::profile::resolve_role(p, spec).ok()?;
    Some(RoleView {
        id: d.id.clone(),
        name: d.name.clone(),
        description: d.description.clone(),
        role_type: spec.role_type.clone(),
        template: false,
        version: cur.mem.role_versions.get(id).copied(),
        includes: d.includes.clone(),
        grants: grants_json(p, &d.grants),
        locked: grants_json(p, &d.locked),
    })
}

/// Lists templates and custom roles.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/roles", params(("tenant" = String, Path,), ReadQuery), responses((status = 200, body = RoleList)), security(("bearer" = [])))]
pub async fn list(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Json<RoleList>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let cur = t.read(q.consistency()?).await?;
    authorize(
        &cur.snapshot,
        &caller.0,
        "roles.read",
        Object::Shared,
        t.now(),
    )?;
    let ids = cur
        .profile
        .roles
        .iter()
        .map(|r| r.id.clone())
        .chain(cur.mem.state.roles.iter().map(|r| r.id.clone()));
    let roles = ids.filter_map(|id| view(&cur, &id)).collect();
    Ok(Json(RoleList {
        roles,
        revision: cur.revision,
    }))
}

/// One role.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/roles/{role}", params(("tenant" = String, Path,), ("role" = String, Path,), ReadQuery), responses((status = 200, body = RoleView), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get_one(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, role)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Json<RoleView>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    valid_id(&role, "role")?;
    let cur = t.read(q.consistency()?).await?;
    authorize(
        &cur.snapshot,
        &caller.0,
        "roles.read",
        Object::Shared,
        t.now(),
    )?;
    view(&cur, &role)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("unknown role `{role}`")))
}

/// Creates a custom role, or copies a template or role (`copy_of`).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/roles", params(("tenant" = String, Path,)), request_body = CreateRoleBody, responses((status = 201, body = WriteResponse), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<CreateRoleBody>,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    tenant_for(&s, &caller, &tenant).await?;
    valid_id(&body.id, "role")?;
    write(&s, &caller, &tenant, &CreateRole(body.draft()?)).await
}

/// Replaces a custom role; a stale `version` gets 409 and changes nothing.
#[utoipa::path(put, path = "/v1/tenants/{tenant}/roles/{role}", params(("tenant" = String, Path,), ("role" = String, Path,)), request_body = UpdateRoleBody, responses((status = 200, body = WriteResponse), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn update(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, role)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<UpdateRoleBody>,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    tenant_for(&s, &caller, &tenant).await?;
    valid_id(&role, "role")?;
    let cmd = UpdateRole {
        id: role,
        version: body.version,
        name: body.name,
        description: body.description,
        role_type: body.role_type,
        includes: body.includes,
        grants: grant_specs(&body.grants)?,
    };
    write(&s, &caller, &tenant, &cmd).await
}

/// Deletes a custom role that nothing uses.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/roles/{role}", params(("tenant" = String, Path,), ("role" = String, Path,)), responses((status = 200, body = WriteResponse), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, role)): ApiPath<(String, String)>,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    tenant_for(&s, &caller, &tenant).await?;
    valid_id(&role, "role")?;
    write(&s, &caller, &tenant, &DeleteRole(role)).await
}
