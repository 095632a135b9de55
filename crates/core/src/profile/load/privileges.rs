//! The privilege catalog: sections, then privileges found by id or display name,
//! each under a section or a parent privilege. The parent links must form a tree,
//! and only flag and levels privileges may have children.

use rustc_hash::FxHashMap;
use toml::Spanned;

use super::Loader;
use crate::profile::limits::MAX_PRIVILEGE_DEPTH;
use crate::profile::model::{Parent, PrivId, PrivKind, Privilege, Section};
use crate::profile::raw::{RawPrivilege, RawSection};

impl Loader<'_> {
    /// The sections; section and privilege ids share one namespace.
    pub(super) fn sections(
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

    /// The privileges, with the index that finds them by id or display name.
    pub(super) fn privileges(
        &mut self,
        raw: &[Spanned<RawPrivilege>],
        sections: &[Section],
    ) -> (Vec<Privilege>, FxHashMap<String, PrivId>) {
        let index = self.privilege_index(raw, sections);
        let mut out = Vec::new();
        for p in raw {
            let p = p.get_ref();
            let id = p.id.get_ref();
            let parent = self.privilege_parent(p, &index, sections);
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
                restriction: p.restriction.as_ref().is_some_and(|r| *r.get_ref()),
            });
        }
        link_children(&mut out);
        self.check_tree(&out, raw);
        for (i, rp) in raw.iter().enumerate() {
            self.check_may_have_children(&out, i, rp.get_ref());
            self.check_restriction(&out, i, rp.get_ref());
        }
        (out, index)
    }

    /// Privileges by id, then by display name; a name may not be another privilege's
    /// id or name, nor a section id.
    fn privilege_index(
        &mut self,
        raw: &[Spanned<RawPrivilege>],
        sections: &[Section],
    ) -> FxHashMap<String, PrivId> {
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
        index
    }

    /// A privilege's `parent`: a privilege (by id or name), else a section (by id or
    /// name). A missing or unknown parent is reported and read as the first section.
    fn privilege_parent(
        &mut self,
        p: &RawPrivilege,
        index: &FxHashMap<String, PrivId>,
        sections: &[Section],
    ) -> Parent {
        let Some(par) = &p.parent else {
            self.err(
                &p.id.span(),
                format!(
                    "privilege `{}` needs a `parent` (a section or a privilege)",
                    p.id.get_ref()
                ),
            );
            return Parent::Section(0);
        };
        match (
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
        }
    }

    /// Reports every privilege that is its own ancestor, and every privilege one level
    /// deeper than [`MAX_PRIVILEGE_DEPTH`] (once per subtree that is too deep). One
    /// linear walk, however deep the tree.
    fn check_tree(&mut self, out: &[Privilege], raw: &[Spanned<RawPrivilege>]) {
        let parent = |i: PrivId| match out.get(i).map(|p| p.parent) {
            Some(Parent::Privilege(q)) => Some(q),
            _ => None,
        };
        let walk = crate::graph::depths(out.len(), parent);
        for (i, rp) in raw.iter().enumerate() {
            let rp = rp.get_ref();
            if walk.on_cycle.get(i).copied().unwrap_or(false) {
                self.err(
                    &rp.id.span(),
                    format!("privilege `{}` is its own ancestor", rp.id.get_ref()),
                );
            } else if walk.depth.get(i).copied().flatten() == Some(MAX_PRIVILEGE_DEPTH + 1) {
                let id = |q: PrivId| out.get(q).map_or("?", |p| p.id.as_str());
                let mut chain = vec![i];
                while let Some(q) = chain.last().and_then(|&c| parent(c)) {
                    chain.push(q);
                }
                let top = chain.last().map_or("?", |&q| id(q));
                let under = parent(i).map_or("?", id);
                self.err(
                    &rp.id.span(),
                    format!(
                        "privilege tree deeper than {MAX_PRIVILEGE_DEPTH} levels (`{top}` > … > `{under}` > `{}`)",
                        rp.id.get_ref()
                    ),
                );
            }
        }
    }

    /// Reports privilege `i` when it has children but is a choice or number privilege.
    fn check_may_have_children(&mut self, out: &[Privilege], i: PrivId, rp: &RawPrivilege) {
        if let Some(p) = out.get(i)
            && !p.children.is_empty()
            && matches!(p.kind, PrivKind::Choice { .. } | PrivKind::Number { .. })
        {
            self.err(
                &rp.id.span(),
                format!(
                    "`{}` is a {} privilege and cannot have children",
                    p.id,
                    p.kind.name()
                ),
            );
        }
    }
}

impl Loader<'_> {
    /// A restriction is a flag directly under a section, with no children: a parent
    /// never imposes it, and it imposes nothing below it.
    fn check_restriction(&mut self, out: &[Privilege], i: PrivId, rp: &RawPrivilege) {
        let Some(p) = out.get(i).filter(|p| p.restriction) else {
            return;
        };
        let problem = if !matches!(p.kind, PrivKind::Flag) {
            Some("a restriction must be a flag privilege")
        } else if matches!(p.parent, Parent::Privilege(_)) {
            Some("a restriction must sit directly under a section (no parent may impose it)")
        } else if !p.children.is_empty() {
            Some("a restriction cannot have children")
        } else {
            None
        };
        if let Some(m) = problem {
            let span = rp.restriction.as_ref().map_or(rp.id.span(), |r| r.span());
            self.err(&span, format!("`{}`: {m}", p.id));
        }
    }
}

/// Fills each privilege's `children` from the others' parents.
fn link_children(out: &mut [Privilege]) {
    for i in 0..out.len() {
        if let Some(Parent::Privilege(q)) = out.get(i).map(|p| p.parent)
            && let Some(parent) = out.get_mut(q)
        {
            parent.children.push(i);
        }
    }
}
