//! The requirement language on arbitrary text: parsed alone, then as an action's
//! requirement in a small profile (resolved against it, compiled, evaluated and
//! explained for every user of a small tenant). Any evaluation error must be a denial.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use rolecall_core::world::{World, parse_world};
use rolecall_core::{Request, load_profile};

const PROFILE: &str = include_str!("../../crates/core/tests/bad/good.profile");
const WORLD: &str = include_str!("../../crates/core/tests/bad/good.world");

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| parse_world("good.world", WORLD).expect("the seed world parses"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(expr) = std::str::from_utf8(data) else {
        return;
    };
    let _ = rolecall_core::expr::parse(expr);
    // TOML literal strings cannot hold `'''`; such inputs were parsed above.
    if expr.contains("'''") {
        return;
    }
    let text = format!(
        "{PROFILE}\n[[action]]\nid = \"fuzzed\"\nresource = \"conversation\"\nrequires = '''{expr}'''\n"
    );
    let Ok(profile) = load_profile("good.profile", &text) else {
        return;
    };
    let Ok(snap) = world().build(Arc::new(profile)) else {
        return;
    };
    let ctx = rolecall_core::Context::default();
    for principal in ["alice", "bob", "carol", "mgr", "nobody"] {
        for resource in ["c1", "c2", "missing"] {
            let req = Request {
                principal,
                action: "fuzzed",
                resource_type: "conversation",
                resource_id: resource,
                context: &ctx,
                now: 1_800_000_000,
            };
            let d = snap.check(&req);
            assert!(!(d.allowed && d.error.is_some()), "an error allowed: {d:?}");
            assert_eq!(snap.explain(&req).decision, d, "explain differs from check");
        }
    }
});
