//! The check path: resolve names once, then evaluate the compiled requirement
//! against the snapshot. No allocation, no locks; every error denies.

use super::program::StartC;
use super::*;
use crate::decision::{Context, Decision, EvalError, Request};
use crate::expr::ast::CmpOp;
use crate::profile::{USER, Value};

/// A value met while evaluating.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rv<'s> {
    Bool(bool),
    Int(i64),
    Str(&'s str),
    /// An enum attribute: (type, attribute, index).
    Enum(usize, usize, u16),
    /// An enum literal, already turned into its index.
    EnumLit(u16),
    /// Entities of one type (at most one for a single-valued path), sorted.
    Ents(&'s [u32]),
    /// `value(P)` of a privilege not held.
    Absent,
}

/// Everything one evaluation needs.
pub(crate) struct Eval<'s> {
    pub snap: &'s Snapshot,
    pub user: u32,
    pub rtype: usize,
    pub rid: u32,
    pub now: i64,
    pub context: &'s Context,
    /// Every scope covers (an action held anywhere).
    pub anywhere: bool,
}

impl<'s> Eval<'s> {
    /// Whether a scope covers the resource.
    #[inline]
    pub(crate) fn covers(&self, scope: &ScopeC) -> bool {
        if self.anywhere {
            return true;
        }
        match scope {
            ScopeC::Tenant => true,
            ScopeC::Orgs(list) => {
                let a = self.snap.tables.get(self.rtype).map_or(
                    Anchor {
                        org: NONE,
                        queue: NONE,
                    },
                    |t| t.anchor(self.rid),
                );
                self.snap.org_covers(list, a.org)
            }
            ScopeC::Queues(list) => {
                let a = self.snap.tables.get(self.rtype).map_or(
                    Anchor {
                        org: NONE,
                        queue: NONE,
                    },
                    |t| t.anchor(self.rid),
                );
                a.queue != NONE && list.binary_search(&a.queue).is_ok()
            }
        }
    }

    /// Whether the principal holds `bit` for the resource.
    #[inline]
    pub(crate) fn has(&self, bit: u32) -> bool {
        let Some(u) = self.snap.users.get(self.user as usize) else {
            return false;
        };
        if self.snap.set_has(u.base, bit) {
            return true;
        }
        u.extra
            .iter()
            .any(|g| g.expires > self.now && self.snap.set_has(g.set, bit) && self.covers(&g.scope))
    }

    /// The highest value of number privilege `p` the principal holds for the resource.
    pub(crate) fn value(&self, p: usize) -> Option<i64> {
        let u = self.snap.users.get(self.user as usize)?;
        u.all
            .iter()
            .filter(|g| g.expires > self.now && self.covers(&g.scope))
            .filter_map(|g| self.snap.roles.get(g.role as usize))
            .flat_map(|r| r.numbers.iter().filter(|(q, _)| *q == p).map(|(_, v)| *v))
            .max()
    }

