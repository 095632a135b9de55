//! Where an entity sits in the tenant: the org unit it is anchored in, the roots of the
//! org tree, and whether an assignment-style scope (the tenant, org-unit subtrees, a
//! set of queues) covers an entity. Self-authorization of management operations and
//! service credentials' scopes use these.

use super::*;
use crate::profile::{ORG_PARENT, ORG_UNIT, QUEUE, USER, USER_QUEUES, USER_SUPERVISED};
use crate::state::Scope;

impl Snapshot {
    /// The org unit entity `ty:e` is anchored in (an org unit: itself), if any.
    pub fn org_unit_of(&self, ty: TypeId, e: u32) -> Option<u32> {
        let a = self.tables.get(ty)?.anchor(e);
        (a.org != NONE).then_some(a.org)
    }

    /// The queue entity `ty:e` is anchored in (a queue: itself), if any.
    pub fn queue_of(&self, ty: TypeId, e: u32) -> Option<u32> {
        let a = self.tables.get(ty)?.anchor(e);
        (a.queue != NONE).then_some(a.queue)
    }

    /// The org units without a parent.
    pub fn root_org_units(&self) -> Vec<u32> {
        (0..self.entity_count(ORG_UNIT) as u32)
            .filter(|&o| self.related(ORG_UNIT, o, ORG_PARENT).is_empty())
            .collect()
    }

    /// Whether org unit `inner` is `outer` or inside its subtree.
    pub fn org_within(&self, inner: u32, outer: u32) -> bool {
        self.org_covers(&[outer], inner)
    }

    /// Whether `scope` covers entity `ty:e`: the tenant covers everything; org units
    /// cover what is anchored in their subtrees; queues cover what is anchored in them
    /// and, for users, their members and supervisors. Names the tenant does not have
    /// cover nothing.
    pub fn scope_covers(&self, scope: &Scope, ty: TypeId, e: u32) -> bool {
        match scope {
            Scope::Tenant => true,
            Scope::OrgUnits(ids) => {
                let Some(org) = self.org_unit_of(ty, e) else {
                    return false;
                };
                ids.iter()
                    .filter_map(|id| self.entity(ORG_UNIT, id))
                    .any(|o| self.org_within(org, o))
            }
            Scope::Queues(ids) => {
                let queues: Vec<u32> = ids.iter().filter_map(|id| self.entity(QUEUE, id)).collect();
                if ty == USER {
                    return [USER_QUEUES, USER_SUPERVISED].iter().any(|&rel| {
                        self.related(USER, e, rel)
                            .iter()
                            .any(|q| queues.contains(q))
                    });
                }
                self.queue_of(ty, e).is_some_and(|q| queues.contains(&q))
            }
        }
    }
}

impl Snapshot {
    /// The display name of org unit `o`'s kind ("Office"), if the profile declares it.
    pub fn org_kind_name(&self, o: u32) -> Option<&str> {
        let table = self.tables.get(ORG_UNIT)?;
        let a = self
            .profile
            .types
            .get(ORG_UNIT)?
            .attributes
            .iter()
            .position(|d| d.name == "kind")?;
        let Some(AttrVal::Str(k)) = table.attrs.get(a)?.get(o as usize)?.as_ref() else {
            return None;
        };
        let kind = self.profile.org_kind(k)?;
        self.profile.org_kinds.get(kind).map(|k| k.name.as_str())
    }
}
