//! `--demo`: one tenant per shipped profile, filled with realistic content, created
//! once (a tenant that already exists is left as it is).

use std::sync::Arc;

use rolecall_core::MemState;
use rolecall_store::NewTenant;

use crate::app::{AppState, now};
use crate::tenant::Tenant;

/// Well-known demo users that get a token printed at creation.
pub const DEMO_USERS: &[&str] = &["admin", "supervisor", "agent"];

/// Creates the missing demo tenants; prints each new tenant's demo tokens once.
pub async fn ensure(state: &Arc<AppState>) -> anyhow::Result<()> {
    for (profile_id, text) in crate::profiles::SHIPPED {
        let id = format!("demo-{profile_id}");
        if state.tenant(&id).is_ok() {
            continue;
        }
        let profile =
            rolecall_core::load_profile(profile_id, text).map_err(|e| anyhow::anyhow!("{e}"))?;
        let changes = crate::demo::demo_changes(profile_id, &profile, 7);
        // Validate before writing anything.
        let mut mem = MemState::new(rolecall_core::state::TenantState {
            tenant_id: id.clone(),
            ..Default::default()
        });
        for c in &changes {
            mem.apply(&profile, c);
        }
        rolecall_core::Snapshot::build(Arc::new(profile.clone()), &mem.state)
            .map_err(|e| anyhow::anyhow!("demo tenant `{id}` does not compile: {:?}", e.first()))?;
        let new = NewTenant {
            id: id.clone(),
            name: format!("Demo: {}", profile.name),
            profile_id: (*profile_id).to_owned(),
            profile_text: (*text).to_owned(),
        };
        state.store.create_tenant(&new, "demo", now()).await?;
        state
            .store
            .apply(&id, None, &changes, "demo", now())
            .await?;
        let record = state
            .store
            .get_tenant(&id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo tenant `{id}` vanished"))?;
        let tenant = Tenant::load(state.store.as_ref(), record).await?;
        let users: Vec<String> = DEMO_USERS
            .iter()
            .filter(|u| {
                tenant
                    .current()
                    .snapshot
                    .entity(rolecall_core::profile::USER, u)
                    .is_some()
            })
            .map(|u| (*u).to_owned())
            .collect();
        state
            .tenants
            .write()
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .insert(id.clone(), Arc::new(tenant));
        let mut lines = Vec::new();
        for u in users {
            let (secret, record) = crate::auth::mint(Some(&id), Some(&u), now());
            state.store.put_token(&record).await?;
            lines.push(format!("    {u:<11} {secret}"));
        }
        println!(
            "demo tenant `{id}` ({}): tokens\n{}",
            profile.name,
            lines.join("\n")
        );
    }
    Ok(())
}
