//! The [`Engine`]: every tenant in memory, loaded from the store at start, created and
//! looked up here; credentials minted, revoked and authenticated here. A tenant user
//! only ever finds its own tenant: any other answers "unknown tenant", as if it did not
//! exist.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use rolecall_core::Profile;
use rolecall_core::profile::USER;
use rolecall_store::{AuditDraft, NewTenant, Store, TokenRecord};

use crate::actor::Actor;
use crate::audit_sink::AuditSink;
use crate::clock::{Clock, SystemClock};
use crate::error::{EngineError, EngineResult};
use crate::options::Options;
use crate::shared::Shared;
use crate::tenant::Tenant;
use crate::tokens::{self, TokenCache};

/// Where a new tenant's profile comes from.
#[derive(Debug, Clone)]
pub enum ProfileSource {
    /// A profile shipped with rolecall, by id.
    Shipped(String),
    /// A profile's TOML text.
    Text(String),
}

/// A tenant to create.
#[derive(Debug, Clone)]
pub struct TenantSpec {
    /// Id.
    pub id: String,
    /// Display name (default: the id).
    pub name: Option<String>,
    /// Its profile.
    pub profile: ProfileSource,
}

/// A freshly minted token: its secret (shown once) and its record.
#[derive(Debug, Clone)]
pub struct Minted {
    /// The secret.
    pub secret: String,
    /// The stored record (its hash only).
    pub record: TokenRecord,
}

/// rolecall's engine: tenants, writes, credentials. Speaks no HTTP.
#[derive(Debug)]
pub struct Engine {
    shared: Arc<Shared>,
    tenants: RwLock<BTreeMap<String, Arc<Tenant>>>,
    follow: crate::follower::FollowState,
}

/// Checks an id from a path or body.
pub fn valid_id(id: &str, what: &str) -> EngineResult<()> {
    if rolecall_core::profile::valid_id(id) {
        Ok(())
    } else {
        Err(EngineError::BadRequest(format!(
            "invalid {what} id `{}`: use 1–200 letters, digits, `_`, `-`, `.` or `:`",
            id.chars().take(60).collect::<String>()
        )))
    }
}

impl Engine {
    /// An engine on `store` with the system clock, every stored tenant loaded.
    pub async fn open(store: Arc<dyn Store>, options: Options) -> EngineResult<Arc<Engine>> {
        Self::open_with_clock(store, options, Arc::new(SystemClock)).await
    }

    /// An engine on `store` reading time from `clock`, every stored tenant loaded.
    pub async fn open_with_clock(
        store: Arc<dyn Store>,
        options: Options,
        clock: Arc<dyn Clock>,
    ) -> EngineResult<Arc<Engine>> {
        let tokens = TokenCache::new(options.negative_token_ttl, tokens::NEGATIVE_CAPACITY);
        let audit = AuditSink::start(
            store.clone(),
            options.audit_window,
            options.audit_actor_budget,
        );
        let shared = Arc::new(Shared {
            store,
            clock,
            options,
            tokens,
            audit,
        });

        let mut tenants = BTreeMap::new();
        for record in shared.store.list_tenants().await? {
            let id = record.id.clone();
            tenants.insert(id, Arc::new(Tenant::load(shared.clone(), record).await?));
        }
        let engine = Arc::new(Engine {
            shared,
            tenants: RwLock::new(tenants),
            follow: crate::follower::FollowState::default(),
        });
        crate::audit_sink::flush_periodically(
            Arc::downgrade(&engine.shared),
            Arc::downgrade(&engine),
        );
        Ok(engine)
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.shared.store
    }

    /// Writes the tallies of repeated decisions whose window has ended into the audit
    /// chain now (a background task does it every second); returns how many entries.
    pub async fn flush_audit(&self) -> EngineResult<u64> {
        crate::audit_sink::flush(&self.shared).await
    }

