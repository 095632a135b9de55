//! What a user holds, as sets and as named privileges: effective permissions for a
//! UI, and the comparisons behind anti-escalation (nobody grants what they do not
//! hold).

use super::*;
use crate::profile::{PrivKind, TENANT};

/// A privilege held, with the levels or choices held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPrivilege {
    /// Privilege id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Highest level held, for levelled privileges.
    pub level: Option<String>,
    /// Choices held, for choice privileges.
    pub choices: Vec<String>,
}

impl Snapshot {
    /// The bits user `user` holds for resource `rtype:rid` at `now`: every unexpired
    /// assignment whose scope covers the resource (the tenant resource is covered only
    /// by tenant-wide assignments), and every restriction any assignment carries.
    pub fn held_set(&self, user: u32, rtype: TypeId, rid: u32, now: i64) -> Vec<u64> {
        let words = self.layout.words;
        let mut out = vec![0u64; words];
        let Some(u) = self.users.get(user as usize) else {
            return out;
        };
        let ctx = crate::decision::Context::new();
        let ev = Eval {
            snap: self,
            user,
            rtype,
            rid,
            now,
            context: &ctx,
            anywhere: false,
        };
        for g in u.all {
            let whole = g.expires > now && ev.covers(&g.scope);
            let s = g.set as usize * words;
            for ((w, x), r) in out
                .iter_mut()
                .zip(self.sets.get(s..s + words).unwrap_or(&[]))
                .zip(&self.layout.restrictions)
            {
                // A restriction binds wherever any assignment carries it.
                *w |= if whole { *x } else { *x & *r };
            }
        }
        out
    }

    /// Tenant-wide holdings of a user.
    pub fn held_tenant_wide(&self, user: u32, now: i64) -> Vec<u64> {
        self.held_set(user, TENANT, 0, now)
    }

    /// The closed privilege set of a role (template or custom).
    pub fn role_set(&self, role: &str) -> Option<Vec<u64>> {
        let r = self.roles.get(*self.role_index.get(role)? as usize)?;
        let s = r.set as usize * self.layout.words;
        self.sets.get(s..s + self.layout.words).map(<[u64]>::to_vec)
    }

    /// The first privilege, level or choice in `need` that `have` lacks, as a label
    /// such as `Users: Modify and Assign Roles`.
    pub fn first_missing(&self, need: &[u64], have: &[u64]) -> Option<String> {
        let bits = self.layout.bits as u32;
        let missing = (0..bits).find(|&b| bits::test_bit(need, b) && !bits::test_bit(have, b))?;
        Some(self.bit_label(missing))
    }

    pub(crate) fn bit_label(&self, bit: u32) -> String {
        let p = &self.profile;
        let q = self
            .layout
            .start
            .iter()
            .rposition(|&s| s <= bit)
            .unwrap_or(0);
        let Some(x) = p.privileges.get(q) else {
            return format!("bit {bit}");
        };
        let off = (bit - self.layout.start.get(q).copied().unwrap_or(0)) as usize;
        match &x.kind {
            PrivKind::Levels(levels) => format!(
                "{}: {}",
                x.name,
                levels.get(off).map_or("?", String::as_str)
            ),
            PrivKind::Choice { choices, .. } if off > 0 => format!(
                "{}: {}",
                x.name,
                choices.get(off - 1).map_or("?", String::as_str)
            ),
            _ => x.name.clone(),
        }
    }

    /// The privileges a set holds, in catalog order.
    pub fn privileges_in(&self, set: &[u64]) -> Vec<HeldPrivilege> {
        let p = &self.profile;
        let mut out = Vec::new();
        for (q, x) in p.privileges.iter().enumerate() {
            let r = self.layout.range(q);
            if !bits::test_bit(set, r.start) {
                continue;
            }
            let (level, choices) = match &x.kind {
                PrivKind::Levels(levels) => {
                    let top = r
                        .clone()
                        .rev()
                        .find(|&b| bits::test_bit(set, b))
                        .map(|b| (b - r.start) as usize);
                    (top.and_then(|k| levels.get(k).cloned()), Vec::new())
                }
                PrivKind::Choice { choices, .. } => (
                    None,
                    choices
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| bits::test_bit(set, r.start + 1 + *i as u32))
                        .map(|(_, c)| c.clone())
                        .collect(),
                ),
                _ => (None, Vec::new()),
            };
            out.push(HeldPrivilege {
                id: x.id.clone(),
                name: x.name.clone(),
                level,
                choices,
            });
        }
        out
    }
}

impl Snapshot {
    /// What decides a user's privileges: each unexpired grant as (scope, privilege
    /// set), sorted. Two snapshots agree on every decision about a user's privileges
    /// when their fingerprints (and the relations involved) are equal.
    pub fn grant_fingerprint(&self, user: &str, now: i64) -> Vec<(String, Vec<u64>)> {
        let Some(u) = self
            .entity(crate::profile::USER, user)
            .and_then(|u| self.users.get(u as usize))
        else {
            return Vec::new();
        };
        let words = self.layout.words;
        let mut out: Vec<(String, Vec<u64>)> = u
            .all
            .iter()
            .filter(|g| g.expires > now)
            .map(|g| {
                let scope = match &g.scope {
                    ScopeC::Tenant => "tenant".to_owned(),
                    ScopeC::Orgs(ids) => format!(
                        "orgs:{}",
                        ids.iter()
                            .filter_map(|e| self.entity_id(crate::profile::ORG_UNIT, *e))
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                    ScopeC::Queues(ids) => format!(
                        "queues:{}",
                        ids.iter()
                            .filter_map(|e| self.entity_id(crate::profile::QUEUE, *e))
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                };
                let s = g.set as usize * words;
                (
                    scope,
                    self.sets
                        .get(s..s + words)
                        .map(<[u64]>::to_vec)
                        .unwrap_or_default(),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// Whether `user` may perform `action` on at least one resource of its type
    /// (the tenant itself for tenant actions).
    pub fn allowed_anywhere(&self, user: &str, action: &str, now: i64) -> bool {
        let p = &self.profile;
        let (Some(a), Some(u)) = (p.action(action), self.entity(crate::profile::USER, user)) else {
            return false;
        };
        let ty = p.actions.get(a).map_or(0, |x| x.resource);
        let ctx = crate::decision::Context::new();
        (0..self.entity_count(ty) as u32).any(|e| {
            self.check_resolved(
                &ResolvedRequest {
                    principal: u,
                    action: a,
                    resource_type: ty,
                    resource: e,
                },
                &ctx,
                now,
            )
            .allowed
        })
    }
}
