//! Who-can and what-can, now or as of an earlier revision or time (answered from the
//! change log), and the impact preview of a change before it is written.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use rolecall_core::Snapshot;
use rolecall_core::{Change, MemState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::assignments::CreateAssignment;
use super::decisions::ResourceRef;
use super::{ApiJson, ApiPath, REVISION_WAIT, tenant_for};
use crate::app::{AppState, now};
use crate::auth::Caller;
use crate::authz::{Subject, authorize};
use crate::error::{ApiError, ApiResult};
use crate::tenant::Tenant;

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

async fn snapshot_for(
    s: &AppState,
    t: &Tenant,
    as_of: Option<&AsOf>,
    at_least: Option<u64>,
) -> ApiResult<(Arc<Snapshot>, u64, i64)> {
    let cur = t.at_least(at_least, REVISION_WAIT).await?;
    let Some(a) = as_of else {
        return Ok((cur.snapshot.clone(), cur.revision, now()));
    };
    let time = a.time.unwrap_or_else(now);
    let revision = match (a.revision, a.time) {
        (Some(r), _) => r,
        (None, Some(t0)) => t.revision_at_time(s.store.as_ref(), t0).await?,
        (None, None) => cur.revision,
    };
    if revision == 0 || revision > cur.revision {
        return Err(ApiError::bad_request(format!(
            "revision {revision} does not exist (the tenant is at {})",
            cur.revision
        )));
    }
    Ok((
        t.snapshot_at(s.store.as_ref(), revision).await?,
        revision,
        time,
    ))
}

fn lookup_error(e: rolecall_core::EvalError) -> ApiError {
    ApiError::invalid(e.to_string())
}

/// Every user who may perform `action` on the resource (who-can), now or as of.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/lookup/subjects", params(("tenant" = String, Path,)), request_body = SubjectsRequest, responses((status = 200, body = LookupResponse), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn subjects(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(b): ApiJson<SubjectsRequest>,
) -> ApiResult<Json<LookupResponse>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    authorize(&t.current().snapshot, &caller, "check.others", None, now())?;
    let (snap, revision, time) =
        snapshot_for(&s, &t, b.as_of.as_ref(), b.at_least_revision).await?;
    let ids = snap
        .lookup_subjects(
            &b.action,
            &b.resource.ty,
            &b.resource.id,
            &rolecall_core::Context::new(),
            time,
        )
        .map_err(lookup_error)?;
    Ok(Json(LookupResponse {
        count: ids.len(),
        ids,
        revision,
        evaluated_at: time,
    }))
}

/// Every resource of the action's type the user may act on (what-can), now or as of.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/lookup/resources", params(("tenant" = String, Path,)), request_body = ResourcesRequest, responses((status = 200, body = LookupResponse), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn resources(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(b): ApiJson<ResourcesRequest>,
) -> ApiResult<Json<LookupResponse>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    let own = matches!(&caller, Caller::Tenant { principal, .. } if *principal == b.principal);
    if !own {
        authorize(
            &t.current().snapshot,
            &caller,
            "check.others",
            Some(Subject {
                ty: rolecall_core::profile::USER,
                id: &b.principal,
            }),
            now(),
        )?;
    }
    let (snap, revision, time) =
        snapshot_for(&s, &t, b.as_of.as_ref(), b.at_least_revision).await?;
    let ids = snap
        .lookup_resources(
            &b.principal,
            &b.action,
            &rolecall_core::Context::new(),
            time,
        )
        .map_err(lookup_error)?;
    Ok(Json(LookupResponse {
        count: ids.len(),
        ids,
        revision,
        evaluated_at: time,
    }))
}

/// A change to preview: exactly one of the fields.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactRequest {
    /// A custom role as it would be after the edit (or a new one).
    pub role: Option<super::roles::CreateRole>,
    /// An assignment that would be made.
    pub assignment: Option<CreateAssignment>,
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