    /// Retention: prunes every tenant's audit chain of the entries older than
    /// [`Options::audit_retention`] (none when it is not set), keeping each chain's root
    /// so the rest verifies; a background task does it every minute. Returns the
    /// entries pruned.
    pub async fn prune_audit(&self) -> EngineResult<u64> {
        let Some(keep) = self.options().audit_retention else {
            return Ok(0);
        };
        let now = self.now();
        let before = now.saturating_sub(i64::try_from(keep.as_secs()).unwrap_or(i64::MAX));
        let mut pruned = 0;
        for t in self.tenants() {
            match self.store().prune_audit(&t.id, before, now).await {
                Ok(n) => pruned += n,
                // A tenant gone meanwhile is skipped.
                Err(rolecall_store::StoreError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(pruned)
    }

    /// Now, by the engine's clock.
    pub fn now(&self) -> i64 {
        self.shared.clock.now()
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.shared.options
    }

    /// What every tenant shares.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// How following the other nodes goes.
    pub fn follow_state(&self) -> &crate::follower::FollowState {
        &self.follow
    }

    /// Adds a loaded tenant, unless one of that id is already there (which is kept and
    /// returned).
    pub(crate) fn insert_tenant(&self, id: String, tenant: Arc<Tenant>) -> Arc<Tenant> {
        match self.tenants.write() {
            Ok(mut map) => map.entry(id).or_insert(tenant).clone(),
            Err(_) => tenant,
        }
    }

    /// Every tenant, by id.
    pub fn tenants(&self) -> Vec<Arc<Tenant>> {
        self.tenants
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// A tenant by id.
    pub fn tenant(&self, id: &str) -> EngineResult<Arc<Tenant>> {
        self.tenants
            .read()
            .map_err(EngineError::internal)?
            .get(id)
            .cloned()
            .ok_or_else(|| EngineError::NotFound(format!("unknown tenant `{id}`")))
    }

    /// The tenant `actor` may use: the operator any, a tenant user only its own
    /// (another tenant is reported as unknown, so existence does not leak).
    ///
    /// A tenant this node has not loaded yet — created through another node moments
    /// ago, before this node's follower adopted it — is looked up in the store and
    /// adopted, so no node answers 404 for a tenant whose creation was acknowledged.
    pub async fn tenant_for(&self, actor: &Actor, id: &str) -> EngineResult<Arc<Tenant>> {
        valid_id(id, "tenant")?;
        if let Some(own) = actor.tenant()
            && own != id
        {
            return Err(EngineError::NotFound(format!("unknown tenant `{id}`")));
        }
        match self.tenant(id) {
            Ok(t) => Ok(t),
            Err(EngineError::NotFound(why)) => match self.store().get_tenant(id).await {
                Ok(Some(record)) => self.adopt(record).await,
                Ok(None) => Err(EngineError::NotFound(why)),
                Err(e) => Err(e.into()),
            },
            Err(e) => Err(e),
        }
    }

    /// Creates a tenant (operator or system only) with its audit entry, and loads it.
    pub async fn create_tenant(
        &self,
        actor: &Actor,
        spec: TenantSpec,
    ) -> EngineResult<Arc<Tenant>> {
        if !actor.is_privileged() {
            return Err(EngineError::Forbidden(
                "this needs the operator token".into(),
            ));
        }
        valid_id(&spec.id, "tenant")?;
        if let Some(name) = &spec.name {
            rolecall_core::text::check(name, rolecall_core::text::TextKind::Line, || {
                "`name` of the tenant".to_owned()
            })
            .map_err(|e| EngineError::BadRequest(e.to_string()))?;
        }
        let limits = self.shared.options.profile_limits();
        let (profile_id, text, profile) = resolve_profile(&spec.profile, &limits)?;
        if self.tenant(&spec.id).is_ok() {
            return Err(EngineError::Exists(format!(
                "tenant `{}` already exists",
                spec.id
            )));
        }
        let new = NewTenant {
            id: spec.id.clone(),
            name: spec.name.unwrap_or_else(|| spec.id.clone()),
            profile_id,
            profile_text: text,
        };
        let created = serde_json::json!({"name": new.name, "profile": new.profile_id});
        let draft = AuditDraft {
            action: "tenant.create".into(),
            target: format!("tenant:{}", new.id),
            before: None,
            after: Some(created.to_string()),
        };
        self.store()
            .create_tenant_audited(&new, &[draft], &actor.name(), self.now())
            .await?;
        let record = self
            .store()
            .get_tenant(&new.id)
            .await?
            .ok_or_else(|| EngineError::internal("tenant vanished after creation"))?;
        let tenant =
            Arc::new(Tenant::load_with(self.shared.clone(), record, Arc::new(profile)).await?);
        self.tenants
            .write()
            .map_err(EngineError::internal)?
            .insert(new.id, tenant.clone());
        Ok(tenant)
    }

    /// The actor holding `secret`, or `Unauthenticated`. A token dies with its user: a
    /// user's token, or a service credential acting as a user, is refused when that
    /// user is not in the tenant (its deletion revoked it; this also holds while a
    /// revocation has not reached this node's cache).
    pub async fn authenticate(&self, secret: &str) -> EngineResult<Actor> {
        self.authenticate_admitting(secret, &|| true).await
    }

    /// The actor holding `secret`, or `Unauthenticated`; when the store would have to
    /// be asked about a hash never seen before, only if `admit()` says so (else
    /// `Throttled`). The server passes its per-address budget of such lookups. A user
    /// token whose user no longer exists is refused (a token dies with its user).
    pub async fn authenticate_admitting(
        &self,
        secret: &str,
        admit: &(dyn Fn() -> bool + Sync),
    ) -> EngineResult<Actor> {
        let actor = tokens::authenticate(
            &self.shared.tokens,
            &self.shared.store,
            secret,
            self.now(),
            admit,
        )
        .await?;
        let user = match &actor {
            Actor::User {
                tenant, principal, ..
            } => Some((tenant.as_str(), principal.as_str())),
            Actor::Service(c) => c.principal.as_deref().map(|p| (c.tenant.as_str(), p)),
            _ => None,
        };
        if let Some((tenant, user)) = user
            && let Ok(t) = self.tenant(tenant)
        {
            let has = |t: &Tenant| t.current().snapshot.entity(USER, user).is_some();
            // A user created by another node moments ago: read the log once.
            if !has(&t) && (t.catch_up().await.is_err() || !has(&t)) {
                return Err(EngineError::Unauthenticated(
                    "unknown or revoked token".into(),
                ));
            }
        }
        Ok(actor)
    }

    /// What the token cache has done since start (hits, store lookups, …).
    pub fn token_stats(&self) -> tokens::TokenCacheStats {
        self.shared.tokens.stats()
    }

    /// Mints a token: for `principal` of `tenant`, or an operator token when both are
    /// `None`. Audited in the tenant's trail in the same transaction.
    pub async fn mint_token(
        &self,
        actor: &Actor,
        tenant: Option<&str>,
        principal: Option<&str>,
    ) -> EngineResult<Minted> {
        let (secret, record) = tokens::mint(tenant, principal, self.now());
        let audit: Vec<AuditDraft> = match principal {
            Some(p) if tenant.is_some() => vec![AuditDraft {
                action: "token.create".into(),
                target: format!("user:{p}"),
                before: None,
                after: Some(serde_json::json!({"token": record.id}).to_string()),
            }],
            _ => Vec::new(),
        };
        self.prime_token_generation().await;
        self.store()
            .put_token_audited(&record, &audit, &actor.name(), self.now())
            .await?;
        self.shared.tokens.minted(&record);
        Ok(Minted { secret, record })
    }

    /// Revokes token `id` of `tenant` (`None`: an operator token), audited in the same
    /// transaction; `NotFound` when there is no such unrevoked token.
    pub async fn revoke_token(
        &self,
        actor: &Actor,
        tenant: Option<&str>,
        record: &TokenRecord,
    ) -> EngineResult<()> {
        let id = &record.id;
        let audit: Vec<AuditDraft> = if tenant.is_some() {
            vec![AuditDraft {
                action: "token.revoke".into(),
                target: record
                    .principal
                    .as_ref()
                    .map_or_else(|| format!("token:{id}"), |p| format!("user:{p}")),
                before: Some(serde_json::json!({"token": id}).to_string()),
                after: None,
            }]
        } else {
            Vec::new()
        };
        let revoked = self
            .store()
            .revoke_token_audited(tenant, id, &audit, &actor.name(), self.now())
            .await?;
        self.shared.tokens.forget(id);
        if revoked {
            Ok(())
        } else {
            Err(EngineError::NotFound(format!("unknown token `{id}`")))
        }
    }

    /// Forgets a cached token at once (after revocation, here or on another node).
    pub(crate) fn forget_token(&self, id: &str) {
        self.shared.tokens.forget(id);
    }

    /// Reads the store's revocation generation before a token is stored, so that the
    /// cache entry of the new token carries a generation older than any revocation of it.
    pub(crate) async fn prime_token_generation(&self) {
        let _ = self.shared.tokens.generation(&self.shared.store).await;
    }

    /// A token was minted and stored here: it is no longer remembered as unknown.
    pub(crate) fn token_minted(&self, record: &TokenRecord) {
        self.shared.tokens.minted(record);
    }

    /// Forgets every cached token (revocation notices may have been missed).
    pub(crate) fn forget_tokens(&self) {
        self.shared.tokens.forget_all();
    }

    /// Creates the first operator token when there is none; returns its secret, to be
    /// shown once.
    pub async fn ensure_operator_token(&self) -> EngineResult<Option<String>> {
        if !self.store().list_tokens(None).await?.is_empty() {
            return Ok(None);
        }
        let m = self
            .mint_token(&Actor::System { name: "bootstrap" }, None, None)
            .await?;
        Ok(Some(m.secret))
    }
}

/// The id, text and loaded form of a tenant's profile.
fn resolve_profile(
    source: &ProfileSource,
    limits: &rolecall_core::Limits,
) -> EngineResult<(String, String, Profile)> {
    match source {
        ProfileSource::Shipped(p) => {
            let text = crate::profiles::shipped(p).ok_or_else(|| {
                let known: Vec<&str> = crate::profiles::SHIPPED.iter().map(|(i, _)| *i).collect();
                EngineError::BadRequest(format!(
                    "unknown profile `{p}`; shipped profiles: {}",
                    known.join(", ")
                ))
            })?;
            let profile = rolecall_core::load_profile_with(p, text, limits)
                .map_err(|e| EngineError::Invalid(format!("profile `{p}` does not load: {e}")))?;
            Ok((p.clone(), text.to_owned(), profile))
        }
        ProfileSource::Text(text) => {
            let profile = rolecall_core::load_profile_with("profile_text", text, limits)
                .map_err(|e| EngineError::Invalid(format!("profile_text does not load: {e}")))?;
            Ok((profile.id.clone(), text.clone(), profile))
        }
    }
}
