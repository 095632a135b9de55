//! Reading a world file: the raw TOML shapes become a [`TenantState`] and
//! [`Assertion`]s, keeping the span of every part that a later problem may name.
//! Problems of the file's shape are collected, in file order, with their positions.

use std::ops::Range;

use toml::Spanned;

use super::raw::{RawAssert, RawAssignment, RawEntity, RawScope, RawWorld};
use super::{AssertKind, Assertion, AssignmentSpans, EntitySpans, World};
use crate::profile::Value;
use crate::profile::load::toml_error;
use crate::span::{Diagnostic, Diagnostics, Source};
use crate::state::{Assignment, Entity, Scope, TenantState};

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

/// A scope as written: `"tenant"` or a table naming org units or queues.
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
    let mut r = Reader {
        src,
        errors: Vec::new(),
    };
    let now = r.now(raw.now.as_ref());
    let (entities, entity_spans) = r.entities(&raw);
    let (assignments, assignment_spans) = r.assignments(&raw.assignment);
    let assertions = r.assertions(&raw.asserts);
    let setting_spans = raw.settings.keys().map(|k| k.span()).collect();
    let sod_spans: Vec<Range<usize>> = raw.separation_of_duty.iter().map(|r| r.span()).collect();
    let state = tenant_state(&raw, entities, assignments);
    if !r.errors.is_empty() {
        return Err(Diagnostics(r.errors));
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

/// The tenant's state as the world file describes it.
fn tenant_state(
    raw: &RawWorld,
    entities: Vec<Entity>,
    assignments: Vec<Assignment>,
) -> TenantState {
    TenantState {
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
    }
}

/// Reads the parts of a world file, collecting every problem in file order.
struct Reader<'a> {
    src: Source<'a>,
    errors: Vec<Diagnostic>,
}

/// An entity's relations, attributes and field spans, as they are read.
#[derive(Default)]
struct Fields {
    spans: Vec<(String, Range<usize>)>,
    relations: Vec<(String, Vec<String>)>,
    attributes: Vec<(String, Value)>,
}

