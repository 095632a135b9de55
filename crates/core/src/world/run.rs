//! Running a world's assertions: each is a check (explained) or an appointment
//! check against the world's snapshot, or against one rebuilt with the assertion's
//! setting overrides, and passes when the decision is the one expected.

use super::{AssertKind, Assertion, World};
use crate::decision::Decision;
use crate::profile::Value;
use crate::snapshot::Snapshot;
use crate::state::Scope;

/// How an assertion came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The decision matched the expectation.
    Pass,
    /// It did not.
    Fail,
}

/// The result of one assertion.
#[derive(Debug, Clone)]
pub struct AssertResult<'w> {
    /// The assertion.
    pub assertion: &'w Assertion,
    /// Allowed or not.
    pub allowed: bool,
    /// Pass or fail.
    pub outcome: Outcome,
    /// An evaluation error, if any.
    pub error: Option<String>,
    /// The explanation (for check assertions) or the reason (for appointments).
    pub explanation: Option<String>,
}

impl AssertResult<'_> {
    /// One line: `PASS  allow  alice  conversation.edit  conversation:c1  — why`.
    pub fn line(&self) -> String {
        let a = self.assertion;
        let verdict = if self.outcome == Outcome::Pass {
            "PASS"
        } else {
            "FAIL"
        };
        let want = if a.expect { "allow" } else { "deny" };
        let mut line = format!("  {verdict}  {want:5}  {}  {}", a.principal, asked(&a.kind));
        if !a.settings.is_empty() {
            let s: Vec<String> = a.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
            line.push_str(&format!("  [with {}]", s.join(", ")));
        }
        if self.outcome == Outcome::Fail {
            line.push_str(&format!(
                "  (got {}; {})",
                if self.allowed { "allow" } else { "deny" },
                a.location
            ));
        }
        if let Some(e) = &self.error {
            line.push_str(&format!("  [error: {e}]"));
        }
        if let Some(w) = &a.why {
            line.push_str(&format!("  — {w}"));
        }
        line
    }
}

/// What an assertion asks, as its result line shows it.
fn asked(kind: &AssertKind) -> String {
    match kind {
        AssertKind::Check {
            action,
            resource_type,
            resource_id,
            ..
        } => format!("{action} {resource_type}:{resource_id}"),
        AssertKind::Appoint {
            role,
            target,
            scope,
        } => {
            let sc = match scope {
                Scope::Tenant => "tenant".to_owned(),
                Scope::OrgUnits(v) => format!("org_unit {}", v.join(",")),
                Scope::Queues(v) => format!("queues {}", v.join(",")),
            };
            format!("appoint {role} → {target} over {sc}")
        }
    }
}

/// The snapshot an assertion runs against: the world's, or one rebuilt with the
/// assertion's setting overrides.
fn variant(
    world: &World,
    snap: &Snapshot,
    settings: &[(String, Value)],
) -> Result<Option<Snapshot>, String> {
    if settings.is_empty() {
        return Ok(None);
    }
    let mut state = world.state.clone();
    for (k, v) in settings {
        state.settings.retain(|(x, _)| x != k);
        state.settings.push((k.clone(), v.clone()));
    }
    Snapshot::build(snap.profile().clone(), &state)
        .map(Some)
        .map_err(|e| {
            e.iter()
                .map(|x| x.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        })
}

/// Evaluates every assertion of a world against its snapshot.
pub fn run_assertions<'w>(world: &'w World, snap: &Snapshot) -> Vec<AssertResult<'w>> {
    world
        .assertions
        .iter()
        .map(|a| run_assertion(world, snap, a))
        .collect()
}

/// One assertion's result.
fn run_assertion<'w>(world: &World, snap: &Snapshot, a: &'w Assertion) -> AssertResult<'w> {
    let rebuilt = match variant(world, snap, &a.settings) {
        Ok(v) => v,
        Err(e) => {
            return AssertResult {
                assertion: a,
                allowed: false,
                outcome: Outcome::Fail,
                error: Some(format!("settings: {e}")),
                explanation: None,
            };
        }
    };
    let snap = rebuilt.as_ref().unwrap_or(snap);
    let (decision, explanation) = decide(snap, a, a.at.unwrap_or(world.now));
    AssertResult {
        assertion: a,
        allowed: decision.allowed,
        outcome: if decision.allowed == a.expect {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        error: decision.error.map(|e| e.to_string()),
        explanation: Some(explanation),
    }
}

/// The decision on what the assertion asks at `now`, with its explanation (for a
/// check) or reason (for an appointment).
fn decide(snap: &Snapshot, a: &Assertion, now: i64) -> (Decision, String) {
    match &a.kind {
        AssertKind::Check {
            action,
            resource_type,
            resource_id,
            context,
        } => {
            let x = snap.explain(&crate::Request {
                principal: &a.principal,
                action,
                resource_type,
                resource_id,
                context,
                now,
            });
            let text = x.render();
            (x.decision, text)
        }
        AssertKind::Appoint {
            role,
            target,
            scope,
        } => {
            let d = snap.check_appointment(&crate::snapshot::AppointRequest {
                appointer: &a.principal,
                role,
                target,
                scope,
                now,
            });
            (d.decision, d.reason)
        }
    }
}
