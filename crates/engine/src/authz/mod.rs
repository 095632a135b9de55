//! Self-authorization: every management operation is decided by the tenant's own
//! profile. Its `[management]` table names, per operation, the action that governs it
//! (or reserves it to the operator); the action is checked — with the same compiled
//! check as any other decision — on the object concerned:
//!
//! - an object of the action's own resource type: that object;
//! - anything else, for an action on `org_unit`: the org unit the object is anchored
//!   in; an object no org unit holds (a role, a setting, the tenant itself): every root
//!   of the org tree (so only a tenant-wide holder passes);
//! - anything, for an action on `tenant`: the tenant.
//!
//! Lists are filtered item by item with the same rule ([`Reader`]). Service
//! credentials are decided by their abilities and scope ([`service`]), and act as their
//! user for writes. Nobody grants what they do not hold ([`escalation`]).

mod escalation;
pub mod service;
mod wording;

use rolecall_core::profile::{Governance, ORG_UNIT, TENANT, TypeId, USER, management_op};
use rolecall_core::{Context, Request, Snapshot};

pub use escalation::{Giving, assignment_allowed, role_within_actor};

use crate::actor::Actor;
use crate::error::{EngineError, EngineResult};

/// What a management operation is done to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object<'a> {
    /// The tenant as a whole, or something of it no org unit holds (a role, a setting):
    /// only a tenant-wide holder of the operation reaches it.
    Tenant,
    /// Configuration that anyone who may perform the operation somewhere may read (the
    /// roles, the catalog, the settings a scoped administrator works with).
    Shared,
    /// An entity.
    Entity {
        /// Its type.
        ty: TypeId,
        /// Its id.
        id: &'a str,
    },
}

impl<'a> Object<'a> {
    /// The user `id`.
    pub fn user(id: &'a str) -> Self {
        Object::Entity { ty: USER, id }
    }

    /// The object an audit entry's target names (`user:bob`, `queue:q1`, `role:lead`…):
    /// an entity of a type the profile declares, else the tenant.
    pub fn of_target(snap: &Snapshot, target: &'a str) -> Self {
        target
            .split_once(':')
            .and_then(|(ty, id)| {
                let t = snap.profile().type_id(ty)?;
                (t != TENANT).then_some(Object::Entity { ty: t, id })
            })
            .unwrap_or(Object::Tenant)
    }
}

/// Where a governing action is checked for an object.
enum Target {
    /// On at least one resource of this type.
    Any(TypeId),
    /// On this resource.
    One(TypeId, u32),
    /// On every one of these (all must allow; none means no).
    All(TypeId, Vec<u32>),
}

/// The resources action type `r` is checked on for `object`, or why it cannot be.
fn targets(snap: &Snapshot, r: TypeId, object: Object<'_>) -> Result<Target, String> {
    let tenant_level = |snap: &Snapshot| {
        if r == TENANT {
            Ok(Target::One(TENANT, 0))
        } else if r == ORG_UNIT {
            Ok(Target::All(ORG_UNIT, snap.root_org_units()))
        } else {
            Err("it is governed per object".to_owned())
        }
    };
    match object {
        Object::Tenant => tenant_level(snap),
        Object::Shared if r == TENANT => Ok(Target::One(TENANT, 0)),
        Object::Shared => Ok(Target::Any(r)),
        Object::Entity { ty, id } => {
            let Some(e) = snap.entity(ty, id) else {
                // Gone (an audit entry about a deleted user): what holds the tenant holds it.
                return if r == ty {
                    Err(format!(
                        "unknown {} `{id}`",
                        snap.profile().types.get(ty).map_or("?", |t| t.id.as_str())
                    ))
                } else {
                    tenant_level(snap)
                };
            };
            if r == ty {
                Ok(Target::One(ty, e))
            } else if r == TENANT {
                Ok(Target::One(TENANT, 0))
            } else if r == ORG_UNIT {
                match snap.org_unit_of(ty, e) {
                    Some(o) => Ok(Target::One(ORG_UNIT, o)),
                    None => tenant_level(snap),
                }
            } else {
                Err("it is governed per object of another type".to_owned())
            }
        }
    }
}

