//! The profile loader on arbitrary text: it must answer a profile or positioned
//! errors, never panic, overflow the stack or run away; a loaded profile must compile
//! (with an empty tenant) and give its catalog.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rolecall_core::{Snapshot, TenantState, load_profile};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(profile) = load_profile("fuzz.toml", &text) {
        let catalog = rolecall_core::profile::catalog::catalog(&profile);
        std::hint::black_box(format!("{catalog:?}").len());
        let _ = Snapshot::build(Arc::new(profile), &TenantState::default());
    }
});
