//! Users' grants: each assignment becomes a grant (role, the role's interned set,
//! compiled scope, expiry) of its user; the union of each user's tenant-wide,
//! non-expiring grants, with every restriction they carry, is interned as the user's
//! base set.

use rustc_hash::FxHashMap;

use super::{Builder, Interner};
use crate::profile::{ORG_UNIT, QUEUE, USER};
use crate::snapshot::tables::{GrantC, RoleC, base_union};
use crate::snapshot::{EntityTable, ScopeC, Users};
use crate::state::{Assignment, Scope, StatePath, TenantState};

/// Every user's grants and base set.
pub(super) fn users(
    b: &mut Builder,
    tables: &[EntityTable],
    roles: &[RoleC],
    role_index: &FxHashMap<String, u32>,
    interner: &mut Interner,
    restrictions: &[u64],
    state: &TenantState,
) -> Users {
    let user_count = tables.get(USER).map_or(0, |t| t.ids.len());
    let mut lists: Vec<Vec<GrantC>> = vec![Vec::new(); user_count];
    for (i, a) in state.assignments.iter().enumerate() {
        let Some((u, grant)) = assignment_grant(b, tables, roles, role_index, i, a) else {
            continue;
        };
        if let Some(list) = lists.get_mut(u as usize) {
            list.push(grant);
        }
    }
    let base: Vec<u32> = lists
        .iter()
        .map(|l| {
            let set = base_union(interner.words, &interner.sets, restrictions, l);
            interner.intern(&set)
        })
        .collect();
    Users::new(base, lists)
}

/// Assignment `i` as a grant of its user (dense id), when user, role and scope exist.
fn assignment_grant(
    b: &mut Builder,
    tables: &[EntityTable],
    roles: &[RoleC],
    role_index: &FxHashMap<String, u32>,
    i: usize,
    a: &Assignment,
) -> Option<(u32, GrantC)> {
    let Some(u) = tables
        .get(USER)
        .and_then(|t| t.index.get(a.principal.as_str()).copied())
    else {
        b.err(
            StatePath::Assignment(i, "principal"),
            format!("assignment {}: unknown user `{}`", i + 1, a.principal),
        );
        return None;
    };
    let Some(&r) = role_index.get(&a.role) else {
        b.err(
            StatePath::Assignment(i, "role"),
            format!("assignment {}: unknown role `{}`", i + 1, a.role),
        );
        return None;
    };
    let scope = compile_scope(b, tables, i, &a.scope)?;
    let set = roles.get(r as usize).map_or(0, |x| x.set);
    Some((
        u,
        GrantC {
            role: r,
            set,
            scope,
            expires: a.expires_at.unwrap_or(i64::MAX),
        },
    ))
}

/// The scope of assignment `i` with its org units or queues as sorted dense ids.
fn compile_scope(b: &mut Builder, tables: &[EntityTable], i: usize, s: &Scope) -> Option<ScopeC> {
    let mut lookup = |ty: usize, what: &str, ids: &[String]| -> Option<Box<[u32]>> {
        if ids.is_empty() {
            b.err(
                StatePath::Assignment(i, "scope"),
                format!("assignment {}: scope lists no {what}s", i + 1),
            );
            return None;
        }
        let mut out = Vec::new();
        for id in ids {
            match tables
                .get(ty)
                .and_then(|t| t.index.get(id.as_str()).copied())
            {
                Some(x) => out.push(x),
                None => {
                    b.err(
                        StatePath::Assignment(i, "scope"),
                        format!("assignment {}: unknown {what} `{id}` in scope", i + 1),
                    );
                    return None;
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        Some(out.into())
    };
    match s {
        Scope::Tenant => Some(ScopeC::Tenant),
        Scope::OrgUnits(ids) => lookup(ORG_UNIT, "org unit", ids).map(ScopeC::Orgs),
        Scope::Queues(ids) => lookup(QUEUE, "queue", ids).map(ScopeC::Queues),
    }
}
