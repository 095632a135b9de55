//! API tokens of a tenant: minted (the secret is shown once) and revoked.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tenant_for;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke, not_allowed))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// The user the token acts as.
    pub principal: String,
}

/// A minted token. `token` is shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub struct MintedToken {
    /// Id (to list and revoke).
    pub id: String,
    /// The secret, for `Authorization: Bearer …`.
    pub token: String,
    /// The user it acts as.
    pub principal: String,
}

/// A token as listed (no secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Id.
    pub id: String,
    /// The user it acts as.
    pub principal: Option<String>,
    /// Creation time, Unix seconds.
    pub created_at: i64,
}

/// Tokens of a tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// Unrevoked tokens.
    pub tokens: Vec<TokenView>,
}

/// Mints a token for a user of the tenant (operator, or `tokens.write`; a user may
/// always mint one for themselves).
/// Mints a token for a user of the tenant: one's own, or (with `tokens.write`)
/// another's.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/tokens", params(("tenant" = String, Path,)), request_body = CreateToken, responses((status = 201, body = MintedToken), (status = 403, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<MintedToken>)> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let m = s
        .engine
        .mint_user_token(&caller.0, &t, &body.principal)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(MintedToken {
            id: m.record.id,
            token: m.secret,
            principal: body.principal,
        }),
    ))
}

/// The tenant's unrevoked tokens (never their secrets).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/tokens", params(("tenant" = String, Path,)), responses((status = 200, body = TokenList)), security(("bearer" = [])))]
pub async fn list(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> ApiResult<Json<TokenList>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let tokens = s
        .engine
        .list_user_tokens(&caller.0, &t)
        .await?
        .into_iter()
        .map(|r| TokenView {
            id: r.id,
            principal: r.principal,
            created_at: r.created_at,
        })
        .collect();
    Ok(Json(TokenList { tokens }))
}

/// Revokes a token: at once, for every request after this one.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/tokens/{id}", params(("tenant" = String, Path,), ("id" = String, Path,)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn revoke(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    s.engine.revoke_user_token(&caller.0, &t, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tokens cannot be edited.
#[utoipa::path(put, path = "/v1/tenants/{tenant}/tokens/{id}", params(("tenant" = String, Path,), ("id" = String, Path,)), responses((status = 405, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn not_allowed(_caller: Caller) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "tokens cannot be edited; revoke and mint a new one",
    )
}
