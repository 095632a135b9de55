//! Loading a profile: TOML → raw shapes → validated [`Profile`], collecting every
//! problem with its `file:line:column`.

use std::collections::BTreeMap;
use std::ops::Range;

use rustc_hash::FxHashMap;
use toml::Spanned;

use super::grants::{GrantValue, Grants, RoleDef, quoted, resolve_grant, resolve_role};
use super::model::*;
use super::raw::*;
use super::resolve::Resolver;
use crate::expr;
use crate::span::{Diagnostic, Diagnostics, Source, string_content_start};

/// Whether `id` is a valid identifier: letters, digits, `_`, `-`, `.`, `:`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// Turns a TOML deserialization error into a diagnostic.
pub(crate) fn toml_error(src: &Source<'_>, e: &toml::de::Error) -> Diagnostic {
    let message = e.message().trim_end_matches('\n').to_owned();
    match e.span() {
        Some(span) => src.error(&span, message),
        None => Diagnostic {
            location: Some(src.locate(0)),
            message,
        },
    }
}

/// Parses and validates a profile. `name` is used in error locations.
pub fn load_profile(name: &str, text: &str) -> Result<Profile, Diagnostics> {
    let src = Source::new(name, text);
    let raw: RawProfile =
        toml::from_str(text).map_err(|e| Diagnostics(vec![toml_error(&src, &e)]))?;
    let mut l = Loader {
        src,
        errors: Vec::new(),
    };
    let profile = l.profile(raw);
    if l.errors.is_empty() {
        Ok(profile)
    } else {
        Err(Diagnostics(l.errors))
    }
}

struct Loader<'a> {
    src: Source<'a>,
    errors: Vec<Diagnostic>,
}

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

