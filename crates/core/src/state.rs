//! A tenant's state as plain data with string ids: entities (org units, users,
//! groups, queues, other resources) with their relations and attributes, custom roles,
//! assignments and settings. World files, and later the store, produce this; a
//! [`crate::Snapshot`] is compiled from it.

use serde::{Deserialize, Serialize};

use crate::profile::{RoleSpec, Value};

/// One entity of any resource type.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Entity {
    /// Resource type id (`user`, `queue`, `conversation`, …).
    pub ty: String,
    /// Id, unique within its type.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Relation name to target ids (one for a single-valued relation).
    #[serde(default, with = "crate::pairs")]
    pub relations: Vec<(String, Vec<String>)>,
    /// Attribute name to value.
    #[serde(default, with = "crate::pairs")]
    pub attributes: Vec<(String, Value)>,
}

/// Where an assignment applies. In JSON: `"tenant"`, `{"org_units": [...]}` or
/// `{"queues": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Everywhere in the tenant.
    #[default]
    Tenant,
    /// Inside these org units and their subtrees.
    OrgUnits(Vec<String>),
    /// On these queues (and what lives in them).
    Queues(Vec<String>),
}

/// A role given to a user over a scope, optionally until a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Id, unique within the tenant.
    pub id: String,
    /// The user.
    pub principal: String,
    /// The role (template or custom).
    pub role: String,
    /// Where it applies.
    pub scope: Scope,
    /// Unix seconds after which it no longer grants anything.
    pub expires_at: Option<i64>,
}

/// A tenant's whole state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TenantState {
    /// Tenant id.
    pub tenant_id: String,
    /// Tenant display name.
    pub tenant_name: Option<String>,
    /// Setting id to value (unset settings take the profile default).
    #[serde(default, with = "crate::pairs")]
    pub settings: Vec<(String, Value)>,
    /// Every entity.
    pub entities: Vec<Entity>,
    /// The tenant's custom roles.
    pub roles: Vec<RoleSpec>,
    /// Assignments.
    pub assignments: Vec<Assignment>,
    /// The tenant's own separation-of-duty rules (besides the profile's).
    #[serde(default)]
    pub sod_rules: Vec<crate::profile::SodRule>,
}

/// Which part of a [`TenantState`] a problem is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatePath {
    /// The tenant itself.
    Tenant,
    /// `settings[i]`.
    Setting(usize),
    /// `entities[i]`, optionally one relation or attribute by name.
    Entity(usize, Option<String>),
    /// `roles[i]` and the field.
    Role(usize, Option<crate::profile::RoleField>),
    /// `assignments[i]` and the field (`principal`, `role`, `scope`).
    Assignment(usize, &'static str),
    /// `sod_rules[i]`.
    SodRule(usize),
}

/// A problem in a tenant's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StateError {
    /// Where.
    pub at: StatePath,
    /// What, naming the object.
    pub message: String,
}
