//! Refusals in the administrator's words: what the operation is, which privilege (and
//! level) is missing, and where — "You need `Users: Modify` for office `West` to edit
//! users" — followed by the profile's own terms for whoever integrates rolecall.

use rolecall_core::profile::{ORG_UNIT, TENANT, TypeId, management_op};
use rolecall_core::snapshot::{ExplainNode, Outcome};
use rolecall_core::{Context, Request, Snapshot};

use super::{Denial, Object};
use crate::error::EngineError;

/// An operation in words ("edit users"), for "you may not …".
pub(super) fn doing(op: &str) -> String {
    management_op(op).map_or_else(|| op.to_owned(), |o| o.description.to_owned())
}

/// `ty:e` in words: "office `West`", "user `bob`", "the whole tenant".
fn place(snap: &Snapshot, ty: TypeId, e: u32) -> String {
    if ty == TENANT {
        return "the whole tenant".into();
    }
    let p = snap.profile();
    let id = snap.entity_id(ty, e).unwrap_or("?");
    let kind = if ty == ORG_UNIT {
        snap.org_kind_name(e)
            .map(str::to_lowercase)
            .unwrap_or_else(|| "org unit".into())
    } else {
        p.types
            .get(ty)
            .map_or_else(|| "object".into(), |t| t.name.to_lowercase())
    };
    format!("{kind} `{id}`")
}

/// The privileges a denied requirement lacks, as the admin hub names them:
/// `has("Users", "Modify")` → "Users: Modify".
fn missing(node: &ExplainNode, out: &mut Vec<String>) {
    if node.outcome != Outcome::False {
        return;
    }
    if let Some(args) = node
        .expr
        .strip_prefix("has(")
        .and_then(|r| r.strip_suffix(')'))
        .filter(|a| is_has_args(a))
    {
        let parts: Vec<&str> = args.split("\", \"").map(|x| x.trim_matches('"')).collect();
        let label = parts.join(": ");
        if !out.contains(&label) {
            out.push(label);
        }
        return;
    }
    for c in &node.children {
        missing(c, out);
    }
}

/// Whether `args` are the arguments of ONE `has(…)` call (`"Users", "Modify"`), not the
/// inside of `has(…) and has(…)`, which also starts with `has(` and ends with `)`.
fn is_has_args(args: &str) -> bool {
    args.starts_with('"')
        && args.ends_with('"')
        && args
            .split("\", \"")
            .all(|x| !x.trim_matches('"').contains('"'))
}

/// The refusal of `op` on `object` for `principal`.
pub(super) fn refusal(
    snap: &Snapshot,
    principal: &str,
    op: &str,
    object: Object<'_>,
    d: Denial,
    now: i64,
) -> EngineError {
    let p = snap.profile();
    let what = doing(op);
    match d {
        Denial::Operator => EngineError::Forbidden(format!(
            "only the operator may {what} in this tenant (profile `{}` reserves `{op}` to the operator)",
            p.id
        )),
        Denial::Broken => EngineError::internal(format!("`{op}`: its action is missing")),
        Denial::Nowhere(ty) => {
            let kind = p.types.get(ty).map_or("object", |t| t.id.as_str());
            let action = p
                .management_action(op)
                .and_then(|a| p.actions.get(a))
                .map_or(String::new(), |a| {
                    format!(
                        ": it needs `{}` ({}) on some {kind}",
                        a.id,
                        a.requires_text
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                    )
                });
            EngineError::Forbidden(format!(
                "You may not {what} anywhere in this tenant. `{principal}` may not `{op}`{action}"
            ))
        }
        Denial::NoTarget(why) => {
            EngineError::Forbidden(format!("`{principal}` may not {what} here: {why} (`{op}`)"))
        }
        Denial::Action { ty, e } => {
            let action = p.management_action(op).and_then(|a| p.actions.get(a));
            let (Some(action), Some(t), Some(rid)) =
                (action, p.types.get(ty), snap.entity_id(ty, e))
            else {
                return EngineError::Forbidden(format!("`{principal}` may not {what}"));
            };
            let ctx = Context::new();
            let x = snap.explain(&Request {
                principal,
                action: &action.id,
                resource_type: &t.id,
                resource_id: rid,
                context: &ctx,
                now,
            });
            let mut needs = Vec::new();
            if let Some(tree) = &x.tree {
                missing(tree, &mut needs);
            }
            let need = if needs.is_empty() {
                "more than you hold".to_owned()
            } else {
                needs
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            };
            let about = match object {
                Object::Entity { ty: oty, id } if oty != ty => {
                    let kind = p.types.get(oty).map_or("object", |t| t.id.as_str());
                    format!(" ({kind} `{id}`)")
                }
                _ => String::new(),
            };
            let why = x.reasons.first().cloned().unwrap_or_default();
            EngineError::Forbidden(format!(
                "You need {need} for {}{about} to {what}. `{principal}` may not `{op}`: it needs `{}` ({}){}",
                place(snap, ty, e),
                action.id,
                action
                    .requires_text
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                if why.is_empty() {
                    String::new()
                } else {
                    format!("; {why}")
                }
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_has_args;

    #[test]
    fn one_has_call_not_a_conjunction_of_them() {
        assert!(is_has_args(r#""Users", "View only""#));
        assert!(is_has_args(r#""Listen""#));
        assert!(!is_has_args(
            r#""Users", "View only") and has("Roles", "View only""#
        ));
        assert!(!is_has_args(r#""A") or has("B""#));
    }
}
