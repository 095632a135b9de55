//! Actions and what refers to them: each action's requirement and obligations
//! (expressions parsed and resolved with positions inside the TOML string), the
//! management operations mapped to actions, and the appointment rules.

use std::collections::BTreeMap;

use toml::Spanned;

use super::Loader;
use crate::expr;
use crate::profile::limits::thousands;
use crate::profile::model::{
    Action, Appointment, Governance, MANAGEMENT_OPS, ORG_UNIT, Obligation, OpObjects, Profile,
    ScopeKind, TENANT, TypeId, management_op,
};
use crate::profile::quoted;
use crate::profile::raw::{RawAction, RawAppointment, RawObligation};
use crate::profile::resolve::Resolver;
use crate::span::string_content_start;

/// Whether an action on resource type `ty` may govern an operation on `objects`.
fn governs(objects: OpObjects, ty: TypeId) -> bool {
    ty == TENANT || ty == ORG_UNIT || matches!(objects, OpObjects::Type(t) if t == ty)
}

impl Loader<'_> {
    /// Parses and resolves an expression held in a TOML string.
    fn expression(
        &mut self,
        p: &Profile,
        text: &Spanned<String>,
        resource: TypeId,
    ) -> Option<crate::expr::resolved::Expr> {
        let base = string_content_start(self.src.text, &text.span());
        let ast = match expr::parse_limited(text.get_ref(), self.limits.max_expression_terms) {
            Ok((a, terms)) => {
                self.terms += terms;
                if self.terms > self.limits.max_profile_terms {
                    self.err(
                        &text.span(),
                        format!(
                            "the profile's expressions have more than {} terms together",
                            thousands(self.limits.max_profile_terms)
                        ),
                    );
                    // Reported once: the expressions after this one are not counted.
                    self.terms = 0;
                    self.limits.max_profile_terms = usize::MAX;
                    return None;
                }
                a
            }
            Err(e) => {
                self.err(&((base + e.span.start)..(base + e.span.end)), e.message);
                return None;
            }
        };
        match (Resolver {
            profile: p,
            resource,
        })
        .expr(&ast)
        {
            Ok(x) => Some(x),
            Err((m, span)) => {
                self.err(&((base + span.start)..(base + span.end)), m);
                None
            }
        }
    }

    /// The actions; one whose resource type or requirement does not resolve is left out.
    pub(super) fn actions(&mut self, p: &Profile, raw: &[Spanned<RawAction>]) -> Vec<Action> {
        self.unique(raw.iter().map(|a| &a.get_ref().id), "action");
        let type_ids: Vec<String> = p.types.iter().map(|t| t.id.clone()).collect();
        let mut out = Vec::new();
        for a in raw {
            let a = a.get_ref();
            let Some(resource) = p.type_id(a.resource.get_ref()) else {
                self.err(
                    &a.resource.span(),
                    format!(
                        "unknown resource type `{}`; expected one of {}",
                        a.resource.get_ref(),
                        quoted(&type_ids)
                    ),
                );
                continue;
            };
            let Some(requires) = self.expression(p, &a.requires, resource) else {
                continue;
            };
            let obligations = self.obligations(p, a, resource);
            let held_anywhere = a.held_anywhere.as_ref().is_some_and(|h| *h.get_ref());
            if let Some(h) = a.held_anywhere.as_ref().filter(|_| held_anywhere)
                && resource != TENANT
            {
                self.err(
                    &h.span(),
                    "`held_anywhere` is for actions on the tenant (a personal ability); an action on an object is decided by the scopes that cover it",
                );
            }
            out.push(Action {
                id: a.id.get_ref().clone(),
                name: a.name.clone().unwrap_or_else(|| a.id.get_ref().clone()),
                menu: a.menu.clone(),
                description: a.description.clone(),
                sensitive: a.sensitive,
                held_anywhere,
                resource,
                requires,
                requires_text: a.requires.get_ref().trim().to_owned(),
                obligations,
            });
        }
        out
    }

    /// An action's obligations (at most 64); one whose condition does not resolve is
    /// left out.
    fn obligations(&mut self, p: &Profile, a: &RawAction, resource: TypeId) -> Vec<Obligation> {
        if a.obligations.len() > 64 {
            self.err(
                &a.id.span(),
                format!("action `{}` has more than 64 obligations", a.id.get_ref()),
            );
        }
        let mut obligations = Vec::new();
        for o in &a.obligations {
            if let Some(o) = self.obligation(p, o.get_ref(), resource) {
                obligations.push(o);
            }
        }
        obligations
    }

    /// One obligation, when its condition resolves.
    fn obligation(
        &mut self,
        p: &Profile,
        o: &RawObligation,
        resource: TypeId,
    ) -> Option<Obligation> {
        self.check_id(&o.id, "obligation");
        let when = self.expression(p, &o.when, resource)?;
        Some(Obligation {
            id: o.id.get_ref().clone(),
            description: o.description.clone(),
            when,
            when_text: o.when.get_ref().trim().to_owned(),
        })
    }

    /// The `[management]` table: when present, every operation of [`MANAGEMENT_OPS`]
    /// mapped to `"operator"` or to a known action of a type that may govern it.
    pub(super) fn management(
        &mut self,
        p: &Profile,
        raw: Option<&Spanned<BTreeMap<Spanned<String>, Spanned<String>>>>,
    ) -> Vec<(String, Governance)> {
        let Some(table) = raw else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (op, value) in table.get_ref() {
            let Some(def) = management_op(op.get_ref()) else {
                let known: Vec<String> = MANAGEMENT_OPS.iter().map(|o| o.id.to_owned()).collect();
                self.err(
                    &op.span(),
                    format!(
                        "unknown management operation `{}`; expected one of {}",
                        op.get_ref(),
                        quoted(&known)
                    ),
                );
                continue;
            };
            if value.get_ref() == "operator" {
                out.push((def.id.to_owned(), Governance::Operator));
                continue;
            }
            let Some(a) = p.action(value.get_ref()) else {
                self.err(
                    &value.span(),
                    format!(
                        "unknown action `{}` (give an action id, or \"operator\" to reserve `{}` to the operator)",
                        value.get_ref(),
                        def.id
                    ),
                );
                continue;
            };
            let ty = p.actions.get(a).map_or(TENANT, |x| x.resource);
            if !governs(def.objects, ty) {
                self.err(
                    &value.span(),
                    format!(
                        "action `{}` acts on `{}`, which cannot govern `{}`: {}",
                        value.get_ref(),
                        p.types.get(ty).map_or("?", |t| t.id.as_str()),
                        def.id,
                        match def.objects {
                            OpObjects::Type(t) => format!(
                                "it needs an action on `{}`, `org_unit` or `tenant`",
                                p.types.get(t).map_or("?", |t| t.id.as_str())
                            ),
                            _ => "it needs an action on `org_unit` or `tenant`".to_owned(),
                        }
                    ),
                );
                continue;
            }
            out.push((def.id.to_owned(), Governance::Action(a)));
        }
        let missing: Vec<String> = MANAGEMENT_OPS
            .iter()
            .filter(|o| !out.iter().any(|(id, _)| id == o.id))
            .filter(|o| !table.get_ref().keys().any(|k| k.get_ref() == o.id))
            .map(|o| o.id.to_owned())
            .collect();
        if !missing.is_empty() {
            self.err(
                &table.span(),
                format!(
                    "`[management]` does not say who may {}: map each to an action, or to \"operator\"",
                    quoted(&missing)
                ),
            );
        }
        out
    }

    /// The appointment rules: who may give a role, over which kinds of scope, to
    /// which target (an expression over the org unit).
    pub(super) fn appointments(
        &mut self,
        p: &Profile,
        raw: &[Spanned<RawAppointment>],
    ) -> Vec<Appointment> {
        let mut out: Vec<Appointment> = Vec::new();
        for a in raw {
            let a = a.get_ref();
            for r in std::iter::once(&a.role).chain(a.by.iter()) {
                if p.role(r.get_ref()).is_none() {
                    self.err(&r.span(), format!("unknown role `{}`", r.get_ref()));
                }
            }
            if out.iter().any(|x| &x.role == a.role.get_ref()) {
                self.err(
                    &a.role.span(),
                    format!("a second appointment rule for role `{}`", a.role.get_ref()),
                );
            }
            let scope_kinds = self.scope_kinds(p, &a.scope_kinds);
            let target = a
                .target
                .as_ref()
                .and_then(|t| self.expression(p, t, ORG_UNIT));
            out.push(Appointment {
                role: a.role.get_ref().clone(),
                by: a.by.iter().map(|s| s.get_ref().clone()).collect(),
                scope_kinds,
                target,
                target_text: a.target.as_ref().map(|t| t.get_ref().trim().to_owned()),
            });
        }
        out
    }

    /// Scope kinds as written: `tenant` or an org unit kind; unknown ones are reported.
    fn scope_kinds(&mut self, p: &Profile, raw: &[Spanned<String>]) -> Vec<ScopeKind> {
        let mut scope_kinds = Vec::new();
        for k in raw {
            if k.get_ref() == "tenant" {
                scope_kinds.push(ScopeKind::Tenant);
            } else if let Some(i) = p.org_kind(k.get_ref()) {
                scope_kinds.push(ScopeKind::OrgKind(i));
            } else {
                self.err(
                    &k.span(),
                    format!(
                        "unknown scope kind `{}`: expected `tenant` or an org unit kind",
                        k.get_ref()
                    ),
                );
            }
        }
        scope_kinds
    }
}
