//! The snapshot's tables: entities of one type with their relations and
//! attributes, compiled roles, and each user's grants.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::NONE;
use crate::profile::PrivId;

/// An attribute value as stored: enum values by their index in the declared order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttrVal {
    Bool(bool),
    Int(i64),
    Str(Box<str>),
    Enum(u16),
}

/// One relation of every entity of a type.
#[derive(Debug, Clone)]
pub(crate) enum RelStore {
    /// Target per entity, `NONE` when unset.
    Single(Vec<u32>),
    /// Sorted targets of entity `e` at `targets[offsets[e]..offsets[e + 1]]`.
    Many {
        offsets: Vec<u32>,
        targets: Vec<u32>,
    },
}

impl RelStore {
    /// Targets of entity `e` (empty when unset).
    #[inline]
    pub(crate) fn targets(&self, e: u32) -> &[u32] {
        match self {
            RelStore::Single(v) => match v.get(e as usize) {
                Some(t) if *t != NONE => std::slice::from_ref(t),
                _ => &[],
            },
            RelStore::Many { offsets, targets } => {
                let (Some(&a), Some(&b)) = (offsets.get(e as usize), offsets.get(e as usize + 1))
                else {
                    return &[];
                };
                targets.get(a as usize..b as usize).unwrap_or(&[])
            }
        }
    }

    /// The single target of entity `e`.
    #[inline]
    pub(crate) fn single(&self, e: u32) -> Option<u32> {
        self.targets(e).first().copied()
    }

    fn heap_bytes(&self) -> usize {
        match self {
            RelStore::Single(v) => v.capacity() * 4,
            RelStore::Many { offsets, targets } => (offsets.capacity() + targets.capacity()) * 4,
        }
    }
}

/// The org unit and queue an entity sits in, for scope tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Anchor {
    /// Org unit, or `NONE`.
    pub org: u32,
    /// Queue, or `NONE`.
    pub queue: u32,
}

/// Every entity of one resource type.
#[derive(Debug, Clone, Default)]
pub(crate) struct EntityTable {
    pub index: Arc<FxHashMap<Box<str>, u32>>,
    pub ids: Arc<Vec<Box<str>>>,
    pub names: Arc<Vec<Option<Box<str>>>>,
    /// By relation id. Each store is shared between snapshots until a patch changes it.
    pub rels: Vec<Arc<RelStore>>,
    /// By attribute id, then entity.
    pub attrs: Vec<Arc<Vec<Option<AttrVal>>>>,
    /// By entity, when the type has a scope path.
    pub anchors: Arc<Vec<Anchor>>,
}

impl EntityTable {
    pub(crate) fn heap_bytes(&self) -> usize {
        let ids: usize = self.ids.iter().map(|s| s.len()).sum();
        let names: usize = self
            .names
            .iter()
            .map(|n| n.as_ref().map_or(0, |s| s.len()))
            .sum();
        ids * 2
            + names
            + self.index.capacity() * (std::mem::size_of::<(Box<str>, u32)>() + 1)
            + self.ids.capacity() * 16
            + self.names.capacity() * 16
            + self.rels.iter().map(|r| r.heap_bytes()).sum::<usize>()
            + self
                .attrs
                .iter()
                .map(|a| a.capacity() * std::mem::size_of::<Option<AttrVal>>())
                .sum::<usize>()
            + self.anchors.capacity() * 8
    }

    pub(crate) fn anchor(&self, e: u32) -> Anchor {
        self.anchors.get(e as usize).copied().unwrap_or(Anchor {
            org: NONE,
            queue: NONE,
        })
    }
}

/// A compiled scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScopeC {
    Tenant,
    /// Sorted org unit ids.
    Orgs(Box<[u32]>),
    /// Sorted queue ids.
    Queues(Box<[u32]>),
}

/// A compiled role.
#[derive(Debug, Clone)]
pub(crate) struct RoleC {
    pub def: crate::profile::RoleDef,
    /// Interned closed bitset.
    pub set: u32,
    /// Number privileges it holds, with their values.
    pub numbers: Vec<(PrivId, i64)>,
    /// The roles it includes directly (see [`crate::Snapshot::includes_any`] for the
    /// transitive inclusion, walked when asked rather than stored: a chain of `n`
    /// roles would store `n²` ids).
    pub includes: Box<[u32]>,
}

