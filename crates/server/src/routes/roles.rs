//! Roles: templates (read-only, copyable) and the tenant's custom roles, with
//! optimistic concurrency and anti-escalation.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rolecall_core::profile::{GrantSpec, GrantValue, PrivKind, Profile, RoleDef, RoleSpec};
use rolecall_store::Change;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    ApiJson, ApiPath, ApiQuery, REVISION_WAIT, ReadQuery, WriteResponse, tenant_for, valid_id,
};
use crate::app::{AppState, now};
use crate::auth::Caller;
use crate::authz::{authorize, role_within_caller};
use crate::error::{ApiError, ApiResult};
use crate::tenant::Current;

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
pub struct CreateRole {
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
pub struct UpdateRole {
    /// The version being edited.
    pub version: u64,
    /// Display name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Role type id.
    #[serde(rename = "type")]
    pub role_type: Option<String>,
    /// Included role ids.
    #[serde(default)]
    pub includes: Vec<String>,
    /// Privilege (id or name) → value.
    #[serde(default)]
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

fn grant_json(p: &Profile, q: usize, v: &GrantValue) -> serde_json::Value {
    let kind = p.privileges.get(q).map(|x| &x.kind);
    match (v, kind) {
        (GrantValue::Off, _) => serde_json::Value::Bool(false),
        (GrantValue::On, _) => serde_json::Value::Bool(true),
        (GrantValue::Level(l), Some(PrivKind::Levels(levels))) => serde_json::json!(levels.get(*l)),
        (GrantValue::Choices(cs), Some(PrivKind::Choice { choices, .. })) => {
            serde_json::json!(
                cs.iter()
                    .filter_map(|c| choices.get(*c))
                    .collect::<Vec<_>>()
            )
        }
        (GrantValue::Number(n), _) => serde_json::json!(n),
        _ => serde_json::Value::Null,
    }
}

pub(crate) fn grants_json(
    p: &Profile,
    g: &[(usize, GrantValue)],
) -> BTreeMap<String, serde_json::Value> {
    g.iter()
        .filter_map(|(q, v)| Some((p.privileges.get(*q)?.id.clone(), grant_json(p, *q, v))))
        .collect()
}

/// A resolved role as a spec (privilege ids, value names).
pub fn spec_of(p: &Profile, d: &RoleDef) -> RoleSpec {
    let conv = |g: &[(usize, GrantValue)]| -> Vec<(String, GrantSpec)> {
        g.iter()
            .filter_map(|(q, v)| {
                let id = p.privileges.get(*q)?.id.clone();
                let spec = match grant_json(p, *q, v) {
                    serde_json::Value::Bool(b) => GrantSpec::Bool(b),
                    serde_json::Value::String(s) => GrantSpec::Str(s),
                    serde_json::Value::Array(a) => GrantSpec::List(
                        a.into_iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect(),
                    ),
                    serde_json::Value::Number(n) => GrantSpec::Int(n.as_i64()?),
                    _ => return None,
                };
                Some((id, spec))
            })
            .collect()
    };
    RoleSpec {
        id: d.id.clone(),
        name: Some(d.name.clone()),
        description: d.description.clone(),
        role_type: d
            .role_type
            .and_then(|t| p.role_types.get(t))
            .map(|t| t.id.clone()),
        includes: d.includes.clone(),
        grants: conv(&d.grants),
        locked: conv(&d.locked),
    }
}

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

fn view(cur: &Current, id: &str) -> Option<RoleView> {
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
    let t = tenant_for(&s, &caller, &tenant)?;
    let cur = t.at_least(q.at_least_revision, REVISION_WAIT).await?;
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
    let t = tenant_for(&s, &caller, &tenant)?;
    valid_id(&role, "role")?;
    let cur = t.at_least(q.at_least_revision, REVISION_WAIT).await?;
    view(&cur, &role)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("unknown role `{role}`")))
}

/// The version of custom role `id` in `cur` (1 for a stored role without one).
fn version_of(cur: &Current, id: &str) -> Option<u64> {
    cur.mem
        .state
        .roles
        .iter()
        .any(|r| r.id == id)
        .then(|| cur.mem.role_versions.get(id).copied().unwrap_or(1))
}

/// Writes a role made from version `from` (None: a new role). The version is checked
/// again under the tenant's write lock, so of two edits made from one version, or two
/// creations of one id, exactly one wins.
async fn write_role(
    s: &AppState,
    caller: &Caller,
    tenant: &crate::tenant::Tenant,
    spec: RoleSpec,
    from: Option<u64>,
) -> ApiResult<u64> {
    let id = spec.id.clone();
    let t = now();
    let version = from.map_or(1, |v| v + 1);
    let rev = tenant
        .write(
            s.store.as_ref(),
            vec![Change::PutRole {
                role: spec,
                version,
            }],
            &caller.actor(),
            None,
            t,
            |cur, _mem, candidate| {
                match (from, version_of(cur, &id)) {
                    (None, Some(_)) => {
                        return Err(ApiError::new(
                            StatusCode::CONFLICT,
                            "exists",
                            format!("role `{id}` already exists"),
                        ));
                    }
                    (Some(_), None) => {
                        return Err(ApiError::not_found(format!("unknown role `{id}`")));
                    }
                    (Some(v), Some(now_at)) if v != now_at => {
                        return Err(ApiError::conflict(format!(
                            "role `{id}` is at version {now_at}; this edit was made from version {v}. Reload and edit again"
                        )));
                    }
                    _ => {}
                }
                role_within_caller(cur, candidate, caller, &id, t)
            },
        )
        .await?;
    s.saw_revision(&tenant.id, rev);
    Ok(rev)
}

