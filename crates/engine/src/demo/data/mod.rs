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
//! holds, starting with the most powerful one, tenant-wide — leaving out roles given
//! only to people meeting a condition, such as Phones Pro's supervisors, who must be
//! agents of their call center), [`SUPERVISOR_USER`] (a
//! supervisor-like template over one org unit, supervising that unit's queues) and
//! [`AGENT_USER`] (an agent-like template, member of two of those queues).
//!
//! The steps live in submodules: `names` (name lists, slugs), `org` (the org tree),
//! `people` (users, queues, groups), `values` (attribute values and relation targets),
//! `builtins` (entities and relations of the built-in types), `resources` (custom
//! resource instances), `roles` (custom roles) and `assignments`.

mod assignments;
mod builtins;
mod names;
mod org;
mod people;
mod resources;
mod roles;
#[cfg(test)]
mod tests;
mod values;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rolecall_core::Profile;
use rolecall_core::{Change, Tuple};

use names::fnv1a;
use org::Org;
use people::{Group, Queue, User};

/// The demo's reference time, 2027-01-01T00:00:00Z (Unix seconds): every assignment
/// is valid at this time; the two expiring ones expire after it.
pub const DEMO_EPOCH: i64 = 1_798_761_600;
/// The well-known administrator: tenant-wide holder of the most powerful templates.
pub const ADMIN_USER: &str = "admin";
/// The well-known supervisor: a supervisor-like template over one org unit.
pub const SUPERVISOR_USER: &str = "supervisor";
/// The well-known agent: an agent-like template, member of two queues.
pub const AGENT_USER: &str = "agent";

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

/// The generator's state: the profile, the random source, and what it has built so far.
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
}
