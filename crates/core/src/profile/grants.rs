//! Roles and their grants: the raw specification (names, as written in a profile,
//! a world file or an API call) and its resolution against a profile.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::model::{PrivId, PrivKind, Profile};

/// A grant value as written: `true`, `"Modify"`, `["Same Group"]`, `600`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GrantSpec {
    /// `true` (flag on, or the top of any privilege) / `false` (explicitly off).
    Bool(bool),
    /// A level or a single choice.
    Str(String),
    /// Several choices.
    List(Vec<String>),
    /// A number.
    Int(i64),
}

/// A role as written, with names not yet resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoleSpec {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Role type id.
    pub role_type: Option<String>,
    /// Ids of included roles.
    pub includes: Vec<String>,
    /// Privilege (id or name) to value, in written order.
    #[serde(default, with = "crate::pairs")]
    pub grants: Vec<(String, GrantSpec)>,
    /// Locked grants, in written order.
    #[serde(default, with = "crate::pairs")]
    pub locked: Vec<(String, GrantSpec)>,
}

/// A resolved grant value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GrantValue {
    /// Explicitly not granted (turns off a role type's default).
    Off,
    /// A flag on.
    On,
    /// A level index.
    Level(usize),
    /// Choice indices, ascending.
    Choices(Vec<usize>),
    /// A number.
    Number(i64),
}

impl GrantValue {
    /// The union of two grants of the same privilege (higher level, more choices,
    /// larger number). `Off` yields to anything.
    pub fn merge(&self, other: &GrantValue) -> GrantValue {
        use GrantValue::*;
        match (self, other) {
            (Off, x) | (x, Off) => x.clone(),
            (Level(a), Level(b)) => Level((*a).max(*b)),
            (Number(a), Number(b)) => Number((*a).max(*b)),
            (Choices(a), Choices(b)) => {
                let mut v: Vec<usize> = a.iter().chain(b.iter()).copied().collect();
                v.sort_unstable();
                v.dedup();
                Choices(v)
            }
            (x, _) => x.clone(),
        }
    }
}

/// Grants keyed by privilege, ascending.
pub type Grants = Vec<(PrivId, GrantValue)>;

/// A resolved role: a template of the profile or a tenant's custom role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDef {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Role type index.
    pub role_type: Option<usize>,
    /// Ids of included roles (resolved when a snapshot is built).
    pub includes: Vec<String>,
    /// Explicit grants, including `Off` entries.
    pub grants: Grants,
    /// The role's own locked grants.
    pub locked: Grants,
}

impl RoleDef {
    /// The grants this role holds by itself, before inclusion and closure: its type's
    /// defaults, overridden by its own grants (`Off` removes), plus every locked grant.
    pub fn direct_grants(&self, profile: &Profile) -> Grants {
        let rt = self.role_type.and_then(|t| profile.role_types.get(t));
        let mut out: BTreeMap<PrivId, GrantValue> = rt
            .map(|t| t.defaults.iter().cloned().collect())
            .unwrap_or_default();
        for (p, v) in &self.grants {
            out.insert(*p, v.clone());
        }
        out.retain(|_, v| *v != GrantValue::Off);
        let locked = rt
            .map(|t| t.locked.iter())
            .into_iter()
            .flatten()
            .chain(self.locked.iter());
        for (p, v) in locked {
            out.entry(*p)
                .and_modify(|have| *have = have.merge(v))
                .or_insert_with(|| v.clone());
        }
        out.into_iter().collect()
    }
}

/// Which part of a role spec a problem is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleField {
    /// `type`.
    Type,
    /// `includes[i]`.
    Include(usize),
    /// `grants[i]` (its key).
    Grant(usize),
    /// `locked[i]` (its key).
    Locked(usize),
}

/// A problem in a role spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleProblem {
    /// Where.
    pub field: RoleField,
    /// What.
    pub message: String,
}

