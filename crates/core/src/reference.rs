//! The reference evaluator: the semantics of docs/profile-format.md written as
//! directly as possible over the profile model and the plain tenant state, with no
//! compilation, no dense ids, no bitsets and no caching. It is slow on purpose; the
//! differential tests require the compiled engine to agree with it on every case.

use crate::decision::{Decision, EvalError, Request};
use crate::expr::ast::CmpOp;
use crate::expr::resolved::{Expr, Lit, Need, Path, Start, Term};
use crate::profile::limits::MAX_PRIVILEGE_DEPTH;
use crate::profile::{
    GrantValue, ORG_UNIT, Parent, PrivId, PrivKind, Profile, QUEUE, RoleDef, TENANT, TypeId, USER,
    Value, resolve_role,
};
use crate::state::{Scope, TenantState};

/// Decides `req` from first principles. `state` must be one that
/// [`crate::Snapshot::build`] accepts.
pub fn check(profile: &Profile, state: &TenantState, req: &Request<'_>) -> Decision {
    let r = Ref {
        p: profile,
        s: state,
    };
    r.check(req).into()
}

struct Ref<'a> {
    p: &'a Profile,
    s: &'a TenantState,
}

/// A value met while evaluating.
#[derive(Debug, Clone)]
enum V {
    Bool(bool),
    Int(i64),
    Str(String),
    /// An enum attribute value: its allowed values and its position.
    Enum(Vec<String>, usize),
    /// Entity ids.
    Ents(Vec<String>),
    Absent,
}

struct Env<'a> {
    principal: &'a str,
    rtype: TypeId,
    resource: &'a str,
    req: &'a Request<'a>,
    /// Every scope covers (an action held anywhere).
    anywhere: bool,
}

