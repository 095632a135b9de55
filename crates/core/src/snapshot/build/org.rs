//! The org tree: every org unit names a known kind, is not its own ancestor and sits
//! under a parent of a kind its own kind allows; then each unit gets pre-order enter
//! and exit numbers, so that "is in the subtree of" is two comparisons.

use super::Builder;
use crate::profile::{ORG_KIND_ATTR, ORG_PARENT, ORG_UNIT, Profile, TypeId, Value};
use crate::snapshot::{AttrVal, EntityTable};
use crate::state::{StatePath, TenantState};

/// When the profile declares org unit kinds, every org unit must name one of them.
pub(super) fn check_kinds(
    b: &mut Builder,
    p: &Profile,
    state: &TenantState,
    types_of: &[Option<TypeId>],
) {
    if p.org_kinds.is_empty() {
        return;
    }
    for (i, e) in state.entities.iter().enumerate() {
        if types_of.get(i).copied().flatten() != Some(ORG_UNIT) {
            continue;
        }
        let kind = e
            .attributes
            .iter()
            .find(|(n, _)| n == "kind")
            .map(|(_, v)| v);
        match kind {
            Some(Value::Str(k)) if p.org_kind(k).is_some() => {}
            Some(other) => b.err(
                StatePath::Entity(i, Some("kind".into())),
                format!(
                    "org unit `{}`: unknown kind {other}; expected one of {}",
                    e.id,
                    crate::profile_quoted(
                        &p.org_kinds.iter().map(|k| k.id.clone()).collect::<Vec<_>>()
                    )
                ),
            ),
            None => b.err(
                StatePath::Entity(i, None),
                format!("org unit `{}` needs a `kind`", e.id),
            ),
        }
    }
}

/// Checks the org tree (no cycles, parents of allowed kinds) and numbers its units in
/// pre-order: the entry and exit numbers of each unit, by dense id.
pub(super) fn number_org_units(
    b: &mut Builder,
    p: &Profile,
    tables: &[EntityTable],
    state: &TenantState,
    types_of: &[Option<TypeId>],
) -> (Vec<u32>, Vec<u32>) {
    let Some(orgs) = tables.get(ORG_UNIT) else {
        return (Vec::new(), Vec::new());
    };
    let tree = OrgTree {
        p,
        orgs,
        state,
        types_of,
        places: std::cell::OnceCell::new(),
    };
    let n = orgs.ids.len();
    // One walk up the parent links, linear however deep the tree: a unit whose parents
    // never end (on a cycle, or under one) is reported and counts as a root.
    let walk = crate::graph::depths(n, |e| tree.parent(e as u32).map(|q| q as usize));
    let mut cyclic = vec![false; n];
    for e in 0..n as u32 {
        if walk.depth.get(e as usize).copied().flatten().is_none() {
            b.err(
                tree.path_of(e),
                format!("org unit `{}` is its own ancestor", tree.id(e)),
            );
            if let Some(c) = cyclic.get_mut(e as usize) {
                *c = true;
            }
        }
        tree.check_parent_kind(b, e);
    }
    let (roots, children) = tree.roots_and_children(&cyclic);
    preorder(n, roots, &children)
}

/// The org units of the state as a tree, for the checks that report on it.
struct OrgTree<'a> {
    p: &'a Profile,
    orgs: &'a EntityTable,
    state: &'a TenantState,
    types_of: &'a [Option<TypeId>],
    /// Each org unit's index in the state, found once when the first problem is.
    places: std::cell::OnceCell<rustc_hash::FxHashMap<&'a str, usize>>,
}

impl OrgTree<'_> {
    fn parent(&self, e: u32) -> Option<u32> {
        self.orgs.rels.get(ORG_PARENT).and_then(|r| r.single(e))
    }

    fn kind_of(&self, e: u32) -> Option<usize> {
        match self
            .orgs
            .attrs
            .get(ORG_KIND_ATTR)
            .and_then(|c| c.get(e as usize))
        {
            Some(Some(AttrVal::Str(k))) => self.p.org_kind(k),
            _ => None,
        }
    }

    fn id(&self, e: u32) -> &str {
        self.orgs.ids.get(e as usize).map_or("", |s| s.as_ref())
    }

    /// Where errors about unit `e` point: its `parent` in the state.
    fn path_of(&self, e: u32) -> StatePath {
        let places = self.places.get_or_init(|| {
            let mut m = rustc_hash::FxHashMap::default();
            for (i, (x, t)) in self.state.entities.iter().zip(self.types_of).enumerate() {
                if *t == Some(ORG_UNIT) {
                    m.entry(x.id.as_str()).or_insert(i);
                }
            }
            m
        });
        let i = places.get(self.id(e)).copied();
        StatePath::Entity(i.unwrap_or(0), Some("parent".into()))
    }

    /// Reports a unit whose parent's kind its kind does not allow, or that has no
    /// parent when its kind needs one.
    fn check_parent_kind(&self, b: &mut Builder, e: u32) {
        let p = self.p;
        let (Some(k), false) = (self.kind_of(e), p.org_kinds.is_empty()) else {
            return;
        };
        let kind = p.org_kinds.get(k);
        let allowed = kind.map_or(&[][..], |x| x.parents.as_slice());
        let id = self.id(e);
        match self.parent(e) {
            Some(q) => {
                if let Some(qk) = self.kind_of(q)
                    && !allowed.contains(&qk)
                {
                    let names =
                        |k: usize| p.org_kinds.get(k).map_or("?", |x| x.id.as_str()).to_owned();
                    b.err(
                        self.path_of(e),
                        format!(
                            "org unit `{id}` is of kind `{}`, which cannot sit under kind `{}`",
                            names(k),
                            names(qk)
                        ),
                    );
                }
            }
            None => {
                if !allowed.is_empty() {
                    b.err(
                        self.path_of(e),
                        format!(
                            "org unit `{id}` is of kind `{}`, which needs a parent",
                            kind.map_or("?", |x| x.id.as_str())
                        ),
                    );
                }
            }
        }
    }

    /// The units without a (usable) parent, and each unit's children; a unit on a
    /// cycle counts as a root.
    fn roots_and_children(&self, cyclic: &[bool]) -> (Vec<u32>, Vec<Vec<u32>>) {
        let n = self.orgs.ids.len();
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut roots = Vec::new();
        for e in 0..n as u32 {
            match self.parent(e) {
                Some(q) if !cyclic.get(e as usize).copied().unwrap_or(true) => {
                    if let Some(c) = children.get_mut(q as usize) {
                        c.push(e);
                    }
                }
                _ => roots.push(e),
            }
        }
        (roots, children)
    }
}

/// Pre-order entry and exit numbers of `n` units, walking from each root iteratively.
fn preorder(n: usize, roots: Vec<u32>, children: &[Vec<u32>]) -> (Vec<u32>, Vec<u32>) {
    let mut enter = vec![0u32; n];
    let mut exit = vec![0u32; n];
    let mut clock = 0u32;
    for root in roots {
        let mut stack: Vec<(u32, bool)> = vec![(root, false)];
        while let Some((e, done)) = stack.pop() {
            if done {
                if let Some(x) = exit.get_mut(e as usize) {
                    *x = clock;
                }
                continue;
            }
            if let Some(x) = enter.get_mut(e as usize) {
                *x = clock;
            }
            clock += 1;
            stack.push((e, true));
            for c in children.get(e as usize).into_iter().flatten().rev() {
                stack.push((*c, false));
            }
        }
    }
    (enter, exit)
}
