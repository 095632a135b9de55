//! Instances of the profile's custom resource types: 200 of each, with valid
//! attribute values and relations that point at real queues, org units and users,
//! the first few owned by the well-known agent.

use std::collections::BTreeMap;

use rand::seq::IndexedRandom;
use rolecall_core::Change;
use rolecall_core::profile::{ORG_UNIT, QUEUE, RelationDef};

use super::values::Ctx;
use super::{Demo, tuple};

/// How many instances of each custom resource type.
pub(super) const RESOURCES_PER_TYPE: usize = 200;
/// How many instances of each custom type belong to the well-known agent.
const AGENT_OWNED: usize = 6;

impl Demo<'_> {
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

    pub(super) fn emit_resources(&mut self, entities: &mut Vec<Change>, tuples: &mut Vec<Change>) {
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
}
