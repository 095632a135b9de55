//! Demo content for a new tenant: a realistic contact center built from whatever a
//! profile declares, so that a new user can try every feature right away.
//!
//! [`demo_changes`] reads the profile generically (org-unit kinds and their parents,
//! resource types with their relations and attributes, role templates, role types and
//! their caps, appointment rules, settings) and produces, deterministically from a seed:
//!
//! - an org tree from the company down to the lowest kinds the profile declares;
//! - about 300 users with realistic names and ids like `alice.nguyen`, living in org
//!   units: residents of the upper units (administrators), staff of the other leaf
//!   units, and supervisors and agents in the units where queues live;
//! - a dozen groups (teams) and twenty queues with members and supervisors;
//! - 200 instances of every custom resource type, whose relations point at real users,
//!   queues and org units and whose attributes take valid values;
//! - a few custom roles: copies and variants of the templates that respect role-type
//!   caps;
//! - assignments (`a1`, `a2`, …) of templates and custom roles with realistic scopes,
//!   following the profile's appointment rules where it has them, two of them expiring
//!   after [`DEMO_EPOCH`];
//! - every declared setting at its default.
//!
//! Three well-known users exist in every profile's demo, for docs and tests:
//! [`ADMIN_USER`] (the fewest templates that together hold every privilege any template
//! holds, starting with the most powerful one, tenant-wide), [`SUPERVISOR_USER`] (a
//! supervisor-like template over one org unit, supervising that unit's queues) and
//! [`AGENT_USER`] (an agent-like template, member of two of those queues).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rolecall_core::Profile;
use rolecall_core::profile::{
    AttrDef, GROUP, GROUP_MEMBERS, GrantSpec, GrantValue, ORG_KIND_ATTR, ORG_PARENT, ORG_UNIT,
    PrivId, PrivKind, QUEUE, QUEUE_SUPERVISORS, RelationDef, RoleDef, RoleSpec, ScopeKind, TENANT,
    USER, USER_SUPERVISED, Value, ValueType,
};
use rolecall_core::state::{Assignment, Scope};
use rolecall_store::{Change, Tuple};

/// The demo's reference time, 2027-01-01T00:00:00Z (Unix seconds): every assignment
/// is valid at this time; the two expiring ones expire after it.
pub const DEMO_EPOCH: i64 = 1_798_761_600;
/// The well-known administrator: tenant-wide holder of the most powerful templates.
pub const ADMIN_USER: &str = "admin";
/// The well-known supervisor: a supervisor-like template over one org unit.
pub const SUPERVISOR_USER: &str = "supervisor";
/// The well-known agent: an agent-like template, member of two queues.
pub const AGENT_USER: &str = "agent";

/// How many users the demo has.
const USERS: usize = 300;
/// How many queues.
const QUEUES: usize = 20;
/// How many instances of each custom resource type.
const RESOURCES_PER_TYPE: usize = 200;
/// A bound on the org tree's size (profiles with many kinds).
const MAX_ORGS: usize = 120;
/// A bound on the org tree's depth.
const MAX_DEPTH: usize = 6;
/// How many instances of each custom type belong to the well-known agent.
const AGENT_OWNED: usize = 6;
/// A temporary supervisor cover ends on 2027-03-31T00:00:00Z.
const COVER_EXPIRES: i64 = 1_806_451_200;
/// A contractor's agent role ends on 2027-06-30T00:00:00Z.
const CONTRACT_EXPIRES: i64 = 1_814_313_600;

const COMPANY_ID: &str = "northwind";
const COMPANY_NAME: &str = "Northwind Services";

const FIRST_NAMES: &[&str] = &[
    "Alice", "Bob", "Carmen", "David", "Elena", "Farid", "Grace", "Hiro", "Isabel", "Jamal",
    "Kara", "Liam", "Maya", "Noah", "Olivia", "Pedro", "Quinn", "Rosa", "Samir", "Tara", "Umar",
    "Valeria", "Wei", "Ximena", "Yusuf", "Zoe", "Aisha", "Ben", "Chloe", "Diego", "Emma", "Felix",
    "Gabriela", "Henry", "Ines", "Jonas", "Keiko", "Lucas", "Mei", "Nadia", "Oscar", "Priya",
    "Rafael", "Sofia", "Tomas", "Uma", "Victor", "Wanda", "Yara", "Zane", "Amara", "Bruno",
    "Carla", "Dmitri", "Esther", "Fatima", "Gustavo", "Hannah", "Ivan", "Julia", "Kofi", "Leila",
    "Marco", "Nina", "Omar", "Paula", "Ravi", "Sara", "Theo",
];

const LAST_NAMES: &[&str] = &[
    "Nguyen",
    "Smith",
    "Garcia",
    "Johnson",
    "Kim",
    "Patel",
    "Brown",
    "Lopez",
    "Chen",
    "Williams",
    "Martinez",
    "Singh",
    "Davis",
    "Rodriguez",
    "Okafor",
    "Miller",
    "Hernandez",
    "Wilson",
    "Tanaka",
    "Anderson",
    "Silva",
    "Thomas",
    "Kowalski",
    "Moore",
    "Ivanova",
    "Jackson",
    "Rossi",
    "White",
    "Haddad",
    "Harris",
    "Muller",
    "Martin",
    "Costa",
    "Thompson",
    "Sato",
    "Young",
    "Dubois",
    "King",
    "Novak",
    "Wright",
    "Ali",
    "Scott",
    "Jensen",
    "Green",
    "Santos",
    "Baker",
    "Cohen",
    "Adams",
    "Mendoza",
    "Nelson",
    "Olsen",
    "Hill",
    "Ramirez",
    "Campbell",
    "Yilmaz",
    "Mitchell",
    "Fischer",
    "Roberts",
    "Park",
    "Carter",
    "Lindqvist",
    "Phillips",
    "Mensah",
    "Evans",
    "Torres",
    "Turner",
    "Nakamura",
    "Collins",
    "Reyes",
];

const REGIONS: &[&str] = &[
    "West", "Central", "East", "North", "South", "Pacific", "Mountain", "Atlantic",
];

const CITIES: &[&str] = &[
    "San Francisco",
    "Denver",
    "Chicago",
    "Austin",
    "Boston",
    "Atlanta",
    "Seattle",
    "Phoenix",
    "Toronto",
    "Dublin",
    "London",
    "Sydney",
    "Portland",
    "Miami",
    "Dallas",
    "Minneapolis",
    "Nashville",
    "Raleigh",
    "Salt Lake City",
    "Pittsburgh",
    "Vancouver",
    "Manchester",
    "Auckland",
    "Singapore",
];

