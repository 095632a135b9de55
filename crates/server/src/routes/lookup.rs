//! Who-can and what-can, now or as of an earlier revision or time (answered from
//! history), and the impact preview of a change before it is written.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use rolecall_engine::impact::{self, Proposal};
use rolecall_engine::lookup::Found;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::assignments::CreateAssignmentBody;
use super::decisions::ResourceRef;
use super::tenant_for;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(subjects))
        .routes(routes!(resources))
        .routes(routes!(impact))
}

/// Answer as of an earlier revision and/or time.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AsOf {
    /// The tenant's state at this revision.
    pub revision: Option<u64>,
    /// This time (Unix seconds): the state last written at or before it, and
    /// assignments' expiry judged at it.
    pub time: Option<i64>,
}

/// Who may perform an action on a resource?
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectsRequest {
    /// Action id.
    pub action: String,
    /// The resource.
    pub resource: ResourceRef,
    /// As of when (default: now).
    pub as_of: Option<AsOf>,
    /// Read at this revision or later (for the current state).
    pub at_least_revision: Option<u64>,
    /// `minimize_latency`, `at_least_revision` or `fully_consistent` (see `ReadQuery`).
    pub consistency: Option<super::ConsistencyMode>,
}

/// Which resources may a user act on?
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourcesRequest {
    /// The user.
    pub principal: String,
    /// Action id (its resource type is searched).
    pub action: String,
    /// As of when (default: now).
    pub as_of: Option<AsOf>,
    /// Read at this revision or later (for the current state).
    pub at_least_revision: Option<u64>,
    /// `minimize_latency`, `at_least_revision` or `fully_consistent` (see `ReadQuery`).
    pub consistency: Option<super::ConsistencyMode>,
}

/// A lookup's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct LookupResponse {
    /// Matching ids, sorted.
    pub ids: Vec<String>,
    /// How many.
    pub count: usize,
    /// The revision answered from.
    pub revision: u64,
    /// The time decisions were evaluated at (Unix seconds).
    pub evaluated_at: i64,
}

/// A change to preview: exactly one of the fields.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactRequest {
    /// A custom role as it would be after the edit (or a new one).
    pub role: Option<super::roles::CreateRoleBody>,
    /// An assignment that would be made.
    pub assignment: Option<CreateAssignmentBody>,
    /// An assignment that would be removed.
    pub remove_assignment: Option<String>,
    /// Settings that would change.
    #[schema(value_type = Object)]
    pub settings: Option<BTreeMap<String, serde_json::Value>>,
}

/// Users who gain or lose one action.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionImpact {
    /// Action id.
    pub action: String,
    /// The vendor's wording.
    pub name: String,
    /// Users, sorted.
    pub users: Vec<String>,
    /// Their org units, sorted.
    pub org_units: Vec<String>,
}

/// What a change would do, before anything is written.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactResponse {
    /// One sentence per action gained or lost.
    pub summary: Vec<String>,
    /// Actions newly allowed (somewhere) for some users.
    pub gains: Vec<ActionImpact>,
    /// Actions no longer allowed (anywhere) for some users.
    pub losses: Vec<ActionImpact>,
    /// Users whose grants the change touches.
    pub users_affected: usize,
    /// The revision the preview is based on.
    pub revision: u64,
}

impl From<AsOf> for rolecall_engine::lookup::AsOf {
    fn from(a: AsOf) -> Self {
        rolecall_engine::lookup::AsOf {
            revision: a.revision,
            time: a.time,
        }
    }
}

fn answer(f: Found) -> Json<LookupResponse> {
    Json(LookupResponse {
        count: f.ids.len(),
        ids: f.ids,
        revision: f.revision,
        evaluated_at: f.evaluated_at,
    })
}

/// Every user who may perform `action` on the resource (who-can), now or as of.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/lookup/subjects", params(("tenant" = String, Path,)), request_body = SubjectsRequest, responses((status = 200, body = LookupResponse), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn subjects(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(b): ApiJson<SubjectsRequest>,
) -> ApiResult<Json<LookupResponse>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let found = t
        .who_can(
            &caller.0,
            &b.action,
            &b.resource.ty,
            &b.resource.id,
            b.as_of.map(Into::into),
            super::consistency(b.consistency, b.at_least_revision)?,
        )
        .await?;
    Ok(answer(found))
}

/// Every resource of the action's type the user may act on (what-can), now or as of.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/lookup/resources", params(("tenant" = String, Path,)), request_body = ResourcesRequest, responses((status = 200, body = LookupResponse), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn resources(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(b): ApiJson<ResourcesRequest>,
) -> ApiResult<Json<LookupResponse>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let found = t
        .what_can(
            &caller.0,
            &b.principal,
            &b.action,
            b.as_of.map(Into::into),
            super::consistency(b.consistency, b.at_least_revision)?,
        )
        .await?;
    Ok(answer(found))
}

fn action_impact(x: impact::ActionImpact) -> ActionImpact {
    ActionImpact {
        action: x.action,
        name: x.name,
        users: x.users,
        org_units: x.org_units,
    }
}

/// Previews a role edit, an assignment, its removal, or a setting change: who gains
/// and who loses which actions. Nothing is written.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/impact", params(("tenant" = String, Path,)), request_body = ImpactRequest, responses((status = 200, body = ImpactResponse), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn impact(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(b): ApiJson<ImpactRequest>,
) -> ApiResult<Json<ImpactResponse>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let proposal = match (b.role, b.assignment, b.remove_assignment, b.settings) {
        (Some(r), None, None, None) => Proposal::Role(r.draft()?),
        (None, Some(a), None, None) => Proposal::Assignment(a.draft()),
        (None, None, Some(id), None) => Proposal::RemoveAssignment(id),
        (None, None, None, Some(settings)) => Proposal::Settings(settings),
        _ => {
            return Err(ApiError::bad_request(
                "give exactly one of `role`, `assignment`, `remove_assignment` or `settings`",
            ));
        }
    };
    let x = t.impact(&caller.0, &proposal)?;
    Ok(Json(ImpactResponse {
        summary: x.summary,
        gains: x.gains.into_iter().map(action_impact).collect(),
        losses: x.losses.into_iter().map(action_impact).collect(),
        users_affected: x.users_affected,
        revision: x.revision,
    }))
}
