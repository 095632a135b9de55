//! Relation stores and anchors: each relation's sorted, deduplicated pairs as a
//! single-valued column or CSR adjacency (inverse relations computed from the relation
//! they invert), and each entity's anchor, the org unit and queue it sits in.

use std::sync::Arc;

use super::entities::Tuples;
use crate::profile::{ORG_UNIT, Profile, QUEUE, RelationDef, ResourceType, TypeId};
use crate::snapshot::{Anchor, EntityTable, NONE, RelStore};

/// Gives every table its relation stores, inverse relations included.
pub(super) fn store_relations(p: &Profile, tables: &mut [EntityTable], tuples: &Tuples) {
    for (ty, def) in p.types.iter().enumerate() {
        let n = tables.get(ty).map_or(0, |t| t.ids.len());
        let mut stores = Vec::with_capacity(def.relations.len());
        for rd in &def.relations {
            let pairs = relation_pairs(tuples, ty, def, rd);
            stores.push(if rd.many {
                many_store(n, &pairs)
            } else {
                single_store(n, &pairs)
            });
        }
        if let Some(t) = tables.get_mut(ty) {
            t.rels = stores.into_iter().map(Arc::new).collect();
        }
    }
}

/// The (source, target) pairs of relation `rd` of type `ty`, sorted and deduplicated;
/// an inverse relation's are those of the relation it inverts, turned round.
fn relation_pairs(
    tuples: &Tuples,
    ty: TypeId,
    def: &ResourceType,
    rd: &RelationDef,
) -> Vec<(u32, u32)> {
    let mut pairs: Vec<(u32, u32)> = match rd.inverse {
        Some((ti, ri)) => tuples
            .get(ti)
            .and_then(|x| x.get(ri))
            .map(|v| v.iter().map(|&(a, b)| (b, a)).collect())
            .unwrap_or_default(),
        None => tuples
            .get(ty)
            .and_then(|x| x.get(def.relation(&rd.name).unwrap_or(usize::MAX)))
            .cloned()
            .unwrap_or_default(),
    };
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

fn single_store(n: usize, pairs: &[(u32, u32)]) -> RelStore {
    let mut v = vec![NONE; n];
    for &(a, t) in pairs {
        if let Some(slot) = v.get_mut(a as usize) {
            *slot = t;
        }
    }
    RelStore::Single(v)
}

pub(crate) fn many_store(n: usize, pairs: &[(u32, u32)]) -> RelStore {
    // `pairs` is sorted by source then target.
    let mut offsets = vec![0u32; n + 1];
    for &(a, _) in pairs {
        if let Some(o) = offsets.get_mut(a as usize + 1) {
            *o += 1;
        }
    }
    for i in 1..offsets.len() {
        let prev = offsets.get(i - 1).copied().unwrap_or(0);
        if let Some(o) = offsets.get_mut(i) {
            *o += prev;
        }
    }
    RelStore::Many {
        offsets,
        targets: pairs.iter().map(|&(_, t)| t).collect(),
    }
}

/// Gives every table the anchors of its entities (relation stores must be in place).
pub(super) fn set_anchors(p: &Profile, tables: &mut [EntityTable]) {
    let anchors: Vec<Vec<Anchor>> = (0..p.types.len())
        .map(|ty| {
            (0..tables.get(ty).map_or(0, |t| t.ids.len()) as u32)
                .map(|e| anchor_of(p, tables, ty, e))
                .collect()
        })
        .collect();
    for (t, a) in tables.iter_mut().zip(anchors) {
        t.anchors = Arc::new(a);
    }
}

/// The org unit and queue an entity sits in.
pub(crate) fn anchor_of(p: &Profile, tables: &[EntityTable], ty: usize, e: u32) -> Anchor {
    let mut a = Anchor {
        org: NONE,
        queue: NONE,
    };
    let (mut ty, mut e) = (ty, e);
    for _ in 0..=p.types.len() {
        if ty == ORG_UNIT && a.org == NONE {
            a.org = e;
        }
        if ty == QUEUE && a.queue == NONE {
            a.queue = e;
        }
        let Some(r) = p.types.get(ty).and_then(|t| t.scope) else {
            break;
        };
        let Some(next) = tables
            .get(ty)
            .and_then(|t| t.rels.get(r))
            .and_then(|s| s.single(e))
        else {
            break;
        };
        let Some(nt) = p
            .types
            .get(ty)
            .and_then(|t| t.relations.get(r))
            .map(|d| d.target)
        else {
            break;
        };
        ty = nt;
        e = next;
    }
    a
}
