//! A tenant's state with an index, and the in-memory meaning of a [`Change`]: applying
//! it exactly as the store applies it to its tables. The engine keeps a [`MemState`]
//! per tenant and validates a batch (by building the resulting snapshot) before
//! anything is written.

use std::collections::{BTreeMap, HashMap};

use crate::Profile;
use crate::change::{Change, Tuple};
use crate::state::{Entity, TenantState};

/// A tenant's state with an index from (type, id) to entity position.
#[derive(Debug, Clone, Default)]
pub struct MemState {
    /// The state.
    pub state: TenantState,
    /// Each custom role's version.
    pub role_versions: BTreeMap<String, u64>,
    index: HashMap<(String, String), usize>,
}

impl MemState {
    /// A state with its index built.
    pub fn new(state: TenantState) -> Self {
        Self::with_versions(state, BTreeMap::new())
    }

    /// A state with its custom roles' versions, and its index built.
    pub fn with_versions(state: TenantState, role_versions: BTreeMap<String, u64>) -> Self {
        let mut m = MemState {
            state,
            role_versions,
            index: HashMap::new(),
        };
        m.reindex();
        m
    }

    fn reindex(&mut self) {
        self.index = self
            .state
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.ty.clone(), e.id.clone()), i))
            .collect();
    }

    /// The entity `ty:id`.
    pub fn entity(&self, ty: &str, id: &str) -> Option<&Entity> {
        self.index
            .get(&(ty.to_owned(), id.to_owned()))
            .and_then(|&i| self.state.entities.get(i))
    }

    fn entity_mut(&mut self, ty: &str, id: &str) -> Option<&mut Entity> {
        let i = *self.index.get(&(ty.to_owned(), id.to_owned()))?;
        self.state.entities.get_mut(i)
    }

    fn entity_or_new(&mut self, ty: &str, id: &str) -> Option<&mut Entity> {
        if !self.index.contains_key(&(ty.to_owned(), id.to_owned())) {
            self.index
                .insert((ty.to_owned(), id.to_owned()), self.state.entities.len());
            self.state.entities.push(Entity {
                ty: ty.to_owned(),
                id: id.to_owned(),
                ..Entity::default()
            });
        }
        self.entity_mut(ty, id)
    }

    /// Applies one change. `profile` tells which relations point at which type, so that
    /// deleting an entity removes the tuples whose subject it is.
    pub fn apply(&mut self, profile: &Profile, change: &Change) {
        match change {
            Change::UpsertEntity {
                ty,
                id,
                name,
                attributes,
            } => {
                if let Some(e) = self.entity_or_new(ty, id) {
                    e.name = name.clone();
                    e.attributes = attributes.clone();
                }
            }
            Change::DeleteEntity { ty, id } => {
                self.state
                    .entities
                    .retain(|e| !(e.ty == *ty && e.id == *id));
                let target = profile.type_id(ty);
                for e in &mut self.state.entities {
                    let Some(def) = profile.type_id(&e.ty).and_then(|t| profile.types.get(t))
                    else {
                        continue;
                    };
                    for (rel, targets) in &mut e.relations {
                        if def
                            .relation(rel)
                            .and_then(|r| def.relations.get(r))
                            .map(|r| r.target)
                            == target
                        {
                            targets.retain(|t| t != id);
                        }
                    }
                    e.relations.retain(|(_, t)| !t.is_empty());
                }
                self.reindex();
            }
            Change::PutRelation(t) => self.put(t),
            Change::DeleteRelation(t) => {
                if let Some(e) = self.entity_mut(&t.rtype, &t.rid) {
                    for (rel, targets) in &mut e.relations {
                        if *rel == t.relation {
                            targets.retain(|x| *x != t.sid);
                        }
                    }
                    e.relations.retain(|(_, ts)| !ts.is_empty());
                }
            }
            Change::PutRole { role, version } => {
                let s = &mut self.state;
                s.roles.retain(|r| r.id != role.id);
                s.roles.push(role.clone());
                s.roles.sort_by(|a, b| a.id.cmp(&b.id));
                self.role_versions.insert(role.id.clone(), *version);
            }
            Change::DeleteRole { id } => {
                self.state.roles.retain(|r| r.id != *id);
                self.role_versions.remove(id);
            }
            Change::PutAssignment(a) => {
                let s = &mut self.state;
                s.assignments.retain(|x| x.id != a.id);
                s.assignments.push(a.clone());
                s.assignments.sort_by(|x, y| x.id.cmp(&y.id));
            }
            Change::DeleteAssignment { id } => self.state.assignments.retain(|x| x.id != *id),
            Change::PutSodRule(rule) => {
                let s = &mut self.state;
                s.sod_rules.retain(|r| r.id != rule.id);
                s.sod_rules.push(rule.clone());
                s.sod_rules.sort_by(|a, b| a.id.cmp(&b.id));
            }
            Change::DeleteSodRule { id } => self.state.sod_rules.retain(|r| r.id != *id),
            Change::SetSetting { key, value } => {
                let s = &mut self.state;
                s.settings.retain(|(k, _)| k != key);
                s.settings.push((key.clone(), value.clone()));
                s.settings.sort_by(|a, b| a.0.cmp(&b.0));
            }
        }
    }

    fn put(&mut self, t: &Tuple) {
        let Some(e) = self.entity_or_new(&t.rtype, &t.rid) else {
            return;
        };
        match e.relations.iter_mut().find(|(r, _)| *r == t.relation) {
            Some((_, targets)) => {
                if let Err(pos) = targets.binary_search(&t.sid) {
                    targets.insert(pos, t.sid.clone());
                }
            }
            None => e.relations.push((t.relation.clone(), vec![t.sid.clone()])),
        }
    }
}
