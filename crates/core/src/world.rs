//! World files: a tenant's state plus assertions, in TOML (format in
//! docs/profile-format.md). Parsing keeps spans so that every problem, whether in
//! the file's shape or in the state it describes, points at its line and column.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::decision::Context;
use crate::profile::load::toml_error;
use crate::profile::raw::{RawRole, RawScalar};
use crate::profile::{Profile, RoleField, Value};
use crate::snapshot::Snapshot;
use crate::span::{Diagnostic, Diagnostics, Location, Source};
use crate::state::{Assignment, Entity, Scope, StatePath, TenantState};

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawTargets {
    One(String),
    Many(Vec<String>),
}

impl RawTargets {
    fn list(&self) -> Vec<String> {
        match self {
            RawTargets::One(s) => vec![s.clone()],
            RawTargets::Many(v) => v.clone(),
        }
    }
}

type RawRelations = BTreeMap<Spanned<String>, Spanned<RawTargets>>;
type RawAttributes = BTreeMap<Spanned<String>, Spanned<RawScalar>>;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawScope {
    Word(String),
    Table(RawScopeTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScopeTable {
    org_unit: Option<String>,
    org_units: Option<Vec<String>>,
    queues: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    id: Spanned<String>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    #[serde(rename = "type")]
    ty: Option<Spanned<String>>,
    id: Spanned<String>,
    name: Option<String>,
    kind: Option<Spanned<String>>,
    parent: Option<Spanned<String>>,
    org_unit: Option<Spanned<String>>,
    members: Option<Spanned<Vec<String>>>,
    supervisors: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    relations: RawRelations,
    #[serde(default)]
    attributes: RawAttributes,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssignment {
    principal: Spanned<String>,
    role: Spanned<String>,
    scope: Option<Spanned<RawScope>>,
    expires_at: Option<Spanned<toml::value::Datetime>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssert {
    principal: Spanned<String>,
    action: Option<Spanned<String>>,
    resource: Option<Spanned<String>>,
    appoint: Option<Spanned<String>>,
    target: Option<Spanned<String>>,
    scope: Option<Spanned<RawScope>>,
    expect: Spanned<String>,
    at: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    context: BTreeMap<String, RawScalar>,
    #[serde(default)]
    settings: BTreeMap<String, RawScalar>,
    why: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorld {
    profile: Spanned<String>,
    now: Option<Spanned<toml::value::Datetime>>,
    tenant: RawTenant,
    #[serde(default)]
    settings: RawAttributes,
    #[serde(default)]
    org_unit: Vec<Spanned<RawEntity>>,
    #[serde(default)]
    group: Vec<Spanned<RawEntity>>,
    #[serde(default)]
    user: Vec<Spanned<RawEntity>>,
    #[serde(default)]
    queue: Vec<Spanned<RawEntity>>,
    #[serde(default)]
    resource: Vec<Spanned<RawEntity>>,
    #[serde(default)]
    role: Vec<Spanned<RawRole>>,
    #[serde(default)]
    assignment: Vec<Spanned<RawAssignment>>,
    #[serde(default, rename = "assert")]
    asserts: Vec<Spanned<RawAssert>>,
    #[serde(default)]
    separation_of_duty: Vec<Spanned<crate::profile::SodRule>>,
}

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

/// Unix seconds of a TOML offset date-time.
fn unix(src: &Source<'_>, dt: &Spanned<toml::value::Datetime>) -> Result<i64, Diagnostic> {
    let text = dt.get_ref().to_string();
    time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            src.error(
                &dt.span(),
                format!(
                    "`{text}` needs a full date, time and UTC offset, e.g. 2026-12-01T00:00:00Z"
                ),
            )
        })
}

fn scope(src: &Source<'_>, s: &Spanned<RawScope>) -> Result<Scope, Diagnostic> {
    match s.get_ref() {
        RawScope::Word(w) if w == "tenant" => Ok(Scope::Tenant),
        RawScope::Word(w) => Err(src.error(&s.span(), format!("unknown scope `{w}`; write \"tenant\", {{ org_unit = … }}, {{ org_units = [...] }} or {{ queues = [...] }}"))),
        RawScope::Table(t) => match (&t.org_unit, &t.org_units, &t.queues) {
            (Some(u), None, None) => Ok(Scope::OrgUnits(vec![u.clone()])),
            (None, Some(us), None) => Ok(Scope::OrgUnits(us.clone())),
            (None, None, Some(qs)) => Ok(Scope::Queues(qs.clone())),
            _ => Err(src.error(&s.span(), "a scope names exactly one of `org_unit`, `org_units` or `queues`")),
        },
    }
}

/// Parses a world file's text. `name` is used in error locations.
pub fn parse_world(name: &str, text: &str) -> Result<World, Diagnostics> {
    let src = Source::new(name, text);
    let raw: RawWorld =
        toml::from_str(text).map_err(|e| Diagnostics(vec![toml_error(&src, &e)]))?;
    let mut errors = Vec::new();
    let now = match &raw.now {
        Some(dt) => unix(&src, dt).unwrap_or_else(|d| {
            errors.push(d);
            0
        }),
        None => 0,
    };
    let mut entities = Vec::new();
    let mut entity_spans = Vec::new();
    let groups: [(&str, &Vec<Spanned<RawEntity>>); 5] = [
        ("org_unit", &raw.org_unit),
        ("group", &raw.group),
        ("user", &raw.user),
        ("queue", &raw.queue),
        ("resource", &raw.resource),
    ];
    for (section, items) in groups {
        for item in items {
            let span = item.span();
            let e = item.get_ref();
            let mut fields: Vec<(String, Range<usize>)> = Vec::new();
            let mut relations: Vec<(String, Vec<String>)> = Vec::new();
            let mut attributes: Vec<(String, Value)> = Vec::new();
            let mut stray = |present: Option<Range<usize>>, key: &str| {
                if let Some(sp) = present {
                    errors
                        .push(src.error(&sp, format!("`{key}` does not belong in [[{section}]]")));
                }
            };
            let ty = match section {
                "resource" => match &e.ty {
                    Some(t) => t.get_ref().clone(),
                    None => {
                        errors.push(src.error(&span, "[[resource]] needs a `type`"));
                        String::new()
                    }
                },
                other => {
                    stray(e.ty.as_ref().map(|t| t.span()), "type");
                    other.to_owned()
                }
            };
            let mut builtin =
                |key: &str, value: Option<(Vec<String>, Range<usize>)>, allowed: bool| {
                    if let Some((v, sp)) = value {
                        if allowed {
                            fields.push((key.to_owned(), sp));
                            relations.push((key.to_owned(), v));
                        } else {
                            errors.push(
                                src.error(&sp, format!("`{key}` does not belong in [[{section}]]")),
                            );
                        }
                    }
                };
            let one = |s: &Option<Spanned<String>>| {
                s.as_ref().map(|x| (vec![x.get_ref().clone()], x.span()))
            };
            let many = |s: &Option<Spanned<Vec<String>>>| {
                s.as_ref().map(|x| (x.get_ref().clone(), x.span()))
            };
            builtin("parent", one(&e.parent), section == "org_unit");
            builtin(
                "org_unit",
                one(&e.org_unit),
                section == "user" || section == "queue",
            );
            builtin(
                "members",
                many(&e.members),
                section == "group" || section == "queue",
            );
            builtin("supervisors", many(&e.supervisors), section == "queue");
            match (&e.kind, section) {
                (Some(k), "org_unit") => {
                    fields.push(("kind".into(), k.span()));
                    attributes.push(("kind".into(), Value::Str(k.get_ref().clone())));
                }
                (Some(k), _) => errors.push(src.error(
                    &k.span(),
                    format!("`kind` does not belong in [[{section}]]"),
                )),
                (None, "org_unit") => {
                    errors.push(src.error(&e.id.span(), "[[org_unit]] needs a `kind`"))
                }
                _ => {}
            }
            for (k, v) in &e.relations {
                fields.push((k.get_ref().clone(), k.span()));
                relations.push((k.get_ref().clone(), v.get_ref().list()));
            }
            for (k, v) in &e.attributes {
                fields.push((k.get_ref().clone(), k.span()));
                attributes.push((k.get_ref().clone(), v.get_ref().into()));
            }
            entities.push(Entity {
                ty,
                id: e.id.get_ref().clone(),
                name: e.name.clone(),
                relations,
                attributes,
            });
            fields.push(("id".into(), e.id.span()));
            entity_spans.push((span, fields));
        }
    }
    let mut assignments = Vec::new();
    let mut assignment_spans = Vec::new();
    for a in &raw.assignment {
        let r = a.get_ref();
        let sc = match &r.scope {
            Some(s) => scope(&src, s).unwrap_or_else(|d| {
                errors.push(d);
                Scope::Tenant
            }),
            None => Scope::Tenant,
        };
        let expires_at = r
            .expires_at
            .as_ref()
            .and_then(|d| unix(&src, d).map_err(|d| errors.push(d)).ok());
        assignments.push(Assignment {
            id: format!("a{}", assignments.len() + 1),
            principal: r.principal.get_ref().clone(),
            role: r.role.get_ref().clone(),
            scope: sc,
            expires_at,
        });
        assignment_spans.push((
            a.span(),
            r.principal.span(),
            r.role.span(),
            r.scope.as_ref().map_or_else(|| a.span(), |s| s.span()),
        ));
    }
    let mut assertions = Vec::new();
    for a in &raw.asserts {
        let r = a.get_ref();
        let location = src.locate(a.span().start);
        let expect = match r.expect.get_ref().as_str() {
            "allow" => true,
            "deny" => false,
            other => {
                errors.push(src.error(
                    &r.expect.span(),
                    format!("`expect` must be \"allow\" or \"deny\", found `{other}`"),
                ));
                continue;
            }
        };
        let at =
            r.at.as_ref()
                .and_then(|d| unix(&src, d).map_err(|d| errors.push(d)).ok());
        let kind = match (&r.action, &r.resource, &r.appoint, &r.target, &r.scope) {
            (Some(action), Some(resource), None, None, None) => {
                let Some((ty, id)) = resource.get_ref().split_once(':') else {
                    errors.push(src.error(
                        &resource.span(),
                        format!("resource `{}` must be written TYPE:ID", resource.get_ref()),
                    ));
                    continue;
                };
                AssertKind::Check {
                    action: action.get_ref().clone(),
                    resource_type: ty.to_owned(),
                    resource_id: id.to_owned(),
                    context: r
                        .context
                        .iter()
                        .map(|(k, v)| (k.clone(), v.into()))
                        .collect(),
                }
            }
            (None, None, Some(role), Some(target), Some(sc)) => match scope(&src, sc) {
                Ok(scope) => AssertKind::Appoint {
                    role: role.get_ref().clone(),
                    target: target.get_ref().clone(),
                    scope,
                },
                Err(d) => {
                    errors.push(d);
                    continue;
                }
            },
            _ => {
                errors.push(src.error(&a.span(), "an assertion has either `action` and `resource`, or `appoint`, `target` and `scope`"));
                continue;
            }
        };
        assertions.push(Assertion {
            principal: r.principal.get_ref().clone(),
            kind,
            expect,
            at,
            settings: r
                .settings
                .iter()
                .map(|(k, v)| (k.clone(), v.into()))
                .collect(),
            why: r.why.clone(),
            location,
        });
    }
    let setting_spans = raw.settings.keys().map(|k| k.span()).collect();
    let sod_spans: Vec<Range<usize>> = raw.separation_of_duty.iter().map(|r| r.span()).collect();
    let state = TenantState {
        sod_rules: raw
            .separation_of_duty
            .iter()
            .map(|r| r.get_ref().clone())
            .collect(),
        tenant_id: raw.tenant.id.get_ref().clone(),
        tenant_name: raw.tenant.name.clone(),
        settings: raw
            .settings
            .iter()
            .map(|(k, v)| (k.get_ref().clone(), v.get_ref().into()))
            .collect(),
        entities,
        roles: raw.role.iter().map(|r| r.get_ref().spec()).collect(),
        assignments,
    };
    if !errors.is_empty() {
        return Err(Diagnostics(errors));
    }
    Ok(World {
        profile_path: raw.profile.get_ref().clone(),
        state,
        now,
        assertions,
        name: name.to_owned(),
        text: text.to_owned(),
        entity_spans,
        roles: raw.role,
        assignment_spans,
        setting_spans,
        sod_spans,
        tenant_span: raw.tenant.id.span(),
    })
}

impl World {
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
        let mut errors = Vec::new();
        let p = snap.profile().clone();
        for a in &self.assertions {
            let mut bad = |m: String| {
                errors.push(Diagnostic {
                    location: Some(a.location.clone()),
                    message: m,
                })
            };
            if snap.entity(crate::profile::USER, &a.principal).is_none() {
                bad(format!("assertion names unknown user `{}`", a.principal));
            }
            match &a.kind {
                AssertKind::Check {
                    action,
                    resource_type,
                    resource_id,
                    ..
                } => {
                    let Some(act) = p.action(action) else {
                        bad(format!("assertion names unknown action `{action}`"));
                        continue;
                    };
                    let expected = p
                        .actions
                        .get(act)
                        .and_then(|x| p.types.get(x.resource))
                        .map_or("?", |t| t.id.as_str());
                    match p.type_id(resource_type) {
                        Some(t) if expected == resource_type => {
                            if snap.entity(t, resource_id).is_none() {
                                bad(format!(
                                    "assertion names unknown {resource_type} `{resource_id}`"
                                ));
                            }
                        }
                        _ => bad(format!(
                            "action `{action}` acts on `{expected}`, not `{resource_type}`"
                        )),
                    }
                }
                AssertKind::Appoint { role, target, .. } => {
                    if !snap.has_role(role) {
                        bad(format!("assertion names unknown role `{role}`"));
                    }
                    if snap.entity(crate::profile::USER, target).is_none() {
                        bad(format!("assertion names unknown user `{target}`"));
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(snap)
        } else {
            Err(Diagnostics(errors))
        }
    }
}

/// How an assertion came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The decision matched the expectation.
    Pass,
    /// It did not.
    Fail,
}

/// The result of one assertion.
#[derive(Debug, Clone)]
pub struct AssertResult<'w> {
    /// The assertion.
    pub assertion: &'w Assertion,
    /// Allowed or not.
    pub allowed: bool,
    /// Pass or fail.
    pub outcome: Outcome,
    /// An evaluation error, if any.
    pub error: Option<String>,
    /// The explanation (for check assertions) or the reason (for appointments).
    pub explanation: Option<String>,
}

impl AssertResult<'_> {
    /// One line: `PASS  allow  alice  conversation.edit  conversation:c1  — why`.
    pub fn line(&self) -> String {
        let a = self.assertion;
        let verdict = if self.outcome == Outcome::Pass {
            "PASS"
        } else {
            "FAIL"
        };
        let want = if a.expect { "allow" } else { "deny" };
        let what = match &a.kind {
            AssertKind::Check {
                action,
                resource_type,
                resource_id,
                ..
            } => format!("{action} {resource_type}:{resource_id}"),
            AssertKind::Appoint {
                role,
                target,
                scope,
            } => {
                let sc = match scope {
                    Scope::Tenant => "tenant".to_owned(),
                    Scope::OrgUnits(v) => format!("org_unit {}", v.join(",")),
                    Scope::Queues(v) => format!("queues {}", v.join(",")),
                };
                format!("appoint {role} → {target} over {sc}")
            }
        };
        let mut line = format!("  {verdict}  {want:5}  {}  {what}", a.principal);
        if !a.settings.is_empty() {
            let s: Vec<String> = a.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
            line.push_str(&format!("  [with {}]", s.join(", ")));
        }
        if self.outcome == Outcome::Fail {
            line.push_str(&format!(
                "  (got {}; {})",
                if self.allowed { "allow" } else { "deny" },
                a.location
            ));
        }
        if let Some(e) = &self.error {
            line.push_str(&format!("  [error: {e}]"));
        }
        if let Some(w) = &a.why {
            line.push_str(&format!("  — {w}"));
        }
        line
    }
}

/// The snapshot an assertion runs against: the world's, or one rebuilt with the
/// assertion's setting overrides.
fn variant(
    world: &World,
    snap: &Snapshot,
    settings: &[(String, Value)],
) -> Result<Option<Snapshot>, String> {
    if settings.is_empty() {
        return Ok(None);
    }
    let mut state = world.state.clone();
    for (k, v) in settings {
        state.settings.retain(|(x, _)| x != k);
        state.settings.push((k.clone(), v.clone()));
    }
    Snapshot::build(snap.profile().clone(), &state)
        .map(Some)
        .map_err(|e| {
            e.iter()
                .map(|x| x.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        })
}

/// Evaluates every assertion of a world against its snapshot.
pub fn run_assertions<'w>(world: &'w World, snap: &Snapshot) -> Vec<AssertResult<'w>> {
    world
        .assertions
        .iter()
        .map(|a| {
            let rebuilt = match variant(world, snap, &a.settings) {
                Ok(v) => v,
                Err(e) => {
                    return AssertResult {
                        assertion: a,
                        allowed: false,
                        outcome: Outcome::Fail,
                        error: Some(format!("settings: {e}")),
                        explanation: None,
                    };
                }
            };
            let snap = rebuilt.as_ref().unwrap_or(snap);
            let now = a.at.unwrap_or(world.now);
            let (decision, explanation) = match &a.kind {
                AssertKind::Check {
                    action,
                    resource_type,
                    resource_id,
                    context,
                } => {
                    let x = snap.explain(&crate::Request {
                        principal: &a.principal,
                        action,
                        resource_type,
                        resource_id,
                        context,
                        now,
                    });
                    let text = x.render();
                    (x.decision, text)
                }
                AssertKind::Appoint {
                    role,
                    target,
                    scope,
                } => {
                    let d = snap.check_appointment(&crate::snapshot::AppointRequest {
                        appointer: &a.principal,
                        role,
                        target,
                        scope,
                        now,
                    });
                    (d.decision, d.reason)
                }
            };
            AssertResult {
                assertion: a,
                allowed: decision.allowed,
                outcome: if decision.allowed == a.expect {
                    Outcome::Pass
                } else {
                    Outcome::Fail
                },
                error: decision.error.map(|e| e.to_string()),
                explanation: Some(explanation),
            }
        })
        .collect()
}
