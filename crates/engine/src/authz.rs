//! Self-authorization: every management operation is decided by the tenant's own
//! profile (its `[management]` table and appointment rules), and nobody grants a
//! privilege or level they do not hold over the scope concerned. A decision runs the
//! compiled check; only a denial is explained, to say why.

use rolecall_core::profile::{ORG_UNIT, QUEUE, TENANT, TypeId, USER};
use rolecall_core::snapshot::AppointRequest;
use rolecall_core::state::Scope;
use rolecall_core::{Request, Snapshot};

use crate::actor::Actor;
use crate::error::{EngineError, EngineResult};
use crate::view::View;

/// The object a management operation acts on, when there is one.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Its type.
    pub ty: TypeId,
    /// Its id.
    pub id: &'a str,
}

impl<'a> Subject<'a> {
    /// The user `id`.
    pub fn user(id: &'a str) -> Self {
        Subject { ty: USER, id }
    }
}

/// Decides whether `actor` may perform management operation `op` (e.g. `roles.write`)
/// on `subject` in the tenant of `snap`.
pub fn authorize(
    snap: &Snapshot,
    actor: &Actor,
    op: &str,
    subject: Option<Subject<'_>>,
    now: i64,
) -> EngineResult<()> {
    let Some(principal) = actor.principal() else {
        return if actor.is_privileged() {
            Ok(())
        } else {
            Err(EngineError::Forbidden(format!(
                "`{op}` needs a tenant user"
            )))
        };
    };
    let p = snap.profile();
    let Some(action_id) = p.management_action(op) else {
        return Err(EngineError::Forbidden(format!(
            "`{op}` is reserved to the operator: profile `{}` maps no action to it",
            p.id
        )));
    };
    let Some(action) = p.actions.get(action_id) else {
        return Err(EngineError::internal(format!(
            "management action #{action_id} missing"
        )));
    };
    let tenant_id = snap.tenant_id().to_owned();
    let (rtype, rid): (TypeId, &str) = match subject {
        Some(s) if s.ty == action.resource => (s.ty, s.id),
        _ if action.resource == TENANT => (TENANT, tenant_id.as_str()),
        Some(s) => {
            return Err(EngineError::Forbidden(format!(
                "`{op}` is governed by action `{}`, which acts on `{}`, not on this `{}`; only the operator may do this",
                action.id,
                p.types.get(action.resource).map_or("?", |t| t.id.as_str()),
                p.types.get(s.ty).map_or("?", |t| t.id.as_str()),
            )));
        }
        None => {
            return Err(EngineError::Forbidden(format!(
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
    if snap.check(&req).allowed {
        return Ok(());
    }
    // Denied: explain, to say which privilege, relation or scope was missing.
    let x = snap.explain(&req);
    let why = x.reasons.first().cloned().unwrap_or_default();
    Err(EngineError::Forbidden(format!(
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

/// Decides whether `actor` may act for `principal` (check, explain, list permissions):
/// a user always for themselves, anyone else through `check.others`.
pub fn may_act_for(snap: &Snapshot, actor: &Actor, principal: &str, now: i64) -> EngineResult<()> {
    if actor.is_user(principal) {
        return Ok(());
    }
    authorize(
        snap,
        actor,
        "check.others",
        Some(Subject::user(principal)),
        now,
    )
}

/// The resources an assignment scope stands for, for anti-escalation.
fn scope_resources(snap: &Snapshot, scope: &Scope) -> Vec<(TypeId, u32)> {
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

/// The dense id of the acting user in `snap`, or why they cannot act.
fn acting_user(snap: &Snapshot, principal: &str) -> EngineResult<u32> {
    snap.entity(USER, principal).ok_or_else(|| {
        EngineError::Forbidden(format!("`{principal}` is not a user of this tenant"))
    })
}

/// Refuses a role definition that would hold anything the actor does not hold
/// tenant-wide. `candidate` is the snapshot with the edited role.
pub fn role_within_actor(
    view: &View,
    candidate: &Snapshot,
    actor: &Actor,
    role: &str,
    now: i64,
) -> EngineResult<()> {
    let Some(principal) = actor.principal() else {
        return Ok(());
    };
    let user = acting_user(&view.snapshot, principal)?;
    let need = candidate.role_set(role).unwrap_or_default();
    let have = view.snapshot.held_tenant_wide(user, now);
    match view.snapshot.first_missing(&need, &have) {
        Some(label) => Err(EngineError::Forbidden(format!(
            "role `{role}` would grant `{label}`, which `{principal}` does not hold tenant-wide; nobody grants what they do not hold"
        ))),
        None => Ok(()),
    }
}

/// Refuses an assignment (or its removal) by a tenant user: the profile's appointment
/// rule for the role if it has one, else the `assignments.write` action on the target
/// user; and for privilege-governed assignments the user must hold everything the role
/// gives over the scope.
pub fn assignment_allowed(
    view: &View,
    actor: &Actor,
    role: &str,
    target: &str,
    scope: &Scope,
    now: i64,
) -> EngineResult<()> {
    let Some(principal) = actor.principal() else {
        return Ok(());
    };
    let snap = &view.snapshot;
    if view.profile.appointments.iter().any(|a| a.role == role) {
        let d = snap.check_appointment(&AppointRequest {
            appointer: principal,
            role,
            target,
            scope,
            now,
        });
        if !d.decision.allowed {
            return Err(EngineError::Forbidden(format!(
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
        snap,
        actor,
        "assignments.write",
        Some(Subject::user(target)),
        now,
    )?;
    let user = acting_user(snap, principal)?;
    let need = snap
        .role_set(role)
        .ok_or_else(|| EngineError::Invalid(format!("unknown role `{role}`")))?;
    for (ty, e) in scope_resources(snap, scope) {
        let have = snap.held_set(user, ty, e, now);
        if let Some(label) = snap.first_missing(&need, &have) {
            return Err(EngineError::Forbidden(format!(
                "role `{role}` would give `{label}`, which `{principal}` does not hold over that scope; nobody grants what they do not hold"
            )));
        }
    }
    Ok(())
}

/// Who may read assignments: the operator, the `assignments.read` action, or a user
/// reading their own (`principal` names whose are read; `None`: everyone's).
pub fn may_read_assignments(
    snap: &Snapshot,
    actor: &Actor,
    principal: Option<&str>,
    now: i64,
) -> EngineResult<()> {
    if principal.is_some_and(|p| actor.is_user(p)) {
        return Ok(());
    }
    authorize(snap, actor, "assignments.read", None, now)
}
