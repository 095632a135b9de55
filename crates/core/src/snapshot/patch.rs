//! Incremental updates: a new snapshot from an old one and a few changes, sharing
//! every table the changes do not touch. Supported: a user's assignments, relation
//! tuples between existing entities (except ones org-unit numbering or other types'
//! scopes depend on), attributes of existing entities, settings. Anything else, or any
//! change the patch cannot prove valid, asks for a full rebuild, which reports errors.
//! [`Snapshot::next`] is what a writer calls: the patch when it can, else a rebuild.

use std::sync::Arc;

use super::build::{anchor_of, attr_val};
use super::tables::{GrantC, base_union};
use super::*;
use crate::change::Change;
use crate::mem::MemState;
use crate::profile::{ORG_PARENT, ORG_UNIT, QUEUE, USER, Value};
use crate::state::{Scope, StateError, TenantState};

/// A change a snapshot can take without a rebuild.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Delta<'a> {
    /// This user's assignments changed (the new list is read from the new state).
    Assignments {
        /// The user.
        principal: &'a str,
    },
    /// A relation tuple was written (`put`) or deleted.
    Tuple {
        /// Resource type.
        rtype: &'a str,
        /// Resource id.
        rid: &'a str,
        /// Relation.
        relation: &'a str,
        /// Subject id (of the relation's target type).
        sid: &'a str,
        /// Written (true) or deleted.
        put: bool,
    },
    /// An existing entity's attributes were replaced.
    Attributes {
        /// Type.
        ty: &'a str,
        /// Id.
        id: &'a str,
        /// The new attributes.
        attributes: &'a [(String, Value)],
    },
    /// A setting changed.
    Setting {
        /// Setting id.
        key: &'a str,
        /// New value.
        value: &'a Value,
    },
}

/// Why a patch was not possible (a full rebuild is needed, and will report any error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("needs a full rebuild: {0}")]
pub struct NeedsRebuild(pub String);

fn no(why: impl Into<String>) -> NeedsRebuild {
    NeedsRebuild(why.into())
}

/// Most changes in a batch applied by patching rather than rebuilding: each tuple patch
/// rewrites its relation's store, so past a few changes one rebuild is cheaper.
pub const PATCH_LIMIT: usize = 8;

/// The deltas `changes` stand for, read against the state before them (a removed
/// assignment's user is found there), or why they cannot be patched.
fn deltas<'c>(before: &'c MemState, changes: &'c [Change]) -> Result<Vec<Delta<'c>>, NeedsRebuild> {
    if changes.len() > PATCH_LIMIT {
        return Err(no(format!("{} changes in one batch", changes.len())));
    }
    let mut out = Vec::with_capacity(changes.len() + 1);
    for c in changes {
        let delta = match c {
            Change::PutAssignment(a) => {
                // Replacing an assignment that was another user's takes it from them.
                if let Some(old) = before
                    .state
                    .assignments
                    .iter()
                    .find(|o| o.id == a.id && o.principal != a.principal)
                {
                    out.push(Delta::Assignments {
                        principal: &old.principal,
                    });
                }
                Delta::Assignments {
                    principal: &a.principal,
                }
            }
            Change::DeleteAssignment { id } => before
                .state
                .assignments
                .iter()
                .find(|a| a.id == *id)
                .map(|a| Delta::Assignments {
                    principal: &a.principal,
                })
                .ok_or_else(|| no(format!("unknown assignment `{id}`")))?,
            Change::PutRelation(t) | Change::DeleteRelation(t) => Delta::Tuple {
                rtype: &t.rtype,
                rid: &t.rid,
                relation: &t.relation,
                sid: &t.sid,
                put: matches!(c, Change::PutRelation(_)),
            },
            Change::UpsertEntity {
                ty, id, attributes, ..
            } if before.entity(ty, id).is_some() => Delta::Attributes { ty, id, attributes },
            Change::SetSetting { key, value } => Delta::Setting { key, value },
            other => return Err(no(format!("{:?} is not patched", other.object()))),
        };
        out.push(delta);
    }
    Ok(out)
}

