//! What the store keeps: tenants, their state as changes, the change log, tokens.

use std::collections::BTreeMap;

use rolecall_core::state::TenantState;

pub use rolecall_core::change::{Change, Tuple};

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
    /// A service credential's details (JSON the engine reads); `None` for a token.
    pub credential: Option<String>,
}

impl From<LoadedState> for rolecall_core::mem::MemState {
    fn from(l: LoadedState) -> Self {
        rolecall_core::mem::MemState::with_versions(l.state, l.role_versions)
    }
}