/// The request checking `action` for `principal` on resource `ty:e`.
fn allowed_on(
    snap: &Snapshot,
    principal: &str,
    action: &str,
    ty: TypeId,
    e: u32,
    now: i64,
) -> bool {
    let p = snap.profile();
    let (Some(t), Some(id)) = (p.types.get(ty), snap.entity_id(ty, e)) else {
        return false;
    };
    let ctx = Context::new();
    snap.check(&Request {
        principal,
        action,
        resource_type: &t.id,
        resource_id: id,
        context: &ctx,
        now,
    })
    .allowed
}

/// Whether tenant user `principal` may perform `op` on `object`, by the profile alone.
fn user_may(
    snap: &Snapshot,
    principal: &str,
    op: &str,
    object: Object<'_>,
    now: i64,
) -> Result<(), Denial> {
    let p = snap.profile();
    let action = match p.governance(op) {
        Governance::Operator => return Err(Denial::Operator),
        Governance::Action(a) => p.actions.get(a).ok_or(Denial::Broken)?,
    };
    match targets(snap, action.resource, object) {
        Err(why) => Err(Denial::NoTarget(why)),
        Ok(Target::One(ty, e)) => {
            if allowed_on(snap, principal, &action.id, ty, e, now) {
                Ok(())
            } else {
                Err(Denial::Action { ty, e })
            }
        }
        Ok(Target::Any(ty)) => {
            if snap.allowed_anywhere(principal, &action.id, now) {
                Ok(())
            } else {
                Err(Denial::Nowhere(ty))
            }
        }
        Ok(Target::All(ty, es)) => match es
            .iter()
            .find(|&&e| !allowed_on(snap, principal, &action.id, ty, e, now))
        {
            Some(&e) => Err(Denial::Action { ty, e }),
            None if es.is_empty() => Err(Denial::NoTarget(
                "the tenant has no org unit to decide it on".into(),
            )),
            None => Ok(()),
        },
    }
}

/// Why a user may not.
enum Denial {
    /// The profile reserves the operation to the operator.
    Operator,
    /// The governing action was checked on `ty:e` and denied.
    Action { ty: TypeId, e: u32 },
    /// The action cannot be checked on this object.
    NoTarget(String),
    /// The action (on this type) holds on no object at all.
    Nowhere(TypeId),
    /// The profile names an action it does not have.
    Broken,
}

/// Decides whether `actor` may perform management operation `op` (e.g. `roles.write`)
/// on `object` in the tenant of `snap`; a refusal says why, in the administrator's
/// words.
pub fn authorize(
    snap: &Snapshot,
    actor: &Actor,
    op: &str,
    object: Object<'_>,
    now: i64,
) -> EngineResult<()> {
    match actor {
        Actor::Operator { .. } | Actor::System { .. } => Ok(()),
        Actor::Service(c) => service::authorize(snap, c, op, object, now),
        Actor::User { principal, .. } => user_may(snap, principal, op, object, now)
            .map_err(|d| wording::refusal(snap, principal, op, object, d, now)),
    }
}

/// Whether `actor` may perform `op` on `object` (no explanation; for filtering lists).
pub fn may(snap: &Snapshot, actor: &Actor, op: &str, object: Object<'_>, now: i64) -> bool {
    match actor {
        Actor::Operator { .. } | Actor::System { .. } => true,
        Actor::Service(c) => service::authorize(snap, c, op, object, now).is_ok(),
        Actor::User { principal, .. } => user_may(snap, principal, op, object, now).is_ok(),
    }
}

/// Decides whether `actor` may act for `principal` (check, explain, list permissions):
/// a user always for themselves, anyone else through `check.others` on that user.
pub fn may_act_for(snap: &Snapshot, actor: &Actor, principal: &str, now: i64) -> EngineResult<()> {
    if actor.is_user(principal) {
        return Ok(());
    }
    authorize(snap, actor, "check.others", Object::user(principal), now)
}

