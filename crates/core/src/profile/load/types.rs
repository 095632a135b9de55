//! Resource types: the built-in ones, then the profile's, each with its relations
//! (inverse relations resolved once every type exists), attributes and scope
//! relation; scope relations may not form a cycle between types.

use toml::Spanned;

use super::Loader;
use crate::profile::model::*;
use crate::profile::quoted;
use crate::profile::raw::{RawAttr, RawRelation, RawType};

/// The types every profile has, at the indices the `model` constants name.
fn builtin_types() -> Vec<ResourceType> {
    let rel = |name: &str, target, many, inverse| RelationDef {
        name: name.into(),
        target,
        many,
        inverse,
    };
    let ty = |id: &str, name: &str, relations, attributes, scope| ResourceType {
        id: id.into(),
        name: name.into(),
        builtin: true,
        relations,
        attributes,
        scope,
    };
    vec![
        ty("tenant", "Tenant", vec![], vec![], None),
        ty(
            "org_unit",
            "Org unit",
            vec![rel("parent", ORG_UNIT, false, None)],
            vec![AttrDef {
                name: "kind".into(),
                ty: ValueType::Str,
                values: None,
                default: None,
            }],
            None,
        ),
        ty(
            "user",
            "User",
            vec![
                rel("org_unit", ORG_UNIT, false, None),
                rel("groups", GROUP, true, Some((GROUP, GROUP_MEMBERS))),
                rel("queues", QUEUE, true, Some((QUEUE, QUEUE_MEMBERS))),
                rel(
                    "supervised_queues",
                    QUEUE,
                    true,
                    Some((QUEUE, QUEUE_SUPERVISORS)),
                ),
            ],
            vec![],
            Some(USER_ORG_UNIT),
        ),
        ty(
            "group",
            "Group",
            vec![rel("members", USER, true, None)],
            vec![],
            None,
        ),
        ty(
            "queue",
            "Queue",
            vec![
                rel("org_unit", ORG_UNIT, false, None),
                rel("members", USER, true, None),
                rel("supervisors", USER, true, None),
            ],
            vec![],
            Some(QUEUE_ORG_UNIT),
        ),
    ]
}

/// Marks a raw type that was rejected (a duplicate id) in the slot list.
const REJECTED: usize = usize::MAX;

/// A relation written `inverse = "type.relation"`, resolved once every relation exists.
struct PendingInverse {
    /// The type that declares it, and its index there.
    slot: TypeId,
    idx: RelId,
    inverse: Spanned<String>,
    /// The `type` written beside the `inverse`, if any.
    declared_ty: Option<Spanned<String>>,
}

