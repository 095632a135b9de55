//! Appointment checks: may a user give a role to another user over a scope, under
//! the profile's `[[appointment]]` rules?

use super::*;
use crate::decision::{Context, Decision, EvalError};
use crate::profile::{ORG_KIND_ATTR, ORG_UNIT, ScopeKind, USER};
use crate::state::Scope;

/// An appointment request.
#[derive(Debug, Clone, Copy)]
pub struct AppointRequest<'a> {
    /// Who gives the role.
    pub appointer: &'a str,
    /// The role given.
    pub role: &'a str,
    /// Who receives it.
    pub target: &'a str,
    /// Over which scope.
    pub scope: &'a Scope,
    /// Evaluation time, Unix seconds.
    pub now: i64,
}

/// The answer, with the reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointDecision {
    /// The decision.
    pub decision: Decision,
    /// Why, in words.
    pub reason: String,
}

impl Snapshot {
    /// Whether a role id exists (template or custom).
    pub fn has_role(&self, id: &str) -> bool {
        self.role_index.contains_key(id)
    }

    /// Decides an appointment.
    pub fn check_appointment(&self, req: &AppointRequest<'_>) -> AppointDecision {
        let deny = |reason: String| AppointDecision {
            decision: Decision::from_bool(false),
            reason,
        };
        let fail = |e: EvalError| AppointDecision {
            reason: e.to_string(),
            decision: Decision::error(e),
        };
        let p = &self.profile;
        let Some(appointer) = self.entity(USER, req.appointer) else {
            return fail(EvalError::UnknownPrincipal(req.appointer.to_owned()));
        };
        let Some(target) = self.entity(USER, req.target) else {
            return fail(EvalError::UnknownPrincipal(req.target.to_owned()));
        };
        if !self.has_role(req.role) {
            return fail(EvalError::Internal(format!("unknown role `{}`", req.role)));
        }
        let Some((rule_index, rule)) = p
            .appointments
            .iter()
            .enumerate()
            .find(|(_, a)| a.role == req.role)
        else {
            return deny(format!(
                "no appointment rule gives role `{}`; only the operator may assign it",
                req.role
            ));
        };
        // The requested scope: the tenant or org units, each of an allowed kind.
        let orgs: Vec<u32> = match req.scope {
            Scope::Tenant => {
                if !rule.scope_kinds.contains(&ScopeKind::Tenant) {
                    return deny(format!(
                        "role `{}` cannot be given over the whole tenant",
                        req.role
                    ));
                }
                Vec::new()
            }
            Scope::Queues(_) => {
                return deny(format!(
                    "role `{}` is given over org units, not queues",
                    req.role
                ));
            }
            Scope::OrgUnits(ids) => {
                let mut v = Vec::new();
                if ids.is_empty() {
                    return deny("the scope names no org unit".into());
                }
                for id in ids {
                    let Some(o) = self.entity(ORG_UNIT, id) else {
                        return fail(EvalError::UnknownResource {
                            ty: "org_unit".into(),
                            id: id.clone(),
                        });
                    };
                    let kind = match self
                        .tables
                        .get(ORG_UNIT)
                        .and_then(|t| t.attrs.get(ORG_KIND_ATTR))
                        .and_then(|c| c.get(o as usize))
                    {
                        Some(Some(AttrVal::Str(k))) => p.org_kind(k),
                        _ => None,
                    };
                    if !kind.is_some_and(|k| rule.scope_kinds.contains(&ScopeKind::OrgKind(k))) {
                        return deny(format!(
                            "role `{}` cannot be given over org unit `{id}` of that kind",
                            req.role
                        ));
                    }
                    v.push(o);
                }
                v
            }
        };
        // The appointer must hold one of the `by` roles over the whole requested scope.
        let by: Vec<u32> = rule
            .by
            .iter()
            .filter_map(|r| self.role_index.get(r).copied())
            .collect();
        let holds = self.users.get(appointer as usize).is_some_and(|u| {
            u.all.iter().any(|g| {
                g.expires > req.now
                    && self.includes_any(g.role, &by)
                    && match (&g.scope, req.scope) {
                        (ScopeC::Tenant, _) => true,
                        (ScopeC::Orgs(list), Scope::OrgUnits(_)) => {
                            orgs.iter().all(|&o| self.org_covers(list, o))
                        }
                        _ => false,
                    }
            })
        });
        if !holds {
            return deny(format!(
                "`{}` holds none of {} over that scope",
                req.appointer,
                rule.by
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        // The appointee must satisfy the rule's target condition on each org unit.
        if let Some(Some(program)) = self.appoint_targets.get(rule_index) {
            if orgs.is_empty() {
                return deny(format!(
                    "role `{}` has a target condition and must be given over org units",
                    req.role
                ));
            }
            let context = Context::new();
            for &o in &orgs {
                let ev = Eval {
                    snap: self,
                    user: target,
                    rtype: ORG_UNIT,
                    rid: o,
                    now: req.now,
                    context: &context,
                    anywhere: false,
                };
                match ev.eval(program) {
                    Ok(true) => {}
                    Ok(false) => {
                        return deny(format!(
                            "`{}` does not meet the condition for `{}`: {}",
                            req.target,
                            req.role,
                            rule.target_text.as_deref().unwrap_or("")
                        ));
                    }
                    Err(e) => return fail(e),
                }
            }
        }
        AppointDecision {
            decision: Decision::from_bool(true),
            reason: format!(
                "`{}` holds a role among {} over that scope",
                req.appointer,
                rule.by.join(", ")
            ),
        }
    }
}
