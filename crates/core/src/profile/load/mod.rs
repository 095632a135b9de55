//! Loading a profile: TOML → raw shapes → validated [`Profile`], collecting every
//! problem with its `file:line:column`. This module holds the loader and the order of
//! its steps; each submodule validates one part of the profile.

mod actions;
mod delegation;
mod kinds;
mod privileges;
mod roles;
mod rules;
mod settings;
mod types;

use std::ops::Range;

use rustc_hash::FxHashMap;
use toml::Spanned;

use super::model::*;
use super::raw::*;
use crate::span::{Diagnostic, Diagnostics, Source};

/// Whether `id` is a valid identifier: letters, digits, `_`, `-`, `.`, `:`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// Turns a TOML deserialization error into a diagnostic.
pub(crate) fn toml_error(src: &Source<'_>, e: &toml::de::Error) -> Diagnostic {
    let message = e.message().trim_end_matches('\n').to_owned();
    match e.span() {
        Some(span) => src.error(&span, message),
        None => Diagnostic {
            location: Some(src.locate(0)),
            message,
        },
    }
}

/// Parses and validates a profile. `name` is used in error locations.
pub fn load_profile(name: &str, text: &str) -> Result<Profile, Diagnostics> {
    let src = Source::new(name, text);
    let raw: RawProfile =
        toml::from_str(text).map_err(|e| Diagnostics(vec![toml_error(&src, &e)]))?;
    let mut l = Loader {
        src,
        errors: Vec::new(),
    };
    let profile = l.profile(raw);
    if l.errors.is_empty() {
        Ok(profile)
    } else {
        Err(Diagnostics(l.errors))
    }
}

/// Validates raw shapes into the profile's model, collecting every problem found.
struct Loader<'a> {
    src: Source<'a>,
    errors: Vec<Diagnostic>,
}

impl Loader<'_> {
    /// Records a problem at the start of `span`.
    fn err(&mut self, span: &Range<usize>, message: impl Into<String>) {
        let d = self.src.error(span, message);
        self.errors.push(d);
    }

    /// Reports an invalid identifier.
    fn check_id(&mut self, id: &Spanned<String>, what: &str) {
        if !valid_id(id.get_ref()) {
            self.err(
                &id.span(),
                format!(
                    "invalid {what} id `{}`: use letters, digits, `_`, `-`, `.` or `:`",
                    id.get_ref()
                ),
            );
        }
    }

    /// Reports invalid identifiers, and every id met a second time.
    fn unique<'s, I: Iterator<Item = &'s Spanned<String>>>(&mut self, ids: I, what: &str) {
        let mut seen: FxHashMap<&str, ()> = FxHashMap::default();
        for id in ids {
            self.check_id(id, what);
            if seen.insert(id.get_ref().as_str(), ()).is_some() {
                self.err(
                    &id.span(),
                    format!("duplicate {what} id `{}`", id.get_ref()),
                );
            }
        }
    }

    /// Validates the parts in an order where each step may use what the steps before
    /// it produced (types before privileges, privileges before roles and actions, …).
    fn profile(&mut self, raw: RawProfile) -> Profile {
        self.check_id(&raw.profile.id, "profile");
        let org_kinds = self.org_kinds(&raw.org_unit_kind);
        let settings = self.settings(&raw.setting);
        let types = self.types(&raw.resource_type);
        let sections = self.sections(&raw.section, &raw.privilege);
        let (privileges, priv_index) = self.privileges(&raw.privilege, &sections);
        let mut p = Profile {
            id: raw.profile.id.get_ref().clone(),
            name: raw.profile.name.clone(),
            seed: raw.profile.seed.clone(),
            description: raw.profile.description.clone(),
            org_kinds,
            settings,
            types,
            sections,
            privileges,
            role_types: Vec::new(),
            default_role_type: None,
            roles: Vec::new(),
            actions: Vec::new(),
            appointments: Vec::new(),
            management: Vec::new(),
            delegation: Vec::new(),
            invariants: Vec::new(),
            separation_of_duty: Vec::new(),
            priv_index,
            action_index: FxHashMap::default(),
        };
        p.role_types = self.role_types(&p, &raw.role_type);
        if let Some(t) = &raw.profile.default_role_type {
            match p.role_type(t.get_ref()) {
                Some(i) => p.default_role_type = Some(i),
                None => self.err(
                    &t.span(),
                    format!(
                        "unknown role type `{}` for `default_role_type`",
                        t.get_ref()
                    ),
                ),
            }
        }
        p.roles = self.roles(&p, &raw.role);
        p.actions = self.actions(&p, &raw.action);
        p.action_index = p
            .actions
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
        p.appointments = self.appointments(&p, &raw.appointment);
        p.management = self.management(&p, raw.management.as_ref());
        p.delegation = self.delegation(&p, &raw.delegation);
        p.invariants = self.invariants(&p, &raw.invariant);
        p.separation_of_duty = self.sod_rules(&p, &raw.separation_of_duty);
        p
    }

    /// The org unit kinds; each kind's allowed parents must be declared kinds.
    fn org_kinds(&mut self, raw: &[Spanned<RawOrgKind>]) -> Vec<OrgKind> {
        self.unique(raw.iter().map(|k| &k.get_ref().id), "org unit kind");
        let ids: Vec<&str> = raw
            .iter()
            .map(|k| k.get_ref().id.get_ref().as_str())
            .collect();
        let mut out = Vec::new();
        for k in raw {
            let k = k.get_ref();
            let mut parents = Vec::new();
            for p in &k.parents {
                match ids.iter().position(|x| x == p.get_ref()) {
                    Some(i) => parents.push(i),
                    None => self.err(
                        &p.span(),
                        format!(
                            "unknown org unit kind `{}`; expected one of {}",
                            p.get_ref(),
                            quoted_str(&ids)
                        ),
                    ),
                }
            }
            out.push(OrgKind {
                id: k.id.get_ref().clone(),
                name: k.name.clone().unwrap_or_else(|| k.id.get_ref().clone()),
                parents,
            });
        }
        out
    }
}

/// `a`, `b`, `c`: each item in backticks.
fn quoted_str(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
