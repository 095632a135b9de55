//! Service credentials: named tokens for the applications that embed rolecall. A
//! credential has abilities from a small fixed set — `decide` (check, batch, explain,
//! lookups for any user), `read`, `write` — an optional org-unit or queue scope, an
//! optional expiry, and, for writes, the tenant user it acts as (so the tenant's
//! profile and anti-escalation bind it like that user). Its details are stored with its
//! token as JSON.

use rolecall_core::state::Scope;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, EngineResult};

/// What a credential may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ability {
    /// Checks, batches, explanations, effective permissions and lookups for any user
    /// of its scope.
    Decide,
    /// Every read of the tenant's data within its scope.
    Read,
    /// Writes, as its user (`principal`), within its scope.
    Write,
}

impl Ability {
    /// Its name, as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Ability::Decide => "decide",
            Ability::Read => "read",
            Ability::Write => "write",
        }
    }
}

/// A service credential's details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// Its token's id (not stored in the details).
    #[serde(skip)]
    pub id: String,
    /// Its tenant (not stored in the details).
    #[serde(skip)]
    pub tenant: String,
    /// A name for people ("CRM integration").
    pub name: String,
    /// What it may do.
    pub abilities: Vec<Ability>,
    /// Where (default: the whole tenant).
    #[serde(default)]
    pub scope: Scope,
    /// The user it acts as for writes (required with `write`).
    pub principal: Option<String>,
    /// Unix seconds from which it is no longer accepted.
    pub expires_at: Option<i64>,
    /// Who created it (an actor name).
    pub created_by: String,
}

impl Credential {
    /// Whether it has `a`.
    pub fn can(&self, a: Ability) -> bool {
        self.abilities.contains(&a)
    }

    /// The JSON stored with its token.
    pub fn encode(&self) -> EngineResult<String> {
        serde_json::to_string(self).map_err(EngineError::internal)
    }

    /// The credential stored with token `id` of `tenant`.
    pub fn decode(id: &str, tenant: &str, json: &str) -> EngineResult<Credential> {
        let mut c: Credential = serde_json::from_str(json).map_err(|e| {
            EngineError::internal(format!("credential `{id}`: unreadable details: {e}"))
        })?;
        c.id = id.to_owned();
        c.tenant = tenant.to_owned();
        Ok(c)
    }
}
