//! API tokens of a tenant: minted (the secret is shown once) and revoked.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, ApiPath, tenant_for, valid_id};
use crate::app::{AppState, now};
use crate::auth::{Caller, mint};
use crate::authz::{Subject, authorize};
use crate::error::{ApiError, ApiResult};

/// Mint a token that acts as a user of the tenant.
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
#[utoipa::path(post, path = "/v1/tenants/{tenant}/tokens", params(("tenant" = String, Path,)), request_body = CreateToken, responses((status = 201, body = MintedToken), (status = 403, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<MintedToken>)> {
    let t = tenant_for(&s, &caller, &tenant)?;
    valid_id(&body.principal, "user")?;
    let cur = t.current();
    if cur
        .snapshot
        .entity(rolecall_core::profile::USER, &body.principal)
        .is_none()
    {
        return Err(ApiError::invalid(format!(
            "unknown user `{}`",
            body.principal
        )));
    }
    let own = matches!(&caller, Caller::Tenant { principal, .. } if *principal == body.principal);
    if !own {
        authorize(
            &cur.snapshot,
            &caller,
            "tokens.write",
            Some(Subject {
                ty: rolecall_core::profile::USER,
                id: &body.principal,
            }),
            now(),
        )?;
    }
    let (secret, record) = mint(Some(&tenant), Some(&body.principal), now());
    s.store.put_token(&record).await?;
    let draft = rolecall_store::AuditDraft {
        action: "token.create".into(),
        target: format!("user:{}", body.principal),
        before: None,
        after: Some(serde_json::json!({"token": record.id}).to_string()),
    };
    s.store
        .append_audit(&tenant, &[draft], &caller.actor(), now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(MintedToken {
            id: record.id,
            token: secret,
            principal: body.principal,
        }),
    ))
}

/// Lists the tenant's tokens (operator, or `tokens.write`).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/tokens", params(("tenant" = String, Path,)), responses((status = 200, body = TokenList)), security(("bearer" = [])))]
pub async fn list(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> ApiResult<Json<TokenList>> {
    let t = tenant_for(&s, &caller, &tenant)?;
    authorize(&t.current().snapshot, &caller, "tokens.write", None, now())?;
    let tokens = s
        .store
        .list_tokens(Some(&tenant))
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

/// Revokes a token (operator, `tokens.write`, or the token's own user).
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/tokens/{id}", params(("tenant" = String, Path,), ("id" = String, Path,)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn revoke(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let t = tenant_for(&s, &caller, &tenant)?;
    valid_id(&id, "token")?;
    let tokens = s.store.list_tokens(Some(&tenant)).await?;
    let rec = tokens
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiError::not_found(format!("unknown token `{id}`")))?;
    let own = matches!(&caller, Caller::Tenant { principal, .. } if Some(principal) == rec.principal.as_ref());
    if !own {
        authorize(&t.current().snapshot, &caller, "tokens.write", None, now())?;
    }
    if !s.store.revoke_token(Some(&tenant), &id).await? {
        return Err(ApiError::not_found(format!("unknown token `{id}`")));
    }
    s.tokens.forget(&id);
    let draft = rolecall_store::AuditDraft {
        action: "token.revoke".into(),
        target: rec
            .principal
            .as_ref()
            .map_or_else(|| format!("token:{id}"), |p| format!("user:{p}")),
        before: Some(serde_json::json!({"token": id}).to_string()),
        after: None,
    };
    s.store
        .append_audit(&tenant, &[draft], &caller.actor(), now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tokens cannot be edited (asked with a token, like every tenant route).
pub async fn not_allowed(_caller: Caller) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "tokens cannot be edited; revoke and mint a new one",
    )
}
