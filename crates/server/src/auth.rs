//! Authentication in the type: a handler that needs a caller takes a [`Caller`] (any
//! valid bearer token) or an [`Operator`], so forgetting authentication does not
//! compile. The engine turns the secret into an [`Actor`].

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rolecall_engine::Actor;

use crate::error::ApiError;
use crate::state::AppState;

/// Whoever holds a valid token.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

/// The operator, and only the operator.
#[derive(Debug, Clone)]
pub struct Operator(pub Actor);

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
    Ok(state.engine.authenticate(secret).await?)
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
        let actor = state.engine.authenticate(&secret).await?;
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
