//! Decisions: check, batch check, explain, and a user's effective permissions.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use rolecall_core::profile::TypeId;
use rolecall_core::snapshot::{ExplainNode, Outcome};
use rolecall_core::{Context, EvalError, Request};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, ApiPath, ApiQuery, REVISION_WAIT, tenant_for, valid_id};
use crate::app::{AppState, now};
use crate::auth::Caller;
use crate::authz::{Subject, authorize};
use crate::error::{ApiError, ApiResult, ErrorDetail};
use crate::tenant::Current;
use rolecall_store::AuditDraft;

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

/// The audit entry of a decision on an action the profile marks sensitive
/// (listen, whisper, barge, take over, recordings, PII erasure).
fn decision_draft(
    cur: &Current,
    c: &CheckRequest,
    d: &rolecall_core::Decision,
) -> Option<AuditDraft> {
    let a = cur
        .profile
        .action(&c.action)
        .and_then(|a| cur.profile.actions.get(a))?;
    if !a.sensitive {
        return None;
    }
    Some(AuditDraft {
        action: format!("decision.{}", a.id),
        target: format!("{}:{}", c.resource.ty, c.resource.id),
        before: None,
        after: serde_json::to_string(&serde_json::json!({
            "principal": c.principal,
            "allowed": d.allowed,
            "error": d.error.as_ref().map(|e| e.to_string()),
            "obligations": cur.snapshot.obligation_ids(&c.action, d.obligations),
        }))
        .ok(),
    })
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

/// Checking for someone else needs `check.others`.
fn may_check_for(cur: &Current, caller: &Caller, principal: &str) -> ApiResult<()> {
    if let Caller::Tenant { principal: me, .. } = caller
        && me == principal
    {
        return Ok(());
    }
    authorize(
        &cur.snapshot,
        caller,
        "check.others",
        Some(Subject {
            ty: rolecall_core::profile::USER,
            id: principal,
        }),
        now(),
    )
}

/// Resolution errors are the caller's mistake (4xx); evaluation errors are denials.
fn is_request_error(e: &EvalError) -> bool {
    matches!(
        e,
        EvalError::UnknownAction(_)
            | EvalError::UnknownPrincipal(_)
            | EvalError::UnknownResource { .. }
            | EvalError::UnknownResourceType(_)
            | EvalError::WrongResourceType { .. }
    )
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

/// Decides one request.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/check", params(("tenant" = String, Path,)), request_body = CheckRequest, responses((status = 200, body = CheckResponse), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn check(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<CheckRequest>,
) -> ApiResult<Json<CheckResponse>> {
    decide(&s, &caller, &tenant, body, false).await
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
    force_explain: bool,
) -> ApiResult<Json<CheckResponse>> {
    let t = tenant_for(s, caller, tenant)?;
    let cur = t.at_least(body.at_least_revision, REVISION_WAIT).await?;
    may_check_for(&cur, caller, &body.principal)?;
    let ctx = context(&body.context)?;
    let req = Request {
        principal: &body.principal,
        action: &body.action,
        resource_type: &body.resource.ty,
        resource_id: &body.resource.id,
        context: &ctx,
        now: now(),
    };
    let (decision, explanation) = if body.explain || force_explain {
        let x = cur.snapshot.explain(&req);
        let text = x.render();
        let view = ExplanationView {
            action: x.action_name.clone(),
            requirement: x.requirement.clone(),
            reasons: x.reasons.clone(),
            tree: x.tree.map(node_view),
            text,
        };
        (x.decision, Some(view))
    } else {
        (cur.snapshot.check(&req), None)
    };
    if let Some(e) = &decision.error
        && is_request_error(e)
    {
        return Err(ApiError::invalid(e.to_string()));
    }
    s.metrics.decision(&t.id, &decision);
    if let Some(draft) = decision_draft(&cur, &body, &decision) {
        s.store
            .append_audit(&t.id, &[draft], &caller.actor(), now())
            .await?;
    }
    Ok(Json(CheckResponse {
        allowed: decision.allowed,
        revision: cur.revision,
        error: decision.error.as_ref().map(error_detail),
        explanation,
        obligations: cur
            .snapshot
            .obligation_ids(&body.action, decision.obligations)
            .into_iter()
            .map(str::to_owned)
            .collect(),
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
    let t = tenant_for(&s, &caller, &tenant)?;
    let limit = s.config.batch_limit;
    if body.checks.len() > limit {
        return Err(ApiError::bad_request(format!(
            "{} checks in one batch; the limit is {limit}",
            body.checks.len()
        )));
    }
    let cur = t.at_least(body.at_least_revision, REVISION_WAIT).await?;
    let time = now();
    let mut results = Vec::with_capacity(body.checks.len());
    let (mut allowed, mut denied) = (0u64, 0u64);
    let mut drafts = Vec::new();
    for c in &body.checks {
        may_check_for(&cur, &caller, &c.principal)?;
        let ctx = context(&c.context)?;
        let d = cur.snapshot.check(&Request {
            principal: &c.principal,
            action: &c.action,
            resource_type: &c.resource.ty,
            resource_id: &c.resource.id,
            context: &ctx,
            now: time,
        });
        if d.allowed {
            allowed += 1;
        } else {
            denied += 1;
        }
        if let Some(draft) = decision_draft(&cur, c, &d) {
            drafts.push(draft);
        }
        results.push(BatchItem {
            allowed: d.allowed,
            error: d.error.as_ref().map(error_detail),
            obligations: cur
                .snapshot
                .obligation_ids(&c.action, d.obligations)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        });
    }
    if !drafts.is_empty() {
        s.store
            .append_audit(&t.id, &drafts, &caller.actor(), time)
            .await?;
    }
    s.metrics
        .decisions
        .with_label_values(&[&t.id, "allowed"])
        .inc_by(allowed);
    s.metrics
        .decisions
        .with_label_values(&[&t.id, "denied"])
        .inc_by(denied);
    Ok(Json(BatchResponse {
        results,
        revision: cur.revision,
    }))
}

/// `?resource=TYPE:ID` (default: the tenant).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PermissionsQuery {
    /// The resource the permissions are for.
    pub resource: Option<String>,
    /// Read at this revision or later.
    pub at_least_revision: Option<u64>,
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

/// A user's effective permissions (for the tenant, or for one resource).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/users/{id}/permissions", params(("tenant" = String, Path,), ("id" = String, Path,), PermissionsQuery), responses((status = 200, body = Permissions), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn permissions(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, user)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<PermissionsQuery>,
) -> ApiResult<Json<Permissions>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    valid_id(&user, "user")?;
    let cur = t.at_least(q.at_least_revision, REVISION_WAIT).await?;
    may_check_for(&cur, &caller, &user)?;
    let snap = &cur.snapshot;
    let p = &cur.profile;
    let u = snap
        .entity(rolecall_core::profile::USER, &user)
        .ok_or_else(|| ApiError::not_found(format!("unknown user `{user}`")))?;
    let resource = q
        .resource
        .clone()
        .unwrap_or_else(|| format!("tenant:{}", snap.tenant_id()));
    let (ty_name, rid) = resource
        .split_once(':')
        .ok_or_else(|| ApiError::bad_request(format!("resource `{resource}` must be TYPE:ID")))?;
    let ty: TypeId = p
        .type_id(ty_name)
        .ok_or_else(|| ApiError::bad_request(format!("unknown resource type `{ty_name}`")))?;
    let e = snap
        .entity(ty, rid)
        .ok_or_else(|| ApiError::not_found(format!("unknown {ty_name} `{rid}`")))?;
    let time = now();
    let held = snap.held_set(u, ty, e, time);
    let privileges = snap
        .privileges_in(&held)
        .into_iter()
        .map(|h| HeldView {
            id: h.id,
            name: h.name,
            level: h.level,
            choices: h.choices,
        })
        .collect();
    let ctx = Context::new();
    let actions = p
        .actions
        .iter()
        .filter(|a| a.resource == ty)
        .map(|a| ActionView {
            id: a.id.clone(),
            name: a.name.clone(),
            allowed: snap
                .check(&Request {
                    principal: &user,
                    action: &a.id,
                    resource_type: ty_name,
                    resource_id: rid,
                    context: &ctx,
                    now: time,
                })
                .allowed,
        })
        .collect();
    Ok(Json(Permissions {
        user,
        resource,
        privileges,
        actions,
        revision: cur.revision,
    }))
}
