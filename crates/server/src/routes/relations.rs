//! Relation tuples in bulk: up to the configured limit (default 1,000) per call, one
//! transaction, optionally conditioned on the current revision.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use rolecall_store::{Change, Tuple};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, ApiPath, ApiQuery, REVISION_WAIT, WriteResponse, tenant_for, valid_id};
use crate::app::{AppState, now};
use crate::auth::Caller;
use crate::authz::authorize;
use crate::error::{ApiError, ApiResult};

/// `resource#relation@subject`, written as three fields.
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
}

/// Tuples of one resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelationList {
    /// Tuples.
    pub tuples: Vec<TupleBody>,
    /// Revision answered from.
    pub revision: u64,
}

fn split(s: &str, what: &str) -> ApiResult<(String, String)> {
    let (t, id) = s
        .split_once(':')
        .ok_or_else(|| ApiError::bad_request(format!("{what} `{s}` must be TYPE:ID")))?;
    valid_id(t, "type")?;
    valid_id(id, what)?;
    Ok((t.to_owned(), id.to_owned()))
}

fn tuple(p: &rolecall_core::Profile, b: &TupleBody, i: usize, list: &str) -> ApiResult<Tuple> {
    let at = |m: String| ApiError::invalid(format!("{list}[{i}]: {m}"));
    let (rtype, rid) = split(&b.resource, "resource")?;
    let (stype, sid) = split(&b.subject, "subject")?;
    let ty = p
        .type_id(&rtype)
        .ok_or_else(|| at(format!("unknown resource type `{rtype}`")))?;
    let def = p.types.get(ty).ok_or_else(|| at("type".into()))?;
    let rel = def
        .relation(&b.relation)
        .and_then(|r| def.relations.get(r))
        .ok_or_else(|| at(format!("`{rtype}` has no relation `{}`", b.relation)))?;
    if rel.inverse.is_some() {
        return Err(at(format!(
            "`{rtype}.{}` is computed; write the relation it inverts",
            b.relation
        )));
    }
    let target = p.types.get(rel.target).map_or("?", |t| t.id.as_str());
    if target != stype {
        return Err(at(format!(
            "`{rtype}.{}` points to `{target}`, not `{stype}`",
            b.relation
        )));
    }
    Ok(Tuple {
        rtype,
        rid,
        relation: b.relation.clone(),
        stype,
        sid,
    })
}

/// Writes and deletes tuples in one transaction.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/relations", params(("tenant" = String, Path,)), request_body = RelationWrite, responses((status = 200, body = WriteResponse), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn write(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<RelationWrite>,
) -> ApiResult<Json<WriteResponse>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    let n = body.writes.len() + body.deletes.len();
    let limit = s.config.relation_batch_limit;
    if n > limit {
        return Err(ApiError::bad_request(format!(
            "{n} tuples in one call; the limit is {limit}"
        )));
    }
    if n == 0 {
        return Err(ApiError::bad_request(
            "nothing to write: `writes` and `deletes` are empty",
        ));
    }
    let cur = t.current();
    authorize(&cur.snapshot, &caller, "relations.write", None, now())?;
    let mut changes = Vec::with_capacity(n);
    for (i, w) in body.writes.iter().enumerate() {
        changes.push(Change::PutRelation(tuple(&cur.profile, w, i, "writes")?));
    }
    for (i, d) in body.deletes.iter().enumerate() {
        changes.push(Change::DeleteRelation(tuple(
            &cur.profile,
            d,
            i,
            "deletes",
        )?));
    }
    let rev = t
        .write(
            s.store.as_ref(),
            changes,
            &caller.actor(),
            body.if_revision,
            now(),
            |_, _, _| Ok(()),
        )
        .await?;
    s.saw_revision(&t.id, rev);
    Ok(Json(WriteResponse { revision: rev }))
}

/// The tuples of one resource.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/relations", params(("tenant" = String, Path,), RelationQuery), responses((status = 200, body = RelationList)), security(("bearer" = [])))]
pub async fn read(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<RelationQuery>,
) -> ApiResult<Json<RelationList>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    let (ty, id) = split(&q.resource, "resource")?;
    let cur = t.at_least(q.at_least_revision, REVISION_WAIT).await?;
    let p = &cur.profile;
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
