//! Users, groups, org units, queues and other resources: one generic implementation
//! over the tenant's entities, with the relations each kind manages in its body.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rolecall_core::Snapshot;
use rolecall_core::profile::Profile;
use rolecall_core::state::Entity;
use rolecall_engine::authz::{Object, Reader, authorize};
use rolecall_engine::commands::{DeleteEntity, EntityDraft, EntityKind, UpsertEntity};
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
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, put_user, delete_user))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group, put_group, delete_group))
        .routes(routes!(list_org_units, create_org_unit))
        .routes(routes!(get_org_unit, put_org_unit, delete_org_unit))
        .routes(routes!(list_queues, create_queue))
        .routes(routes!(get_queue, put_queue, delete_queue))
        .routes(routes!(list_resources))
        .routes(routes!(get_resource, put_resource, delete_resource))
}

/// An entity as written: fields that do not belong to its kind are refused.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityBody {
    /// Id (on create; must match the path on update if given).
    pub id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Org unit kind (org units).
    pub kind: Option<String>,
    /// Parent org unit (org units).
    pub parent: Option<String>,
    /// Org unit (users, queues).
    pub org_unit: Option<String>,
    /// Members (groups, queues).
    pub members: Option<Vec<String>>,
    /// Supervisors (queues).
    pub supervisors: Option<Vec<String>>,
    /// Other relations the profile declares: name → target ids.
    pub relations: Option<BTreeMap<String, Vec<String>>>,
    /// Attributes: name → bool, integer or string.
    #[schema(value_type = Object)]
    pub attributes: Option<BTreeMap<String, serde_json::Value>>,
}

/// An entity as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityView {
    /// Type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Relations: name → target ids (computed inverses included).
    pub relations: BTreeMap<String, Vec<String>>,
    /// Attributes.
    #[schema(value_type = Object)]
    pub attributes: BTreeMap<String, serde_json::Value>,
}

/// A list of entities.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityList {
    /// Entities, by id.
    pub items: Vec<EntityView>,
    /// Revision answered from.
    pub revision: u64,
}

fn view(p: &Profile, snap: &Snapshot, e: &Entity) -> EntityView {
    let mut relations: BTreeMap<String, Vec<String>> = e
        .relations
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // Computed inverse relations (a user's groups and queues), from the snapshot.
    if let Some(ty) = p.type_id(&e.ty)
        && let Some(def) = p.types.get(ty)
        && let Some(me) = snap.entity(ty, &e.id)
    {
        for (ri, r) in def.relations.iter().enumerate() {
            if r.inverse.is_some() {
                let mut ids: Vec<String> = snap
                    .related(ty, me, ri)
                    .iter()
                    .filter_map(|t| snap.entity_id(r.target, *t).map(str::to_owned))
                    .collect();
                ids.sort();
                if !ids.is_empty() {
                    relations.insert(r.name.clone(), ids);
                }
            }
        }
    }
    EntityView {
        ty: e.ty.clone(),
        id: e.id.clone(),
        name: e.name.clone(),
        relations,
        attributes: e
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), super::value_json(v)))
            .collect(),
    }
}

/// The engine's draft of a body: attributes as scalar values.
fn draft(body: EntityBody) -> ApiResult<EntityDraft> {
    let attributes = body
        .attributes
        .iter()
        .flatten()
        .map(|(k, v)| {
            Ok((
                k.clone(),
                super::json_scalar(&format!("attribute `{k}`"), v)?,
            ))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(EntityDraft {
        name: body.name,
        kind: body.kind,
        parent: body.parent,
        org_unit: body.org_unit,
        members: body.members,
        supervisors: body.supervisors,
        relations: body.relations,
        attributes,
    })
}

async fn list(
    s: Arc<AppState>,
    caller: Caller,
    tenant: String,
    kind: EntityKind,
    q: ReadQuery,
) -> ApiResult<Json<EntityList>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let cur = t.read(q.consistency()?).await?;
    let (tid, ty) = kind.type_in(&cur.profile)?;
    let reader = Reader::new(&cur.snapshot, &caller.0, kind.read_op(), t.now())?;
    // By id, as documented: the state in memory keeps write order, the store loads by id,
    // and the same state must read the same before and after a restart. Only the items
    // the caller may read.
    let mut items: Vec<EntityView> = cur
        .mem
        .state
        .entities
        .iter()
        .filter(|e| e.ty == ty)
        .filter(|e| reader.may(Object::Entity { ty: tid, id: &e.id }))
        .map(|e| view(&cur.profile, &cur.snapshot, e))
        .collect();
    items.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Json(EntityList {
        items,
        revision: cur.revision,
    }))
}