/// Creates a custom role, or copies a template or role (`copy_of`).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/roles", params(("tenant" = String, Path,)), request_body = CreateRole, responses((status = 201, body = WriteResponse), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<CreateRole>,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    let t = tenant_for(&s, &caller, &tenant)?;
    valid_id(&body.id, "role")?;
    let cur = t.current();
    authorize(&cur.snapshot, &caller, "roles.write", None, now())?;
    if view(&cur, &body.id).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "exists",
            format!("role `{}` already exists", body.id),
        ));
    }
    let spec = spec_for(&cur, body, None)?;
    let revision = write_role(&s, &caller, &t, spec, None).await?;
    Ok((StatusCode::CREATED, Json(WriteResponse { revision })))
}

/// Replaces a custom role; a stale `version` gets 409 and changes nothing.
#[utoipa::path(put, path = "/v1/tenants/{tenant}/roles/{role}", params(("tenant" = String, Path,), ("role" = String, Path,)), request_body = UpdateRole, responses((status = 200, body = WriteResponse), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn update(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, role)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<UpdateRole>,
) -> ApiResult<Json<WriteResponse>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    valid_id(&role, "role")?;
    let cur = t.current();
    authorize(&cur.snapshot, &caller, "roles.write", None, now())?;
    if cur.profile.role(&role).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "read_only",
            format!(
                "role `{role}` is a template and read-only; copy it with POST /roles {{\"copy_of\": \"{role}\"}}"
            ),
        ));
    }
    let Some(existing) = cur.mem.state.roles.iter().find(|r| r.id == role) else {
        return Err(ApiError::not_found(format!("unknown role `{role}`")));
    };
    let version = version_of(&cur, &role).unwrap_or(1);
    if body.version != version {
        return Err(ApiError::conflict(format!(
            "role `{role}` is at version {version}; this edit was made from version {}. Reload and edit again",
            body.version
        )));
    }
    let spec = RoleSpec {
        id: role.clone(),
        name: body.name.or_else(|| existing.name.clone()),
        description: body.description.or_else(|| existing.description.clone()),
        role_type: body.role_type.or_else(|| existing.role_type.clone()),
        includes: body.includes,
        grants: grant_specs(&body.grants)?,
        locked: existing.locked.clone(),
    };
    let revision = write_role(&s, &caller, &t, spec, Some(version)).await?;
    Ok(Json(WriteResponse { revision }))
}

/// Deletes a custom role that nothing uses.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/roles/{role}", params(("tenant" = String, Path,), ("role" = String, Path,)), responses((status = 200, body = WriteResponse), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, role)): ApiPath<(String, String)>,
) -> ApiResult<Json<WriteResponse>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    valid_id(&role, "role")?;
    let cur = t.current();
    authorize(&cur.snapshot, &caller, "roles.write", None, now())?;
    if cur.profile.role(&role).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "read_only",
            format!("role `{role}` is a template and cannot be deleted"),
        ));
    }
    if !cur.mem.state.roles.iter().any(|r| r.id == role) {
        return Err(ApiError::not_found(format!("unknown role `{role}`")));
    }
    if let Some(a) = cur.mem.state.assignments.iter().find(|a| a.role == role) {
        return Err(ApiError::invalid(format!(
            "role `{role}` is assigned (assignment `{}` to `{}`); remove its assignments first",
            a.id, a.principal
        )));
    }
    let rev = t
        .write(
            s.store.as_ref(),
            vec![Change::DeleteRole { id: role }],
            &caller.actor(),
            None,
            now(),
            |_, _, _| Ok(()),
        )
        .await?;
    s.saw_revision(&t.id, rev);
    Ok(Json(WriteResponse { revision: rev }))
}

/// The spec a create (or an impact preview) describes: `copy_of` or `base` first,
/// then the fields given.
pub(crate) fn spec_for(
    cur: &Current,
    body: CreateRole,
    base: Option<RoleSpec>,
) -> ApiResult<RoleSpec> {
    let mut spec = match &body.copy_of {
        Some(src) => {
            if let Some(d) = cur.profile.role(src) {
                spec_of(&cur.profile, d)
            } else {
                cur.mem
                    .state
                    .roles
                    .iter()
                    .find(|r| &r.id == src)
                    .cloned()
                    .ok_or_else(|| ApiError::invalid(format!("`copy_of`: unknown role `{src}`")))?
            }
        }
        None => base.unwrap_or_default(),
    };
    spec.id = body.id.clone();
    if body.copy_of.is_some() && body.name.is_none() {
        spec.name = Some(format!("{} (copy)", spec.name.clone().unwrap_or_default()));
    }
    if let Some(n) = body.name {
        spec.name = Some(n);
    }
    if body.description.is_some() {
        spec.description = body.description;
    }
    if body.role_type.is_some() {
        spec.role_type = body.role_type;
    }
    if let Some(i) = body.includes {
        spec.includes = i;
    }
    if let Some(g) = &body.grants {
        spec.grants = grant_specs(g)?;
    }
    Ok(spec)
}

/// The change an impact preview of `body` stands for: an edit of an existing custom
/// role (fields given replace its own), or a new role.
pub(crate) fn preview_change(cur: &Current, body: CreateRole) -> ApiResult<Change> {
    valid_id(&body.id, "role")?;
    if cur.profile.role(&body.id).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "read_only",
            format!(
                "role `{}` is a template and read-only; preview a copy",
                body.id
            ),
        ));
    }
    let existing = cur
        .mem
        .state
        .roles
        .iter()
        .find(|r| r.id == body.id)
        .cloned();
    let version = version_of(cur, &body.id).map_or(1, |v| v + 1);
    let spec = spec_for(cur, body, existing)?;
    Ok(Change::PutRole {
        role: spec,
        version,
    })
}
