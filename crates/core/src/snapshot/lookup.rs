//! Who-can and what-can: every user who may perform an action on a resource, and
//! every resource of the action's type a user may act on. Answers are exactly the
//! checks, run for every candidate (tested against the reference evaluator).

use super::*;
use crate::decision::{Context, EvalError, Request};
use crate::profile::USER;

impl Snapshot {
    /// Every user allowed `action` on `resource_type:resource_id` at `now`, sorted by id.
    pub fn lookup_subjects(
        &self,
        action: &str,
        resource_type: &str,
        resource_id: &str,
        context: &Context,
        now: i64,
    ) -> Result<Vec<String>, EvalError> {
        let users = self.entity_count(USER);
        // Resolve once with any user; then vary only the principal.
        let first = self.entity_id(USER, 0).unwrap_or("");
        let probe = self.resolve(&Request {
            principal: first,
            action,
            resource_type,
            resource_id,
            context,
            now,
        });
        let base = match probe {
            Ok(r) => r,
            Err(EvalError::UnknownPrincipal(_)) if users == 0 => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out: Vec<String> = (0..users as u32)
            .filter(|&u| {
                self.check_resolved(
                    &ResolvedRequest {
                        principal: u,
                        ..base
                    },
                    context,
                    now,
                )
                .allowed
            })
            .filter_map(|u| self.entity_id(USER, u).map(str::to_owned))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Every resource of `action`'s type that `principal` may act on at `now`, sorted.
    pub fn lookup_resources(
        &self,
        principal: &str,
        action: &str,
        context: &Context,
        now: i64,
    ) -> Result<Vec<String>, EvalError> {
        let p = &self.profile;
        let a = p
            .action(action)
            .ok_or_else(|| EvalError::UnknownAction(action.to_owned()))?;
        let ty = p.actions.get(a).map_or(0, |x| x.resource);
        let user = self
            .entity(USER, principal)
            .ok_or_else(|| EvalError::UnknownPrincipal(principal.to_owned()))?;
        let mut out: Vec<String> = (0..self.entity_count(ty) as u32)
            .filter(|&e| {
                self.check_resolved(
                    &ResolvedRequest {
                        principal: user,
                        action: a,
                        resource_type: ty,
                        resource: e,
                    },
                    context,
                    now,
                )
                .allowed
            })
            .filter_map(|e| self.entity_id(ty, e).map(str::to_owned))
            .collect();
        out.sort();
        Ok(out)
    }
}
