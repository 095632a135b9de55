//! What a write puts in the audit trail: one entry per entity, role, assignment,
//! setting or rule it touches (with the object before and after, as JSON), and one
//! entry per relation batch.

use std::collections::BTreeSet;

use rolecall_core::Profile;
use rolecall_core::{Change, MemState};
use rolecall_store::AuditDraft;

fn json<T: serde::Serialize>(v: Option<&T>) -> Option<String> {
    v.and_then(|x| serde_json::to_string(x).ok())
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
    let mut seen_entities: BTreeSet<(String, String)> = BTreeSet::new();
    let mut writes = Vec::new();
    let mut deletes = Vec::new();
    for c in changes {
        match c {
            Change::UpsertEntity { ty, id, .. } | Change::DeleteEntity { ty, id } => {
                if !seen_entities.insert((ty.clone(), id.clone())) {
                    continue;
                }
                let before = old.entity(ty, id);
                let after = new.entity(ty, id);
                let verb = match (before, after) {
                    (None, Some(_)) => "create",
                    (Some(_), None) => "delete",
                    _ => "update",
                };
                out.push(AuditDraft {
                    action: format!("{ty}.{verb}"),
                    target: format!("{ty}:{id}"),
                    before: json(before),
                    after: json(after),
                });
            }
            Change::PutRelation(t) => writes.push(format!(
                "{}:{}#{}@{}:{}",
                t.rtype, t.rid, t.relation, t.stype, t.sid
            )),
            Change::DeleteRelation(t) => deletes.push(format!(
                "{}:{}#{}@{}:{}",
                t.rtype, t.rid, t.relation, t.stype, t.sid
            )),
            Change::PutRole { role, version } => {
                let before = old.state.roles.iter().find(|r| r.id == role.id);
                out.push(AuditDraft {
                    action: if before.is_some() {
                        "role.update"
                    } else {
                        "role.create"
                    }
                    .to_owned(),
                    target: format!("role:{}", role.id),
                    before: json(before),
                    after: json(Some(&serde_json::json!({"role": role, "version": version}))),
                });
            }
            Change::DeleteRole { id } => out.push(AuditDraft {
                action: "role.delete".into(),
                target: format!("role:{id}"),
                before: json(old.state.roles.iter().find(|r| r.id == *id)),
                after: None,
            }),
            Change::PutAssignment(a) => {
                let before = old.state.assignments.iter().find(|x| x.id == a.id);
                out.push(AuditDraft {
                    action: if before.is_some() {
                        "assignment.update"
                    } else {
                        "assignment.create"
                    }
                    .to_owned(),
                    target: format!("user:{}", a.principal),
                    before: json(before),
                    after: json(Some(a)),
                });
            }
            Change::DeleteAssignment { id } => {
                let before = old.state.assignments.iter().find(|x| x.id == *id);
                out.push(AuditDraft {
                    action: "assignment.delete".into(),
                    target: before.map_or_else(
                        || format!("assignment:{id}"),
                        |a| format!("user:{}", a.principal),
                    ),
                    before: json(before),
                    after: None,
                });
            }
            Change::SetSetting { key, value } => out.push(AuditDraft {
                action: "setting.update".into(),
                target: format!("setting:{key}"),
                before: json(
                    old.state
                        .settings
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v)
                        .or_else(|| {
                            profile
                                .setting(key)
                                .and_then(|s| profile.settings.get(s))
                                .map(|d| &d.default)
                        }),
                ),
                after: json(Some(value)),
            }),
            Change::PutSodRule(rule) => out.push(AuditDraft {
                action: "sod_rule.put".into(),
                target: format!("sod_rule:{}", rule.id),
                before: json(old.state.sod_rules.iter().find(|r| r.id == rule.id)),
                after: json(Some(rule)),
            }),
            Change::DeleteSodRule { id } => out.push(AuditDraft {
                action: "sod_rule.delete".into(),
                target: format!("sod_rule:{id}"),
                before: json(old.state.sod_rules.iter().find(|r| r.id == *id)),
                after: None,
            }),
        }
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