/// One of a user's assignments, compiled.
#[derive(Debug, Clone)]
pub(crate) struct GrantC {
    pub role: u32,
    pub set: u32,
    pub scope: ScopeC,
    /// Unix seconds; `i64::MAX` for none.
    pub expires: i64,
}

/// A user's base set from their grants: the union of the tenant-wide, non-expiring
/// ones, plus every restriction any of them carries (a restriction binds its holder
/// everywhere, and until the assignment is removed). `sets` holds the interned sets,
/// `words` words each.
pub(crate) fn base_union(
    words: usize,
    sets: &[u64],
    restrictions: &[u64],
    list: &[GrantC],
) -> Vec<u64> {
    let mut acc = vec![0u64; words];
    for g in list {
        let s = g.set as usize * words;
        let set = sets.get(s..s + words).unwrap_or(&[]);
        let whole = g.scope == ScopeC::Tenant && g.expires == i64::MAX;
        for ((w, x), r) in acc.iter_mut().zip(set).zip(restrictions) {
            *w |= if whole { *x } else { *x & *r };
        }
    }
    acc
}

/// What one user holds, borrowed from [`Users`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct UserView<'a> {
    /// Interned set of every tenant-wide, non-expiring grant.
    pub base: u32,
    /// Scoped or expiring grants, checked one by one when `base` lacks a bit.
    pub extra: &'a [GrantC],
    /// Every assignment (including those folded into `base`).
    pub all: &'a [GrantC],
}

/// Every user's grants, flat: per user an interned base set, and its grants in two
/// offset-indexed arrays (all of them; the scoped or expiring ones).
#[derive(Debug, Clone, Default)]
pub(crate) struct Users {
    base: Vec<u32>,
    all_off: Vec<u32>,
    all: Vec<GrantC>,
    extra_off: Vec<u32>,
    extra: Vec<GrantC>,
}

impl Users {
    /// Builds the table from each user's base set and grants.
    pub(crate) fn new(base: Vec<u32>, lists: Vec<Vec<GrantC>>) -> Self {
        let mut u = Users {
            base,
            all_off: Vec::with_capacity(lists.len() + 1),
            extra_off: Vec::with_capacity(lists.len() + 1),
            ..Users::default()
        };
        u.all_off.push(0);
        u.extra_off.push(0);
        for list in lists {
            for g in list {
                if !(g.scope == ScopeC::Tenant && g.expires == i64::MAX) {
                    u.extra.push(g.clone());
                }
                u.all.push(g);
            }
            u.all_off.push(u.all.len() as u32);
            u.extra_off.push(u.extra.len() as u32);
        }
        u
    }

    /// User `u`'s grants.
    #[inline]
    pub(crate) fn get(&self, u: usize) -> Option<UserView<'_>> {
        let base = *self.base.get(u)?;
        let (a0, a1) = (
            *self.all_off.get(u)? as usize,
            *self.all_off.get(u + 1)? as usize,
        );
        let (e0, e1) = (
            *self.extra_off.get(u)? as usize,
            *self.extra_off.get(u + 1)? as usize,
        );
        Some(UserView {
            base,
            all: self.all.get(a0..a1).unwrap_or(&[]),
            extra: self.extra.get(e0..e1).unwrap_or(&[]),
        })
    }

    /// Every user's grants, in user order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = UserView<'_>> {
        (0..self.base.len()).filter_map(|u| self.get(u))
    }

    /// Each user's full grant list (to rebuild after a patch).
    pub(crate) fn lists(&self) -> Vec<Vec<GrantC>> {
        self.iter().map(|v| v.all.to_vec()).collect()
    }

    /// Each user's base set.
    pub(crate) fn bases(&self) -> &[u32] {
        &self.base
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        (self.base.capacity() + self.all_off.capacity() + self.extra_off.capacity()) * 4
            + (self.all.capacity() + self.extra.capacity()) * std::mem::size_of::<GrantC>()
    }
}