impl Loader<'_> {
    fn err(&mut self, span: &Range<usize>, message: impl Into<String>) {
        let d = self.src.error(span, message);
        self.errors.push(d);
    }

    fn check_id(&mut self, id: &Spanned<String>, what: &str) {
        if !valid_id(id.get_ref()) {
            self.err(
                &id.span(),
                format!(
                    "invalid {what} id `{}`: use letters, digits, `_`, `-`, `.` or `:`",
                    id.get_ref()
                ),
            );
        }
    }

    fn unique<'s, I: Iterator<Item = &'s Spanned<String>>>(&mut self, ids: I, what: &str) {
        let mut seen: FxHashMap<&str, ()> = FxHashMap::default();
        for id in ids {
            self.check_id(id, what);
            if seen.insert(id.get_ref().as_str(), ()).is_some() {
                self.err(
                    &id.span(),
                    format!("duplicate {what} id `{}`", id.get_ref()),
                );
            }
        }
    }

    fn profile(&mut self, raw: RawProfile) -> Profile {
        self.check_id(&raw.profile.id, "profile");
        let org_kinds = self.org_kinds(&raw.org_unit_kind);
        let settings = self.settings(&raw.setting);
        let types = self.types(&raw.resource_type);
        let sections = self.sections(&raw.section, &raw.privilege);
        let (privileges, priv_index) = self.privileges(&raw.privilege, &sections);
        let mut p = Profile {
            id: raw.profile.id.get_ref().clone(),
            name: raw.profile.name.clone(),
            seed: raw.profile.seed.clone(),
            description: raw.profile.description.clone(),
            org_kinds,
            settings,
            types,
            sections,
            privileges,
            role_types: Vec::new(),
            roles: Vec::new(),
            actions: Vec::new(),
            appointments: Vec::new(),
            management: Vec::new(),
            invariants: Vec::new(),
            separation_of_duty: Vec::new(),
            priv_index,
            action_index: FxHashMap::default(),
        };
        p.role_types = self.role_types(&p, &raw.role_type);
        p.roles = self.roles(&p, &raw.role);
        p.actions = self.actions(&p, &raw.action);
        p.action_index = p
            .actions
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
        p.appointments = self.appointments(&p, &raw.appointment);
        p.management = self.management(&p, &raw.management);
        p.invariants = self.invariants(&p, &raw.invariant);
        p.separation_of_duty = self.sod_rules(&p, &raw.separation_of_duty);
        p
    }

    fn org_kinds(&mut self, raw: &[Spanned<RawOrgKind>]) -> Vec<OrgKind> {
        self.unique(raw.iter().map(|k| &k.get_ref().id), "org unit kind");
        let ids: Vec<&str> = raw
            .iter()
            .map(|k| k.get_ref().id.get_ref().as_str())
            .collect();
        let mut out = Vec::new();
        for k in raw {
            let k = k.get_ref();
            let mut parents = Vec::new();
            for p in &k.parents {
                match ids.iter().position(|x| x == p.get_ref()) {
                    Some(i) => parents.push(i),
                    None => self.err(
                        &p.span(),
                        format!(
                            "unknown org unit kind `{}`; expected one of {}",
                            p.get_ref(),
                            quoted_str(&ids)
                        ),
                    ),
                }
            }
            out.push(OrgKind {
                id: k.id.get_ref().clone(),
                name: k.name.clone().unwrap_or_else(|| k.id.get_ref().clone()),
                parents,
            });
        }
        out
    }

    fn value_type(&mut self, ty: &Spanned<String>) -> ValueType {
        match ty.get_ref().as_str() {
            "bool" => ValueType::Bool,
            "int" => ValueType::Int,
            "string" => ValueType::Str,
            other => {
                self.err(
                    &ty.span(),
                    format!("unknown type `{other}`; expected `bool`, `int` or `string`"),
                );
                ValueType::Str
            }
        }
    }

    fn settings(&mut self, raw: &[Spanned<RawSetting>]) -> Vec<SettingDef> {
        self.unique(raw.iter().map(|s| &s.get_ref().id), "setting");
        let mut out = Vec::new();
        for s in raw {
            let s = s.get_ref();
            let ty = self.value_type(&s.ty);
            let default = match &s.default {
                Some(d) => {
                    let v: Value = d.get_ref().into();
                    if v.ty() != ty {
                        self.err(
                            &d.span(),
                            format!(
                                "default of setting `{}` must be {}",
                                s.id.get_ref(),
                                ty.name()
                            ),
                        );
                    }
                    v
                }
                None => zero(ty),
            };
            out.push(SettingDef {
                id: s.id.get_ref().clone(),
                name: s.name.clone().unwrap_or_else(|| s.id.get_ref().clone()),
                ty,
                default,
                description: s.description.clone(),
            });
        }
        out
    }

    fn types(&mut self, raw: &[Spanned<RawType>]) -> Vec<ResourceType> {
        let mut types = builtin_types();
        let builtin_count = types.len();
        // Pass 1: every type exists.
        let mut slots = Vec::new();
        for t in raw {
            let t = t.get_ref();
            self.check_id(&t.id, "resource type");
            let id = t.id.get_ref();
            match types.iter().position(|x| &x.id == id) {
                Some(i) if i < builtin_count && !slots.contains(&i) => slots.push(i),
                Some(_) => {
                    self.err(&t.id.span(), format!("duplicate resource type id `{id}`"));
                    slots.push(usize::MAX);
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
        let type_ids: Vec<String> = types.iter().map(|t| t.id.clone()).collect();
        // Pass 2: relations and attributes.
        let mut inverses = Vec::new();
        for (t, &slot) in raw.iter().zip(&slots) {
            let t = t.get_ref();
            if slot == usize::MAX {
                continue;
            }
            for (name, rel) in &t.relations {
                let (rel_span, rel) = (rel.span(), rel.get_ref());
                self.check_id(name, "relation");
                if self.already_defined(&types, slot, name, &t.id) {
                    continue;
                }
                let def = match (&rel.ty, &rel.inverse) {
                    (Some(ty), None) => match type_ids.iter().position(|x| x == ty.get_ref()) {
                        Some(target) => RelationDef {
                            name: name.get_ref().clone(),
                            target,
                            many: rel.many,
                            inverse: None,
                        },
                        None => {
                            self.err(
                                &ty.span(),
                                format!(
                                    "unknown resource type `{}`; expected one of {}",
                                    ty.get_ref(),
                                    quoted(&type_ids)
                                ),
                            );
                            continue;
                        }
                    },
                    (_, Some(inv)) => {
                        inverses.push((
                            slot,
                            types.get(slot).map_or(0, |x| x.relations.len()),
                            inv.clone(),
                            rel.ty.clone(),
                        ));
                        RelationDef {
                            name: name.get_ref().clone(),
                            target: slot,
                            many: true,
                            inverse: None,
                        }
                    }
                    (None, None) => {
                        self.err(
                            &rel_span,
                            format!(
                                "relation `{}` needs a `type` or an `inverse`",
                                name.get_ref()
                            ),
                        );
                        continue;
                    }
                };
                if let Some(x) = types.get_mut(slot) {
                    x.relations.push(def);
                }
            }
            for (name, attr) in &t.attributes {
                let attr = attr.get_ref();
                self.check_id(name, "attribute");
                if self.already_defined(&types, slot, name, &t.id) {
                    continue;
                }
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
                if let Some(x) = types.get_mut(slot) {
                    x.attributes.push(AttrDef {
                        name: name.get_ref().clone(),
                        ty,
                        values: attr.values.clone(),
                        default,
                    });
                }
            }
        }
        // Pass 3: inverse relations, written `inverse = "type.relation"`.
        for (slot, idx, inv, declared_ty) in inverses {
            let text = inv.get_ref();
            let found = text.split_once('.').and_then(|(ty, rel)| {
                let ti = types.iter().position(|x| x.id == ty)?;
                let ri = types.get(ti)?.relation(rel)?;
                Some((ti, ri))
            });
            match found {
                Some((ti, ri)) => {
                    let points_here = types
                        .get(ti)
                        .and_then(|x| x.relations.get(ri))
                        .is_some_and(|r| r.target == slot && r.inverse.is_none());
                    if !points_here {
                        let here = types.get(slot).map_or("?", |x| x.id.as_str()).to_owned();
                        self.err(
                            &inv.span(),
                            format!(
                                "`{text}` does not point to `{here}`, so it cannot be inverted here"
                            ),
                        );
                        continue;
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
                None => self.err(
                    &inv.span(),
                    format!("unknown relation `{text}`; write `type.relation`"),
                ),
            }
        }
        // Pass 4: scope relations, and no scope cycles between types.
        for (t, &slot) in raw.iter().zip(&slots) {
            let t = t.get_ref();
            let Some(scope) = &t.scope else { continue };
            if slot == usize::MAX {
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
        for (t, &slot) in raw.iter().zip(&slots) {
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
        types
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

    fn sections(
        &mut self,
        raw: &[Spanned<RawSection>],
        privs: &[Spanned<RawPrivilege>],
    ) -> Vec<Section> {
        self.unique(
            raw.iter()
                .map(|s| &s.get_ref().id)
                .chain(privs.iter().map(|p| &p.get_ref().id)),
            "section or privilege",
        );
        raw.iter()
            .map(|s| {
                let s = s.get_ref();
                Section {
                    id: s.id.get_ref().clone(),
                    name: s.name.clone().unwrap_or_else(|| s.id.get_ref().clone()),
                }
            })
            .collect()
    }

    fn privileges(
        &mut self,
        raw: &[Spanned<RawPrivilege>],
        sections: &[Section],
    ) -> (Vec<Privilege>, FxHashMap<String, PrivId>) {
        let mut index: FxHashMap<String, PrivId> = FxHashMap::default();
        for (i, p) in raw.iter().enumerate() {
            index.entry(p.get_ref().id.get_ref().clone()).or_insert(i);
        }
        for (i, p) in raw.iter().enumerate() {
            let p = p.get_ref();
            if let Some(name) = &p.name {
                match index.get(name.get_ref()) {
                    Some(&j) if j != i => {
                        let other = raw
                            .get(j)
                            .map_or("?", |o| o.get_ref().id.get_ref().as_str());
                        self.err(
                            &name.span(),
                            format!(
                                "privilege name `{}` is already used by `{other}`",
                                name.get_ref()
                            ),
                        );
                    }
                    _ => {
                        if sections.iter().any(|s| &s.id == name.get_ref()) {
                            self.err(
                                &name.span(),
                                format!("privilege name `{}` is a section id", name.get_ref()),
                            );
                        }
                        index.insert(name.get_ref().clone(), i);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for p in raw {
            let p = p.get_ref();
            let id = p.id.get_ref();
            let parent = match &p.parent {
                None => {
                    self.err(
                        &p.id.span(),
                        format!("privilege `{id}` needs a `parent` (a section or a privilege)"),
                    );
                    Parent::Section(0)
                }
                Some(par) => match (
                    index.get(par.get_ref()),
                    sections
                        .iter()
                        .position(|s| &s.id == par.get_ref() || &s.name == par.get_ref()),
                ) {
                    (Some(&q), _) => Parent::Privilege(q),
                    (None, Some(s)) => Parent::Section(s),
                    (None, None) => {
                        self.err(
                            &par.span(),
                            format!(
                                "unknown parent `{}`: not a section or a privilege",
                                par.get_ref()
                            ),
                        );
                        Parent::Section(0)
                    }
                },
            };
            let kind = self.privilege_kind(p);
            out.push(Privilege {
                id: id.clone(),
                name: p
                    .name
                    .as_ref()
                    .map_or_else(|| id.clone(), |n| n.get_ref().clone()),
                description: p.description.clone(),
                parent,
                kind,
                children: Vec::new(),
            });
        }
        // Children lists, parent cycles, and which kinds may have children.
        for i in 0..out.len() {
            if let Some(Parent::Privilege(q)) = out.get(i).map(|p| p.parent)
                && let Some(parent) = out.get_mut(q)
            {
                parent.children.push(i);
            }
        }
        for (i, rp) in raw.iter().enumerate() {
            let mut cur = i;
            let mut steps = 0;
            while let Some(Parent::Privilege(q)) = out.get(cur).map(|p| p.parent) {
                steps += 1;
                if q == i || steps > out.len() {
                    self.err(
                        &rp.get_ref().id.span(),
                        format!(
                            "privilege `{}` is its own ancestor",
                            rp.get_ref().id.get_ref()
                        ),
                    );
                    break;
                }
                cur = q;
            }
            if let Some(p) = out.get(i)
                && !p.children.is_empty()
                && matches!(p.kind, PrivKind::Choice { .. } | PrivKind::Number { .. })
            {
                self.err(
                    &rp.get_ref().id.span(),
                    format!(
                        "`{}` is a {} privilege and cannot have children",
                        p.id,
                        p.kind.name()
                    ),
                );
            }
        }
        (out, index)
    }

    fn privilege_kind(&mut self, p: &RawPrivilege) -> PrivKind {
        let id = p.id.get_ref();
        let kind = p.kind.as_ref().map_or("flag", |k| k.get_ref().as_str());
        let kind_span = p.kind.as_ref().map_or_else(|| p.id.span(), |k| k.span());
        if !matches!(kind, "flag" | "levels" | "choice" | "number") {
            self.err(&kind_span, format!("unknown privilege kind `{kind}`; expected `flag`, `levels`, `choice` or `number`"));
            return PrivKind::Flag;
        }
        let stray = |l: &mut Self, present: bool, key: &str| {
            if present {
                l.err(
                    &p.id.span(),
                    format!("`{key}` does not apply to a {kind} privilege (`{id}`)"),
                );
            }
        };
        if kind != "levels" {
            stray(self, p.levels.is_some(), "levels");
        }
        if kind != "choice" {
            stray(self, p.choices.is_some(), "choices");
            stray(self, p.includes.is_some(), "includes");
            stray(self, p.multiple.is_some(), "multiple");
        }
        if kind != "number" {
            stray(self, p.min.is_some(), "min");
            stray(self, p.max.is_some(), "max");
            stray(self, p.default.is_some(), "default");
            stray(self, p.unit.is_some(), "unit");
        }
        match kind {
            "flag" => PrivKind::Flag,
            "levels" => {
                let levels = p
                    .levels
                    .as_ref()
                    .map(|l| l.get_ref().clone())
                    .unwrap_or_default();
                let span = p.levels.as_ref().map_or_else(|| p.id.span(), |l| l.span());
                self.nonempty_unique(&levels, &span, id, "levels");
                PrivKind::Levels(levels)
            }
            "choice" => {
                let choices = p
                    .choices
                    .as_ref()
                    .map(|l| l.get_ref().clone())
                    .unwrap_or_default();
                let span = p.choices.as_ref().map_or_else(|| p.id.span(), |l| l.span());
                self.nonempty_unique(&choices, &span, id, "choices");
                let mut direct: Vec<Vec<usize>> = (0..choices.len()).map(|i| vec![i]).collect();
                for (from, tos) in p.includes.iter().flatten() {
                    let Some(f) = choices.iter().position(|c| c == from.get_ref()) else {
                        self.err(
                            &from.span(),
                            format!(
                                "unknown choice `{}`; expected one of {}",
                                from.get_ref(),
                                quoted(&choices)
                            ),
                        );
                        continue;
                    };
                    for to in tos.get_ref() {
                        match choices.iter().position(|c| c == to) {
                            Some(t) => {
                                if let Some(d) = direct.get_mut(f) {
                                    d.push(t);
                                }
                            }
                            None => self.err(
                                &tos.span(),
                                format!(
                                    "unknown choice `{to}`; expected one of {}",
                                    quoted(&choices)
                                ),
                            ),
                        }
                    }
                }
                // Transitive closure (choices are few).
                let mut implies = direct.clone();
                loop {
                    let mut changed = false;
                    for i in 0..implies.len() {
                        let reach: Vec<usize> = implies.get(i).cloned().unwrap_or_default();
                        for r in reach {
                            let more: Vec<usize> = direct.get(r).cloned().unwrap_or_default();
                            if let Some(set) = implies.get_mut(i) {
                                for m in more {
                                    if !set.contains(&m) {
                                        set.push(m);
                                        changed = true;
                                    }
                                }
                            }
                        }
                    }
                    if !changed {
                        break;
                    }
                }
                for set in &mut implies {
                    set.sort_unstable();
                }
                direct.clear();
                PrivKind::Choice {
                    choices,
                    implies,
                    multiple: p.multiple.unwrap_or(false),
                }
            }
            "number" => {
                let min = p.min.unwrap_or(0);
                let max = p.max.unwrap_or(i64::MAX);
                if min > max {
                    self.err(
                        &p.id.span(),
                        format!("`{id}`: min {min} is greater than max {max}"),
                    );
                }
                let default = p.default.as_ref().map_or(min, |d| *d.get_ref());
                if default < min || default > max {
                    let span = p.default.as_ref().map_or_else(|| p.id.span(), |d| d.span());
                    self.err(
                        &span,
                        format!("`{id}`: default {default} is outside {min}..={max}"),
                    );
                }
                PrivKind::Number {
                    min,
                    max,
                    default,
                    unit: p.unit.clone(),
                }
            }
            other => {
                self.err(&kind_span, format!("unknown privilege kind `{other}`; expected `flag`, `levels`, `choice` or `number`"));
                PrivKind::Flag
            }
        }
    }

    fn nonempty_unique(&mut self, items: &[String], span: &Range<usize>, id: &str, what: &str) {
        if items.is_empty() {
            self.err(span, format!("`{id}` needs at least one entry in `{what}`"));
        }
        for (i, x) in items.iter().enumerate() {
            if items.iter().take(i).any(|y| y == x) {
                self.err(span, format!("`{id}` lists `{x}` twice in `{what}`"));
            }
        }
    }

    fn grants(&mut self, p: &Profile, raw: &RawGrants) -> Grants {
        let mut out: Grants = Vec::new();
        for (key, value) in raw {
            let Some(q) = p.privilege(key.get_ref()) else {
                self.err(
                    &key.span(),
                    format!("unknown privilege `{}`", key.get_ref()),
                );
                continue;
            };
            if out.iter().any(|(x, _)| *x == q) {
                self.err(
                    &key.span(),
                    format!("privilege `{}` is listed twice", key.get_ref()),
                );
                continue;
            }
            match resolve_grant(p, q, &value.get_ref().into()) {
                Ok(v) => out.push((q, v)),
                Err(m) => self.err(&value.span(), m),
            }
        }
        out.sort_by_key(|(q, _)| *q);
        out
    }

    fn role_types(&mut self, p: &Profile, raw: &[Spanned<RawRoleType>]) -> Vec<RoleType> {
        self.unique(raw.iter().map(|r| &r.get_ref().id), "role type");
        let mut out = Vec::new();
        for rt in raw {
            let rt = rt.get_ref();
            // A cap names privileges (each with its subtree) or whole sections.
            let cap = rt.cap.as_ref().map(|cap| {
                let mut out = Vec::new();
                for c in cap {
                    if let Some(q) = p.privilege(c.get_ref()) {
                        out.push(q);
                    } else if let Some(si) = p
                        .sections
                        .iter()
                        .position(|s| &s.id == c.get_ref() || &s.name == c.get_ref())
                    {
                        out.extend(
                            p.privileges
                                .iter()
                                .enumerate()
                                .filter(|(_, x)| x.parent == Parent::Section(si))
                                .map(|(i, _)| i),
                        );
                    } else {
                        self.err(
                            &c.span(),
                            format!("unknown privilege or section `{}` in `cap`", c.get_ref()),
                        );
                    }
                }
                out
            });
            let locked = self.grants(p, &rt.locked);
            let defaults = self.grants(p, &rt.defaults);
            if let Some(cap) = &cap {
                let allowed: Vec<PrivId> = cap.iter().flat_map(|c| p.subtree(*c)).collect();
                for (raw_map, grants) in [(&rt.locked, &locked), (&rt.defaults, &defaults)] {
                    for (q, v) in grants {
                        if *v != GrantValue::Off && !allowed.contains(q) {
                            let name = p.privileges.get(*q).map_or("?", |x| x.name.as_str());
                            let span = raw_map
                                .keys()
                                .find(|k| p.privilege(k.get_ref()) == Some(*q))
                                .map_or_else(|| rt.id.span(), |k| k.span());
                            self.err(
                                &span,
                                format!(
                                    "`{name}` is outside the cap of role type `{}`",
                                    rt.id.get_ref()
                                ),
                            );
                        }
                    }
                }
            }
            out.push(RoleType {
                id: rt.id.get_ref().clone(),
                name: rt.name.clone().unwrap_or_else(|| rt.id.get_ref().clone()),
                cap,
                locked,
                defaults,
            });
        }
        out
    }

    fn roles(&mut self, p: &Profile, raw: &[Spanned<RawRole>]) -> Vec<RoleDef> {
        self.unique(raw.iter().map(|r| &r.get_ref().id), "role");
        let mut out = Vec::new();
        for r in raw {
            let r = r.get_ref();
            match resolve_role(p, &r.spec()) {
                Ok(def) => out.push(def),
                Err(problems) => {
                    for pr in problems {
                        self.err(&r.span_of(&pr.field), pr.message);
                    }
                }
            }
            for inc in &r.includes {
                if !raw
                    .iter()
                    .any(|x| x.get_ref().id.get_ref() == inc.get_ref())
                {
                    self.err(
                        &inc.span(),
                        format!("unknown role `{}` in `includes`", inc.get_ref()),
                    );
                }
            }
        }
        // Inclusion cycles among templates.
        for r in raw {
            let r = r.get_ref();
            if includes_cycle(r.id.get_ref(), &|id| {
                raw.iter()
                    .find(|x| x.get_ref().id.get_ref() == id)
                    .map(|x| {
                        x.get_ref()
                            .includes
                            .iter()
                            .map(|s| s.get_ref().clone())
                            .collect()
                    })
                    .unwrap_or_default()
            }) {
                self.err(
                    &r.id.span(),
                    format!(
                        "role `{}` includes itself through `includes`",
                        r.id.get_ref()
                    ),
                );
            }
        }
        out
    }

    /// Parses and resolves an expression held in a TOML string.
    fn expression(
        &mut self,
        p: &Profile,
        text: &Spanned<String>,
        resource: TypeId,
    ) -> Option<crate::expr::resolved::Expr> {
        let base = string_content_start(self.src.text, &text.span());
        let ast = match expr::parse(text.get_ref()) {
            Ok(a) => a,
            Err(e) => {
                self.err(&((base + e.span.start)..(base + e.span.end)), e.message);
                return None;
            }
        };
        match (Resolver {
            profile: p,
            resource,
        })
        .expr(&ast)
        {
            Ok(x) => Some(x),
            Err((m, span)) => {
                self.err(&((base + span.start)..(base + span.end)), m);
                None
            }
        }
    }

    fn actions(&mut self, p: &Profile, raw: &[Spanned<RawAction>]) -> Vec<Action> {
        self.unique(raw.iter().map(|a| &a.get_ref().id), "action");
        let type_ids: Vec<String> = p.types.iter().map(|t| t.id.clone()).collect();
        let mut out = Vec::new();
        for a in raw {
            let a = a.get_ref();
            let Some(resource) = p.type_id(a.resource.get_ref()) else {
                self.err(
                    &a.resource.span(),
                    format!(
                        "unknown resource type `{}`; expected one of {}",
                        a.resource.get_ref(),
                        quoted(&type_ids)
                    ),
                );
                continue;
            };
            let Some(requires) = self.expression(p, &a.requires, resource) else {
                continue;
            };
            if a.obligations.len() > 64 {
                self.err(
                    &a.id.span(),
                    format!("action `{}` has more than 64 obligations", a.id.get_ref()),
                );
            }
            let mut obligations = Vec::new();
            for o in &a.obligations {
                let o = o.get_ref();
                self.check_id(&o.id, "obligation");
                if let Some(when) = self.expression(p, &o.when, resource) {
                    obligations.push(Obligation {
                        id: o.id.get_ref().clone(),
                        description: o.description.clone(),
                        when,
                        when_text: o.when.get_ref().trim().to_owned(),
                    });
                }
            }
            out.push(Action {
                id: a.id.get_ref().clone(),
                name: a.name.clone().unwrap_or_else(|| a.id.get_ref().clone()),
                menu: a.menu.clone(),
                description: a.description.clone(),
                sensitive: a.sensitive,
                resource,
                requires,
                requires_text: a.requires.get_ref().trim().to_owned(),
                obligations,
            });
        }
        out
    }

    fn management(
        &mut self,
        p: &Profile,
        raw: &BTreeMap<Spanned<String>, Spanned<String>>,
    ) -> Vec<(String, ActionId)> {
        let mut out = Vec::new();
        for (op, action) in raw {
            if !MANAGEMENT_OPS.iter().any(|(o, _)| o == op.get_ref()) {
                let known: Vec<String> = MANAGEMENT_OPS
                    .iter()
                    .map(|(o, _)| (*o).to_owned())
                    .collect();
                self.err(
                    &op.span(),
                    format!(
                        "unknown management operation `{}`; expected one of {}",
                        op.get_ref(),
                        quoted(&known)
                    ),
                );
                continue;
            }
            match p.action(action.get_ref()) {
                Some(a) => out.push((op.get_ref().clone(), a)),
                None => self.err(
                    &action.span(),
                    format!("unknown action `{}`", action.get_ref()),
                ),
            }
        }
        out
    }

    fn invariants(&mut self, p: &Profile, raw: &[Spanned<RawInvariant>]) -> Vec<Invariant> {
        let mut out = Vec::new();
        for i in raw {
            let i = i.get_ref();
            if i.kind.get_ref() != "monotonic" {
                self.err(
                    &i.kind.span(),
                    format!(
                        "unknown invariant kind `{}`; expected `monotonic`",
                        i.kind.get_ref()
                    ),
                );
                continue;
            }
            let Some(ty) = p.type_id(i.ty.get_ref()) else {
                self.err(
                    &i.ty.span(),
                    format!("unknown resource type `{}`", i.ty.get_ref()),
                );
                continue;
            };
            let attr = p
                .types
                .get(ty)
                .and_then(|t| t.attribute(i.attribute.get_ref()));
            let Some(attr) = attr else {
                self.err(
                    &i.attribute.span(),
                    format!(
                        "`{}` has no attribute `{}`",
                        i.ty.get_ref(),
                        i.attribute.get_ref()
                    ),
                );
                continue;
            };
            if p.attr_def(ty, attr)
                .and_then(|d| d.values.as_ref())
                .is_none()
            {
                self.err(
                    &i.attribute.span(),
                    format!(
                        "a monotonic attribute needs ordered `values`; `{}` has none",
                        i.attribute.get_ref()
                    ),
                );
                continue;
            }
            out.push(Invariant::Monotonic {
                ty,
                attr,
                reason: i.reason.clone(),
            });
        }
        out
    }

    fn sod_rules(&mut self, p: &Profile, raw: &[Spanned<SodRule>]) -> Vec<SodRule> {
        let mut out = Vec::new();
        for r in raw {
            match crate::profile::sod::validate_rule(p, r.get_ref()) {
                Ok(()) => out.push(r.get_ref().clone()),
                Err(m) => self.err(&r.span(), m),
            }
        }
        out
    }

    fn appointments(&mut self, p: &Profile, raw: &[Spanned<RawAppointment>]) -> Vec<Appointment> {
        let mut out: Vec<Appointment> = Vec::new();
        for a in raw {
            let a = a.get_ref();
            for r in std::iter::once(&a.role).chain(a.by.iter()) {
                if p.role(r.get_ref()).is_none() {
                    self.err(&r.span(), format!("unknown role `{}`", r.get_ref()));
                }
            }
            if out.iter().any(|x| &x.role == a.role.get_ref()) {
                self.err(
                    &a.role.span(),
                    format!("a second appointment rule for role `{}`", a.role.get_ref()),
                );
            }
            let mut scope_kinds = Vec::new();
            for k in &a.scope_kinds {
                if k.get_ref() == "tenant" {
                    scope_kinds.push(ScopeKind::Tenant);
                } else if let Some(i) = p.org_kind(k.get_ref()) {
                    scope_kinds.push(ScopeKind::OrgKind(i));
                } else {
                    self.err(
                        &k.span(),
                        format!(
                            "unknown scope kind `{}`: expected `tenant` or an org unit kind",
                            k.get_ref()
                        ),
                    );
                }
            }
            let target = a
                .target
                .as_ref()
                .and_then(|t| self.expression(p, t, ORG_UNIT));
            out.push(Appointment {
                role: a.role.get_ref().clone(),
                by: a.by.iter().map(|s| s.get_ref().clone()).collect(),
                scope_kinds,
                target,
                target_text: a.target.as_ref().map(|t| t.get_ref().trim().to_owned()),
            });
        }
        out
    }
}

fn quoted_str(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn zero(ty: ValueType) -> Value {
    match ty {
        ValueType::Bool => Value::Bool(false),
        ValueType::Int => Value::Int(0),
        ValueType::Str => Value::Str(String::new()),
    }
}

/// Whether following `includes` from `start` comes back to `start`.
pub(crate) fn includes_cycle(start: &str, includes_of: &dyn Fn(&str) -> Vec<String>) -> bool {
    let mut stack = includes_of(start);
    let mut seen: Vec<String> = Vec::new();
    while let Some(r) = stack.pop() {
        if r == start {
            return true;
        }
        if seen.contains(&r) {
            continue;
        }
        stack.extend(includes_of(&r));
        seen.push(r);
    }
    false
}
