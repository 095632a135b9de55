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

/// Refuses a context larger than the options allow: a value longer than
/// `max_context_value_bytes`, or keys and values together over `max_context_bytes`
/// (an integer counts 8 bytes, a bool 1). Checked before anything is read or written.
pub fn check_context(context: &Context, options: &crate::Options) -> EngineResult<()> {
    use rolecall_core::profile::Value;
    use rolecall_core::profile::limits::{bytes_label, thousands};
    let mut total = 0usize;
    for (key, value) in context {
        let size = match value {
            Value::Str(s) => s.len(),
            Value::Int(_) => 8,
            Value::Bool(_) => 1,
        };
        let shown: String = key.chars().take(60).collect();
        if size > options.max_context_value_bytes {
            return Err(EngineError::BadRequest(format!(
                "context value `{shown}` is {} bytes; the limit is {} per value",
                thousands(size),
                bytes_label(options.max_context_value_bytes)
            )));
        }
        total = total.saturating_add(key.len()).saturating_add(size);
        if total > options.max_context_bytes {
            return Err(EngineError::BadRequest(format!(
                "context exceeds the limit of {} for all keys and values together at key `{shown}`",
                bytes_label(options.max_context_bytes)
            )));
        }
    }
    Ok(())
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
        check_context(&q.context, self.options())?;
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
        for (i, q) in questions.iter().enumerate() {
            check_context(&q.context, self.options()).map_err(|e| match e {
                EngineError::BadRequest(m) => EngineError::BadRequest(format!("check {i}: {m}")),
                other => other,
            })?;
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
