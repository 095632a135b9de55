//! A user's effective permissions, for a UI that shows or hides controls: the
//! privileges held for a resource (or the tenant) and every action on that resource's
//! type, allowed or not.

use rolecall_core::profile::{TypeId, USER};
use rolecall_core::snapshot::HeldPrivilege;
use rolecall_core::{Context, Request};

use crate::actor::Actor;
use crate::authz::may_act_for;
use crate::error::{EngineError, EngineResult};
use crate::tenant::Tenant;

/// An action and whether the user may perform it.
#[derive(Debug, Clone)]
pub struct ActionAllowed {
    /// Id.
    pub id: String,
    /// The vendor's wording.
    pub name: String,
    /// Allowed on the resource.
    pub allowed: bool,
}

/// What a user may do on one resource.
#[derive(Debug, Clone)]
pub struct Permissions {
    /// `TYPE:ID` the permissions are for.
    pub resource: String,
    /// Privileges held for that resource.
    pub privileges: Vec<HeldPrivilege>,
    /// Every action on that resource's type.
    pub actions: Vec<ActionAllowed>,
    /// The revision answered from.
    pub revision: u64,
}

impl Tenant {
    /// `user`'s effective permissions on `resource` (`TYPE:ID`; default: the tenant).
    pub async fn permissions(
        &self,
        actor: &Actor,
        user: &str,
        resource: Option<&str>,
        at_least: impl Into<crate::Consistency>,
    ) -> EngineResult<Permissions> {
        let view = self.read(at_least).await?;
        let now = self.now();
        may_act_for(&view.snapshot, actor, user, now)?;
        let snap = &view.snapshot;
        let p = &view.profile;
        let u = snap
            .entity(USER, user)
            .ok_or_else(|| EngineError::NotFound(format!("unknown user `{user}`")))?;
        let resource =
            resource.map_or_else(|| format!("tenant:{}", snap.tenant_id()), str::to_owned);
        let (ty_name, rid) = resource.split_once(':').ok_or_else(|| {
            EngineError::BadRequest(format!("resource `{resource}` must be TYPE:ID"))
        })?;
        let ty: TypeId = p
            .type_id(ty_name)
            .ok_or_else(|| EngineError::BadRequest(format!("unknown resource type `{ty_name}`")))?;
        let e = snap
            .entity(ty, rid)
            .ok_or_else(|| EngineError::NotFound(format!("unknown {ty_name} `{rid}`")))?;
        let privileges = snap.privileges_in(&snap.held_set(u, ty, e, now));
        let ctx = Context::new();
        let actions = p
            .actions
            .iter()
            .filter(|a| a.resource == ty)
            .map(|a| ActionAllowed {
                id: a.id.clone(),
                name: a.name.clone(),
                allowed: snap
                    .check(&Request {
                        principal: user,
                        action: &a.id,
                        resource_type: ty_name,
                        resource_id: rid,
                        context: &ctx,
                        now,
                    })
                    .allowed,
            })
            .collect();
        Ok(Permissions {
            resource: resource.clone(),
            privileges,
            actions,
            revision: view.revision,
        })
    }
}
