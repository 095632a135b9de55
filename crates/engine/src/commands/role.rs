//! Roles: creating (or copying) a custom role, replacing one at a known version, and
//! deleting one nothing uses. Templates of the profile are read-only. Nobody defines a
//! role holding what they do not hold themselves.

use rolecall_core::Change;
use rolecall_core::profile::{GrantSpec, RoleSpec};

use crate::actor::Actor;
use crate::authz::{Object, authorize, role_within_actor};
use crate::command::{Candidate, Command, Plan};
use crate::error::{EngineError, EngineResult};
use crate::registry::valid_id;
use crate::view::View;

/// A role as an editor describes it: an id, optionally a role to copy first, and the
/// fields that override it.
#[derive(Debug, Clone, Default)]
pub struct RoleDraft {
    /// The role's id.
    pub id: String,
    /// Copy this role (template or custom) first.
    pub copy_of: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Role type id.
    pub role_type: Option<String>,
    /// Included role ids.
    pub includes: Option<Vec<String>>,
    /// Privilege (id or name) → value.
    pub grants: Option<Vec<(String, GrantSpec)>>,
}

impl RoleDraft {
    /// The spec it describes: `copy_of` (or `base`) first, then the fields given.
    pub fn spec(&self, view: &View, base: Option<RoleSpec>) -> EngineResult<RoleSpec> {
        let mut spec = match &self.copy_of {
            Some(src) => match view.profile.role(src) {
                Some(d) => d.to_spec(&view.profile),
                None => view
                    .mem
                    .state
                    .roles
                    .iter()
                    .find(|r| &r.id == src)
                    .cloned()
                    .ok_or_else(|| {
                        EngineError::Invalid(format!("`copy_of`: unknown role `{src}`"))
                    })?,
            },
            None => base.unwrap_or_default(),
        };
        spec.id = self.id.clone();
        if self.copy_of.is_some() && self.name.is_none() {
            spec.name = Some(format!("{} (copy)", spec.name.clone().unwrap_or_default()));
        }
        if let Some(n) = &self.name {
            spec.name = Some(n.clone());
        }
        if self.description.is_some() {
            spec.description = self.description.clone();
        }
        if self.role_type.is_some() {
            spec.role_type = self.role_type.clone();
        }
        if let Some(i) = &self.includes {
            spec.includes = i.clone();
        }
        if let Some(g) = &self.grants {
            spec.grants = g.clone();
        }
        Ok(spec)
    }
}

/// Whether `id` names a role, template or custom.
fn role_exists(view: &View, id: &str) -> bool {
    view.profile.role(id).is_some() || view.mem.state.roles.iter().any(|r| r.id == id)
}

/// Creates a custom role, or copies a template or role (`copy_of`).
#[derive(Debug, Clone)]
pub struct CreateRole(pub RoleDraft);

impl Command for CreateRole {
    fn plan(&self, view: &View, actor: &Actor, now: i64) -> EngineResult<Plan> {
        let id = &self.0.id;
        valid_id(id, "role")?;
        authorize(&view.snapshot, actor, "roles.write", Object::Tenant, now)?;
        if role_exists(view, id) {
            return Err(EngineError::Exists(format!("role `{id}` already exists")));
        }
        let mut role = self.0.spec(view, None)?;
        // A profile that types every role types this one too (as stored, so that it reads
        // back as it decides).
        if role.role_type.is_none()
            && let Some(t) = view
                .profile
                .default_role_type
                .and_then(|t| view.profile.role_types.get(t))
        {
            role.role_type = Some(t.id.clone());
        }
        Ok(Plan {
            created: true,
            ..Plan::of(vec![Change::PutRole { role, version: 1 }])
        })
    }

    fn check_candidate(
        &self,
        view: &View,
        c: Candidate<'_>,
        actor: &Actor,
        now: i64,
    ) -> EngineResult<()> {
        role_within_actor(view, c.snapshot, actor, &self.0.id, now)
    }
}

/// Replaces a custom role made from version `version`; a stale version is a conflict.
#[derive(Debug, Clone)]
pub struct UpdateRole {
    /// The role.
    pub id: String,
    /// The version the edit was made from.
    pub version: u64,
    /// Display name (kept when absent).
    pub name: Option<String>,
    /// Description (kept when absent).
    pub description: Option<String>,
    /// Role type (kept when absent; a role's type never changes).
    pub role_type: Option<String>,
    /// Included role ids (kept when absent).
    pub includes: Option<Vec<String>>,
    /// Privilege (id or name) → value.
    pub grants: Vec<(String, GrantSpec)>,
}

