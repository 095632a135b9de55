//! The TOML shapes of a world file, as deserialized, with spans kept on everything
//! an error may need to point at. Unknown keys are rejected.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::profile::raw::{RawRole, RawScalar};

/// A relation's targets: one id or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawTargets {
    One(String),
    Many(Vec<String>),
}

impl RawTargets {
    pub(super) fn list(&self) -> Vec<String> {
        match self {
            RawTargets::One(s) => vec![s.clone()],
            RawTargets::Many(v) => v.clone(),
        }
    }
}

pub(super) type RawRelations = BTreeMap<Spanned<String>, Spanned<RawTargets>>;
pub(super) type RawAttributes = BTreeMap<Spanned<String>, Spanned<RawScalar>>;

/// A scope: `"tenant"`, or a table naming org units or queues.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawScope {
    Word(String),
    Table(RawScopeTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScopeTable {
    pub(super) org_unit: Option<String>,
    pub(super) org_units: Option<Vec<String>>,
    pub(super) queues: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTenant {
    pub(super) id: Spanned<String>,
    pub(super) name: Option<String>,
}

/// An entity of any section (`[[org_unit]]`, `[[user]]`, …, `[[resource]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEntity {
    #[serde(rename = "type")]
    pub(super) ty: Option<Spanned<String>>,
    pub(super) id: Spanned<String>,
    pub(super) name: Option<String>,
    pub(super) kind: Option<Spanned<String>>,
    pub(super) parent: Option<Spanned<String>>,
    pub(super) org_unit: Option<Spanned<String>>,
    pub(super) members: Option<Spanned<Vec<String>>>,
    pub(super) supervisors: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub(super) relations: RawRelations,
    #[serde(default)]
    pub(super) attributes: RawAttributes,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAssignment {
    pub(super) principal: Spanned<String>,
    pub(super) role: Spanned<String>,
    pub(super) scope: Option<Spanned<RawScope>>,
    pub(super) expires_at: Option<Spanned<toml::value::Datetime>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAssert {
    pub(super) id: Option<Spanned<String>>,
    pub(super) principal: Spanned<String>,
    pub(super) action: Option<Spanned<String>>,
    pub(super) resource: Option<Spanned<String>>,
    pub(super) appoint: Option<Spanned<String>>,
    pub(super) target: Option<Spanned<String>>,
    pub(super) scope: Option<Spanned<RawScope>>,
    pub(super) expect: Spanned<String>,
    pub(super) at: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    pub(super) context: BTreeMap<String, RawScalar>,
    #[serde(default)]
    pub(super) settings: BTreeMap<String, RawScalar>,
    pub(super) why: Option<String>,
}

/// A whole world file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorld {
    pub(super) profile: Spanned<String>,
    pub(super) now: Option<Spanned<toml::value::Datetime>>,
    pub(super) tenant: RawTenant,
    #[serde(default)]
    pub(super) settings: RawAttributes,
    #[serde(default)]
    pub(super) org_unit: Vec<Spanned<RawEntity>>,
    #[serde(default)]
    pub(super) group: Vec<Spanned<RawEntity>>,
    #[serde(default)]
    pub(super) user: Vec<Spanned<RawEntity>>,
    #[serde(default)]
    pub(super) queue: Vec<Spanned<RawEntity>>,
    #[serde(default)]
    pub(super) resource: Vec<Spanned<RawEntity>>,
    #[serde(default)]
    pub(super) role: Vec<Spanned<RawRole>>,
    #[serde(default)]
    pub(super) assignment: Vec<Spanned<RawAssignment>>,
    #[serde(default, rename = "assert")]
    pub(super) asserts: Vec<Spanned<RawAssert>>,
    #[serde(default)]
    pub(super) separation_of_duty: Vec<Spanned<crate::profile::SodRule>>,
}
