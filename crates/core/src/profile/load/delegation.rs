//! Delegation ceilings: for a role definition (`roles.write`) or an assignment
//! (`assignments.write`), of every role or of some role types, the most the write may
//! give — the granter's holdings, the role type's cap, or what named roles hold.

use toml::Spanned;

use super::Loader;
use crate::profile::model::{Ceiling, Delegated, Delegation, Profile};
use crate::profile::raw::RawDelegation;

impl Loader<'_> {
    /// The `[[delegation]]` entries, each checked against the profile.
    pub(super) fn delegation(
        &mut self,
        p: &Profile,
        raw: &[Spanned<RawDelegation>],
    ) -> Vec<Delegation> {
        raw.iter()
            .filter_map(|d| self.one_delegation(p, d.get_ref()))
            .collect()
    }

    fn one_delegation(&mut self, p: &Profile, d: &RawDelegation) -> Option<Delegation> {
        let Some(operation) = Delegated::from_op(d.operation.get_ref()) else {
            self.err(
                &d.operation.span(),
                format!(
                    "a delegation ceiling bounds `roles.write` or `assignments.write`, not `{}`",
                    d.operation.get_ref()
                ),
            );
            return None;
        };
        let role_types = d.role_types.as_ref().map(|ts| {
            ts.iter()
                .filter_map(|t| match p.role_type(t.get_ref()) {
                    Some(i) => Some(i),
                    None => {
                        self.err(&t.span(), format!("unknown role type `{}`", t.get_ref()));
                        None
                    }
                })
                .collect::<Vec<_>>()
        });
        let ceiling = match d.ceiling.get_ref().as_str() {
            "holdings" => Ceiling::Holdings,
            "type_cap" => {
                let types = role_types.clone().unwrap_or_default();
                if d.role_types.is_none() {
                    self.err(
                        &d.ceiling.span(),
                        "`type_cap` needs `role_types`: the types whose cap bounds the write",
                    );
                }
                for t in types {
                    if let Some(rt) = p.role_types.get(t).filter(|rt| rt.cap.is_none()) {
                        self.err(
                            &d.ceiling.span(),
                            format!("role type `{}` has no cap to bound the write", rt.id),
                        );
                    }
                }
                Ceiling::TypeCap
            }
            "roles" => {
                let Some(roles) = &d.roles else {
                    self.err(
                        &d.ceiling.span(),
                        "`roles` ceiling needs `roles`: the role templates whose grants bound it",
                    );
                    return None;
                };
                for r in roles.get_ref() {
                    if p.role(r.get_ref()).is_none() {
                        self.err(&r.span(), format!("unknown role `{}`", r.get_ref()));
                    }
                }
                if roles.get_ref().is_empty() {
                    self.err(&roles.span(), "`roles` names no role");
                }
                Ceiling::Roles(
                    roles
                        .get_ref()
                        .iter()
                        .map(|r| r.get_ref().clone())
                        .collect(),
                )
            }
            other => {
                self.err(
                    &d.ceiling.span(),
                    format!(
                        "unknown ceiling `{other}`; expected `holdings`, `type_cap` or `roles`"
                    ),
                );
                return None;
            }
        };
        if let (Some(r), false) = (&d.roles, matches!(ceiling, Ceiling::Roles(_))) {
            self.err(&r.span(), "`roles` goes with `ceiling = \"roles\"` only");
        }
        Some(Delegation {
            operation,
            role_types,
            ceiling,
        })
    }
}
