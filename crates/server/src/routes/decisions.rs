//! Decisions: check, batch check, explain, and a user's effective permissions.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use rolecall_core::snapshot::{ExplainNode, Explanation, Outcome};
use rolecall_core::{Context, EvalError};
use rolecall_engine::decide::{Answer, Question, is_request_error};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{tenant_for, valid_id};
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorDetail};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(check))
        .routes(routes!(check_batch))
        .routes(routes!(explain))
        .routes(routes!(permissions))
}

/// `{"type": "conversation", "id": "c1"}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceRef {
    /// Resource type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Resource id.
    pub id: String,
}

/// One check.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The user asking.
    pub principal: String,
    /// Action id.
    pub action: String,
    /// The resource.
    pub resource: ResourceRef,
    /// Context values (bool, integer or string).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub context: BTreeMap<String, serde_json::Value>,
    /// Answer from this revision or later.
    pub at_least_revision: Option<u64>,
    /// `minimize_latency`, `at_least_revision` or `fully_consistent` (see `ReadQuery`).
    pub consistency: Option<super::ConsistencyMode>,
    /// Include the evaluation.
    #[serde(default)]
    pub explain: bool,
}

/// One evaluated node of a requirement.
#[derive(Debug, Serialize, ToSchema)]
#[schema(no_recursion)]
pub struct ExplainNodeView {
    /// The sub-expression.
    pub expr: String,
    /// true | false | error | skipped.
    pub outcome: String,
    /// The facts behind it.
    pub detail: String,
    /// Operands.
    pub children: Vec<ExplainNodeView>,
}

/// How a decision was reached.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExplanationView {
    /// The action's name.
    pub action: String,
    /// The requirement as written.
    pub requirement: String,
    /// The facts that decided it, in words.
    pub reasons: Vec<String>,
    /// The evaluation tree.
    pub tree: Option<ExplainNodeView>,
    /// The whole explanation as text.
    pub text: String,
}

/// A decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResponse {
    /// Allowed (false whenever `error` is set).
    pub allowed: bool,
    /// The revision decided at.
    pub revision: u64,
    /// Why it could not be evaluated (a denial).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
    /// The evaluation, when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<ExplanationView>,
    /// Conditions the caller must apply to an allowed decision (e.g.
    /// `mask_agent_identity`), as the action's profile declares them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub obligations: Vec<String>,
}

/// Up to the batch limit (default 1,000) checks.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Checks (their own `at_least_revision` and `explain` are ignored).
    pub checks: Vec<CheckRequest>,
    /// Answer from this revision or later.
    pub at_least_revision: Option<u64>,
    /// `minimize_latency`, `at_least_revision` or `fully_consistent` (see `ReadQuery`).
    pub consistency: Option<super::ConsistencyMode>,
}

/// Decisions in request order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    /// One per check.
    pub results: Vec<BatchItem>,
    /// The revision decided at.
    pub revision: u64,
}

/// One batch result.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItem {
    /// Allowed.
    pub allowed: bool,
    /// Why it could not be evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
    /// Obligations that apply.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub obligations: Vec<String>,
}

fn node_view(n: ExplainNode) -> ExplainNodeView {
    ExplainNodeView {
        expr: n.expr,
        outcome: match n.outcome {
            Outcome::True => "true",
            Outcome::False => "false",
            Outcome::Error => "error",
            Outcome::Skipped => "skipped",
        }
        .to_owned(),
        detail: n.detail,
        children: n.children.into_iter().map(node_view).collect(),
    }
}

fn context(c: &BTreeMap<String, serde_json::Value>) -> ApiResult<Context> {
    c.iter()
        .map(|(k, v)| {
            let value = super::json_scalar(&format!("context `{k}`"), v)?;
            Ok((k.clone(), value))
        })
        .collect()
}

fn error_detail(e: &EvalError) -> ErrorDetail {
    ErrorDetail {
        code: if is_request_error(e) {
            "invalid"
        } else {
            "evaluation_error"
        }
        .to_owned(),
        message: e.to_string(),
    }
}

fn explanation_view(x: Explanation) -> ExplanationView {
    let text = x.render();
    ExplanationView {
        action: x.action_name,
        requirement: x.requirement,
        reasons: x.reasons,
        tree: x.tree.map(node_view),
        text,
    }
}

/// The question a request asks.
fn question(c: &CheckRequest) -> ApiResult<Question> {
    Ok(Question {
        principal: c.principal.clone(),
        action: c.action.clone(),
        resource_type: c.resource.ty.clone(),
        resource_id: c.resource.id.clone(),
        context: context(&c.context)?,
    })
}

/// Decides one request.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/check", params(("tenant" = String, Path,)), request_body = CheckRequest, responses((status = 200, body = CheckResponse), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn check(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<CheckRequest>,
) -> ApiResult<Json<CheckResponse>> {
    let explain = body.explain;
    decide(&s, &caller, &tenant, body, explain).await
}

