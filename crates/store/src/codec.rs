//! What both backends share: number conversions, JSON columns, how a batch of changes
//! is split into statements, and how loaded rows become a [`LoadedState`].

use std::collections::BTreeMap;

use rolecall_core::profile::{RoleSpec, SodRule, Value};
use rolecall_core::state::{Assignment, Entity, Scope, TenantState};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditDraft, AuditFilter, AuditRecord};
use crate::{Change, ChangeRecord, LoadedState, StoreError, TenantRecord, TokenRecord, Tuple};

/// An entity's attributes as stored: a JSON object, in order.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct Attributes(#[serde(with = "rolecall_core::pairs")] Vec<(String, Value)>);

/// A revision or version as stored (`BIGINT`).
pub(crate) fn to_db(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("number {n} is too large to store")))
}

/// A revision or version as read back.
pub(crate) fn from_db(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative stored number {n}")))
}

/// Encodes a value as JSON text.
pub(crate) fn encode<T: Serialize + ?Sized>(what: &str, v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("cannot encode {what}: {e}")))
}

/// Decodes JSON text read from a column.
pub(crate) fn decode<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("bad stored {what}: {e}")))
}

/// Encodes entity attributes.
pub(crate) fn encode_attributes(attrs: &[(String, Value)]) -> Result<String, StoreError> {
    let mut m = serde_json::Serializer::new(Vec::new());
    rolecall_core::pairs::serialize(attrs, &mut m)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode attributes: {e}")))?;
    String::from_utf8(m.into_inner())
        .map_err(|e| StoreError::Corrupt(format!("cannot encode attributes: {e}")))
}

/// One statement's worth of a change batch.
pub(crate) enum Step<'a> {
    /// A run of consecutive `PutRelation`s, written with one statement.
    PutRelations(Vec<&'a Tuple>),
    /// A run of consecutive `DeleteRelation`s, deleted with one statement.
    DeleteRelations(Vec<&'a Tuple>),
    /// Any other change.
    One(&'a Change),
}

/// Splits a batch into steps, keeping its order; runs of relation writes (or deletes)
/// become one step each. Within a run order does not matter: tuples are a set.
pub(crate) fn plan(changes: &[Change]) -> Vec<Step<'_>> {
    let mut steps: Vec<Step<'_>> = Vec::new();
    for c in changes {
        match (c, steps.last_mut()) {
            (Change::PutRelation(t), Some(Step::PutRelations(run))) => run.push(t),
            (Change::PutRelation(t), _) => steps.push(Step::PutRelations(vec![t])),
            (Change::DeleteRelation(t), Some(Step::DeleteRelations(run))) => run.push(t),
            (Change::DeleteRelation(t), _) => steps.push(Step::DeleteRelations(vec![t])),
            (other, _) => steps.push(Step::One(other)),
        }
    }
    steps
}

/// A batch ready to write: its steps and its change-log payloads (each change as JSON,
/// in order), prepared before the write transaction so that its lock is not held while
/// encoding.
pub(crate) struct Batch<'a> {
    /// The statements' worth of the batch, in order.
    pub steps: Vec<Step<'a>>,
    /// One change-log payload per change.
    pub payloads: Vec<String>,
}

