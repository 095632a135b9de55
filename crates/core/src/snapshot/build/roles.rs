//! Roles: the profile's templates, then the tenant's custom roles, each closed once
//! (own grants, included roles, whole subtrees under a parent held at its top) into
//! an interned bitset and checked against its role type's cap. Linear in the roles
//! and their inclusions: roles are closed in inclusion order, each from the closed
//! sets of the roles it includes directly.

use rustc_hash::{FxHashMap, FxHashSet};

use super::{Builder, Interner};
use crate::profile::{GrantValue, Profile, RoleDef, resolve_role};
use crate::snapshot::bits::{Layout, set_bit, test_bit};
use crate::snapshot::tables::RoleC;
use crate::state::{StatePath, TenantState};

/// The role definitions: templates, then the state's custom roles, each checked.
pub(super) fn role_defs(b: &mut Builder, p: &Profile, state: &TenantState) -> Vec<RoleDef> {
    let mut defs: Vec<RoleDef> = p.roles.clone();
    let mut ids: FxHashSet<String> = defs.iter().map(|d| d.id.clone()).collect();
    for (i, spec) in state.roles.iter().enumerate() {
        if !crate::profile_id_ok(&spec.id) {
            b.err(
                StatePath::Role(i, None),
                format!("invalid role id `{}`", spec.id),
            );
        }
        if ids.contains(&spec.id) {
            let what = if p.role(&spec.id).is_some() {
                "a role template"
            } else {
                "another role"
            };
            b.err(
                StatePath::Role(i, None),
                format!("role id `{}` is already used by {what}", spec.id),
            );
            continue;
        }
        match resolve_role(p, spec) {
            Ok(d) => {
                ids.insert(d.id.clone());
                defs.push(d);
            }
            Err(problems) => {
                for pr in problems {
                    b.err(
                        StatePath::Role(i, Some(pr.field)),
                        format!("role `{}`: {}", spec.id, pr.message),
                    );
                }
            }
        }
    }
    defs
}

/// Role index by role id.
pub(super) fn role_index(defs: &[RoleDef]) -> FxHashMap<String, u32> {
    defs.iter()
        .enumerate()
        .map(|(i, d)| (d.id.clone(), i as u32))
        .collect()
}

/// Where errors about role `id` point: the custom role of that id, else the tenant.
pub(super) fn custom_role_path(state: &TenantState, id: &str) -> StatePath {
    match state.roles.iter().position(|r| r.id == id) {
        Some(i) => StatePath::Role(i, None),
        None => StatePath::Tenant,
    }
}

/// A role's closed bitset and number values.
#[derive(Clone)]
struct ClosedRole {
    set: Vec<u64>,
    numbers: Vec<(usize, i64)>,
}

/// Closes every role, included roles first, each once from its own grants and the
/// closed sets of the roles it includes directly (so a chain of `n` roles costs `n`
/// closures, not `n²`); a role on an inclusion cycle is reported and holds nothing.
pub(super) fn compile_roles(
    b: &mut Builder,
    p: &Profile,
    layout: &Layout,
    interner: &mut Interner,
    defs: Vec<RoleDef>,
    index: &FxHashMap<String, u32>,
    path_of: &dyn Fn(&str) -> StatePath,
) -> Vec<RoleC> {
    let incl = included_roles(b, &defs, index, path_of);
    let order = inclusion_order(b, &defs, &incl, path_of);
    let words = layout.words;
    let masks: Vec<Option<Vec<u64>>> = (0..p.role_types.len())
        .map(|t| cap_mask(p, layout, Some(t)))
        .collect();
    let mut closed: Vec<Option<ClosedRole>> = vec![None; defs.len()];
    for &r in &order {
        let Some(d) = defs.get(r as usize) else {
            continue;
        };
        let included = incl.get(r as usize).map_or(&[][..], Vec::as_slice);
        let role = close_role(p, layout, d, included, &closed);
        let mask = d
            .role_type
            .and_then(|t| masks.get(t))
            .and_then(Option::as_ref);
        check_cap(b, p, layout, d, &role.set, mask, path_of);
        if let Some(slot) = closed.get_mut(r as usize) {
            *slot = Some(role);
        }
    }
    defs.into_iter()
        .zip(closed)
        .zip(incl)
        .map(|((def, c), includes)| {
            let c = c.unwrap_or_else(|| ClosedRole {
                set: vec![0u64; words],
                numbers: Vec::new(),
            });
            RoleC {
                def,
                set: interner.intern(&c.set),
                numbers: c.numbers,
                includes: includes.into(),
            }
        })
        .collect()
}

/// Each role's included roles, by index; unknown ones are reported.
fn included_roles(
    b: &mut Builder,
    defs: &[RoleDef],
    index: &FxHashMap<String, u32>,
    path_of: &dyn Fn(&str) -> StatePath,
) -> Vec<Vec<u32>> {
    let mut incl: Vec<Vec<u32>> = Vec::with_capacity(defs.len());
    for d in defs {
        let mut v = Vec::new();
        for inc in &d.includes {
            match index.get(inc) {
                Some(&j) => v.push(j),
                None => b.err(
                    path_of(&d.id),
                    format!("role `{}` includes unknown role `{inc}`", d.id),
                ),
            }
        }
        incl.push(v);
    }
    incl
}

