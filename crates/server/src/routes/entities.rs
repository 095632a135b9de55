//! Users, groups, org units, queues and other resources: one generic implementation
//! over the tenant's entities, with the relations each kind manages in its body.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rolecall_core::Snapshot;
use rolecall_core::profile::{Profile, TypeId, Value};
use rolecall_core::state::Entity;
use rolecall_store::{Change, Tuple};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    ApiJson, ApiPath, ApiQuery, REVISION_WAIT, ReadQuery, WriteResponse, tenant_for, valid_id,
};
use crate::app::{AppState, now};
use crate::auth::Caller;
use crate::authz::{Subject, authorize};
use crate::error::{ApiError, ApiResult};

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

/// What differs between the kinds.
struct Kind {
    ty: &'static str,
    write_op: &'static str,
    delete_op: &'static str,
    /// Body fields that are relations of this kind.
    fields: &'static [&'static str],
}

const USERS: Kind = Kind {
    ty: "user",
    write_op: "users.write",
    delete_op: "users.delete",
    fields: &["org_unit"],
};
const GROUPS: Kind = Kind {
    ty: "group",
    write_op: "groups.write",
    delete_op: "groups.write",
    fields: &["members"],
};
const ORG_UNITS: Kind = Kind {
    ty: "org_unit",
    write_op: "org_units.write",
    delete_op: "org_units.write",
    fields: &["parent"],
};
const QUEUES: Kind = Kind {
    ty: "queue",
    write_op: "queues.write",
    delete_op: "queues.write",
    fields: &["org_unit", "members", "supervisors"],
};
const RESOURCES: Kind = Kind {
    ty: "",
    write_op: "resources.write",
    delete_op: "resources.write",
    fields: &[],
};

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

fn type_of(p: &Profile, kind: &Kind, resource_type: Option<&str>) -> ApiResult<(TypeId, String)> {
    let ty = if kind.ty.is_empty() {
        resource_type.unwrap_or("")
    } else {
        kind.ty
    };
    match p.type_id(ty) {
        Some(_)
            if kind.ty.is_empty()
                && matches!(ty, "tenant" | "user" | "group" | "queue" | "org_unit") =>
        {
            Err(ApiError::bad_request(format!(
                "`{ty}` has its own endpoint (/users, /groups, /queues, /org-units)"
            )))
        }
        Some(t) => Ok((t, ty.to_owned())),
        None => Err(ApiError::not_found(format!(
            "unknown resource type `{ty}` in profile `{}`",
            p.id
        ))),
    }
}

/// Relation name → the targets a body sets (`None`: the field was left out).
type ManagedRelations = Vec<(String, Option<Vec<String>>)>;

/// Whether a write creates (409 if present) or replaces the entity at a path id.
enum Mode {
    Create,
    Replace(String),
}

/// Turns a body into the entity's new name/attributes and its managed relations.
fn parse_body(
    p: &Profile,
    kind: &Kind,
    ty: TypeId,
    id: &str,
    body: &EntityBody,
) -> ApiResult<(Change, ManagedRelations)> {
    let ty_id = p.types.get(ty).map_or("?", |t| t.id.as_str()).to_owned();
    let stray = |present: bool, field: &str| -> ApiResult<()> {
        if present && !kind.fields.contains(&field) {
            return Err(ApiError::bad_request(format!(
                "`{field}` does not belong to a {ty_id}"
            )));
        }
        Ok(())
    };
    stray(body.parent.is_some(), "parent")?;
    stray(body.org_unit.is_some(), "org_unit")?;
    stray(body.members.is_some(), "members")?;
    stray(body.supervisors.is_some(), "supervisors")?;
    if body.kind.is_some() && ty_id != "org_unit" {
        return Err(ApiError::bad_request(format!(
            "`kind` does not belong to a {ty_id}"
        )));
    }
    let mut attributes: Vec<(String, Value)> = Vec::new();
    if ty_id == "org_unit" {
        let k = body
            .kind
            .clone()
            .ok_or_else(|| ApiError::bad_request("an org unit needs a `kind`"))?;
        attributes.push(("kind".into(), Value::Str(k)));
    }
    for (k, v) in body.attributes.iter().flatten() {
        let value = super::json_scalar(&format!("attribute `{k}`"), v)?;
        if k == "kind" && ty_id == "org_unit" {
            return Err(ApiError::bad_request(
                "give an org unit's kind as `kind`, not as an attribute",
            ));
        }
        attributes.push((k.clone(), value));
    }
    let mut rels: Vec<(String, Option<Vec<String>>)> = Vec::new();
    let one = |v: &Option<String>| v.as_ref().map(|x| vec![x.clone()]);
    for (field, value) in [
        ("parent", one(&body.parent)),
        ("org_unit", one(&body.org_unit)),
        ("members", body.members.clone()),
        ("supervisors", body.supervisors.clone()),
    ] {
        if kind.fields.contains(&field) {
            rels.push((field.to_owned(), value));
        }
    }
    for (name, targets) in body.relations.iter().flatten() {
        if kind.fields.contains(&name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "give `{name}` as its own field, not in `relations`"
            )));
        }
        rels.push((name.clone(), Some(targets.clone())));
    }
    let def = p.types.get(ty);
    for (name, targets) in &rels {
        let Some(r) = def.and_then(|d| d.relation(name).and_then(|i| d.relations.get(i))) else {
            return Err(ApiError::bad_request(format!(
                "`{ty_id}` has no relation `{name}`"
            )));
        };
        if r.inverse.is_some() {
            return Err(ApiError::bad_request(format!(
                "`{name}` of a {ty_id} is computed; write the relation it inverts"
            )));
        }
        for t in targets.iter().flatten() {
            valid_id(t, name)?;
        }
    }
    Ok((
        Change::UpsertEntity {
            ty: ty_id,
            id: id.to_owned(),
            name: body.name.clone(),
            attributes,
        },
        rels,
    ))
}

