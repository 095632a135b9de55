//! Custom roles that a tenant's admins might make: senior, limited and "all queues"
//! copies of the agent-like, supervisor-like and administrative templates, each
//! respecting its role type's cap; and which template plays which part.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashSet};

use rand::seq::IndexedRandom;
use rolecall_core::profile::{GrantSpec, GrantValue, PrivId, PrivKind, RoleDef, RoleSpec};

use super::Demo;

/// The custom roles and which template plays which part.
#[derive(Debug, Default)]
pub(super) struct Roles {
    pub(super) customs: Vec<RoleSpec>,
    /// The agent-like template.
    pub(super) agent: Option<usize>,
    /// The supervisor-like template.
    pub(super) supervisor: Option<usize>,
    /// The well-known admin's templates, most powerful first.
    pub(super) admin_set: Vec<usize>,
    pub(super) senior_agent: Option<String>,
    pub(super) limited_agent: Option<String>,
    pub(super) senior_supervisor: Option<String>,
    pub(super) limited_supervisor: Option<String>,
    /// The supervisor-like template with its role type's defaults turned off.
    pub(super) open_supervisor: Option<String>,
    /// A limited copy of an administrative template, and that template.
    pub(super) limited_admin: Option<(String, usize)>,
}

impl Demo<'_> {
    /// Every privilege a template holds: its own grants, its type's defaults and
    /// locked grants, its included templates, and the subtrees of what it holds at the
    /// top.
    fn closure(&self, role: &RoleDef) -> BTreeSet<PrivId> {
        let p = self.p;
        let mut held = BTreeSet::new();
        let mut top = BTreeSet::new();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut stack = vec![role];
        while let Some(r) = stack.pop() {
            if !seen.insert(r.id.as_str()) {
                continue;
            }
            for (q, v) in r.direct_grants(p) {
                held.insert(q);
                let at_top = match (&v, p.privileges.get(q).map(|x| &x.kind)) {
                    (GrantValue::On, Some(PrivKind::Flag)) => true,
                    (GrantValue::Level(l), Some(PrivKind::Levels(ls))) => *l + 1 == ls.len(),
                    _ => false,
                };
                if at_top {
                    top.insert(q);
                }
            }
            stack.extend(r.includes.iter().filter_map(|i| p.role(i)));
        }
        for q in top {
            held.extend(p.subtree(q));
        }
        held
    }

    /// A grant as written, by privilege id.
    fn spec_of(&self, q: PrivId, v: &GrantValue) -> Option<(String, GrantSpec)> {
        let x = self.p.privileges.get(q)?;
        let spec = match (v, &x.kind) {
            (GrantValue::Off, _) => GrantSpec::Bool(false),
            (GrantValue::On, _) => GrantSpec::Bool(true),
            (GrantValue::Level(l), PrivKind::Levels(ls)) => GrantSpec::Str(ls.get(*l)?.clone()),
            (GrantValue::Choices(cs), PrivKind::Choice { choices, .. }) => {
                let names: Vec<String> =
                    cs.iter().filter_map(|c| choices.get(*c).cloned()).collect();
                match names.as_slice() {
                    [one] => GrantSpec::Str(one.clone()),
                    [] => return None,
                    _ => GrantSpec::List(names),
                }
            }
            (GrantValue::Number(n), _) => GrantSpec::Int(*n),
            _ => return None,
        };
        Some((x.id.clone(), spec))
    }

    /// The lowest grant of a privilege: a flag on, the first level or choice, the
    /// default number.
    fn lowest_grant(&self, q: PrivId) -> Option<(String, GrantSpec)> {
        let x = self.p.privileges.get(q)?;
        let spec = match &x.kind {
            PrivKind::Flag => GrantSpec::Bool(true),
            PrivKind::Levels(ls) => GrantSpec::Str(ls.first()?.clone()),
            PrivKind::Choice { choices, .. } => GrantSpec::Str(choices.first()?.clone()),
            PrivKind::Number { default, .. } => GrantSpec::Int(*default),
        };
        Some((x.id.clone(), spec))
    }

    fn role_id_free(&self, id: &str, customs: &[RoleSpec]) -> String {
        let taken = |x: &str| self.p.role(x).is_some() || customs.iter().any(|r| r.id == x);
        if !taken(id) {
            return id.to_owned();
        }
        (2..)
            .map(|n| format!("{id}_{n}"))
            .find(|x| !taken(x))
            .unwrap_or_else(|| id.to_owned())
    }

    /// `Senior <T>`: the template plus two privileges from the next role up (or, for a
    /// capped role type, from inside the cap).
    fn senior(
        &mut self,
        t: usize,
        next: Option<usize>,
        customs: &mut Vec<RoleSpec>,
    ) -> Option<String> {
        let p = self.p;
        let tmpl = p.roles.get(t)?;
        let have = self.closure(tmpl);
        let cap = tmpl
            .role_type
            .and_then(|i| p.role_types.get(i))
            .and_then(|rt| rt.cap.as_ref());
        let pool: BTreeSet<PrivId> = match cap {
            Some(cap) => cap.iter().flat_map(|c| p.subtree(*c)).collect(),
            None => next
                .and_then(|n| p.roles.get(n))
                .map(|r| self.closure(r))
                .unwrap_or_default(),
        };
        let candidates: Vec<PrivId> = pool.difference(&have).copied().collect();
        let mut picked: Vec<PrivId> = candidates
            .choose_multiple(&mut self.rng, 2)
            .copied()
            .collect();
        picked.sort_unstable();
        let grants: Vec<(String, GrantSpec)> = picked
            .iter()
            .filter_map(|&q| self.lowest_grant(q))
            .collect();
        if grants.is_empty() {
            return None;
        }
        let names: Vec<String> = picked
            .iter()
            .filter_map(|&q| p.privileges.get(q).map(|x| x.name.clone()))
            .collect();
        let id = self.role_id_free(&format!("senior_{}", tmpl.id), customs);
        customs.push(RoleSpec {
            id: id.clone(),
            name: Some(format!("Senior {}", tmpl.name)),
            description: Some(format!(
                "Demo custom role: {} plus {}.",
                tmpl.name,
                names.join(" and ")
            )),
            role_type: tmpl
                .role_type
                .and_then(|i| p.role_types.get(i))
                .map(|x| x.id.clone()),
            includes: vec![tmpl.id.clone()],
            grants,
            locked: Vec::new(),
        });
        Some(id)
    }

    /// A copy of template `t` (same type, same includes and locked grants) with
    /// `grants` instead of its own; `[suffix, label, why]` name and describe it.
    fn variant(
        &self,
        t: usize,
        [suffix, label, why]: [&str; 3],
        grants: Vec<(PrivId, GrantValue)>,
        customs: &mut Vec<RoleSpec>,
    ) -> Option<String> {
        let p = self.p;
        let tmpl = p.roles.get(t)?;
        let grants: Vec<(String, GrantSpec)> = grants
            .iter()
            .filter_map(|(q, v)| self.spec_of(*q, v))
            .collect();
        let locked = tmpl
            .locked
            .iter()
            .filter_map(|(q, v)| self.spec_of(*q, v))
            .collect();
        let id = self.role_id_free(&format!("{}_{suffix}", tmpl.id), customs);
        customs.push(RoleSpec {
            id: id.clone(),
            name: Some(format!("{} ({label})", tmpl.name)),
            description: Some(format!("Demo custom role: a copy of {} {why}.", tmpl.name)),
            role_type: tmpl
                .role_type
                .and_then(|i| p.role_types.get(i))
                .map(|x| x.id.clone()),
            includes: tmpl.includes.clone(),
            grants,
            locked,
        });
        Some(id)
    }

    /// `<T> (limited)`: a copy without every third of its own grants.
    fn limited(&self, t: usize, customs: &mut Vec<RoleSpec>) -> Option<String> {
        let tmpl = self.p.roles.get(t)?;
        let on = tmpl
            .grants
            .iter()
            .filter(|(_, v)| *v != GrantValue::Off)
            .count();
        if on < 2 {
            return None;
        }
        let kept = tmpl
            .grants
            .iter()
            .enumerate()
            .filter(|(i, g)| i % 3 != 1 || g.1 == GrantValue::Off)
            .map(|(_, g)| g.clone())
            .collect();
        self.variant(
            t,
            ["limited", "limited", "without some of its privileges"],
            kept,
            customs,
        )
    }

    /// `<T> (all queues)`: a copy that turns its role type's defaults off (GoTo's
    /// "Limit access to assigned call queues").
    fn without_defaults(&self, t: usize, customs: &mut Vec<RoleSpec>) -> Option<String> {
        let p = self.p;
        let tmpl = p.roles.get(t)?;
        let rt = tmpl.role_type.and_then(|i| p.role_types.get(i))?;
        let off: Vec<(PrivId, GrantValue)> = rt
            .defaults
            .iter()
            .filter(|(q, _)| !tmpl.grants.iter().any(|(g, _)| g == q))
            .map(|(q, _)| (*q, GrantValue::Off))
            .collect();
        if off.is_empty() {
            return None;
        }
        let names: Vec<String> = off
            .iter()
            .filter_map(|(q, _)| p.privileges.get(*q).map(|x| x.name.clone()))
            .collect();
        let about_queues = names.iter().any(|n| n.to_lowercase().contains("queue"));
        let label = if about_queues {
            "all queues"
        } else {
            "no defaults"
        };
        let suffix = if about_queues {
            "all_queues"
        } else {
            "no_defaults"
        };
        let why = format!("with {} turned off", names.join(" and "));
        let grants = tmpl.grants.iter().cloned().chain(off).collect();
        self.variant(t, [suffix, label, &why], grants, customs)
    }

    /// Which template is agent-like, supervisor-like and the admin's, and the custom
    /// roles.
    pub(super) fn plan_roles(&mut self) -> Roles {
        let closures: Vec<BTreeSet<PrivId>> =
            self.p.roles.iter().map(|r| self.closure(r)).collect();
        // The most powerful template, among those an administrator may hold (not one given
        // only to people meeting a condition), unless every template is such a one.
        let n = self.p.roles.len();
        let primary = (0..n)
            .filter(|&i| !self.conditional(i))
            .max_by_key(|&i| (size(&closures, i), self.rank(i)))
            .or_else(|| (0..n).max_by_key(|&i| (size(&closures, i), self.rank(i))));
        let agent = self.agent_like(&closures, primary);
        let supervisor = self.supervisor_like(&closures, agent, primary);
        let admin_set = self.admin_set(&closures, primary);
        let mut r = Roles {
            agent,
            supervisor,
            admin_set,
            ..Roles::default()
        };
        self.add_customs(&mut r, &closures, primary);
        r
    }

    /// How templates rank among equals: those that appoint more, then those no other
    /// includes (Company Administrator over Office Administrator), then the earlier.
    fn rank(&self, i: usize) -> (usize, bool, Reverse<usize>) {
        let p = self.p;
        let id = p.roles.get(i).map(|r| r.id.as_str()).unwrap_or_default();
        let appoints = p
            .appointments
            .iter()
            .filter(|a| a.by.iter().any(|b| b == id))
            .count();
        let top = !p.roles.iter().any(|r| r.includes.iter().any(|x| x == id));
        (appoints, top, Reverse(i))
    }

    /// Template `i`'s id and name, lowercase.
    fn lower(&self, i: usize) -> String {
        self.p
            .roles
            .get(i)
            .map(|r| format!("{} {}", r.id, r.name).to_lowercase())
            .unwrap_or_default()
    }

    /// The agent-like template: `agent`, else one named like an agent, else the
    /// smallest that is not `primary`.
    fn agent_like(&self, closures: &[BTreeSet<PrivId>], primary: Option<usize>) -> Option<usize> {
        let p = self.p;
        let n = p.roles.len();
        (0..n)
            .find(|&i| p.roles.get(i).is_some_and(|r| r.id == "agent"))
            .or_else(|| {
                (0..n).find(|&i| {
                    let s = self.lower(i);
                    s.contains("agent") && !s.contains("admin") && !s.contains("supervis")
                })
            })
            .or_else(|| {
                (0..n)
                    .filter(|&i| Some(i) != primary || n == 1)
                    .min_by_key(|&i| (size(closures, i), i))
            })
    }

    /// The supervisor-like template: one named like a supervisor, else the largest
    /// that is neither `agent` nor `primary`, else `primary`.
    fn supervisor_like(
        &self,
        closures: &[BTreeSet<PrivId>],
        agent: Option<usize>,
        primary: Option<usize>,
    ) -> Option<usize> {
        let n = self.p.roles.len();
        (0..n)
            .find(|&i| Some(i) != agent && self.lower(i).contains("supervisor"))
            .or_else(|| {
                (0..n)
                    .filter(|&i| Some(i) != agent && Some(i) != primary)
                    .max_by_key(|&i| (size(closures, i), Reverse(i)))
            })
            .or(primary)
    }

    /// The admin's templates: the most powerful, then whichever adds most, until every
    /// privilege any template holds is covered.
    fn admin_set(&self, closures: &[BTreeSet<PrivId>], primary: Option<usize>) -> Vec<usize> {
        let n = self.p.roles.len();
        let mut admin_set: Vec<usize> = primary.into_iter().collect();
        let mut covered: BTreeSet<PrivId> = primary
            .and_then(|i| closures.get(i).cloned())
            .unwrap_or_default();
        loop {
            let best = (0..n)
                .filter(|&i| !admin_set.contains(&i) && !self.conditional(i))
                .map(|i| {
                    let gain = closures
                        .get(i)
                        .map_or(0, |c| c.difference(&covered).count());
                    (gain, self.rank(i), i)
                })
                .max();
            match best {
                Some((gain, _, i)) if gain > 0 => {
                    admin_set.push(i);
                    covered.extend(closures.get(i).into_iter().flatten().copied());
                }
                _ => break,
            }
        }
        admin_set
    }

    /// Whether template `i` is given only to people who meet a condition (Phones Pro's
    /// supervisors must be agents of their call center): not an administrator's to hold.
    fn conditional(&self, i: usize) -> bool {
        self.p.roles.get(i).is_some_and(|r| {
            self.p
                .appointments
                .iter()
                .any(|a| a.role == r.id && a.target.is_some())
        })
    }

    /// The next role up from template `t`: a template that includes it, smallest
    /// first.
    fn includer(&self, closures: &[BTreeSet<PrivId>], t: usize) -> Option<usize> {
        let p = self.p;
        let id = p.roles.get(t).map(|r| r.id.clone()).unwrap_or_default();
        (0..p.roles.len())
            .filter(|&i| p.roles.get(i).is_some_and(|r| r.includes.contains(&id)))
            .min_by_key(|&i| (size(closures, i), i))
    }

    /// The custom roles: senior and limited agents; senior, limited and open
    /// supervisors; a limited administrator.
    fn add_customs(
        &mut self,
        r: &mut Roles,
        closures: &[BTreeSet<PrivId>],
        primary: Option<usize>,
    ) {
        let (agent, supervisor) = (r.agent, r.supervisor);
        let mut customs = Vec::new();
        if let Some(a) = agent {
            let next = self
                .includer(closures, a)
                .or(supervisor.filter(|&s| s != a));
            r.senior_agent = self.senior(a, next, &mut customs);
            r.limited_agent = self.limited(a, &mut customs);
        }
        if let Some(s) = supervisor.filter(|&s| Some(s) != agent) {
            let next = self.includer(closures, s).or(primary.filter(|&x| x != s));
            r.senior_supervisor = self.senior(s, next, &mut customs);
            r.limited_supervisor = self.limited(s, &mut customs);
            r.open_supervisor = self.without_defaults(s, &mut customs);
        }
        // A limited copy of the first administrative template with a few grants of
        // its own: the admin's first, else any other.
        let others = (0..self.p.roles.len()).filter(|i| !r.admin_set.contains(i));
        let admin_like: Vec<usize> = r.admin_set.iter().copied().chain(others).collect();
        for x in admin_like {
            if Some(x) == agent || Some(x) == supervisor {
                continue;
            }
            if let Some(id) = self.limited(x, &mut customs) {
                r.limited_admin = Some((id, x));
                break;
            }
        }
        r.customs = customs;
    }
}

/// How many privileges template `i` holds.
fn size(closures: &[BTreeSet<PrivId>], i: usize) -> usize {
    closures.get(i).map_or(0, BTreeSet::len)
}
