//! Nobody grants what they do not hold: a role definition may hold only what its
//! editor holds tenant-wide, and an assignment may give only what its giver holds over
//! the scope concerned — unless the profile's appointment rules say who appoints whom.
//! A service credential gives, as its user, at most within its own scope.

use rolecall_core::Snapshot;
use rolecall_core::profile::{ORG_UNIT, QUEUE, TENANT, TypeId, USER};
use rolecall_core::snapshot::AppointRequest;
use rolecall_core::state::Scope;

use super::{Object, authorize};
use crate::actor::Actor;
use crate::error::{EngineError, EngineResult};
use crate::view::View;

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
        return if actor.is_privileged() {
            Ok(())
        } else {
            Err(EngineError::Forbidden("this needs a tenant user".into()))
        };
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
        return if actor.is_privileged() {
            Ok(())
        } else {
            Err(EngineError::Forbidden("this needs a tenant user".into()))
        };
    };
    let snap = &view.snapshot;
    if let Actor::Service(c) = actor
        && !super::service::scope_within(snap, scope, &c.scope)
    {
        return Err(EngineError::Forbidden(format!(
            "service credential `{}` may not give roles outside its scope",
            c.name
        )));
    }
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
    authorize(snap, actor, "assignments.write", Object::user(target), now)?;
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
