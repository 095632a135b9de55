//! Requirement expressions with every name bound to the profile: privileges, levels,
//! relations, attributes and settings are indices. Both the compiled engine and the
//! reference evaluator start from this form.

use super::ast::CmpOp;
use crate::profile::{AttrId, PrivId, RelId, SettingId, TypeId};

/// What `has` asks of a privilege.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Need {
    /// Held at all.
    Any,
    /// Held at this level index or higher.
    Level(usize),
    /// Holds this choice index (directly or through `includes`).
    Choice(usize),
}

/// A resolved requirement expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `true` / `false`.
    Const(bool),
    /// All hold (left to right, stops at the first false).
    And(Vec<Expr>),
    /// One holds (left to right, stops at the first true).
    Or(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// The principal holds the privilege for the resource.
    Has {
        /// The privilege.
        privilege: PrivId,
        /// At which level or choice.
        need: Need,
    },
    /// A bool tenant setting.
    Setting(SettingId),
    /// A comparison.
    Compare {
        /// The operator.
        op: CmpOp,
        /// Left.
        lhs: Term,
        /// Right.
        rhs: Term,
    },
    /// Membership.
    In {
        /// Member looked for.
        elem: Term,
        /// Set looked in.
        set: Path,
    },
    /// Two sets intersect.
    Shares(Path, Path),
}

/// A value in a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// A path's value.
    Path(Path),
    /// A literal.
    Lit(Lit),
    /// A tenant setting's value.
    Setting(SettingId),
    /// A number privilege's value.
    Value(PrivId),
}

/// A literal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lit {
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// String (or an enum value: checked against the enum when resolved).
    Str(String),
}

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// The principal (a user).
    Principal,
    /// The resource.
    Resource,
    /// A context value by key.
    Context(String),
}

/// One relation step: from an entity of `from` through relation `rel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The type stepped from.
    pub from: TypeId,
    /// The relation followed.
    pub rel: RelId,
}

/// A resolved path.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// Where it starts.
    pub start: Start,
    /// Relations followed; every one but the last is single-valued.
    pub steps: Vec<Step>,
    /// A final attribute read: (type, attribute).
    pub attr: Option<(TypeId, AttrId)>,
}