impl Snapshot {
    /// The snapshot after `changes`, which took the tenant from `before` to `after`:
    /// this one patched when every change allows it (sharing untouched tables),
    /// otherwise rebuilt from `after`, which validates everything and reports every
    /// problem.
    pub fn next(
        &self,
        before: &MemState,
        after: &MemState,
        changes: &[Change],
    ) -> Result<Snapshot, Vec<StateError>> {
        match self.patched(before, after, changes) {
            Ok(s) => Ok(s),
            Err(_) => Snapshot::build(self.profile.clone(), &after.state),
        }
    }

    /// This snapshot with `changes` applied by patching, or why it cannot be. `before`
    /// and `after` are the tenant's state before and after the changes.
    pub fn patched(
        &self,
        before: &MemState,
        after: &MemState,
        changes: &[Change],
    ) -> Result<Snapshot, NeedsRebuild> {
        let d = deltas(before, changes)?;
        self.patched_deltas(&after.state, &d)
    }

    /// A snapshot with `deltas` applied. `state` is the tenant's state after them (read
    /// only for the assignments of users named by `Delta::Assignments`).
    fn patched_deltas(
        &self,
        state: &TenantState,
        deltas: &[Delta<'_>],
    ) -> Result<Snapshot, NeedsRebuild> {
        let mut p = Patcher {
            old: self,
            p: self.profile.clone(),
            tables: self.tables.clone(),
            settings: self.settings.clone(),
            sets: self.sets.clone(),
            user_lists: None,
            bases: None,
        };
        for d in deltas {
            match *d {
                Delta::Setting { key, value } => p.setting(key, value)?,
                Delta::Attributes { ty, id, attributes } => p.attributes(ty, id, attributes)?,
                Delta::Tuple {
                    rtype,
                    rid,
                    relation,
                    sid,
                    put,
                } => p.tuple(rtype, rid, relation, sid, put)?,
                Delta::Assignments { principal } => p.assignments(state, principal)?,
            }
        }
        Ok(p.finish())
    }
}

/// A snapshot being patched: the old one, and the tables the deltas replace (every
/// other table stays shared with the old snapshot).
struct Patcher<'s> {
    old: &'s Snapshot,
    p: Arc<crate::profile::Profile>,
    tables: Vec<EntityTable>,
    settings: Vec<Value>,
    sets: Vec<u64>,
    /// Every user's grants, once one user's change.
    user_lists: Option<Vec<Vec<GrantC>>>,
    /// Every user's base set, once one user's change.
    bases: Option<Vec<u32>>,
}

