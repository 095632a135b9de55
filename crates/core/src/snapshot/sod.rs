//! Separation of duty, compiled: the bits and roles of each rule, and the users who
//! hold every part of one.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use super::Snapshot;
use super::bits::{Layout, test_bit};
use super::build::Builder;
use crate::change::Change;
use crate::mem::MemState;
use crate::profile::{Profile, SodRule, USER, sod::resolve_entry};
use crate::state::StatePath;

/// A compiled rule.
#[derive(Debug, Clone)]
pub(crate) struct SodC {
    pub id: String,
    pub name: String,
    /// (bit, label) of each privilege entry.
    pub needs: Vec<(u32, String)>,
    /// (role index, id) of each role entry.
    pub roles: Vec<(u32, String)>,
}

/// A principal holding every part of a rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SodViolation {
    /// The rule's id.
    pub rule: String,
    /// The rule's name.
    pub name: String,
    /// The user.
    pub user: String,
    /// What they hold together.
    pub holding: Vec<String>,
}

pub(crate) fn compile(
    b: &mut Builder,
    p: &Profile,
    layout: &Layout,
    role_index: &FxHashMap<String, u32>,
    tenant: &[SodRule],
) -> Vec<SodC> {
    let mut out = Vec::new();
    let all = p
        .separation_of_duty
        .iter()
        .map(|r| (None, r))
        .chain(tenant.iter().enumerate().map(|(i, r)| (Some(i), r)));
    for (i, rule) in all {
        let at = || i.map_or(StatePath::Tenant, StatePath::SodRule);
        if let Err(m) = crate::profile::sod::validate_rule(p, rule) {
            b.err(at(), m);
            continue;
        }
        if let Some(dup) = out.iter().find(|x: &&SodC| x.id == rule.id) {
            b.err(
                at(),
                format!("separation-of-duty rule id `{}` is used twice", dup.id),
            );
            continue;
        }
        let mut needs = Vec::new();
        for e in &rule.privileges {
            if let Ok((q, need)) = resolve_entry(p, e)
                && let Some(bit) = layout.bit(q, need)
            {
                needs.push((bit, e.clone()));
            }
        }
        let mut roles = Vec::new();
        for r in &rule.roles {
            match role_index.get(r) {
                Some(&x) => roles.push((x, r.clone())),
                None => b.err(
                    at(),
                    format!("separation-of-duty rule `{}`: unknown role `{r}`", rule.id),
                ),
            }
        }
        out.push(SodC {
            id: rule.id.clone(),
            name: rule.name.clone().unwrap_or_else(|| rule.id.clone()),
            needs,
            roles,
        });
    }
    out
}

impl Snapshot {
    /// Every user who holds all parts of a separation-of-duty rule (anywhere in the
    /// tenant, through unexpired assignments), by rule then user.
    pub fn sod_violations(&self, now: i64) -> Vec<SodViolation> {
        let mut out = Vec::new();
        if self.sod.is_empty() {
            return out;
        }
        for u in 0..self.entity_count(USER) as u32 {
            self.user_violations(u, now, &mut out);
        }
        out.sort_by(|a, b| (&a.rule, &a.user).cmp(&(&b.rule, &b.user)));
        out
    }

