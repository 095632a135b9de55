//! The entity tables: the tenant and every entity of the state get a dense id within
//! their type; then each entity's relation tuples and attribute values are read and
//! checked against its type.

use std::sync::Arc;

use super::Builder;
use crate::profile::{Profile, RelationDef, ResourceType, TENANT, TypeId, Value, ValueType};
use crate::snapshot::{AttrVal, EntityTable, NONE};
use crate::state::{Entity, StatePath, TenantState};

/// Relation tuples as written: per type, per relation, (source, target) dense ids.
pub(super) type Tuples = Vec<Vec<Vec<(u32, u32)>>>;

/// One table per resource type, with one empty column per attribute.
pub(super) fn empty_tables(p: &Profile) -> Vec<EntityTable> {
    p.types
        .iter()
        .map(|t| EntityTable {
            attrs: (0..t.attributes.len())
                .map(|_| Arc::new(Vec::new()))
                .collect(),
            ..EntityTable::default()
        })
        .collect()
}

/// The tenant is the one entity of type `tenant`.
pub(super) fn add_tenant(b: &mut Builder, tables: &mut [EntityTable], state: &TenantState) {
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
}

/// Gives every entity of the state a dense id within its type. Returns each state
/// entity's type, `None` for an entity that was rejected.
pub(super) fn number_entities(
    b: &mut Builder,
    p: &Profile,
    tables: &mut [EntityTable],
    state: &TenantState,
) -> Vec<Option<TypeId>> {
    let mut types_of: Vec<Option<TypeId>> = Vec::with_capacity(state.entities.len());
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
    types_of
}

/// Sizes every attribute column to its table, filled with the attribute's default.
pub(super) fn fill_default_attributes(p: &Profile, tables: &mut [EntityTable]) {
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
}

/// One accepted entity of the state being read.
struct Subject<'s> {
    /// Its index in the state.
    i: usize,
    e: &'s Entity,
    ty: TypeId,
    def: &'s ResourceType,
    /// Its dense id.
    me: u32,
}

/// Reads every accepted entity's relations (into the returned tuples) and attribute
/// values (into the tables' columns), entity by entity.
pub(super) fn read_facts(
    b: &mut Builder,
    p: &Profile,
    tables: &mut [EntityTable],
    state: &TenantState,
    types_of: &[Option<TypeId>],
) -> Tuples {
    let mut tuples: Tuples = p
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
        let s = Subject { i, e, ty, def, me };
        read_relations(b, p, tables, &mut tuples, &s);
        read_attributes(b, p, tables, &s);
    }
    tuples
}

/// Adds the entity's relation tuples; every target must exist.
fn read_relations(
    b: &mut Builder,
    p: &Profile,
    tables: &[EntityTable],
    tuples: &mut Tuples,
    s: &Subject<'_>,
) {
    let (def, e) = (s.def, s.e);
    for (name, targets) in &e.relations {
        let Some((r, rd)) = writable_relation(b, p, s, name, targets.len()) else {
            continue;
        };
        let target_type = p.types.get(rd.target).map_or("?", |t| t.id.as_str());
        for t in targets {
            match tables
                .get(rd.target)
                .and_then(|x| x.index.get(t.as_str()).copied())
            {
                Some(tid) => {
                    if let Some(v) = tuples.get_mut(s.ty).and_then(|x| x.get_mut(r)) {
                        v.push((s.me, tid));
                    }
                }
                None => b.err(
                    StatePath::Entity(s.i, Some(name.clone())),
                    format!(
                        "{} `{}`: `{name}` names unknown {target_type} `{t}`",
                        def.id, e.id
                    ),
                ),
            }
        }
    }
}

/// The relation `name` of the entity's type, with its index, when the state may write
/// `given` targets to it: it exists, is not computed as an inverse, and takes that many.
fn writable_relation<'s>(
    b: &mut Builder,
    p: &Profile,
    s: &Subject<'s>,
    name: &str,
    given: usize,
) -> Option<(usize, &'s RelationDef)> {
    let (def, e) = (s.def, s.e);
    let at = StatePath::Entity(s.i, Some(name.to_owned()));
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
        return None;
    };
    let rd = def.relations.get(r)?;
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
        return None;
    }
    if !rd.many && given > 1 {
        b.err(
            at,
            format!(
                "{} `{}`: `{name}` takes one value, {given} given",
                def.id, e.id
            ),
        );
        return None;
    }
    Some((r, rd))
}

/// Stores the entity's attribute values, each checked against its declaration.
fn read_attributes(b: &mut Builder, p: &Profile, tables: &mut [EntityTable], s: &Subject<'_>) {
    let (def, e) = (s.def, s.e);
    for (name, value) in &e.attributes {
        let at = StatePath::Entity(s.i, Some(name.clone()));
        let Some(a) = def.attribute(name) else {
            let known: Vec<String> = def.attributes.iter().map(|a| a.name.clone()).collect();
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
        match attr_val(p, s.ty, a, value) {
            Some(v) => {
                if let Some(slot) = tables
                    .get_mut(s.ty)
                    .and_then(|t| t.attrs.get_mut(a))
                    .and_then(|c| Arc::make_mut(c).get_mut(s.me as usize))
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