/// Tuple changes that make relation `name` of `ty:id` hold exactly `want` (None = clear).
fn relation_diff(
    p: &Profile,
    ty: TypeId,
    id: &str,
    existing: Option<&Entity>,
    name: &str,
    want: Option<&Vec<String>>,
) -> Vec<Change> {
    let ty_id = p.types.get(ty).map_or("", |t| t.id.as_str());
    let stype = p
        .types
        .get(ty)
        .and_then(|d| d.relation(name).and_then(|i| d.relations.get(i)))
        .and_then(|r| p.types.get(r.target))
        .map_or("", |t| t.id.as_str());
    let have: Vec<String> = existing
        .and_then(|e| e.relations.iter().find(|(r, _)| r == name))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let want: Vec<String> = want.cloned().unwrap_or_default();
    let tuple = |sid: &String| Tuple {
        rtype: ty_id.to_owned(),
        rid: id.to_owned(),
        relation: name.to_owned(),
        stype: stype.to_owned(),
        sid: sid.clone(),
    };
    let mut out: Vec<Change> = have
        .iter()
        .filter(|h| !want.contains(h))
        .map(|h| Change::DeleteRelation(tuple(h)))
        .collect();
    out.extend(
        want.iter()
            .filter(|w| !have.contains(w))
            .map(|w| Change::PutRelation(tuple(w))),
    );
    out
}

async fn list(
    s: Arc<AppState>,
    caller: Caller,
    tenant: String,
    kind: &Kind,
    resource_type: Option<String>,
    q: ReadQuery,
) -> ApiResult<Json<EntityList>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    let cur = t.at_least(q.at_least_revision, REVISION_WAIT).await?;
    let (_, ty) = type_of(&cur.profile, kind, resource_type.as_deref())?;
    // By id, as documented: the state in memory keeps write order, the store loads by id,
    // and the same state must read the same before and after a restart.
    let mut items: Vec<EntityView> = cur
        .mem
        .state
        .entities
        .iter()
        .filter(|e| e.ty == ty)
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
    kind: &Kind,
    resource_type: Option<String>,
    id: String,
    q: ReadQuery,
) -> ApiResult<Json<EntityView>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    valid_id(&id, "entity")?;
    let cur = t.at_least(q.at_least_revision, REVISION_WAIT).await?;
    let (_, ty) = type_of(&cur.profile, kind, resource_type.as_deref())?;
    cur.mem
        .entity(&ty, &id)
        .map(|e| Json(view(&cur.profile, &cur.snapshot, e)))
        .ok_or_else(|| ApiError::not_found(format!("unknown {ty} `{id}`")))
}

