//! Who acts: the operator, a user of one tenant, an application through a service
//! credential, or the system itself (demo seeding). Every write and every management
//! read is authorized for an [`Actor`].

use std::sync::Arc;

use crate::credential::Credential;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The operator: manages tenants, may do anything.
    Operator {
        /// Token id.
        token: String,
    },
    /// A user of one tenant, through one of its tokens.
    User {
        /// Tenant id.
        tenant: String,
        /// The user the token acts as.
        principal: String,
        /// Token id.
        token: String,
    },
    /// An application, through a service credential of one tenant.
    Service(Arc<Credential>),
    /// rolecall itself (e.g. `demo` seeding); never reachable through a credential.
    System {
        /// What acts, recorded as the actor of its writes.
        name: &'static str,
    },
}

impl Actor {
    /// The actor name recorded in the change log and the audit trail.
    pub fn name(&self) -> String {
        match self {
            Actor::Operator { token } => format!("operator:{token}"),
            Actor::User { principal, .. } => format!("user:{principal}"),
            Actor::Service(c) => format!("service:{}", c.id),
            Actor::System { name } => (*name).to_owned(),
        }
    }

    /// The id of the token or credential this actor presented (`None`: the system).
    pub fn token_id(&self) -> Option<&str> {
        match self {
            Actor::Operator { token } | Actor::User { token, .. } => Some(token),
            Actor::Service(c) => Some(&c.id),
            Actor::System { .. } => None,
        }
    }

    /// Whether authorization is bypassed (the operator and the system).
    pub fn is_privileged(&self) -> bool {
        matches!(self, Actor::Operator { .. } | Actor::System { .. })
    }

    /// The tenant user this actor is, or acts as for writes (a service credential's
    /// user), if any.
    pub fn principal(&self) -> Option<&str> {
        match self {
            Actor::User { principal, .. } => Some(principal),
            Actor::Service(c) => c.principal.as_deref(),
            _ => None,
        }
    }

    /// Whether this actor is the tenant user `principal` itself (a service credential
    /// never is).
    pub fn is_user(&self, principal: &str) -> bool {
        matches!(self, Actor::User { principal: p, .. } if p == principal)
    }

    /// The one tenant this actor is confined to (`None`: any).
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Actor::User { tenant, .. } => Some(tenant),
            Actor::Service(c) => Some(&c.tenant),
            _ => None,
        }
    }
}
