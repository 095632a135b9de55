//! Assignments: a role given to a user over a scope, optionally until a time, and
//! taken away again — each by whoever the profile's appointment rules or the
//! `assignments.write` action allow, never beyond what they hold themselves.

use rolecall_core::Change;
use rolecall_core::profile::USER;
use rolecall_core::state::{Assignment, Scope};

use crate::actor::Actor;
use crate::authz::{Giving, assignment_allowed};
use crate::command::{Command, Plan};
use crate::error::{EngineError, EngineResult};
use crate::registry::valid_id;
use crate::view::View;

/// An assignment to make.
#[derive(Debug, Clone)]
pub struct AssignmentDraft {
    /// Id (generated when absent).
    pub id: Option<String>,
    /// The user.
    pub principal: String,
    /// The role.
    pub role: String,
    /// Where (default: the whole tenant).
    pub scope: Option<Scope>,
    /// Unix seconds after which it grants nothing.
    pub expires_at: Option<i64>,
}

impl AssignmentDraft {
    /// The assignment it describes, validated against `view`.
    pub fn resolve(&self, view: &View) -> EngineResult<Assignment> {
        valid_id(&self.principal, "user")?;
        valid_id(&self.role, "role")?;
        let id = match &self.id {
            Some(id) => {
                valid_id(id, "assignment")?;
                if view.assignment(id).is_some() {
                    return Err(EngineError::Exists(format!(
                        "assignment `{id}` already exists"
                    )));
                }
                id.clone()
            }
            None => format!("as_{}", uuid::Uuid::new_v4().simple()),
        };
        if view.snapshot.entity(USER, &self.principal).is_none() {
            return Err(EngineError::Invalid(format!(
                "unknown user `{}`",
                self.principal
            )));
        }
        if !view.snapshot.has_role(&self.role) {
            return Err(EngineError::Invalid(format!(
                "unknown role `{}`",
                self.role
            )));
        }
        Ok(Assignment {
            id,
            principal: self.principal.clone(),
            role: self.role.clone(),
            scope: self.scope.clone().unwrap_or_default(),
            expires_at: self.expires_at,
        })
    }
}

/// Gives a role to a user over a scope.
#[derive(Debug, Clone)]
pub struct CreateAssignment(pub AssignmentDraft);

impl Command for CreateAssignment {
    fn plan(&self, view: &View, actor: &Actor, now: i64) -> EngineResult<Plan> {
        let a = self.0.resolve(view)?;
        assignment_allowed(
            view,
            actor,
            &a.role,
            &a.principal,
            &a.scope,
            Giving::Grant,
            now,
        )?;
        Ok(Plan {
            created: true,
            ..Plan::of(vec![Change::PutAssignment(a)])
        })
    }
}

/// Removes an assignment: the same authority over the user and the scope as giving it,
/// without the ceiling (a removal takes privileges away).
#[derive(Debug, Clone)]
pub struct DeleteAssignment(pub String);

impl Command for DeleteAssignment {
    fn plan(&self, view: &View, actor: &Actor, now: i64) -> EngineResult<Plan> {
        let id = &self.0;
        valid_id(id, "assignment")?;
        let a = view
            .assignment(id)
            .ok_or_else(|| EngineError::NotFound(format!("unknown assignment `{id}`")))?;
        assignment_allowed(
            view,
            actor,
            &a.role,
            &a.principal,
            &a.scope,
            Giving::Removal,
            now,
        )?;
        Ok(Plan::of(vec![Change::DeleteAssignment { id: id.clone() }]))
    }
}