const DEPARTMENTS: &[&str] = &[
    "Sales",
    "Customer Support",
    "Billing",
    "Technical Support",
    "Retention",
    "Scheduling",
    "Dispatch",
    "Collections",
];

const CENTERS: &[&str] = &[
    "Service Center",
    "Sales Center",
    "Support Center",
    "Care Center",
];

const QUEUE_NAMES: &[&str] = &[
    "Sales",
    "Support",
    "Billing",
    "Technical Support",
    "Retention",
    "Renewals",
    "Collections",
    "Escalations",
    "Onboarding",
    "Appointments",
    "Returns",
    "Claims",
    "Dispatch",
    "VIP Care",
    "Spanish Support",
    "After Hours",
    "Warranty",
    "Enterprise Accounts",
    "Outbound Campaigns",
    "Service Desk",
];

const QUEUE_SUFFIXES: &[&str] = &[
    "Inbound",
    "Callbacks",
    "Priority",
    "Chat",
    "Email",
    "Overflow",
];

const GROUP_NAMES: &[&str] = &[
    "Team Aurora",
    "Team Borealis",
    "Night Shift",
    "Weekend Crew",
    "Spanish Speakers",
    "New Hires",
    "Quality Champions",
    "Escalation Desk",
    "Trainers",
    "Billing Experts",
    "Retention Specialists",
    "Remote Workers",
];

/// Demo content for a tenant created from `profile`, the same for the same
/// `(profile_id, seed)`.
///
/// Changes come in this order: `UpsertEntity` (org units, users, groups, queues, other
/// resources), `PutRelation` (org parents, users' org units, group members, queues'
/// org units, members and supervisors, other declared relations; never a computed
/// inverse), `PutRole` (version 1), `PutAssignment`, `SetSetting`. Applied to an empty
/// tenant they yield a state from which a snapshot builds.
pub fn demo_changes(profile_id: &str, profile: &Profile, seed: u64) -> Vec<Change> {
    let mut demo = Demo::new(profile, seed ^ fnv1a(profile_id));
    demo.build_orgs();
    demo.build_users();
    demo.build_queues();
    demo.build_groups();
    let mut entities = Vec::new();
    let mut tuples = Vec::new();
    demo.emit_builtins(&mut entities, &mut tuples);
    demo.emit_resources(&mut entities, &mut tuples);
    let roles = demo.plan_roles();
    let mut out = entities;
    out.append(&mut tuples);
    out.extend(roles.customs.iter().map(|r| Change::PutRole {
        role: r.clone(),
        version: 1,
    }));
    out.extend(
        demo.assignments(&roles)
            .into_iter()
            .map(Change::PutAssignment),
    );
    out.extend(profile.settings.iter().map(|s| Change::SetSetting {
        key: s.id.clone(),
        value: s.default.clone(),
    }));
    out
}

/// FNV-1a, a stable hash to mix the profile id into the seed.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Lowercase letters and digits, other runs turned into one `-`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "x".to_owned() } else { out }
}

/// A tuple change.
fn tuple(rtype: &str, rid: &str, relation: &str, stype: &str, sid: &str) -> Change {
    Change::PutRelation(Tuple {
        rtype: rtype.to_owned(),
        rid: rid.to_owned(),
        relation: relation.to_owned(),
        stype: stype.to_owned(),
        sid: sid.to_owned(),
    })
}

/// How org units of a kind are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Region,
    Department,
    Center,
    Place,
}

/// What a user does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
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
struct Org {
    id: String,
    name: String,
    kind: Option<usize>,
    parent: Option<usize>,
    depth: usize,
    city: Option<String>,
}

#[derive(Debug, Clone)]
struct User {
    id: String,
    name: String,
    org: usize,
    tier: Tier,
}

#[derive(Debug, Clone)]
struct Queue {
    id: String,
    name: String,
    org: usize,
    members: BTreeSet<usize>,
    supervisors: BTreeSet<usize>,
}

#[derive(Debug, Clone)]
struct Group {
    id: String,
    name: String,
    members: BTreeSet<usize>,
}

/// Where a generated value lives: what its relations should agree with.
#[derive(Debug, Clone, Copy, Default)]
struct Ctx {
    queue: Option<usize>,
    unit: Option<usize>,
    /// Owned by the well-known agent (and reviewed by the well-known supervisor).
    owned: bool,
}

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

/// The custom roles and which template plays which part.
#[derive(Debug, Default)]
struct Roles {
    customs: Vec<RoleSpec>,
    /// The agent-like template.
    agent: Option<usize>,
    /// The supervisor-like template.
    supervisor: Option<usize>,
    /// The well-known admin's templates, most powerful first.
    admin_set: Vec<usize>,
    senior_agent: Option<String>,
    limited_agent: Option<String>,
    senior_supervisor: Option<String>,
    limited_supervisor: Option<String>,
    /// The supervisor-like template with its role type's defaults turned off.
    open_supervisor: Option<String>,
    /// A limited copy of an administrative template, and that template.
    limited_admin: Option<(String, usize)>,
}

struct Demo<'p> {
    p: &'p Profile,
    rng: StdRng,
    orgs: Vec<Org>,
    users: Vec<User>,
    queues: Vec<Queue>,
    groups: Vec<Group>,
    /// Org units where queues, supervisors and agents live.
    home: Vec<usize>,
    wk_admin: usize,
    wk_supervisor: usize,
    wk_agent: usize,
}

impl<'p> Demo<'p> {
    fn new(p: &'p Profile, seed: u64) -> Self {
        Demo {
            p,
            rng: StdRng::seed_from_u64(seed),
            orgs: Vec::new(),
            users: Vec::new(),
            queues: Vec::new(),
            groups: Vec::new(),
            home: Vec::new(),
            wk_admin: 0,
            wk_supervisor: 0,
            wk_agent: 0,
        }
    }

    // ---- org tree ------------------------------------------------------------------

    /// Kinds that may sit directly under `k` (itself excluded).
    fn child_kinds(&self, k: usize) -> Vec<usize> {
        self.p
            .org_kinds
            .iter()
            .enumerate()
            .filter(|(c, x)| *c != k && x.parents.contains(&k))
            .map(|(c, _)| c)
            .collect()
    }