impl Patcher<'_> {
    /// A setting's new value.
    fn setting(&mut self, key: &str, value: &Value) -> Result<(), NeedsRebuild> {
        let s = self
            .p
            .setting(key)
            .ok_or_else(|| no(format!("unknown setting `{key}`")))?;
        if self.p.settings.get(s).map(|d| d.ty) != Some(value.ty()) {
            return Err(no("setting type"));
        }
        if let Some(slot) = self.settings.get_mut(s) {
            *slot = value.clone();
        }
        Ok(())
    }

    /// An existing entity's new attributes, in its type's columns.
    fn attributes(
        &mut self,
        ty: &str,
        id: &str,
        attributes: &[(String, Value)],
    ) -> Result<(), NeedsRebuild> {
        let p = self.p.clone();
        let t = p.type_id(ty).ok_or_else(|| no("type"))?;
        if t == ORG_UNIT {
            return Err(no("org unit kinds"));
        }
        let def = p.types.get(t).ok_or_else(|| no("type"))?;
        let table = self.tables.get_mut(t).ok_or_else(|| no("table"))?;
        let e = *table
            .index
            .get(id)
            .ok_or_else(|| no(format!("new {ty} `{id}`")))? as usize;
        for (a, ad) in def.attributes.iter().enumerate() {
            let v = match attributes.iter().find(|(n, _)| *n == ad.name) {
                Some((_, v)) => Some(attr_val(&p, t, a, v).ok_or_else(|| no("attribute value"))?),
                None => ad.default.as_ref().and_then(|v| attr_val(&p, t, a, v)),
            };
            let col = table.attrs.get_mut(a).ok_or_else(|| no("column"))?;
            if col.get(e) != Some(&v)
                && let Some(slot) = Arc::make_mut(col).get_mut(e)
            {
                *slot = v;
            }
        }
        if attributes.iter().any(|(n, _)| def.attribute(n).is_none()) {
            return Err(no("unknown attribute"));
        }
        Ok(())
    }

    /// A tuple written or deleted: its relation's store, the stores of its inverses,
    /// and the resource's anchor when the relation is its scope.
    fn tuple(
        &mut self,
        rtype: &str,
        rid: &str,
        relation: &str,
        sid: &str,
        put: bool,
    ) -> Result<(), NeedsRebuild> {
        let p = self.p.clone();
        let t = p.type_id(rtype).ok_or_else(|| no("type"))?;
        let def = p.types.get(t).ok_or_else(|| no("type"))?;
        let r = def.relation(relation).ok_or_else(|| no("relation"))?;
        let rd = def.relations.get(r).ok_or_else(|| no("relation"))?;
        if rd.inverse.is_some() || (t == ORG_UNIT && r == ORG_PARENT) {
            return Err(no("computed or structural relation"));
        }
        let scope_rel = def.scope == Some(r);
        if scope_rel
            && p.types.iter().any(|x| {
                x.scope
                    .and_then(|s| x.relations.get(s))
                    .is_some_and(|sr| sr.target == t)
            })
        {
            return Err(no("other types are scoped through this one"));
        }
        let id_of =
            |ty: usize, id: &str| self.tables.get(ty).and_then(|x| x.index.get(id).copied());
        let e = id_of(t, rid).ok_or_else(|| no(format!("new {rtype} `{rid}`")))?;
        let target = id_of(rd.target, sid).ok_or_else(|| no(format!("unknown subject `{sid}`")))?;
        let n = self.tables.get(t).map_or(0, |x| x.ids.len());
        let table = self.tables.get_mut(t).ok_or_else(|| no("table"))?;
        let store = table.rels.get_mut(r).ok_or_else(|| no("store"))?;
        let Some(new_store) = with_tuple(store, n, e, target, put)? else {
            return Ok(());
        };
        *store = Arc::new(new_store);
        self.inverses_of(t, r, n)?;
        if scope_rel {
            let a = anchor_of(&p, &self.tables, t, e);
            if let Some(slot) = self
                .tables
                .get_mut(t)
                .map(|x| Arc::make_mut(&mut x.anchors))
                .and_then(|v| v.get_mut(e as usize))
            {
                *slot = a;
            }
        }
        Ok(())
    }

    /// Rebuilds every relation store that inverts relation `r` of type `t` (which has
    /// `n` entities).
    fn inverses_of(&mut self, t: usize, r: usize, n: usize) -> Result<(), NeedsRebuild> {
        let p = self.p.clone();
        for (it, itype) in p.types.iter().enumerate() {
            for (ir, irel) in itype.relations.iter().enumerate() {
                if irel.inverse != Some((t, r)) {
                    continue;
                }
                let fwd = self
                    .tables
                    .get(t)
                    .and_then(|x| x.rels.get(r))
                    .cloned()
                    .ok_or_else(|| no("store"))?;
                let mut pairs: Vec<(u32, u32)> = (0..n as u32)
                    .flat_map(|s| fwd.targets(s).iter().map(move |&x| (x, s)))
                    .collect();
                pairs.sort_unstable();
                let m = self.tables.get(it).map_or(0, |x| x.ids.len());
                if let Some(slot) = self.tables.get_mut(it).and_then(|x| x.rels.get_mut(ir)) {
                    *slot = Arc::new(build::many_store(m, &pairs));
                }
            }
        }
        Ok(())
    }

    /// A user's assignments, read from the new state: their compiled grants and their
    /// interned tenant-wide base set.
    fn assignments(&mut self, state: &TenantState, principal: &str) -> Result<(), NeedsRebuild> {
        let old = self.old;
        let u = old
            .entity(USER, principal)
            .ok_or_else(|| no(format!("new user `{principal}`")))?;
        let mut list = Vec::new();
        for a in state
            .assignments
            .iter()
            .filter(|a| a.principal == principal)
        {
            list.push(grant_of(old, a)?);
        }
        let base = self.intern_base(&list);
        let bases = self.bases.get_or_insert_with(|| old.users.bases().to_vec());
        if let Some(slot) = bases.get_mut(u as usize) {
            *slot = base;
        }
        let lists = self.user_lists.get_or_insert_with(|| old.users.lists());
        if let Some(slot) = lists.get_mut(u as usize) {
            *slot = list;
        }
        Ok(())
    }

    /// A grant list's base set ([`base_union`]), interned by a scan of the existing sets.
    fn intern_base(&mut self, list: &[GrantC]) -> u32 {
        let words = self.old.layout.words;
        let acc = base_union(words, &self.sets, &self.old.layout.restrictions, list);
        match self
            .sets
            .chunks(words.max(1))
            .position(|c| c == acc.as_slice())
        {
            Some(i) => i as u32,
            None => {
                self.sets.extend_from_slice(&acc);
                (self.sets.len() / words.max(1) - 1) as u32
            }
        }
    }

    /// The new snapshot: the replaced tables, everything else shared with the old one.
    fn finish(self) -> Snapshot {
        let old = self.old;
        let users = match (self.bases, self.user_lists) {
            (Some(b), Some(l)) => Users::new(b, l),
            _ => old.users.clone(),
        };
        Snapshot {
            profile: self.p,
            layout: old.layout.clone(),
            tables: self.tables,
            settings: self.settings,
            roles: old.roles.clone(),
            role_index: old.role_index.clone(),
            sets: self.sets,
            users,
            org_enter: old.org_enter.clone(),
            org_exit: old.org_exit.clone(),
            programs: old.programs.clone(),
            obligations: old.obligations.clone(),
            sod: old.sod.clone(),
            appoint_targets: old.appoint_targets.clone(),
        }
    }
}