    /// The violations of the users named, by rule then user (unknown names are skipped).
    pub fn sod_violations_of<'u>(
        &self,
        users: impl IntoIterator<Item = &'u str>,
        now: i64,
    ) -> Vec<SodViolation> {
        let mut out = Vec::new();
        if self.sod.is_empty() {
            return out;
        }
        for name in users {
            if let Some(u) = self.entity(USER, name) {
                self.user_violations(u, now, &mut out);
            }
        }
        out.sort_by(|a, b| (&a.rule, &a.user).cmp(&(&b.rule, &b.user)));
        out
    }

    /// The violations this snapshot has that `previous` did not, where this snapshot is
    /// `previous` after `changes` (which took the state from `before`). Only the users
    /// whose holdings the changes can alter are examined: principals of assignments
    /// made or removed, holders of roles redefined; every user when a rule changed.
    pub fn new_sod_violations(
        &self,
        previous: &Snapshot,
        before: &MemState,
        changes: &[Change],
        now: i64,
    ) -> Vec<SodViolation> {
        if self.sod.is_empty() {
            return Vec::new();
        }
        let (after, was) = match touched_users(self, previous, before, changes) {
            Touched::All => (self.sod_violations(now), previous.sod_violations(now)),
            Touched::Users(users) => (
                self.sod_violations_of(users.iter().map(String::as_str), now),
                previous.sod_violations_of(users.iter().map(String::as_str), now),
            ),
        };
        let was: BTreeSet<(String, String)> = was.into_iter().map(|v| (v.rule, v.user)).collect();
        after
            .into_iter()
            .filter(|v| !was.contains(&(v.rule.clone(), v.user.clone())))
            .collect()
    }

    /// The rules user `u` breaks, appended to `out`.
    fn user_violations(&self, u: u32, now: i64, out: &mut Vec<SodViolation>) {
        let Some(grants) = self.users.get(u as usize) else {
            return;
        };
        let words = self.layout.words;
        let mut set = vec![0u64; words];
        let mut given: Vec<u32> = Vec::new();
        for g in grants.all.iter().filter(|g| g.expires > now) {
            let s = g.set as usize * words;
            for (w, x) in set
                .iter_mut()
                .zip(self.sets.get(s..s + words).unwrap_or(&[]))
            {
                *w |= *x;
            }
            given.push(g.role);
        }
        let roles = if self.sod.iter().any(|r| !r.roles.is_empty()) {
            self.roles_within(given)
        } else {
            rustc_hash::FxHashSet::default()
        };
        for rule in &self.sod {
            let privs = rule.needs.iter().all(|(bit, _)| test_bit(&set, *bit));
            let has_roles = rule.roles.iter().all(|(r, _)| roles.contains(r));
            if privs && has_roles {
                out.push(SodViolation {
                    rule: rule.id.clone(),
                    name: rule.name.clone(),
                    user: self.entity_id(USER, u).unwrap_or("?").to_owned(),
                    holding: rule
                        .needs
                        .iter()
                        .map(|(_, l)| l.clone())
                        .chain(rule.roles.iter().map(|(_, r)| format!("role {r}")))
                        .collect(),
                });
            }
        }
    }

    /// Users holding role `role` directly or through a role that includes it.
    fn holders_of(&self, role: &str) -> Vec<&str> {
        let Some(&r) = self.role_index.get(role) else {
            return Vec::new();
        };
        let includes_r = self.includers_of(r);
        self.users
            .iter()
            .enumerate()
            .filter(|(_, v)| {
                v.all
                    .iter()
                    .any(|g| includes_r.get(g.role as usize).copied().unwrap_or(false))
            })
            .filter_map(|(u, _)| self.entity_id(USER, u as u32))
            .collect()
    }
}

/// Whose holdings a batch of changes can alter.
enum Touched {
    /// Everyone's (a rule itself changed).
    All,
    /// These users'.
    Users(BTreeSet<String>),
}

fn touched_users(
    after: &Snapshot,
    previous: &Snapshot,
    before: &MemState,
    changes: &[Change],
) -> Touched {
    let mut users = BTreeSet::new();
    for c in changes {
        match c {
            Change::PutAssignment(a) => {
                users.insert(a.principal.clone());
            }
            Change::DeleteAssignment { id } => {
                if let Some(a) = before.state.assignments.iter().find(|a| a.id == *id) {
                    users.insert(a.principal.clone());
                }
            }
            Change::PutRole { role, .. } => {
                for s in [after, previous] {
                    users.extend(s.holders_of(&role.id).into_iter().map(str::to_owned));
                }
            }
            Change::PutSodRule(_) | Change::DeleteSodRule { .. } => return Touched::All,
            // Entities, relations, settings and role removals give nobody anything.
            Change::UpsertEntity { .. }
            | Change::DeleteEntity { .. }
            | Change::PutRelation(_)
            | Change::DeleteRelation(_)
            | Change::DeleteRole { .. }
            | Change::SetSetting { .. } => {}
        }
    }
    Touched::Users(users)
}