    fn style(&self, kind: Option<usize>) -> Style {
        let Some(k) = kind.and_then(|k| self.p.org_kinds.get(k)) else {
            return Style::Place;
        };
        let s = format!("{} {}", k.id, k.name).to_lowercase();
        if s.contains("region") || s.contains("area") || s.contains("division") {
            Style::Region
        } else if s.contains("department") || s.contains("dept") || s.contains("team") {
            Style::Department
        } else if s.contains("center") || s.contains("centre") {
            Style::Center
        } else {
            Style::Place
        }
    }

    fn org_id_taken(&self, id: &str) -> bool {
        id == COMPANY_ID || self.orgs.iter().any(|o| o.id == id)
    }

    fn unique_org_id(&self, base: String) -> String {
        if !self.org_id_taken(&base) {
            return base;
        }
        (2..)
            .map(|n| format!("{base}-{n}"))
            .find(|id| !self.org_id_taken(id))
            .unwrap_or(base)
    }

    /// Adds the `i`-th child of kind `kind` under `parent`.
    fn add_org(&mut self, parent: usize, kind: Option<usize>, i: usize, counters: &mut [usize; 2]) {
        let Some(par) = self.orgs.get(parent).cloned() else {
            return;
        };
        let style = self.style(kind);
        let (id, name, city) = match style {
            Style::Region => {
                let n = counters.first().copied().unwrap_or(0);
                if let Some(c) = counters.first_mut() {
                    *c += 1;
                }
                let r = REGIONS.get(n % REGIONS.len()).copied().unwrap_or("Region");
                (slug(r), format!("{r} Region"), None)
            }
            Style::Place => {
                let n = counters.get(1).copied().unwrap_or(0);
                if let Some(c) = counters.get_mut(1) {
                    *c += 1;
                }
                let c = CITIES.get(n % CITIES.len()).copied().unwrap_or("City");
                (slug(c), c.to_owned(), Some(c.to_owned()))
            }
            Style::Department => {
                let d = DEPARTMENTS
                    .get(i % DEPARTMENTS.len())
                    .copied()
                    .unwrap_or("Department");
                match &par.city {
                    Some(c) => (
                        format!("{}-{}", par.id, slug(d)),
                        format!("{c} {d}"),
                        par.city.clone(),
                    ),
                    None => (slug(d), d.to_owned(), None),
                }
            }
            Style::Center => {
                let c = CENTERS.get(i % CENTERS.len()).copied().unwrap_or("Center");
                let name = match &par.city {
                    Some(city) => format!("{city} {c}"),
                    None => c.to_owned(),
                };
                (format!("{}-cc{}", par.id, i + 1), name, par.city.clone())
            }
        };
        let id = self.unique_org_id(id);
        self.orgs.push(Org {
            id,
            name,
            kind,
            parent: Some(parent),
            depth: par.depth + 1,
            city,
        });
    }

    /// The company and, breadth first, units of every kind that may sit under it.
    fn build_orgs(&mut self) {
        let kinds = &self.p.org_kinds;
        let root_kind = kinds
            .iter()
            .position(|k| k.parents.is_empty())
            .or(if kinds.is_empty() { None } else { Some(0) });
        self.orgs.push(Org {
            id: COMPANY_ID.to_owned(),
            name: COMPANY_NAME.to_owned(),
            kind: root_kind,
            parent: None,
            depth: 0,
            city: None,
        });
        let mut counters = [0usize; 2];
        if kinds.is_empty() {
            for i in 0..5 {
                self.add_org(0, None, i, &mut counters);
            }
            return;
        }
        let mut next = 0;
        while let Some(o) = self.orgs.get(next).cloned() {
            let at = next;
            next += 1;
            let Some(k) = o.kind else { continue };
            if o.depth >= MAX_DEPTH {
                continue;
            }
            let children = self.child_kinds(k);
            for &c in &children {
                // A kind that may also sit under a sibling kind (an office under a
                // region or directly under the company) appears here only once.
                let skippable = children
                    .iter()
                    .any(|&m| m != c && self.child_kinds(m).contains(&c));
                let leaf = self.child_kinds(c).is_empty();
                let n = match (skippable, o.depth, leaf) {
                    (true, _, _) => 1,
                    (false, 0, true) => 5,
                    (false, 0, false) => 3,
                    _ => 2,
                };
                for i in 0..n {
                    if self.orgs.len() >= MAX_ORGS {
                        return;
                    }
                    self.add_org(at, Some(c), i, &mut counters);
                }
            }
        }
    }

    fn org(&self, o: usize) -> Option<&Org> {
        self.orgs.get(o)
    }

    fn org_id(&self, o: usize) -> String {
        self.org(o).map(|x| x.id.clone()).unwrap_or_default()
    }

    fn is_leaf(&self, o: usize) -> bool {
        !self.orgs.iter().any(|x| x.parent == Some(o))
    }

    /// `o` and its ancestors, nearest first.
    fn ancestry(&self, o: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut cur = Some(o);
        while let Some(c) = cur {
            if out.contains(&c) || out.len() > self.orgs.len() {
                break;
            }
            out.push(c);
            cur = self.org(c).and_then(|x| x.parent);
        }
        out
    }

    fn within(&self, o: usize, ancestor: usize) -> bool {
        self.ancestry(o).contains(&ancestor)
    }

    /// The ancestor (or self) just below the company.
    fn top_unit(&self, o: usize) -> usize {
        self.ancestry(o)
            .into_iter()
            .find(|&a| self.org(a).is_some_and(|x| x.depth == 1))
            .unwrap_or(o)
    }

    /// The deepest unit among `o` and its ancestors whose kind is one of `kinds`.
    fn ancestor_of_kinds(&self, o: usize, kinds: &[usize]) -> Option<usize> {
        self.ancestry(o).into_iter().find(|&a| {
            self.org(a)
                .and_then(|x| x.kind)
                .is_some_and(|k| kinds.contains(&k))
        })
    }

    // ---- users ---------------------------------------------------------------------

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