/// Resolves one grant value for privilege `p`.
pub fn resolve_grant(profile: &Profile, p: PrivId, spec: &GrantSpec) -> Result<GrantValue, String> {
    let Some(x) = profile.privileges.get(p) else {
        return Err(format!("unknown privilege #{p}"));
    };
    let name = &x.name;
    match (&x.kind, spec) {
        (_, GrantSpec::Bool(false)) => Ok(GrantValue::Off),
        (PrivKind::Flag, GrantSpec::Bool(true)) => Ok(GrantValue::On),
        (kind, GrantSpec::Bool(true)) => Ok(kind.top()),
        (PrivKind::Levels(levels), GrantSpec::Str(l)) => levels
            .iter()
            .position(|x| x == l)
            .map(GrantValue::Level)
            .ok_or_else(|| {
                format!(
                    "unknown level `{l}` for `{name}`; expected one of {}",
                    quoted(levels)
                )
            }),
        (
            PrivKind::Choice {
                choices, multiple, ..
            },
            GrantSpec::Str(c),
        ) => resolve_choices(name, choices, *multiple, std::slice::from_ref(c)),
        (
            PrivKind::Choice {
                choices, multiple, ..
            },
            GrantSpec::List(cs),
        ) => resolve_choices(name, choices, *multiple, cs),
        (PrivKind::Number { min, max, .. }, GrantSpec::Int(n)) => {
            if n < min || n > max {
                Err(format!("value {n} for `{name}` is outside {min}..={max}"))
            } else {
                Ok(GrantValue::Number(*n))
            }
        }
        (kind, _) => Err(format!(
            "`{name}` is a {} privilege; expected {}",
            kind.name(),
            match kind {
                PrivKind::Flag => "`true` or `false`".to_owned(),
                PrivKind::Levels(levels) => format!("a level: {}", quoted(levels)),
                PrivKind::Choice { choices, .. } =>
                    format!("a choice or a list of choices: {}", quoted(choices)),
                PrivKind::Number { min, max, .. } => format!("an integer in {min}..={max}"),
            }
        )),
    }
}

fn resolve_choices(
    name: &str,
    choices: &[String],
    multiple: bool,
    given: &[String],
) -> Result<GrantValue, String> {
    if given.is_empty() {
        return Err(format!(
            "no choice given for `{name}`; use `false` to grant none"
        ));
    }
    if given.len() > 1 && !multiple {
        return Err(format!("`{name}` takes one choice, {} given", given.len()));
    }
    let mut out = Vec::new();
    for c in given {
        let i = choices.iter().position(|x| x == c).ok_or_else(|| {
            format!(
                "unknown choice `{c}` for `{name}`; expected one of {}",
                quoted(choices)
            )
        })?;
        out.push(i);
    }
    out.sort_unstable();
    out.dedup();
    Ok(GrantValue::Choices(out))
}

/// Formats names as a list of backticked items.
pub(crate) fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn resolve_grant_list(
    profile: &Profile,
    items: &[(String, GrantSpec)],
    field: fn(usize) -> RoleField,
    problems: &mut Vec<RoleProblem>,
) -> Grants {
    let mut out: Grants = Vec::new();
    let mut seen: BTreeSet<PrivId> = BTreeSet::new();
    for (i, (key, spec)) in items.iter().enumerate() {
        let Some(p) = profile.privilege(key) else {
            problems.push(RoleProblem {
                field: field(i),
                message: format!("unknown privilege `{key}`"),
            });
            continue;
        };
        if !seen.insert(p) {
            problems.push(RoleProblem {
                field: field(i),
                message: format!("privilege `{key}` is granted twice"),
            });
            continue;
        }
        match resolve_grant(profile, p, spec) {
            Ok(v) => out.push((p, v)),
            Err(message) => problems.push(RoleProblem {
                field: field(i),
                message,
            }),
        }
    }
    out.sort_by_key(|(p, _)| *p);
    out
}