impl Ref<'_> {
    fn check(&self, req: &Request<'_>) -> Result<bool, EvalError> {
        let action = self
            .p
            .actions
            .iter()
            .find(|a| a.id == req.action)
            .ok_or_else(|| EvalError::UnknownAction(req.action.into()))?;
        let rtype = self
            .p
            .types
            .iter()
            .position(|t| t.id == req.resource_type)
            .ok_or_else(|| EvalError::UnknownResourceType(req.resource_type.into()))?;
        if action.resource != rtype {
            return Err(EvalError::WrongResourceType {
                action: req.action.into(),
                expected: self
                    .p
                    .types
                    .get(action.resource)
                    .map_or("?", |t| t.id.as_str())
                    .into(),
                found: req.resource_type.into(),
            });
        }
        if !self.exists(USER, req.principal) {
            return Err(EvalError::UnknownPrincipal(req.principal.into()));
        }
        if !self.exists(rtype, req.resource_id) {
            return Err(EvalError::UnknownResource {
                ty: req.resource_type.into(),
                id: req.resource_id.into(),
            });
        }
        let env = Env {
            principal: req.principal,
            rtype,
            resource: req.resource_id,
            req,
            anywhere: action.held_anywhere,
        };
        self.eval(&env, &action.requires)
    }

    fn type_id(&self, t: TypeId) -> &str {
        self.p.types.get(t).map_or("?", |x| x.id.as_str())
    }

    fn exists(&self, ty: TypeId, id: &str) -> bool {
        if ty == TENANT {
            return self.s.tenant_id == id;
        }
        let tid = self.type_id(ty);
        self.s.entities.iter().any(|e| e.ty == tid && e.id == id)
    }

    /// Targets of relation `rel` of entity `ty:id`, computing inverses by scanning.
    fn targets(&self, ty: TypeId, id: &str, rel: usize) -> Vec<String> {
        let Some(def) = self.p.types.get(ty).and_then(|t| t.relations.get(rel)) else {
            return Vec::new();
        };
        match def.inverse {
            Some((src_ty, src_rel)) => {
                let src_name = self
                    .p
                    .types
                    .get(src_ty)
                    .and_then(|t| t.relations.get(src_rel))
                    .map_or("", |r| r.name.as_str());
                let mut out: Vec<String> = self
                    .s
                    .entities
                    .iter()
                    .filter(|e| e.ty == self.type_id(src_ty))
                    .filter(|e| {
                        e.relations
                            .iter()
                            .any(|(n, ts)| n == src_name && ts.iter().any(|t| t == id))
                    })
                    .map(|e| e.id.clone())
                    .collect();
                out.sort();
                out.dedup();
                out
            }
            None => {
                let mut out: Vec<String> = self
                    .s
                    .entities
                    .iter()
                    .filter(|e| e.ty == self.type_id(ty) && e.id == id)
                    .flat_map(|e| {
                        e.relations
                            .iter()
                            .filter(|(n, _)| *n == def.name)
                            .flat_map(|(_, ts)| ts.iter().cloned())
                    })
                    .collect();
                out.sort();
                out.dedup();
                out
            }
        }
    }

    fn attribute(&self, ty: TypeId, id: &str, attr: usize) -> Option<Value> {
        let def = self.p.types.get(ty)?.attributes.get(attr)?;
        let set = self
            .s
            .entities
            .iter()
            .find(|e| e.ty == self.type_id(ty) && e.id == id)
            .and_then(|e| {
                e.attributes
                    .iter()
                    .find(|(n, _)| *n == def.name)
                    .map(|(_, v)| v.clone())
            });
        set.or_else(|| def.default.clone())
    }

    /// The org unit and queue the entity sits in, following scope relations.
    fn anchor(&self, ty: TypeId, id: &str) -> (Option<String>, Option<String>) {
        let (mut org, mut queue) = (None, None);
        let (mut ty, mut id) = (ty, id.to_owned());
        for _ in 0..=self.p.types.len() {
            if ty == ORG_UNIT && org.is_none() {
                org = Some(id.clone());
            }
            if ty == QUEUE && queue.is_none() {
                queue = Some(id.clone());
            }
            let Some(rel) = self.p.types.get(ty).and_then(|t| t.scope) else {
                break;
            };
            let Some(next) = self.targets(ty, &id, rel).into_iter().next() else {
                break;
            };
            ty = self
                .p
                .types
                .get(ty)
                .and_then(|t| t.relations.get(rel))
                .map_or(ty, |r| r.target);
            id = next;
        }
        (org, queue)
    }

    /// `ancestor` is `org` or one of its ancestors.
    fn org_within(&self, org: &str, ancestor: &str) -> bool {
        let mut cur = org.to_owned();
        for _ in 0..=self.s.entities.len() {
            if cur == ancestor {
                return true;
            }
            let parent = self
                .p
                .types
                .get(ORG_UNIT)
                .and_then(|t| t.relation("parent"));
            match parent.and_then(|r| self.targets(ORG_UNIT, &cur, r).into_iter().next()) {
                Some(p) => cur = p,
                None => return false,
            }
        }
        false
    }

    fn covers(&self, scope: &Scope, env: &Env<'_>) -> bool {
        if env.anywhere {
            return true;
        }
        let (org, queue) = self.anchor(env.rtype, env.resource);
        match scope {
            Scope::Tenant => true,
            Scope::OrgUnits(ids) => org.is_some_and(|o| ids.iter().any(|u| self.org_within(&o, u))),
            Scope::Queues(ids) => queue.is_some_and(|q| ids.contains(&q)),
        }
    }

    fn role(&self, id: &str) -> Option<RoleDef> {
        if let Some(r) = self.p.role(id) {
            return Some(r.clone());
        }
        let spec = self.s.roles.iter().find(|r| r.id == id)?;
        resolve_role(self.p, spec).ok()
    }

    fn satisfies(&self, q: PrivId, v: &GrantValue, need: Need) -> bool {
        match (need, v) {
            (_, GrantValue::Off) => false,
            (Need::Any, _) => true,
            (Need::Level(k), GrantValue::Level(j)) => *j >= k,
            (Need::Choice(c), GrantValue::Choices(cs)) => {
                match self.p.privileges.get(q).map(|x| &x.kind) {
                    Some(PrivKind::Choice { implies, .. }) => cs
                        .iter()
                        .any(|x| implies.get(*x).is_some_and(|i| i.contains(&c))),
                    _ => false,
                }
            }
            _ => false,
        }
    }

    /// What role `id` holds of flag or `levels` privilege `q`: on, or its highest level.
    fn role_held(&self, id: &str, q: PrivId, depth: usize) -> Option<GrantValue> {
        match self.p.privileges.get(q).map(|x| &x.kind)? {
            PrivKind::Levels(l) => (0..l.len())
                .rev()
                .find(|&k| self.role_holds(id, q, Need::Level(k), depth))
                .map(GrantValue::Level),
            PrivKind::Flag => self
                .role_holds(id, q, Need::Any, depth)
                .then_some(GrantValue::On),
            _ => None,
        }
    }

    /// What role `id` gets of `q` from its parent privilege, if any.
    fn given_by_parent(&self, id: &str, q: PrivId, depth: usize) -> Option<GrantValue> {
        let Some(Parent::Privilege(parent)) = self.p.privileges.get(q).map(|x| x.parent) else {
            return None;
        };
        let held = self.role_held(id, parent, depth + 1)?;
        self.p.included(parent, &held, q)
    }

    /// Role `id` and every role it includes, transitively: an iterative walk that
    /// visits each role once, however long the chain of inclusions.
    fn roles_within(&self, id: &str) -> Vec<RoleDef> {
        let mut seen: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        let mut stack = vec![id.to_owned()];
        let mut out = Vec::new();
        while let Some(r) = stack.pop() {
            if !seen.insert(r.clone()) {
                continue;
            }
            if let Some(def) = self.role(&r) {
                stack.extend(def.includes.iter().cloned());
                out.push(def);
            }
        }
        out
    }

    /// Whether role `id` holds privilege `q` at `need`: granted directly to it or to a
    /// role it includes, or included by its parent privilege as the role holds that.
    /// `depth` counts the parent privileges walked up, which the loader keeps within
    /// [`MAX_PRIVILEGE_DEPTH`].
    fn role_holds(&self, id: &str, q: PrivId, need: Need, depth: usize) -> bool {
        if depth > MAX_PRIVILEGE_DEPTH {
            return false;
        }
        let roles = self.roles_within(id);
        if roles.is_empty() {
            return false;
        }
        if roles.iter().any(|r| {
            r.direct_grants(self.p)
                .iter()
                .any(|(x, v)| *x == q && self.satisfies(q, v, need))
        }) {
            return true;
        }
        self.given_by_parent(id, q, depth)
            .is_some_and(|v| self.satisfies(q, &v, need))
    }

    /// The highest value of number privilege `q` role `id` holds.
    fn role_value(&self, id: &str, q: PrivId, depth: usize) -> Option<i64> {
        if depth > MAX_PRIVILEGE_DEPTH {
            return None;
        }
        let roles = self.roles_within(id);
        if roles.is_empty() {
            return None;
        }
        let mut best: Option<i64> = None;
        for role in &roles {
            for (x, v) in role.direct_grants(self.p) {
                if x == q
                    && let GrantValue::Number(n) = v
                {
                    best = best.max(Some(n));
                }
            }
        }
        if let Some(GrantValue::Number(n)) = self.given_by_parent(id, q, depth) {
            best = best.max(Some(n));
        }
        best
    }

    fn live_assignments<'e>(
        &'e self,
        env: &'e Env<'_>,
    ) -> impl Iterator<Item = &'e crate::state::Assignment> + 'e {
        self.s.assignments.iter().filter(move |a| {
            a.principal == env.principal
                && a.expires_at.is_none_or(|t| env.req.now < t)
                && self.covers(&a.scope, env)
        })
    }

    /// Whether the principal holds `q` for the resource. A restriction binds wherever
    /// any assignment of theirs carries it, whatever its scope or expiry.
    fn has(&self, env: &Env<'_>, q: PrivId, need: Need) -> bool {
        if self.p.privileges.get(q).is_some_and(|x| x.restriction) {
            return self
                .s
                .assignments
                .iter()
                .filter(|a| a.principal == env.principal)
                .any(|a| self.role_holds(&a.role, q, need, 0));
        }
        self.live_assignments(env)
            .any(|a| self.role_holds(&a.role, q, need, 0))
    }

    fn eval(&self, env: &Env<'_>, e: &Expr) -> Result<bool, EvalError> {
        match e {
            Expr::Const(b) => Ok(*b),
            Expr::And(items) => {
                for x in items {
                    if !self.eval(env, x)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Expr::Or(items) => {
                for x in items {
                    if self.eval(env, x)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Expr::Not(x) => Ok(!self.eval(env, x)?),
            Expr::Has { privilege, need } => Ok(self.has(env, *privilege, *need)),
            Expr::Setting(s) => match self.setting(*s) {
                Some(Value::Bool(b)) => Ok(b),
                _ => Err(EvalError::Internal("setting is not a bool".into())),
            },
            Expr::Compare { op, lhs, rhs } => {
                let l = self.term(env, lhs)?;
                let r = self.term(env, rhs)?;
                compare(*op, &l, &r)
            }
            Expr::In { elem, set } => match (self.term(env, elem)?, self.path(env, set)?) {
                (V::Ents(e), V::Ents(s)) => Ok(e.first().is_some_and(|x| s.contains(x))),
                _ => Err(EvalError::TypeMismatch("`in` needs entities".into())),
            },
            Expr::Shares(a, b) => match (self.path(env, a)?, self.path(env, b)?) {
                (V::Ents(x), V::Ents(y)) => Ok(x.iter().any(|i| y.contains(i))),
                _ => Err(EvalError::TypeMismatch("`shares` needs entities".into())),
            },
        }
    }

    fn setting(&self, s: usize) -> Option<Value> {
        let def = self.p.settings.get(s)?;
        Some(
            self.s
                .settings
                .iter()
                .find(|(k, _)| *k == def.id)
                .map_or_else(|| def.default.clone(), |(_, v)| v.clone()),
        )
    }

    fn term(&self, env: &Env<'_>, t: &Term) -> Result<V, EvalError> {
        Ok(match t {
            Term::Path(p) => self.path(env, p)?,
            Term::Lit(Lit::Bool(b)) => V::Bool(*b),
            Term::Lit(Lit::Int(i)) => V::Int(*i),
            Term::Lit(Lit::Str(s)) => V::Str(s.clone()),
            Term::Setting(s) => match self.setting(*s) {
                Some(v) => value(v),
                None => return Err(EvalError::Internal("setting".into())),
            },
            Term::Value(q) => self
                .live_assignments(env)
                .filter_map(|a| self.role_value(&a.role, *q, 0))
                .max()
                .map_or(V::Absent, V::Int),
        })
    }

    fn path(&self, env: &Env<'_>, p: &Path) -> Result<V, EvalError> {
        let (mut ty, mut cur) = match &p.start {
            Start::Principal => (USER, vec![env.principal.to_owned()]),
            Start::Resource => (env.rtype, vec![env.resource.to_owned()]),
            Start::Context(k) => {
                return env
                    .req
                    .context
                    .get(k)
                    .cloned()
                    .map(value)
                    .ok_or_else(|| EvalError::MissingContext(k.clone()));
            }
        };
        for step in &p.steps {
            let Some(first) = cur.first().cloned() else {
                break;
            };
            cur = self.targets(step.from, &first, step.rel);
            ty = self
                .p
                .types
                .get(step.from)
                .and_then(|t| t.relations.get(step.rel))
                .map_or(ty, |r| r.target);
        }
        let Some((aty, attr)) = p.attr else {
            return Ok(V::Ents(cur));
        };
        let def = self.p.types.get(aty).and_then(|t| t.attributes.get(attr));
        let name = def.map_or("?", |d| d.name.as_str()).to_owned();
        let Some(id) = cur.first() else {
            return Err(EvalError::NoEntity { attr: name });
        };
        let _ = ty;
        match self.attribute(aty, id, attr) {
            Some(Value::Str(s)) if def.and_then(|d| d.values.as_ref()).is_some() => {
                let values = def.and_then(|d| d.values.clone()).unwrap_or_default();
                let i = values.iter().position(|x| *x == s).unwrap_or(0);
                Ok(V::Enum(values, i))
            }
            Some(v) => Ok(value(v)),
            None => Err(EvalError::MissingAttribute {
                ty: self.type_id(aty).into(),
                id: id.clone(),
                attr: name,
            }),
        }
    }
}

fn value(v: Value) -> V {
    match v {
        Value::Bool(b) => V::Bool(b),
        Value::Int(i) => V::Int(i),
        Value::Str(s) => V::Str(s),
    }
}

fn compare(op: CmpOp, l: &V, r: &V) -> Result<bool, EvalError> {
    let eq_only = |eq: bool| match op {
        CmpOp::Eq => Ok(eq),
        CmpOp::Ne => Ok(!eq),
        _ => Err(EvalError::TypeMismatch(format!(
            "these values with `{}`",
            op.symbol()
        ))),
    };
    let enum_str = |values: &Vec<String>, i: usize, s: &str, flip: bool| match values
        .iter()
        .position(|x| x == s)
    {
        Some(j) => Ok(op.holds(if flip { j.cmp(&i) } else { i.cmp(&j) })),
        None => eq_only(false),
    };
    match (l, r) {
        (V::Absent, _) | (_, V::Absent) => Ok(false),
        (V::Ents(a), V::Ents(b)) => eq_only(a.len() == 1 && a == b),
        (V::Bool(a), V::Bool(b)) => eq_only(a == b),
        (V::Str(a), V::Str(b)) => eq_only(a == b),
        (V::Int(a), V::Int(b)) => Ok(op.holds(a.cmp(b))),
        (V::Enum(_, a), V::Enum(_, b)) => Ok(op.holds(a.cmp(b))),
        (V::Enum(values, i), V::Str(s)) => enum_str(values, *i, s, false),
        (V::Str(s), V::Enum(values, i)) => enum_str(values, *i, s, true),
        _ => Err(EvalError::TypeMismatch(format!(
            "values of different types with `{}`",
            op.symbol()
        ))),
    }
}
