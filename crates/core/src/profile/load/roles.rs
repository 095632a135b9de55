//! Grants, role types and role templates: grant tables resolved against the catalog,
//! role types with their cap (which their locked and default grants must stay
//! within), and role templates, whose `includes` may not form a cycle.

use rustc_hash::{FxHashMap, FxHashSet};
use toml::Spanned;

use super::Loader;
use crate::profile::model::{Parent, PrivId, Profile, RoleType};
use crate::profile::raw::{RawGrants, RawRole, RawRoleType};
use crate::profile::{GrantValue, Grants, RoleDef, resolve_grant, resolve_role};

impl Loader<'_> {
    /// A grant table: known privileges, each once, with values that fit their kind;
    /// sorted by privilege.
    fn grants(&mut self, p: &Profile, raw: &RawGrants) -> Grants {
        let mut out: Grants = Vec::new();
        let mut seen: FxHashSet<PrivId> = FxHashSet::default();
        for (key, value) in raw {
            let Some(q) = p.privilege(key.get_ref()) else {
                self.err(
                    &key.span(),
                    format!("unknown privilege `{}`", key.get_ref()),
                );
                continue;
            };
            if !seen.insert(q) {
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

    /// The role types, each with its cap, locked grants and default grants.
    pub(super) fn role_types(
        &mut self,
        p: &Profile,
        raw: &[Spanned<RawRoleType>],
    ) -> Vec<RoleType> {
        self.unique(raw.iter().map(|r| &r.get_ref().id), "role type");
        // Each section's top privileges, for caps that name sections.
        let mut tops: Vec<Vec<PrivId>> = vec![Vec::new(); p.sections.len()];
        for (q, x) in p.privileges.iter().enumerate() {
            if let Parent::Section(si) = x.parent
                && let Some(t) = tops.get_mut(si)
            {
                t.push(q);
            }
        }
        let mut out = Vec::new();
        for rt in raw {
            let rt = rt.get_ref();
            let cap = rt.cap.as_ref().map(|cap| self.cap(p, cap, &tops));
            let locked = self.grants(p, &rt.locked);
            let defaults = self.grants(p, &rt.defaults);
            if let Some(cap) = &cap {
                self.check_within_cap(p, rt, cap, &locked, &defaults);
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

    /// A cap names privileges (each with its subtree) or whole sections; returns the
    /// privileges named and the top privileges of the sections named.
    fn cap(&mut self, p: &Profile, cap: &[Spanned<String>], tops: &[Vec<PrivId>]) -> Vec<PrivId> {
        let mut out = Vec::new();
        for c in cap {
            if let Some(q) = p.privilege(c.get_ref()) {
                out.push(q);
            } else if let Some(si) = p
                .sections
                .iter()
                .position(|s| &s.id == c.get_ref() || &s.name == c.get_ref())
            {
                out.extend(tops.get(si).into_iter().flatten().copied());
            } else {
                self.err(
                    &c.span(),
                    format!("unknown privilege or section `{}` in `cap`", c.get_ref()),
                );
            }
        }
        out
    }

    /// Reports every locked or default grant (other than off) outside the cap.
    fn check_within_cap(
        &mut self,
        p: &Profile,
        rt: &RawRoleType,
        cap: &[PrivId],
        locked: &Grants,
        defaults: &Grants,
    ) {
        let mut allowed = vec![false; p.privileges.len()];
        for q in cap.iter().flat_map(|c| p.subtree(*c)) {
            if let Some(a) = allowed.get_mut(q) {
                *a = true;
            }
        }
        for (raw_map, grants) in [(&rt.locked, locked), (&rt.defaults, defaults)] {
            for (q, v) in grants {
                if *v != GrantValue::Off && !allowed.get(*q).copied().unwrap_or(false) {
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

    /// The role templates, each resolved; included templates must exist and
    /// inclusion may not come back to a template.
    pub(super) fn roles(&mut self, p: &Profile, raw: &[Spanned<RawRole>]) -> Vec<RoleDef> {
        self.unique(raw.iter().map(|r| &r.get_ref().id), "role");
        let mut index: FxHashMap<&str, usize> = FxHashMap::default();
        for (i, r) in raw.iter().enumerate() {
            index.entry(r.get_ref().id.get_ref().as_str()).or_insert(i);
        }
        let mut out = Vec::new();
        let mut adj: Vec<Vec<usize>> = Vec::with_capacity(raw.len());
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
            let mut edges = Vec::with_capacity(r.includes.len());
            for inc in &r.includes {
                match index.get(inc.get_ref().as_str()) {
                    Some(&j) => edges.push(j),
                    None => self.err(
                        &inc.span(),
                        format!("unknown role `{}` in `includes`", inc.get_ref()),
                    ),
                }
            }
            adj.push(edges);
        }
        self.check_inclusion_cycles(raw, &adj);
        out
    }

    /// Reports every template that includes itself through `includes` (a role that
    /// names itself is reported when resolved), with the cycle at the first template
    /// of each. Linear in the number of templates and inclusions.
    fn check_inclusion_cycles(&mut self, raw: &[Spanned<RawRole>], adj: &[Vec<usize>]) {
        let comp = crate::graph::components(adj);
        let on_cycle = crate::graph::on_cycles(adj, &comp);
        let mut shown: FxHashSet<usize> = FxHashSet::default();
        for (i, r) in raw.iter().enumerate() {
            let r = r.get_ref();
            let own = adj.get(i).is_some_and(|e| e.contains(&i));
            if own || !on_cycle.get(i).copied().unwrap_or(false) {
                continue;
            }
            let c = comp.get(i).copied().unwrap_or(usize::MAX);
            let cycle = if shown.insert(c) {
                let ids: Vec<String> = crate::graph::cycle_through(adj, &comp, i)
                    .iter()
                    .filter_map(|&j| {
                        raw.get(j)
                            .map(|x| format!("`{}`", x.get_ref().id.get_ref()))
                    })
                    .collect();
                format!(" ({})", ids.join(" → "))
            } else {
                String::new()
            };
            self.err(
                &r.id.span(),
                format!(
                    "role `{}` includes itself through `includes`{cycle}",
                    r.id.get_ref()
                ),
            );
        }
    }
}