/// Resolves a role spec against a profile: role type, privilege names, values.
/// Included role ids are kept as written (they may name tenant roles).
pub fn resolve_role(profile: &Profile, spec: &RoleSpec) -> Result<RoleDef, Vec<RoleProblem>> {
    let mut problems = Vec::new();
    let role_type = match &spec.role_type {
        Some(t) => match profile.role_type(t) {
            Some(i) => Some(i),
            None => {
                problems.push(RoleProblem {
                    field: RoleField::Type,
                    message: format!(
                        "unknown role type `{t}`; expected one of {}",
                        quoted(
                            &profile
                                .role_types
                                .iter()
                                .map(|r| r.id.clone())
                                .collect::<Vec<_>>()
                        )
                    ),
                });
                None
            }
        },
        // A role without a type takes the profile's default type, if it has one.
        None => profile.default_role_type,
    };
    let grants = resolve_grant_list(profile, &spec.grants, RoleField::Grant, &mut problems);
    let locked = resolve_grant_list(profile, &spec.locked, RoleField::Locked, &mut problems);
    for (i, inc) in spec.includes.iter().enumerate() {
        if inc == &spec.id {
            problems.push(RoleProblem {
                field: RoleField::Include(i),
                message: format!("role `{inc}` includes itself"),
            });
        }
    }
    // A locked privilege cannot be turned off (both lists are sorted by privilege).
    let type_locked = role_type
        .and_then(|t| profile.role_types.get(t))
        .map(|t| t.locked.clone())
        .unwrap_or_default();
    let is_in = |g: &Grants, q: PrivId| g.binary_search_by_key(&q, |(x, _)| *x).is_ok();
    for (i, (key, value)) in spec.grants.iter().enumerate() {
        if *value != GrantSpec::Bool(false) {
            continue;
        }
        let Some(q) = profile.privilege(key) else {
            continue;
        };
        let locked_by_type = is_in(&type_locked, q);
        let locked_by_role = is_in(&locked, q);
        if locked_by_type || locked_by_role {
            let why = match (locked_by_type, &spec.role_type) {
                (true, Some(t)) => format!("for role type `{t}`"),
                _ => "for this role".to_owned(),
            };
            problems.push(RoleProblem {
                field: RoleField::Grant(i),
                message: format!("`{key}` is locked {why} and cannot be removed"),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(RoleDef {
        id: spec.id.clone(),
        name: spec.name.clone().unwrap_or_else(|| spec.id.clone()),
        description: spec.description.clone(),
        role_type,
        includes: spec.includes.clone(),
        grants,
        locked,
    })
}

impl GrantValue {
    /// This value of privilege `q` as written (a level or choice by name), or `None` when
    /// it does not fit the privilege's kind.
    pub fn to_spec(&self, profile: &Profile, q: PrivId) -> Option<GrantSpec> {
        let kind = &profile.privileges.get(q)?.kind;
        Some(match (self, kind) {
            (GrantValue::Off, _) => GrantSpec::Bool(false),
            (GrantValue::On, _) => GrantSpec::Bool(true),
            (GrantValue::Level(l), PrivKind::Levels(levels)) => {
                GrantSpec::Str(levels.get(*l)?.clone())
            }
            (GrantValue::Choices(cs), PrivKind::Choice { choices, .. }) => {
                GrantSpec::List(cs.iter().filter_map(|c| choices.get(*c).cloned()).collect())
            }
            (GrantValue::Number(n), _) => GrantSpec::Int(*n),
            _ => return None,
        })
    }
}

impl RoleDef {
    /// The role as written (privilege ids, level and choice names): what
    /// [`resolve_role`] reads back into this definition.
    pub fn to_spec(&self, profile: &Profile) -> RoleSpec {
        let conv = |g: &Grants| -> Vec<(String, GrantSpec)> {
            g.iter()
                .filter_map(|(q, v)| {
                    Some((
                        profile.privileges.get(*q)?.id.clone(),
                        v.to_spec(profile, *q)?,
                    ))
                })
                .collect()
        };
        RoleSpec {
            id: self.id.clone(),
            name: Some(self.name.clone()),
            description: self.description.clone(),
            role_type: self
                .role_type
                .and_then(|t| profile.role_types.get(t))
                .map(|t| t.id.clone()),
            includes: self.includes.clone(),
            grants: conv(&self.grants),
            locked: conv(&self.locked),
        }
    }
}
