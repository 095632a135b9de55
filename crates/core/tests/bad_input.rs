//! Bad profiles and worlds: each file under tests/bad/ starts with
//! `# expect: LINE:COLUMN: message fragment` and must fail to load with a
//! diagnostic at that place containing that text. No input may panic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation should stop the test"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rolecall_core::world::parse_world;
use rolecall_core::{Diagnostics, load_profile};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad")
}

fn good_profile() -> rolecall_core::Profile {
    let text = std::fs::read_to_string(dir().join("good.profile")).unwrap();
    load_profile("good.profile", &text).unwrap()
}

fn load(path: &Path) -> Result<(), Diagnostics> {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let text = std::fs::read_to_string(path).unwrap();
    if name.ends_with(".world.toml") {
        let w = parse_world(&name, &text)?;
        w.build(Arc::new(good_profile())).map(|_| ())
    } else {
        load_profile(&name, &text).map(|_| ())
    }
}

#[test]
fn bad_inputs_fail_with_positioned_errors() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "only {} bad inputs", files.len());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let first = text.lines().next().unwrap_or("");
        let expect = first
            .strip_prefix("# expect: ")
            .unwrap_or_else(|| panic!("{}: first line must be `# expect: L:C: text`", f.display()));
        let (pos, fragment) = expect.split_once(": ").unwrap();
        let err = match load(&f) {
            Ok(()) => panic!("{} loaded, but should fail with {expect}", f.display()),
            Err(e) => e,
        };
        let found = err.0.iter().any(|d| {
            let loc = d
                .location
                .as_ref()
                .map(|l| format!("{}:{}", l.line, l.column))
                .unwrap_or_default();
            loc == pos && d.message.contains(fragment)
        });
        assert!(found, "{}: expected `{expect}`, got:\n{err}", f.display());
    }
}

#[test]
fn arbitrary_text_never_panics() {
    // Truncations and byte flips of a valid profile and world: errors, never panics.
    let profile = std::fs::read_to_string(dir().join("good.profile")).unwrap();
    let world = std::fs::read_to_string(dir().join("good.world")).unwrap();
    for text in [&profile, &world] {
        let bytes = text.as_bytes();
        for cut in (0..bytes.len()).step_by(7) {
            let s = String::from_utf8_lossy(&bytes[..cut]).to_string();
            let _ = load_profile("cut", &s);
            if let Ok(w) = parse_world("cut", &s) {
                let _ = w.build(Arc::new(good_profile()));
            }
        }
        for i in (0..bytes.len()).step_by(3) {
            let mut b = bytes.to_vec();
            b[i] = b"\"'[]{}=.,x1 \n#"[i % 15];
            let s = String::from_utf8_lossy(&b).to_string();
            let _ = load_profile("flip", &s);
            if let Ok(w) = parse_world("flip", &s) {
                let _ = w.build(Arc::new(good_profile()));
            }
        }
    }
}

#[test]
fn the_good_world_loads() {
    let text = std::fs::read_to_string(dir().join("good.world")).unwrap();
    let w = parse_world("good.world", &text).unwrap();
    w.build(Arc::new(good_profile())).unwrap();
}