/// Creates (`create = true`, 409 if it exists) or replaces an entity.
async fn upsert(
    s: Arc<AppState>,
    caller: Caller,
    tenant: String,
    kind: &Kind,
    resource_type: Option<String>,
    mode: Mode,
    body: EntityBody,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    let (path_id, create) = match mode {
        Mode::Create => (None, true),
        Mode::Replace(id) => (Some(id), false),
    };
    let t = tenant_for(&s, &caller, &tenant)?;
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
    valid_id(&id, "entity")?;
    let cur = t.current();
    let (ty, ty_name) = type_of(&cur.profile, kind, resource_type.as_deref())?;
    let existing = cur.mem.entity(&ty_name, &id);
    if create && existing.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "exists",
            format!("{ty_name} `{id}` already exists"),
        ));
    }
    if existing.is_some() {
        authorize(
            &cur.snapshot,
            &caller,
            kind.write_op,
            Some(Subject { ty, id: &id }),
            now(),
        )?;
    }
    let (upsert, rels) = parse_body(&cur.profile, kind, ty, &id, &body)?;
    let mut changes = vec![upsert];
    for (name, want) in &rels {
        // On update, a relation field left out keeps its value; on create, it starts empty.
        if want.is_none() && !create && existing.is_some() {
            continue;
        }
        changes.extend(relation_diff(
            &cur.profile,
            ty,
            &id,
            existing,
            name,
            want.as_ref(),
        ));
    }
    let op = kind.write_op;
    let time = now();
    let rev = t
        .write(
            s.store.as_ref(),
            changes,
            &caller.actor(),
            None,
            time,
            |locked, _, candidate| {
                // The changes were computed from `existing`; under the write lock, refuse
                // them if the entity was created or changed meanwhile.
                let now_there = locked.mem.entity(&ty_name, &id);
                if create && now_there.is_some() {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "exists",
                        format!("{ty_name} `{id}` already exists"),
                    ));
                }
                if now_there != existing {
                    return Err(ApiError::conflict(format!(
                        "{ty_name} `{id}` changed while this request was handled; read it again and retry"
                    )));
                }
                authorize(candidate, &caller, op, Some(Subject { ty, id: &id }), time)
            },
        )
        .await?;
    s.saw_revision(&t.id, rev);
    Ok((
        if existing.is_some() {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(WriteResponse { revision: rev }),
    ))
}

async fn delete(
    s: Arc<AppState>,
    caller: Caller,
    tenant: String,
    kind: &Kind,
    resource_type: Option<String>,
    id: String,
) -> ApiResult<Json<WriteResponse>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    valid_id(&id, "entity")?;
    let cur = t.current();
    let (ty, ty_name) = type_of(&cur.profile, kind, resource_type.as_deref())?;
    if cur.mem.entity(&ty_name, &id).is_none() {
        return Err(ApiError::not_found(format!("unknown {ty_name} `{id}`")));
    }
    authorize(
        &cur.snapshot,
        &caller,
        kind.delete_op,
        Some(Subject { ty, id: &id }),
        now(),
    )?;
    let mut changes = vec![Change::DeleteEntity {
        ty: ty_name.clone(),
        id: id.clone(),
    }];
    if ty_name == "user" {
        for a in cur
            .mem
            .state
            .assignments
            .iter()
            .filter(|a| a.principal == id)
        {
            changes.push(Change::DeleteAssignment { id: a.id.clone() });
        }
    }
    let rev = t
        .write(
            s.store.as_ref(),
            changes,
            &caller.actor(),
            None,
            now(),
            |_, _, _| Ok(()),
        )
        .await?;
    s.saw_revision(&t.id, rev);
    Ok(Json(WriteResponse { revision: rev }))
}