impl Command for UpdateRole {
    fn plan(&self, view: &View, actor: &Actor, now: i64) -> EngineResult<Plan> {
        let id = &self.id;
        valid_id(id, "role")?;
        authorize(&view.snapshot, actor, "roles.write", Object::Tenant, now)?;
        if view.profile.role(id).is_some() {
            return Err(EngineError::ReadOnly(format!(
                "role `{id}` is a template and read-only; copy it (`copy_of`) and edit the copy"
            )));
        }
        let Some(existing) = view.mem.state.roles.iter().find(|r| r.id == *id) else {
            return Err(EngineError::NotFound(format!("unknown role `{id}`")));
        };
        let current = view.role_version(id).unwrap_or(1);
        if self.version != current {
            return Err(EngineError::Conflict(format!(
                "role `{id}` is at version {current}; this edit was made from version {}. Reload and edit again",
                self.version
            )));
        }
        // A role's type is fixed: re-typing would drop what its type locks or escape its
        // cap. A role of another type is a copy.
        let was = existing.role_type.clone().or_else(|| {
            view.profile
                .default_role_type
                .and_then(|t| view.profile.role_types.get(t))
                .map(|t| t.id.clone())
        });
        if let Some(t) = &self.role_type
            && Some(t) != was.as_ref()
        {
            return Err(EngineError::Invalid(format!(
                "role `{id}` is of type `{}`; a role's type cannot change (it would drop what that type locks or leave its cap). Copy the role into a new role of type `{t}` instead",
                was.as_deref().unwrap_or("none")
            )));
        }
        let role = RoleSpec {
            id: id.clone(),
            name: self.name.clone().or_else(|| existing.name.clone()),
            description: self
                .description
                .clone()
                .or_else(|| existing.description.clone()),
            role_type: existing.role_type.clone(),
            includes: self
                .includes
                .clone()
                .unwrap_or_else(|| existing.includes.clone()),
            grants: self.grants.clone(),
            locked: existing.locked.clone(),
        };
        Ok(Plan::of(vec![Change::PutRole {
            role,
            version: current + 1,
        }]))
    }

    fn check_candidate(
        &self,
        view: &View,
        c: Candidate<'_>,
        actor: &Actor,
        now: i64,
    ) -> EngineResult<()> {
        role_within_actor(view, c.snapshot, actor, &self.id, now)
    }
}

/// Deletes a custom role that nothing uses.
#[derive(Debug, Clone)]
pub struct DeleteRole(pub String);

impl Command for DeleteRole {
    fn plan(&self, view: &View, actor: &Actor, now: i64) -> EngineResult<Plan> {
        let id = &self.0;
        valid_id(id, "role")?;
        authorize(&view.snapshot, actor, "roles.write", Object::Tenant, now)?;
        if view.profile.role(id).is_some() {
            return Err(EngineError::ReadOnly(format!(
                "role `{id}` is a template and cannot be deleted"
            )));
        }
        if !view.mem.state.roles.iter().any(|r| r.id == *id) {
            return Err(EngineError::NotFound(format!("unknown role `{id}`")));
        }
        if let Some(a) = view.mem.state.assignments.iter().find(|a| a.role == *id) {
            return Err(EngineError::Invalid(format!(
                "role `{id}` is assigned (assignment `{}` to `{}`); remove its assignments first",
                a.id, a.principal
            )));
        }
        Ok(Plan::of(vec![Change::DeleteRole { id: id.clone() }]))
    }
}

/// The change an impact preview of `draft` stands for: an edit of an existing custom
/// role (fields given replace its own), or a new role.
pub fn preview_change(view: &View, draft: &RoleDraft) -> EngineResult<Change> {
    valid_id(&draft.id, "role")?;
    if view.profile.role(&draft.id).is_some() {
        return Err(EngineError::ReadOnly(format!(
            "role `{}` is a template and read-only; preview a copy",
            draft.id
        )));
    }
    let existing = view
        .mem
        .state
        .roles
        .iter()
        .find(|r| r.id == draft.id)
        .cloned();
    let version = view.role_version(&draft.id).map_or(1, |v| v + 1);
    Ok(Change::PutRole {
        role: draft.spec(view, existing)?,
        version,
    })
}
