//! Binds a parsed requirement expression to a profile and checks its types: every
//! privilege, level, choice, relation, attribute and setting must exist, and every
//! comparison must compare like with like.

use super::grants::quoted;
use super::model::*;
use crate::expr::ast::{Ast, CmpOp, Name, Operand, PathAst, Root};
use crate::expr::resolved::{Expr, Lit, Need, Path, Start, Step, Term};

/// The static type of an operand.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Bool,
    Int,
    Str,
    Enum(Vec<String>),
    Entity(TypeId),
    Set(TypeId),
    /// A context value: checked at run time.
    Any,
}

/// A type error with its span relative to the expression text.
pub(crate) type ExprError = (String, std::ops::Range<usize>);

pub(crate) struct Resolver<'a> {
    pub profile: &'a Profile,
    /// The type of `resource`.
    pub resource: TypeId,
}

impl Resolver<'_> {
    fn type_name(&self, t: TypeId) -> &str {
        self.profile.types.get(t).map_or("?", |x| x.id.as_str())
    }

    fn describe(&self, ty: &Ty) -> String {
        match ty {
            Ty::Bool => "a bool".into(),
            Ty::Int => "an integer".into(),
            Ty::Str => "a string".into(),
            Ty::Enum(v) => format!("one of {}", quoted(v)),
            Ty::Entity(t) => format!("a `{}`", self.type_name(*t)),
            Ty::Set(t) => format!("a set of `{}`", self.type_name(*t)),
            Ty::Any => "a context value".into(),
        }
    }

    pub(crate) fn expr(&self, ast: &Ast) -> Result<Expr, ExprError> {
        Ok(match ast {
            Ast::Bool(b, _) => Expr::Const(*b),
            Ast::And(items) => Expr::And(
                items
                    .iter()
                    .map(|a| self.expr(a))
                    .collect::<Result<_, _>>()?,
            ),
            Ast::Or(items) => Expr::Or(
                items
                    .iter()
                    .map(|a| self.expr(a))
                    .collect::<Result<_, _>>()?,
            ),
            Ast::Not(inner, _) => Expr::Not(Box::new(self.expr(inner)?)),
            Ast::Has {
                privilege, level, ..
            } => self.has(privilege, level.as_ref())?,
            Ast::Setting(name) => {
                let s = self.setting(name)?;
                let def = self.profile.settings.get(s);
                if def.map(|d| d.ty) != Some(ValueType::Bool) {
                    return Err((
                        format!(
                            "setting `{}` is {}, not a bool; compare it with a value",
                            name.text,
                            def.map_or("?", |d| d.ty.name())
                        ),
                        name.span.clone(),
                    ));
                }
                Expr::Setting(s)
            }
            Ast::Compare { op, lhs, rhs, span } => {
                let (lt, lterm) = self.operand(lhs)?;
                let (rt, rterm) = self.operand(rhs)?;
                self.check_compare(*op, &lt, &rt, lhs, rhs, span)?;
                Expr::Compare {
                    op: *op,
                    lhs: lterm,
                    rhs: rterm,
                }
            }
            Ast::In { elem, set, .. } => {
                let (et, eterm) = self.operand(elem)?;
                let (st, spath) = self.path(set)?;
                let elem_type = match et {
                    Ty::Entity(t) => t,
                    other => {
                        return Err((
                            format!(
                                "`in` needs an entity on its left, found {}",
                                self.describe(&other)
                            ),
                            elem.span(),
                        ));
                    }
                };
                match st {
                    Ty::Set(t) | Ty::Entity(t) if t == elem_type => {}
                    other => {
                        return Err((
                            format!(
                                "`in` looks for a `{}` but the right side is {}",
                                self.type_name(elem_type),
                                self.describe(&other)
                            ),
                            set.span(),
                        ));
                    }
                }
                Expr::In {
                    elem: eterm,
                    set: spath,
                }
            }
            Ast::Shares(a, b, _) => {
                let (at, ap) = self.path(a)?;
                let (bt, bp) = self.path(b)?;
                let ta = self.set_type(&at, a)?;
                let tb = self.set_type(&bt, b)?;
                if ta != tb {
                    return Err((
                        format!(
                            "`shares` compares a set of `{}` with a set of `{}`",
                            self.type_name(ta),
                            self.type_name(tb)
                        ),
                        b.span(),
                    ));
                }
                Expr::Shares(ap, bp)
            }
        })
    }

    fn set_type(&self, ty: &Ty, path: &PathAst) -> Result<TypeId, ExprError> {
        match ty {
            Ty::Set(t) | Ty::Entity(t) => Ok(*t),
            other => Err((
                format!(
                    "`shares` needs sets of entities, found {}",
                    self.describe(other)
                ),
                path.span(),
            )),
        }
    }

    fn privilege(&self, name: &Name) -> Result<PrivId, ExprError> {
        self.profile.privilege(&name.text).ok_or_else(|| {
            (
                format!("unknown privilege `{}`", name.text),
                name.span.clone(),
            )
        })
    }

    fn setting(&self, name: &Name) -> Result<SettingId, ExprError> {
        self.profile.setting(&name.text).ok_or_else(|| {
            let known: Vec<String> = self.profile.settings.iter().map(|s| s.id.clone()).collect();
            (
                format!(
                    "unknown setting `{}`{}",
                    name.text,
                    if known.is_empty() {
                        String::new()
                    } else {
                        format!("; expected one of {}", quoted(&known))
                    }
                ),
                name.span.clone(),
            )
        })
    }

    fn has(&self, privilege: &Name, level: Option<&Name>) -> Result<Expr, ExprError> {
        let p = self.privilege(privilege)?;
        let kind = self.profile.privileges.get(p).map(|x| &x.kind);
        let need = match (level, kind) {
            (None, _) => Need::Any,
            (Some(l), Some(PrivKind::Levels(levels))) => {
                Need::Level(levels.iter().position(|x| *x == l.text).ok_or_else(|| {
                    (
                        format!(
                            "unknown level `{}` for `{}`; expected one of {}",
                            l.text,
                            privilege.text,
                            quoted(levels)
                        ),
                        l.span.clone(),
                    )
                })?)
            }
            (Some(l), Some(PrivKind::Choice { choices, .. })) => {
                Need::Choice(choices.iter().position(|x| *x == l.text).ok_or_else(|| {
                    (
                        format!(
                            "unknown choice `{}` for `{}`; expected one of {}",
                            l.text,
                            privilege.text,
                            quoted(choices)
                        ),
                        l.span.clone(),
                    )
                })?)
            }
            (Some(l), kind) => {
                return Err((
                    format!(
                        "`{}` is a {} privilege; it has no level `{}`",
                        privilege.text,
                        kind.map_or("?", |k| k.name()),
                        l.text
                    ),
                    l.span.clone(),
                ));
            }
        };
        Ok(Expr::Has { privilege: p, need })
    }

    fn operand(&self, op: &Operand) -> Result<(Ty, Term), ExprError> {
        Ok(match op {
            Operand::Path(p) => {
                let (ty, path) = self.path(p)?;
                (ty, Term::Path(path))
            }
            Operand::Str(n) => (Ty::Str, Term::Lit(Lit::Str(n.text.clone()))),
            Operand::Int(i, _) => (Ty::Int, Term::Lit(Lit::Int(*i))),
            Operand::Bool(b, _) => (Ty::Bool, Term::Lit(Lit::Bool(*b))),
            Operand::Setting(n) => {
                let s = self.setting(n)?;
                let ty = match self.profile.settings.get(s).map(|d| d.ty) {
                    Some(ValueType::Bool) => Ty::Bool,
                    Some(ValueType::Int) => Ty::Int,
                    _ => Ty::Str,
                };
                (ty, Term::Setting(s))
            }
            Operand::Value(n) => {
                let p = self.privilege(n)?;
                match self.profile.privileges.get(p).map(|x| &x.kind) {
                    Some(PrivKind::Number { .. }) => (Ty::Int, Term::Value(p)),
                    other => {
                        return Err((
                            format!(
                                "`value(…)` needs a number privilege; `{}` is a {} privilege",
                                n.text,
                                other.map_or("?", |k| k.name())
                            ),
                            n.span.clone(),
                        ));
                    }
                }
            }
        })
    }

    fn path(&self, p: &PathAst) -> Result<(Ty, Path), ExprError> {
        let mut cur = match p.root {
            Root::Principal => USER,
            Root::Resource => self.resource,
            Root::Context => {
                return match p.segments.as_slice() {
                    [key] => Ok((
                        Ty::Any,
                        Path {
                            start: Start::Context(key.text.clone()),
                            steps: Vec::new(),
                            attr: None,
                        },
                    )),
                    [] => Err((
                        "`context` needs a key: `context.name`".into(),
                        p.root_span.clone(),
                    )),
                    [_, extra, ..] => Err((
                        "context values are flat: write `context.name`".into(),
                        extra.span.clone(),
                    )),
                };
            }
        };
        let start = if p.root == Root::Principal {
            Start::Principal
        } else {
            Start::Resource
        };
        let mut steps = Vec::new();
        let mut ty = Ty::Entity(cur);
        let mut attr = None;
        let n = p.segments.len();
        for (i, seg) in p.segments.iter().enumerate() {
            let last = i + 1 == n;
            let Some(t) = self.profile.types.get(cur) else {
                return Err((format!("unknown type #{cur}"), seg.span.clone()));
            };
            if let Some(r) = t.relation(&seg.text) {
                let rel = t.relations.get(r);
                let many = rel.is_some_and(|x| x.many);
                let target = rel.map_or(cur, |x| x.target);
                if many && !last {
                    return Err((
                        format!(
                            "`{}` is a set of `{}`; only the last step of a path may be a set",
                            seg.text,
                            self.type_name(target)
                        ),
                        seg.span.clone(),
                    ));
                }
                steps.push(Step { from: cur, rel: r });
                cur = target;
                ty = if many { Ty::Set(cur) } else { Ty::Entity(cur) };
            } else if let Some(a) = t.attribute(&seg.text) {
                if !last {
                    return Err((
                        format!(
                            "`{}` is an attribute of `{}`; nothing can follow it",
                            seg.text, t.id
                        ),
                        seg.span.clone(),
                    ));
                }
                let def = t.attributes.get(a);
                ty = match def {
                    Some(AttrDef {
                        values: Some(v), ..
                    }) => Ty::Enum(v.clone()),
                    Some(AttrDef {
                        ty: ValueType::Bool,
                        ..
                    }) => Ty::Bool,
                    Some(AttrDef {
                        ty: ValueType::Int, ..
                    }) => Ty::Int,
                    _ => Ty::Str,
                };
                attr = Some((cur, a));
            } else {
                let mut known: Vec<String> = t.relations.iter().map(|r| r.name.clone()).collect();
                known.extend(t.attributes.iter().map(|a| a.name.clone()));
                return Err((
                    format!(
                        "unknown relation or attribute `{}` on `{}`{}",
                        seg.text,
                        t.id,
                        if known.is_empty() {
                            "; it has none".to_owned()
                        } else {
                            format!("; expected one of {}", quoted(&known))
                        }
                    ),
                    seg.span.clone(),
                ));
            }
        }
        Ok((ty, Path { start, steps, attr }))
    }

    fn check_compare(
        &self,
        op: CmpOp,
        lt: &Ty,
        rt: &Ty,
        lhs: &Operand,
        rhs: &Operand,
        span: &std::ops::Range<usize>,
    ) -> Result<(), ExprError> {
        let enum_lit = |values: &Vec<String>, other: &Operand| -> Result<(), ExprError> {
            if let Operand::Str(n) = other
                && !values.contains(&n.text)
            {
                return Err((
                    format!("`{}` is not one of {}", n.text, quoted(values)),
                    n.span.clone(),
                ));
            }
            Ok(())
        };
        let ok = match (lt, rt) {
            (Ty::Entity(a), Ty::Entity(b)) => a == b && !op.is_ordering(),
            (Ty::Bool, Ty::Bool) | (Ty::Str, Ty::Str) => !op.is_ordering(),
            (Ty::Int, Ty::Int) => true,
            (Ty::Enum(v), Ty::Str) => {
                enum_lit(v, rhs)?;
                true
            }
            (Ty::Str, Ty::Enum(v)) => {
                enum_lit(v, lhs)?;
                true
            }
            (Ty::Enum(a), Ty::Enum(b)) => a == b,
            (Ty::Any, Ty::Entity(_) | Ty::Set(_)) | (Ty::Entity(_) | Ty::Set(_), Ty::Any) => false,
            (Ty::Any, _) | (_, Ty::Any) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err((
                format!(
                    "cannot compare {} with {} using `{}`{}",
                    self.describe(lt),
                    self.describe(rt),
                    op.symbol(),
                    if matches!(lt, Ty::Set(_)) || matches!(rt, Ty::Set(_)) {
                        "; use `in` or `shares(…)` for sets"
                    } else {
                        ""
                    }
                ),
                span.clone(),
            ))
        }
    }
}