async fn get(
    s: Arc<AppState>,
    caller: Caller,
    tenant: String,
    kind: EntityKind,
    id: String,
    q: ReadQuery,
) -> ApiResult<Json<EntityView>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    valid_id(&id, "entity")?;
    let cur = t.read(q.consistency()?).await?;
    let (tid, ty) = kind.type_in(&cur.profile)?;
    let e = cur
        .mem
        .entity(&ty, &id)
        .ok_or_else(|| ApiError::not_found(format!("unknown {ty} `{id}`")))?;
    // Everyone reads their own user record.
    if !(tid == rolecall_core::profile::USER && caller.0.is_user(&id)) {
        authorize(
            &cur.snapshot,
            &caller.0,
            kind.read_op(),
            Object::Entity { ty: tid, id: &id },
            t.now(),
        )?;
    }
    Ok(Json(view(&cur.profile, &cur.snapshot, e)))
}

/// Creates (`path_id` absent: 409 if it exists) or replaces an entity.
async fn upsert(
    s: Arc<AppState>,
    caller: Caller,
    tenant: String,
    kind: EntityKind,
    path_id: Option<String>,
    body: EntityBody,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    tenant_for(&s, &caller, &tenant).await?;
    let id = match (&path_id, &body.id) {
        (Some(p), Some(b)) if p != b => {
            return Err(ApiError::bad_request(format!(
                "body id `{b}` differs from the path's `{p}`"
            )));
        }
        (Some(p), _) => p.clone(),
        (None, Some(b)) => b.clone(),
        (None, None) => return Err(ApiError::bad_request("missing `id`")),
    };
    let cmd = UpsertEntity {
        kind,
        id,
        create: path_id.is_none(),
        draft: draft(body)?,
    };
    write(&s, &caller, &tenant, &cmd).await
}

async fn delete(
    s: Arc<AppState>,
    caller: Caller,
    tenant: String,
    kind: EntityKind,
    id: String,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    write(&s, &caller, &tenant, &DeleteEntity { kind, id }).await
}

