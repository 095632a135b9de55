//! Service credentials of a tenant, for the applications that embed rolecall: named,
//! with abilities (`decide`, `read`, `write`), an optional scope and expiry; minted (the
//! secret is shown once), listed and revoked.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rolecall_engine::credential::{Ability, Credential};
use rolecall_engine::credentials::CredentialSpec;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::assignments::ScopeBody;
use super::tenant_for;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

/// What a credential may do.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AbilityBody {
    /// Checks, batches, explanations, effective permissions and lookups for any user of
    /// its scope.
    Decide,
    /// Every read within its scope.
    Read,
    /// Writes, as its user, within its scope.
    Write,
}

impl From<AbilityBody> for Ability {
    fn from(a: AbilityBody) -> Self {
        match a {
            AbilityBody::Decide => Ability::Decide,
            AbilityBody::Read => Ability::Read,
            AbilityBody::Write => Ability::Write,
        }
    }
}

impl From<Ability> for AbilityBody {
    fn from(a: Ability) -> Self {
        match a {
            Ability::Decide => AbilityBody::Decide,
            Ability::Read => AbilityBody::Read,
            Ability::Write => AbilityBody::Write,
        }
    }
}

/// A credential to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCredential {
    /// A name for people, e.g. "CRM integration".
    pub name: String,
    /// `decide` (checks, batches, explanations, lookups for any user of its scope),
    /// `read` (every read within its scope), `write` (writes as `principal`).
    pub abilities: Vec<AbilityBody>,
    /// Where (default: the whole tenant).
    pub scope: Option<ScopeBody>,
    /// The user it acts as for writes (required with `write`).
    pub principal: Option<String>,
    /// Unix seconds from which it is refused.
    pub expires_at: Option<i64>,
}

/// A credential, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialView {
    /// Id (revoke with it).
    pub id: String,
    /// Name.
    pub name: String,
    /// Abilities.
    pub abilities: Vec<AbilityBody>,
    /// Where.
    pub scope: ScopeBody,
    /// The user it writes as.
    pub principal: Option<String>,
    /// Expiry (Unix seconds).
    pub expires_at: Option<i64>,
    /// Who created it.
    pub created_by: String,
}

/// A created credential: its secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct MintedCredential {
    /// The credential.
    #[serde(flatten)]
    pub credential: CredentialView,
    /// The bearer secret (shown once; only its hash is stored).
    pub token: String,
}

/// The tenant's credentials.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialList {
    /// By creation.
    pub credentials: Vec<CredentialView>,
}

fn view(c: Credential) -> CredentialView {
    CredentialView {
        scope: (&c.scope).into(),
        id: c.id,
        name: c.name,
        abilities: c.abilities.into_iter().map(Into::into).collect(),
        principal: c.principal,
        expires_at: c.expires_at,
        created_by: c.created_by,
    }
}

/// Creates a service credential (`credentials.write`).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/credentials", params(("tenant" = String, Path,)), request_body = CreateCredential, responses((status = 201, body = MintedCredential), (status = 403, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(b): ApiJson<CreateCredential>,
) -> ApiResult<(StatusCode, Json<MintedCredential>)> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let spec = CredentialSpec {
        name: b.name,
        abilities: b.abilities.into_iter().map(Into::into).collect(),
        scope: b.scope.map(Into::into),
        principal: b.principal,
        expires_at: b.expires_at,
    };
    let (minted, c) = s.engine.create_credential(&caller.0, &t, spec).await?;
    Ok((
        StatusCode::CREATED,
        Json(MintedCredential {
            credential: view(c),
            token: minted.secret,
        }),
    ))
}

/// The tenant's service credentials (`credentials.write`).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/credentials", params(("tenant" = String, Path,)), responses((status = 200, body = CredentialList)), security(("bearer" = [])))]
pub async fn list(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> ApiResult<Json<CredentialList>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let credentials = s
        .engine
        .list_credentials(&caller.0, &t)
        .await?
        .into_iter()
        .map(view)
        .collect();
    Ok(Json(CredentialList { credentials }))
}

/// Revokes a service credential, at once (`credentials.write`).
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/credentials/{id}", params(("tenant" = String, Path,), ("id" = String, Path,)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn revoke(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    s.engine.revoke_credential(&caller.0, &t, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
