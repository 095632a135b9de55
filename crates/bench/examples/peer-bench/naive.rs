//! The naive baseline: what a straightforward hand-written implementation looks like.
//! Strings everywhere, std `HashMap`s keyed by id, and no precomputation: each check
//! walks the user's assignments, each role's includes and each privilege's parents.

use std::collections::{HashMap, HashSet};

use rolecall_bench::workload::{ALL_QUEUES, Check, EDIT_ALL, EDIT_OWN, MONITOR};
use rolecall_core::Profile;
use rolecall_core::state::TenantState;

use crate::tenant::{self, Act, Held};

struct Privilege {
    parent: Option<String>,
    /// Level names, ascending (empty for a flag).
    levels: Vec<String>,
}

struct Role {
    includes: Vec<String>,
    /// Privilege id → level index held (`usize::MAX` for a flag).
    grants: HashMap<String, usize>,
}

#[derive(Default)]
struct User {
    /// (role, org units it is scoped to; `None` = the whole tenant).
    assignments: Vec<(String, Option<Vec<String>>)>,
    queues: HashSet<String>,
}

/// The naive engine.
pub struct Naive {
    privileges: HashMap<String, Privilege>,
    roles: HashMap<String, Role>,
    users: HashMap<String, User>,
    org_parent: HashMap<String, Option<String>>,
    queue_org: HashMap<String, Option<String>>,
    /// Conversation → (agent, queue).
    conversations: HashMap<String, (String, String)>,
}

impl Naive {
    /// Loads a tenant.
    pub fn build(profile: &Profile, s: &TenantState) -> Result<Self, String> {
        let infos = tenant::privileges(profile)?;
        let mut privileges = HashMap::new();
        for x in &infos {
            privileges.insert(
                x.id.clone(),
                Privilege {
                    parent: None,
                    levels: x.levels.clone(),
                },
            );
        }
        for x in &infos {
            for &c in &x.children {
                let child = infos.get(c).ok_or("bad child index")?;
                if let Some(p) = privileges.get_mut(&child.id) {
                    p.parent = Some(x.id.clone());
                }
            }
        }
        let mut roles = HashMap::new();
        for r in &s.roles {
            let mut grants = HashMap::new();
            for (key, g) in &r.grants {
                let info = infos
                    .get(tenant::priv_index(profile, key)?)
                    .ok_or("bad privilege index")?;
                match tenant::held(info, g)? {
                    Held::Off => {}
                    Held::Flag => {
                        grants.insert(info.id.clone(), usize::MAX);
                    }
                    Held::Level(k) => {
                        grants.insert(info.id.clone(), k);
                    }
                }
            }
            roles.insert(
                r.id.clone(),
                Role {
                    includes: r.includes.clone(),
                    grants,
                },
            );
        }
        let mut users: HashMap<String, User> = HashMap::new();
        for u in tenant::of_type(s, "user") {
            users.insert(u.id.clone(), User::default());
        }
        for a in &s.assignments {
            let scope = tenant::org_scope(a)?.map(<[String]>::to_vec);
            users
                .entry(a.principal.clone())
                .or_default()
                .assignments
                .push((a.role.clone(), scope));
        }
        let mut org_parent = HashMap::new();
        for o in tenant::of_type(s, "org_unit") {
            org_parent.insert(o.id.clone(), tenant::rel1(o, "parent").map(str::to_owned));
        }
        let mut queue_org = HashMap::new();
        for q in tenant::of_type(s, "queue") {
            queue_org.insert(q.id.clone(), tenant::rel1(q, "org_unit").map(str::to_owned));
            for m in tenant::rel(q, "members") {
                users
                    .entry(m.clone())
                    .or_default()
                    .queues
                    .insert(q.id.clone());
            }
        }
        let mut conversations = HashMap::new();
        for c in tenant::of_type(s, "conversation") {
            let agent = tenant::rel1(c, "agent").unwrap_or_default().to_owned();
            let queue = tenant::rel1(c, "queue").unwrap_or_default().to_owned();
            conversations.insert(c.id.clone(), (agent, queue));
        }
        Ok(Self {
            privileges,
            roles,
            users,
            org_parent,
            queue_org,
            conversations,
        })
    }

    /// Decides one check.
    pub fn check(&self, c: &Check) -> Result<bool, String> {
        let user = self
            .users
            .get(&c.principal)
            .ok_or_else(|| format!("unknown user `{}`", c.principal))?;
        match tenant::act(&c.action)? {
            Act::Hold(p) => Ok(self.has(user, p, None)),
            Act::Monitor => {
                let org = self
                    .queue_org
                    .get(&c.resource_id)
                    .ok_or_else(|| format!("unknown queue `{}`", c.resource_id))?
                    .as_deref();
                Ok(self.has(user, MONITOR, org)
                    && (self.has(user, ALL_QUEUES, org) || user.queues.contains(&c.resource_id)))
            }
            Act::Edit => {
                let (agent, queue) = self
                    .conversations
                    .get(&c.resource_id)
                    .ok_or_else(|| format!("unknown conversation `{}`", c.resource_id))?;
                let org = self.queue_org.get(queue).and_then(|o| o.as_deref());
                Ok(self.has(user, EDIT_ALL, org)
                    || (self.has(user, EDIT_OWN, org) && *agent == c.principal))
            }
        }
    }

    /// Whether `user` holds `privilege` for a resource in `org` (`None`: the tenant).
    fn has(&self, user: &User, privilege: &str, org: Option<&str>) -> bool {
        user.assignments.iter().any(|(role, scope)| {
            let covered = match scope {
                None => true,
                Some(units) => units.iter().any(|u| self.within(org, u)),
            };
            covered && self.role_has(role, privilege, 0)
        })
    }

    /// Whether org unit `org` is `unit` or lies under it.
    fn within(&self, org: Option<&str>, unit: &str) -> bool {
        let mut cur = org;
        for _ in 0..64 {
            match cur {
                Some(o) if o == unit => return true,
                Some(o) => cur = self.org_parent.get(o).and_then(|p| p.as_deref()),
                None => return false,
            }
        }
        false
    }

    /// Whether role `role` holds `privilege`: granted at any level, or an ancestor
    /// granted at its top, by the role or by a role it includes.
    fn role_has(&self, role: &str, privilege: &str, depth: usize) -> bool {
        let Some(r) = self.roles.get(role) else {
            return false;
        };
        if depth > 64 {
            return false;
        }
        if r.grants.contains_key(privilege) {
            return true;
        }
        let mut cur = self
            .privileges
            .get(privilege)
            .and_then(|p| p.parent.as_deref());
        while let Some(a) = cur {
            let info = self.privileges.get(a);
            if let (Some(&level), Some(info)) = (r.grants.get(a), info)
                && (level == usize::MAX || level + 1 == info.levels.len())
            {
                return true;
            }
            cur = info.and_then(|p| p.parent.as_deref());
        }
        r.includes
            .iter()
            .any(|inc| self.role_has(inc, privilege, depth + 1))
    }
}