/// Decides one request and explains it.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/explain", params(("tenant" = String, Path,)), request_body = CheckRequest, responses((status = 200, body = CheckResponse), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn explain(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<CheckRequest>,
) -> ApiResult<Json<CheckResponse>> {
    decide(&s, &caller, &tenant, body, true).await
}

async fn decide(
    s: &AppState,
    caller: &Caller,
    tenant: &str,
    body: CheckRequest,
    explain: bool,
) -> ApiResult<Json<CheckResponse>> {
    let t = tenant_for(s, caller, tenant).await?;
    let q = question(&body)?;
    let (a, revision) = t
        .decide(
            &caller.0,
            &q,
            super::consistency(body.consistency, body.at_least_revision)?,
            explain,
        )
        .await?;
    s.metrics.decision(&t.id, &a.decision);
    let Answer {
        decision,
        explanation,
        obligations,
    } = a;
    Ok(Json(CheckResponse {
        allowed: decision.allowed,
        revision,
        error: decision.error.as_ref().map(error_detail),
        explanation: explanation.map(explanation_view),
        obligations,
    }))
}

/// Decides up to the batch limit of requests at one revision.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/check/batch", params(("tenant" = String, Path,)), request_body = BatchRequest, responses((status = 200, body = BatchResponse), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn check_batch(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<BatchRequest>,
) -> ApiResult<Json<BatchResponse>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let questions = body
        .checks
        .iter()
        .map(question)
        .collect::<ApiResult<Vec<_>>>()?;
    let answers = t
        .decide_batch(
            &caller.0,
            &questions,
            super::consistency(body.consistency, body.at_least_revision)?,
        )
        .await?;
    let (mut allowed, mut denied) = (0u64, 0u64);
    let results = answers
        .answers
        .into_iter()
        .map(|a| {
            if a.decision.allowed {
                allowed += 1;
            } else {
                denied += 1;
            }
            BatchItem {
                allowed: a.decision.allowed,
                error: a.decision.error.as_ref().map(error_detail),
                obligations: a.obligations,
            }
        })
        .collect();
    s.metrics.decisions_counted(&t.id, allowed, denied);
    Ok(Json(BatchResponse {
        results,
        revision: answers.revision,
    }))
}

/// A user's effective permissions (for the tenant, or for one resource).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/users/{id}/permissions", params(("tenant" = String, Path,), ("id" = String, Path,), PermissionsQuery), responses((status = 200, body = Permissions), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn permissions(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, user)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<PermissionsQuery>,
) -> ApiResult<Json<Permissions>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    valid_id(&user, "user")?;
    let p = t
        .permissions(
            &caller.0,
            &user,
            q.resource.as_deref(),
            super::consistency(q.consistency, q.at_least_revision)?,
        )
        .await?;
    Ok(Json(Permissions::from(p)))
}

impl From<rolecall_engine::permissions::Permissions> for Permissions {
    fn from(p: rolecall_engine::permissions::Permissions) -> Self {
        Permissions {
            user: p.user,
            resource: p.resource,
            privileges: p
                .privileges
                .into_iter()
                .map(|h| HeldView {
                    id: h.id,
                    name: h.name,
                    level: h.level,
                    choices: h.choices,
                })
                .collect(),
            actions: p
                .actions
                .into_iter()
                .map(|a| ActionView {
                    id: a.id,
                    name: a.name,
                    allowed: a.allowed,
                })
                .collect(),
            revision: p.revision,
        }
    }
}
/// `?resource=TYPE:ID` (default: the tenant).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PermissionsQuery {
    /// The resource the permissions are for.
    pub resource: Option<String>,
    /// Read at this revision or later.
    pub at_least_revision: Option<u64>,
    /// `minimize_latency`, `at_least_revision` or `fully_consistent` (see `ReadQuery`).
    pub consistency: Option<super::ConsistencyMode>,
}

/// A privilege held.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeldView {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Highest level held.
    pub level: Option<String>,
    /// Choices held.
    pub choices: Vec<String>,
}

/// An action and whether the user may perform it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionView {
    /// Id.
    pub id: String,
    /// The vendor's wording.
    pub name: String,
    /// Allowed on the resource.
    pub allowed: bool,
}

/// What a UI should show or hide for a user.
#[derive(Debug, Serialize, ToSchema)]
pub struct Permissions {
    /// The user.
    pub user: String,
    /// `TYPE:ID` the permissions are for.
    pub resource: String,
    /// Privileges held for that resource.
    pub privileges: Vec<HeldView>,
    /// Every action on that resource's type, allowed or not.
    pub actions: Vec<ActionView>,
    /// Revision answered from.
    pub revision: u64,
}
