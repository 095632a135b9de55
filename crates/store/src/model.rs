//! What the store keeps: tenants, their state as changes, the change log, tokens.

use std::collections::BTreeMap;

use rolecall_core::profile::{RoleSpec, Value};
use rolecall_core::state::{Assignment, TenantState};
use serde::{Deserialize, Serialize};

/// A tenant to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTenant {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The profile's id (e.g. `horizon-contact`).
    pub profile_id: String,
    /// The profile's TOML text, kept so the tenant is self-contained.
    pub profile_text: String,
}

/// A stored tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Profile id.
    pub profile_id: String,
    /// Profile TOML.
    pub profile_text: String,
    /// Current revision.
    pub revision: u64,
    /// Creation time, Unix seconds.
    pub created_at: i64,
}

/// A tenant's state as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedState {
    /// The state. Entities are ordered by (type, id); relations within an entity by
    /// (relation, target id); roles, assignments and settings by id.
    pub state: TenantState,
    /// The revision it is at.
    pub revision: u64,
    /// Each custom role's version (1 when created, +1 on each update).
    pub role_versions: BTreeMap<String, u64>,
}

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
        #[serde(with = "rolecall_core::pairs")]
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
    PutSodRule(rolecall_core::profile::SodRule),
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

/// A change-log row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    /// The revision the change belongs to.
    pub revision: u64,
    /// Position within the revision, from 0.
    pub seq: u32,
    /// The change.
    pub change: Change,
    /// Who made it.
    pub actor: String,
    /// When, Unix seconds.
    pub at: i64,
}

/// An API token (only its SHA-256 hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Public id (shown in lists, used to revoke).
    pub id: String,
    /// Hex SHA-256 of the secret.
    pub hash: String,
    /// The tenant, or `None` for an operator token.
    pub tenant: Option<String>,
    /// The principal it acts as (tenant tokens).
    pub principal: Option<String>,
    /// Creation time, Unix seconds.
    pub created_at: i64,
}
