//! A tenant's API tokens and service credentials, managed by its own users: anyone
//! mints and revokes their own tokens; others' need the profile's `tokens.write` on
//! their user; service credentials need `credentials.write`. Every mint and revocation
//! is audited in the same transaction.

use rolecall_core::profile::{ORG_UNIT, QUEUE, USER};
use rolecall_core::state::Scope;
use rolecall_store::AuditDraft;
use rolecall_store::TokenRecord;

use crate::actor::Actor;
use crate::authz::{Object, Reader, authorize};
use crate::credential::{Ability, Credential};
use crate::error::{EngineError, EngineResult};
use crate::registry::{Engine, Minted, valid_id};
use crate::tenant::Tenant;
use crate::tokens;

impl Engine {
    /// Mints a token for user `principal` of `tenant`.
    pub async fn mint_user_token(
        &self,
        actor: &Actor,
        tenant: &Tenant,
        principal: &str,
    ) -> EngineResult<Minted> {
        valid_id(principal, "user")?;
        let view = tenant.current();
        if view.snapshot.entity(USER, principal).is_none() {
            return Err(EngineError::Invalid(format!("unknown user `{principal}`")));
        }
        if !actor.is_user(principal) {
            authorize(
                &view.snapshot,
                actor,
                "tokens.write",
                Object::user(principal),
                self.now(),
            )?;
        }
        self.mint_token(actor, Some(&tenant.id), Some(principal))
            .await
    }

    /// The tenant's unrevoked user tokens that `actor` may manage: their own, and with
    /// `tokens.write` those of the users it covers.
    pub async fn list_user_tokens(
        &self,
        actor: &Actor,
        tenant: &Tenant,
    ) -> EngineResult<Vec<TokenRecord>> {
        let view = tenant.current();
        let reader = Reader::new(&view.snapshot, actor, "tokens.write", self.now());
        let tokens = self.store().list_tokens(Some(&tenant.id)).await?;
        let mine = |t: &TokenRecord| t.principal.as_deref().is_some_and(|p| actor.is_user(p));
        if reader.is_err() && !tokens.iter().any(mine) {
            return Err(reader
                .err()
                .unwrap_or_else(|| EngineError::Forbidden(String::new())));
        }
        Ok(tokens
            .into_iter()
            .filter(|t| t.credential.is_none())
            .filter(|t| {
                mine(t)
                    || reader.as_ref().is_ok_and(|r| {
                        t.principal
                            .as_deref()
                            .is_some_and(|p| r.may(Object::user(p)))
                    })
            })
            .collect())
    }

    /// Revokes token `id` of `tenant`: one's own, or anyone's with `tokens.write`.
    pub async fn revoke_user_token(
        &self,
        actor: &Actor,
        tenant: &Tenant,
        id: &str,
    ) -> EngineResult<()> {
        valid_id(id, "token")?;
        let tokens = self.store().list_tokens(Some(&tenant.id)).await?;
        let rec = tokens
            .iter()
            .find(|r| r.id == id && r.credential.is_none())
            .ok_or_else(|| EngineError::NotFound(format!("unknown token `{id}`")))?;
        let own = rec.principal.as_deref().is_some_and(|p| actor.is_user(p));
        if !own {
            let object = rec
                .principal
                .as_deref()
                .map_or(Object::Tenant, Object::user);
            authorize(
                &tenant.current().snapshot,
                actor,
                "tokens.write",
                object,
                self.now(),
            )?;
        }
        self.revoke_token(actor, Some(&tenant.id), rec).await
    }
}

/// A service credential to create.
#[derive(Debug, Clone)]
pub struct CredentialSpec {
    /// A name for people.
    pub name: String,
    /// What it may do.
    pub abilities: Vec<Ability>,
    /// Where (default: the whole tenant).
    pub scope: Option<Scope>,
    /// The user it acts as for writes (required with `write`).
    pub principal: Option<String>,
    /// Unix seconds from which it is refused.
    pub expires_at: Option<i64>,
}

/// The audit entry of a credential's creation or revocation.
fn credential_draft(action: &str, c: &Credential, created: bool) -> EngineResult<AuditDraft> {
    let details = serde_json::json!({
        "credential": c.id, "name": c.name, "abilities": c.abilities, "scope": c.scope,
        "principal": c.principal, "expires_at": c.expires_at,
    })
    .to_string();
    Ok(AuditDraft {
        action: action.into(),
        target: format!("credential:{}", c.id),
        before: (!created).then(|| details.clone()),
        after: created.then_some(details),
    })
}

