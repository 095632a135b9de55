//! The tenant's own separation-of-duty rules (besides its profile's): added, replaced
//! and removed. A new rule may already be broken; that does not block adding it (the
//! violations list shows who breaks it).

use rolecall_core::Change;
use rolecall_core::profile::SodRule;

use crate::actor::Actor;
use crate::authz::{Object, authorize};
use crate::command::{Command, Plan, SodCheck};
use crate::error::{EngineError, EngineResult};
use crate::registry::valid_id;
use crate::view::View;

/// Creates or replaces a tenant rule.
#[derive(Debug, Clone)]
pub struct PutSodRule(pub SodRule);

impl Command for PutSodRule {
    fn plan(&self, view: &View, actor: &Actor, now: i64) -> EngineResult<Plan> {
        let id = &self.0.id;
        valid_id(id, "rule")?;
        authorize(&view.snapshot, actor, "sod.write", Object::Tenant, now)?;
        if view.profile.separation_of_duty.iter().any(|r| r.id == *id) {
            return Err(EngineError::Conflict(format!(
                "rule `{id}` belongs to the profile and cannot be replaced"
            )));
        }
        Ok(Plan {
            sod: SodCheck::Skip,
            ..Plan::of(vec![Change::PutSodRule(self.0.clone())])
        })
    }
}

/// Removes a tenant rule.
#[derive(Debug, Clone)]
pub struct DeleteSodRule(pub String);

impl Command for DeleteSodRule {
    fn plan(&self, view: &View, actor: &Actor, now: i64) -> EngineResult<Plan> {
        let id = &self.0;
        valid_id(id, "rule")?;
        authorize(&view.snapshot, actor, "sod.write", Object::Tenant, now)?;
        if !view.mem.state.sod_rules.iter().any(|r| r.id == *id) {
            return Err(EngineError::NotFound(format!("unknown tenant rule `{id}`")));
        }
        Ok(Plan {
            sod: SodCheck::Skip,
            ..Plan::of(vec![Change::DeleteSodRule { id: id.clone() }])
        })
    }
}
