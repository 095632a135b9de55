//! Bearer tokens: minting (32 random bytes, shown once), hashing (only the SHA-256 is
//! stored), a short-lived cache of tokens found in the store, and turning a secret into
//! an [`Actor`]. Lookups go by hash; the found hash is compared in constant time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::RngCore;
use rolecall_store::{Store, TokenRecord};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::actor::Actor;
use crate::credential::Credential;
use crate::error::{EngineError, EngineResult};

/// How long a token found in the store is trusted without asking again, while no
/// revocation has been committed anywhere (see [`REVOCATION_RECHECK`]).
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);

/// How often, at most, the token cache reads the store's revocation generation (which
/// every transaction revoking a token moves on, in any process: `rolecall token
/// revoke`, another node, a user's deletion). A cached token read at an older
/// generation is looked up again, so a revocation committed anywhere is effective for
/// every request that starts more than this long after its commit. One indexed
/// one-row read per millisecond at most, whatever the request rate.
pub const REVOCATION_RECHECK: Duration = Duration::from_millis(1);

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

/// Tokens by hash, cached for [`TOKEN_CACHE_TTL`] while the store's revocation
/// generation stays what it was when they were read (misses go to the store).
#[derive(Debug, Default)]
pub struct TokenCache {
    by_hash: RwLock<HashMap<String, Cached>>,
    /// The last revocation generation read, and when.
    generation: Mutex<Option<(u64, Instant)>>,
}

/// A token found in the store: when, and at which revocation generation (read before
/// the token was; `None`: unknown, the store did not answer).
#[derive(Debug, Clone)]
struct Cached {
    record: TokenRecord,
    at: Instant,
    generation: Option<u64>,
}

impl TokenCache {
    /// The store's revocation generation, read at most every [`REVOCATION_RECHECK`];
    /// `None` when the store cannot answer.
    async fn generation(&self, store: &Arc<dyn Store>) -> EngineResult<Option<u64>> {
        let known = *self.generation.lock().map_err(EngineError::internal)?;
        if let Some((g, at)) = known
            && at.elapsed() < REVOCATION_RECHECK
        {
            return Ok(Some(g));
        }
        let read_at = Instant::now();
        match store.revocation_generation().await {
            Ok(g) => {
                let mut slot = self.generation.lock().map_err(EngineError::internal)?;
                // Keep the newest read when concurrent requests raced.
                if slot.is_none_or(|(_, at)| at <= read_at) {
                    *slot = Some((g, read_at));
                }
                Ok(Some(g))
            }
            Err(e) if e.is_unavailable() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The unrevoked token with this hash.
    pub async fn find(
        &self,
        store: &Arc<dyn Store>,
        hash: &str,
    ) -> EngineResult<Option<TokenRecord>> {
        // The generation before the token: a revocation committed after this read moves
        // the generation, so what is read below is not trusted past it.
        let generation = self.generation(store).await?;
        let cached = self
            .by_hash
            .read()
            .map_err(EngineError::internal)?
            .get(hash)
            .cloned();
        if let Some(c) = &cached
            && c.at.elapsed() < TOKEN_CACHE_TTL
            && generation.is_some()
            && c.generation == generation
        {
            return Ok(Some(c.record.clone()));
        }
        let found = match store.find_token(hash).await {
            Ok(found) => found,
            Err(e) if e.is_unavailable() => {
                return match cached {
                    Some(c) if c.at.elapsed() < TOKEN_OUTAGE_GRACE => Ok(Some(c.record)),
                    _ => Err(e.into()),
                };
            }
            Err(e) => return Err(e.into()),
        };
        let mut map = self.by_hash.write().map_err(EngineError::internal)?;
        match &found {
            Some(t) => {
                map.insert(
                    hash.to_owned(),
                    Cached {
                        record: t.clone(),
                        at: Instant::now(),
                        generation,
                    },
                );
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
            m.retain(|_, c| c.record.id != id);
        }
    }

    /// Forgets every token (notices of revocations may have been missed).
    pub fn forget_all(&self) {
        if let Ok(mut m) = self.by_hash.write() {
            m.clear();
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
