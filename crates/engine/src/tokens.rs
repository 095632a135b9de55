//! Bearer tokens: minting (32 random bytes, shown once), hashing (only the SHA-256 is
//! stored), a short-lived cache of tokens found in the store and of hashes it did not
//! know (so a repeated unknown token costs no store lookup), and turning a secret into
//! an [`Actor`]. Lookups go by hash; the found hash is compared in constant time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
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

/// How many hashes found unknown a [`TokenCache`] remembers at most (about 150 bytes
/// each). Past it, expired ones are dropped first; if none has expired, the new one is
/// not remembered (its next use asks the store again).
pub const NEGATIVE_CAPACITY: usize = 100_000;

/// What the token cache has done since the engine started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCacheStats {
    /// Authentications answered from a token found in the store recently.
    pub hits: u64,
    /// Authentications of a hash found unknown recently: refused without asking the
    /// store.
    pub negative_hits: u64,
    /// Times the store was asked for a hash.
    pub store_lookups: u64,
    /// Lookups of a never-seen hash refused by the caller's admission (its address had
    /// presented too many unknown tokens).
    pub refused_lookups: u64,
    /// Hashes remembered as unknown now.
    pub unknown_remembered: usize,
}

/// Tokens by hash, cached for [`TOKEN_CACHE_TTL`] (misses go to the store), and hashes
/// the store did not know, remembered for the engine's `negative_token_ttl` so that an
/// unknown token presented again costs no store lookup. Minting through the engine
/// forgets the new hash at once; a token minted by another process (the CLI, another
/// node) works on this one within that time.
#[derive(Debug)]
pub struct TokenCache {
    by_hash: RwLock<HashMap<String, Cached>>,
    /// The last revocation generation read, and when.
    generation: Mutex<Option<(u64, Instant)>>,
    unknown: Mutex<HashMap<String, Instant>>,
    negative_ttl: Duration,
    negative_capacity: usize,
    hits: AtomicU64,
    negative_hits: AtomicU64,
    store_lookups: AtomicU64,
    refused_lookups: AtomicU64,
}

/// A token found in the store: when, and at which revocation generation (read before
/// the token was; `None`: unknown, the store did not answer).
#[derive(Debug, Clone)]
struct Cached {
    record: TokenRecord,
    at: Instant,
    generation: Option<u64>,
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new(
            crate::Options::default().negative_token_ttl,
            NEGATIVE_CAPACITY,
        )
    }
}

impl TokenCache {
    /// A cache remembering unknown hashes for `negative_ttl` (zero: not at all), at most
    /// `negative_capacity` of them.
    pub fn new(negative_ttl: Duration, negative_capacity: usize) -> Self {
        Self {
            by_hash: RwLock::default(),
            generation: Mutex::default(),
            unknown: Mutex::default(),
            negative_ttl,
            negative_capacity,
            hits: AtomicU64::new(0),
            negative_hits: AtomicU64::new(0),
            store_lookups: AtomicU64::new(0),
            refused_lookups: AtomicU64::new(0),
        }
    }

    /// The store's revocation generation, read at most every [`REVOCATION_RECHECK`];
    /// `None` when the store cannot answer.
    pub(crate) async fn generation(&self, store: &Arc<dyn Store>) -> EngineResult<Option<u64>> {
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

    /// The unrevoked token with this hash. A hash never seen before (neither found nor
    /// remembered as unknown) is looked up in the store only if `admit()` says so;
    /// otherwise the answer is [`EngineError::Throttled`].
    pub async fn find(
        &self,
        store: &Arc<dyn Store>,
        hash: &str,
        admit: &(dyn Fn() -> bool + Sync),
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
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(c.record.clone()));
        }
        if cached.is_none() {
            if self.known_unknown(hash)? {
                self.negative_hits.fetch_add(1, Ordering::Relaxed);
                return Ok(None);
            }
            if !admit() {
                self.refused_lookups.fetch_add(1, Ordering::Relaxed);
                return Err(EngineError::Throttled(
                    "too many unknown tokens from this address; retry later".into(),
                ));
            }
        }
        self.store_lookups.fetch_add(1, Ordering::Relaxed);
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
        match &found {
            Some(t) => {
                self.by_hash.write().map_err(EngineError::internal)?.insert(
                    hash.to_owned(),
                    Cached {
                        record: t.clone(),
                        at: Instant::now(),
                        generation,
                    },
                );
            }
            None => {
                self.by_hash
                    .write()
                    .map_err(EngineError::internal)?
                    .remove(hash);
                self.remember_unknown(hash)?;
            }
        }
        Ok(found)
    }

    /// Whether `hash` was found unknown within the negative TTL (an expired entry is
    /// dropped).
    fn known_unknown(&self, hash: &str) -> EngineResult<bool> {
        if self.negative_ttl.is_zero() {
            return Ok(false);
        }
        let mut unknown = self.unknown.lock().map_err(EngineError::internal)?;
        match unknown.get(hash) {
            Some(at) if at.elapsed() < self.negative_ttl => Ok(true),
            Some(_) => {
                unknown.remove(hash);
                Ok(false)
            }
            None => Ok(false),
        }
    }

    fn remember_unknown(&self, hash: &str) -> EngineResult<()> {
        if self.negative_ttl.is_zero() || self.negative_capacity == 0 {
            return Ok(());
        }
        let mut unknown = self.unknown.lock().map_err(EngineError::internal)?;
        if unknown.len() >= self.negative_capacity {
            let ttl = self.negative_ttl;
            unknown.retain(|_, at| at.elapsed() < ttl);
        }
        if unknown.len() < self.negative_capacity {
            unknown.insert(hash.to_owned(), Instant::now());
        }
        Ok(())
    }

    /// A token was just minted (and stored): it is not unknown any more, and its first
    /// use needs no store lookup. Callers read the revocation generation before storing
    /// it ([`TokenCache::generation`]), so the entry is trusted only until the next
    /// revocation anywhere.
    pub fn minted(&self, record: &TokenRecord) {
        if let Ok(mut m) = self.unknown.lock() {
            m.remove(&record.hash);
        }
        let generation = self.generation.lock().ok().and_then(|g| g.map(|(g, _)| g));
        if let Ok(mut m) = self.by_hash.write() {
            m.insert(
                record.hash.clone(),
                Cached {
                    record: record.clone(),
                    at: Instant::now(),
                    generation,
                },
            );
        }
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

    /// What the cache has done so far.
    pub fn stats(&self) -> TokenCacheStats {
        TokenCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            negative_hits: self.negative_hits.load(Ordering::Relaxed),
            store_lookups: self.store_lookups.load(Ordering::Relaxed),
            refused_lookups: self.refused_lookups.load(Ordering::Relaxed),
            unknown_remembered: self.unknown.lock().map(|m| m.len()).unwrap_or(0),
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

/// The actor holding `secret` at `now`, or `Unauthenticated` (`Throttled` when the
/// store would have to be asked about a never-seen hash and `admit()` refuses).
pub async fn authenticate(
    cache: &TokenCache,
    store: &Arc<dyn Store>,
    secret: &str,
    now: i64,
    admit: &(dyn Fn() -> bool + Sync),
) -> EngineResult<Actor> {
    let hash = hash_secret(secret);
    let record = cache
        .find(store, &hash, admit)
        .await?
        .ok_or_else(|| EngineError::Unauthenticated("unknown or revoked token".into()))?;
    if !bool::from(record.hash.as_bytes().ct_eq(hash.as_bytes())) {
        return Err(EngineError::Unauthenticated(
            "unknown or revoked token".into(),
        ));
    }
    actor_of(record, now)
}
