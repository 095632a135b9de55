//! The snapshot's tables: entities of one type with their relations and
//! attributes, compiled roles, and each user's grants.

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
    pub index: FxHashMap<Box<str>, u32>,
    pub ids: Vec<Box<str>>,
    pub names: Vec<Option<Box<str>>>,
    /// By relation id.
    pub rels: Vec<RelStore>,
    /// By attribute id, then entity.
    pub attrs: Vec<Vec<Option<AttrVal>>>,
    /// By entity, when the type has a scope path.
    pub anchors: Vec<Anchor>,
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
            + self.rels.iter().map(RelStore::heap_bytes).sum::<usize>()
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
    /// Ids of every role it includes, transitively, itself included.
    pub closure: Vec<u32>,
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

/// What a user holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct UserGrants {
    /// Interned set of every tenant-wide, non-expiring grant.
    pub base: u32,
    /// Scoped or expiring grants, checked one by one when `base` lacks a bit.
    pub extra: Vec<GrantC>,
    /// Every assignment (including those folded into `base`).
    pub all: Vec<GrantC>,
}

impl UserGrants {
    pub(crate) fn heap_bytes(&self) -> usize {
        (self.extra.capacity() + self.all.capacity()) * std::mem::size_of::<GrantC>()
    }
}
