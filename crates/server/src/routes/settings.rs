//! Tenant settings (e.g. "allow agents to log in to unassigned queues").

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use rolecall_core::profile::{Value, ValueType};
use rolecall_store::Change;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiJson, ApiPath, ApiQuery, REVISION_WAIT, ReadQuery, WriteResponse, tenant_for};
use crate::app::{AppState, now};
use crate::auth::Caller;
use crate::authz::authorize;
use crate::error::{ApiError, ApiResult};

/// One setting.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingView {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// bool | int | string.
    #[serde(rename = "type")]
    pub ty: String,
    /// Current value.
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
    /// Profile default.
    #[schema(value_type = Object)]
    pub default: serde_json::Value,
}

/// Every setting of the tenant's profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingList {
    /// Settings.
    pub settings: Vec<SettingView>,
    /// Revision answered from.
    pub revision: u64,
}

/// The tenant's settings.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/settings", params(("tenant" = String, Path,), ReadQuery), responses((status = 200, body = SettingList)), security(("bearer" = [])))]
pub async fn get_all(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Json<SettingList>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    let cur = t.at_least(q.at_least_revision, REVISION_WAIT).await?;
    let settings = cur
        .profile
        .settings
        .iter()
        .map(|d| {
            let v = cur
                .mem
                .state
                .settings
                .iter()
                .find(|(k, _)| *k == d.id)
                .map_or(&d.default, |(_, v)| v);
            SettingView {
                id: d.id.clone(),
                name: d.name.clone(),
                ty: d.ty.name().to_owned(),
                value: super::value_json(v),
                default: super::value_json(&d.default),
            }
        })
        .collect();
    Ok(Json(SettingList {
        settings,
        revision: cur.revision,
    }))
}

/// Sets settings: `{"allow_unassigned_queue_login": true}`. Decisions change at once.
#[utoipa::path(put, path = "/v1/tenants/{tenant}/settings", params(("tenant" = String, Path,)), request_body = Object, responses((status = 200, body = WriteResponse), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn put(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<BTreeMap<String, serde_json::Value>>,
) -> ApiResult<Json<WriteResponse>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    let cur = t.current();
    authorize(&cur.snapshot, &caller, "settings.write", None, now())?;
    let changes = changes(&cur, &body)?;
    let rev = t
        .write(
            s.store.as_ref(),
            changes,
            &caller.actor(),
            None,
            now(),
            |_, _, _| Ok(()),
        )
        .await?;
    s.saw_revision(&t.id, rev);
    Ok(Json(WriteResponse { revision: rev }))
}

/// The changes a settings body describes, validated against the profile.
pub(crate) fn changes(
    cur: &crate::tenant::Current,
    body: &BTreeMap<String, serde_json::Value>,
) -> ApiResult<Vec<Change>> {
    if body.is_empty() {
        return Err(ApiError::bad_request("no setting given"));
    }
    let mut changes = Vec::new();
    for (k, v) in body {
        let d = cur
            .profile
            .settings
            .iter()
            .find(|d| d.id == *k)
            .ok_or_else(|| {
                let known: Vec<&str> = cur.profile.settings.iter().map(|d| d.id.as_str()).collect();
                ApiError::invalid(format!(
                    "unknown setting `{k}`; this profile has: {}",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ))
            })?;
        let value = match (d.ty, v) {
            (ValueType::Bool, serde_json::Value::Bool(b)) => Value::Bool(*b),
            (ValueType::Int, serde_json::Value::Number(n)) if n.is_i64() => {
                Value::Int(n.as_i64().unwrap_or_default())
            }
            (ValueType::Str, serde_json::Value::String(x)) => Value::Str(x.clone()),
            _ => {
                return Err(ApiError::invalid(format!(
                    "setting `{k}` takes a {}, not {v}",
                    d.ty.name()
                )));
            }
        };
        changes.push(Change::SetSetting {
            key: k.clone(),
            value,
        });
    }
    Ok(changes)
}
