//! The TOML shapes of a profile file, as deserialized, with spans kept on everything
//! an error may need to point at. Unknown keys are rejected.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// A grant value as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawGrant {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<String>),
}

impl From<&RawGrant> for super::GrantSpec {
    fn from(g: &RawGrant) -> Self {
        match g {
            RawGrant::Bool(b) => super::GrantSpec::Bool(*b),
            RawGrant::Int(i) => super::GrantSpec::Int(*i),
            RawGrant::Str(s) => super::GrantSpec::Str(s.clone()),
            RawGrant::List(l) => super::GrantSpec::List(l.clone()),
        }
    }
}

pub(crate) type RawGrants = BTreeMap<Spanned<String>, Spanned<RawGrant>>;

/// A scalar as written (setting values, attribute values, defaults).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub(crate) enum RawScalar {
    Bool(bool),
    Int(i64),
    Str(String),
}

impl From<&RawScalar> for super::Value {
    fn from(s: &RawScalar) -> Self {
        match s {
            RawScalar::Bool(b) => super::Value::Bool(*b),
            RawScalar::Int(i) => super::Value::Int(*i),
            RawScalar::Str(s) => super::Value::Str(s.clone()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProfile {
    pub profile: RawHeader,
    #[serde(default)]
    pub org_unit_kind: Vec<Spanned<RawOrgKind>>,
    #[serde(default)]
    pub setting: Vec<Spanned<RawSetting>>,
    #[serde(default)]
    pub resource_type: Vec<Spanned<RawType>>,
    #[serde(default)]
    pub section: Vec<Spanned<RawSection>>,
    #[serde(default)]
    pub privilege: Vec<Spanned<RawPrivilege>>,
    #[serde(default)]
    pub role_type: Vec<Spanned<RawRoleType>>,
    #[serde(default)]
    pub role: Vec<Spanned<RawRole>>,
    #[serde(default)]
    pub action: Vec<Spanned<RawAction>>,
    #[serde(default)]
    pub appointment: Vec<Spanned<RawAppointment>>,
    pub management: Option<Spanned<BTreeMap<Spanned<String>, Spanned<String>>>>,
    #[serde(default)]
    pub delegation: Vec<Spanned<RawDelegation>>,
    #[serde(default)]
    pub invariant: Vec<Spanned<RawInvariant>>,
    #[serde(default)]
    pub separation_of_duty: Vec<Spanned<super::SodRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHeader {
    pub id: Spanned<String>,
    pub name: String,
    pub seed: Option<String>,
    pub description: Option<String>,
    pub default_role_type: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOrgKind {
    pub id: Spanned<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub parents: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSetting {
    pub id: Spanned<String>,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub ty: Spanned<String>,
    pub default: Option<Spanned<RawScalar>>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawType {
    pub id: Spanned<String>,
    pub name: Option<String>,
    pub scope: Option<Spanned<String>>,
    #[serde(default)]
    pub relations: BTreeMap<Spanned<String>, Spanned<RawRelation>>,
    #[serde(default)]
    pub attributes: BTreeMap<Spanned<String>, Spanned<RawAttr>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRelation {
    #[serde(rename = "type")]
    pub ty: Option<Spanned<String>>,
    #[serde(default)]
    pub many: bool,
    pub inverse: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAttr {
    #[serde(rename = "type")]
    pub ty: Spanned<String>,
    pub values: Option<Vec<String>>,
    pub default: Option<Spanned<RawScalar>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSection {
    pub id: Spanned<String>,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrivilege {
    pub id: Spanned<String>,
    pub name: Option<Spanned<String>>,
    pub parent: Option<Spanned<String>>,
    pub kind: Option<Spanned<String>>,
    pub description: Option<String>,
    pub levels: Option<Spanned<Vec<String>>>,
    pub choices: Option<Spanned<Vec<String>>>,
    pub includes: Option<BTreeMap<Spanned<String>, Spanned<Vec<String>>>>,
    pub multiple: Option<bool>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub default: Option<Spanned<i64>>,
    pub unit: Option<String>,
    pub restriction: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoleType {
    pub id: Spanned<String>,
    pub name: Option<String>,
    pub cap: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub locked: RawGrants,
    #[serde(default)]
    pub defaults: RawGrants,
}

/// A role as written in a profile or a world file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRole {
    pub id: Spanned<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub role_type: Option<Spanned<String>>,
    #[serde(default)]
    pub includes: Vec<Spanned<String>>,
    #[serde(default)]
    pub grants: RawGrants,
    #[serde(default)]
    pub locked: RawGrants,
}

impl RawRole {
    /// The unresolved role spec.
    pub(crate) fn spec(&self) -> super::RoleSpec {
        let conv = |g: &RawGrants| {
            g.iter()
                .map(|(k, v)| (k.get_ref().clone(), v.get_ref().into()))
                .collect()
        };
        super::RoleSpec {
            id: self.id.get_ref().clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            role_type: self.role_type.as_ref().map(|t| t.get_ref().clone()),
            includes: self.includes.iter().map(|s| s.get_ref().clone()).collect(),
            grants: conv(&self.grants),
            locked: conv(&self.locked),
        }
    }

    /// The span of the part of this role a problem names.
    pub(crate) fn span_of(&self, field: &super::grants::RoleField) -> std::ops::Range<usize> {
        use super::grants::RoleField;
        let key_span = |g: &RawGrants, i: usize| g.keys().nth(i).map(|k| k.span());
        let span = match field {
            RoleField::Type => self.role_type.as_ref().map(|t| t.span()),
            RoleField::Include(i) => self.includes.get(*i).map(|s| s.span()),
            RoleField::Grant(i) => key_span(&self.grants, *i),
            RoleField::Locked(i) => key_span(&self.locked, *i),
        };
        span.unwrap_or_else(|| self.id.span())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAction {
    pub id: Spanned<String>,
    pub name: Option<String>,
    pub resource: Spanned<String>,
    pub menu: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub sensitive: bool,
    pub held_anywhere: Option<Spanned<bool>>,
    pub requires: Spanned<String>,
    #[serde(default)]
    pub obligations: Vec<Spanned<RawObligation>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawObligation {
    pub id: Spanned<String>,
    pub description: Option<String>,
    pub when: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInvariant {
    pub kind: Spanned<String>,
    #[serde(rename = "type")]
    pub ty: Spanned<String>,
    pub attribute: Spanned<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAppointment {
    pub role: Spanned<String>,
    pub by: Vec<Spanned<String>>,
    pub scope_kinds: Vec<Spanned<String>>,
    pub target: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDelegation {
    pub operation: Spanned<String>,
    pub role_types: Option<Vec<Spanned<String>>>,
    pub ceiling: Spanned<String>,
    pub roles: Option<Spanned<Vec<Spanned<String>>>>,
}
