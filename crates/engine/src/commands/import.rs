//! Changes written as they are, by rolecall itself (demo seeding, restores): validated
//! and audited like every other write, but not authorized against the tenant's profile.

use rolecall_core::Change;

use crate::actor::Actor;
use crate::command::{Command, Plan};
use crate::error::{EngineError, EngineResult};
use crate::view::View;

/// Applies these changes as one revision (operator or system only).
#[derive(Debug, Clone)]
pub struct ApplyChanges(pub Vec<Change>);

impl Command for ApplyChanges {
    fn plan(&self, _view: &View, actor: &Actor, _now: i64) -> EngineResult<Plan> {
        if !actor.is_privileged() {
            return Err(EngineError::Forbidden(
                "raw changes are written by the operator only".into(),
            ));
        }
        Ok(Plan::of(self.0.clone()))
    }
}
