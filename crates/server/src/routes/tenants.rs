//! Tenants (operator), their catalog, and their change log.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use rolecall_engine::authz::{Object, authorize};
use rolecall_engine::watch::Cursor;
use rolecall_engine::{ProfileSource, Tenant, TenantSpec};
use rolecall_store::ChangeRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ReadQuery, tenant_for, valid_id};
use crate::auth::{Caller, Operator};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one))
        .routes(routes!(catalog))
        .routes(routes!(changes))
}

/// Create a tenant from a shipped profile (by id) or from profile text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    /// Tenant id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// A shipped profile id (`horizon-contact`, `zoom-contact-center`, …).
    pub profile: Option<String>,
    /// A profile's TOML text (instead of `profile`).
    pub profile_text: Option<String>,
}

/// A tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantInfo {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Profile id.
    pub profile: String,
    /// Profile display name.
    pub profile_name: String,
    /// Current revision.
    pub revision: u64,
}

/// A list of tenants.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantList {
    /// Tenants, by id.
    pub tenants: Vec<TenantInfo>,
}

fn info(t: &Tenant) -> TenantInfo {
    let cur = t.current();
    TenantInfo {
        id: t.id.clone(),
        name: cur.record.name.clone(),
        profile: cur.record.profile_id.clone(),
        profile_name: cur.profile.name.clone(),
        revision: cur.revision,
    }
}

/// Creates a tenant (operator only).
#[utoipa::path(post, path = "/v1/tenants", request_body = CreateTenant, responses((status = 201, body = TenantInfo), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(s): State<Arc<AppState>>,
    Operator(actor): Operator,
    ApiJson(body): ApiJson<CreateTenant>,
) -> ApiResult<(axum::http::StatusCode, Json<TenantInfo>)> {
    valid_id(&body.id, "tenant")?;
    let profile = match (body.profile, body.profile_text) {
        (Some(p), None) => ProfileSource::Shipped(p),
        (None, Some(text)) => ProfileSource::Text(text),
        _ => {
            return Err(ApiError::bad_request(
                "give exactly one of `profile` (a shipped profile id) or `profile_text`",
            ));
        }
    };
    let spec = TenantSpec {
        id: body.id,
        name: body.name,
        profile,
    };
    let tenant = s.engine.create_tenant(&actor, spec).await?;
    Ok((axum::http::StatusCode::CREATED, Json(info(&tenant))))
}

/// Lists tenants (operator only).
#[utoipa::path(get, path = "/v1/tenants", responses((status = 200, body = TenantList)), security(("bearer" = [])))]
pub async fn list(State(s): State<Arc<AppState>>, _op: Operator) -> ApiResult<Json<TenantList>> {
    let tenants = s.engine.tenants().iter().map(|t| info(t)).collect();
    Ok(Json(TenantList { tenants }))
}

/// One tenant.
#[utoipa::path(get, path = "/v1/tenants/{tenant}", params(("tenant" = String, Path,), ReadQuery), responses((status = 200, body = TenantInfo), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get_one(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Json<TenantInfo>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    t.read(q.consistency()?).await?;
    Ok(Json(info(&t)))
}

/// One privilege in the catalog tree.
#[derive(Debug, Serialize, ToSchema)]
#[schema(no_recursion)]
pub struct CatalogNode {
    /// Id.
    pub id: String,
    /// The vendor's wording.
    pub name: String,
    /// flag | levels | choice | number.
    pub kind: String,
    /// Levels (ascending) or choices.
    pub options: Vec<String>,
    /// Description.
    pub description: Option<String>,
    /// Sub-privileges (included by this one).
    pub children: Vec<CatalogNode>,
}

/// A catalog section.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogSection {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Top-level privileges.
    pub privileges: Vec<CatalogNode>,
}

/// The privilege tree of the tenant's profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct Catalog {
    /// Profile id.
    pub profile: String,
    /// Sections.
    pub sections: Vec<CatalogSection>,
    /// Choice privileges (single or several options) and number privileges (range,
    /// default, unit).
    pub privilege_details: Vec<super::catalog_model::PrivilegeDetail>,
    /// Role types: caps (privileges outside them cannot be granted), locked and
    /// default grants.
    pub role_types: Vec<super::catalog_model::RoleTypeView>,
    /// Every action, with the menu it sits in and the resource type it acts on.
    pub actions: Vec<super::catalog_model::ActionInfo>,
    /// Resource types and their attributes.
    pub types: Vec<super::catalog_model::TypeInfo>,
    /// Org-unit kinds.
    pub org_kinds: Vec<super::catalog_model::OrgKindInfo>,
    /// Rules every write keeps (e.g. seats only upgrade).
    pub invariants: Vec<super::catalog_model::InvariantInfo>,
    /// Privileges that narrow rather than grant (ids): they bind wherever any of the
    /// holder's assignments carries them, and giving one is never an escalation.
    pub restrictions: Vec<String>,
    /// Delegation ceilings, first match wins.
    pub delegation: Vec<super::catalog_model::DelegationInfo>,
    /// Revision answered from.
    pub revision: u64,
}

