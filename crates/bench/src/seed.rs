//! Turning a generated [`TenantState`] into store changes, so a benchmark can seed a
//! database in one transaction and start a real server on it.

use rolecall_core::state::TenantState;
use rolecall_store::{Change, Tuple};

/// Every change that recreates `state` (relations need the profile to know each
/// relation's subject type).
pub fn changes(profile: &rolecall_core::Profile, state: &TenantState) -> Vec<Change> {
    let mut out = Vec::new();
    for e in &state.entities {
        out.push(Change::UpsertEntity {
            ty: e.ty.clone(),
            id: e.id.clone(),
            name: e.name.clone(),
            attributes: e.attributes.clone(),
        });
    }
    for e in &state.entities {
        let def = profile.type_id(&e.ty).and_then(|t| profile.types.get(t));
        for (rel, targets) in &e.relations {
            let stype = def
                .and_then(|d| d.relation(rel).and_then(|r| d.relations.get(r)))
                .and_then(|r| profile.types.get(r.target))
                .map_or_else(String::new, |t| t.id.clone());
            for t in targets {
                out.push(Change::PutRelation(Tuple {
                    rtype: e.ty.clone(),
                    rid: e.id.clone(),
                    relation: rel.clone(),
                    stype: stype.clone(),
                    sid: t.clone(),
                }));
            }
        }
    }
    for r in &state.roles {
        out.push(Change::PutRole {
            role: r.clone(),
            version: 1,
        });
    }
    for a in &state.assignments {
        out.push(Change::PutAssignment(a.clone()));
    }
    for (key, value) in &state.settings {
        out.push(Change::SetSetting {
            key: key.clone(),
            value: value.clone(),
        });
    }
    out
}