macro_rules! kind_routes {
    ($kind:expr, $path:literal, $list:ident, $create:ident, $get:ident, $put:ident, $delete:ident) => {
        #[doc = concat!("Lists ", $path, ".")]
        #[utoipa::path(get, path = concat!("/v1/tenants/{tenant}/", $path), params(("tenant" = String, Path,), ReadQuery), responses((status = 200, body = EntityList)), security(("bearer" = [])))]
        pub async fn $list(State(s): State<Arc<AppState>>, caller: Caller, ApiPath(tenant): ApiPath<String>, ApiQuery(q): ApiQuery<ReadQuery>) -> ApiResult<Json<EntityList>> {
            list(s, caller, tenant, &$kind, None, q).await
        }
        #[doc = concat!("Creates one of ", $path, ".")]
        #[utoipa::path(post, path = concat!("/v1/tenants/{tenant}/", $path), params(("tenant" = String, Path,)), request_body = EntityBody, responses((status = 201, body = WriteResponse), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
        pub async fn $create(State(s): State<Arc<AppState>>, caller: Caller, ApiPath(tenant): ApiPath<String>, ApiJson(body): ApiJson<EntityBody>) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
            upsert(s, caller, tenant, &$kind, None, Mode::Create, body).await
        }
        #[doc = concat!("One of ", $path, ".")]
        #[utoipa::path(get, path = concat!("/v1/tenants/{tenant}/", $path, "/{id}"), params(("tenant" = String, Path,), ("id" = String, Path,), ReadQuery), responses((status = 200, body = EntityView), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
        pub async fn $get(State(s): State<Arc<AppState>>, caller: Caller, ApiPath((tenant, id)): ApiPath<(String, String)>, ApiQuery(q): ApiQuery<ReadQuery>) -> ApiResult<Json<EntityView>> {
            get(s, caller, tenant, &$kind, None, id, q).await
        }
        #[doc = concat!("Creates or replaces one of ", $path, ".")]
        #[utoipa::path(put, path = concat!("/v1/tenants/{tenant}/", $path, "/{id}"), params(("tenant" = String, Path,), ("id" = String, Path,)), request_body = EntityBody, responses((status = 200, body = WriteResponse), (status = 403, body = crate::error::ErrorBody)), security(("bearer" = [])))]
        pub async fn $put(State(s): State<Arc<AppState>>, caller: Caller, ApiPath((tenant, id)): ApiPath<(String, String)>, ApiJson(body): ApiJson<EntityBody>) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
            upsert(s, caller, tenant, &$kind, None, Mode::Replace(id), body).await
        }
        #[doc = concat!("Deletes one of ", $path, " and its relation tuples.")]
        #[utoipa::path(delete, path = concat!("/v1/tenants/{tenant}/", $path, "/{id}"), params(("tenant" = String, Path,), ("id" = String, Path,)), responses((status = 200, body = WriteResponse), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
        pub async fn $delete(State(s): State<Arc<AppState>>, caller: Caller, ApiPath((tenant, id)): ApiPath<(String, String)>) -> ApiResult<Json<WriteResponse>> {
            delete(s, caller, tenant, &$kind, None, id).await
        }
    };
}

kind_routes!(
    USERS,
    "users",
    list_users,
    create_user,
    get_user,
    put_user,
    delete_user
);
kind_routes!(
    GROUPS,
    "groups",
    list_groups,
    create_group,
    get_group,
    put_group,
    delete_group
);
kind_routes!(
    ORG_UNITS,
    "org-units",
    list_org_units,
    create_org_unit,
    get_org_unit,
    put_org_unit,
    delete_org_unit
);
kind_routes!(
    QUEUES,
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
    list(s, caller, tenant, &RESOURCES, Some(ty), q).await
}

/// One resource.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/resources/{ty}/{id}", params(("tenant" = String, Path,), ("ty" = String, Path,), ("id" = String, Path,), ReadQuery), responses((status = 200, body = EntityView)), security(("bearer" = [])))]
pub async fn get_resource(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, ty, id)): ApiPath<(String, String, String)>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Json<EntityView>> {
    get(s, caller, tenant, &RESOURCES, Some(ty), id, q).await
}

/// Creates or replaces a resource (its name, attributes and the relations given).
#[utoipa::path(put, path = "/v1/tenants/{tenant}/resources/{ty}/{id}", params(("tenant" = String, Path,), ("ty" = String, Path,), ("id" = String, Path,)), request_body = EntityBody, responses((status = 200, body = WriteResponse)), security(("bearer" = [])))]
pub async fn put_resource(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, ty, id)): ApiPath<(String, String, String)>,
    ApiJson(body): ApiJson<EntityBody>,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    upsert(
        s,
        caller,
        tenant,
        &RESOURCES,
        Some(ty),
        Mode::Replace(id),
        body,
    )
    .await
}

/// Deletes a resource and its relation tuples.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/resources/{ty}/{id}", params(("tenant" = String, Path,), ("ty" = String, Path,), ("id" = String, Path,)), responses((status = 200, body = WriteResponse)), security(("bearer" = [])))]
pub async fn delete_resource(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, ty, id)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<WriteResponse>> {
    delete(s, caller, tenant, &RESOURCES, Some(ty), id).await
}
