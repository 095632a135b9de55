//! Authentication in the type: a handler that needs a caller takes a [`Caller`] (any
//! valid bearer token) or an [`Operator`], so forgetting authentication does not
//! compile. The engine turns the secret into an [`Actor`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use rolecall_engine::{Actor, EngineError};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

/// Whoever holds a valid token.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

/// The operator, and only the operator.
#[derive(Debug, Clone)]
pub struct Operator(pub Actor);

/// Who reads `/metrics`: `true` for the metrics token or the operator token (every
/// series, per-tenant ones included), `false` without an `Authorization` header (the
/// aggregate series only). Any other credential is refused (401, or 403 for a tenant's
/// token), so a scraper with a wrong secret does not silently get less.
#[derive(Debug, Clone, Copy)]
pub struct MetricsReader(pub bool);

/// A caller and the secret it presented, for a response that lasts (a watch stream)
/// and must notice when the token is revoked or its authority goes: the stream
/// authenticates the secret again as it goes.
#[derive(Clone)]
pub struct Watcher {
    /// Who called, when the stream opened.
    pub actor: Actor,
    /// The bearer secret (never logged).
    pub secret: String,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

async fn actor_from(parts: &Parts, state: &Arc<AppState>) -> Result<Actor, ApiError> {
    let secret = secret_from(parts)?;
    authenticate(parts, state, secret).await
}

/// The actor holding `secret`, counted against its token's rate (429 past it). A
/// never-seen secret is looked up in the store only within the client address's
/// budget of such lookups (429 past it).
async fn authenticate(
    parts: &Parts,
    state: &Arc<AppState>,
    secret: &str,
) -> Result<Actor, ApiError> {
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let limits = &state.limits;
    let admit = || limits.unknown_token_lookup(ip);
    let actor = match state.engine.authenticate_admitting(secret, &admit).await {
        Ok(a) => a,
        Err(EngineError::Throttled(m)) => {
            state
                .metrics
                .rate_limited
                .with_label_values(&["unknown_tokens"])
                .inc();
            return Err(ApiError::too_many(m, 1));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(id) = actor.token_id()
        && let Err(wait) = limits.token(id)
    {
        state
            .metrics
            .rate_limited
            .with_label_values(&["token"])
            .inc();
        return Err(ApiError::too_many(
            format!(
                "this token sent more than its {} requests a second; retry in {wait} s",
                state.config.rate_limit
            ),
            wait,
        ));
    }
    Ok(actor)
}

/// The bearer secret of a request.
fn secret_from(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing `Authorization: Bearer <token>` header"))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
    let secret = value
        .strip_prefix("Bearer ")
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer <token>`"))?
        .trim();
    Ok(secret)
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        actor_from(parts, state).await.map(Caller)
    }
}

impl FromRequestParts<Arc<AppState>> for Watcher {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let secret = secret_from(parts)?.to_owned();
        let actor = authenticate(parts, state, &secret).await?;
        Ok(Watcher { actor, secret })
    }
}

impl FromRequestParts<Arc<AppState>> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let a = actor_from(parts, state).await?;
        if matches!(a, Actor::Operator { .. }) {
            Ok(Operator(a))
        } else {
            Err(ApiError::forbidden("this needs the operator token"))
        }
    }
}

impl FromRequestParts<Arc<AppState>> for MetricsReader {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        if !parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            return Ok(MetricsReader(false));
        }
        let secret = secret_from(parts)?;
        if let Some(want) = &state.config.metrics_token
            && bool::from(secret.as_bytes().ct_eq(want.as_bytes()))
        {
            return Ok(MetricsReader(true));
        }
        match authenticate(parts, state, secret).await? {
            Actor::Operator { .. } => Ok(MetricsReader(true)),
            _ => Err(ApiError::forbidden(
                "the per-tenant metrics need the metrics token or the operator token; without an Authorization header /metrics answers the aggregate series",
            )),
        }
    }
}
