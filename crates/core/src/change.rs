//! The vocabulary of writes: a [`Change`] to one object of a tenant's state, and the
//! relation [`Tuple`]. Its meaning in memory is [`crate::mem::MemState::apply`]; the
//! store translates the same changes to SQL, and a conformance test keeps the two
//! equal. [`Change::object`] names what a change writes (for audit entries and
//! snapshot patches), so no other crate needs to take a change apart.

use serde::{Deserialize, Serialize};

use crate::profile::{RoleSpec, Value};
use crate::state::Assignment;

/// A relation tuple: `rtype:rid#relation@stype:sid`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tuple {
    /// Resource type.
    pub rtype: String,
    /// Resource id.
    pub rid: String,
    /// Relation name.
    pub relation: String,
    /// Subject type.
    pub stype: String,
    /// Subject id.
    pub sid: String,
}

/// One change to a tenant's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// Creates or replaces an entity's name and attributes (its relations are untouched).
    UpsertEntity {
        /// Type.
        ty: String,
        /// Id.
        id: String,
        /// Display name.
        name: Option<String>,
        /// Attributes (replace all previous ones).
        #[serde(with = "crate::pairs")]
        attributes: Vec<(String, Value)>,
    },
    /// Deletes an entity and every tuple where it is the resource or the subject.
    DeleteEntity {
        /// Type.
        ty: String,
        /// Id.
        id: String,
    },
    /// Writes a tuple (idempotent); creates the resource entity (no name, no attributes)
    /// if it does not exist, so an entity never disappears with its last tuple.
    PutRelation(Tuple),
    /// Deletes a tuple (idempotent).
    DeleteRelation(Tuple),
    /// Creates or replaces a custom role; its version becomes `version`.
    PutRole {
        /// The role.
        role: RoleSpec,
        /// Its new version.
        version: u64,
    },
    /// Deletes a custom role.
    DeleteRole {
        /// Id.
        id: String,
    },
    /// Creates or replaces an assignment (by its id).
    PutAssignment(Assignment),
    /// Deletes an assignment.
    DeleteAssignment {
        /// Id.
        id: String,
    },
    /// Creates or replaces a tenant separation-of-duty rule.
    PutSodRule(crate::profile::SodRule),
    /// Deletes a tenant separation-of-duty rule.
    DeleteSodRule {
        /// Id.
        id: String,
    },
    /// Sets a tenant setting.
    SetSetting {
        /// Setting id.
        key: String,
        /// Value.
        value: Value,
    },
}

/// The object a change writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Object<'a> {
    /// An entity (its name and attributes, or the whole entity when deleted).
    Entity {
        /// Type.
        ty: &'a str,
        /// Id.
        id: &'a str,
    },
    /// One relation tuple.
    Tuple(&'a Tuple),
    /// A custom role.
    Role(&'a str),
    /// An assignment.
    Assignment(&'a str),
    /// A tenant separation-of-duty rule.
    SodRule(&'a str),
    /// A tenant setting.
    Setting(&'a str),
}

impl Change {
    /// The object this change writes.
    pub fn object(&self) -> Object<'_> {
        match self {
            Change::UpsertEntity { ty, id, .. } | Change::DeleteEntity { ty, id } => {
                Object::Entity { ty, id }
            }
            Change::PutRelation(t) | Change::DeleteRelation(t) => Object::Tuple(t),
            Change::PutRole { role, .. } => Object::Role(&role.id),
            Change::DeleteRole { id } => Object::Role(id),
            Change::PutAssignment(a) => Object::Assignment(&a.id),
            Change::DeleteAssignment { id } => Object::Assignment(id),
            Change::PutSodRule(r) => Object::SodRule(&r.id),
            Change::DeleteSodRule { id } => Object::SodRule(id),
            Change::SetSetting { key, .. } => Object::Setting(key),
        }
    }

    /// Whether the change removes its object (rather than creating or replacing it).
    pub fn is_removal(&self) -> bool {
        matches!(
            self,
            Change::DeleteEntity { .. }
                | Change::DeleteRelation(_)
                | Change::DeleteRole { .. }
                | Change::DeleteAssignment { .. }
                | Change::DeleteSodRule { .. }
        )
    }
}

impl std::fmt::Display for Tuple {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}#{}@{}:{}",
            self.rtype, self.rid, self.relation, self.stype, self.sid
        )
    }
}