/// Previews a role edit, an assignment, its removal, or a setting change: who gains
/// and who loses which actions. Nothing is written.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/impact", params(("tenant" = String, Path,)), request_body = ImpactRequest, responses((status = 200, body = ImpactResponse), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn impact(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(b): ApiJson<ImpactRequest>,
) -> ApiResult<Json<ImpactResponse>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    let cur = t.current();
    authorize(&cur.snapshot, &caller, "impact.read", None, now())?;
    let given = [
        b.role.is_some(),
        b.assignment.is_some(),
        b.remove_assignment.is_some(),
        b.settings.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if given != 1 {
        return Err(ApiError::bad_request(
            "give exactly one of `role`, `assignment`, `remove_assignment` or `settings`",
        ));
    }
    let mut changes = Vec::new();
    let mut all_users = false;
    if let Some(r) = b.role {
        changes.push(super::roles::preview_change(&cur, r)?);
    }
    if let Some(a) = b.assignment {
        changes.push(super::assignments::preview_change(&cur, a)?);
    }
    if let Some(id) = b.remove_assignment {
        if !cur.mem.state.assignments.iter().any(|a| a.id == id) {
            return Err(ApiError::not_found(format!("unknown assignment `{id}`")));
        }
        changes.push(Change::DeleteAssignment { id });
    }
    if let Some(settings) = b.settings {
        changes.extend(super::settings::changes(&cur, &settings)?);
        all_users = true;
    }
    let mut mem: MemState = cur.mem.clone();
    for c in &changes {
        mem.apply(&cur.profile, c);
    }
    let after = Snapshot::build(cur.profile.clone(), &mem.state).map_err(|e| {
        ApiError::invalid(e.first().map_or_else(String::new, |x| x.message.clone()))
    })?;
    let before = &cur.snapshot;
    let time = now();
    let users: Vec<&str> = cur
        .mem
        .state
        .entities
        .iter()
        .filter(|e| e.ty == "user")
        .map(|e| e.id.as_str())
        .collect();
    let affected: Vec<&str> = users
        .into_iter()
        .filter(|u| {
            all_users || before.grant_fingerprint(u, time) != after.grant_fingerprint(u, time)
        })
        .collect();
    let org_of = |u: &str| -> Option<String> {
        cur.mem
            .entity("user", u)
            .and_then(|e| e.relations.iter().find(|(r, _)| r == "org_unit"))
            .and_then(|(_, t)| t.first().cloned())
    };
    let mut gains = Vec::new();
    let mut losses = Vec::new();
    for a in &cur.profile.actions {
        let (mut won, mut lost) = (Vec::new(), Vec::new());
        for u in &affected {
            let (was, is) = (
                before.allowed_anywhere(u, &a.id, time),
                after.allowed_anywhere(u, &a.id, time),
            );
            if is && !was {
                won.push((*u).to_owned());
            } else if was && !is {
                lost.push((*u).to_owned());
            }
        }
        for (list, out) in [(won, &mut gains), (lost, &mut losses)] {
            if list.is_empty() {
                continue;
            }
            let mut orgs: Vec<String> = list.iter().filter_map(|u| org_of(u)).collect();
            orgs.sort();
            orgs.dedup();
            out.push(ActionImpact {
                action: a.id.clone(),
                name: a.name.clone(),
                users: list,
                org_units: orgs,
            });
        }
    }
    let sentence = |x: &ActionImpact, verb: &str| {
        let orgs = match x.org_units.len() {
            0 => String::new(),
            1 => format!(" in {}", x.org_units.join("")),
            n => format!(" in {n} org units"),
        };
        format!(
            "this change {verb} {} user{}{orgs}: {} ({})",
            x.users.len(),
            if x.users.len() == 1 { "" } else { "s" },
            x.name,
            x.action
        )
    };
    let mut summary: Vec<String> = gains.iter().map(|x| sentence(x, "lets")).collect();
    summary.extend(losses.iter().map(|x| sentence(x, "stops")));
    if summary.is_empty() {
        summary.push("this change gives and takes no action from anyone".into());
    }
    Ok(Json(ImpactResponse {
        summary,
        gains,
        losses,
        users_affected: affected.len(),
        revision: cur.revision,
    }))
}
