//! Data helpers: tenants, tuples, changes, roles, assignments, rules, audit drafts.

use rolecall_core::profile::{GrantSpec, RoleSpec, SodRule, Value};
use rolecall_core::state::{Assignment, Entity, Scope};
use rolecall_store::{
    AuditDraft, AuditFilter, AuditRecord, AuditVerification, Change, NewTenant, Store, TokenRecord,
    Tuple,
};

pub(crate) const AT: i64 = 1_760_000_000;

pub(crate) fn tenant(id: &str) -> NewTenant {
    NewTenant {
        id: id.to_owned(),
        name: format!("Tenant {id}"),
        profile_id: "horizon-contact".to_owned(),
        profile_text: "[profile]\nid = \"horizon-contact\"\n# ünïcödé kept as is\n".to_owned(),
    }
}

pub(crate) async fn create(s: &dyn Store, id: &str) {
    assert_eq!(s.create_tenant(&tenant(id), "op", AT).await.unwrap(), 1);
}

pub(crate) fn tuple(rtype: &str, rid: &str, relation: &str, stype: &str, sid: &str) -> Tuple {
    Tuple {
        rtype: rtype.to_owned(),
        rid: rid.to_owned(),
        relation: relation.to_owned(),
        stype: stype.to_owned(),
        sid: sid.to_owned(),
    }
}

pub(crate) fn put(rtype: &str, rid: &str, relation: &str, stype: &str, sid: &str) -> Change {
    Change::PutRelation(tuple(rtype, rid, relation, stype, sid))
}

pub(crate) fn del(rtype: &str, rid: &str, relation: &str, stype: &str, sid: &str) -> Change {
    Change::DeleteRelation(tuple(rtype, rid, relation, stype, sid))
}

pub(crate) fn upsert(
    ty: &str,
    id: &str,
    name: Option<&str>,
    attributes: &[(&str, Value)],
) -> Change {
    Change::UpsertEntity {
        ty: ty.to_owned(),
        id: id.to_owned(),
        name: name.map(str::to_owned),
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    }
}

pub(crate) fn role(id: &str) -> RoleSpec {
    RoleSpec {
        id: id.to_owned(),
        name: Some(format!("Role {id}")),
        description: Some("a \"quoted\" description".to_owned()),
        role_type: Some("agent".to_owned()),
        includes: vec!["base".to_owned()],
        // Deliberately not in key order: order must survive the round trip.
        grants: vec![
            ("z.flag".to_owned(), GrantSpec::Bool(true)),
            ("a.level".to_owned(), GrantSpec::Str("Modify".to_owned())),
            ("m.off".to_owned(), GrantSpec::Bool(false)),
        ],
        locked: vec![
            (
                "c.choices".to_owned(),
                GrantSpec::List(vec!["Same Group".to_owned(), "All".to_owned()]),
            ),
            ("b.number".to_owned(), GrantSpec::Int(600)),
        ],
    }
}

pub(crate) fn assignment(
    id: &str,
    principal: &str,
    scope: Scope,
    expires_at: Option<i64>,
) -> Assignment {
    Assignment {
        id: id.to_owned(),
        principal: principal.to_owned(),
        role: "supervisor".to_owned(),
        scope,
        expires_at,
    }
}

pub(crate) fn sod(id: &str, n: u64) -> SodRule {
    SodRule {
        id: id.to_owned(),
        name: Some(format!("Rule {id}")),
        // Deliberately not sorted: order must survive the round trip.
        privileges: vec![format!("p{n}.level: Modify"), "a.flag".to_owned()],
        roles: vec!["z_role".to_owned(), format!("r{n}")],
    }
}

pub(crate) fn draft(
    action: &str,
    target: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> AuditDraft {
    AuditDraft {
        action: action.to_owned(),
        target: target.to_owned(),
        before: before.map(str::to_owned),
        after: after.map(str::to_owned),
    }
}

/// Every audit entry (up to the default limit).
pub(crate) fn all() -> AuditFilter {
    AuditFilter::default()
}

/// What `verify_audit` says about an untouched chain of `n` entries.
pub(crate) fn intact(n: u64) -> AuditVerification {
    AuditVerification {
        entries: n,
        first_bad: None,
    }
}

pub(crate) fn seqs(records: &[AuditRecord]) -> Vec<u64> {
    records.iter().map(|r| r.seq).collect()
}

pub(crate) fn entity<'a>(
    state: &'a rolecall_store::LoadedState,
    ty: &str,
    id: &str,
) -> Option<&'a Entity> {
    state
        .state
        .entities
        .iter()
        .find(|e| e.ty == ty && e.id == id)
}

pub(crate) fn rels(targets: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    targets
        .iter()
        .map(|(r, ts)| {
            (
                (*r).to_owned(),
                ts.iter().map(|t| (*t).to_owned()).collect(),
            )
        })
        .collect()
}

/// A token created at `AT`, its hash derived from its id.
pub(crate) fn token(id: &str, tenant: Option<&str>, principal: Option<&str>) -> TokenRecord {
    TokenRecord {
        id: id.to_owned(),
        hash: format!("{id:0>64}"),
        tenant: tenant.map(str::to_owned),
        principal: principal.map(str::to_owned),
        created_at: AT,
        credential: None,
    }
}
