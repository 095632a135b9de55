//! Compiling a [`TenantState`] against a profile into a [`Snapshot`]. Every problem
//! in the state is reported with the path of the object it is in.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::bits::{Layout, set_bit, test_bit};
use super::program::compile;
use super::tables::{GrantC, RoleC};
use super::*;
use crate::profile::{
    GrantValue, ORG_KIND_ATTR, ORG_PARENT, ORG_UNIT, PrivKind, Profile, QUEUE, RoleDef, TENANT,
    USER, Value, ValueType, resolve_role,
};
use crate::state::{Scope, StateError, StatePath, TenantState};

pub(crate) struct Builder {
    errors: Vec<StateError>,
}

impl Builder {
    pub(crate) fn err(&mut self, at: StatePath, message: impl Into<String>) {
        self.errors.push(StateError {
            at,
            message: message.into(),
        });
    }
}

/// Interns bitsets so users with the same roles share one set.
pub(crate) struct Interner {
    pub(crate) words: usize,
    pub(crate) sets: Vec<u64>,
    pub(crate) index: FxHashMap<Box<[u64]>, u32>,
}

impl Interner {
    pub(crate) fn intern(&mut self, set: &[u64]) -> u32 {
        if let Some(&i) = self.index.get(set) {
            return i;
        }
        let i = (self.sets.len() / self.words) as u32;
        self.sets.extend_from_slice(set);
        self.index.insert(set.into(), i);
        i
    }
}

