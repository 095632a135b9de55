//! The tenant in cedar-policy 4.x, encoded the way Cedar models RBAC: membership is the
//! entity hierarchy (`principal in X`), one policy per action kind.
//!
//! Entities (parents are what an entity is "in"):
//! - `User::"u1"` in the `Role`s it holds tenant-wide, the `ScopedRole`s it holds over
//!   an org unit, and the `Queue`s it is a member of.
//! - `Role::"r"` in the roles it includes and in the `Privilege` nodes it grants.
//! - `Privilege::"p"` is "holds p at some level"; a levelled privilege also has one node
//!   per level, `Privilege::"p#Modify"`, each in the level below it, the lowest in
//!   `Privilege::"p"`. A privilege's top node is in each child's top node (a parent
//!   held at its top includes its subtree).
//! - Org scope: one copy of that privilege graph per org unit (`ScopedPrivilege::"office2/p"`)
//!   and `ScopedRole::"office2/r"` in the scoped roles it includes and the scoped
//!   privileges it grants. `ScopedRole::"hq/r"` is in `ScopedRole::"office2/r"` for each
//!   child org unit, so a grant over an org unit covers its subtree.
//! - `OrgUnit::"office2"` has one attribute per privilege the policies test, pointing to
//!   that privilege's scoped node (`queue_monitor: ScopedPrivilege::"office2/queue_monitor"`),
//!   the TinyTodo pattern (`principal in resource.readers`).
//! - `Queue::"q1"` has `org: OrgUnit`; `Conversation::"c1"` has `agent: User` and
//!   `queue: Queue`.
//!
//! Requests: `hold.pN` on the tenant becomes action `hold` on resource
//! `Privilege::"pN"` (only tenant-wide grants cover the tenant itself).

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request, RestrictedExpression,
};
use rolecall_bench::workload::{ALL_QUEUES, Check, EDIT_ALL, EDIT_OWN, MONITOR};
use rolecall_core::Profile;
use rolecall_core::state::TenantState;

use crate::tenant::{self, Act, Held, PrivInfo};

/// The policies: one per action kind.
pub const POLICIES: &str = r#"
permit (principal, action == Action::"hold", resource is Privilege)
when { principal in resource };

permit (principal, action == Action::"queue.monitor", resource is Queue)
when {
  (principal in Privilege::"queue_monitor" || principal in resource.org.queue_monitor) &&
  (principal in Privilege::"all_queues" || principal in resource.org.all_queues ||
   principal in resource)
};

permit (principal, action == Action::"conversation.edit", resource is Conversation)
when {
  principal in Privilege::"edit_all" || principal in resource.queue.org.edit_all ||
  ((principal in Privilege::"edit_own" || principal in resource.queue.org.edit_own) &&
   resource.agent == principal)
};
"#;

/// The cedar engine.
pub struct Cedar {
    authorizer: Authorizer,
    policies: PolicySet,
    entities: Entities,
    user: EntityTypeName,
    privilege: EntityTypeName,
    queue: EntityTypeName,
    conversation: EntityTypeName,
    hold: EntityUid,
    monitor: EntityUid,
    edit: EntityUid,
}

fn ty(name: &str) -> Result<EntityTypeName, String> {
    EntityTypeName::from_str(name).map_err(|e| e.to_string())
}

struct Names {
    privilege: EntityTypeName,
    scoped_privilege: EntityTypeName,
    role: EntityTypeName,
    scoped_role: EntityTypeName,
}

impl Names {
    fn uid(t: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(t.clone(), EntityId::new(id))
    }

    /// The node of privilege `p` (at `level`, or "some level") in scope `org`.
    fn node(&self, org: Option<&str>, p: &str, level: Option<&str>) -> EntityUid {
        let id = match level {
            Some(l) => format!("{p}#{l}"),
            None => p.to_owned(),
        };
        match org {
            None => Self::uid(&self.privilege, &id),
            Some(o) => Self::uid(&self.scoped_privilege, &format!("{o}/{id}")),
        }
    }

