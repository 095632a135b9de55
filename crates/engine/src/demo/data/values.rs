//! Values for generated entities: attribute values that fit their declared type or
//! enum, and targets for a relation that agree with where the entity lives (its queue,
//! its unit, or the well-known users for the ones they own).

use std::collections::BTreeSet;

use rand::Rng;
use rand::seq::IndexedRandom;
use rolecall_core::profile::{
    AttrDef, GROUP, ORG_UNIT, QUEUE, RelationDef, TENANT, USER, Value, ValueType,
};

use super::Demo;
use super::names::slug;
use super::people::Tier;
use super::resources::RESOURCES_PER_TYPE;

/// Where a generated value lives: what its relations should agree with.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Ctx {
    pub(super) queue: Option<usize>,
    pub(super) unit: Option<usize>,
    /// Owned by the well-known agent (and reviewed by the well-known supervisor).
    pub(super) owned: bool,
}

impl Demo<'_> {
    /// A valid value for attribute `a`; `high` prefers the last enum value (senior
    /// users get the advanced seat).
    pub(super) fn attr_value(&mut self, a: &AttrDef, n: usize, high: Option<bool>) -> Value {
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
    pub(super) fn relation_targets(&mut self, rd: &RelationDef, ctx: Ctx) -> Vec<String> {
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
}