impl Engine {
    /// Creates a service credential of `tenant` (`credentials.write`); its secret is
    /// shown once. With `write`, the creator must be allowed to mint tokens for its
    /// user (`tokens.write` on that user, or be that user).
    pub async fn create_credential(
        &self,
        actor: &Actor,
        tenant: &Tenant,
        spec: CredentialSpec,
    ) -> EngineResult<(Minted, Credential)> {
        let view = tenant.current();
        let snap = &view.snapshot;
        let now = self.now();
        authorize(snap, actor, "credentials.write", Object::Tenant, now)?;
        let name = spec.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(EngineError::BadRequest(
                "`name`: give 1–100 printable characters".into(),
            ));
        }
        let mut abilities = spec.abilities.clone();
        abilities.sort();
        abilities.dedup();
        if abilities.is_empty() {
            return Err(EngineError::BadRequest(
                "`abilities`: give at least one of decide, read, write".into(),
            ));
        }
        let scope = spec.scope.clone().unwrap_or_default();
        let (kind, ids) = match &scope {
            Scope::Tenant => (USER, &Vec::new()),
            Scope::OrgUnits(ids) => (ORG_UNIT, ids),
            Scope::Queues(ids) => (QUEUE, ids),
        };
        if ids.is_empty() && scope != Scope::Tenant {
            return Err(EngineError::BadRequest("`scope`: name at least one".into()));
        }
        if let Some(unknown) = ids.iter().find(|i| snap.entity(kind, i).is_none()) {
            return Err(EngineError::Invalid(format!(
                "`scope`: unknown `{unknown}`"
            )));
        }
        if let Some(t) = spec.expires_at
            && t <= now
        {
            return Err(EngineError::BadRequest(
                "`expires_at` is in the past".into(),
            ));
        }
        match (&spec.principal, abilities.contains(&Ability::Write)) {
            (None, true) => {
                return Err(EngineError::BadRequest(
                    "a credential with `write` needs `principal`: the user it acts as".into(),
                ));
            }
            (Some(p), _) => {
                valid_id(p, "user")?;
                if snap.entity(USER, p).is_none() {
                    return Err(EngineError::Invalid(format!("unknown user `{p}`")));
                }
                if !actor.is_user(p) {
                    authorize(snap, actor, "tokens.write", Object::user(p), now)?;
                }
            }
            (None, false) => {}
        }
        // The token row names the user the credential acts as, so the user's deletion
        // revokes it with the user's own tokens.
        let (secret, mut record) = tokens::mint(Some(&tenant.id), spec.principal.as_deref(), now);
        let credential = Credential {
            id: record.id.clone(),
            tenant: tenant.id.clone(),
            name: name.to_owned(),
            abilities,
            scope,
            principal: spec.principal.clone(),
            expires_at: spec.expires_at,
            created_by: actor.name(),
        };
        record.credential = Some(credential.encode()?);
        let draft = credential_draft("credential.create", &credential, true)?;
        self.prime_token_generation().await;
        self.store()
            .put_token_audited(&record, &[draft], &actor.name(), now)
            .await?;
        self.token_minted(&record);
        Ok((Minted { secret, record }, credential))
    }

    /// The tenant's unrevoked service credentials (`credentials.write`).
    pub async fn list_credentials(
        &self,
        actor: &Actor,
        tenant: &Tenant,
    ) -> EngineResult<Vec<Credential>> {
        authorize(
            &tenant.current().snapshot,
            actor,
            "credentials.write",
            Object::Tenant,
            self.now(),
        )?;
        self.store()
            .list_tokens(Some(&tenant.id))
            .await?
            .into_iter()
            .filter_map(|t| {
                let details = t.credential?;
                Some(Credential::decode(&t.id, &tenant.id, &details))
            })
            .collect()
    }

    /// Revokes service credential `id` of `tenant` (`credentials.write`), at once.
    pub async fn revoke_credential(
        &self,
        actor: &Actor,
        tenant: &Tenant,
        id: &str,
    ) -> EngineResult<()> {
        valid_id(id, "credential")?;
        let now = self.now();
        authorize(
            &tenant.current().snapshot,
            actor,
            "credentials.write",
            Object::Tenant,
            now,
        )?;
        let c = self
            .list_credentials(actor, tenant)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| EngineError::NotFound(format!("unknown credential `{id}`")))?;
        let draft = credential_draft("credential.revoke", &c, false)?;
        let revoked = self
            .store()
            .revoke_token_audited(Some(&tenant.id), id, &[draft], &actor.name(), now)
            .await?;
        self.forget_token(id);
        if revoked {
            Ok(())
        } else {
            Err(EngineError::NotFound(format!("unknown credential `{id}`")))
        }
    }
}
