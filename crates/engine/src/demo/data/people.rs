//! People and where they work: users with realistic names living in org units (the
//! three well-known ones among them), the queues of the home units with their members
//! and supervisors, and teams (groups).

use std::collections::{BTreeSet, HashSet};

use rand::Rng;
use rand::seq::IndexedRandom;
use rolecall_core::profile::ORG_UNIT;

use super::Demo;
use super::names::{FIRST_NAMES, GROUP_NAMES, LAST_NAMES, QUEUE_NAMES, QUEUE_SUFFIXES, slug};
use super::org::Style;
use super::{ADMIN_USER, AGENT_USER, SUPERVISOR_USER};

/// How many users the demo has.
const USERS: usize = 300;
/// How many queues.
const QUEUES: usize = 20;

/// What a user does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tier {
    /// Lives in an upper unit (company, region, office): administrators.
    Resident,
    /// Lives in a leaf unit without queues (a department).
    Staff,
    /// Supervises queues.
    Supervisor,
    /// Answers queues.
    Agent,
}

#[derive(Debug, Clone)]
pub(super) struct User {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) org: usize,
    pub(super) tier: Tier,
}

#[derive(Debug, Clone)]
pub(super) struct Queue {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) org: usize,
    pub(super) members: BTreeSet<usize>,
    pub(super) supervisors: BTreeSet<usize>,
}

#[derive(Debug, Clone)]
pub(super) struct Group {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) members: BTreeSet<usize>,
}

