//! Bearer tokens: minting, hashing, and the [`Caller`] extractor, so a handler that
//! needs a caller cannot be written without one.
//!
//! Secrets are 32 random bytes, shown once; only their SHA-256 is stored. Lookups go
//! by hash, and the found hash is compared to the computed one in constant time.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine as _;
use rand::RngCore;
use rolecall_store::TokenRecord;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::app::AppState;
use crate::error::ApiError;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The operator: manages tenants, may do anything.
    Operator {
        /// Token id.
        token: String,
    },
    /// A user of one tenant.
    Tenant {
        /// Tenant id.
        tenant: String,
        /// The user the token acts as.
        principal: String,
        /// Token id.
        token: String,
    },
}

impl Caller {
    /// The actor name recorded in the change log.
    pub fn actor(&self) -> String {
        match self {
            Caller::Operator { token } => format!("operator:{token}"),
            Caller::Tenant { principal, .. } => format!("user:{principal}"),
        }
    }

    /// Whether this is the operator.
    pub fn is_operator(&self) -> bool {
        matches!(self, Caller::Operator { .. })
    }
}

/// The operator, and only the operator.
#[derive(Debug, Clone)]
pub struct Operator(pub Caller);

/// Hex SHA-256 of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new secret and its record.
pub fn mint(tenant: Option<&str>, principal: Option<&str>, now: i64) -> (String, TokenRecord) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!(
        "rc_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let mut idb = [0u8; 6];
    rand::rng().fill_bytes(&mut idb);
    let id = format!("tok_{}", hex::encode(idb));
    let record = TokenRecord {
        id,
        hash: hash_secret(&secret),
        tenant: tenant.map(str::to_owned),
        principal: principal.map(str::to_owned),
        created_at: now,
    };
    (secret, record)
}

async fn caller_from(parts: &Parts, state: &Arc<AppState>) -> Result<Caller, ApiError> {
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
    let hash = hash_secret(secret);
    let record = state.tokens.find(&state.store, &hash).await?;
    let record = record.ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))?;
    if !bool::from(record.hash.as_bytes().ct_eq(hash.as_bytes())) {
        return Err(ApiError::unauthorized("unknown or revoked token"));
    }
    Ok(match (record.tenant, record.principal) {
        (Some(tenant), Some(principal)) => Caller::Tenant {
            tenant,
            principal,
            token: record.id,
        },
        _ => Caller::Operator { token: record.id },
    })
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        caller_from(parts, state).await
    }
}

impl FromRequestParts<Arc<AppState>> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let c = caller_from(parts, state).await?;
        if c.is_operator() {
            Ok(Operator(c))
        } else {
            Err(ApiError::forbidden("this needs the operator token"))
        }
    }
}
