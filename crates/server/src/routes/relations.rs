//! Relation tuples in bulk: up to the configured limit (default 1,000) per call, one
//! transaction, optionally conditioned on the current revision.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rolecall_engine::authz::{Object, authorize};
use rolecall_engine::commands::relation::split_ref;
use rolecall_engine::commands::{TupleRef, WriteRelations};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{WriteResponse, tenant_for, write};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(read, write_tuples))
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TupleBody {
    /// `TYPE:ID` of the resource, e.g. `conversation:c1`.
    pub resource: String,
    /// Relation name, e.g. `agent`.
    pub relation: String,
    /// `TYPE:ID` of the subject, e.g. `user:alice`.
    pub subject: String,
}

/// Bulk write.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationWrite {
    /// Tuples to write.
    #[serde(default)]
    pub writes: Vec<TupleBody>,
    /// Tuples to delete.
    #[serde(default)]
    pub deletes: Vec<TupleBody>,
    /// Apply only if the tenant is at this revision (else 409, nothing written).
    pub if_revision: Option<u64>,
}

/// `?resource=TYPE:ID`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RelationQuery {
    /// The resource whose tuples to list.
    pub resource: String,
    /// Read at this revision or later.
    pub at_least_revision: Option<u64>,
    /// `minimize_latency`, `at_least_revision` or `fully_consistent` (see `ReadQuery`).
    pub consistency: Option<super::ConsistencyMode>,
}

/// Tuples of one resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelationList {
    /// Tuples.
    pub tuples: Vec<TupleBody>,
    /// Revision answered from.
    pub revision: u64,
}

fn tuple_ref(b: &TupleBody) -> TupleRef {
    TupleRef {
        resource: b.resource.clone(),
        relation: b.relation.clone(),
        subject: b.subject.clone(),
    }
}

/// Writes and deletes tuples as one revision.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/relations", params(("tenant" = String, Path,)), request_body = RelationWrite, responses((status = 200, body = WriteResponse), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn write_tuples(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<RelationWrite>,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    let cmd = WriteRelations {
        writes: body.writes.iter().map(tuple_ref).collect(),
        deletes: body.deletes.iter().map(tuple_ref).collect(),
        if_revision: body.if_revision,
        limit: s.config.relation_batch_limit,
    };
    write(&s, &caller, &tenant, &cmd).await
}

/// The tuples of one resource.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/relations", params(("tenant" = String, Path,), RelationQuery), responses((status = 200, body = RelationList)), security(("bearer" = [])))]
pub async fn read(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<RelationQuery>,
) -> ApiResult<Json<RelationList>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let (ty, id) = split_ref(&q.resource, "resource")?;
    let cur = t
        .read(super::consistency(q.consistency, q.at_least_revision)?)
        .await?;
    let p = &cur.profile;
    let tid = p
        .type_id(&ty)
        .ok_or_else(|| ApiError::not_found(format!("unknown resource type `{ty}`")))?;
    if cur.mem.entity(&ty, &id).is_some() {
        authorize(
            &cur.snapshot,
            &caller.0,
            "relations.read",
            Object::Entity { ty: tid, id: &id },
            t.now(),
        )?;
    }
    let e = cur
        .mem
        .entity(&ty, &id)
        .ok_or_else(|| ApiError::not_found(format!("unknown {ty} `{id}`")))?;
    let def = p.type_id(&ty).and_then(|t| p.types.get(t));
    let mut tuples = Vec::new();
    for (rel, targets) in &e.relations {
        let target = def
            .and_then(|d| d.relation(rel).and_then(|r| d.relations.get(r)))
            .and_then(|r| p.types.get(r.target))
            .map_or("?", |t| t.id.as_str());
        for sid in targets {
            tuples.push(TupleBody {
                resource: format!("{ty}:{id}"),
                relation: rel.clone(),
                subject: format!("{target}:{sid}"),
            });
        }
    }
    // One order whatever the write history (memory keeps write order; the store, its own).
    tuples.sort_by(|a, b| (&a.relation, &a.subject).cmp(&(&b.relation, &b.subject)));
    Ok(Json(RelationList {
        tuples,
        revision: cur.revision,
    }))
}
