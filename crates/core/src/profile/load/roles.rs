//! Grants, role types and role templates: grant tables resolved against the catalog,
//! role types with their cap (which their locked and default grants must stay
//! within), and role templates, whose `includes` may not form a cycle.

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

    /// The role types, each with its cap, locked grants and default grants.
    pub(super) fn role_types(
        &mut self,
        p: &Profile,
        raw: &[Spanned<RawRoleType>],
    ) -> Vec<RoleType> {
        self.unique(raw.iter().map(|r| &r.get_ref().id), "role type");
        let mut out = Vec::new();
        for rt in raw {
            let rt = rt.get_ref();
            let cap = rt.cap.as_ref().map(|cap| self.cap(p, cap));
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
    fn cap(&mut self, p: &Profile, cap: &[Spanned<String>]) -> Vec<PrivId> {
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
        let allowed: Vec<PrivId> = cap.iter().flat_map(|c| p.subtree(*c)).collect();
        for (raw_map, grants) in [(&rt.locked, locked), (&rt.defaults, defaults)] {
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

    /// The role templates, each resolved; included templates must exist and
    /// inclusion may not come back to a template.
    pub(super) fn roles(&mut self, p: &Profile, raw: &[Spanned<RawRole>]) -> Vec<RoleDef> {
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
        self.check_inclusion_cycles(raw);
        out
    }

    /// Reports every template that includes itself through `includes`.
    fn check_inclusion_cycles(&mut self, raw: &[Spanned<RawRole>]) {
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
    }
}

/// Whether following `includes` from `start` comes back to `start`.
fn includes_cycle(start: &str, includes_of: &dyn Fn(&str) -> Vec<String>) -> bool {
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
