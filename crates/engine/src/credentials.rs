//! A tenant's API tokens, managed by its own users: anyone mints and revokes their
//! own; minting, listing and revoking others' needs the profile's `tokens.write`.

use rolecall_core::profile::USER;
use rolecall_store::TokenRecord;

use crate::actor::Actor;
use crate::authz::{Subject, authorize};
use crate::error::{EngineError, EngineResult};
use crate::registry::{Engine, Minted, valid_id};
use crate::tenant::Tenant;

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
                Some(Subject::user(principal)),
                self.now(),
            )?;
        }
        self.mint_token(actor, Some(&tenant.id), Some(principal))
            .await
    }

    /// The tenant's unrevoked tokens (`tokens.write`).
    pub async fn list_user_tokens(
        &self,
        actor: &Actor,
        tenant: &Tenant,
    ) -> EngineResult<Vec<TokenRecord>> {
        authorize(
            &tenant.current().snapshot,
            actor,
            "tokens.write",
            None,
            self.now(),
        )?;
        Ok(self.store().list_tokens(Some(&tenant.id)).await?)
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
            .find(|r| r.id == id)
            .ok_or_else(|| EngineError::NotFound(format!("unknown token `{id}`")))?;
        let own = rec.principal.as_deref().is_some_and(|p| actor.is_user(p));
        if !own {
            authorize(
                &tenant.current().snapshot,
                actor,
                "tokens.write",
                None,
                self.now(),
            )?;
        }
        self.revoke_token(actor, Some(&tenant.id), rec).await
    }
}
