//! The impact preview: what a role edit, an assignment, its removal or a settings
//! change would do — who gains and who loses which actions, in which org units —
//! computed on the candidate snapshot before anything is written.

use std::collections::BTreeMap;

use rolecall_core::{Change, MemState, Snapshot};

use crate::actor::Actor;
use crate::authz::{Object, authorize};
use crate::commands::assignment::AssignmentDraft;
use crate::commands::role::{RoleDraft, preview_change};
use crate::commands::setting::setting_changes;
use crate::error::{EngineError, EngineResult};
use crate::tenant::Tenant;
use crate::view::View;

/// A change to preview.
#[derive(Debug, Clone)]
pub enum Proposal {
    /// A custom role as it would be after the edit (or a new one).
    Role(RoleDraft),
    /// An assignment that would be made.
    Assignment(AssignmentDraft),
    /// An assignment that would be removed.
    RemoveAssignment(String),
    /// Settings that would change (setting id → JSON value).
    Settings(BTreeMap<String, serde_json::Value>),
}

/// Users who gain or lose one action.
#[derive(Debug, Clone)]
pub struct ActionImpact {
    /// Action id.
    pub action: String,
    /// The vendor's wording.
    pub name: String,
    /// Users, sorted.
    pub users: Vec<String>,
    /// Their org units, sorted.
    pub org_units: Vec<String>,
}

/// What a change would do.
#[derive(Debug, Clone)]
pub struct Impact {
    /// One sentence per action gained or lost.
    pub summary: Vec<String>,
    /// Actions newly allowed (somewhere) for some users.
    pub gains: Vec<ActionImpact>,
    /// Actions no longer allowed (anywhere) for some users.
    pub losses: Vec<ActionImpact>,
    /// Users whose grants the change touches.
    pub users_affected: usize,
    /// The revision the preview is based on.
    pub revision: u64,
}

/// The changes a proposal stands for, and whether every user may be affected.
fn proposal_changes(view: &View, p: &Proposal) -> EngineResult<(Vec<Change>, bool)> {
    Ok(match p {
        Proposal::Role(r) => (vec![preview_change(view, r)?], false),
        Proposal::Assignment(a) => (vec![Change::PutAssignment(a.resolve(view)?)], false),
        Proposal::RemoveAssignment(id) => {
            if view.assignment(id).is_none() {
                return Err(EngineError::NotFound(format!("unknown assignment `{id}`")));
            }
            (vec![Change::DeleteAssignment { id: id.clone() }], false)
        }
        Proposal::Settings(s) => (setting_changes(view, s)?, true),
    })
}

fn sentence(x: &ActionImpact, verb: &str) -> String {
    let orgs = match x.org_units.len() {
        0 => String::new(),
        1 => format!(" in {}", x.org_units.join("")),
        n => format!(" in {n} org units"),
    };
    format!(
        "this change {verb} {} user{}{orgs}: {} ({})",
        x.users.len(),
        if x.users.len() == 1 { "" } else { "s" },
        x.name,
        x.action
    )
}

impl Tenant {
    /// Previews `proposal`: who gains and who loses which actions. Nothing is written.
    pub fn impact(&self, actor: &Actor, proposal: &Proposal) -> EngineResult<Impact> {
        let view = self.current();
        let now = self.now();
        authorize(&view.snapshot, actor, "impact.read", Object::Tenant, now)?;
        let (changes, all_users) = proposal_changes(&view, proposal)?;
        let mut mem: MemState = view.mem.clone();
        for c in &changes {
            mem.apply(&view.profile, c);
        }
        let after = Snapshot::build(view.profile.clone(), &mem.state).map_err(|e| {
            EngineError::Invalid(e.first().map_or_else(String::new, |x| x.message.clone()))
        })?;
        let before = &view.snapshot;
        let affected: Vec<&str> = view
            .mem
            .state
            .entities
            .iter()
            .filter(|e| e.ty == "user")
            .map(|e| e.id.as_str())
            .filter(|u| {
                all_users || before.grant_fingerprint(u, now) != after.grant_fingerprint(u, now)
            })
            .collect();
        let org_of = |u: &str| -> Option<String> {
            view.mem
                .entity("user", u)
                .and_then(|e| e.relations.iter().find(|(r, _)| r == "org_unit"))
                .and_then(|(_, t)| t.first().cloned())
        };
        let (mut gains, mut losses) = (Vec::new(), Vec::new());
        for a in &view.profile.actions {
            let (mut won, mut lost) = (Vec::new(), Vec::new());
            for u in &affected {
                let was = before.allowed_anywhere(u, &a.id, now);
                let is = after.allowed_anywhere(u, &a.id, now);
                if is && !was {
                    won.push((*u).to_owned());
                } else if was && !is {
                    lost.push((*u).to_owned());
                }
            }
            for (list, out) in [(won, &mut gains), (lost, &mut losses)] {
                if list.is_empty() {
                    continue;
                }
                let mut orgs: Vec<String> = list.iter().filter_map(|u| org_of(u)).collect();
                orgs.sort();
                orgs.dedup();
                out.push(ActionImpact {
                    action: a.id.clone(),
                    name: a.name.clone(),
                    users: list,
                    org_units: orgs,
                });
            }
        }
        let mut summary: Vec<String> = gains.iter().map(|x| sentence(x, "lets")).collect();
        summary.extend(losses.iter().map(|x| sentence(x, "stops")));
        if summary.is_empty() {
            summary.push("this change gives and takes no action from anyone".into());
        }
        Ok(Impact {
            summary,
            gains,
            losses,
            users_affected: affected.len(),
            revision: view.revision,
        })
    }
}