    fn build_users(&mut self) {
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

    fn user_id(&self, u: usize) -> String {
        self.users.get(u).map(|x| x.id.clone()).unwrap_or_default()
    }

    /// Users living in `o` with tier `tier`.
    fn living(&self, o: usize, tier: Tier) -> Vec<usize> {
        self.users
            .iter()
            .enumerate()
            .filter(|(_, u)| u.org == o && u.tier == tier)
            .map(|(i, _)| i)
            .collect()
    }

    // ---- queues and groups ---------------------------------------------------------

    fn build_queues(&mut self) {
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
        for o in self.home.clone() {
            let qs: Vec<usize> = (0..self.queues.len())
                .filter(|&q| self.queues.get(q).is_some_and(|x| x.org == o))
                .collect();
            if qs.is_empty() {
                continue;
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
                continue;
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
    }

    fn build_groups(&mut self) {
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

    // ---- values --------------------------------------------------------------------

    /// A valid value for attribute `a`; `high` prefers the last enum value (senior
    /// users get the advanced seat).
    fn attr_value(&mut self, a: &AttrDef, n: usize, high: Option<bool>) -> Value {
        let name = a.name.to_lowercase();
        match (&a.values, a.ty) {
            (Some(values), _) => {
                let pick = match high {
                    Some(true) => values.last(),
                    Some(false) if self.rng.random_bool(0.8) => values.first(),
                    _ => values.choose(&mut self.rng),
                };
                Value::Str(pick.cloned().unwrap_or_default())
            }
            (None, ValueType::Bool) => {
                let p = if name.contains("closed") || name.contains("done") {
                    0.7
                } else if name.contains("live") || name.contains("active") {
                    0.3
                } else {
                    0.5
                };
                Value::Bool(self.rng.random_bool(p))
            }
            (None, ValueType::Int) => {
                if name.contains("duration") || name.contains("second") {
                    Value::Int(self.rng.random_range(30..=1800))
                } else {
                    Value::Int(self.rng.random_range(0..=100))
                }
            }
            (None, ValueType::Str) => Value::Str(format!("{}-{n}", slug(&a.name))),
        }
    }

    /// Users a relation named `rel` may point at, given where the resource lives.
    fn user_pool(&self, rel: &str, ctx: Ctx) -> Vec<usize> {
        let r = rel.to_lowercase();
        let senior = ["review", "supervis", "manager", "approv", "lead", "coach"]
            .iter()
            .any(|w| r.contains(w));
        let tier = if senior {
            Tier::Supervisor
        } else {
            Tier::Agent
        };
        if ctx.owned {
            return vec![if senior {
                self.wk_supervisor
            } else {
                self.wk_agent
            }];
        }
        if let Some(q) = ctx.queue.and_then(|q| self.queues.get(q)) {
            let set = if senior { &q.supervisors } else { &q.members };
            if !set.is_empty() {
                return set.iter().copied().collect();
            }
        }
        let in_unit: Vec<usize> = match ctx.unit {
            Some(o) => (0..self.users.len())
                .filter(|&u| {
                    self.users
                        .get(u)
                        .is_some_and(|x| x.tier == tier && self.within(x.org, o))
                })
                .collect(),
            None => Vec::new(),
        };
        if !in_unit.is_empty() {
            return in_unit;
        }
        (0..self.users.len())
            .filter(|&u| self.users.get(u).is_some_and(|x| x.tier == tier))
            .collect()
    }

    /// Target ids for relation `rd` of an entity living at `ctx`.
    fn relation_targets(&mut self, rd: &RelationDef, ctx: Ctx) -> Vec<String> {
        let count = if rd.many {
            self.rng.random_range(1..=3)
        } else {
            1
        };
        match rd.target {
            USER => {
                let pool = self.user_pool(&rd.name, ctx);
                let picked: Vec<usize> = pool
                    .choose_multiple(&mut self.rng, count)
                    .copied()
                    .collect();
                picked.into_iter().map(|u| self.user_id(u)).collect()
            }
            QUEUE => ctx
                .queue
                .and_then(|q| self.queues.get(q))
                .map(|q| q.id.clone())
                .into_iter()
                .collect(),
            ORG_UNIT => ctx.unit.map(|o| self.org_id(o)).into_iter().collect(),
            GROUP => {
                let picked: Vec<String> = self
                    .groups
                    .choose_multiple(&mut self.rng, count)
                    .map(|g| g.id.clone())
                    .collect();
                picked
            }
            TENANT => Vec::new(),
            t => match self.p.types.get(t) {
                Some(def) if !def.builtin => (0..count)
                    .map(|_| {
                        let n = self.rng.random_range(1..=RESOURCES_PER_TYPE);
                        format!("{}-{n:04}", def.id)
                    })
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            },
        }
    }

    // ---- entities and relations ----------------------------------------------------

    fn emit_builtins(&mut self, entities: &mut Vec<Change>, tuples: &mut Vec<Change>) {
        let p = self.p;
        let ty = |t: usize| p.types.get(t).map(|x| x.id.clone()).unwrap_or_default();
        let (org_t, user_t, group_t, queue_t) = (ty(ORG_UNIT), ty(USER), ty(GROUP), ty(QUEUE));
        let attrs_of = |t: usize| -> Vec<(usize, AttrDef)> {
            p.types
                .get(t)
                .map(|x| x.attributes.iter().cloned().enumerate().collect())
                .unwrap_or_default()
        };
        // Relations the profile adds to a built-in type (after the built-in ones), not
        // computed inverses.
        let extra_rels = |t: usize, builtin: usize| -> Vec<RelationDef> {
            p.types
                .get(t)
                .map(|x| {
                    x.relations
                        .iter()
                        .skip(builtin)
                        .filter(|r| r.inverse.is_none())
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        };

        // Org units.
        for (i, o) in self.orgs.clone().iter().enumerate() {
            let mut attributes = Vec::new();
            if let Some(k) = o.kind.and_then(|k| p.org_kinds.get(k)) {
                attributes.push(("kind".to_owned(), Value::Str(k.id.clone())));
            }
            for (ai, a) in attrs_of(ORG_UNIT) {
                if ai != ORG_KIND_ATTR && a.name != "kind" {
                    let v = self.attr_value(&a, i, None);
                    attributes.push((a.name.clone(), v));
                }
            }
            entities.push(Change::UpsertEntity {
                ty: org_t.clone(),
                id: o.id.clone(),
                name: Some(o.name.clone()),
                attributes,
            });
        }
        // Users.
        for (i, u) in self.users.clone().iter().enumerate() {
            let high = matches!(u.tier, Tier::Resident | Tier::Supervisor);
            let mut attributes = Vec::new();
            for (_, a) in attrs_of(USER) {
                // The well-known agent has the entry-level value (a standard seat).
                let entry = a.values.as_ref().and_then(|v| v.first());
                let v = match entry {
                    Some(first) if i == self.wk_agent => Value::Str(first.clone()),
                    _ => self.attr_value(&a, i, Some(high)),
                };
                attributes.push((a.name.clone(), v));
            }
            entities.push(Change::UpsertEntity {
                ty: user_t.clone(),
                id: u.id.clone(),
                name: Some(u.name.clone()),
                attributes,
            });
        }
        // Groups.
        for (i, g) in self.groups.clone().iter().enumerate() {
            let mut attributes = Vec::new();
            for (_, a) in attrs_of(GROUP) {
                let v = self.attr_value(&a, i, None);
                attributes.push((a.name.clone(), v));
            }
            entities.push(Change::UpsertEntity {
                ty: group_t.clone(),
                id: g.id.clone(),
                name: Some(g.name.clone()),
                attributes,
            });
        }
        // Queues.
        for (i, q) in self.queues.clone().iter().enumerate() {
            let mut attributes = Vec::new();
            for (_, a) in attrs_of(QUEUE) {
                let v = self.attr_value(&a, i, None);
                attributes.push((a.name.clone(), v));
            }
            entities.push(Change::UpsertEntity {
                ty: queue_t.clone(),
                id: q.id.clone(),
                name: Some(q.name.clone()),
                attributes,
            });
        }

        // Built-in relations.
        let rel_name = |t: usize, r: usize| {
            p.relation_def(t, r)
                .map(|x| x.name.clone())
                .unwrap_or_default()
        };
        let parent_rel = rel_name(ORG_UNIT, ORG_PARENT);
        for o in &self.orgs {
            if let Some(par) = o.parent.and_then(|x| self.orgs.get(x)) {
                tuples.push(tuple(&org_t, &o.id, &parent_rel, &org_t, &par.id));
            }
        }
        let user_org_rel = rel_name(USER, rolecall_core::profile::USER_ORG_UNIT);
        for u in &self.users {
            tuples.push(tuple(
                &user_t,
                &u.id,
                &user_org_rel,
                &org_t,
                &self.org_id(u.org),
            ));
        }
        let members_rel = rel_name(GROUP, GROUP_MEMBERS);
        for g in &self.groups {
            for &m in &g.members {
                tuples.push(tuple(
                    &group_t,
                    &g.id,
                    &members_rel,
                    &user_t,
                    &self.user_id(m),
                ));
            }
        }
        let q_org = rel_name(QUEUE, rolecall_core::profile::QUEUE_ORG_UNIT);
        let q_members = rel_name(QUEUE, rolecall_core::profile::QUEUE_MEMBERS);
        let q_sups = rel_name(QUEUE, QUEUE_SUPERVISORS);
        for q in &self.queues {
            tuples.push(tuple(&queue_t, &q.id, &q_org, &org_t, &self.org_id(q.org)));
            for &m in &q.members {
                tuples.push(tuple(
                    &queue_t,
                    &q.id,
                    &q_members,
                    &user_t,
                    &self.user_id(m),
                ));
            }
            for &s in &q.supervisors {
                tuples.push(tuple(&queue_t, &q.id, &q_sups, &user_t, &self.user_id(s)));
            }
        }

        // Relations the profile adds to built-in types.
        let target_id = |t: usize| p.types.get(t).map(|x| x.id.clone()).unwrap_or_default();
        for rd in extra_rels(ORG_UNIT, ORG_PARENT + 1) {
            for o in 0..self.orgs.len() {
                let oid = self.org_id(o);
                let targets: Vec<String> = if rd.target == USER {
                    // e.g. a call center's `agents`: the people working there.
                    if !self.home.contains(&o) {
                        continue;
                    }
                    let mut living = self.living(o, Tier::Supervisor);
                    living.extend(self.living(o, Tier::Agent));
                    let ids: Vec<String> = living.iter().map(|&u| self.user_id(u)).collect();
                    if rd.many {
                        ids
                    } else {
                        ids.into_iter().take(1).collect()
                    }
                } else {
                    let ctx = Ctx {
                        unit: Some(o),
                        ..Ctx::default()
                    };
                    self.relation_targets(&rd, ctx)
                };
                for t in targets {
                    tuples.push(tuple(&org_t, &oid, &rd.name, &target_id(rd.target), &t));
                }
            }
        }
        for rd in extra_rels(USER, USER_SUPERVISED + 1) {
            for u in 0..self.users.len() {
                let Some(user) = self.users.get(u).cloned() else {
                    continue;
                };
                let ctx = Ctx {
                    unit: Some(user.org),
                    ..Ctx::default()
                };
                let targets: Vec<String> = self
                    .relation_targets(&rd, ctx)
                    .into_iter()
                    .filter(|t| !(rd.target == USER && *t == user.id))
                    .collect();
                for t in targets {
                    tuples.push(tuple(
                        &user_t,
                        &user.id,
                        &rd.name,
                        &target_id(rd.target),
                        &t,
                    ));
                }
            }
        }
        for rd in extra_rels(GROUP, GROUP_MEMBERS + 1) {
            for g in self.groups.clone() {
                for t in self.relation_targets(&rd, Ctx::default()) {
                    tuples.push(tuple(&group_t, &g.id, &rd.name, &target_id(rd.target), &t));
                }
            }
        }
        for rd in extra_rels(QUEUE, QUEUE_SUPERVISORS + 1) {
            for q in 0..self.queues.len() {
                let Some(queue) = self.queues.get(q).cloned() else {
                    continue;
                };
                let ctx = Ctx {
                    queue: Some(q),
                    unit: Some(queue.org),
                    owned: false,
                };
                for t in self.relation_targets(&rd, ctx) {
                    tuples.push(tuple(
                        &queue_t,
                        &queue.id,
                        &rd.name,
                        &target_id(rd.target),
                        &t,
                    ));
                }
            }
        }
    }

    /// Where the `n`-th instance of a type lives: a queue, and an org unit for each
    /// org-unit relation (a relation named after a kind gets a unit of that kind).
    fn place(&mut self, rels: &[RelationDef], owned: bool) -> (Ctx, BTreeMap<String, usize>) {
        let wk_agent_org = self.users.get(self.wk_agent).map_or(0, |u| u.org);
        let mut ctx = Ctx {
            owned,
            ..Ctx::default()
        };
        if rels.iter().any(|r| r.target == QUEUE) {
            let mine: Vec<usize> = (0..self.queues.len())
                .filter(|&q| {
                    self.queues
                        .get(q)
                        .is_some_and(|x| x.members.contains(&self.wk_agent))
                })
                .collect();
            ctx.queue = if owned && !mine.is_empty() {
                mine.choose(&mut self.rng).copied()
            } else {
                let all: Vec<usize> = (0..self.queues.len()).collect();
                all.choose(&mut self.rng).copied()
            };
            ctx.unit = ctx.queue.and_then(|q| self.queues.get(q)).map(|q| q.org);
        }
        let mut units = BTreeMap::new();
        for r in rels.iter().filter(|r| r.target == ORG_UNIT) {
            let kind = self.p.org_kind(&r.name);
            let unit = match kind {
                Some(k) => {
                    let anchor = if owned { Some(wk_agent_org) } else { ctx.unit };
                    match anchor.and_then(|a| self.ancestor_of_kinds(a, &[k])) {
                        Some(u) => Some(u),
                        None => {
                            let of_kind: Vec<usize> = (0..self.orgs.len())
                                .filter(|&o| self.org(o).is_some_and(|x| x.kind == Some(k)))
                                .collect();
                            of_kind.choose(&mut self.rng).copied()
                        }
                    }
                }
                None => match (owned, ctx.unit) {
                    (true, _) => Some(wk_agent_org),
                    (false, Some(u)) => Some(u),
                    (false, None) => self.home.clone().choose(&mut self.rng).copied(),
                },
            };
            if let Some(u) = unit {
                units.insert(r.name.clone(), u);
                if ctx.unit.is_none() {
                    ctx.unit = Some(u);
                }
            }
        }
        (ctx, units)
    }

    fn emit_resources(&mut self, entities: &mut Vec<Change>, tuples: &mut Vec<Change>) {
        let p = self.p;
        for def in p.types.iter().filter(|t| !t.builtin && t.id != "tenant") {
            let rels: Vec<RelationDef> = def
                .relations
                .iter()
                .filter(|r| r.inverse.is_none())
                .cloned()
                .collect();
            for n in 1..=RESOURCES_PER_TYPE {
                let id = format!("{}-{n:04}", def.id);
                let mut attributes = Vec::new();
                for a in &def.attributes {
                    let v = self.attr_value(a, n, None);
                    attributes.push((a.name.clone(), v));
                }
                entities.push(Change::UpsertEntity {
                    ty: def.id.clone(),
                    id: id.clone(),
                    name: Some(format!("{} #{}", def.name, 1000 + n)),
                    attributes,
                });
                let (ctx, units) = self.place(&rels, n <= AGENT_OWNED);
                for rd in &rels {
                    let targets = match (rd.target, units.get(&rd.name)) {
                        (ORG_UNIT, Some(&u)) => vec![self.org_id(u)],
                        _ => {
                            // Users of a unit-anchored resource come from that unit.
                            let mut c = ctx;
                            if let Some(&u) = units.values().next() {
                                c.unit = Some(u);
                            }
                            self.relation_targets(rd, c)
                        }
                    };
                    let stype = p
                        .types
                        .get(rd.target)
                        .map(|t| t.id.clone())
                        .unwrap_or_default();
                    for t in targets {
                        tuples.push(tuple(&def.id, &id, &rd.name, &stype, &t));
                    }
                }
            }
        }
    }

    // ---- roles ---------------------------------------------------------------------

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
    fn plan_roles(&mut self) -> Roles {
        let p = self.p;
        let closures: Vec<BTreeSet<PrivId>> = p.roles.iter().map(|r| self.closure(r)).collect();
        let size = |i: usize| closures.get(i).map_or(0, BTreeSet::len);
        let n = p.roles.len();
        // Among equals, prefer templates that appoint more and that no other includes
        // (Company Administrator over Office Administrator).
        let rank = |i: usize| {
            let id = p.roles.get(i).map(|r| r.id.as_str()).unwrap_or_default();
            let appoints = p
                .appointments
                .iter()
                .filter(|a| a.by.iter().any(|b| b == id))
                .count();
            let top = !p.roles.iter().any(|r| r.includes.iter().any(|x| x == id));
            (appoints, top, std::cmp::Reverse(i))
        };
        let primary = (0..n).max_by_key(|&i| (size(i), rank(i)));
        let lower = |i: usize| {
            p.roles
                .get(i)
                .map(|r| format!("{} {}", r.id, r.name).to_lowercase())
                .unwrap_or_default()
        };
        let agent = (0..n)
            .find(|&i| p.roles.get(i).is_some_and(|r| r.id == "agent"))
            .or_else(|| {
                (0..n).find(|&i| {
                    let s = lower(i);
                    s.contains("agent") && !s.contains("admin") && !s.contains("supervis")
                })
            })
            .or_else(|| {
                (0..n)
                    .filter(|&i| Some(i) != primary || n == 1)
                    .min_by_key(|&i| (size(i), i))
            });
        let supervisor = (0..n)
            .find(|&i| Some(i) != agent && lower(i).contains("supervisor"))
            .or_else(|| {
                (0..n)
                    .filter(|&i| Some(i) != agent && Some(i) != primary)
                    .max_by_key(|&i| (size(i), std::cmp::Reverse(i)))
            })
            .or(primary);
        // The admin: the most powerful template, then whichever adds most, until
        // every privilege any template holds is covered.
        let mut admin_set: Vec<usize> = primary.into_iter().collect();
        let mut covered: BTreeSet<PrivId> = primary
            .and_then(|i| closures.get(i).cloned())
            .unwrap_or_default();
        loop {
            let best = (0..n)
                .filter(|i| !admin_set.contains(i))
                .map(|i| {
                    let gain = closures
                        .get(i)
                        .map_or(0, |c| c.difference(&covered).count());
                    (gain, rank(i), i)
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
        // The next role up: a template that includes it, smallest first.
        let includer = |t: usize| {
            let id = p.roles.get(t).map(|r| r.id.clone()).unwrap_or_default();
            (0..n)
                .filter(|&i| p.roles.get(i).is_some_and(|r| r.includes.contains(&id)))
                .min_by_key(|&i| (size(i), i))
        };
        let mut r = Roles {
            agent,
            supervisor,
            admin_set,
            ..Roles::default()
        };
        let mut customs = Vec::new();
        if let Some(a) = agent {
            let next = includer(a).or(supervisor.filter(|&s| s != a));
            r.senior_agent = self.senior(a, next, &mut customs);
            r.limited_agent = self.limited(a, &mut customs);
        }
        if let Some(s) = supervisor.filter(|&s| Some(s) != agent) {
            let next = includer(s).or(primary.filter(|&x| x != s));
            r.senior_supervisor = self.senior(s, next, &mut customs);
            r.limited_supervisor = self.limited(s, &mut customs);
            r.open_supervisor = self.without_defaults(s, &mut customs);
        }
        // A limited copy of the first administrative template with a few grants of
        // its own: the admin's first, else any other.
        let others = (0..n).filter(|i| !r.admin_set.contains(i));
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
        r
    }

    // ---- assignments ---------------------------------------------------------------

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

    fn assignments(&self, r: &Roles) -> Vec<Assignment> {
        let p = self.p;
        let tid = |t: usize| p.roles.get(t).map(|x| x.id.clone()).unwrap_or_default();
        let mut out: Vec<Assignment> = Vec::new();
        let mut give = |user: usize, role: String, scope: Scope, expires_at: Option<i64>| {
            out.push(Assignment {
                id: format!("a{}", out.len() + 1),
                principal: self.user_id(user),
                role,
                scope,
                expires_at,
            });
        };
        let home0 = self.home.first().copied().unwrap_or(0);

        // The well-known users.
        for &t in &r.admin_set {
            let role = match (&r.open_supervisor, Some(t) == r.supervisor) {
                (Some(open), true) => open.clone(),
                _ => tid(t),
            };
            give(self.wk_admin, role, self.widest_scope(&tid(t)), None);
        }
        if let Some(s) = r.supervisor {
            let scope = self.scope_for(
                &tid(s),
                self.wk_supervisor,
                Fallback::Unit(self.top_unit(home0)),
            );
            give(self.wk_supervisor, tid(s), scope, None);
        }
        if let Some(a) = r.agent {
            let scope = self.scope_for(&tid(a), self.wk_agent, Fallback::Tenant);
            give(self.wk_agent, tid(a), scope, None);
        }

        // Administrators of every other template, where the rules say they may be.
        let mut taken = BTreeSet::new();
        for t in 0..p.roles.len() {
            if Some(t) == r.agent || Some(t) == r.supervisor {
                continue;
            }
            let id = tid(t);
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
                && let Some(u) = self.pick_holder(0, &mut taken)
            {
                give(u, id.clone(), Scope::Tenant, None);
            }
            match (&rule, deepest) {
                (_, Some(k)) => {
                    let units: Vec<usize> = (0..self.orgs.len())
                        .filter(|&o| self.org(o).is_some_and(|x| x.kind == Some(k)))
                        .take(20)
                        .collect();
                    for o in units {
                        if let Some(u) = self.pick_holder(o, &mut taken) {
                            give(u, id.clone(), Scope::OrgUnits(vec![self.org_id(o)]), None);
                        }
                    }
                }
                (None, None) => {
                    // No rule: one more holder over a single top-level unit.
                    let last_top = (0..self.orgs.len())
                        .rev()
                        .find(|&o| self.org(o).is_some_and(|x| x.depth == 1));
                    if let Some(o) = last_top
                        && let Some(u) = self.pick_holder(o, &mut taken)
                    {
                        give(u, id.clone(), Scope::OrgUnits(vec![self.org_id(o)]), None);
                    }
                }
                (Some(_), None) => {}
            }
        }
        if let Some((limited, base)) = &r.limited_admin {
            // Over one unit of the base template's widest allowed kind, else tenant-wide.
            let unit = match self.widest_scope(&tid(*base)) {
                Scope::OrgUnits(ids) => ids
                    .last()
                    .and_then(|id| self.orgs.iter().position(|o| o.id == *id)),
                _ => None,
            };
            if let Some(u) = self.pick_holder(unit.unwrap_or(0), &mut taken) {
                let scope = match unit {
                    Some(o) => Scope::OrgUnits(vec![self.org_id(o)]),
                    None => Scope::Tenant,
                };
                give(u, limited.clone(), scope, None);
            }
        }

        // Supervisors.
        if let Some(s) = r.supervisor {
            let sid = tid(s);
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
                    _ if j % 5 == 4 && r.limited_supervisor.is_some() => {
                        r.limited_supervisor.clone()
                    }
                    _ if j % 7 == 6 && r.open_supervisor.is_some() => r.open_supervisor.clone(),
                    _ => None,
                }
                .unwrap_or_else(|| sid.clone());
                give(u, role, self.scope_for(&sid, u, fallback), None);
            }
        }

        // Agents; one covers for a supervisor until spring, one is a contractor.
        if let Some(a) = r.agent {
            let aid = tid(a);
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
                give(u, role, self.scope_for(&aid, u, Fallback::Tenant), expires);
            }
            let cover_unit = self.home.get(1).copied().unwrap_or(home0);
            let cover = agents
                .iter()
                .copied()
                .find(|&u| self.users.get(u).is_some_and(|x| x.org == cover_unit));
            if let (Some(u), Some(s)) = (cover, r.supervisor.filter(|&s| Some(s) != r.agent)) {
                let org = self.users.get(u).map_or(0, |x| x.org);
                let scope = self.scope_for(&tid(s), u, Fallback::Unit(self.top_unit(org)));
                give(u, tid(s), scope, Some(COVER_EXPIRES));
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use rolecall_core::profile::{ORG_UNIT, QUEUE, TENANT, USER};
    use rolecall_core::snapshot::AppointRequest;
    use rolecall_core::state::TenantState;
    use rolecall_core::{Change, MemState};
    use rolecall_core::{Context, Profile, Request, Snapshot, load_profile};

    use super::*;

    const PROFILES: [(&str, &str); 5] = [
        (
            "contact-center-pro",
            include_str!("../../../profiles/contact-center-pro.toml"),
        ),
        (
            "goto-contact-center",
            include_str!("../../../profiles/goto-contact-center.toml"),
        ),
        (
            "horizon-contact",
            include_str!("../../../profiles/horizon-contact.toml"),
        ),
        (
            "phones-pro",
            include_str!("../../../profiles/phones-pro.toml"),
        ),
        (
            "zoom-contact-center",
            include_str!("../../../profiles/zoom-contact-center.toml"),
        ),
    ];

    fn profile(name: &str, text: &str) -> Profile {
        load_profile(&format!("{name}.toml"), text).unwrap_or_else(|e| panic!("{name}: {e:?}"))
    }

    fn apply(p: &Profile, changes: &[Change]) -> MemState {
        let mut mem = MemState::new(TenantState {
            tenant_id: "demo".into(),
            ..Default::default()
        });
        for c in changes {
            mem.apply(p, c);
        }
        mem
    }

    fn snapshot(name: &str, p: &Profile, mem: &MemState) -> Snapshot {
        Snapshot::build(Arc::new(p.clone()), &mem.state).unwrap_or_else(|errors| {
            let msgs: Vec<String> = errors.iter().take(20).map(|e| e.message.clone()).collect();
            panic!("{name}: demo state does not build:\n{}", msgs.join("\n"))
        })
    }

    /// Every resource id of type `ty` in the snapshot.
    fn ids(s: &Snapshot, ty: usize) -> Vec<String> {
        if ty == TENANT {
            return vec![s.tenant_id().to_owned()];
        }
        (0..s.entity_count(ty) as u32)
            .filter_map(|e| s.entity_id(ty, e).map(str::to_owned))
            .collect()
    }

    fn allowed(s: &Snapshot, who: &str, action: &str, ty: &str, id: &str) -> bool {
        let ctx = Context::new();
        s.check(&Request {
            principal: who,
            action,
            resource_type: ty,
            resource_id: id,
            context: &ctx,
            now: DEMO_EPOCH,
        })
        .allowed
    }

    #[test]
    fn every_profile_gets_a_demo_that_builds() {
        for (name, text) in PROFILES {
            let p = profile(name, text);
            let changes = demo_changes(name, &p, 42);
            let mem = apply(&p, &changes);
            let s = snapshot(name, &p, &mem);

            assert!(s.entity_count(USER) >= 200, "{name}: users");
            assert!(s.entity_count(QUEUE) >= 10, "{name}: queues");
            let kinds: BTreeSet<String> = mem
                .state
                .entities
                .iter()
                .filter(|e| e.ty == "org_unit")
                .filter_map(|e| e.attributes.iter().find(|(k, _)| k == "kind"))
                .map(|(_, v)| v.to_string())
                .collect();
            assert!(
                kinds.len() >= p.org_kinds.len().min(3),
                "{name}: org kinds {kinds:?}"
            );
            for (ty, def) in p.types.iter().enumerate().filter(|(_, t)| !t.builtin) {
                assert!(s.entity_count(ty) >= 1, "{name}: no {}", def.id);
            }
            for who in [ADMIN_USER, SUPERVISOR_USER, AGENT_USER] {
                assert!(s.entity(USER, who).is_some(), "{name}: no `{who}`");
                assert!(
                    mem.state.assignments.iter().any(|a| a.principal == who),
                    "{name}: `{who}` has no assignment"
                );
            }
            // Every role that may appoint has a holder; at least one assignment expires
            // after the demo epoch; assignment ids are a1, a2, ….
            for a in &p.appointments {
                for by in &a.by {
                    assert!(
                        mem.state.assignments.iter().any(|x| &x.role == by),
                        "{name}: nobody holds `{by}`"
                    );
                }
            }
            assert!(
                mem.state
                    .assignments
                    .iter()
                    .any(|a| a.expires_at.is_some_and(|t| t > DEMO_EPOCH))
            );
            let assignment_ids: Vec<&str> = changes
                .iter()
                .filter_map(|c| match c {
                    Change::PutAssignment(a) => Some(a.id.as_str()),
                    _ => None,
                })
                .collect();
            for (i, id) in assignment_ids.iter().enumerate() {
                assert_eq!(*id, format!("a{}", i + 1));
            }
            assert!(!mem.state.roles.is_empty(), "{name}: no custom roles");
            assert!(s.entity_count(ORG_UNIT) >= 3);
        }
    }

    #[test]
    fn changes_come_in_order_and_never_write_inverses() {
        for (name, text) in PROFILES {
            let p = profile(name, text);
            let changes = demo_changes(name, &p, 7);
            let rank = |c: &Change| match c {
                Change::UpsertEntity { .. } => 0,
                Change::PutRelation(_) => 1,
                Change::PutRole { .. } => 2,
                Change::PutAssignment(_) => 3,
                Change::SetSetting { .. } => 4,
                other => panic!("{name}: unexpected change {other:?}"),
            };
            assert!(
                changes.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])),
                "{name}"
            );
            for c in &changes {
                if let Change::PutRelation(t) = c {
                    let ty = p.type_id(&t.rtype).unwrap();
                    let def = &p.types[ty];
                    let rel = &def.relations[def.relation(&t.relation).unwrap()];
                    assert!(rel.inverse.is_none(), "{name}: writes inverse {t:?}");
                }
            }
        }
    }

    #[test]
    fn admin_reaches_every_resource_type_and_agent_does_less() {
        for (name, text) in PROFILES {
            let p = profile(name, text);
            let mem = apply(&p, &demo_changes(name, &p, 42));
            let s = snapshot(name, &p, &mem);
            let mut admin_only = false;
            for (ty, def) in p.types.iter().enumerate() {
                let actions: Vec<&str> = p
                    .actions
                    .iter()
                    .filter(|a| a.resource == ty)
                    .map(|a| a.id.as_str())
                    .collect();
                if actions.is_empty() {
                    continue;
                }
                let resources = ids(&s, ty);
                let mut found = false;
                for action in &actions {
                    for id in &resources {
                        if allowed(&s, ADMIN_USER, action, &def.id, id) {
                            found = true;
                            if !allowed(&s, AGENT_USER, action, &def.id, id) {
                                admin_only = true;
                            }
                            break;
                        }
                    }
                }
                assert!(found, "{name}: admin may do nothing on any {}", def.id);
            }
            assert!(admin_only, "{name}: agent may do everything admin may");
        }
    }

    #[test]
    fn admin_may_make_every_appointment_the_demo_made() {
        for (name, text) in PROFILES {
            let p = profile(name, text);
            let mem = apply(&p, &demo_changes(name, &p, 42));
            let s = snapshot(name, &p, &mem);
            let mut checked = 0;
            for a in &mem.state.assignments {
                if !p.appointments.iter().any(|r| r.role == a.role)
                    || matches!(a.scope, rolecall_core::Scope::Queues(_))
                {
                    continue;
                }
                let d = s.check_appointment(&AppointRequest {
                    appointer: ADMIN_USER,
                    role: &a.role,
                    target: &a.principal,
                    scope: &a.scope,
                    now: DEMO_EPOCH,
                });
                assert!(d.decision.allowed, "{name}: {a:?}: {}", d.reason);
                checked += 1;
            }
            assert_eq!(checked > 0, !p.appointments.is_empty(), "{name}");
        }
    }

    #[test]
    fn same_seed_same_changes() {
        for (name, text) in PROFILES {
            let p = profile(name, text);
            assert_eq!(
                demo_changes(name, &p, 1),
                demo_changes(name, &p, 1),
                "{name}"
            );
            assert_ne!(
                demo_changes(name, &p, 1),
                demo_changes(name, &p, 2),
                "{name}"
            );
        }
    }
}
