//! Every shipped profile validates, and every world file beside it passes all of
//! its assertions (the same runner `rolecall test` uses).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation should stop the test"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rolecall_core::load_profile;
use rolecall_core::world::{Outcome, parse_world, run_assertions};

fn profiles_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles")
}

fn files(suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(profiles_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

#[test]
fn every_profile_validates() {
    let profiles: Vec<PathBuf> = files(".toml")
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".world.toml"))
        .collect();
    assert!(
        profiles.len() >= 5,
        "expected the five seed profiles, found {profiles:?}"
    );
    for p in profiles {
        let text = std::fs::read_to_string(&p).unwrap();
        if let Err(e) = load_profile(&p.display().to_string(), &text) {
            panic!("{e}");
        }
    }
}

#[test]
fn every_world_passes() {
    let worlds = files(".world.toml");
    assert!(
        worlds.len() >= 5,
        "expected a world per profile, found {worlds:?}"
    );
    for w in worlds {
        let text = std::fs::read_to_string(&w).unwrap();
        let world = parse_world(&w.display().to_string(), &text).unwrap_or_else(|e| panic!("{e}"));
        let profile_path = w.parent().unwrap().join(&world.profile_path);
        let ptext = std::fs::read_to_string(&profile_path).unwrap();
        let profile = load_profile(&profile_path.display().to_string(), &ptext)
            .unwrap_or_else(|e| panic!("{e}"));
        let snap = world
            .build(Arc::new(profile))
            .unwrap_or_else(|e| panic!("{e}"));
        let results = run_assertions(&world, &snap);
        assert!(
            results.len() >= 30,
            "{}: only {} assertions",
            w.display(),
            results.len()
        );
        let allowed = results.iter().filter(|r| r.assertion.expect).count();
        assert!(
            allowed > 0 && allowed < results.len(),
            "{}: assertions must expect both allow and deny",
            w.display()
        );
        let failures: Vec<String> = results
            .iter()
            .filter(|r| r.outcome == Outcome::Fail)
            .map(|r| {
                format!(
                    "{}\n{}",
                    r.line(),
                    r.explanation.clone().unwrap_or_default()
                )
            })
            .collect();
        assert!(
            failures.is_empty(),
            "{}:\n{}",
            w.display(),
            failures.join("\n")
        );
    }
}
