//! Requirement expressions compiled against a snapshot: `has` carries its bit,
//! enum literals their index.

use super::AttrVal;
use super::bits::Layout;
use crate::expr::ast::CmpOp;
use crate::expr::resolved::{Expr, Lit, Need, Path, Start, Term};
use crate::profile::{AttrDef, AttrId, PrivId, Profile, SettingId, TypeId, USER};

/// A compiled expression node.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Const(bool),
    And(Box<[Node]>),
    Or(Box<[Node]>),
    Not(Box<Node>),
    Has {
        bit: u32,
        privilege: PrivId,
        need: Need,
    },
    Setting(SettingId),
    Compare {
        op: CmpOp,
        lhs: TermC,
        rhs: TermC,
    },
    In {
        elem: TermC,
        set: PathC,
    },
    Shares(PathC, PathC),
}

/// A compiled comparison operand.
#[derive(Debug, Clone)]
pub(crate) enum TermC {
    Path(PathC),
    Lit(AttrVal),
    Setting(SettingId),
    Value(PrivId),
}

/// Where a compiled path starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StartC {
    Principal,
    Resource,
    Context(Box<str>),
}

/// A compiled path.
#[derive(Debug, Clone)]
pub(crate) struct PathC {
    pub start: StartC,
    /// (type stepped from, relation).
    pub steps: Box<[(TypeId, usize)]>,
    pub attr: Option<(TypeId, AttrId)>,
    /// The type reached after the steps (before the attribute).
    pub end_type: TypeId,
}

pub(crate) fn compile(p: &Profile, layout: &Layout, resource: TypeId, e: &Expr) -> Node {
    match e {
        Expr::Const(b) => Node::Const(*b),
        Expr::And(items) => Node::And(
            items
                .iter()
                .map(|x| compile(p, layout, resource, x))
                .collect(),
        ),
        Expr::Or(items) => Node::Or(
            items
                .iter()
                .map(|x| compile(p, layout, resource, x))
                .collect(),
        ),
        Expr::Not(x) => Node::Not(Box::new(compile(p, layout, resource, x))),
        Expr::Has { privilege, need } => match layout.bit(*privilege, *need) {
            Some(bit) => Node::Has {
                bit,
                privilege: *privilege,
                need: *need,
            },
            // INVARIANT: resolution only produces privileges of this profile.
            None => Node::Const(false),
        },
        Expr::Setting(s) => Node::Setting(*s),
        Expr::Compare { op, lhs, rhs } => {
            // An enum attribute on one side turns a string literal on the other into its index.
            let enum_of = |t: &Term| match t {
                Term::Path(Path {
                    attr: Some((ty, a)),
                    ..
                }) => p
                    .types
                    .get(*ty)
                    .and_then(|x| x.attributes.get(*a))
                    .and_then(|d: &AttrDef| d.values.clone()),
                _ => None,
            };
            let (le, re) = (enum_of(lhs), enum_of(rhs));
            Node::Compare {
                op: *op,
                lhs: term(p, resource, lhs, re.as_deref()),
                rhs: term(p, resource, rhs, le.as_deref()),
            }
        }
        Expr::In { elem, set } => Node::In {
            elem: term(p, resource, elem, None),
            set: path(p, resource, set),
        },
        Expr::Shares(a, b) => Node::Shares(path(p, resource, a), path(p, resource, b)),
    }
}

fn term(p: &Profile, resource: TypeId, t: &Term, enum_values: Option<&[String]>) -> TermC {
    match t {
        Term::Path(x) => TermC::Path(path(p, resource, x)),
        Term::Lit(Lit::Bool(b)) => TermC::Lit(AttrVal::Bool(*b)),
        Term::Lit(Lit::Int(i)) => TermC::Lit(AttrVal::Int(*i)),
        Term::Lit(Lit::Str(s)) => match enum_values.and_then(|v| v.iter().position(|x| x == s)) {
            Some(i) => TermC::Lit(AttrVal::Enum(i as u16)),
            None => TermC::Lit(AttrVal::Str(s.as_str().into())),
        },
        Term::Setting(s) => TermC::Setting(*s),
        Term::Value(q) => TermC::Value(*q),
    }
}

fn path(p: &Profile, resource: TypeId, x: &Path) -> PathC {
    let start_type = match x.start {
        Start::Principal => USER,
        _ => resource,
    };
    let end_type = x
        .steps
        .last()
        .and_then(|s| {
            p.types
                .get(s.from)
                .and_then(|t| t.relations.get(s.rel))
                .map(|r| r.target)
        })
        .unwrap_or(start_type);
    PathC {
        start: match &x.start {
            Start::Principal => StartC::Principal,
            Start::Resource => StartC::Resource,
            Start::Context(k) => StartC::Context(k.as_str().into()),
        },
        steps: x.steps.iter().map(|s| (s.from, s.rel)).collect(),
        attr: x.attr,
        end_type,
    }
}