impl Reader<'_> {
    /// The world's `now` (Unix seconds), 0 when absent or unreadable.
    fn now(&mut self, now: Option<&Spanned<toml::value::Datetime>>) -> i64 {
        match now {
            Some(dt) => unix(&self.src, dt).unwrap_or_else(|d| {
                self.errors.push(d);
                0
            }),
            None => 0,
        }
    }

    /// Reports `key` written in a section it does not belong in.
    fn stray(&mut self, span: &Range<usize>, key: &str, section: &str) {
        self.errors.push(
            self.src
                .error(span, format!("`{key}` does not belong in [[{section}]]")),
        );
    }

    /// Every entity, section by section, with its spans.
    fn entities(&mut self, raw: &RawWorld) -> (Vec<Entity>, Vec<EntitySpans>) {
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
                let (entity, spans) = self.entity(section, item);
                entities.push(entity);
                entity_spans.push(spans);
            }
        }
        (entities, entity_spans)
    }

    /// One entity of `[[section]]`: its type, the built-in relations and `kind` its
    /// section allows, and its own relations and attributes.
    fn entity(&mut self, section: &str, item: &Spanned<RawEntity>) -> (Entity, EntitySpans) {
        let span = item.span();
        let e = item.get_ref();
        let mut f = Fields::default();
        let ty = self.entity_type(section, e, &span);
        self.builtin_relations(section, e, &mut f);
        self.org_kind(section, e, &mut f);
        for (k, v) in &e.relations {
            f.spans.push((k.get_ref().clone(), k.span()));
            f.relations.push((k.get_ref().clone(), v.get_ref().list()));
        }
        for (k, v) in &e.attributes {
            f.spans.push((k.get_ref().clone(), k.span()));
            f.attributes.push((k.get_ref().clone(), v.get_ref().into()));
        }
        let entity = Entity {
            ty,
            id: e.id.get_ref().clone(),
            name: e.name.clone(),
            relations: f.relations,
            attributes: f.attributes,
        };
        f.spans.push(("id".into(), e.id.span()));
        (entity, (span, f.spans))
    }

    /// The entity's type: its section, or for `[[resource]]` the `type` it names.
    fn entity_type(&mut self, section: &str, e: &RawEntity, span: &Range<usize>) -> String {
        match section {
            "resource" => match &e.ty {
                Some(t) => t.get_ref().clone(),
                None => {
                    self.errors
                        .push(self.src.error(span, "[[resource]] needs a `type`"));
                    String::new()
                }
            },
            other => {
                if let Some(t) = &e.ty {
                    self.stray(&t.span(), "type", section);
                }
                other.to_owned()
            }
        }
    }

    /// The built-in relations written as keys (`parent`, `org_unit`, `members`,
    /// `supervisors`), each only in the sections that have it.
    fn builtin_relations(&mut self, section: &str, e: &RawEntity, f: &mut Fields) {
        let one =
            |s: &Option<Spanned<String>>| s.as_ref().map(|x| (vec![x.get_ref().clone()], x.span()));
        let many =
            |s: &Option<Spanned<Vec<String>>>| s.as_ref().map(|x| (x.get_ref().clone(), x.span()));
        let builtins = [
            ("parent", one(&e.parent), section == "org_unit"),
            (
                "org_unit",
                one(&e.org_unit),
                section == "user" || section == "queue",
            ),
            (
                "members",
                many(&e.members),
                section == "group" || section == "queue",
            ),
            ("supervisors", many(&e.supervisors), section == "queue"),
        ];
        for (key, value, allowed) in builtins {
            let Some((v, sp)) = value else { continue };
            if allowed {
                f.spans.push((key.to_owned(), sp));
                f.relations.push((key.to_owned(), v));
            } else {
                self.stray(&sp, key, section);
            }
        }
    }

    /// An org unit's `kind` (required), read as its `kind` attribute; other sections
    /// may not have one.
    fn org_kind(&mut self, section: &str, e: &RawEntity, f: &mut Fields) {
        match (&e.kind, section) {
            (Some(k), "org_unit") => {
                f.spans.push(("kind".into(), k.span()));
                f.attributes
                    .push(("kind".into(), Value::Str(k.get_ref().clone())));
            }
            (Some(k), _) => self.stray(&k.span(), "kind", section),
            (None, "org_unit") => self
                .errors
                .push(self.src.error(&e.id.span(), "[[org_unit]] needs a `kind`")),
            _ => {}
        }
    }

    /// The assignments, numbered `a1`, `a2`, … in file order, with their spans.
    fn assignments(
        &mut self,
        raw: &[Spanned<RawAssignment>],
    ) -> (Vec<Assignment>, Vec<AssignmentSpans>) {
        let mut assignments = Vec::new();
        let mut assignment_spans = Vec::new();
        for a in raw {
            let r = a.get_ref();
            let sc = match &r.scope {
                Some(s) => scope(&self.src, s).unwrap_or_else(|d| {
                    self.errors.push(d);
                    Scope::Tenant
                }),
                None => Scope::Tenant,
            };
            let expires_at = r
                .expires_at
                .as_ref()
                .and_then(|d| unix(&self.src, d).map_err(|d| self.errors.push(d)).ok());
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
        (assignments, assignment_spans)
    }

    /// The assertions, in file order; one with a problem is reported and left out.
    fn assertions(&mut self, raw: &[Spanned<RawAssert>]) -> Vec<Assertion> {
        let mut seen = std::collections::BTreeSet::new();
        for a in raw {
            if let Some(id) = &a.get_ref().id
                && !seen.insert(id.get_ref().as_str())
            {
                self.errors.push(self.src.error(
                    &id.span(),
                    format!("assertion id `{}` is used twice", id.get_ref()),
                ));
            }
        }
        raw.iter().filter_map(|a| self.assertion(a)).collect()
    }

    /// One assertion: its expectation, time and question.
    fn assertion(&mut self, a: &Spanned<RawAssert>) -> Option<Assertion> {
        let r = a.get_ref();
        let location = self.src.locate(a.span().start);
        let expect = match r.expect.get_ref().as_str() {
            "allow" => true,
            "deny" => false,
            other => {
                self.errors.push(self.src.error(
                    &r.expect.span(),
                    format!("`expect` must be \"allow\" or \"deny\", found `{other}`"),
                ));
                return None;
            }
        };
        let at =
            r.at.as_ref()
                .and_then(|d| unix(&self.src, d).map_err(|d| self.errors.push(d)).ok());
        let kind = self.assert_kind(a)?;
        Some(Assertion {
            id: r.id.as_ref().map(|i| i.get_ref().clone()),
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
        })
    }

    /// What the assertion asks: a check (`action`, `resource` written TYPE:ID) or an
    /// appointment (`appoint`, `target`, `scope`), never a mix.
    fn assert_kind(&mut self, a: &Spanned<RawAssert>) -> Option<AssertKind> {
        let r = a.get_ref();
        match (&r.action, &r.resource, &r.appoint, &r.target, &r.scope) {
            (Some(action), Some(resource), None, None, None) => {
                let Some((ty, id)) = resource.get_ref().split_once(':') else {
                    self.errors.push(self.src.error(
                        &resource.span(),
                        format!("resource `{}` must be written TYPE:ID", resource.get_ref()),
                    ));
                    return None;
                };
                Some(AssertKind::Check {
                    action: action.get_ref().clone(),
                    resource_type: ty.to_owned(),
                    resource_id: id.to_owned(),
                    context: r
                        .context
                        .iter()
                        .map(|(k, v)| (k.clone(), v.into()))
                        .collect(),
                })
            }
            (None, None, Some(role), Some(target), Some(sc)) => match scope(&self.src, sc) {
                Ok(scope) => Some(AssertKind::Appoint {
                    role: role.get_ref().clone(),
                    target: target.get_ref().clone(),
                    scope,
                }),
                Err(d) => {
                    self.errors.push(d);
                    None
                }
            },
            _ => {
                self.errors.push(self.src.error(&a.span(), "an assertion has either `action` and `resource`, or `appoint`, `target` and `scope`"));
                None
            }
        }
    }
}
