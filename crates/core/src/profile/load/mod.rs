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

use super::limits::*;
use super::model::*;
use super::raw::*;
use crate::span::{Diagnostic, Diagnostics, Source};

/// The built-in resource types (`tenant` … `queue`).
const BUILTIN_TYPES: usize = QUEUE + 1;

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

/// Parses and validates a profile within the default [`Limits`]. `name` is used in
/// error locations.
pub fn load_profile(name: &str, text: &str) -> Result<Profile, Diagnostics> {
    load_profile_with(name, text, &Limits::default())
}

/// Parses and validates a profile within `limits` (and the structural limits of
/// [`crate::profile::limits`]). `name` is used in error locations.
pub fn load_profile_with(name: &str, text: &str, limits: &Limits) -> Result<Profile, Diagnostics> {
    let src = Source::new(name, text);
    if text.len() > limits.max_profile_bytes {
        return Err(Diagnostics(vec![src.error(
            &(0..0),
            format!(
                "profile text is {} bytes; the limit is {}",
                thousands(text.len()),
                bytes_label(limits.max_profile_bytes)
            ),
        )]));
    }
    let raw: RawProfile =
        toml::from_str(text).map_err(|e| Diagnostics(vec![toml_error(&src, &e)]))?;
    let mut l = Loader {
        src,
        limits: *limits,
        errors: Vec::new(),
        dropped: 0,
        terms: 0,
    };
    l.sizes(&raw);
    if !l.errors.is_empty() {
        return Err(l.finish());
    }
    let profile = l.profile(raw);
    if l.errors.is_empty() {
        Ok(profile)
    } else {
        Err(l.finish())
    }
}

/// Validates raw shapes into the profile's model, collecting every problem found.
struct Loader<'a> {
    src: Source<'a>,
    limits: Limits,
    errors: Vec<Diagnostic>,
    /// Problems found past [`MAX_DIAGNOSTICS`], counted.
    dropped: usize,
    /// Terms of the expressions read so far.
    terms: usize,
}