    pub(crate) fn eval(&self, node: &Node) -> Result<bool, EvalError> {
        match node {
            Node::Const(b) => Ok(*b),
            Node::Has { bit, .. } => Ok(self.has(*bit)),
            Node::And(items) => {
                for x in items.iter() {
                    if !self.eval(x)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Node::Or(items) => {
                for x in items.iter() {
                    if self.eval(x)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Node::Not(x) => Ok(!self.eval(x)?),
            Node::Setting(s) => match self.snap.settings.get(*s) {
                Some(Value::Bool(b)) => Ok(*b),
                _ => Err(EvalError::Internal(format!("setting #{s} is not a bool"))),
            },
            Node::Compare { op, lhs, rhs } => {
                let l = self.term(lhs)?;
                let r = self.term(rhs)?;
                self.compare(*op, l, r)
            }
            Node::In { elem, set } => {
                let e = self.term(elem)?;
                let s = self.path(set)?;
                match (e, s) {
                    (Rv::Ents(e), Rv::Ents(s)) => Ok(match e.first() {
                        Some(x) => s.binary_search(x).is_ok(),
                        None => false,
                    }),
                    _ => Err(EvalError::TypeMismatch("`in` needs entities".into())),
                }
            }
            Node::Shares(a, b) => match (self.path(a)?, self.path(b)?) {
                (Rv::Ents(a), Rv::Ents(b)) => Ok(sorted_intersect(a, b)),
                _ => Err(EvalError::TypeMismatch("`shares` needs entities".into())),
            },
        }
    }

    pub(crate) fn term<'a>(&'a self, t: &'a TermC) -> Result<Rv<'a>, EvalError> {
        Ok(match t {
            TermC::Path(p) => self.path(p)?,
            TermC::Lit(v) => attr_rv(v, 0, 0),
            TermC::Setting(s) => match self.snap.settings.get(*s) {
                Some(v) => value_rv(v),
                None => return Err(EvalError::Internal(format!("setting #{s} is missing"))),
            },
            TermC::Value(p) => self.value(*p).map_or(Rv::Absent, Rv::Int),
        })
    }

    pub(crate) fn path<'a>(&'a self, p: &'a PathC) -> Result<Rv<'a>, EvalError> {
        let (mut ty, mut cur): (usize, &'a [u32]) = match &p.start {
            StartC::Principal => (USER, std::slice::from_ref(&self.user)),
            StartC::Resource => (self.rtype, std::slice::from_ref(&self.rid)),
            StartC::Context(k) => {
                return match self.context.get(k.as_ref()) {
                    Some(v) => Ok(value_rv(v)),
                    None => Err(EvalError::MissingContext(k.to_string())),
                };
            }
        };
        for &(from, rel) in p.steps.iter() {
            let Some(&e) = cur.first() else {
                cur = &[];
                ty = p.end_type;
                break;
            };
            let table = self
                .snap
                .tables
                .get(from)
                .ok_or_else(|| EvalError::Internal("type".into()))?;
            let store = table
                .rels
                .get(rel)
                .ok_or_else(|| EvalError::Internal("relation".into()))?;
            cur = store.targets(e);
            ty = self
                .snap
                .profile
                .types
                .get(from)
                .and_then(|t| t.relations.get(rel))
                .map_or(ty, |r| r.target);
        }
        let Some((aty, attr)) = p.attr else {
            return Ok(Rv::Ents(cur));
        };
        let name = || {
            self.snap
                .profile
                .types
                .get(aty)
                .and_then(|t| t.attributes.get(attr))
                .map_or("?", |a| a.name.as_str())
                .to_owned()
        };
        let Some(&e) = cur.first() else {
            return Err(EvalError::NoEntity { attr: name() });
        };
        let _ = ty;
        match self
            .snap
            .tables
            .get(aty)
            .and_then(|t| t.attrs.get(attr))
            .and_then(|c| c.get(e as usize))
        {
            Some(Some(v)) => Ok(attr_rv(v, aty, attr)),
            _ => Err(EvalError::MissingAttribute {
                ty: self
                    .snap
                    .profile
                    .types
                    .get(aty)
                    .map_or("?", |t| t.id.as_str())
                    .to_owned(),
                id: self.snap.entity_id(aty, e).unwrap_or("?").to_owned(),
                attr: name(),
            }),
        }
    }

    pub(crate) fn compare(&self, op: CmpOp, l: Rv<'_>, r: Rv<'_>) -> Result<bool, EvalError> {
        use std::cmp::Ordering;
        let eq_only = |eq: bool| -> Result<bool, EvalError> {
            match op {
                CmpOp::Eq => Ok(eq),
                CmpOp::Ne => Ok(!eq),
                _ => Err(EvalError::TypeMismatch(format!(
                    "these values with `{}`",
                    op.symbol()
                ))),
            }
        };
        let enum_str =
            |ty: usize, attr: usize, i: u16, s: &str, flip: bool| -> Result<bool, EvalError> {
                let values = self
                    .snap
                    .profile
                    .types
                    .get(ty)
                    .and_then(|t| t.attributes.get(attr))
                    .and_then(|a| a.values.as_ref());
                match values.and_then(|v| v.iter().position(|x| x == s)) {
                    Some(j) => {
                        let ord = (i as usize).cmp(&j);
                        Ok(op.holds(if flip { ord.reverse() } else { ord }))
                    }
                    None => eq_only(false),
                }
            };
        match (l, r) {
            (Rv::Absent, _) | (_, Rv::Absent) => Ok(false),
            (Rv::Ents(a), Rv::Ents(b)) => eq_only(a.len() == 1 && a == b),
            (Rv::Bool(a), Rv::Bool(b)) => eq_only(a == b),
            (Rv::Str(a), Rv::Str(b)) => eq_only(a == b),
            (Rv::Int(a), Rv::Int(b)) => Ok(op.holds(a.cmp(&b))),
            (Rv::Enum(_, _, a), Rv::Enum(_, _, b))
            | (Rv::Enum(_, _, a), Rv::EnumLit(b))
            | (Rv::EnumLit(a), Rv::Enum(_, _, b)) => Ok(op.holds(a.cmp(&b))),
            (Rv::EnumLit(a), Rv::EnumLit(b)) => Ok(op.holds(a.cmp(&b))),
            (Rv::Enum(t, at, i), Rv::Str(s)) => enum_str(t, at, i, s, false),
            (Rv::Str(s), Rv::Enum(t, at, i)) => enum_str(t, at, i, s, true),
            _ => {
                let _ = Ordering::Equal;
                Err(EvalError::TypeMismatch(format!(
                    "values of different types with `{}`",
                    op.symbol()
                )))
            }
        }
    }
}

fn attr_rv(v: &AttrVal, ty: usize, attr: usize) -> Rv<'_> {
    match v {
        AttrVal::Bool(b) => Rv::Bool(*b),
        AttrVal::Int(i) => Rv::Int(*i),
        AttrVal::Str(s) => Rv::Str(s),
        AttrVal::Enum(i) if ty == 0 && attr == 0 => Rv::EnumLit(*i),
        AttrVal::Enum(i) => Rv::Enum(ty, attr, *i),
    }
}

fn value_rv(v: &Value) -> Rv<'_> {
    match v {
        Value::Bool(b) => Rv::Bool(*b),
        Value::Int(i) => Rv::Int(*i),
        Value::Str(s) => Rv::Str(s),
    }
}

/// Whether two ascending slices share an element.
fn sorted_intersect(a: &[u32], b: &[u32]) -> bool {
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.cmp(y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

impl Snapshot {
    #[inline]
    pub(crate) fn set_has(&self, set: u32, bit: u32) -> bool {
        let i = set as usize * self.layout.words + (bit / 64) as usize;
        self.sets
            .get(i)
            .is_some_and(|w| w & (1u64 << (bit % 64)) != 0)
    }

    pub(crate) fn org_covers(&self, list: &[u32], org: u32) -> bool {
        if org == NONE {
            return false;
        }
        let Some(&at) = self.org_enter.get(org as usize) else {
            return false;
        };
        list.iter().any(|&u| {
            let (Some(&s), Some(&e)) = (
                self.org_enter.get(u as usize),
                self.org_exit.get(u as usize),
            ) else {
                return false;
            };
            s <= at && at < e
        })
    }

    /// Resolves a request's names to dense ids.
    pub fn resolve(&self, req: &Request<'_>) -> Result<ResolvedRequest, EvalError> {
        let p = &self.profile;
        let action = p
            .action(req.action)
            .ok_or_else(|| EvalError::UnknownAction(req.action.to_owned()))?;
        let rtype = p
            .type_id(req.resource_type)
            .ok_or_else(|| EvalError::UnknownResourceType(req.resource_type.to_owned()))?;
        let expected = p.actions.get(action).map_or(rtype, |a| a.resource);
        if expected != rtype {
            return Err(EvalError::WrongResourceType {
                action: req.action.to_owned(),
                expected: p
                    .types
                    .get(expected)
                    .map_or("?", |t| t.id.as_str())
                    .to_owned(),
                found: req.resource_type.to_owned(),
            });
        }
        let principal = self
            .entity(USER, req.principal)
            .ok_or_else(|| EvalError::UnknownPrincipal(req.principal.to_owned()))?;
        let resource =
            self.entity(rtype, req.resource_id)
                .ok_or_else(|| EvalError::UnknownResource {
                    ty: req.resource_type.to_owned(),
                    id: req.resource_id.to_owned(),
                })?;
        Ok(ResolvedRequest {
            principal,
            action,
            resource_type: rtype,
            resource,
        })
    }

    /// Decides a request. Unknown names and evaluation errors deny.
    pub fn check(&self, req: &Request<'_>) -> Decision {
        match self.resolve(req) {
            Ok(r) => self.check_resolved(&r, req.context, req.now),
            Err(e) => Decision::error(e),
        }
    }

    /// Decides a request whose names are already resolved.
    #[inline]
    pub fn check_resolved(&self, r: &ResolvedRequest, context: &Context, now: i64) -> Decision {
        let Some(program) = self.programs.get(r.action) else {
            return Decision::error(EvalError::Internal(format!(
                "action #{} has no program",
                r.action
            )));
        };
        let ev = Eval {
            snap: self,
            user: r.principal,
            rtype: r.resource_type,
            rid: r.resource,
            now,
            context,
            anywhere: self
                .profile
                .actions
                .get(r.action)
                .is_some_and(|a| a.held_anywhere),
        };
        self.with_obligations(&ev, r.action, ev.eval(program).into())
    }

    /// Adds the obligations that apply to an allowed decision.
    #[inline]
    pub(crate) fn with_obligations(
        &self,
        ev: &Eval<'_>,
        action: usize,
        mut d: Decision,
    ) -> Decision {
        if d.allowed
            && let Some(obl) = self.obligations.get(action)
        {
            for (i, node) in obl.iter().enumerate().take(64) {
                if ev.eval(node).unwrap_or(true) {
                    d.obligations |= 1u64 << i;
                }
            }
        }
        d
    }

    /// The ids of the obligations set in `bits` for `action`.
    pub fn obligation_ids(&self, action: &str, bits: u64) -> Vec<&str> {
        let Some(a) = self
            .profile
            .action(action)
            .and_then(|a| self.profile.actions.get(a))
        else {
            return Vec::new();
        };
        a.obligations
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < 64 && bits & (1u64 << i) != 0)
            .map(|(_, o)| o.id.as_str())
            .collect()
    }
}
