//! Reading profile and world files from disk.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use rolecall_core::world::{World, parse_world};
use rolecall_core::{Profile, Snapshot, load_profile};

/// Reads and validates a profile.
pub fn profile(path: &Path) -> anyhow::Result<Profile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    load_profile(&path.display().to_string(), &text).map_err(|d| anyhow!("{d}"))
}

/// A world with its profile and snapshot.
pub struct Loaded {
    pub world: World,
    pub snapshot: Snapshot,
}

/// Reads a world, its profile (relative to the world file) and builds the snapshot.
pub fn world(path: &Path) -> anyhow::Result<Loaded> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let world = parse_world(&path.display().to_string(), &text).map_err(|d| anyhow!("{d}"))?;
    let profile_path: PathBuf = path
        .parent()
        .unwrap_or(Path::new("."))
        .join(&world.profile_path);
    let profile = profile(&profile_path)?;
    let snapshot = world.build(Arc::new(profile)).map_err(|d| anyhow!("{d}"))?;
    Ok(Loaded { world, snapshot })
}

/// Parses an RFC 3339 time into Unix seconds.
pub fn time(s: &str) -> anyhow::Result<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| anyhow!("invalid time `{s}`: {e}; expected e.g. 2026-12-01T00:00:00Z"))
}