/// The roles ordered so that included ones come first (Kahn). Roles left out are in
/// inclusion cycles, and are reported.
fn inclusion_order(
    b: &mut Builder,
    defs: &[RoleDef],
    incl: &[Vec<u32>],
    path_of: &dyn Fn(&str) -> StatePath,
) -> Vec<u32> {
    let n = defs.len();
    let mut pending: Vec<usize> = incl.iter().map(Vec::len).collect();
    let mut users_of: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (i, v) in incl.iter().enumerate() {
        for &j in v {
            if let Some(u) = users_of.get_mut(j as usize) {
                u.push(i as u32);
            }
        }
    }
    let mut order: Vec<u32> = (0..n as u32)
        .filter(|&i| pending.get(i as usize) == Some(&0))
        .collect();
    let mut k = 0;
    while let Some(&r) = order.get(k) {
        k += 1;
        for &u in users_of.get(r as usize).into_iter().flatten() {
            if let Some(c) = pending.get_mut(u as usize) {
                *c -= 1;
                if *c == 0 {
                    order.push(u);
                }
            }
        }
    }
    if order.len() < n {
        for (i, d) in defs.iter().enumerate() {
            if pending.get(i).copied().unwrap_or(0) > 0 {
                b.err(
                    path_of(&d.id),
                    format!("role `{}` includes itself through `includes`", d.id),
                );
            }
        }
    }
    order
}

/// Role `d` closed: its own grants, then the closed sets of the roles it includes,
/// then the subtrees of its own grants. Included sets are closed already, and a union of
/// closed sets is closed (each rule of parent inclusion, level order and choice
/// implication follows from one privilege held), so only the subtrees of the role's own
/// grants need walking.
fn close_role(
    p: &Profile,
    layout: &Layout,
    d: &RoleDef,
    included: &[u32],
    closed: &[Option<ClosedRole>],
) -> ClosedRole {
    let mut set = vec![0u64; layout.words];
    let mut numbers: Vec<(usize, i64)> = Vec::new();
    let direct = d.direct_grants(p);
    for (q, v) in &direct {
        layout.grant(p, *q, v, &mut set);
        if let GrantValue::Number(x) = v {
            merge_number(&mut numbers, *q, *x);
        }
    }
    for &j in included {
        if let Some(Some(c)) = closed.get(j as usize) {
            for (w, x) in set.iter_mut().zip(&c.set) {
                *w |= *x;
            }
            for &(q, x) in &c.numbers {
                merge_number(&mut numbers, q, x);
            }
        }
    }
    // The granted privileges no other granted privilege is an ancestor of: their
    // subtrees are disjoint and cover every subtree granted.
    let granted = |q: usize| direct.binary_search_by_key(&q, |(x, _)| *x).is_ok();
    for (top, _) in direct.iter().filter(|(q, _)| !p.ancestors(*q).any(granted)) {
        for q in p.subtree(*top) {
            include_children(p, layout, q, &mut set, &mut numbers);
        }
    }
    ClosedRole { set, numbers }
}

/// What privilege `q`, as `set` holds it, gives its children ([`Profile::included`]).
fn include_children(
    p: &Profile,
    layout: &Layout,
    q: usize,
    set: &mut [u64],
    numbers: &mut Vec<(usize, i64)>,
) {
    let Some(x) = p.privileges.get(q) else {
        return;
    };
    if x.children.is_empty() {
        return;
    }
    let Some(held) = layout.held(p, q, set) else {
        return;
    };
    for &c in &x.children {
        let Some(v) = p.included(q, &held, c) else {
            continue;
        };
        layout.grant(p, c, &v, set);
        if let GrantValue::Number(n) = v {
            merge_number(numbers, c, n);
        }
    }
}

/// A parent includes its children, parents first, by [`Profile::included`]: a flag
/// parent every child at its top, a `levels` parent its children's levels of the same
/// names up to the level held.
pub(crate) fn hold_subtrees_at_top(
    p: &Profile,
    layout: &Layout,
    set: &mut [u64],
    numbers: &mut Vec<(usize, i64)>,
) {
    for q in p.parents_first() {
        include_children(p, layout, q, set, numbers);
    }
}

/// Reports a role that would hold a privilege outside its role type's cap (`mask`,
/// from [`cap_mask`]; `None`: no cap).
fn check_cap(
    b: &mut Builder,
    p: &Profile,
    layout: &Layout,
    d: &RoleDef,
    set: &[u64],
    mask: Option<&Vec<u64>>,
    path_of: &dyn Fn(&str) -> StatePath,
) {
    let (Some(rt), Some(mask)) = (d.role_type.and_then(|t| p.role_types.get(t)), mask) else {
        return;
    };
    if set.iter().zip(mask).all(|(s, m)| s & !m == 0) {
        return;
    }
    let outside = (0..p.privileges.len()).find(|&q| {
        layout
            .range(q)
            .any(|bit| test_bit(set, bit) && !test_bit(mask, bit))
    });
    if let Some(q) = outside {
        let name = p.privileges.get(q).map_or("?", |x| x.name.as_str());
        b.err(
            path_of(&d.id),
            format!(
                "role `{}` of type `{}` would hold `{name}`, which is outside that type's cap",
                d.id, rt.id
            ),
        );
    }
}

/// The bits a role of type `role_type` may hold (its cap's privileges with their
/// subtrees), or `None` when the type has no cap (or there is no type).
pub(crate) fn cap_mask(p: &Profile, layout: &Layout, role_type: Option<usize>) -> Option<Vec<u64>> {
    let cap = role_type.and_then(|t| p.role_types.get(t))?.cap.as_ref()?;
    let mut mask = vec![0u64; layout.words];
    for c in cap {
        for q in p.subtree(*c) {
            for bit in layout.range(q) {
                set_bit(&mut mask, bit);
            }
        }
    }
    Some(mask)
}

/// Keeps the largest value granted for number privilege `q`.
fn merge_number(numbers: &mut Vec<(usize, i64)>, q: usize, x: i64) {
    match numbers.iter_mut().find(|(p, _)| *p == q) {
        Some((_, v)) => *v = (*v).max(x),
        None => numbers.push((q, x)),
    }
}
