//! Assignments: a role given to a user over a scope, optionally until a time.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rolecall_core::state::{Assignment, Scope};
use rolecall_store::Change;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, ApiPath, ApiQuery, REVISION_WAIT, WriteResponse, tenant_for, valid_id};
use crate::app::{AppState, now};
use crate::auth::Caller;
use crate::authz::{assignment_allowed, authorize};
use crate::error::{ApiError, ApiResult};

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
pub struct CreateAssignment {
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

/// Who may read assignments: the operator, the `assignments.read` action, or a
/// user reading their own.
fn may_read(
    cur: &crate::tenant::Current,
    caller: &Caller,
    principal: Option<&str>,
) -> ApiResult<()> {
    if let (Caller::Tenant { principal: me, .. }, Some(p)) = (caller, principal)
        && me == p
    {
        return Ok(());
    }
    authorize(&cur.snapshot, caller, "assignments.read", None, now())
}

/// Lists assignments.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/assignments", params(("tenant" = String, Path,), AssignmentQuery), responses((status = 200, body = AssignmentList)), security(("bearer" = [])))]
pub async fn list(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<AssignmentQuery>,
) -> ApiResult<Json<AssignmentList>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    let cur = t.at_least(q.at_least_revision, REVISION_WAIT).await?;
    may_read(&cur, &caller, q.principal.as_deref())?;
    let time = now();
    let assignments = cur
        .mem
        .state
        .assignments
        .iter()
        .filter(|a| {
            q.principal.as_ref().is_none_or(|p| &a.principal == p)
                && q.role.as_ref().is_none_or(|r| &a.role == r)
        })
        .map(|a| view(a, time))
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
    let t = tenant_for(&s, &caller, &tenant)?;
    valid_id(&id, "assignment")?;
    let cur = t.current();
    let a = cur
        .mem
        .state
        .assignments
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| ApiError::not_found(format!("unknown assignment `{id}`")))?;
    may_read(&cur, &caller, Some(&a.principal))?;
    Ok(Json(view(a, now())))
}

/// Gives a role to a user over a scope. Refused (403, naming the privilege) when the
/// caller may not give it there or does not hold what it gives.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/assignments", params(("tenant" = String, Path,)), request_body = CreateAssignment, responses((status = 201, body = WriteResponse), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<CreateAssignment>,
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    let t = tenant_for(&s, &caller, &tenant)?;
    let cur = t.current();
    let a = assignment_from(&cur, body)?;
    let time = now();
    assignment_allowed(&cur, &caller, &a.role, &a.principal, &a.scope, time)?;

    let (aid, arole, aprincipal, ascope) = (
        a.id.clone(),
        a.role.clone(),
        a.principal.clone(),
        a.scope.clone(),
    );
    let rev = t
        .write(
            s.store.as_ref(),
            vec![Change::PutAssignment(a)],
            &caller.actor(),
            None,
            time,
            // Again under the write lock: the id may have been taken, or the caller's
            // own authority changed, since the checks above.
            |locked, _, _| {
                if locked.mem.state.assignments.iter().any(|x| x.id == aid) {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "exists",
                        format!("assignment `{aid}` already exists"),
                    ));
                }
                assignment_allowed(locked, &caller, &arole, &aprincipal, &ascope, time)
            },
        )
        .await?;
    s.saw_revision(&t.id, rev);
    Ok((StatusCode::CREATED, Json(WriteResponse { revision: rev })))
}

/// Removes an assignment (same authority as giving it).
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/assignments/{id}", params(("tenant" = String, Path,), ("id" = String, Path,)), responses((status = 200, body = WriteResponse), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<WriteResponse>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    valid_id(&id, "assignment")?;
    let cur = t.current();
    let a = cur
        .mem
        .state
        .assignments
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| ApiError::not_found(format!("unknown assignment `{id}`")))?;
    assignment_allowed(&cur, &caller, &a.role, &a.principal, &a.scope, now())?;
    let rev = t
        .write(
            s.store.as_ref(),
            vec![Change::DeleteAssignment { id }],
            &caller.actor(),
            None,
            now(),
            |_, _, _| Ok(()),
        )
        .await?;
    s.saw_revision(&t.id, rev);
    Ok(Json(WriteResponse { revision: rev }))
}

/// The assignment a create (or an impact preview) describes, validated.
pub(crate) fn assignment_from(
    cur: &crate::tenant::Current,
    body: CreateAssignment,
) -> ApiResult<Assignment> {
    valid_id(&body.principal, "user")?;
    valid_id(&body.role, "role")?;
    let id = match body.id {
        Some(id) => {
            valid_id(&id, "assignment")?;
            if cur.mem.state.assignments.iter().any(|a| a.id == id) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "exists",
                    format!("assignment `{id}` already exists"),
                ));
            }
            id
        }
        None => format!("as_{}", uuid::Uuid::new_v4().simple()),
    };
    if cur
        .snapshot
        .entity(rolecall_core::profile::USER, &body.principal)
        .is_none()
    {
        return Err(ApiError::invalid(format!(
            "unknown user `{}`",
            body.principal
        )));
    }
    if !cur.snapshot.has_role(&body.role) {
        return Err(ApiError::invalid(format!("unknown role `{}`", body.role)));
    }
    let scope: Scope = body.scope.map(Into::into).unwrap_or_default();
    Ok(Assignment {
        id,
        principal: body.principal,
        role: body.role,
        scope,
        expires_at: body.expires_at,
    })
}

/// The change an impact preview of an assignment stands for.
pub(crate) fn preview_change(
    cur: &crate::tenant::Current,
    body: CreateAssignment,
) -> ApiResult<Change> {
    assignment_from(cur, body).map(Change::PutAssignment)
}