    fn held(&self, org: Option<&str>, info: &PrivInfo, h: Held) -> Option<EntityUid> {
        match h {
            Held::Off => None,
            Held::Flag => Some(self.node(org, &info.id, None)),
            Held::Level(k) => Some(self.node(
                org,
                &info.id,
                Some(info.levels.get(k).map_or("", String::as_str)),
            )),
        }
    }

    fn top(&self, org: Option<&str>, info: &PrivInfo) -> EntityUid {
        let level = info
            .top_level()
            .and_then(|k| info.levels.get(k))
            .map(String::as_str);
        self.node(org, &info.id, level)
    }

    fn role(&self, org: Option<&str>, r: &str) -> EntityUid {
        match org {
            None => Self::uid(&self.role, r),
            Some(o) => Self::uid(&self.scoped_role, &format!("{o}/{r}")),
        }
    }
}

impl Cedar {
    /// Builds the entities and parses the policies.
    pub fn build(profile: &Profile, s: &TenantState) -> Result<Self, String> {
        let infos = tenant::privileges(profile)?;
        let names = Names {
            privilege: ty("Privilege")?,
            scoped_privilege: ty("ScopedPrivilege")?,
            role: ty("Role")?,
            scoped_role: ty("ScopedRole")?,
        };
        let (user_t, queue_t, conv_t, org_t) = (
            ty("User")?,
            ty("Queue")?,
            ty("Conversation")?,
            ty("OrgUnit")?,
        );
        let orgs: Vec<_> = tenant::of_type(s, "org_unit").collect();
        let mut scopes: Vec<Option<&str>> = vec![None];
        scopes.extend(orgs.iter().map(|o| Some(o.id.as_str())));
        let mut parents: HashMap<EntityUid, HashSet<EntityUid>> = HashMap::new();
        fn link(
            g: &mut HashMap<EntityUid, HashSet<EntityUid>>,
            child: EntityUid,
            parent: EntityUid,
        ) {
            g.entry(child).or_default().insert(parent);
        }
        // The privilege graph, once per scope.
        for &org in &scopes {
            for info in &infos {
                let any = names.node(org, &info.id, None);
                parents.entry(any.clone()).or_default();
                let mut below = any;
                for l in &info.levels {
                    let n = names.node(org, &info.id, Some(l));
                    link(&mut parents, n.clone(), below);
                    below = n;
                }
                let top = names.top(org, info);
                for &c in &info.children {
                    let child = infos.get(c).ok_or("bad child index")?;
                    link(&mut parents, top.clone(), names.top(org, child));
                }
            }
        }
        // Roles, tenant-wide and per org unit.
        for r in &s.roles {
            let mut grants = Vec::new();
            for (key, g) in &r.grants {
                let info = infos
                    .get(tenant::priv_index(profile, key)?)
                    .ok_or("bad privilege index")?;
                grants.push((info, tenant::held(info, g)?));
            }
            for &org in &scopes {
                let me = names.role(org, &r.id);
                parents.entry(me.clone()).or_default();
                for inc in &r.includes {
                    link(&mut parents, me.clone(), names.role(org, inc));
                }
                for &(info, h) in &grants {
                    if let Some(n) = names.held(org, info, h) {
                        link(&mut parents, me.clone(), n);
                    }
                }
            }
            for o in &orgs {
                if let Some(p) = tenant::rel1(o, "parent") {
                    link(
                        &mut parents,
                        names.role(Some(p), &r.id),
                        names.role(Some(&o.id), &r.id),
                    );
                }
            }
        }
        // Users: roles, scoped roles, queue memberships.
        for u in tenant::of_type(s, "user") {
            parents.entry(Names::uid(&user_t, &u.id)).or_default();
        }
        for a in &s.assignments {
            let user = Names::uid(&user_t, &a.principal);
            match tenant::org_scope(a)? {
                None => link(&mut parents, user, names.role(None, &a.role)),
                Some(units) => {
                    for unit in units {
                        link(&mut parents, user.clone(), names.role(Some(unit), &a.role));
                    }
                }
            }
        }
        for q in tenant::of_type(s, "queue") {
            for m in tenant::rel(q, "members") {
                link(
                    &mut parents,
                    Names::uid(&user_t, m),
                    Names::uid(&queue_t, &q.id),
                );
            }
        }
        let mut entities: Vec<Entity> = parents
            .into_iter()
            .map(|(uid, ps)| Entity::new_no_attrs(uid, ps))
            .collect();
        let ent =
            |t: &EntityTypeName, id: &str| RestrictedExpression::new_entity_uid(Names::uid(t, id));
        for o in &orgs {
            let attrs: HashMap<String, RestrictedExpression> =
                [MONITOR, ALL_QUEUES, EDIT_OWN, EDIT_ALL]
                    .iter()
                    .map(|p| {
                        (
                            (*p).to_owned(),
                            RestrictedExpression::new_entity_uid(names.node(Some(&o.id), p, None)),
                        )
                    })
                    .collect();
            entities.push(
                Entity::new(Names::uid(&org_t, &o.id), attrs, HashSet::new())
                    .map_err(|e| e.to_string())?,
            );
        }
        for q in tenant::of_type(s, "queue") {
            let mut attrs = HashMap::new();
            if let Some(o) = tenant::rel1(q, "org_unit") {
                attrs.insert("org".to_owned(), ent(&org_t, o));
            }
            entities.push(
                Entity::new(Names::uid(&queue_t, &q.id), attrs, HashSet::new())
                    .map_err(|e| e.to_string())?,
            );
        }
        for c in tenant::of_type(s, "conversation") {
            let mut attrs = HashMap::new();
            if let Some(a) = tenant::rel1(c, "agent") {
                attrs.insert("agent".to_owned(), ent(&user_t, a));
            }
            if let Some(q) = tenant::rel1(c, "queue") {
                attrs.insert("queue".to_owned(), ent(&queue_t, q));
            }
            entities.push(
                Entity::new(Names::uid(&conv_t, &c.id), attrs, HashSet::new())
                    .map_err(|e| e.to_string())?,
            );
        }
        let entities = Entities::from_entities(entities, None).map_err(|e| e.to_string())?;
        let policies = PolicySet::from_str(POLICIES).map_err(|e| e.to_string())?;
        let action_t = ty("Action")?;
        Ok(Self {
            authorizer: Authorizer::new(),
            policies,
            entities,
            user: user_t,
            privilege: names.privilege,
            queue: queue_t,
            conversation: conv_t,
            hold: Names::uid(&action_t, "hold"),
            monitor: Names::uid(&action_t, "queue.monitor"),
            edit: Names::uid(&action_t, "conversation.edit"),
        })
    }

    /// Decides one check: builds the Cedar request from the string ids and asks the
    /// authorizer.
    pub fn check(&self, c: &Check) -> Result<bool, String> {
        let principal = Names::uid(&self.user, &c.principal);
        let (action, resource) = match tenant::act(&c.action)? {
            Act::Hold(p) => (self.hold.clone(), Names::uid(&self.privilege, p)),
            Act::Monitor => (
                self.monitor.clone(),
                Names::uid(&self.queue, &c.resource_id),
            ),
            Act::Edit => (
                self.edit.clone(),
                Names::uid(&self.conversation, &c.resource_id),
            ),
        };
        let req = Request::new(principal, action, resource, Context::empty(), None)
            .map_err(|e| e.to_string())?;
        let resp = self
            .authorizer
            .is_authorized(&req, &self.policies, &self.entities);
        Ok(resp.decision() == Decision::Allow)
    }
}
