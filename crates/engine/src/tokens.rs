//! Bearer tokens: minting (32 random bytes, shown once), hashing (only the SHA-256 is
//! stored), a short-lived cache of tokens found in the store, and turning a secret into
//! an [`Actor`]. Lookups go by hash; the found hash is compared in constant time.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::RngCore;
use rolecall_store::{Store, TokenRecord};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::actor::Actor;
use crate::credential::Credential;
use crate::error::{EngineError, EngineResult};

/// How long a token found in the store is trusted without asking again. Revocations
/// through this engine take effect at once; through another process within this time.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);

/// While the database is unreachable, a token verified within this time keeps working
/// (no revocation can be committed meanwhile), so checks go on answering from memory.
pub const TOKEN_OUTAGE_GRACE: Duration = Duration::from_secs(600);

/// Hex SHA-256 of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new secret and its record (`tenant` and `principal` `None`: an operator token).
pub fn mint(tenant: Option<&str>, principal: Option<&str>, now: i64) -> (String, TokenRecord) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!(
        "rc_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let mut idb = [0u8; 6];
    rand::rng().fill_bytes(&mut idb);
    let record = TokenRecord {
        id: format!("tok_{}", hex::encode(idb)),
        hash: hash_secret(&secret),
        tenant: tenant.map(str::to_owned),
        principal: principal.map(str::to_owned),
        created_at: now,
        credential: None,
    };
    (secret, record)
}

/// Tokens by hash, cached for [`TOKEN_CACHE_TTL`] (misses go to the store).
#[derive(Debug, Default)]
pub struct TokenCache {
    by_hash: RwLock<HashMap<String, (TokenRecord, Instant)>>,
}

impl TokenCache {
    /// The unrevoked token with this hash.
    pub async fn find(
        &self,
        store: &Arc<dyn Store>,
        hash: &str,
    ) -> EngineResult<Option<TokenRecord>> {
        let cached = self
            .by_hash
            .read()
            .map_err(EngineError::internal)?
            .get(hash)
            .cloned();
        if let Some((t, at)) = &cached
            && at.elapsed() < TOKEN_CACHE_TTL
        {
            return Ok(Some(t.clone()));
        }
        let found = match store.find_token(hash).await {
            Ok(found) => found,
            Err(e) if e.is_unavailable() => {
                return match cached {
                    Some((t, at)) if at.elapsed() < TOKEN_OUTAGE_GRACE => Ok(Some(t)),
                    _ => Err(e.into()),
                };
            }
            Err(e) => return Err(e.into()),
        };
        let mut map = self.by_hash.write().map_err(EngineError::internal)?;
        match &found {
            Some(t) => {
                map.insert(hash.to_owned(), (t.clone(), Instant::now()));
            }
            None => {
                map.remove(hash);
            }
        }
        Ok(found)
    }

    /// Forgets a token (after revocation).
    pub fn forget(&self, id: &str) {
        if let Ok(mut m) = self.by_hash.write() {
            m.retain(|_, (t, _)| t.id != id);
        }
    }
}

/// The actor a token record stands for at `now` (an expired credential: none).
pub fn actor_of(record: TokenRecord, now: i64) -> EngineResult<Actor> {
    Ok(match (record.tenant, record.principal, record.credential) {
        (Some(tenant), _, Some(details)) => {
            let c = Credential::decode(&record.id, &tenant, &details)?;
            if c.expires_at.is_some_and(|t| t <= now) {
                return Err(EngineError::Unauthenticated(format!(
                    "service credential `{}` expired",
                    c.name
                )));
            }
            Actor::Service(Arc::new(c))
        }
        (Some(tenant), Some(principal), None) => Actor::User {
            tenant,
            principal,
            token: record.id,
        },
        (None, _, _) => Actor::Operator { token: record.id },
        (Some(_), None, None) => {
            return Err(EngineError::Unauthenticated(
                "unknown or revoked token".into(),
            ));
        }
    })
}

/// The actor holding `secret` at `now`, or `Unauthenticated`.
pub async fn authenticate(
    cache: &TokenCache,
    store: &Arc<dyn Store>,
    secret: &str,
    now: i64,
) -> EngineResult<Actor> {
    let hash = hash_secret(secret);
    let record = cache
        .find(store, &hash)
        .await?
        .ok_or_else(|| EngineError::Unauthenticated("unknown or revoked token".into()))?;
    if !bool::from(record.hash.as_bytes().ct_eq(hash.as_bytes())) {
        return Err(EngineError::Unauthenticated(
            "unknown or revoked token".into(),
        ));
    }
    actor_of(record, now)
}