impl Demo<'_> {
    /// Leaf units whose kind a resource relation names (`call_center`), else every leaf.
    fn find_home(&mut self) {
        let p = self.p;
        let named: Vec<usize> = p
            .org_kinds
            .iter()
            .enumerate()
            .filter(|(_, k)| {
                p.types.iter().any(|t| {
                    t.relations
                        .iter()
                        .any(|r| r.target == ORG_UNIT && r.name == k.id)
                })
            })
            .map(|(i, _)| i)
            .collect();
        let leaves: Vec<usize> = (0..self.orgs.len()).filter(|&o| self.is_leaf(o)).collect();
        let preferred: Vec<usize> = leaves
            .iter()
            .copied()
            .filter(|&o| {
                self.org(o)
                    .and_then(|x| x.kind)
                    .is_some_and(|k| named.contains(&k))
            })
            .collect();
        self.home = if !preferred.is_empty() {
            preferred
        } else if !leaves.is_empty() {
            leaves
        } else {
            vec![0]
        };
    }

    pub(super) fn build_users(&mut self) {
        self.find_home();
        let mut plan: Vec<(usize, Tier)> = Vec::new();
        for o in 0..self.orgs.len() {
            if self.home.contains(&o) {
                continue;
            }
            let (n, tier) = match (o, self.is_leaf(o)) {
                (0, _) => (5, Tier::Resident),
                (_, false) => (2, Tier::Resident),
                (_, true) => (4, Tier::Staff),
            };
            plan.extend(std::iter::repeat_n((o, tier), n));
        }
        let h = self.home.len().max(1);
        let remaining = USERS.saturating_sub(plan.len());
        // Units with agents, in plan order; remember each home unit's first agent.
        let mut first_agent_of_home0 = None;
        for (i, &o) in self.home.clone().iter().enumerate() {
            let n = (remaining / h + usize::from(i < remaining % h)).max(4);
            let k = n.div_ceil(12);
            for j in 0..n {
                let tier = if j < k { Tier::Supervisor } else { Tier::Agent };
                if i == 0 && j == k {
                    first_agent_of_home0 = Some(plan.len());
                }
                plan.push((o, tier));
            }
        }
        let home0 = self.home.first().copied().unwrap_or(0);
        self.wk_admin = plan.iter().position(|&(o, _)| o == 0).unwrap_or(0);
        self.wk_supervisor = plan
            .iter()
            .position(|&(o, t)| o == home0 && t == Tier::Supervisor)
            .unwrap_or(0);
        self.wk_agent = first_agent_of_home0.unwrap_or(0);
        let mut used: HashSet<String> = [ADMIN_USER, SUPERVISOR_USER, AGENT_USER]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        for (i, (org, tier)) in plan.into_iter().enumerate() {
            let (id, name) = if i == self.wk_admin {
                (ADMIN_USER.to_owned(), "Ada Admin".to_owned())
            } else if i == self.wk_supervisor {
                (SUPERVISOR_USER.to_owned(), "Sam Supervisor".to_owned())
            } else if i == self.wk_agent {
                (AGENT_USER.to_owned(), "Alex Agent".to_owned())
            } else {
                self.fresh_name(&mut used)
            };
            self.users.push(User {
                id,
                name,
                org,
                tier,
            });
        }
    }

    /// A random unused `First Last` and its id `first.last`.
    fn fresh_name(&mut self, used: &mut HashSet<String>) -> (String, String) {
        for attempt in 0..200 {
            let first = FIRST_NAMES.choose(&mut self.rng).copied().unwrap_or("Pat");
            let last = LAST_NAMES.choose(&mut self.rng).copied().unwrap_or("Doe");
            let mut id = format!("{}.{}", slug(first), slug(last));
            if attempt >= 100 {
                id = format!("{id}{attempt}");
            }
            if used.insert(id.clone()) {
                return (id, format!("{first} {last}"));
            }
        }
        let id = format!("user{}", used.len());
        used.insert(id.clone());
        (id.clone(), id)
    }

    pub(super) fn user_id(&self, u: usize) -> String {
        self.users.get(u).map(|x| x.id.clone()).unwrap_or_default()
    }

    /// Users living in `o` with tier `tier`.
    pub(super) fn living(&self, o: usize, tier: Tier) -> Vec<usize> {
        self.users
            .iter()
            .enumerate()
            .filter(|(_, u)| u.org == o && u.tier == tier)
            .map(|(i, _)| i)
            .collect()
    }

    /// [`QUEUES`] queues spread over the home units, then their agents and supervisors.
    pub(super) fn build_queues(&mut self) {
        self.add_queues();
        for o in self.home.clone() {
            self.staff_queues(o);
        }
    }

    /// Empty queues, in turn over the home units, named after their function and unit.
    fn add_queues(&mut self) {
        let h = self.home.len().max(1);
        for i in 0..QUEUES {
            let Some(&o) = self.home.get(i % h) else {
                break;
            };
            let func = QUEUE_NAMES
                .get(i % QUEUE_NAMES.len())
                .copied()
                .unwrap_or("Queue");
            let unit = self.org(o).cloned();
            let style = self.style(unit.as_ref().and_then(|x| x.kind));
            let (mut id, name) = match unit {
                // Queues of a department are named after it: "Sales Callbacks".
                Some(u) if style == Style::Department && u.city.is_none() => {
                    let suffix = QUEUE_SUFFIXES
                        .get((i / h) % QUEUE_SUFFIXES.len())
                        .copied()
                        .unwrap_or("Queue");
                    let name = format!("{} {suffix}", u.name);
                    (slug(&name), name)
                }
                Some(u) if h > 1 => (
                    format!("{}-{}", slug(func), u.id),
                    format!("{func} ({})", u.city.as_deref().unwrap_or(&u.name)),
                ),
                _ => (slug(func), func.to_owned()),
            };
            if self.queues.iter().any(|q| q.id == id) {
                id = format!("{id}-{i}");
            }
            self.queues.push(Queue {
                id,
                name,
                org: o,
                members: BTreeSet::new(),
                supervisors: BTreeSet::new(),
            });
        }
    }

    /// Home unit `o`'s agents as members of its queues (one or two each, the
    /// well-known agent two) and its supervisors as their supervisors.
    fn staff_queues(&mut self, o: usize) {
        let qs: Vec<usize> = (0..self.queues.len())
            .filter(|&q| self.queues.get(q).is_some_and(|x| x.org == o))
            .collect();
        if qs.is_empty() {
            return;
        }
        let agents = self.living(o, Tier::Agent);
        let sups = self.living(o, Tier::Supervisor);
        for (j, &a) in agents.iter().enumerate() {
            let mut mine = vec![qs.get(j % qs.len()).copied()];
            if a == self.wk_agent {
                mine.push(qs.get(1 % qs.len()).copied());
            } else if self.rng.random_bool(0.3) {
                mine.push(qs.choose(&mut self.rng).copied());
            }
            for q in mine.into_iter().flatten() {
                if let Some(x) = self.queues.get_mut(q) {
                    x.members.insert(a);
                }
            }
        }
        if sups.is_empty() {
            return;
        }
        for (j, &q) in qs.iter().enumerate() {
            let picks = [
                sups.first(),
                sups.get(j % sups.len()),
                sups.get((j + 1) % sups.len()),
            ];
            if let Some(x) = self.queues.get_mut(q) {
                x.supervisors.extend(picks.into_iter().flatten().copied());
            }
        }
    }

    pub(super) fn build_groups(&mut self) {
        let home0 = self.home.first().copied().unwrap_or(0);
        let workers: Vec<usize> = (0..self.users.len())
            .filter(|&u| {
                self.users
                    .get(u)
                    .is_some_and(|x| matches!(x.tier, Tier::Agent | Tier::Supervisor))
            })
            .collect();
        for (i, name) in GROUP_NAMES.iter().enumerate() {
            let members: BTreeSet<usize> = if i == 0 {
                // The well-known supervisor's and agent's own team.
                self.users
                    .iter()
                    .enumerate()
                    .filter(|(_, u)| u.org == home0)
                    .map(|(j, _)| j)
                    .take(15)
                    .collect()
            } else {
                let n = self.rng.random_range(6..=20);
                workers.choose_multiple(&mut self.rng, n).copied().collect()
            };
            self.groups.push(Group {
                id: slug(name),
                name: (*name).to_owned(),
                members,
            });
        }
    }
}