impl Loader<'_> {
    /// Records a problem at the start of `span` (past [`MAX_DIAGNOSTICS`], counts it).
    fn err(&mut self, span: &Range<usize>, message: impl Into<String>) {
        if self.errors.len() >= MAX_DIAGNOSTICS {
            self.dropped += 1;
            return;
        }
        let d = self.src.error(span, message);
        self.errors.push(d);
    }

    /// The problems found, with a last line counting those left out.
    fn finish(self) -> Diagnostics {
        let mut errors = self.errors;
        if self.dropped > 0 {
            errors.push(Diagnostic::bare(format!(
                "{} more problems not shown (at most {MAX_DIAGNOSTICS} are reported)",
                thousands(self.dropped)
            )));
        }
        Diagnostics(errors)
    }

    /// Reports a list longer than `limit`, at its first item past the limit.
    fn at_most<T>(&mut self, items: &[Spanned<T>], limit: usize, what: &str) {
        if let Some(first_over) = items.get(limit) {
            self.err(
                &first_over.span(),
                format!(
                    "{} {what}; the limit is {}",
                    thousands(items.len()),
                    thousands(limit)
                ),
            );
        }
    }

    /// Reports every list of the profile longer than its limit. Checked before anything
    /// else, so that the steps after it work on bounded input.
    fn sizes(&mut self, raw: &RawProfile) {
        self.at_most(&raw.org_unit_kind, MAX_ORG_KINDS, "org unit kinds");
        self.at_most(&raw.setting, MAX_SETTINGS, "settings");
        // The built-in types come on top of the declared ones (or are extended by them).
        self.at_most(
            &raw.resource_type,
            MAX_TYPES - BUILTIN_TYPES,
            "resource types",
        );
        self.at_most(&raw.section, MAX_SECTIONS, "sections");
        self.at_most(&raw.privilege, MAX_PRIVILEGES, "privileges");
        self.at_most(&raw.role_type, MAX_ROLE_TYPES, "role types");
        self.at_most(&raw.role, MAX_ROLES, "roles");
        self.at_most(&raw.appointment, MAX_RULES, "appointment rules");
        self.at_most(&raw.delegation, MAX_RULES, "delegation entries");
        self.at_most(&raw.invariant, MAX_RULES, "invariants");
        self.at_most(
            &raw.separation_of_duty,
            MAX_RULES,
            "separation-of-duty rules",
        );
        for t in &raw.resource_type {
            let t = t.get_ref();
            for (name, a) in &t.attributes {
                let n = a.get_ref().values.as_ref().map_or(0, Vec::len);
                if n > MAX_ENUM_VALUES {
                    self.err(
                        &a.span(),
                        format!(
                            "attribute `{}` has {} values; the limit is {}",
                            name.get_ref(),
                            thousands(n),
                            thousands(MAX_ENUM_VALUES)
                        ),
                    );
                }
            }
            for (n, what) in [
                (t.relations.len(), "relations"),
                (t.attributes.len(), "attributes"),
            ] {
                if n > MAX_TYPE_FIELDS {
                    self.err(
                        &t.id.span(),
                        format!(
                            "resource type `{}` has {} {what}; the limit is {}",
                            t.id.get_ref(),
                            thousands(n),
                            thousands(MAX_TYPE_FIELDS)
                        ),
                    );
                }
            }
        }
        let mut bits = 0usize;
        for p in &raw.privilege {
            let p = p.get_ref();
            let (n, what) = match (&p.levels, &p.choices) {
                (Some(l), _) => (l.get_ref().len(), "levels"),
                (None, Some(c)) => (c.get_ref().len(), "choices"),
                (None, None) => (1, ""),
            };
            if n > MAX_OPTIONS {
                let span = p
                    .levels
                    .as_ref()
                    .or(p.choices.as_ref())
                    .map_or(p.id.span(), |l| l.span());
                self.err(
                    &span,
                    format!(
                        "privilege `{}` has {} {what}; the limit is {MAX_OPTIONS}",
                        p.id.get_ref(),
                        thousands(n)
                    ),
                );
            }
            bits += match (&p.levels, &p.choices) {
                (Some(l), _) => l.get_ref().len().max(1),
                (None, Some(c)) => 1 + c.get_ref().len(),
                (None, None) => 1,
            };
            if bits > MAX_CATALOG_BITS {
                self.err(
                    &p.id.span(),
                    format!(
                        "the catalog needs more than {} bits from privilege `{}` on (1 per flag or number, 1 per level, 1 plus 1 per choice)",
                        thousands(MAX_CATALOG_BITS),
                        p.id.get_ref()
                    ),
                );
                break;
            }
        }
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
            role_index: FxHashMap::default(),
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
        for (i, r) in p.roles.iter().enumerate() {
            p.role_index.entry(r.id.clone()).or_insert(i);
        }
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

    /// The org unit kinds; each kind's allowed parents must be declared kinds, and may
    /// not lead back to the kind (a kind listing itself nests, as departments may).
    fn org_kinds(&mut self, raw: &[Spanned<RawOrgKind>]) -> Vec<OrgKind> {
        self.unique(raw.iter().map(|k| &k.get_ref().id), "org unit kind");
        let ids: Vec<&str> = raw
            .iter()
            .map(|k| k.get_ref().id.get_ref().as_str())
            .collect();
        let mut index: FxHashMap<&str, usize> = FxHashMap::default();
        for (i, id) in ids.iter().enumerate() {
            index.entry(id).or_insert(i);
        }
        let mut out = Vec::new();
        for k in raw {
            let k = k.get_ref();
            let mut parents = Vec::new();
            for p in &k.parents {
                match index.get(p.get_ref().as_str()) {
                    Some(&i) => parents.push(i),
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
        self.org_kind_cycles(raw, &out);
        out
    }

    /// Reports each cycle of org unit kinds through `parents` longer than a kind
    /// listing itself, once, at the first kind of the cycle in file order.
    fn org_kind_cycles(&mut self, raw: &[Spanned<RawOrgKind>], kinds: &[OrgKind]) {
        let adj: Vec<Vec<usize>> = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| k.parents.iter().copied().filter(|&q| q != i).collect())
            .collect();
        let comp = crate::graph::components(&adj);
        let on_cycle = crate::graph::on_cycles(&adj, &comp);
        let mut reported: Vec<usize> = Vec::new();
        for (i, k) in raw.iter().enumerate() {
            let c = comp.get(i).copied().unwrap_or(usize::MAX);
            if !on_cycle.get(i).copied().unwrap_or(false) || reported.contains(&c) {
                continue;
            }
            reported.push(c);
            let cycle = crate::graph::cycle_through(&adj, &comp, i);
            let name = |j: usize| kinds.get(j).map_or("?", |k| k.id.as_str());
            let k = k.get_ref();
            // Point at the entry of `parents` the cycle leaves this kind by.
            let next = cycle.get(1).map(|&j| name(j));
            let span = k
                .parents
                .iter()
                .find(|p| Some(p.get_ref().as_str()) == next)
                .map_or_else(|| k.id.span(), |p| p.span());
            let path: Vec<String> = cycle.iter().map(|&j| format!("`{}`", name(j))).collect();
            self.err(
                &span,
                format!(
                    "org unit kind `{}` is its own ancestor through `parents` ({}); only a kind listing itself may nest",
                    k.id.get_ref(),
                    path.join(" → ")
                ),
            );
        }
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
