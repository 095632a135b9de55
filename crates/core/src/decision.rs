//! Requests, decisions and evaluation errors: the vocabulary of a check.

use std::collections::BTreeMap;

use crate::profile::Value;

/// Values passed with a request (`context.channel`, …).
pub type Context = BTreeMap<String, Value>;

/// A check: may `principal` perform `action` on `resource_type:resource_id` at `now`?
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// User id.
    pub principal: &'a str,
    /// Action id.
    pub action: &'a str,
    /// Resource type id.
    pub resource_type: &'a str,
    /// Resource id.
    pub resource_id: &'a str,
    /// Context values.
    pub context: &'a Context,
    /// Evaluation time, Unix seconds (assignments expire against it).
    pub now: i64,
}

/// Why a check could not be evaluated. Every error is a denial.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The principal is not a user of this tenant.
    #[error("unknown user `{0}`")]
    UnknownPrincipal(String),
    /// No such action in the profile.
    #[error("unknown action `{0}`")]
    UnknownAction(String),
    /// No such resource type in the profile.
    #[error("unknown resource type `{0}`")]
    UnknownResourceType(String),
    /// The action acts on another type.
    #[error("action `{action}` acts on `{expected}`, not `{found}`")]
    WrongResourceType {
        /// Action id.
        action: String,
        /// Its resource type.
        expected: String,
        /// The type given.
        found: String,
    },
    /// No such resource.
    #[error("unknown {ty} `{id}`")]
    UnknownResource {
        /// Type id.
        ty: String,
        /// Resource id.
        id: String,
    },
    /// An attribute with no value and no default.
    #[error("{ty} `{id}` has no value for attribute `{attr}`")]
    MissingAttribute {
        /// Type id.
        ty: String,
        /// Entity id.
        id: String,
        /// Attribute name.
        attr: String,
    },
    /// An attribute read through an empty relation.
    #[error("`{attr}` cannot be read: the relation leading to it is empty")]
    NoEntity {
        /// Attribute name.
        attr: String,
    },
    /// A context key the request did not pass.
    #[error("context value `{0}` is missing")]
    MissingContext(String),
    /// Values of different types compared.
    #[error("cannot compare {0}")]
    TypeMismatch(String),
    /// The snapshot is inconsistent (a bug); fails closed.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The answer to a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allowed. Always false when `error` is set.
    pub allowed: bool,
    /// Why evaluation failed, if it did.
    pub error: Option<EvalError>,
    /// Obligations that apply (bit `i` = the action's obligation `i`); only set when
    /// allowed. An obligation whose condition cannot be evaluated applies (the safe side).
    pub obligations: u64,
}

impl Decision {
    /// An allow or a plain deny.
    pub fn from_bool(allowed: bool) -> Self {
        Self {
            allowed,
            error: None,
            obligations: 0,
        }
    }

    /// A denial because of an error.
    pub fn error(e: EvalError) -> Self {
        Self {
            allowed: false,
            error: Some(e),
            obligations: 0,
        }
    }
}

impl From<Result<bool, EvalError>> for Decision {
    fn from(r: Result<bool, EvalError>) -> Self {
        match r {
            Ok(b) => Decision::from_bool(b),
            Err(e) => Decision::error(e),
        }
    }
}
