//! `GET /v1/whoami`: what a token is (the console asks it after login).

use std::sync::Arc;

use axum::Json;
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

/// Who a token acts as.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    /// The operator token (manages tenants; `tenant` and `principal` are null).
    pub operator: bool,
    /// The tenant a tenant token belongs to.
    pub tenant: Option<String>,
    /// The user a tenant token acts as.
    pub principal: Option<String>,
    /// The token's id (not its secret).
    pub token: String,
}

/// No query parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

/// The caller: operator, or the tenant and user a tenant token acts as.
#[utoipa::path(get, path = "/v1/whoami", responses((status = 200, body = WhoAmI), (status = 401, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn whoami(caller: Caller, ApiQuery(_q): ApiQuery<NoQuery>) -> ApiResult<Json<WhoAmI>> {
    Ok(Json(match caller.0 {
        Actor::User {
            tenant,
            principal,
            token,
        } => WhoAmI {
            operator: false,
            tenant: Some(tenant),
            principal: Some(principal),
            token,
        },
        Actor::Operator { token } => WhoAmI {
            operator: true,
            tenant: None,
            principal: None,
            token,
        },
        Actor::System { name } => WhoAmI {
            operator: true,
            tenant: None,
            principal: None,
            token: name.to_owned(),
        },
    }))
}
