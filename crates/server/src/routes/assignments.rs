//! Assignments: a role given to a user over a scope, optionally until a time.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rolecall_core::state::{Assignment, Scope};
use rolecall_engine::authz::{Object, Reader, may_read_assignments};
use rolecall_engine::commands::{AssignmentDraft, CreateAssignment, DeleteAssignment};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{WriteResponse, tenant_for, valid_id, write};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, delete))
}

/// Where an assignment applies: `"tenant"`, `{"org_units": [...]}` or `{"queues": [...]}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScopeBody {
    /// The whole tenant.
    Tenant,
    /// These org units and their subtrees.
    OrgUnits(Vec<String>),
    /// These queues.
    Queues(Vec<String>),
}

impl From<ScopeBody> for Scope {
    fn from(s: ScopeBody) -> Self {
        match s {
            ScopeBody::Tenant => Scope::Tenant,
            ScopeBody::OrgUnits(v) => Scope::OrgUnits(v),
            ScopeBody::Queues(v) => Scope::Queues(v),
        }
    }
}

impl From<&Scope> for ScopeBody {
    fn from(s: &Scope) -> Self {
        match s {
            Scope::Tenant => ScopeBody::Tenant,
            Scope::OrgUnits(v) => ScopeBody::OrgUnits(v.clone()),
            Scope::Queues(v) => ScopeBody::Queues(v.clone()),
        }
    }
}

/// Give a role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateAssignment)]
pub struct CreateAssignmentBody {
    /// Id (generated when absent).
    pub id: Option<String>,
    /// The user.
    pub principal: String,
    /// The role.
    pub role: String,
    /// Where (default: the whole tenant).
    pub scope: Option<ScopeBody>,
    /// Unix seconds after which it grants nothing.
    pub expires_at: Option<i64>,
}

/// An assignment.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentView {
    /// Id.
    pub id: String,
    /// The user.
    pub principal: String,
    /// The role.
    pub role: String,
    /// Where.
    pub scope: ScopeBody,
    /// Expiry, Unix seconds.
    pub expires_at: Option<i64>,
    /// Seconds left before expiry (0 once expired).
    pub remaining_seconds: Option<i64>,
}

/// Assignments.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentList {
    /// By id.
    pub assignments: Vec<AssignmentView>,
    /// Revision answered from.
    pub revision: u64,
}

/// `?principal=&role=&at_least_revision=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AssignmentQuery {
    /// Only this user's.
    pub principal: Option<String>,
    /// Only this role's.
    pub role: Option<String>,
    /// Read at this revision or later.
    pub at_least_revision: Option<u64>,
    /// `minimize_latency`, `at_least_revision` or `fully_consistent` (see `ReadQuery`).
    pub consistency: Option<super::ConsistencyMode>,
}

impl CreateAssignmentBody {
    /// The engine's draft of this body.
    pub(crate) fn draft(self) -> AssignmentDraft {
        AssignmentDraft {
            id: self.id,
            principal: self.principal,
            role: self.role,
            scope: self.scope.map(Into::into),
            expires_at: self.expires_at,
        }
    }
}

fn view(a: &Assignment, t: i64) -> AssignmentView {
    AssignmentView {
        id: a.id.clone(),
        principal: a.principal.clone(),
        role: a.role.clone(),
        scope: (&a.scope).into(),
        expires_at: a.expires_at,
        remaining_seconds: a.expires_at.map(|e| (e - t).max(0)),
    }
}

/// Lists assignments.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/assignments", params(("tenant" = String, Path,), AssignmentQuery), responses((status = 200, body = AssignmentList)), security(("bearer" = [])))]
pub async fn list(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<AssignmentQuery>,
) -> ApiResult<Json<AssignmentList>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let cur = t
        .read(super::consistency(q.consistency, q.at_least_revision)?)
        .await?;
    let now = t.now();
    // One's own assignments always; others' where `assignments.read` covers their user.
    let own = q.principal.as_deref().is_some_and(|p| caller.0.is_user(p));
    let reader = if own {
        None
    } else {
        Some(Reader::new(
            &cur.snapshot,
            &caller.0,
            "assignments.read",
            now,
        )?)
    };
    let assignments = cur
        .mem
        .state
        .assignments
        .iter()
        .filter(|a| {
            q.principal.as_ref().is_none_or(|p| &a.principal == p)
                && q.role.as_ref().is_none_or(|r| &a.role == r)
        })
        .filter(|a| {
            caller.0.is_user(&a.principal)
                || reader.is_some_and(|r| r.may(Object::user(&a.principal)))
        })
        .map(|a| view(a, now))
        .collect();
    Ok(Json(AssignmentList {
        assignments,
        revision: cur.revision,
    }))
}

/// One assignment.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/assignments/{id}", params(("tenant" = String, Path,), ("id" = String, Path,)), responses((status = 200, body = AssignmentView)), security(("bearer" = [])))]
pub async fn get_one(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<AssignmentView>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    valid_id(&id, "assignment")?;
    let cur = t.current();
    let a = cur
        .assignment(&id)
        .ok_or_else(|| ApiError::not_found(format!("unknown assignment `{id}`")))?;
    let now = t.now();
    may_read_assignments(&cur.snapshot, &caller.0, &a.principal, now)?;
    Ok(Json(view(a, now)))
}

/// Gives a role to a user over a scope. Refused (403, naming the privilege) when the
/// caller may not give it there or does not hold what it gives.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/assignments", params(("tenant" = String, Path,)), request_body = CreateAssignmentBody, responses((status = 201, body = WriteResponse), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<CreateAssignmentBody>,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    write(&s, &caller, &tenant, &CreateAssignment(body.draft())).await
}

/// Removes an assignment (same authority as giving it).
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/assignments/{id}", params(("tenant" = String, Path,), ("id" = String, Path,)), responses((status = 200, body = WriteResponse), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    tenant_for(&s, &caller, &tenant).await?;
    valid_id(&id, "assignment")?;
    write(&s, &caller, &tenant, &DeleteAssignment(id)).await
}
