//! Delegation ceilings: a role definition or an assignment gives at most what the
//! profile's ceiling for that write holds — by default the granter's own holdings
//! (tenant-wide for a role definition, over the scope for an assignment: nobody grants
//! what they do not hold), or the role type's cap, or what named roles hold. What a
//! role type locks or defaults is not given by the editor, restrictions never count
//! as given, and under the holdings ceiling lifting a restriction that binds the
//! granter is refused. The profile's appointment rules, where they exist, say who
//! appoints whom instead. A service credential gives, as its user, at most within its
//! own scope.

use rolecall_core::Snapshot;
use rolecall_core::profile::{
    Ceiling, Delegated, Governance, ORG_UNIT, QUEUE, TENANT, TypeId, USER,
};
use rolecall_core::snapshot::{AppointRequest, Excess};
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

/// The ceiling, in words, for a refusal.
fn ceiling_words(snap: &Snapshot, ceiling: &Ceiling, role: &str, op: Delegated) -> String {
    let what = match op {
        Delegated::RoleDefinition => "defining roles",
        Delegated::Assignment => "giving roles",
    };
    match ceiling {
        Ceiling::Holdings => format!(
            "this profile's ceiling for {what} is what the granter holds{}: nobody grants what they do not hold",
            match op {
                Delegated::RoleDefinition => " tenant-wide",
                Delegated::Assignment => " over that scope",
            }
        ),
        Ceiling::TypeCap => {
            let ty = snap.role_type_of(role).unwrap_or("?");
            format!("this profile's ceiling for {what} of type `{ty}` is that type's cap")
        }
        Ceiling::Roles(ids) => format!(
            "this profile's ceiling for {what} is what {} hold together",
            ids.iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The refusal for a write that exceeds its ceiling.
fn refusal(
    snap: &Snapshot,
    excess: Excess,
    ceiling: &Ceiling,
    role: &str,
    granter: &str,
    op: Delegated,
) -> EngineError {
    let why = ceiling_words(snap, ceiling, role, op);
    let verb = match op {
        Delegated::RoleDefinition => "grant",
        Delegated::Assignment => "give",
    };
    EngineError::Forbidden(match excess {
        Excess::Gives(label) if *ceiling == Ceiling::Holdings => format!(
            "role `{role}` would {verb} `{label}`, which `{granter}` does not hold{}; {why}",
            match op {
                Delegated::RoleDefinition => " tenant-wide",
                Delegated::Assignment => " over that scope",
            }
        ),
        Excess::Gives(label) => {
            format!("role `{role}` would {verb} `{label}`, above its ceiling; {why}")
        }
        Excess::Lifts(label) => format!(
            "role `{role}` leaves out the restriction `{label}`, which binds `{granter}`: it would lift it; {why}"
        ),
    })
}

/// Refuses a role definition above its ceiling (by default, anything the actor does
/// not hold tenant-wide). `candidate` is the snapshot with the edited role.
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
    let have = view.snapshot.held_tenant_wide(user, now);
    let op = Delegated::RoleDefinition;
    let ceiling = candidate.ceiling_of(op, role);
    match candidate.exceeds(ceiling, role, &have) {
        Some(excess) => Err(refusal(candidate, excess, ceiling, role, principal, op)),
        None => Ok(()),
    }
}

/// Whether an assignment is being made or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Giving {
    /// Giving a role.
    Grant,
    /// Removing an assignment: it takes privileges away, so no ceiling applies — only
    /// lifting a restriction that binds the remover (under the holdings ceiling) is an
    /// escalation.
    Removal,
}

/// Refuses an assignment (or its removal) by a tenant user: the profile's appointment
/// rule for the role if it has one; else the `assignments.write` action on the target
/// user, the governing privileges held over every part of the scope (a scoped
/// administrator gives roles only within their scope), and — when giving — nothing
/// above the profile's ceiling for that role.
pub fn assignment_allowed(
    view: &View,
    actor: &Actor,
    role: &str,
    target: &str,
    scope: &Scope,
    giving: Giving,
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
    if snap.role_set(role).is_none() {
        return Err(EngineError::Invalid(format!("unknown role `{role}`")));
    }
    let op = Delegated::Assignment;
    let ceiling = snap.ceiling_of(op, role);
    let governing = match snap.profile().governance("assignments.write") {
        Governance::Action(a) => snap.profile().actions.get(a).map(|x| x.id.clone()),
        Governance::Operator => None,
    };
    let places = scope_resources(snap, scope);
    if places.is_empty() {
        return Err(EngineError::Invalid(format!(
            "the scope of role `{role}` names nothing that exists"
        )));
    }
    for (ty, e) in places {
        let have = snap.held_set(user, ty, e, now);
        if let Some(action) = &governing
            && !snap.privileges_allow(action, &have)
        {
            return Err(EngineError::Forbidden(format!(
                "`{principal}` may not give roles over {}: the privileges of `{action}` are not theirs there; a scoped administrator gives roles only within their scope",
                place_words(snap, ty, e)
            )));
        }
        let excess = match giving {
            Giving::Grant => snap.exceeds(ceiling, role, &have),
            Giving::Removal => snap.lifts_restriction(ceiling, role, &have),
        };
        if let Some(excess) = excess {
            return Err(refusal(snap, excess, ceiling, role, principal, op));
        }
    }
    Ok(())
}

/// A scope part in words: "the whole tenant", "org unit `a`", "queue `q`".
fn place_words(snap: &Snapshot, ty: TypeId, e: u32) -> String {
    match ty {
        TENANT => "the whole tenant".to_owned(),
        _ => format!(
            "{} `{}`",
            snap.profile()
                .types
                .get(ty)
                .map_or("object", |t| t.name.as_str())
                .to_lowercase(),
            snap.entity_id(ty, e).unwrap_or("?")
        ),
    }
}