/// Who may read assignments: a user their own, else `assignments.read` on their user.
pub fn may_read_assignments(
    snap: &Snapshot,
    actor: &Actor,
    principal: &str,
    now: i64,
) -> EngineResult<()> {
    if actor.is_user(principal) {
        return Ok(());
    }
    authorize(
        snap,
        actor,
        "assignments.read",
        Object::user(principal),
        now,
    )
}

/// A read of a list: refused when `op` is allowed nowhere, else a filter of the items.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'s> {
    snap: &'s Snapshot,
    actor: &'s Actor,
    op: &'static str,
    now: i64,
}

impl<'s> Reader<'s> {
    /// A reader of `op`'s objects for `actor`: `Forbidden` (with the reason) when the
    /// actor may perform it on nothing at all.
    pub fn new(snap: &'s Snapshot, actor: &'s Actor, op: &str, now: i64) -> EngineResult<Self> {
        let op = management_op(op)
            .ok_or_else(|| EngineError::internal(format!("unknown management operation `{op}`")))?
            .id;
        let r = Reader {
            snap,
            actor,
            op,
            now,
        };
        if let Actor::Service(c) = actor {
            service::may_at_all(c, op)?;
        }
        if let Actor::User { principal, .. } = actor {
            let p = snap.profile();
            let action = match p.governance(op) {
                Governance::Operator => None,
                Governance::Action(a) => p.actions.get(a),
            };
            let somewhere = action.is_some_and(|x| snap.allowed_anywhere(principal, &x.id, now));
            if !somewhere {
                // A list governed per object and allowed on none: "You may not … anywhere".
                let denial = match (user_may(snap, principal, op, Object::Tenant, now), action) {
                    (Err(Denial::NoTarget(_)), Some(x)) => Denial::Nowhere(x.resource),
                    (Err(d), _) => d,
                    (Ok(()), _) => {
                        return Err(EngineError::Forbidden(format!(
                            "you may not {}",
                            wording::doing(op)
                        )));
                    }
                };
                return Err(wording::refusal(
                    snap,
                    principal,
                    op,
                    Object::Tenant,
                    denial,
                    now,
                ));
            }
        }
        Ok(r)
    }

    /// Whether the actor may read this item.
    pub fn may(&self, object: Object<'_>) -> bool {
        may(self.snap, self.actor, self.op, object, self.now)
    }

    /// The item, or why the actor may not read it.
    pub fn check(&self, object: Object<'_>) -> EngineResult<()> {
        authorize(self.snap, self.actor, self.op, object, self.now)
    }
}

/// How far an actor may perform an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// On everything (tenant-wide).
    All,
    /// On some objects (a scope).
    Some,
    /// On nothing.
    None,
}

impl Reach {
    /// Its name: `all`, `some` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::All => "all",
            Reach::Some => "some",
            Reach::None => "none",
        }
    }
}

/// How far `actor` may perform each management operation in the tenant of `snap`, so
/// that a UI shows only what it may use.
pub fn capabilities(snap: &Snapshot, actor: &Actor, now: i64) -> Vec<(&'static str, Reach)> {
    rolecall_core::profile::MANAGEMENT_OPS
        .iter()
        .map(|op| (op.id, reach(snap, actor, op.id, now)))
        .collect()
}

fn reach(snap: &Snapshot, actor: &Actor, op: &str, now: i64) -> Reach {
    if may(snap, actor, op, Object::Tenant, now) {
        return Reach::All;
    }
    let principal = match actor {
        Actor::Operator { .. } | Actor::System { .. } => return Reach::All,
        Actor::Service(c) => {
            if service::may_at_all(c, op).is_err() {
                return Reach::None;
            }
            match management_op(op).map(|d| d.kind) {
                Some(rolecall_core::profile::OpKind::Write) => match &c.principal {
                    Some(p) => p.as_str(),
                    None => return Reach::None,
                },
                _ => return Reach::Some,
            }
        }
        Actor::User { principal, .. } => principal.as_str(),
    };
    let p = snap.profile();
    match p.governance(op) {
        Governance::Operator => Reach::None,
        Governance::Action(a) => match p.actions.get(a) {
            Some(x) if snap.allowed_anywhere(principal, &x.id, now) => Reach::Some,
            _ => Reach::None,
        },
    }
}
