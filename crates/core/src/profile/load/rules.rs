//! Rules over the tenant's data: invariants that writes must keep (monotonic
//! attributes) and the profile's separation-of-duty rules.

use toml::Spanned;

use super::Loader;
use crate::profile::SodRule;
use crate::profile::model::{Invariant, Profile};
use crate::profile::raw::RawInvariant;

impl Loader<'_> {
    /// The invariants: monotonic attributes, which need ordered `values`.
    pub(super) fn invariants(
        &mut self,
        p: &Profile,
        raw: &[Spanned<RawInvariant>],
    ) -> Vec<Invariant> {
        let mut out = Vec::new();
        for i in raw {
            let i = i.get_ref();
            if i.kind.get_ref() != "monotonic" {
                self.err(
                    &i.kind.span(),
                    format!(
                        "unknown invariant kind `{}`; expected `monotonic`",
                        i.kind.get_ref()
                    ),
                );
                continue;
            }
            let Some(ty) = p.type_id(i.ty.get_ref()) else {
                self.err(
                    &i.ty.span(),
                    format!("unknown resource type `{}`", i.ty.get_ref()),
                );
                continue;
            };
            let attr = p
                .types
                .get(ty)
                .and_then(|t| t.attribute(i.attribute.get_ref()));
            let Some(attr) = attr else {
                self.err(
                    &i.attribute.span(),
                    format!(
                        "`{}` has no attribute `{}`",
                        i.ty.get_ref(),
                        i.attribute.get_ref()
                    ),
                );
                continue;
            };
            if p.attr_def(ty, attr)
                .and_then(|d| d.values.as_ref())
                .is_none()
            {
                self.err(
                    &i.attribute.span(),
                    format!(
                        "a monotonic attribute needs ordered `values`; `{}` has none",
                        i.attribute.get_ref()
                    ),
                );
                continue;
            }
            out.push(Invariant::Monotonic {
                ty,
                attr,
                reason: i.reason.clone(),
            });
        }
        out
    }

    /// The profile's separation-of-duty rules, each validated.
    pub(super) fn sod_rules(&mut self, p: &Profile, raw: &[Spanned<SodRule>]) -> Vec<SodRule> {
        let mut out = Vec::new();
        for r in raw {
            match crate::profile::sod::validate_rule(p, r.get_ref()) {
                Ok(()) => out.push(r.get_ref().clone()),
                Err(m) => self.err(&r.span(), m),
            }
        }
        out
    }
}
