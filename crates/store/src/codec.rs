//! What both backends share: number conversions, JSON columns, how a batch of changes
//! is split into statements, and how loaded rows become a [`LoadedState`].

use std::collections::BTreeMap;

use rolecall_core::profile::{RoleSpec, Value};
use rolecall_core::state::{Assignment, Entity, Scope, TenantState};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

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

/// The change-log payloads of a batch, in order.
pub(crate) fn encode_changes(changes: &[Change]) -> Result<Vec<String>, StoreError> {
    changes.iter().map(|c| encode("change", c)).collect()
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

/// A token row as read: (id, hash, tenant, principal, created_at).
pub(crate) type TokenRow = (String, String, Option<String>, Option<String>, i64);

/// A token from its row.
pub(crate) fn token_record(row: TokenRow) -> TokenRecord {
    let (id, hash, tenant, principal, created_at) = row;
    TokenRecord {
        id,
        hash,
        tenant,
        principal,
        created_at,
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

    Ok(LoadedState {
        state: TenantState {
            tenant_id: rows.tenant_id,
            tenant_name: Some(rows.tenant_name),
            settings,
            entities: entities.into_values().collect(),
            roles,
            assignments,
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

/// Maps a failed token insert: a taken id or hash is [`StoreError::Exists`], an unknown
/// tenant [`StoreError::NotFound`].
pub(crate) fn token_error(e: sqlx::Error, t: &TokenRecord) -> StoreError {
    if let Some(db) = e.as_database_error() {
        if db.is_unique_violation() {
            return StoreError::Exists(format!("token `{}`", t.id));
        }
        if db.is_foreign_key_violation() {
            return StoreError::NotFound(format!(
                "tenant `{}`",
                t.tenant.as_deref().unwrap_or_default()
            ));
        }
    }
    StoreError::Database(e)
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
