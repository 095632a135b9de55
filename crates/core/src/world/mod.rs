//! World files: a tenant's state plus assertions, in TOML (format in
//! docs/profile-format.md). This module holds the parsed [`World`], whose spans let
//! every problem of its state point at a line and column; `parse` reads, `run` runs.

mod parse;
mod raw;
mod run;

use std::ops::Range;
use std::sync::Arc;

use toml::Spanned;

use crate::decision::Context;
use crate::profile::raw::RawRole;
use crate::profile::{Profile, RoleField, Value};
use crate::snapshot::Snapshot;
use crate::span::{Diagnostic, Diagnostics, Location, Source};
use crate::state::{Scope, StatePath, TenantState};

pub use parse::parse_world;
pub use run::{AssertResult, Outcome, run_assertions};

/// What an assertion asks.
#[derive(Debug, Clone, PartialEq)]
pub enum AssertKind {
    /// May the principal perform the action on the resource?
    Check {
        /// Action id.
        action: String,
        /// Resource type id.
        resource_type: String,
        /// Resource id.
        resource_id: String,
        /// Context values.
        context: Context,
    },
    /// May the principal give `role` to `target` over `scope`?
    Appoint {
        /// Role id.
        role: String,
        /// The appointee.
        target: String,
        /// The scope.
        scope: Scope,
    },
}

/// One assertion of a world file.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    /// A name for references (fidelity tables cite it), unique in the file.
    pub id: Option<String>,
    /// The user asking.
    pub principal: String,
    /// What is asked.
    pub kind: AssertKind,
    /// Expected: allowed (true) or denied.
    pub expect: bool,
    /// Evaluation time (Unix seconds); the world's `now` when absent.
    pub at: Option<i64>,
    /// Tenant settings overridden for this assertion only ("what if").
    pub settings: Vec<(String, Value)>,
    /// The reason given in the file.
    pub why: Option<String>,
    /// Where it is written.
    pub location: Location,
}

/// A parsed world file.
#[derive(Debug)]
pub struct World {
    /// The profile path as written (relative to the world file).
    pub profile_path: String,
    /// The tenant's state.
    pub state: TenantState,
    /// Default evaluation time.
    pub now: i64,
    /// Assertions, in file order.
    pub assertions: Vec<Assertion>,
    name: String,
    text: String,
    entity_spans: Vec<EntitySpans>,
    roles: Vec<Spanned<RawRole>>,
    assignment_spans: Vec<AssignmentSpans>,
    setting_spans: Vec<Range<usize>>,
    sod_spans: Vec<Range<usize>>,
    tenant_span: Range<usize>,
}

/// An entity's whole span and the spans of its fields by name.
type EntitySpans = (Range<usize>, Vec<(String, Range<usize>)>);
/// An assignment's spans: whole, principal, role, scope.
type AssignmentSpans = (Range<usize>, Range<usize>, Range<usize>, Range<usize>);

impl World {
    /// Where in the file the object a state error names is written.
    fn span_of(&self, at: &StatePath) -> Range<usize> {
        match at {
            StatePath::Tenant => self.tenant_span.clone(),
            StatePath::Setting(i) => self.setting_spans.get(*i).cloned().unwrap_or_default(),
            StatePath::SodRule(i) => self.sod_spans.get(*i).cloned().unwrap_or_default(),
            StatePath::Entity(i, field) => {
                let Some((whole, fields)) = self.entity_spans.get(*i) else {
                    return 0..0;
                };
                field
                    .as_ref()
                    .and_then(|f| fields.iter().find(|(n, _)| n == f).map(|(_, s)| s.clone()))
                    .or_else(|| {
                        fields
                            .iter()
                            .find(|(n, _)| n == "id")
                            .map(|(_, s)| s.clone())
                    })
                    .unwrap_or_else(|| whole.clone())
            }
            StatePath::Role(i, field) => match self.roles.get(*i) {
                Some(r) => r
                    .get_ref()
                    .span_of(field.as_ref().unwrap_or(&RoleField::Type)),
                None => 0..0,
            },
            StatePath::Assignment(i, field) => match self.assignment_spans.get(*i) {
                Some((whole, principal, role, scope)) => match *field {
                    "principal" => principal.clone(),
                    "role" => role.clone(),
                    "scope" => scope.clone(),
                    _ => whole.clone(),
                },
                None => 0..0,
            },
        }
    }

    /// Builds the world's snapshot against its profile, then checks that every
    /// assertion names things that exist.
    pub fn build(&self, profile: Arc<Profile>) -> Result<Snapshot, Diagnostics> {
        let src = Source::new(&self.name, &self.text);
        let snap = Snapshot::build(profile, &self.state).map_err(|errs| {
            Diagnostics(
                errs.iter()
                    .map(|e| src.error(&self.span_of(&e.at), e.message.clone()))
                    .collect(),
            )
        })?;
        let errors: Vec<Diagnostic> = self
            .assertions
            .iter()
            .flat_map(|a| {
                unknown_names(&snap, a)
                    .into_iter()
                    .map(|message| Diagnostic {
                        location: Some(a.location.clone()),
                        message,
                    })
            })
            .collect();
        if errors.is_empty() {
            Ok(snap)
        } else {
            Err(Diagnostics(errors))
        }
    }
}

/// What an assertion names that the snapshot does not have: users, the action, the
/// resource (of the action's type), the role.
fn unknown_names(snap: &Snapshot, a: &Assertion) -> Vec<String> {
    let p = snap.profile();
    let mut bad = Vec::new();
    if snap.entity(crate::profile::USER, &a.principal).is_none() {
        bad.push(format!("assertion names unknown user `{}`", a.principal));
    }
    match &a.kind {
        AssertKind::Check {
            action,
            resource_type,
            resource_id,
            ..
        } => {
            let Some(act) = p.action(action) else {
                bad.push(format!("assertion names unknown action `{action}`"));
                return bad;
            };
            let expected = p
                .actions
                .get(act)
                .and_then(|x| p.types.get(x.resource))
                .map_or("?", |t| t.id.as_str());
            match p.type_id(resource_type) {
                Some(t) if expected == resource_type => {
                    if snap.entity(t, resource_id).is_none() {
                        bad.push(format!(
                            "assertion names unknown {resource_type} `{resource_id}`"
                        ));
                    }
                }
                _ => bad.push(format!(
                    "action `{action}` acts on `{expected}`, not `{resource_type}`"
                )),
            }
        }
        AssertKind::Appoint { role, target, .. } => {
            if !snap.has_role(role) {
                bad.push(format!("assertion names unknown role `{role}`"));
            }
            if snap.entity(crate::profile::USER, target).is_none() {
                bad.push(format!("assertion names unknown user `{target}`"));
            }
        }
    }
    bad
}
