//! Assignments of templates and custom roles with realistic scopes: the well-known
//! users', administrators' where the profile's appointment rules allow them, then
//! supervisors' and agents', two of them expiring after the demo epoch.

use std::collections::BTreeSet;

use rolecall_core::profile::ScopeKind;
use rolecall_core::state::{Assignment, Scope};

use super::Demo;
use super::people::Tier;
use super::roles::Roles;

/// A temporary supervisor cover ends on 2027-03-31T00:00:00Z.
const COVER_EXPIRES: i64 = 1_806_451_200;
/// A contractor's agent role ends on 2027-06-30T00:00:00Z.
const CONTRACT_EXPIRES: i64 = 1_814_313_600;

/// The scope a role gets when no appointment rule says otherwise.
#[derive(Debug, Clone)]
enum Fallback {
    Tenant,
    Unit(usize),
    Queues(Vec<String>),
}

/// What the appointment rules allow for one role.
#[derive(Debug, Clone, Default)]
struct Rule {
    tenant: bool,
    kinds: Vec<usize>,
}

impl Demo<'_> {
    /// What the appointment rules say about giving `role`, if any rule names it.
    fn rule(&self, role: &str) -> Option<Rule> {
        let mut out: Option<Rule> = None;
        for a in self.p.appointments.iter().filter(|a| a.role == role) {
            let r = out.get_or_insert_with(Rule::default);
            for k in &a.scope_kinds {
                match k {
                    ScopeKind::Tenant => r.tenant = true,
                    ScopeKind::OrgKind(k) => {
                        if !r.kinds.contains(k) {
                            r.kinds.push(*k);
                        }
                    }
                }
            }
        }
        out
    }

    /// The scope for giving template `role` to `user`: the appointment rules' most
    /// specific kind around the user, else `fallback`.
    fn scope_for(&self, role: &str, user: usize, fallback: Fallback) -> Scope {
        let unit = |o: usize| Scope::OrgUnits(vec![self.org_id(o)]);
        let plain = |f: Fallback| match f {
            Fallback::Tenant => Scope::Tenant,
            Fallback::Unit(o) => unit(o),
            Fallback::Queues(qs) if !qs.is_empty() => Scope::Queues(qs),
            Fallback::Queues(_) => unit(self.users.get(user).map_or(0, |u| u.org)),
        };
        let Some(rule) = self.rule(role) else {
            return plain(fallback);
        };
        if matches!(fallback, Fallback::Tenant) && rule.tenant {
            return Scope::Tenant;
        }
        let org = self.users.get(user).map_or(0, |u| u.org);
        match self.ancestor_of_kinds(org, &rule.kinds) {
            Some(o) => unit(o),
            None if rule.tenant => Scope::Tenant,
            None => plain(fallback),
        }
    }

    /// The widest scope the appointment rules allow for `role`: the tenant, else every
    /// unit of the highest allowed kind (a company administrator holds Call Center
    /// Administrator over every call center, not tenant-wide).
    fn widest_scope(&self, role: &str) -> Scope {
        let Some(rule) = self.rule(role).filter(|r| !r.tenant) else {
            return Scope::Tenant;
        };
        let depth = |k: usize| {
            self.orgs
                .iter()
                .filter(|o| o.kind == Some(k))
                .map(|o| o.depth)
                .min()
        };
        let Some(k) = rule
            .kinds
            .iter()
            .copied()
            .filter(|&k| depth(k).is_some())
            .min_by_key(|&k| depth(k))
        else {
            return Scope::Tenant;
        };
        Scope::OrgUnits(
            self.orgs
                .iter()
                .filter(|o| o.kind == Some(k))
                .map(|o| o.id.clone())
                .collect(),
        )
    }

    /// A user living in `o` (else below it) who holds no administrative role yet:
    /// residents and staff first, then supervisors, then agents.
    fn pick_holder(&self, o: usize, taken: &mut BTreeSet<usize>) -> Option<usize> {
        let wk = [self.wk_admin, self.wk_supervisor, self.wk_agent];
        let free = |u: &usize| !taken.contains(u) && !wk.contains(u);
        let tiers = [Tier::Resident, Tier::Staff, Tier::Supervisor, Tier::Agent];
        let found = tiers
            .iter()
            .find_map(|&t| self.living(o, t).into_iter().find(free))
            .or_else(|| {
                (0..self.users.len())
                    .find(|u| free(u) && self.users.get(*u).is_some_and(|x| self.within(x.org, o)))
            })
            .or_else(|| (0..self.users.len()).find(free));
        if let Some(u) = found {
            taken.insert(u);
        }
        found
    }

    /// Assignments `a1`, `a2`, …: the well-known users' first, then administrators
    /// of every other template where the rules say they may be, then supervisors and
    /// agents.
    pub(super) fn assignments(&self, r: &Roles) -> Vec<Assignment> {
        let mut out: Vec<Assignment> = Vec::new();
        self.assign_well_known(r, &mut out);
        let mut taken = BTreeSet::new();
        self.assign_administrators(r, &mut taken, &mut out);
        self.assign_limited_admin(r, &mut taken, &mut out);
        self.assign_supervisors(r, &mut out);
        self.assign_agents(r, &mut out);
        out
    }

    /// The id of template `t`.
    fn template_id(&self, t: usize) -> String {
        self.p
            .roles
            .get(t)
            .map(|x| x.id.clone())
            .unwrap_or_default()
    }

    /// Gives `role` to `user` as the next assignment in `out`.
    fn give(
        &self,
        out: &mut Vec<Assignment>,
        user: usize,
        role: String,
        scope: Scope,
        expires_at: Option<i64>,
    ) {
        out.push(Assignment {
            id: format!("a{}", out.len() + 1),
            principal: self.user_id(user),
            role,
            scope,
            expires_at,
        });
    }

    /// The well-known admin's templates (widest scope each), supervisor's and agent's.
    fn assign_well_known(&self, r: &Roles, out: &mut Vec<Assignment>) {
        let tid = |t: usize| self.template_id(t);
        let home0 = self.home.first().copied().unwrap_or(0);
        for &t in &r.admin_set {
            let role = match (&r.open_supervisor, Some(t) == r.supervisor) {
                (Some(open), true) => open.clone(),
                _ => tid(t),
            };
            self.give(out, self.wk_admin, role, self.widest_scope(&tid(t)), None);
        }
        if let Some(s) = r.supervisor {
            let scope = self.scope_for(
                &tid(s),
                self.wk_supervisor,
                Fallback::Unit(self.top_unit(home0)),
            );
            self.give(out, self.wk_supervisor, tid(s), scope, None);
        }
        if let Some(a) = r.agent {
            let scope = self.scope_for(&tid(a), self.wk_agent, Fallback::Tenant);
            self.give(out, self.wk_agent, tid(a), scope, None);
        }
    }

    /// Administrators of every template but the agent-like and supervisor-like ones:
    /// one tenant-wide where the rules allow it (or say nothing), one over each unit
    /// (up to 20) of the rules' deepest kind, else one over the last top-level unit.
    fn assign_administrators(
        &self,
        r: &Roles,
        taken: &mut BTreeSet<usize>,
        out: &mut Vec<Assignment>,
    ) {
        for t in 0..self.p.roles.len() {
            if Some(t) == r.agent || Some(t) == r.supervisor {
                continue;
            }
            let id = self.template_id(t);
            let rule = self.rule(&id);
            let deepest = rule.as_ref().and_then(|x| {
                x.kinds.iter().copied().max_by_key(|&k| {
                    self.orgs
                        .iter()
                        .filter(|o| o.kind == Some(k))
                        .map(|o| o.depth)
                        .min()
                        .unwrap_or(0)
                })
            });
            if rule.as_ref().is_none_or(|x| x.tenant)
                && let Some(u) = self.pick_holder(0, taken)
            {
                self.give(out, u, id.clone(), Scope::Tenant, None);
            }
            match (&rule, deepest) {
                (_, Some(k)) => {
                    let units: Vec<usize> = (0..self.orgs.len())
                        .filter(|&o| self.org(o).is_some_and(|x| x.kind == Some(k)))
                        .take(20)
                        .collect();
                    for o in units {
                        if let Some(u) = self.pick_holder(o, taken) {
                            let scope = Scope::OrgUnits(vec![self.org_id(o)]);
                            self.give(out, u, id.clone(), scope, None);
                        }
                    }
                }
                (None, None) => {
                    // No rule: one more holder over a single top-level unit.
                    let last_top = (0..self.orgs.len())
                        .rev()
                        .find(|&o| self.org(o).is_some_and(|x| x.depth == 1));
                    if let Some(o) = last_top
                        && let Some(u) = self.pick_holder(o, taken)
                    {
                        let scope = Scope::OrgUnits(vec![self.org_id(o)]);
                        self.give(out, u, id.clone(), scope, None);
                    }
                }
                (Some(_), None) => {}
            }
        }
    }

    /// The limited administrative copy, over one unit of its base template's widest
    /// allowed kind, else tenant-wide.
    fn assign_limited_admin(
        &self,
        r: &Roles,
        taken: &mut BTreeSet<usize>,
        out: &mut Vec<Assignment>,
    ) {
        let Some((limited, base)) = &r.limited_admin else {
            return;
        };
        let unit = match self.widest_scope(&self.template_id(*base)) {
            Scope::OrgUnits(ids) => ids
                .last()
                .and_then(|id| self.orgs.iter().position(|o| o.id == *id)),
            _ => None,
        };
        if let Some(u) = self.pick_holder(unit.unwrap_or(0), taken) {
            let scope = match unit {
                Some(o) => Scope::OrgUnits(vec![self.org_id(o)]),
                None => Scope::Tenant,
            };
            self.give(out, u, limited.clone(), scope, None);
        }
    }

    /// Every other supervisor: the supervisor-like template or, now and then, one of
    /// its custom copies, over their top unit or (every second one) their queues.
    fn assign_supervisors(&self, r: &Roles, out: &mut Vec<Assignment>) {
        let Some(s) = r.supervisor else {
            return;
        };
        let sid = self.template_id(s);
        let sups: Vec<usize> = (0..self.users.len())
            .filter(|&u| {
                u != self.wk_supervisor
                    && self
                        .users
                        .get(u)
                        .is_some_and(|x| x.tier == Tier::Supervisor)
            })
            .collect();
        for (j, &u) in sups.iter().enumerate() {
            let org = self.users.get(u).map_or(0, |x| x.org);
            let fallback = if j % 2 == 1 {
                Fallback::Queues(
                    self.queues
                        .iter()
                        .filter(|q| q.supervisors.contains(&u))
                        .map(|q| q.id.clone())
                        .collect(),
                )
            } else {
                Fallback::Unit(self.top_unit(org))
            };
            let role = match j {
                _ if j % 3 == 2 && r.senior_supervisor.is_some() => r.senior_supervisor.clone(),
                _ if j % 5 == 4 && r.limited_supervisor.is_some() => r.limited_supervisor.clone(),
                _ if j % 7 == 6 && r.open_supervisor.is_some() => r.open_supervisor.clone(),
                _ => None,
            }
            .unwrap_or_else(|| sid.clone());
            self.give(out, u, role, self.scope_for(&sid, u, fallback), None);
        }
    }

    /// Every other agent: the agent-like template or, now and then, a custom copy; the
    /// last is a contractor whose role expires, and one in the second home unit covers
    /// for a supervisor until spring.
    fn assign_agents(&self, r: &Roles, out: &mut Vec<Assignment>) {
        let Some(a) = r.agent else {
            return;
        };
        let aid = self.template_id(a);
        let agents: Vec<usize> = (0..self.users.len())
            .filter(|&u| {
                u != self.wk_agent && self.users.get(u).is_some_and(|x| x.tier == Tier::Agent)
            })
            .collect();
        let last = agents.len().saturating_sub(1);
        for (j, &u) in agents.iter().enumerate() {
            let role = match j {
                _ if j % 10 == 9 && r.senior_agent.is_some() => r.senior_agent.clone(),
                _ if j % 17 == 8 && r.limited_agent.is_some() => r.limited_agent.clone(),
                _ => None,
            }
            .unwrap_or_else(|| aid.clone());
            let expires = (j == last && j > 0).then_some(CONTRACT_EXPIRES);
            self.give(
                out,
                u,
                role,
                self.scope_for(&aid, u, Fallback::Tenant),
                expires,
            );
        }
        let home0 = self.home.first().copied().unwrap_or(0);
        let cover_unit = self.home.get(1).copied().unwrap_or(home0);
        let cover = agents
            .iter()
            .copied()
            .find(|&u| self.users.get(u).is_some_and(|x| x.org == cover_unit));
        if let (Some(u), Some(s)) = (cover, r.supervisor.filter(|&s| Some(s) != r.agent)) {
            let org = self.users.get(u).map_or(0, |x| x.org);
            let sid = self.template_id(s);
            let scope = self.scope_for(&sid, u, Fallback::Unit(self.top_unit(org)));
            self.give(out, u, sid, scope, Some(COVER_EXPIRES));
        }
    }
}
