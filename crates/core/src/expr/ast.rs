//! Surface syntax of requirement expressions, as written, with byte spans relative
//! to the start of the expression text.

use std::ops::Range;

/// A byte range inside the expression text.
pub type Span = Range<usize>;

/// A name with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The text (string literal contents or identifier).
    pub text: String,
    /// Where it stands.
    pub span: Span,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// Whether the operator needs an order (not just equality).
    pub fn is_ordering(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }

    /// Applies the operator to an ordering of left against right.
    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => ord == Equal,
            CmpOp::Ne => ord != Equal,
            CmpOp::Lt => ord == Less,
            CmpOp::Le => ord != Greater,
            CmpOp::Gt => ord == Greater,
            CmpOp::Ge => ord != Less,
        }
    }
}

/// Where a path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The user asking.
    Principal,
    /// The resource acted on.
    Resource,
    /// The request's context values.
    Context,
}

/// `principal.groups`, `resource.queue.supervisors`, `context.channel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathAst {
    /// The root keyword.
    pub root: Root,
    /// Where the root keyword stands.
    pub root_span: Span,
    /// The dotted names after the root.
    pub segments: Vec<Name>,
}

impl PathAst {
    /// The span of the whole path.
    pub fn span(&self) -> Span {
        let end = self
            .segments
            .last()
            .map_or(self.root_span.end, |s| s.span.end);
        self.root_span.start..end
    }
}

/// A value in a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// A path.
    Path(PathAst),
    /// A string literal.
    Str(Name),
    /// An integer literal.
    Int(i64, Span),
    /// `true` / `false`.
    Bool(bool, Span),
    /// `setting("id")`.
    Setting(Name),
    /// `value("privilege")`.
    Value(Name),
}

impl Operand {
    /// Where the operand stands.
    pub fn span(&self) -> Span {
        match self {
            Operand::Path(p) => p.span(),
            Operand::Str(n) | Operand::Setting(n) | Operand::Value(n) => n.span.clone(),
            Operand::Int(_, s) | Operand::Bool(_, s) => s.clone(),
        }
    }
}

/// A requirement expression as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ast {
    /// `true` / `false`.
    Bool(bool, Span),
    /// `a and b and …`
    And(Vec<Ast>),
    /// `a or b or …`
    Or(Vec<Ast>),
    /// `not a`
    Not(Box<Ast>, Span),
    /// `has("P")`, `has("P", "L")`
    Has {
        /// The privilege, by id or display name.
        privilege: Name,
        /// The level or choice, when given.
        level: Option<Name>,
        /// The whole call.
        span: Span,
    },
    /// `setting("S")` on its own: a bool setting.
    Setting(Name),
    /// `lhs op rhs`
    Compare {
        /// The operator.
        op: CmpOp,
        /// Left side.
        lhs: Operand,
        /// Right side.
        rhs: Operand,
        /// The whole comparison.
        span: Span,
    },
    /// `elem in set`
    In {
        /// The member looked for.
        elem: Operand,
        /// The set looked in.
        set: PathAst,
        /// The whole test.
        span: Span,
    },
    /// `shares(a, b)`
    Shares(PathAst, PathAst, Span),
}
