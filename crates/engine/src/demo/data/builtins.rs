//! Entities and relations of the built-in types: org units, users, groups and queues
//! with their attributes, the built-in relations between them, and the relations a
//! profile adds to them (never a computed inverse).

use rolecall_core::Change;
use rolecall_core::profile::{
    AttrDef, GROUP, GROUP_MEMBERS, ORG_KIND_ATTR, ORG_PARENT, ORG_UNIT, QUEUE, QUEUE_MEMBERS,
    QUEUE_ORG_UNIT, QUEUE_SUPERVISORS, RelationDef, USER, USER_ORG_UNIT, USER_SUPERVISED, Value,
};

use super::people::Tier;
use super::values::Ctx;
use super::{Demo, tuple};

impl Demo<'_> {
    /// The built-in types' entities onto `entities`, then their relations onto
    /// `tuples`: built-in ones first, then those the profile adds.
    pub(super) fn emit_builtins(&mut self, entities: &mut Vec<Change>, tuples: &mut Vec<Change>) {
        self.emit_org_units(entities);
        self.emit_users(entities);
        let groups: Vec<(String, String)> = self
            .groups
            .iter()
            .map(|g| (g.id.clone(), g.name.clone()))
            .collect();
        self.emit_plain(GROUP, &groups, entities);
        let queues: Vec<(String, String)> = self
            .queues
            .iter()
            .map(|q| (q.id.clone(), q.name.clone()))
            .collect();
        self.emit_plain(QUEUE, &queues, entities);
        self.builtin_relations(tuples);
        self.extra_org_unit_relations(tuples);
        self.extra_user_relations(tuples);
        self.extra_group_relations(tuples);
        self.extra_queue_relations(tuples);
    }

    /// The id of type `t`.
    fn type_id(&self, t: usize) -> String {
        self.p
            .types
            .get(t)
            .map(|x| x.id.clone())
            .unwrap_or_default()
    }

    /// The attributes of type `t`, numbered.
    fn attrs_of(&self, t: usize) -> Vec<(usize, AttrDef)> {
        self.p
            .types
            .get(t)
            .map(|x| x.attributes.iter().cloned().enumerate().collect())
            .unwrap_or_default()
    }

    /// Relations the profile adds to built-in type `t` (after its `builtin` built-in
    /// ones), not computed inverses.
    fn extra_rels(&self, t: usize, builtin: usize) -> Vec<RelationDef> {
        self.p
            .types
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
    }

    /// The name of relation `r` of type `t`.
    fn rel_name(&self, t: usize, r: usize) -> String {
        self.p
            .relation_def(t, r)
            .map(|x| x.name.clone())
            .unwrap_or_default()
    }

    /// Org units, with their kind and the profile's other org-unit attributes.
    fn emit_org_units(&mut self, entities: &mut Vec<Change>) {
        let p = self.p;
        let org_t = self.type_id(ORG_UNIT);
        for (i, o) in self.orgs.clone().iter().enumerate() {
            let mut attributes = Vec::new();
            if let Some(k) = o.kind.and_then(|k| p.org_kinds.get(k)) {
                attributes.push(("kind".to_owned(), Value::Str(k.id.clone())));
            }
            for (ai, a) in self.attrs_of(ORG_UNIT) {
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
    }

    /// Users; administrators and supervisors get the higher enum values.
    fn emit_users(&mut self, entities: &mut Vec<Change>) {
        let user_t = self.type_id(USER);
        for (i, u) in self.users.clone().iter().enumerate() {
            let high = matches!(u.tier, Tier::Resident | Tier::Supervisor);
            let mut attributes = Vec::new();
            for (_, a) in self.attrs_of(USER) {
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
    }

    /// Entities of type `t` (groups, queues) from their `(id, name)`, with attribute
    /// values of no preference.
    fn emit_plain(&mut self, t: usize, items: &[(String, String)], entities: &mut Vec<Change>) {
        let ty = self.type_id(t);
        for (i, (id, name)) in items.iter().enumerate() {
            let mut attributes = Vec::new();
            for (_, a) in self.attrs_of(t) {
                let v = self.attr_value(&a, i, None);
                attributes.push((a.name.clone(), v));
            }
            entities.push(Change::UpsertEntity {
                ty: ty.clone(),
                id: id.clone(),
                name: Some(name.clone()),
                attributes,
            });
        }
    }

    /// Org parents, users' org units, group members, queues' org units, members and
    /// supervisors.
    fn builtin_relations(&self, tuples: &mut Vec<Change>) {
        let (org_t, user_t) = (self.type_id(ORG_UNIT), self.type_id(USER));
        let (group_t, queue_t) = (self.type_id(GROUP), self.type_id(QUEUE));
        let parent_rel = self.rel_name(ORG_UNIT, ORG_PARENT);
        for o in &self.orgs {
            if let Some(par) = o.parent.and_then(|x| self.orgs.get(x)) {
                tuples.push(tuple(&org_t, &o.id, &parent_rel, &org_t, &par.id));
            }
        }
        let user_org_rel = self.rel_name(USER, USER_ORG_UNIT);
        for u in &self.users {
            tuples.push(tuple(
                &user_t,
                &u.id,
                &user_org_rel,
                &org_t,
                &self.org_id(u.org),
            ));
        }
        let members_rel = self.rel_name(GROUP, GROUP_MEMBERS);
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
        let q_org = self.rel_name(QUEUE, QUEUE_ORG_UNIT);
        let q_members = self.rel_name(QUEUE, QUEUE_MEMBERS);
        let q_sups = self.rel_name(QUEUE, QUEUE_SUPERVISORS);
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
    }

    /// Relations the profile adds to org units; one to users (a call center's
    /// `agents`) holds the people working in a home unit.
    fn extra_org_unit_relations(&mut self, tuples: &mut Vec<Change>) {
        let org_t = self.type_id(ORG_UNIT);
        for rd in self.extra_rels(ORG_UNIT, ORG_PARENT + 1) {
            for o in 0..self.orgs.len() {
                let oid = self.org_id(o);
                let targets: Vec<String> = if rd.target == USER {
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
                    tuples.push(tuple(&org_t, &oid, &rd.name, &self.type_id(rd.target), &t));
                }
            }
        }
    }

    /// Relations the profile adds to users, with targets around the user's unit and
    /// never the user itself.
    fn extra_user_relations(&mut self, tuples: &mut Vec<Change>) {
        let user_t = self.type_id(USER);
        for rd in self.extra_rels(USER, USER_SUPERVISED + 1) {
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
                        &self.type_id(rd.target),
                        &t,
                    ));
                }
            }
        }
    }

    /// Relations the profile adds to groups.
    fn extra_group_relations(&mut self, tuples: &mut Vec<Change>) {
        let group_t = self.type_id(GROUP);
        for rd in self.extra_rels(GROUP, GROUP_MEMBERS + 1) {
            for g in self.groups.clone() {
                for t in self.relation_targets(&rd, Ctx::default()) {
                    tuples.push(tuple(
                        &group_t,
                        &g.id,
                        &rd.name,
                        &self.type_id(rd.target),
                        &t,
                    ));
                }
            }
        }
    }

    /// Relations the profile adds to queues, with targets from the queue and its unit.
    fn extra_queue_relations(&mut self, tuples: &mut Vec<Change>) {
        let queue_t = self.type_id(QUEUE);
        for rd in self.extra_rels(QUEUE, QUEUE_SUPERVISORS + 1) {
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
                        &self.type_id(rd.target),
                        &t,
                    ));
                }
            }
        }
    }
}
