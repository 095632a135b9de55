//! What a write puts in the audit trail: one entry per entity, role, assignment,
//! setting or rule it touches (the object before and after, as JSON, read from the
//! state before and after the write), and one entry per batch of relation tuples.
//! Which object a change touches is core's answer ([`Change::object`]).

use std::collections::BTreeSet;

use rolecall_core::{Change, MemState, Object, Profile};
use rolecall_store::AuditDraft;

fn json<T: serde::Serialize>(v: Option<&T>) -> Option<String> {
    v.and_then(|x| serde_json::to_string(x).ok())
}

/// The verb of a role or assignment change.
fn put_verb(c: &Change, existed: bool) -> &'static str {
    match (c.is_removal(), existed) {
        (true, _) => "delete",
        (false, true) => "update",
        (false, false) => "create",
    }
}

/// The verb of an entity change, from whether it existed before and after.
fn verb(existed: bool, exists: bool) -> &'static str {
    match (existed, exists) {
        (false, true) => "create",
        (true, false) => "delete",
        _ => "update",
    }
}

/// The audit entries for applying `changes` to `old`, giving `new` (`profile` gives a
/// setting's default, which is its value before the tenant first sets it).
pub fn drafts(
    profile: &Profile,
    old: &MemState,
    new: &MemState,
    changes: &[Change],
) -> Vec<AuditDraft> {
    let mut out = Vec::new();
    let mut seen: BTreeSet<Object<'_>> = BTreeSet::new();
    let (mut writes, mut deletes) = (Vec::new(), Vec::new());
    for c in changes {
        let object = c.object();
        if let Object::Tuple(t) = object {
            if c.is_removal() {
                deletes.push(t.to_string());
            } else {
                writes.push(t.to_string());
            }
            continue;
        }
        // One entry per object, whatever number of changes touched it.
        if matches!(object, Object::Entity { .. }) && !seen.insert(object) {
            continue;
        }
        out.push(draft(profile, old, new, c, object));
    }
    if !writes.is_empty() || !deletes.is_empty() {
        out.push(AuditDraft {
            action: "relations.write".into(),
            target: format!("tenant:{}", new.state.tenant_id),
            before: None,
            after: json(Some(
                &serde_json::json!({"writes": writes, "deletes": deletes}),
            )),
        });
    }
    out
}

/// The entry for one object.
fn draft(
    profile: &Profile,
    old: &MemState,
    new: &MemState,
    c: &Change,
    object: Object<'_>,
) -> AuditDraft {
    match object {
        Object::Entity { ty, id } => {
            let (before, after) = (old.entity(ty, id), new.entity(ty, id));
            AuditDraft {
                action: format!("{ty}.{}", verb(before.is_some(), after.is_some())),
                target: format!("{ty}:{id}"),
                before: json(before),
                after: json(after),
            }
        }
        Object::Role(id) => {
            let before = old.state.roles.iter().find(|r| r.id == id);
            let after = new.state.roles.iter().find(|r| r.id == id).map(|r| {
                serde_json::json!({"role": r, "version": new.role_versions.get(id).copied().unwrap_or(1)})
            });
            AuditDraft {
                action: format!("role.{}", put_verb(c, before.is_some())),
                target: format!("role:{id}"),
                before: json(before),
                after: if c.is_removal() {
                    None
                } else {
                    json(after.as_ref())
                },
            }
        }
        Object::Assignment(id) => {
            let before = old.state.assignments.iter().find(|a| a.id == id);
            let after = new.state.assignments.iter().find(|a| a.id == id);
            let target = after.or(before).map_or_else(
                || format!("assignment:{id}"),
                |a| format!("user:{}", a.principal),
            );
            AuditDraft {
                action: format!("assignment.{}", put_verb(c, before.is_some())),
                target,
                before: json(before),
                after: if c.is_removal() { None } else { json(after) },
            }
        }
        Object::SodRule(id) => AuditDraft {
            action: if c.is_removal() {
                "sod_rule.delete"
            } else {
                "sod_rule.put"
            }
            .into(),
            target: format!("sod_rule:{id}"),
            before: json(old.state.sod_rules.iter().find(|r| r.id == id)),
            after: if c.is_removal() {
                None
            } else {
                json(new.state.sod_rules.iter().find(|r| r.id == id))
            },
        },
        Object::Setting(key) => {
            let value = |m: &MemState| {
                m.state
                    .settings
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.clone())
            };
            let default = profile
                .setting(key)
                .and_then(|s| profile.settings.get(s))
                .map(|d| d.default.clone());
            AuditDraft {
                action: "setting.update".into(),
                target: format!("setting:{key}"),
                before: json(value(old).or(default).as_ref()),
                after: json(value(new).as_ref()),
            }
        }
        Object::Tuple(t) => AuditDraft {
            action: "relations.write".into(),
            target: t.to_string(),
            before: None,
            after: None,
        },
    }
}
