//! The compiled, immutable form of one tenant: names resolved to dense ids, each
//! role's privileges closed into a bitset, users' tenant-wide privileges interned,
//! relations in sorted adjacency lists, org units numbered for O(1) subtree tests.
//! Checks read it without locks or allocation.

mod appoint;
mod bits;
mod build;
mod delegation;
mod eval;
mod explain;
mod holdings;
mod lookup;
mod patch;
mod place;
mod program;
pub mod sod;
mod tables;

use std::sync::Arc;

pub use appoint::{AppointDecision, AppointRequest};
pub use bits::Layout;
pub use delegation::Excess;
pub(crate) use eval::Eval;
pub use explain::{ExplainNode, Explanation, Outcome};
pub use holdings::HeldPrivilege;
pub use patch::{NeedsRebuild, PATCH_LIMIT};
pub(crate) use program::{Node, PathC, TermC};
pub use sod::SodViolation;
pub(crate) use tables::{Anchor, AttrVal, EntityTable, RelStore, ScopeC, Users};

use crate::profile::{ActionId, Profile, TypeId};

/// Sentinel for "no entity".
pub(crate) const NONE: u32 = u32::MAX;

/// A compiled tenant, ready for checks.
#[derive(Debug)]
pub struct Snapshot {
    pub(crate) profile: Arc<Profile>,
    pub(crate) layout: Layout,
    /// Per resource type, its entities.
    pub(crate) tables: Vec<EntityTable>,
    /// Setting values by setting id.
    pub(crate) settings: Vec<crate::profile::Value>,
    /// Resolved roles (templates first, then custom roles).
    pub(crate) roles: Vec<tables::RoleC>,
    pub(crate) role_index: rustc_hash::FxHashMap<String, u32>,
    /// Interned privilege bitsets, `layout.words` words each.
    pub(crate) sets: Vec<u64>,
    /// Per user: tenant-wide set and scoped or expiring grants.
    pub(crate) users: Users,
    /// Org units: pre-order entry and exit numbers.
    pub(crate) org_enter: Vec<u32>,
    pub(crate) org_exit: Vec<u32>,
    /// Compiled requirement of each action.
    pub(crate) programs: Vec<Node>,
    /// Compiled obligation conditions of each action.
    pub(crate) obligations: Vec<Vec<Node>>,
    /// Separation-of-duty rules (profile's, then the tenant's), compiled.
    pub(crate) sod: Vec<sod::SodC>,
    /// Compiled appointment targets, by appointment index.
    pub(crate) appoint_targets: Vec<Option<Node>>,
}

/// Ids resolved once, so that repeated checks skip every string lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedRequest {
    /// Dense user id.
    pub principal: u32,
    /// Action index.
    pub action: ActionId,
    /// Resource type.
    pub resource_type: TypeId,
    /// Dense resource id within its type.
    pub resource: u32,
}

impl Snapshot {
    /// The profile this snapshot was built against.
    pub fn profile(&self) -> &Arc<Profile> {
        &self.profile
    }

    /// The tenant id.
    pub fn tenant_id(&self) -> &str {
        self.tables
            .get(crate::profile::TENANT)
            .and_then(|t| t.ids.first())
            .map_or("", |s| s.as_ref())
    }

    /// Dense id of an entity.
    pub fn entity(&self, ty: TypeId, id: &str) -> Option<u32> {
        self.tables.get(ty)?.index.get(id).copied()
    }

    /// String id of a dense entity.
    pub fn entity_id(&self, ty: TypeId, e: u32) -> Option<&str> {
        self.tables.get(ty)?.ids.get(e as usize).map(|s| s.as_ref())
    }

    /// Targets of relation `rel` of entity `e` of type `ty` (dense ids), sorted.
    pub fn related(&self, ty: TypeId, e: u32, rel: usize) -> &[u32] {
        self.tables
            .get(ty)
            .and_then(|t| t.rels.get(rel))
            .map_or(&[], |r| r.targets(e))
    }

    /// Number of entities of a type.
    pub fn entity_count(&self, ty: TypeId) -> usize {
        self.tables.get(ty).map_or(0, |t| t.ids.len())
    }

    /// Approximate heap bytes held by the snapshot's tables (not the profile).
    pub fn heap_bytes(&self) -> usize {
        let tables: usize = self.tables.iter().map(EntityTable::heap_bytes).sum();
        let users = self.users.heap_bytes();
        tables + users + self.sets.len() * 8 + (self.org_enter.len() + self.org_exit.len()) * 4
    }

    /// Number of distinct tenant-wide privilege sets shared by users.
    pub fn interned_sets(&self) -> usize {
        self.sets.len() / self.layout.words.max(1)
    }

    /// Every role the roles `starts` are or include, transitively: a walk over the
    /// direct inclusions, linear in the roles reached (no closure is stored, which a
    /// chain of `n` roles would make `n²` long).
    pub(crate) fn roles_within(
        &self,
        starts: impl IntoIterator<Item = u32>,
    ) -> rustc_hash::FxHashSet<u32> {
        let mut seen = rustc_hash::FxHashSet::default();
        let mut stack: Vec<u32> = starts.into_iter().collect();
        while let Some(r) = stack.pop() {
            if !seen.insert(r) {
                continue;
            }
            if let Some(x) = self.roles.get(r as usize) {
                stack.extend(x.includes.iter().copied());
            }
        }
        seen
    }

    /// Whether role `from` is, or includes transitively, one of `targets`.
    pub(crate) fn includes_any(&self, from: u32, targets: &[u32]) -> bool {
        if targets.is_empty() {
            return false;
        }
        let targets: rustc_hash::FxHashSet<u32> = targets.iter().copied().collect();
        self.roles_within([from])
            .iter()
            .any(|r| targets.contains(r))
    }

    /// For every role, whether it is or includes transitively role `r`: one walk up the
    /// inclusions, linear in the roles.
    pub(crate) fn includers_of(&self, r: u32) -> Vec<bool> {
        let n = self.roles.len();
        let mut users_of: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (i, x) in self.roles.iter().enumerate() {
            for &j in x.includes.iter() {
                if let Some(u) = users_of.get_mut(j as usize) {
                    u.push(i as u32);
                }
            }
        }
        let mut out = vec![false; n];
        let mut stack = vec![r];
        while let Some(x) = stack.pop() {
            match out.get_mut(x as usize) {
                Some(o) if !*o => *o = true,
                _ => continue,
            }
            stack.extend(users_of.get(x as usize).into_iter().flatten().copied());
        }
        out
    }
}
