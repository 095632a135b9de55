//! `--demo`: one tenant per shipped profile, filled with realistic content
//! ([`data::demo_changes`]) through the ordinary write path — validated, committed in
//! one revision and audited like any other write — and created once (a tenant that
//! already exists is left as it is).

pub mod data;

use rolecall_core::profile::USER;

use crate::actor::Actor;
use crate::commands::ApplyChanges;
use crate::error::{EngineError, EngineResult};
use crate::registry::{Engine, ProfileSource, TenantSpec};

pub use data::{ADMIN_USER, AGENT_USER, DEMO_EPOCH, SUPERVISOR_USER};

/// Well-known demo users that get a token at creation.
pub const DEMO_USERS: &[&str] = &[ADMIN_USER, SUPERVISOR_USER, AGENT_USER];

/// A demo tenant created now, with a token for each well-known user (shown once).
#[derive(Debug, Clone)]
pub struct DemoTenant {
    /// Tenant id.
    pub id: String,
    /// The profile's display name.
    pub profile_name: String,
    /// (user, secret) of each well-known user.
    pub tokens: Vec<(String, String)>,
}

/// The actor of demo writes.
const DEMO: Actor = Actor::System { name: "demo" };

impl Engine {
    /// Creates the missing demo tenants; returns the ones created now with their tokens.
    pub async fn seed_demo(&self) -> EngineResult<Vec<DemoTenant>> {
        let mut created = Vec::new();
        for (profile_id, text) in crate::profiles::SHIPPED {
            let id = format!("demo-{profile_id}");
            if self.tenant(&id).is_ok() {
                continue;
            }
            let profile = rolecall_core::load_profile(profile_id, text)
                .map_err(|e| EngineError::internal(format!("profile `{profile_id}`: {e}")))?;
            let changes = data::demo_changes(profile_id, &profile, 7);
            let created_now = self
                .create_tenant(
                    &DEMO,
                    TenantSpec {
                        id: id.clone(),
                        name: Some(format!("Demo: {}", profile.name)),
                        profile: ProfileSource::Shipped((*profile_id).to_owned()),
                    },
                )
                .await;
            let tenant = match created_now {
                Ok(t) => t,
                // Another node created it meanwhile: it seeds it.
                Err(
                    EngineError::Exists(_)
                    | EngineError::Store(rolecall_store::StoreError::Exists(_)),
                ) => {
                    continue;
                }
                Err(e) => return Err(e),
            };
            tenant.execute(&DEMO, &ApplyChanges(changes)).await?;
            let view = tenant.current();
            let mut tokens = Vec::new();
            for u in DEMO_USERS {
                if view.snapshot.entity(USER, u).is_some() {
                    let m = self.mint_token(&DEMO, Some(&id), Some(u)).await?;
                    tokens.push(((*u).to_owned(), m.secret));
                }
            }
            created.push(DemoTenant {
                id,
                profile_name: profile.name.clone(),
                tokens,
            });
        }
        Ok(created)
    }
}
