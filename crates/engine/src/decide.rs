//! Decisions for callers: a check (optionally explained) or a batch of checks, at a
//! revision, for oneself or — through the profile's `check.others` — for another
//! user. Decisions on actions the profile marks sensitive (listen, whisper, barge,
//! recordings, PII erasure) are appended to the audit trail before they are answered:
//! through the group commit of [`crate::audit_sink`], identical repeats within its
//! window counted in one entry.

use std::collections::HashMap;

use rolecall_core::snapshot::Explanation;
use rolecall_core::{Context, Decision, EvalError, Request};
use rolecall_store::AuditDraft;

use crate::actor::Actor;
use crate::authz::may_act_for;
use crate::error::{EngineError, EngineResult};
use crate::tenant::Tenant;
use crate::view::View;

/// One question: may `principal` perform `action` on the resource?
#[derive(Debug, Clone)]
pub struct Question {
    /// The user asking.
    pub principal: String,
    /// Action id.
    pub action: String,
    /// Resource type id.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// Context values.
    pub context: Context,
}

impl Question {
    fn request(&self, now: i64) -> Request<'_> {
        Request {
            principal: &self.principal,
            action: &self.action,
            resource_type: &self.resource_type,
            resource_id: &self.resource_id,
            context: &self.context,
            now,
        }
    }
}

/// An answer.
#[derive(Debug)]
pub struct Answer {
    /// The decision (a denial whenever it carries an error).
    pub decision: Decision,
    /// How it was reached, when asked.
    pub explanation: Option<Explanation>,
    /// Obligation ids that apply to an allowed decision.
    pub obligations: Vec<String>,
}

/// Answers to a batch, at one revision.
#[derive(Debug)]
pub struct Answers {
    /// One per question, in order.
    pub answers: Vec<Answer>,
    /// The revision decided at.
    pub revision: u64,
}

/// Resolution errors are the caller's mistake; evaluation errors are denials.
pub fn is_request_error(e: &EvalError) -> bool {
    matches!(
        e,
        EvalError::UnknownAction(_)
            | EvalError::UnknownPrincipal(_)
            | EvalError::UnknownResource { .. }
            | EvalError::UnknownResourceType(_)
            | EvalError::WrongResourceType { .. }
    )
}

/// The audit entry of a decision on an action the profile marks sensitive.
fn decision_draft(view: &View, q: &Question, d: &Decision) -> Option<AuditDraft> {
    let a = view
        .profile
        .action(&q.action)
        .and_then(|a| view.profile.actions.get(a))?;
    if !a.sensitive {
        return None;
    }
    Some(AuditDraft {
        action: format!("decision.{}", a.id),
        target: format!("{}:{}", q.resource_type, q.resource_id),
        before: None,
        after: serde_json::to_string(&serde_json::json!({
            "principal": q.principal,
            "allowed": d.allowed,
            "error": d.error.as_ref().map(|e| e.to_string()),
            "obligations": view.snapshot.obligation_ids(&q.action, d.obligations),
        }))
        .ok(),
    })
}

fn obligations(view: &View, q: &Question, d: &Decision) -> Vec<String> {
    view.snapshot
        .obligation_ids(&q.action, d.obligations)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

impl Tenant {
    /// Decides one question at `at_least` or later, explained when `explain`. An
    /// unknown action, principal or resource is `Invalid`; an evaluation error is a
    /// denial carrying the error.
    pub async fn decide(
        &self,
        actor: &Actor,
        q: &Question,
        at_least: impl Into<crate::Consistency>,
        explain: bool,
    ) -> EngineResult<(Answer, u64)> {
        let view = self.read(at_least).await?;
        let now = self.now();
        may_act_for(&view.snapshot, actor, &q.principal, now)?;
        let req = q.request(now);
        let (decision, explanation) = if explain {
            let x = view.snapshot.explain(&req);
            (x.decision.clone(), Some(x))
        } else {
            (view.snapshot.check(&req), None)
        };
        if let Some(e) = &decision.error
            && is_request_error(e)
        {
            return Err(EngineError::Invalid(e.to_string()));
        }
        if let Some(draft) = decision_draft(&view, q, &decision) {
            self.shared
                .audit
                .record(&self.id, &actor.name(), vec![draft], now)
                .await?;
        }
        let obligations = obligations(&view, q, &decision);
        Ok((
            Answer {
                decision,
                explanation,
                obligations,
            },
            view.revision,
        ))
    }

    /// Decides up to the batch limit of questions at one revision. Each item's errors
    /// stay in its answer; authorization for another user is decided once per user.
    pub async fn decide_batch(
        &self,
        actor: &Actor,
        questions: &[Question],
        at_least: impl Into<crate::Consistency>,
    ) -> EngineResult<Answers> {
        let limit = self.options().batch_limit;
        if questions.len() > limit {
            return Err(EngineError::BadRequest(format!(
                "{} checks in one batch; the limit is {limit}",
                questions.len()
            )));
        }
        let view = self.read(at_least).await?;
        let now = self.now();
        let mut may: HashMap<&str, ()> = HashMap::new();
        let mut answers = Vec::with_capacity(questions.len());
        let mut drafts = Vec::new();
        for q in questions {
            if !may.contains_key(q.principal.as_str()) {
                may_act_for(&view.snapshot, actor, &q.principal, now)?;
                may.insert(&q.principal, ());
            }
            let decision = view.snapshot.check(&q.request(now));
            if let Some(draft) = decision_draft(&view, q, &decision) {
                drafts.push(draft);
            }
            answers.push(Answer {
                obligations: obligations(&view, q, &decision),
                decision,
                explanation: None,
            });
        }
        if !drafts.is_empty() {
            self.shared
                .audit
                .record(&self.id, &actor.name(), drafts, now)
                .await?;
        }
        Ok(Answers {
            answers,
            revision: view.revision,
        })
    }
}