macro_rules! kind_routes {
    ($kind:expr, $path:literal, $list:ident, $create:ident, $get:ident, $put:ident, $delete:ident) => {
        #[doc = concat!("Lists ", $path, ".")]
        #[utoipa::path(get, path = concat!("/v1/tenants/{tenant}/", $path), params(("tenant" = String, Path,), ReadQuery), responses((status = 200, body = EntityList)), security(("bearer" = [])))]
        pub async fn $list(State(s): State<Arc<AppState>>, caller: Caller, ApiPath(tenant): ApiPath<String>, ApiQuery(q): ApiQuery<ReadQuery>) -> ApiResult<Json<EntityList>> {
            list(s, caller, tenant, $kind, q).await
        }
        #[doc = concat!("Creates one of ", $path, ".")]
        #[utoipa::path(post, path = concat!("/v1/tenants/{tenant}/", $path), params(("tenant" = String, Path,)), request_body = EntityBody, responses((status = 201, body = WriteResponse), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
        pub async fn $create(State(s): State<Arc<AppState>>, caller: Caller, ApiPath(tenant): ApiPath<String>, ApiJson(body): ApiJson<EntityBody>) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
            upsert(s, caller, tenant, $kind, None, body).await
        }
        #[doc = concat!("One of ", $path, ".")]
        #[utoipa::path(get, path = concat!("/v1/tenants/{tenant}/", $path, "/{id}"), params(("tenant" = String, Path,), ("id" = String, Path,), ReadQuery), responses((status = 200, body = EntityView), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
        pub async fn $get(State(s): State<Arc<AppState>>, caller: Caller, ApiPath((tenant, id)): ApiPath<(String, String)>, ApiQuery(q): ApiQuery<ReadQuery>) -> ApiResult<Json<EntityView>> {
            get(s, caller, tenant, $kind, id, q).await
        }
        #[doc = concat!("Creates or replaces one of ", $path, ".")]
        #[utoipa::path(put, path = concat!("/v1/tenants/{tenant}/", $path, "/{id}"), params(("tenant" = String, Path,), ("id" = String, Path,)), request_body = EntityBody, responses((status = 200, body = WriteResponse), (status = 403, body = crate::error::ErrorBody)), security(("bearer" = [])))]
        pub async fn $put(State(s): State<Arc<AppState>>, caller: Caller, ApiPath((tenant, id)): ApiPath<(String, String)>, ApiJson(body): ApiJson<EntityBody>) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
            upsert(s, caller, tenant, $kind, Some(id), body).await
        }
        #[doc = concat!("Deletes one of ", $path, " and its relation tuples.")]
        #[utoipa::path(delete, path = concat!("/v1/tenants/{tenant}/", $path, "/{id}"), params(("tenant" = String, Path,), ("id" = String, Path,)), responses((status = 200, body = WriteResponse), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
        pub async fn $delete(State(s): State<Arc<AppState>>, caller: Caller, ApiPath((tenant, id)): ApiPath<(String, String)>) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
            delete(s, caller, tenant, $kind, id).await
        }
    };
}

kind_routes!(
    EntityKind::User,
    "users",
    list_users,
    create_user,
    get_user,
    put_user,
    delete_user
);
kind_routes!(
    EntityKind::Group,
    "groups",
    list_groups,
    create_group,
    get_group,
    put_group,
    delete_group
);
kind_routes!(
    EntityKind::OrgUnit,
    "org-units",
    list_org_units,
    create_org_unit,
    get_org_unit,
    put_org_unit,
    delete_org_unit
);
kind_routes!(
    EntityKind::Queue,
    "queues",
    list_queues,
    create_queue,
    get_queue,
    put_queue,
    delete_queue
);

/// Lists resources of a profile-declared type (e.g. conversations).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/resources/{ty}", params(("tenant" = String, Path,), ("ty" = String, Path,), ReadQuery), responses((status = 200, body = EntityList)), security(("bearer" = [])))]
pub async fn list_resources(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, ty)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Json<EntityList>> {
    list(s, caller, tenant, EntityKind::Resource(ty), q).await
}

/// One resource.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/resources/{ty}/{id}", params(("tenant" = String, Path,), ("ty" = String, Path,), ("id" = String, Path,), ReadQuery), responses((status = 200, body = EntityView)), security(("bearer" = [])))]
pub async fn get_resource(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, ty, id)): ApiPath<(String, String, String)>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Json<EntityView>> {
    get(s, caller, tenant, EntityKind::Resource(ty), id, q).await
}

/// Creates or replaces a resource (its name, attributes and the relations given).
#[utoipa::path(put, path = "/v1/tenants/{tenant}/resources/{ty}/{id}", params(("tenant" = String, Path,), ("ty" = String, Path,), ("id" = String, Path,)), request_body = EntityBody, responses((status = 200, body = WriteResponse)), security(("bearer" = [])))]
pub async fn put_resource(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, ty, id)): ApiPath<(String, String, String)>,
    ApiJson(body): ApiJson<EntityBody>,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    upsert(s, caller, tenant, EntityKind::Resource(ty), Some(id), body).await
}

/// Deletes a resource and its relation tuples.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/resources/{ty}/{id}", params(("tenant" = String, Path,), ("ty" = String, Path,), ("id" = String, Path,)), responses((status = 200, body = WriteResponse)), security(("bearer" = [])))]
pub async fn delete_resource(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, ty, id)): ApiPath<(String, String, String)>,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    delete(s, caller, tenant, EntityKind::Resource(ty), id).await
}
