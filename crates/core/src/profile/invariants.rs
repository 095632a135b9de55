//! Invariants declared by a profile, checked on every transition from one tenant
//! state to the next.

use std::collections::HashMap;

use super::model::{Invariant, Profile, Value};
use crate::state::TenantState;

/// Every way `new` breaks a profile invariant relative to `old`, in words.
pub fn violations(p: &Profile, old: &TenantState, new: &TenantState) -> Vec<String> {
    let mut out = Vec::new();
    for inv in &p.invariants {
        match inv {
            Invariant::Monotonic { ty, attr, reason } => {
                let (Some(t), Some(def)) = (p.types.get(*ty), p.attr_def(*ty, *attr)) else {
                    continue;
                };
                let Some(values) = &def.values else { continue };
                let rank = |e: &crate::state::Entity| -> Option<usize> {
                    let v = e
                        .attributes
                        .iter()
                        .find(|(n, _)| *n == def.name)
                        .map(|(_, v)| v)
                        .or(def.default.as_ref());
                    match v {
                        Some(Value::Str(s)) => values.iter().position(|x| x == s),
                        _ => None,
                    }
                };
                let before: HashMap<&str, usize> = old
                    .entities
                    .iter()
                    .filter(|e| e.ty == t.id)
                    .filter_map(|e| Some((e.id.as_str(), rank(e)?)))
                    .collect();
                for e in new.entities.iter().filter(|e| e.ty == t.id) {
                    let (Some(&was), Some(now)) = (before.get(e.id.as_str()), rank(e)) else {
                        continue;
                    };
                    if now < was {
                        out.push(format!(
                            "{} `{}`: `{}` may only move up ({}), not from `{}` to `{}`{}",
                            t.id,
                            e.id,
                            def.name,
                            values.join(" → "),
                            values.get(was).map_or("?", String::as_str),
                            values.get(now).map_or("?", String::as_str),
                            reason
                                .as_ref()
                                .map(|r| format!(": {r}"))
                                .unwrap_or_default()
                        ));
                    }
                }
            }
        }
    }
    out
}
