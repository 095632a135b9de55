//! Tenant settings (e.g. "allow agents to log in to unassigned queues").

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rolecall_engine::authz::{Object, authorize};
use rolecall_engine::commands::SetSettings;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ReadQuery, WriteResponse, tenant_for, write};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(get_all, put))
}

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
    let t = tenant_for(&s, &caller, &tenant).await?;
    let cur = t.read(q.consistency()?).await?;
    authorize(
        &cur.snapshot,
        &caller.0,
        "settings.read",
        Object::Shared,
        t.now(),
    )?;
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
) -> ApiResult<(StatusCode, Json<WriteResponse>)> {
    write(&s, &caller, &tenant, &SetSettings(body)).await
}