fn node(n: rolecall_core::profile::catalog::CatalogNode) -> CatalogNode {
    CatalogNode {
        id: n.id,
        name: n.name,
        kind: n.kind.to_owned(),
        options: n.options,
        description: n.description,
        children: n.children.into_iter().map(node).collect(),
    }
}

/// The tenant's privilege catalog.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/catalog", params(("tenant" = String, Path,), ReadQuery), responses((status = 200, body = Catalog)), security(("bearer" = [])))]
pub async fn catalog(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Json<Catalog>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let cur = t.read(q.consistency()?).await?;
    authorize(
        &cur.snapshot,
        &caller.0,
        "catalog.read",
        Object::Shared,
        t.now(),
    )?;
    let sections = rolecall_core::profile::catalog::catalog(&cur.profile)
        .into_iter()
        .map(|sec| CatalogSection {
            id: sec.id,
            name: sec.name,
            privileges: sec.privileges.into_iter().map(node).collect(),
        })
        .collect();
    let p = &cur.profile;
    Ok(Json(Catalog {
        profile: p.id.clone(),
        sections,
        privilege_details: super::catalog_model::privilege_details(p),
        role_types: super::catalog_model::role_types(p),
        actions: super::catalog_model::actions(p),
        types: super::catalog_model::types(p),
        org_kinds: super::catalog_model::org_kinds(p),
        invariants: super::catalog_model::invariants(p),
        restrictions: super::catalog_model::restrictions(p),
        delegation: super::catalog_model::delegation(p),
        revision: cur.revision,
    }))
}

/// `?cursor=R.S&limit=M` (or `?after=R`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// Read after this position, `<revision>.<sequence>`: the `next_cursor` of the
    /// previous page (a page may end inside a revision; the next one resumes after its
    /// last row). Default: from the beginning (`0.0`).
    pub cursor: Option<String>,
    /// Changes with a revision greater than this: after the whole revision, the same
    /// as `cursor=<after>.4294967295`. Not together with `cursor`.
    pub after: Option<u64>,
    /// At most this many (≤ 10,000; default 1,000).
    pub limit: Option<u32>,
}

impl ChangesQuery {
    /// The position to read after.
    fn position(&self) -> ApiResult<Cursor> {
        match (&self.cursor, self.after) {
            (Some(_), Some(_)) => Err(ApiError::bad_request(
                "give `cursor` or `after`, not both (`after=R` is `cursor=R.4294967295`)",
            )),
            (Some(c), None) => Ok(Cursor::parse(c, "cursor")?),
            (None, Some(r)) => Ok(Cursor::after_revision(r)),
            (None, None) => Ok(Cursor::START),
        }
    }
}

/// One change-log row.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeRow {
    /// Revision.
    pub revision: u64,
    /// Position within the revision.
    pub seq: u32,
    /// Who.
    pub actor: String,
    /// When (Unix seconds).
    pub at: i64,
    /// The change.
    #[schema(value_type = Object)]
    pub change: serde_json::Value,
}

impl From<ChangeRecord> for ChangeRow {
    fn from(r: ChangeRecord) -> Self {
        ChangeRow {
            revision: r.revision,
            seq: r.seq,
            actor: r.actor,
            at: r.at,
            change: serde_json::to_value(&r.change).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// A page of change-log rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeList {
    /// Rows, ascending by (revision, seq).
    pub changes: Vec<ChangeRow>,
    /// The position of the last row returned, `<revision>.<sequence>` (the request's own
    /// position when it returned none): pass it as `cursor` for the next page.
    pub next_cursor: String,
    /// The tenant's current revision (read after the rows): the log is read to the end
    /// when a page holds fewer rows than the limit.
    pub revision: u64,
}

/// The tenant's change log (`changes.read`): what followers replay, page by page.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/changes", params(("tenant" = String, Path,), ChangesQuery), responses((status = 200, body = ChangeList), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn changes(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ChangesQuery>,
) -> ApiResult<Json<ChangeList>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    authorize(
        &t.current().snapshot,
        &caller.0,
        "changes.read",
        Object::Tenant,
        t.now(),
    )?;
    let from = q.position()?;
    let limit = q.limit.unwrap_or(1000).min(10_000);
    let store = s.engine.store();
    let rows = store
        .changes_after(&tenant, from.revision, from.seq, limit)
        .await?;
    let next = rows.last().map_or(from, Cursor::of);
    let revision = store.revision(&tenant).await?;
    Ok(Json(ChangeList {
        changes: rows.into_iter().map(ChangeRow::from).collect(),
        next_cursor: next.to_string(),
        revision,
    }))
}