impl Snapshot {
    /// Compiles `state` against `profile`. Every problem found is returned, each naming
    /// the object it is in.
    pub fn build(profile: Arc<Profile>, state: &TenantState) -> Result<Snapshot, Vec<StateError>> {
        let p = profile.as_ref();
        let mut b = Builder { errors: Vec::new() };
        let layout = Layout::new(p);
        let mut tables: Vec<EntityTable> = p
            .types
            .iter()
            .map(|t| EntityTable {
                attrs: (0..t.attributes.len())
                    .map(|_| Arc::new(Vec::new()))
                    .collect(),
                ..EntityTable::default()
            })
            .collect();

        // The tenant is the one entity of type `tenant`.
        if !crate::profile_id_ok(&state.tenant_id) {
            b.err(
                StatePath::Tenant,
                format!("invalid tenant id `{}`", state.tenant_id),
            );
        }
        if let Some(t) = tables.get_mut(TENANT) {
            Arc::make_mut(&mut t.index).insert(state.tenant_id.as_str().into(), 0);
            Arc::make_mut(&mut t.ids).push(state.tenant_id.as_str().into());
            Arc::make_mut(&mut t.names).push(state.tenant_name.as_deref().map(Into::into));
        }

        // Pass 1: every entity gets a dense id.
        let mut types_of: Vec<Option<usize>> = Vec::with_capacity(state.entities.len());
        for (i, e) in state.entities.iter().enumerate() {
            let Some(ty) = p.type_id(&e.ty).filter(|t| *t != TENANT) else {
                b.err(
                    StatePath::Entity(i, None),
                    format!("unknown resource type `{}` for `{}`", e.ty, e.id),
                );
                types_of.push(None);
                continue;
            };
            if !crate::profile_id_ok(&e.id) {
                b.err(
                    StatePath::Entity(i, None),
                    format!("invalid {} id `{}`", e.ty, e.id),
                );
            }
            let Some(t) = tables.get_mut(ty) else {
                continue;
            };
            if t.index.contains_key(e.id.as_str()) {
                b.err(
                    StatePath::Entity(i, None),
                    format!("duplicate {} id `{}`", e.ty, e.id),
                );
                types_of.push(None);
                continue;
            }
            let n = t.ids.len() as u32;
            Arc::make_mut(&mut t.index).insert(e.id.as_str().into(), n);
            Arc::make_mut(&mut t.ids).push(e.id.as_str().into());
            Arc::make_mut(&mut t.names).push(e.name.as_deref().map(Into::into));
            types_of.push(Some(ty));
        }
        for (ty, t) in tables.iter_mut().enumerate() {
            let n = t.ids.len();
            for (a, col) in t.attrs.iter_mut().enumerate() {
                let default = p
                    .types
                    .get(ty)
                    .and_then(|x| x.attributes.get(a))
                    .and_then(|d| d.default.as_ref());
                let dv = default.and_then(|v| attr_val(p, ty, a, v));
                *col = Arc::new(vec![dv; n]);
            }
        }

        // Pass 2: relations and attributes.
        let mut tuples: Vec<Vec<Vec<(u32, u32)>>> = p
            .types
            .iter()
            .map(|t| vec![Vec::new(); t.relations.len()])
            .collect();
        for (i, e) in state.entities.iter().enumerate() {
            let Some(ty) = types_of.get(i).copied().flatten() else {
                continue;
            };
            let Some(def) = p.types.get(ty) else { continue };
            let me = tables
                .get(ty)
                .and_then(|t| t.index.get(e.id.as_str()).copied())
                .unwrap_or(NONE);
            for (name, targets) in &e.relations {
                let at = StatePath::Entity(i, Some(name.clone()));
                let Some(r) = def.relation(name) else {
                    let known: Vec<String> = def
                        .relations
                        .iter()
                        .filter(|r| r.inverse.is_none())
                        .map(|r| r.name.clone())
                        .collect();
                    b.err(
                        at,
                        format!(
                            "{} `{}`: unknown relation `{name}`; expected one of {}",
                            def.id,
                            e.id,
                            crate::profile_quoted(&known)
                        ),
                    );
                    continue;
                };
                let Some(rd) = def.relations.get(r) else {
                    continue;
                };
                if let Some((ti, ri)) = rd.inverse {
                    let src = p.types.get(ti).map_or("?", |t| t.id.as_str());
                    let rel = p
                        .types
                        .get(ti)
                        .and_then(|t| t.relations.get(ri))
                        .map_or("?", |r| r.name.as_str());
                    b.err(
                        at,
                        format!(
                            "{} `{}`: `{name}` is computed from `{src}.{rel}`; write it there",
                            def.id, e.id
                        ),
                    );
                    continue;
                }
                if !rd.many && targets.len() > 1 {
                    b.err(
                        at,
                        format!(
                            "{} `{}`: `{name}` takes one value, {} given",
                            def.id,
                            e.id,
                            targets.len()
                        ),
                    );
                    continue;
                }
                let target_type = p.types.get(rd.target).map_or("?", |t| t.id.as_str());
                for t in targets {
                    match tables
                        .get(rd.target)
                        .and_then(|x| x.index.get(t.as_str()).copied())
                    {
                        Some(tid) => {
                            if let Some(v) = tuples.get_mut(ty).and_then(|x| x.get_mut(r)) {
                                v.push((me, tid));
                            }
                        }
                        None => b.err(
                            StatePath::Entity(i, Some(name.clone())),
                            format!(
                                "{} `{}`: `{name}` names unknown {target_type} `{t}`",
                                def.id, e.id
                            ),
                        ),
                    }
                }
            }
            for (name, value) in &e.attributes {
                let at = StatePath::Entity(i, Some(name.clone()));
                let Some(a) = def.attribute(name) else {
                    let known: Vec<String> =
                        def.attributes.iter().map(|a| a.name.clone()).collect();
                    b.err(
                        at,
                        format!(
                            "{} `{}`: unknown attribute `{name}`{}",
                            def.id,
                            e.id,
                            if known.is_empty() {
                                String::new()
                            } else {
                                format!("; expected one of {}", crate::profile_quoted(&known))
                            }
                        ),
                    );
                    continue;
                };
                match attr_val(p, ty, a, value) {
                    Some(v) => {
                        if let Some(slot) = tables
                            .get_mut(ty)
                            .and_then(|t| t.attrs.get_mut(a))
                            .and_then(|c| Arc::make_mut(c).get_mut(me as usize))
                        {
                            *slot = Some(v);
                        }
                    }
                    None => {
                        let ad = def.attributes.get(a);
                        let expected = match ad.and_then(|d| d.values.as_ref()) {
                            Some(values) => format!("one of {}", crate::profile_quoted(values)),
                            None => ad.map_or("?", |d| d.ty.name()).to_owned(),
                        };
                        b.err(
                            at,
                            format!(
                                "{} `{}`: attribute `{name}` must be {expected}, found {value}",
                                def.id, e.id
                            ),
                        );
                    }
                }
            }
        }
        // Org unit kinds.
        if !p.org_kinds.is_empty() {
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

        // Relation stores, inverse relations included.
        for (ty, def) in p.types.iter().enumerate() {
            let n = tables.get(ty).map_or(0, |t| t.ids.len());
            let mut stores = Vec::with_capacity(def.relations.len());
            for rd in &def.relations {
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

        // Org tree: no cycles, parents of allowed kinds, pre-order numbering.
        let (org_enter, org_exit) = org_numbering(&mut b, p, &tables, state, &types_of);

        // Anchors.
        let anchors: Vec<Vec<Anchor>> = (0..p.types.len())
            .map(|ty| {
                (0..tables.get(ty).map_or(0, |t| t.ids.len()) as u32)
                    .map(|e| anchor_of(p, &tables, ty, e))
                    .collect()
            })
            .collect();
        for (t, a) in tables.iter_mut().zip(anchors) {
            t.anchors = Arc::new(a);
        }

        // Settings.
        let mut settings: Vec<Value> = p.settings.iter().map(|s| s.default.clone()).collect();
        for (i, (id, v)) in state.settings.iter().enumerate() {
            match p.setting(id) {
                Some(s) => {
                    let ty = p.settings.get(s).map(|d| d.ty);
                    if Some(v.ty()) != ty {
                        b.err(
                            StatePath::Setting(i),
                            format!(
                                "setting `{id}` must be {}, found {v}",
                                ty.map_or("?", ValueType::name)
                            ),
                        );
                    } else if let Some(slot) = settings.get_mut(s) {
                        *slot = v.clone();
                    }
                }
                None => b.err(
                    StatePath::Setting(i),
                    format!(
                        "unknown setting `{id}`; expected one of {}",
                        crate::profile_quoted(
                            &p.settings.iter().map(|s| s.id.clone()).collect::<Vec<_>>()
                        )
                    ),
                ),
            }
        }

        // Roles: templates, then custom roles.
        let mut defs: Vec<RoleDef> = p.roles.clone();
        for (i, spec) in state.roles.iter().enumerate() {
            if !crate::profile_id_ok(&spec.id) {
                b.err(
                    StatePath::Role(i, None),
                    format!("invalid role id `{}`", spec.id),
                );
            }
            if defs.iter().any(|d| d.id == spec.id) {
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
                Ok(d) => defs.push(d),
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
        let role_index: FxHashMap<String, u32> = defs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.clone(), i as u32))
            .collect();
        let custom_path = |id: &str| -> StatePath {
            match state.roles.iter().position(|r| r.id == id) {
                Some(i) => StatePath::Role(i, None),
                None => StatePath::Tenant,
            }
        };
        let mut interner = Interner {
            words: layout.words,
            sets: Vec::new(),
            index: FxHashMap::default(),
        };
        let empty = vec![0u64; layout.words];
        interner.intern(&empty);
        let roles = compile_roles(
            &mut b,
            p,
            &layout,
            &mut interner,
            defs,
            &role_index,
            &custom_path,
        );

        // Users' grants.
        let user_count = tables.get(USER).map_or(0, |t| t.ids.len());
        let mut lists: Vec<Vec<GrantC>> = vec![Vec::new(); user_count];
        for (i, a) in state.assignments.iter().enumerate() {
            let Some(u) = tables
                .get(USER)
                .and_then(|t| t.index.get(a.principal.as_str()).copied())
            else {
                b.err(
                    StatePath::Assignment(i, "principal"),
                    format!("assignment {}: unknown user `{}`", i + 1, a.principal),
                );
                continue;
            };
            let Some(&r) = role_index.get(&a.role) else {
                b.err(
                    StatePath::Assignment(i, "role"),
                    format!("assignment {}: unknown role `{}`", i + 1, a.role),
                );
                continue;
            };
            let Some(scope) = compile_scope(&mut b, &tables, i, &a.scope) else {
                continue;
            };
            let set = roles.get(r as usize).map_or(0, |x| x.set);
            if let Some(list) = lists.get_mut(u as usize) {
                list.push(GrantC {
                    role: r,
                    set,
                    scope,
                    expires: a.expires_at.unwrap_or(i64::MAX),
                });
            }
        }
        let base: Vec<u32> = lists.iter().map(|l| base_set(&mut interner, l)).collect();
        let users = Users::new(base, lists);

        let sod = super::sod::compile(&mut b, p, &layout, &role_index, &state.sod_rules);
        if !b.errors.is_empty() {
            return Err(b.errors);
        }
        let obligations = p
            .actions
            .iter()
            .map(|a| {
                a.obligations
                    .iter()
                    .map(|o| compile(p, &layout, a.resource, &o.when))
                    .collect()
            })
            .collect();
        let programs = p
            .actions
            .iter()
            .map(|a| compile(p, &layout, a.resource, &a.requires))
            .collect();
        let appoint_targets = p
            .appointments
            .iter()
            .map(|a| a.target.as_ref().map(|t| compile(p, &layout, ORG_UNIT, t)))
            .collect();
        Ok(Snapshot {
            layout,
            tables,
            settings,
            roles,
            role_index,
            sets: interner.sets,
            users,
            org_enter,
            org_exit,
            programs,
            obligations,
            sod,
            appoint_targets,
            profile,
        })
    }
}

/// Converts a state value to a stored attribute value, checking its type.
pub(crate) fn attr_val(p: &Profile, ty: usize, a: usize, v: &Value) -> Option<AttrVal> {
    let def = p.types.get(ty)?.attributes.get(a)?;
    match (v, &def.values) {
        (Value::Str(s), Some(values)) => values
            .iter()
            .position(|x| x == s)
            .map(|i| AttrVal::Enum(i as u16)),
        (Value::Str(s), None) if def.ty == ValueType::Str => Some(AttrVal::Str(s.as_str().into())),
        (Value::Bool(x), _) if def.ty == ValueType::Bool => Some(AttrVal::Bool(*x)),
        (Value::Int(x), _) if def.ty == ValueType::Int => Some(AttrVal::Int(*x)),
        _ => None,
    }
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

fn org_numbering(
    b: &mut Builder,
    p: &Profile,
    tables: &[EntityTable],
    state: &TenantState,
    types_of: &[Option<usize>],
) -> (Vec<u32>, Vec<u32>) {
    let Some(orgs) = tables.get(ORG_UNIT) else {
        return (Vec::new(), Vec::new());
    };
    let n = orgs.ids.len();
    let parent = |e: u32| orgs.rels.get(ORG_PARENT).and_then(|r| r.single(e));
    let kind_of = |e: u32| match orgs
        .attrs
        .get(ORG_KIND_ATTR)
        .and_then(|c| c.get(e as usize))
    {
        Some(Some(AttrVal::Str(k))) => p.org_kind(k),
        _ => None,
    };
    let path_of = |e: u32| {
        let id = orgs.ids.get(e as usize).map_or("", |s| s.as_ref());
        let i = state
            .entities
            .iter()
            .zip(types_of)
            .position(|(x, t)| *t == Some(ORG_UNIT) && x.id == id);
        StatePath::Entity(i.unwrap_or(0), Some("parent".into()))
    };
    let mut cyclic = vec![false; n];
    for e in 0..n as u32 {
        let mut cur = e;
        let mut steps = 0;
        while let Some(q) = parent(cur) {
            steps += 1;
            if q == e || steps > n {
                if let Some(c) = cyclic.get_mut(e as usize) {
                    *c = true;
                }
                let id = orgs.ids.get(e as usize).map_or("", |s| s.as_ref());
                b.err(path_of(e), format!("org unit `{id}` is its own ancestor"));
                break;
            }
            cur = q;
        }
        if let (Some(k), false) = (kind_of(e), p.org_kinds.is_empty()) {
            let kind = p.org_kinds.get(k);
            let allowed = kind.map_or(&[][..], |x| x.parents.as_slice());
            let id = orgs.ids.get(e as usize).map_or("", |s| s.as_ref());
            match parent(e) {
                Some(q) => {
                    if let Some(qk) = kind_of(q)
                        && !allowed.contains(&qk)
                    {
                        let names =
                            |k: usize| p.org_kinds.get(k).map_or("?", |x| x.id.as_str()).to_owned();
                        b.err(
                            path_of(e),
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
                            path_of(e),
                            format!(
                                "org unit `{id}` is of kind `{}`, which needs a parent",
                                kind.map_or("?", |x| x.id.as_str())
                            ),
                        );
                    }
                }
            }
        }
    }
    // Pre-order numbering, iteratively.
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for e in 0..n as u32 {
        match parent(e) {
            Some(q) if !cyclic.get(e as usize).copied().unwrap_or(true) => {
                if let Some(c) = children.get_mut(q as usize) {
                    c.push(e);
                }
            }
            _ => roots.push(e),
        }
    }
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

fn compile_scope(b: &mut Builder, tables: &[EntityTable], i: usize, s: &Scope) -> Option<ScopeC> {
    let mut lookup = |ty: usize, what: &str, ids: &[String]| -> Option<Box<[u32]>> {
        if ids.is_empty() {
            b.err(
                StatePath::Assignment(i, "scope"),
                format!("assignment {}: scope lists no {what}s", i + 1),
            );
            return None;
        }
        let mut out = Vec::new();
        for id in ids {
            match tables
                .get(ty)
                .and_then(|t| t.index.get(id.as_str()).copied())
            {
                Some(x) => out.push(x),
                None => {
                    b.err(
                        StatePath::Assignment(i, "scope"),
                        format!("assignment {}: unknown {what} `{id}` in scope", i + 1),
                    );
                    return None;
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        Some(out.into())
    };
    match s {
        Scope::Tenant => Some(ScopeC::Tenant),
        Scope::OrgUnits(ids) => lookup(ORG_UNIT, "org unit", ids).map(ScopeC::Orgs),
        Scope::Queues(ids) => lookup(QUEUE, "queue", ids).map(ScopeC::Queues),
    }
}

fn compile_roles(
    b: &mut Builder,
    p: &Profile,
    layout: &Layout,
    interner: &mut Interner,
    defs: Vec<RoleDef>,
    index: &FxHashMap<String, u32>,
    path_of: &dyn Fn(&str) -> StatePath,
) -> Vec<RoleC> {
    let n = defs.len();
    // Included role indices; unknown ones are errors.
    let mut incl: Vec<Vec<u32>> = Vec::with_capacity(n);
    for d in &defs {
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
    // Order roles so that included ones come first (Kahn); the rest are in cycles.
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
    let words = layout.words;
    let mut sets: Vec<Option<ClosedRole>> = vec![None; n];
    for &r in &order {
        let Some(d) = defs.get(r as usize) else {
            continue;
        };
        let mut set = vec![0u64; words];
        let mut numbers: Vec<(usize, i64)> = Vec::new();
        let mut closure = vec![r];
        for (q, v) in d.direct_grants(p) {
            layout.grant(p, q, &v, &mut set);
            if let GrantValue::Number(x) = v {
                merge_number(&mut numbers, q, x);
            }
        }
        for &j in incl.get(r as usize).into_iter().flatten() {
            if let Some(Some((s, nums, cl))) = sets.get(j as usize) {
                for (w, x) in set.iter_mut().zip(s) {
                    *w |= *x;
                }
                for &(q, x) in nums {
                    merge_number(&mut numbers, q, x);
                }
                for c in cl {
                    if !closure.contains(c) {
                        closure.push(*c);
                    }
                }
            }
        }
        // A parent held at its top includes its whole subtree at the top.
        for (q, x) in p.privileges.iter().enumerate() {
            if x.children.is_empty() || !layout.holds_top(p, q, &set) {
                continue;
            }
            for d in p.subtree(q).into_iter().skip(1) {
                if let Some(kind) = p.privileges.get(d).map(|y| &y.kind) {
                    layout.grant(p, d, &kind.top(), &mut set);
                    if let PrivKind::Number { default, .. } = kind {
                        merge_number(&mut numbers, d, *default);
                    }
                }
            }
        }
        // A role type's cap.
        if let Some(rt) = d.role_type.and_then(|t| p.role_types.get(t))
            && let Some(cap) = &rt.cap
        {
            let mut mask = vec![0u64; words];
            for c in cap {
                for q in p.subtree(*c) {
                    for bit in layout.range(q) {
                        set_bit(&mut mask, bit);
                    }
                }
            }
            let outside = (0..p.privileges.len()).find(|&q| {
                layout
                    .range(q)
                    .any(|bit| test_bit(&set, bit) && !test_bit(&mask, bit))
            });
            if let Some(q) = outside {
                let name = p.privileges.get(q).map_or("?", |x| x.name.as_str());
                b.err(path_of(&d.id), format!("role `{}` of type `{}` would hold `{name}`, which is outside that type's cap", d.id, rt.id));
            }
        }
        if let Some(slot) = sets.get_mut(r as usize) {
            *slot = Some((set, numbers, closure));
        }
    }
    defs.into_iter()
        .zip(sets)
        .map(|(def, s)| {
            let (set, numbers, closure) =
                s.unwrap_or_else(|| (vec![0u64; words], Vec::new(), Vec::new()));
            RoleC {
                def,
                set: interner.intern(&set),
                numbers,
                closure,
            }
        })
        .collect()
}

/// The interned union of a user's tenant-wide, non-expiring grants.
pub(crate) fn base_set(interner: &mut Interner, grants: &[GrantC]) -> u32 {
    let mut acc = vec![0u64; interner.words];
    for g in grants
        .iter()
        .filter(|g| g.scope == ScopeC::Tenant && g.expires == i64::MAX)
    {
        let s = g.set as usize * interner.words;
        for (w, x) in acc
            .iter_mut()
            .zip(interner.sets.get(s..s + interner.words).unwrap_or(&[]))
        {
            *w |= *x;
        }
    }
    interner.intern(&acc)
}

/// A role's closed bitset, number values and included roles.
type ClosedRole = (Vec<u64>, Vec<(usize, i64)>, Vec<u32>);

fn merge_number(numbers: &mut Vec<(usize, i64)>, q: usize, x: i64) {
    match numbers.iter_mut().find(|(p, _)| *p == q) {
        Some((_, v)) => *v = (*v).max(x),
        None => numbers.push((q, x)),
    }
}