impl Loader<'_> {
    /// Every resource type, built-in ones first, in the passes each part needs.
    pub(super) fn types(&mut self, raw: &[Spanned<RawType>]) -> Vec<ResourceType> {
        let mut types = builtin_types();
        let slots = self.declare_types(&mut types, raw);
        let inverses = self.type_members(&mut types, raw, &slots);
        for pending in inverses {
            self.resolve_inverse(&mut types, pending);
        }
        self.scope_relations(&mut types, raw, &slots);
        self.check_scope_cycles(&types, raw, &slots);
        types
    }

    /// Every type exists: a raw type either extends a built-in one (once) or adds a
    /// new one. Returns each raw type's index, `REJECTED` for a duplicate.
    fn declare_types(
        &mut self,
        types: &mut Vec<ResourceType>,
        raw: &[Spanned<RawType>],
    ) -> Vec<usize> {
        let builtin_count = types.len();
        let mut slots = Vec::new();
        for t in raw {
            let t = t.get_ref();
            self.check_id(&t.id, "resource type");
            let id = t.id.get_ref();
            match types.iter().position(|x| &x.id == id) {
                Some(i) if i < builtin_count && !slots.contains(&i) => slots.push(i),
                Some(_) => {
                    self.err(&t.id.span(), format!("duplicate resource type id `{id}`"));
                    slots.push(REJECTED);
                }
                None => {
                    types.push(ResourceType {
                        id: id.clone(),
                        name: t.name.clone().unwrap_or_else(|| id.clone()),
                        builtin: false,
                        relations: Vec::new(),
                        attributes: Vec::new(),
                        scope: None,
                    });
                    slots.push(types.len() - 1);
                }
            }
        }
        slots
    }

    /// Each type's relations and attributes. Inverse relations are added with a
    /// placeholder target and returned, to be resolved once all relations exist.
    fn type_members(
        &mut self,
        types: &mut [ResourceType],
        raw: &[Spanned<RawType>],
        slots: &[usize],
    ) -> Vec<PendingInverse> {
        let type_ids: Vec<String> = types.iter().map(|t| t.id.clone()).collect();
        let mut inverses = Vec::new();
        for (t, &slot) in raw.iter().zip(slots) {
            let t = t.get_ref();
            if slot == REJECTED {
                continue;
            }
            for (name, rel) in &t.relations {
                self.check_id(name, "relation");
                if self.already_defined(types, slot, name, &t.id) {
                    continue;
                }
                let idx = types.get(slot).map_or(0, |x| x.relations.len());
                let Some(def) = self.relation_def(&type_ids, slot, idx, name, rel, &mut inverses)
                else {
                    continue;
                };
                if let Some(x) = types.get_mut(slot) {
                    x.relations.push(def);
                }
            }
            for (name, attr) in &t.attributes {
                self.check_id(name, "attribute");
                if self.already_defined(types, slot, name, &t.id) {
                    continue;
                }
                let def = self.attribute_def(name, attr.get_ref());
                if let Some(x) = types.get_mut(slot) {
                    x.attributes.push(def);
                }
            }
        }
        inverses
    }

    /// Relation `name` of type `slot`, to be its `idx`-th: one with a `type`, or an
    /// inverse (queued on `inverses`).
    fn relation_def(
        &mut self,
        type_ids: &[String],
        slot: TypeId,
        idx: RelId,
        name: &Spanned<String>,
        rel: &Spanned<RawRelation>,
        inverses: &mut Vec<PendingInverse>,
    ) -> Option<RelationDef> {
        let (rel_span, rel) = (rel.span(), rel.get_ref());
        match (&rel.ty, &rel.inverse) {
            (Some(ty), None) => match type_ids.iter().position(|x| x == ty.get_ref()) {
                Some(target) => Some(RelationDef {
                    name: name.get_ref().clone(),
                    target,
                    many: rel.many,
                    inverse: None,
                }),
                None => {
                    self.err(
                        &ty.span(),
                        format!(
                            "unknown resource type `{}`; expected one of {}",
                            ty.get_ref(),
                            quoted(type_ids)
                        ),
                    );
                    None
                }
            },
            (_, Some(inv)) => {
                inverses.push(PendingInverse {
                    slot,
                    idx,
                    inverse: inv.clone(),
                    declared_ty: rel.ty.clone(),
                });
                Some(RelationDef {
                    name: name.get_ref().clone(),
                    target: slot,
                    many: true,
                    inverse: None,
                })
            }
            (None, None) => {
                self.err(
                    &rel_span,
                    format!(
                        "relation `{}` needs a `type` or an `inverse`",
                        name.get_ref()
                    ),
                );
                None
            }
        }
    }

    /// Attribute `name`: its value type, enum values and default, checked.
    fn attribute_def(&mut self, name: &Spanned<String>, attr: &RawAttr) -> AttrDef {
        let ty = self.value_type(&attr.ty);
        if let Some(values) = &attr.values {
            if ty != ValueType::Str {
                self.err(&attr.ty.span(), "`values` needs `type = \"string\"`");
            }
            if values.is_empty() {
                self.err(
                    &name.span(),
                    format!("attribute `{}` lists no values", name.get_ref()),
                );
            }
        }
        let default = attr.default.as_ref().map(|d| {
            let v: Value = d.get_ref().into();
            let in_enum = match (&attr.values, &v) {
                (Some(values), Value::Str(s)) => values.contains(s),
                _ => true,
            };
            if v.ty() != ty || !in_enum {
                self.err(
                    &d.span(),
                    format!("default of `{}` does not fit its type", name.get_ref()),
                );
            }
            v
        });
        AttrDef {
            name: name.get_ref().clone(),
            ty,
            values: attr.values.clone(),
            default,
        }
    }

    /// Reports (and returns true) when `name` is already a relation or attribute of the type.
    fn already_defined(
        &mut self,
        types: &[ResourceType],
        slot: usize,
        name: &Spanned<String>,
        ty: &Spanned<String>,
    ) -> bool {
        let exists = types.get(slot).is_some_and(|x| {
            x.relation(name.get_ref()).is_some() || x.attribute(name.get_ref()).is_some()
        });
        if exists {
            self.err(
                &name.span(),
                format!(
                    "`{}` is already defined on `{}`",
                    name.get_ref(),
                    ty.get_ref()
                ),
            );
        }
        exists
    }

    /// Points an inverse relation at the relation it inverts, which must be a plain
    /// relation pointing back at the declaring type.
    fn resolve_inverse(&mut self, types: &mut [ResourceType], pending: PendingInverse) {
        let PendingInverse {
            slot,
            idx,
            inverse: inv,
            declared_ty,
        } = pending;
        let text = inv.get_ref();
        let found = text.split_once('.').and_then(|(ty, rel)| {
            let ti = types.iter().position(|x| x.id == ty)?;
            let ri = types.get(ti)?.relation(rel)?;
            Some((ti, ri))
        });
        let Some((ti, ri)) = found else {
            self.err(
                &inv.span(),
                format!("unknown relation `{text}`; write `type.relation`"),
            );
            return;
        };
        let points_here = types
            .get(ti)
            .and_then(|x| x.relations.get(ri))
            .is_some_and(|r| r.target == slot && r.inverse.is_none());
        if !points_here {
            let here = types.get(slot).map_or("?", |x| x.id.as_str()).to_owned();
            self.err(
                &inv.span(),
                format!("`{text}` does not point to `{here}`, so it cannot be inverted here"),
            );
            return;
        }
        if let Some(ty) = declared_ty
            && types.get(ti).is_none_or(|x| &x.id != ty.get_ref())
        {
            self.err(
                &ty.span(),
                format!(
                    "an inverse of `{text}` has type `{}`",
                    types.get(ti).map_or("?", |x| x.id.as_str())
                ),
            );
        }
        if let Some(r) = types.get_mut(slot).and_then(|x| x.relations.get_mut(idx)) {
            r.target = ti;
            r.inverse = Some((ti, ri));
        }
    }

    /// Each type's `scope`: one of its own single-valued relations.
    fn scope_relations(
        &mut self,
        types: &mut [ResourceType],
        raw: &[Spanned<RawType>],
        slots: &[usize],
    ) {
        for (t, &slot) in raw.iter().zip(slots) {
            let t = t.get_ref();
            let Some(scope) = &t.scope else { continue };
            if slot == REJECTED {
                continue;
            }
            let rel = types.get(slot).and_then(|x| {
                x.relation(scope.get_ref())
                    .map(|r| (r, x.relations.get(r).is_some_and(|d| d.many)))
            });
            match rel {
                Some((r, false)) => {
                    if let Some(x) = types.get_mut(slot) {
                        x.scope = Some(r);
                    }
                }
                Some((_, true)) => self.err(
                    &scope.span(),
                    format!("scope relation `{}` must be single-valued", scope.get_ref()),
                ),
                None => self.err(
                    &scope.span(),
                    format!(
                        "unknown relation `{}` on `{}`",
                        scope.get_ref(),
                        t.id.get_ref()
                    ),
                ),
            }
        }
    }

    /// Reports a type whose chain of scope relations comes back to a type already on
    /// it, unless that type is `org_unit`.
    fn check_scope_cycles(
        &mut self,
        types: &[ResourceType],
        raw: &[Spanned<RawType>],
        slots: &[usize],
    ) {
        for (t, &slot) in raw.iter().zip(slots) {
            let mut seen = vec![slot];
            let mut cur = slot;
            while let Some(next) = types
                .get(cur)
                .and_then(|x| x.scope.and_then(|r| x.relations.get(r)).map(|r| r.target))
            {
                if seen.contains(&next) {
                    if next != ORG_UNIT {
                        self.err(
                            &t.get_ref().id.span(),
                            format!(
                                "scope relations of `{}` form a cycle",
                                t.get_ref().id.get_ref()
                            ),
                        );
                    }
                    break;
                }
                seen.push(next);
                cur = next;
            }
        }
    }
}