impl<'a> Batch<'a> {
    /// Plans and encodes `changes`.
    pub(crate) fn new(changes: &'a [Change]) -> Result<Self, StoreError> {
        Ok(Batch {
            steps: plan(changes),
            payloads: changes
                .iter()
                .map(|c| encode("change", c))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A change-log row as read.
pub(crate) fn change_record(
    revision: i64,
    seq: i64,
    change: &str,
    actor: String,
    at: i64,
) -> Result<ChangeRecord, StoreError> {
    Ok(ChangeRecord {
        revision: from_db(revision)?,
        seq: u32::try_from(seq)
            .map_err(|_| StoreError::Corrupt(format!("bad change sequence number {seq}")))?,
        change: decode("change", change)?,
        actor,
        at,
    })
}

/// A token row as read: (id, hash, tenant, principal, created_at, credential).
pub(crate) type TokenRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    Option<String>,
);

/// The columns of a [`TokenRow`].
pub(crate) const TOKEN_COLUMNS: &str = "id, hash, tenant, principal, created_at, credential";

/// A token from its row.
pub(crate) fn token_record(row: TokenRow) -> TokenRecord {
    let (id, hash, tenant, principal, created_at, credential) = row;
    TokenRecord {
        id,
        hash,
        tenant,
        principal,
        created_at,
        credential,
    }
}

/// One resource's tuples: (rtype, rid, its (relation, sid) pairs).
pub(crate) type ResourceTuples = (String, String, Vec<(String, String)>);

/// A tenant's rows, as read in one snapshot of the database.
pub(crate) struct Rows {
    /// Tenant id.
    pub tenant_id: String,
    /// Tenant display name.
    pub tenant_name: String,
    /// Current revision.
    pub revision: i64,
    /// (key, value JSON).
    pub settings: Vec<(String, String)>,
    /// (ty, id, name, attributes JSON).
    pub entities: Vec<(String, String, Option<String>, String)>,
    /// Per resource (rtype, rid): its (relation, sid) pairs, in any order. The subject
    /// type is not part of an [`Entity`].
    pub relations: Vec<ResourceTuples>,
    /// (id, spec JSON, version).
    pub roles: Vec<(String, String, i64)>,
    /// (id, principal, role, scope JSON, expires_at).
    pub assignments: Vec<(String, String, String, String, Option<i64>)>,
    /// (id, rule JSON).
    pub sod_rules: Vec<(String, String)>,
}

/// Builds the state from its rows, ordering everything in Rust (bytewise, whatever the
/// database's collation).
pub(crate) fn assemble(rows: Rows) -> Result<LoadedState, StoreError> {
    let mut settings = rows
        .settings
        .into_iter()
        .map(|(k, v)| Ok((k, decode::<Value>("setting", &v)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    settings.sort_by(|a, b| a.0.cmp(&b.0));

    let mut entities: BTreeMap<(String, String), Entity> = BTreeMap::new();
    for (ty, id, name, attributes) in rows.entities {
        let Attributes(attributes) = decode("attributes", &attributes)?;
        entities.insert(
            (ty.clone(), id.clone()),
            Entity {
                ty,
                id,
                name,
                relations: Vec::new(),
                attributes,
            },
        );
    }
    for (rtype, rid, mut pairs) in rows.relations {
        pairs.sort_unstable();
        pairs.dedup();
        let e = entities
            .entry((rtype, rid))
            .or_insert_with_key(|(ty, id)| Entity {
                ty: ty.clone(),
                id: id.clone(),
                ..Entity::default()
            });
        for (relation, sid) in pairs {
            match e.relations.last_mut() {
                Some((r, targets)) if *r == relation => targets.push(sid),
                _ => e.relations.push((relation, vec![sid])),
            }
        }
    }

    let mut roles = Vec::with_capacity(rows.roles.len());
    let mut role_versions = BTreeMap::new();
    for (id, spec, version) in rows.roles {
        let spec: RoleSpec = decode("role", &spec)?;
        role_versions.insert(id, from_db(version)?);
        roles.push(spec);
    }
    roles.sort_by(|a, b| a.id.cmp(&b.id));

    let mut assignments = rows
        .assignments
        .into_iter()
        .map(|(id, principal, role, scope, expires_at)| {
            Ok(Assignment {
                id,
                principal,
                role,
                scope: decode::<Scope>("scope", &scope)?,
                expires_at,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    assignments.sort_by(|a, b| a.id.cmp(&b.id));

    let mut sod_rules = rows
        .sod_rules
        .into_iter()
        .map(|(_, rule)| decode::<SodRule>("separation-of-duty rule", &rule))
        .collect::<Result<Vec<_>, StoreError>>()?;
    sod_rules.sort_by(|a, b| a.id.cmp(&b.id));

    Ok(LoadedState {
        state: TenantState {
            tenant_id: rows.tenant_id,
            tenant_name: Some(rows.tenant_name),
            settings,
            entities: entities.into_values().collect(),
            roles,
            assignments,
            sod_rules,
        },
        revision: from_db(rows.revision)?,
        role_versions,
    })
}

/// A tenant row: (id, name, profile_id, profile_text, revision, created_at).
pub(crate) type TenantRow = (String, String, String, String, i64, i64);

pub(crate) fn tenant_record(row: TenantRow) -> Result<TenantRecord, StoreError> {
    let (id, name, profile_id, profile_text, revision, created_at) = row;
    Ok(TenantRecord {
        id,
        name,
        profile_id,
        profile_text,
        revision: from_db(revision)?,
        created_at,
    })
}

/// An audit row as read: (seq, revision, at, actor, action, target, before, after,
/// prev_hash, hash).
pub(crate) type AuditRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);

/// The columns of `audit` in [`AuditRow`] order, for `SELECT`s.
pub(crate) const AUDIT_COLUMNS: &str =
    "seq, revision, at, actor, action, target, before, after, prev_hash, hash";

/// An audit entry from its row.
pub(crate) fn audit_record(row: AuditRow) -> Result<AuditRecord, StoreError> {
    let (seq, revision, at, actor, action, target, before, after, prev_hash, hash) = row;
    Ok(AuditRecord {
        seq: from_db(seq)?,
        revision: from_db(revision)?,
        at,
        actor,
        action,
        target,
        before,
        after,
        prev_hash,
        hash,
    })
}

/// The entries that extend a tenant's chain, in order. `last` is the chain's last
/// entry as stored (seq, hash), `None` for an empty chain; each new entry follows the
/// one before it (seq + 1, prev_hash = its hash) and belongs to `revision`.
pub(crate) fn extend_chain(
    last: Option<(i64, String)>,
    drafts: &[AuditDraft],
    revision: u64,
    actor: &str,
    at: i64,
) -> Result<Vec<AuditRecord>, StoreError> {
    let (mut seq, mut prev) = match last {
        Some((seq, hash)) => (from_db(seq)?, hash),
        None => (0, String::new()),
    };
    let mut out = Vec::with_capacity(drafts.len());
    for d in drafts {
        seq = seq
            .checked_add(1)
            .ok_or_else(|| StoreError::Corrupt("audit sequence number overflow".to_owned()))?;
        // The stored sequence number must fit a BIGINT.
        to_db(seq)?;
        let hash = audit::compute(
            &prev,
            seq,
            revision,
            at,
            actor,
            &d.action,
            &d.target,
            d.before.as_deref(),
            d.after.as_deref(),
        );
        out.push(AuditRecord {
            seq,
            revision,
            at,
            actor: actor.to_owned(),
            action: d.action.clone(),
            target: d.target.clone(),
            before: d.before.clone(),
            after: d.after.clone(),
            prev_hash: std::mem::replace(&mut prev, hash.clone()),
            hash,
        });
    }
    Ok(out)
}

/// The `after` of a tally's entry: the decision's own JSON object with
/// `"coalesced": {"count", "first_at", "last_at"}` added (a non-object is kept under
/// `"decision"`).
pub(crate) fn coalesced(after: Option<&str>, count: i64, first_at: i64, last_at: i64) -> String {
    let tally = serde_json::json!({"count": count, "first_at": first_at, "last_at": last_at});
    let parsed = after.and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok());
    let mut obj = match parsed {
        Some(serde_json::Value::Object(m)) => m,
        Some(other) => {
            let mut m = serde_json::Map::new();
            m.insert("decision".to_owned(), other);
            m
        }
        None => serde_json::Map::new(),
    };
    obj.insert("coalesced".to_owned(), tally);
    serde_json::Value::Object(obj).to_string()
}

/// Entries read when a filter gives no limit.
pub(crate) const AUDIT_DEFAULT_LIMIT: u32 = 1_000;

/// The most entries one read returns.
pub(crate) const AUDIT_MAX_LIMIT: u32 = 10_000;

/// A filter's limit as applied: 0 means the default, anything above the cap is capped.
pub(crate) fn audit_limit(f: &AuditFilter) -> i64 {
    let n = match f.limit {
        0 => AUDIT_DEFAULT_LIMIT,
        n => n.min(AUDIT_MAX_LIMIT),
    };
    i64::from(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuple(r: &str, s: &str) -> Tuple {
        Tuple {
            rtype: "queue".into(),
            rid: r.into(),
            relation: "member".into(),
            stype: "user".into(),
            sid: s.into(),
        }
    }

    #[test]
    fn plan_groups_runs_in_order() {
        let changes = vec![
            Change::PutRelation(tuple("q1", "a")),
            Change::PutRelation(tuple("q1", "b")),
            Change::DeleteRelation(tuple("q1", "a")),
            Change::DeleteRole { id: "r".into() },
            Change::PutRelation(tuple("q1", "a")),
        ];
        let steps = plan(&changes);
        assert_eq!(steps.len(), 4);
        assert!(matches!(&steps[0], Step::PutRelations(v) if v.len() == 2));
        assert!(matches!(&steps[1], Step::DeleteRelations(v) if v.len() == 1));
        assert!(matches!(&steps[2], Step::One(Change::DeleteRole { .. })));
        assert!(matches!(&steps[3], Step::PutRelations(v) if v.len() == 1));
    }

    #[test]
    fn audit_limit_defaults_and_caps() {
        let f = |limit| AuditFilter {
            limit,
            ..AuditFilter::default()
        };
        assert_eq!(audit_limit(&f(0)), 1_000);
        assert_eq!(audit_limit(&f(7)), 7);
        assert_eq!(audit_limit(&f(10_000)), 10_000);
        assert_eq!(audit_limit(&f(u32::MAX)), 10_000);
    }

    #[test]
    fn extend_chain_links_entries() {
        let draft = |n: &str| AuditDraft {
            action: format!("role.{n}"),
            target: format!("role:{n}"),
            before: None,
            after: Some("{}".to_owned()),
        };
        let first = extend_chain(None, &[draft("a"), draft("b")], 2, "alice", 7).unwrap();
        assert_eq!(first[0].seq, 1);
        assert_eq!(first[0].prev_hash, "");
        assert_eq!(first[1].seq, 2);
        assert_eq!(first[1].prev_hash, first[0].hash);
        for r in &first {
            assert_eq!(r.hash, audit::hash_of(r));
            assert_eq!((r.revision, r.at, r.actor.as_str()), (2, 7, "alice"));
        }
        let next =
            extend_chain(Some((2, first[1].hash.clone())), &[draft("c")], 3, "bob", 8).unwrap();
        assert_eq!(next[0].seq, 3);
        assert_eq!(next[0].prev_hash, first[1].hash);
        assert!(extend_chain(Some((-1, String::new())), &[draft("x")], 1, "a", 0).is_err());
        assert!(extend_chain(Some((i64::MAX, String::new())), &[draft("x")], 1, "a", 0).is_err());
        assert!(
            extend_chain(Some((i64::MAX, String::new())), &[], 1, "a", 0)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn attributes_keep_order() {
        let attrs = vec![
            ("z".to_owned(), Value::Int(1)),
            ("a".to_owned(), Value::Str("x".into())),
        ];
        let text = encode_attributes(&attrs).unwrap();
        assert_eq!(text, r#"{"z":1,"a":"x"}"#);
        let Attributes(back) = decode("attributes", &text).unwrap();
        assert_eq!(back, attrs);
    }
}
