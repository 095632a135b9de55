//! `GET /v1/whoami`: what a token is, and how far it may perform each management
//! operation — the console asks it after login to show only what the token may use.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use rolecall_engine::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(whoami))
}

/// A service credential's details.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialInfo {
    /// Its name.
    pub name: String,
    /// `decide`, `read`, `write`.
    pub abilities: Vec<String>,
    /// Where it applies.
    #[schema(value_type = Object)]
    pub scope: serde_json::Value,
    /// The user it acts as for writes.
    pub principal: Option<String>,
    /// When it stops being accepted (Unix seconds).
    pub expires_at: Option<i64>,
}

/// Who a token acts as.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    /// The operator token (manages tenants; `tenant` and `principal` are null).
    pub operator: bool,
    /// `operator`, `user` or `service`.
    pub kind: String,
    /// The tenant a tenant token belongs to.
    pub tenant: Option<String>,
    /// The user a tenant token acts as (a service credential: the user it writes as).
    pub principal: Option<String>,
    /// The token's id (not its secret).
    pub token: String,
    /// A service credential's details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialInfo>,
    /// Per management operation: `all` (tenant-wide), `some` (part of the tenant) or
    /// `none`, as the tenant's profile decides now (empty for the operator, who may do
    /// everything).
    pub capabilities: BTreeMap<String, String>,
}

/// No query parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

/// What the token is, and what it may do.
#[utoipa::path(get, path = "/v1/whoami", responses((status = 200, body = WhoAmI), (status = 401, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn whoami(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(_q): ApiQuery<NoQuery>,
) -> ApiResult<Json<WhoAmI>> {
    let capabilities = match caller.0.tenant() {
        Some(t) => {
            let t = s.engine.tenant(t)?;
            rolecall_engine::authz::capabilities(&t.current().snapshot, &caller.0, t.now())
                .into_iter()
                .map(|(op, r)| (op.to_owned(), r.as_str().to_owned()))
                .collect()
        }
        None => BTreeMap::new(),
    };
    Ok(Json(match caller.0 {
        Actor::User {
            tenant,
            principal,
            token,
        } => WhoAmI {
            operator: false,
            kind: "user".into(),
            tenant: Some(tenant),
            principal: Some(principal),
            token,
            credential: None,
            capabilities,
        },
        Actor::Service(c) => WhoAmI {
            operator: false,
            kind: "service".into(),
            tenant: Some(c.tenant.clone()),
            principal: c.principal.clone(),
            token: c.id.clone(),
            credential: Some(CredentialInfo {
                name: c.name.clone(),
                abilities: c.abilities.iter().map(|a| a.as_str().to_owned()).collect(),
                scope: serde_json::to_value(&c.scope).unwrap_or_default(),
                principal: c.principal.clone(),
                expires_at: c.expires_at,
            }),
            capabilities,
        },
        Actor::Operator { token } => WhoAmI {
            operator: true,
            kind: "operator".into(),
            tenant: None,
            principal: None,
            token,
            credential: None,
            capabilities,
        },
        Actor::System { name } => WhoAmI {
            operator: true,
            kind: "operator".into(),
            tenant: None,
            principal: None,
            token: name.to_owned(),
            credential: None,
            capabilities,
        },
    }))
}