/// Relation store `store` (of a type with `n` entities) with tuple `e → target` put or
/// deleted; `None` when it does not change.
fn with_tuple(
    store: &RelStore,
    n: usize,
    e: u32,
    target: u32,
    put: bool,
) -> Result<Option<RelStore>, NeedsRebuild> {
    Ok(match store {
        RelStore::Single(v) => {
            let cur = v.get(e as usize).copied().unwrap_or(NONE);
            let next = match (put, cur) {
                (true, c) if c == NONE || c == target => target,
                (true, _) => return Err(no("a second value for a single-valued relation")),
                (false, c) if c == target => NONE,
                (false, c) => c,
            };
            if next == cur {
                None
            } else {
                let mut v2 = v.clone();
                if let Some(slot) = v2.get_mut(e as usize) {
                    *slot = next;
                }
                Some(RelStore::Single(v2))
            }
        }
        RelStore::Many { .. } => {
            let mut pairs: Vec<(u32, u32)> = (0..n as u32)
                .flat_map(|s| store.targets(s).iter().map(move |&x| (s, x)))
                .collect();
            let had = pairs.binary_search(&(e, target));
            match (put, had) {
                (true, Err(pos)) => pairs.insert(pos, (e, target)),
                (false, Ok(pos)) => {
                    pairs.remove(pos);
                }
                _ => {}
            }
            Some(build::many_store(n, &pairs))
        }
    })
}

/// One assignment, compiled against `old`'s roles and entities.
fn grant_of(old: &Snapshot, a: &crate::state::Assignment) -> Result<GrantC, NeedsRebuild> {
    let r = *old
        .role_index
        .get(&a.role)
        .ok_or_else(|| no(format!("unknown role `{}`", a.role)))?;
    let set = old.roles.get(r as usize).map_or(0, |x| x.set);
    let ids = |ty: usize, v: &[String]| -> Result<Box<[u32]>, NeedsRebuild> {
        let mut out: Vec<u32> = v
            .iter()
            .map(|i| {
                old.entity(ty, i)
                    .ok_or_else(|| no(format!("unknown `{i}` in a scope")))
            })
            .collect::<Result<_, _>>()?;
        if out.is_empty() {
            return Err(no("empty scope"));
        }
        out.sort_unstable();
        out.dedup();
        Ok(out.into())
    };
    let scope = match &a.scope {
        Scope::Tenant => ScopeC::Tenant,
        Scope::OrgUnits(v) => ScopeC::Orgs(ids(ORG_UNIT, v)?),
        Scope::Queues(v) => ScopeC::Queues(ids(QUEUE, v)?),
    };
    Ok(GrantC {
        role: r,
        set,
        scope,
        expires: a.expires_at.unwrap_or(i64::MAX),
    })
}
