//! Service credentials, decided by their abilities and scope: `read` reads, `decide`
//! decides for others, `write` writes — as the credential's user, so the tenant's
//! profile and anti-escalation bind it like that user. A scoped credential touches
//! only entities its scope covers (org-unit subtrees, or queues and their members), and
//! changes nothing tenant-wide.

use rolecall_core::Snapshot;
use rolecall_core::profile::{ORG_UNIT, OpKind, QUEUE, management_op};
use rolecall_core::state::Scope;

use super::{Object, user_may, wording};
use crate::credential::{Ability, Credential};
use crate::error::{EngineError, EngineResult};

/// The ability an operation of `kind` needs.
fn ability(kind: OpKind) -> Ability {
    match kind {
        OpKind::Read => Ability::Read,
        OpKind::Decide => Ability::Decide,
        OpKind::Write => Ability::Write,
    }
}

/// `Forbidden` unless the credential has the ability `op` needs.
pub fn may_at_all(c: &Credential, op: &str) -> EngineResult<()> {
    let def = management_op(op)
        .ok_or_else(|| EngineError::internal(format!("unknown management operation `{op}`")))?;
    let need = ability(def.kind);
    if c.can(need) {
        Ok(())
    } else {
        Err(EngineError::Forbidden(format!(
            "service credential `{}` may not {}: it has no `{}` ability",
            c.name,
            wording::doing(op),
            need.as_str()
        )))
    }
}

/// Decides `op` on `object` for credential `c`.
pub fn authorize(
    snap: &Snapshot,
    c: &Credential,
    op: &str,
    object: Object<'_>,
    now: i64,
) -> EngineResult<()> {
    may_at_all(c, op)?;
    let kind = management_op(op).map_or(OpKind::Write, |d| d.kind);
    let outside = |what: String| {
        EngineError::Forbidden(format!(
            "service credential `{}` may not {} {what}: it is outside its scope",
            c.name,
            wording::doing(op)
        ))
    };
    match object {
        Object::Entity { ty, id } if c.scope != Scope::Tenant => {
            let covered = snap
                .entity(ty, id)
                .is_some_and(|e| snap.scope_covers(&c.scope, ty, e));
            if !covered {
                let kind = snap
                    .profile()
                    .types
                    .get(ty)
                    .map_or("object", |t| t.id.as_str());
                return Err(outside(format!("for {kind} `{id}`")));
            }
        }
        Object::Tenant | Object::Shared if kind == OpKind::Write && c.scope != Scope::Tenant => {
            return Err(outside("tenant-wide".into()));
        }
        _ => {}
    }
    if kind != OpKind::Write {
        return Ok(());
    }
    let Some(user) = &c.principal else {
        return Err(EngineError::Forbidden(format!(
            "service credential `{}` has no user to act as, so it writes nothing",
            c.name
        )));
    };
    user_may(snap, user, op, object, now)
        .map_err(|d| wording::refusal(snap, user, op, object, d, now))
}

/// Whether every place of scope `inner` lies inside scope `outer`.
pub fn scope_within(snap: &Snapshot, inner: &Scope, outer: &Scope) -> bool {
    match (inner, outer) {
        (_, Scope::Tenant) => true,
        (Scope::Tenant, _) => false,
        (Scope::OrgUnits(ids), _) => ids.iter().all(|id| {
            snap.entity(ORG_UNIT, id)
                .is_some_and(|o| snap.scope_covers(outer, ORG_UNIT, o))
        }),
        (Scope::Queues(ids), _) => ids.iter().all(|id| {
            snap.entity(QUEUE, id)
                .is_some_and(|q| snap.scope_covers(outer, QUEUE, q))
        }),
    }
}
