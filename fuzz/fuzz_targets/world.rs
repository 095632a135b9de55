//! World files on arbitrary text: parsed, built against the seed profile, and their
//! assertions run; never a panic.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use rolecall_core::world::{parse_world, run_assertions};
use rolecall_core::{Profile, load_profile};

const PROFILE: &str = include_str!("../../crates/core/tests/bad/good.profile");

fn profile() -> Arc<Profile> {
    static P: OnceLock<Arc<Profile>> = OnceLock::new();
    P.get_or_init(|| {
        Arc::new(load_profile("good.profile", PROFILE).expect("the seed profile loads"))
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(world) = parse_world("fuzz.world", &text)
        && let Ok(snap) = world.build(profile())
    {
        std::hint::black_box(run_assertions(&world, &snap).len());
    }
});
