//! Explanations: the requirement evaluated node by node, each with its outcome and
//! the facts behind it (which role grants a privilege, which is missing, what a
//! relation holds). The decision is the same evaluation the check path runs.

use std::fmt::Write;

use super::eval::Rv;
use super::program::StartC;
use super::*;
use crate::decision::{Decision, EvalError, Request};
use crate::expr::resolved::Need;
use crate::profile::{PrivKind, USER};

/// How a node came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Held.
    True,
    /// Did not hold.
    False,
    /// Could not be evaluated (denies).
    Error,
    /// Skipped: `and`/`or` stopped before it.
    Skipped,
}

/// One evaluated node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainNode {
    /// The sub-expression, as text.
    pub expr: String,
    /// Its outcome.
    pub outcome: Outcome,
    /// The facts behind the outcome.
    pub detail: String,
    /// Its operands.
    pub children: Vec<ExplainNode>,
}

/// A decision with its evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The decision.
    pub decision: Decision,
    /// The action's display name.
    pub action_name: String,
    /// The requirement as written.
    pub requirement: String,
    /// One line per fact that decided the outcome.
    pub reasons: Vec<String>,
    /// The evaluation tree (absent when the request could not be resolved).
    pub tree: Option<ExplainNode>,
}

impl Explanation {
    /// The explanation as indented text.
    pub fn render(&self) -> String {
        fn walk(out: &mut String, n: &ExplainNode, depth: usize) {
            let mark = match n.outcome {
                Outcome::True => "✓",
                Outcome::False => "✗",
                Outcome::Error => "!",
                Outcome::Skipped => "·",
            };
            let detail = if n.detail.is_empty() {
                String::new()
            } else {
                format!("  — {}", n.detail)
            };
            let _ = writeln!(out, "{}{mark} {}{detail}", "  ".repeat(depth + 1), n.expr);
            for c in &n.children {
                walk(out, c, depth + 1);
            }
        }
        let mut out = String::new();
        let verdict = if self.decision.allowed {
            "allowed"
        } else {
            "denied"
        };
        let _ = writeln!(out, "{verdict}: {}", self.action_name);
        if let Some(e) = &self.decision.error {
            let _ = writeln!(out, "  error: {e}");
        }
        for r in &self.reasons {
            let _ = writeln!(out, "  because {r}");
        }
        if !self.requirement.is_empty() {
            let _ = writeln!(
                out,
                "  requirement: {}",
                self.requirement
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        if let Some(t) = &self.tree {
            walk(&mut out, t, 0);
        }
        out
    }
}

impl Snapshot {
    /// Decides a request and explains how.
    pub fn explain(&self, req: &Request<'_>) -> Explanation {
        let r = match self.resolve(req) {
            Ok(r) => r,
            Err(e) => {
                return Explanation {
                    reasons: vec![e.to_string()],
                    decision: Decision::error(e),
                    action_name: req.action.to_owned(),
                    requirement: String::new(),
                    tree: None,
                };
            }
        };
        let action = self.profile.actions.get(r.action);
        let Some(program) = self.programs.get(r.action) else {
            let e = EvalError::Internal("no program".into());
            return Explanation {
                reasons: vec![e.to_string()],
                decision: Decision::error(e),
                action_name: req.action.to_owned(),
                requirement: String::new(),
                tree: None,
            };
        };
        let ev = Eval {
            snap: self,
            user: r.principal,
            rtype: r.resource_type,
            rid: r.resource,
            now: req.now,
            context: req.context,
            anywhere: action.is_some_and(|a| a.held_anywhere),
        };
        let decision = self.with_obligations(&ev, r.action, ev.eval(program).into());
        let tree = ev.explain(program);
        let mut reasons = Vec::new();
        collect_reasons(&tree, decision.allowed, &mut reasons);
        Explanation {
            decision,
            action_name: action.map_or_else(
                || req.action.to_owned(),
                |a| format!("{} ({})", a.name, a.id),
            ),
            requirement: action.map_or_else(String::new, |a| a.requires_text.clone()),
            reasons,
            tree: Some(tree),
        }
    }
}

/// The leaves that decided `node` coming out as `want`.
fn collect_reasons(node: &ExplainNode, want: bool, out: &mut Vec<String>) {
    let leaf = |out: &mut Vec<String>| {
        let line = if node.detail.is_empty() {
            node.expr.clone()
        } else {
            format!("{}: {}", node.expr, node.detail)
        };
        out.push(line);
    };
    if node.outcome == Outcome::Error {
        leaf(out);
        return;
    }
    if node.children.is_empty() {
        leaf(out);
        return;
    }
    let is = |o: Outcome, b: bool| o == if b { Outcome::True } else { Outcome::False };
    if node.expr.starts_with("not ") {
        if let Some(c) = node.children.first() {
            collect_reasons(c, !want, out);
        }
        return;
    }
    // and/or: the children with the deciding outcome.
    let deciders: Vec<&ExplainNode> = node
        .children
        .iter()
        .filter(|c| is(c.outcome, want) || c.outcome == Outcome::Error)
        .collect();
    let is_and = node.detail == "all of";
    if (is_and && !want) || (!is_and && want) {
        // One child decided it.
        if let Some(c) = deciders.first() {
            collect_reasons(c, want, out);
        }
    } else {
        for c in deciders {
            collect_reasons(c, want, out);
        }
    }
}

impl Eval<'_> {
    fn show(&self, v: &Rv<'_>, ty: usize) -> String {
        match v {
            Rv::Bool(b) => b.to_string(),
            Rv::Int(i) => i.to_string(),
            Rv::Str(s) => format!("\"{s}\""),
            Rv::Enum(t, a, i) => {
                let values = self
                    .snap
                    .profile
                    .types
                    .get(*t)
                    .and_then(|x| x.attributes.get(*a))
                    .and_then(|d| d.values.as_ref());
                values
                    .and_then(|v| v.get(*i as usize))
                    .map_or_else(|| format!("#{i}"), |s| format!("\"{s}\""))
            }
            Rv::EnumLit(i) => format!("#{i}"),
            Rv::Absent => "not held".into(),
            Rv::Ents(list) => {
                let ty_name = self
                    .snap
                    .profile
                    .types
                    .get(ty)
                    .map_or("?", |t| t.id.as_str());
                let ids: Vec<String> = list
                    .iter()
                    .take(8)
                    .map(|e| format!("{ty_name}:{}", self.snap.entity_id(ty, *e).unwrap_or("?")))
                    .collect();
                match list.len() {
                    0 => "nothing".into(),
                    1 => ids.join(""),
                    n if n <= 8 => format!("{{{}}}", ids.join(", ")),
                    n => format!("{{{}, … {} in all}}", ids.join(", "), n),
                }
            }
        }
    }

    fn path_text(&self, p: &PathC) -> String {
        let mut s = match &p.start {
            StartC::Principal => "principal".to_owned(),
            StartC::Resource => "resource".to_owned(),
            StartC::Context(k) => format!("context.{k}"),
        };
        for &(from, rel) in p.steps.iter() {
            let name = self
                .snap
                .profile
                .relation_def(from, rel)
                .map_or("?", |r| r.name.as_str());
            let _ = write!(s, ".{name}");
        }
        if let Some((t, a)) = p.attr {
            let name = self
                .snap
                .profile
                .attr_def(t, a)
                .map_or("?", |d| d.name.as_str());
            let _ = write!(s, ".{name}");
        }
        s
    }

    fn term_text(&self, t: &TermC, other: Option<&TermC>) -> String {
        match t {
            TermC::Path(p) => self.path_text(p),
            TermC::Lit(AttrVal::Enum(i)) => {
                // Show the enum literal by its name, taken from the other side's attribute.
                let name = match other {
                    Some(TermC::Path(PathC {
                        attr: Some((ty, a)),
                        ..
                    })) => self
                        .snap
                        .profile
                        .types
                        .get(*ty)
                        .and_then(|x| x.attributes.get(*a))
                        .and_then(|d| d.values.as_ref())
                        .and_then(|v| v.get(*i as usize)),
                    _ => None,
                };
                name.map_or_else(|| format!("#{i}"), |n| format!("\"{n}\""))
            }
            TermC::Lit(AttrVal::Str(s)) => format!("\"{s}\""),
            TermC::Lit(AttrVal::Int(i)) => i.to_string(),
            TermC::Lit(AttrVal::Bool(b)) => b.to_string(),
            TermC::Setting(s) => format!(
                "setting(\"{}\")",
                self.snap
                    .profile
                    .settings
                    .get(*s)
                    .map_or("?", |d| d.id.as_str())
            ),
            TermC::Value(q) => format!(
                "value(\"{}\")",
                self.snap
                    .profile
                    .privileges
                    .get(*q)
                    .map_or("?", |x| x.name.as_str())
            ),
        }
    }

    fn term_type(&self, t: &TermC) -> usize {
        match t {
            TermC::Path(p) if p.start == StartC::Principal && p.steps.is_empty() => USER,
            TermC::Path(p) => p.end_type,
            _ => 0,
        }
    }

    fn has_text(&self, privilege: usize, need: Need) -> String {
        let p = &self.snap.profile;
        let name = p.privileges.get(privilege).map_or("?", |x| x.name.as_str());
        match (need, p.privileges.get(privilege).map(|x| &x.kind)) {
            (Need::Level(l), Some(PrivKind::Levels(levels))) => format!(
                "has(\"{name}\", \"{}\")",
                levels.get(l).map_or("?", String::as_str)
            ),
            (Need::Choice(c), Some(PrivKind::Choice { choices, .. })) => format!(
                "has(\"{name}\", \"{}\")",
                choices.get(c).map_or("?", String::as_str)
            ),
            _ => format!("has(\"{name}\")"),
        }
    }

    fn scope_text(&self, s: &ScopeC) -> String {
        let list = |ty: usize, ids: &[u32]| {
            ids.iter()
                .map(|e| format!("`{}`", self.snap.entity_id(ty, *e).unwrap_or("?")))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match s {
            ScopeC::Tenant => "the whole tenant".into(),
            ScopeC::Orgs(ids) => format!("org unit {}", list(crate::profile::ORG_UNIT, ids)),
            ScopeC::Queues(ids) => format!("queue {}", list(crate::profile::QUEUE, ids)),
        }
    }

    /// Which of the principal's assignments grant `bit`, and why the others do not.
    fn has_detail(&self, bit: u32, privilege: usize, need: Need, held: bool) -> String {
        let p = &self.snap.profile;
        let user = self.snap.entity_id(USER, self.user).unwrap_or("?");
        let Some(u) = self.snap.users.get(self.user as usize) else {
            return String::new();
        };
        let role_name = |g: &tables::GrantC| {
            self.snap
                .roles
                .get(g.role as usize)
                .map_or("?", |r| r.def.name.as_str())
                .to_owned()
        };
        if held {
            let g = u.all.iter().find(|g| {
                g.expires > self.now && self.snap.set_has(g.set, bit) && self.covers(&g.scope)
            });
            return match g {
                Some(g) => format!(
                    "held through role `{}` over {}",
                    role_name(g),
                    self.scope_text(&g.scope)
                ),
                None => "held".into(),
            };
        }
        let mut notes = Vec::new();
        for g in u.all {
            if !self.snap.set_has(g.set, bit) {
                continue;
            }
            if g.expires <= self.now {
                notes.push(format!(
                    "role `{}` grants it but its assignment expired (at {})",
                    role_name(g),
                    g.expires
                ));
            } else if !self.covers(&g.scope) {
                notes.push(format!(
                    "role `{}` grants it only over {}",
                    role_name(g),
                    self.scope_text(&g.scope)
                ));
            }
        }
        // A lower level held?
        if let (Need::Level(l), Some(PrivKind::Levels(levels))) =
            (need, p.privileges.get(privilege).map(|x| &x.kind))
        {
            let best = (0..l).rev().find(|k| {
                self.snap
                    .layout
                    .bit(privilege, Need::Level(*k))
                    .is_some_and(|b| self.has(b))
            });
            if let Some(k) = best {
                notes.push(format!(
                    "`{user}` holds only `{}: {}` here",
                    p.privileges.get(privilege).map_or("?", |x| x.name.as_str()),
                    levels.get(k).map_or("?", String::as_str)
                ));
            }
        }
        if notes.is_empty() {
            let roles: Vec<String> = u
                .all
                .iter()
                .filter(|g| g.expires > self.now)
                .map(|g| format!("`{}`", role_name(g)))
                .collect();
            if roles.is_empty() {
                format!("`{user}` has no role here")
            } else {
                format!("not granted by {} of `{user}`", roles.join(", "))
            }
        } else {
            notes.join("; ")
        }
    }

    pub(crate) fn explain(&self, node: &Node) -> ExplainNode {
        let leaf = |expr: String, r: Result<bool, EvalError>, detail: String| ExplainNode {
            expr,
            outcome: match &r {
                Ok(true) => Outcome::True,
                Ok(false) => Outcome::False,
                Err(_) => Outcome::Error,
            },
            detail: match r {
                Err(e) => e.to_string(),
                Ok(_) => detail,
            },
            children: Vec::new(),
        };
        match node {
            Node::Const(b) => leaf(b.to_string(), Ok(*b), String::new()),
            Node::Has {
                bit,
                privilege,
                need,
            } => {
                let held = self.has(*bit);
                leaf(
                    self.has_text(*privilege, *need),
                    Ok(held),
                    self.has_detail(*bit, *privilege, *need, held),
                )
            }
            Node::And(items) | Node::Or(items) => {
                let is_and = matches!(node, Node::And(_));
                let mut children = Vec::new();
                let mut result: Result<bool, EvalError> = Ok(is_and);
                let mut stopped = false;
                for x in items.iter() {
                    if stopped {
                        let mut c = self.explain_skipped(x);
                        c.outcome = Outcome::Skipped;
                        children.push(c);
                        continue;
                    }
                    let c = self.explain(x);
                    match c.outcome {
                        Outcome::Error => {
                            result = self.eval(x).map(|_| false);
                            stopped = true;
                        }
                        Outcome::True if !is_and => {
                            result = Ok(true);
                            stopped = true;
                        }
                        Outcome::False if is_and => {
                            result = Ok(false);
                            stopped = true;
                        }
                        _ => {}
                    }
                    children.push(c);
                }
                let texts: Vec<String> = children.iter().map(|c| wrap(&c.expr)).collect();
                ExplainNode {
                    expr: texts.join(if is_and { " and " } else { " or " }),
                    outcome: match result {
                        Ok(true) => Outcome::True,
                        Ok(false) => Outcome::False,
                        Err(_) => Outcome::Error,
                    },
                    detail: if is_and {
                        "all of".into()
                    } else {
                        "any of".into()
                    },
                    children,
                }
            }
            Node::Not(x) => {
                let c = self.explain(x);
                let outcome = match c.outcome {
                    Outcome::True => Outcome::False,
                    Outcome::False => Outcome::True,
                    o => o,
                };
                ExplainNode {
                    expr: format!("not {}", wrap(&c.expr)),
                    outcome,
                    detail: String::new(),
                    children: vec![c],
                }
            }
            Node::Setting(s) => {
                let name = self
                    .snap
                    .profile
                    .settings
                    .get(*s)
                    .map_or("?", |d| d.name.as_str());
                let id = self
                    .snap
                    .profile
                    .settings
                    .get(*s)
                    .map_or("?", |d| d.id.as_str());
                let r = self.eval(node);
                let detail = match r {
                    Ok(true) => format!("the tenant setting “{name}” is on"),
                    _ => format!("the tenant setting “{name}” is off"),
                };
                leaf(format!("setting(\"{id}\")"), r, detail)
            }
            Node::Compare { op, lhs, rhs } => {
                let text = format!(
                    "{} {} {}",
                    self.term_text(lhs, Some(rhs)),
                    op.symbol(),
                    self.term_text(rhs, Some(lhs))
                );
                let detail = match (self.term(lhs), self.term(rhs)) {
                    (Ok(l), Ok(r)) => {
                        let (ls, rs) = (
                            self.show(&l, self.term_type(lhs)),
                            self.show(&r, self.term_type(rhs)),
                        );
                        format!(
                            "{} is {ls}; {} is {rs}",
                            self.term_text(lhs, Some(rhs)),
                            self.term_text(rhs, Some(lhs))
                        )
                    }
                    _ => String::new(),
                };
                leaf(text, self.eval(node), detail)
            }
            Node::In { elem, set } => {
                let text = format!("{} in {}", self.term_text(elem, None), self.path_text(set));
                let detail = match (self.term(elem), self.path(set)) {
                    (Ok(e), Ok(s)) => format!(
                        "{} is {}; {} is {}",
                        self.term_text(elem, None),
                        self.show(&e, self.term_type(elem)),
                        self.path_text(set),
                        self.show(&s, set.end_type)
                    ),
                    _ => String::new(),
                };
                leaf(text, self.eval(node), detail)
            }
            Node::Shares(a, b) => {
                let text = format!("shares({}, {})", self.path_text(a), self.path_text(b));
                let detail = match (self.path(a), self.path(b)) {
                    (Ok(x), Ok(y)) => format!(
                        "{} is {}; {} is {}",
                        self.path_text(a),
                        self.show(&x, a.end_type),
                        self.path_text(b),
                        self.show(&y, b.end_type)
                    ),
                    _ => String::new(),
                };
                leaf(text, self.eval(node), detail)
            }
        }
    }

    /// A node's text without evaluating it.
    fn explain_skipped(&self, node: &Node) -> ExplainNode {
        let text = match node {
            Node::Const(b) => b.to_string(),
            Node::Has {
                privilege, need, ..
            } => self.has_text(*privilege, *need),
            Node::And(items) | Node::Or(items) => {
                let sep = if matches!(node, Node::And(_)) {
                    " and "
                } else {
                    " or "
                };
                items
                    .iter()
                    .map(|x| wrap(&self.explain_skipped(x).expr))
                    .collect::<Vec<_>>()
                    .join(sep)
            }
            Node::Not(x) => format!("not {}", wrap(&self.explain_skipped(x).expr)),
            Node::Setting(s) => format!(
                "setting(\"{}\")",
                self.snap
                    .profile
                    .settings
                    .get(*s)
                    .map_or("?", |d| d.id.as_str())
            ),
            Node::Compare { op, lhs, rhs } => format!(
                "{} {} {}",
                self.term_text(lhs, Some(rhs)),
                op.symbol(),
                self.term_text(rhs, Some(lhs))
            ),
            Node::In { elem, set } => {
                format!("{} in {}", self.term_text(elem, None), self.path_text(set))
            }
            Node::Shares(a, b) => format!("shares({}, {})", self.path_text(a), self.path_text(b)),
        };
        ExplainNode {
            expr: text,
            outcome: Outcome::Skipped,
            detail: "not evaluated".into(),
            children: Vec::new(),
        }
    }
}

fn wrap(s: &str) -> String {
    if s.contains(" and ") || s.contains(" or ") {
        format!("({s})")
    } else {
        s.to_owned()
    }
}
