//! Self-authorization: every management request is decided by the tenant's own
//! profile (its `[management]` table and appointment rules), and nobody grants a
//! privilege or level they do not hold over the scope concerned.

use rolecall_core::Request;
use rolecall_core::profile::{ORG_UNIT, QUEUE, TENANT, TypeId};
use rolecall_core::snapshot::AppointRequest;
use rolecall_core::state::Scope;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::tenant::Current;

/// The object a management request acts on, when there is one.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Its type.
    pub ty: TypeId,
    /// Its id.
    pub id: &'a str,
}

/// Decides whether `caller` may perform management operation `op` (e.g.
/// `roles.write`) on `subject` in this tenant.
pub fn authorize(
    snap: &rolecall_core::Snapshot,
    caller: &Caller,
    op: &str,
    subject: Option<Subject<'_>>,
    now: i64,
) -> ApiResult<()> {
    let principal = match caller {
        Caller::Operator { .. } => return Ok(()),
        Caller::Tenant { principal, .. } => principal,
    };
    let p = snap.profile();
    let Some(action_id) = p.management_action(op) else {
        return Err(ApiError::forbidden(format!(
            "`{op}` is reserved to the operator: profile `{}` maps no action to it",
            p.id
        )));
    };
    let Some(action) = p.actions.get(action_id) else {
        return Err(ApiError::internal(format!(
            "management action #{action_id} missing"
        )));
    };
    let tenant_id = snap.tenant_id().to_owned();
    let (rtype, rid): (TypeId, &str) = match subject {
        Some(s) if s.ty == action.resource => (s.ty, s.id),
        _ if action.resource == TENANT => (TENANT, tenant_id.as_str()),
        Some(s) => {
            return Err(ApiError::forbidden(format!(
                "`{op}` is governed by action `{}`, which acts on `{}`, not on this `{}`; only the operator may do this",
                action.id,
                p.types.get(action.resource).map_or("?", |t| t.id.as_str()),
                p.types.get(s.ty).map_or("?", |t| t.id.as_str()),
            )));
        }
        None => {
            return Err(ApiError::forbidden(format!(
                "`{op}` needs an object of type `{}`",
                p.types.get(action.resource).map_or("?", |t| t.id.as_str())
            )));
        }
    };
    let ctx = rolecall_core::Context::new();
    let req = Request {
        principal,
        action: &action.id,
        resource_type: p.types.get(rtype).map_or("tenant", |t| t.id.as_str()),
        resource_id: rid,
        context: &ctx,
        now,
    };
    let x = snap.explain(&req);
    if x.decision.allowed {
        return Ok(());
    }
    let why = x.reasons.first().cloned().unwrap_or_default();
    Err(ApiError::forbidden(format!(
        "`{principal}` may not {op}: it needs `{}` ({}){}",
        action.id,
        action
            .requires_text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        if why.is_empty() {
            String::new()
        } else {
            format!("; {why}")
        }
    )))
}

/// The resources an assignment scope stands for, for anti-escalation.
fn scope_resources(cur: &Current, scope: &Scope) -> Vec<(TypeId, u32)> {
    let snap = &cur.snapshot;
    match scope {
        Scope::Tenant => vec![(TENANT, 0)],
        Scope::OrgUnits(ids) => ids
            .iter()
            .filter_map(|i| snap.entity(ORG_UNIT, i))
            .map(|e| (ORG_UNIT, e))
            .collect(),
        Scope::Queues(ids) => ids
            .iter()
            .filter_map(|i| snap.entity(QUEUE, i))
            .map(|e| (QUEUE, e))
            .collect(),
    }
}

/// Refuses a role definition that would hold anything the caller does not hold
/// tenant-wide. `candidate` is the snapshot with the edited role.
pub fn role_within_caller(
    cur: &Current,
    candidate: &rolecall_core::Snapshot,
    caller: &Caller,
    role: &str,
    now: i64,
) -> ApiResult<()> {
    let Caller::Tenant { principal, .. } = caller else {
        return Ok(());
    };
    let Some(user) = cur.snapshot.entity(rolecall_core::profile::USER, principal) else {
        return Err(ApiError::forbidden(format!(
            "`{principal}` is not a user of this tenant"
        )));
    };
    let need = candidate.role_set(role).unwrap_or_default();
    let have = cur.snapshot.held_tenant_wide(user, now);
    match cur.snapshot.first_missing(&need, &have) {
        Some(label) => Err(ApiError::forbidden(format!(
            "role `{role}` would grant `{label}`, which `{principal}` does not hold tenant-wide; nobody grants what they do not hold"
        ))),
        None => Ok(()),
    }
}

/// Refuses an assignment by a tenant caller: the profile's appointment rule for the
/// role if it has one, else the `assignments.write` action on the target user; and in
/// every case the caller must hold everything the role gives over the scope.
pub fn assignment_allowed(
    cur: &Current,
    caller: &Caller,
    role: &str,
    target: &str,
    scope: &Scope,
    now: i64,
) -> ApiResult<()> {
    let Caller::Tenant { principal, .. } = caller else {
        return Ok(());
    };
    let snap = &cur.snapshot;
    let has_rule = cur.profile.appointments.iter().any(|a| a.role == role);
    if has_rule {
        let d = snap.check_appointment(&AppointRequest {
            appointer: principal,
            role,
            target,
            scope,
            now,
        });
        if !d.decision.allowed {
            return Err(ApiError::forbidden(format!(
                "`{principal}` may not give role `{role}` to `{target}`: {}",
                d.reason
            )));
        }
        // Appointment rules are the profile's own delegation model (administrators give
        // roles they do not hold themselves, e.g. supervisor); anti-escalation applies
        // to privilege-governed assignments below.
        return Ok(());
    }
    authorize(
        &cur.snapshot,
        caller,
        "assignments.write",
        Some(Subject {
            ty: rolecall_core::profile::USER,
            id: target,
        }),
        now,
    )?;
    let Some(user) = snap.entity(rolecall_core::profile::USER, principal) else {
        return Err(ApiError::forbidden(format!(
            "`{principal}` is not a user of this tenant"
        )));
    };
    let need = snap
        .role_set(role)
        .ok_or_else(|| ApiError::invalid(format!("unknown role `{role}`")))?;
    for (ty, e) in scope_resources(cur, scope) {
        let have = snap.held_set(user, ty, e, now);
        if let Some(label) = snap.first_missing(&need, &have) {
            return Err(ApiError::forbidden(format!(
                "role `{role}` would give `{label}`, which `{principal}` does not hold over that scope; nobody grants what they do not hold"
            )));
        }
    }
    Ok(())
}
