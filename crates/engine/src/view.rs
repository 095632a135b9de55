//! A tenant's current, immutable view: its profile, its state with an index, the
//! compiled snapshot and the revision they are at. Readers hold an `Arc` of it and
//! never lock; a write replaces it whole.

use std::sync::Arc;

use rolecall_core::{MemState, Profile, Snapshot};
use rolecall_store::TenantRecord;

/// One revision of a tenant, as every reader sees it.
#[derive(Debug)]
pub struct View {
    /// The stored record (name, profile id).
    pub record: TenantRecord,
    /// The profile.
    pub profile: Arc<Profile>,
    /// The state with its index.
    pub mem: MemState,
    /// The compiled snapshot.
    pub snapshot: Arc<Snapshot>,
    /// The revision this view is at.
    pub revision: u64,
}

impl View {
    /// The tenant id.
    pub fn tenant_id(&self) -> &str {
        &self.record.id
    }

    /// The version of custom role `id` (1 for a stored role without one), if it exists.
    pub fn role_version(&self, id: &str) -> Option<u64> {
        self.mem
            .state
            .roles
            .iter()
            .any(|r| r.id == id)
            .then(|| self.mem.role_versions.get(id).copied().unwrap_or(1))
    }

    /// The assignment with this id.
    pub fn assignment(&self, id: &str) -> Option<&rolecall_core::Assignment> {
        self.mem.state.assignments.iter().find(|a| a.id == id)
    }
}

/// Formats snapshot build errors for a client: the first five, and how many more.
pub fn describe(errors: &[rolecall_core::StateError]) -> String {
    let mut msgs: Vec<String> = errors.iter().take(5).map(|e| e.message.clone()).collect();
    if errors.len() > 5 {
        msgs.push(format!("and {} more", errors.len() - 5));
    }
    msgs.join("; ")
}
