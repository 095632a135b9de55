//! `rolecall who-can` / `rolecall what-can` on a world file.

use std::path::PathBuf;

use anyhow::{anyhow, bail};
use rolecall_core::Context;

use crate::exit::Status;
use crate::files;

#[derive(Debug, clap::Args)]
pub struct WhoCan {
    /// World file.
    #[arg(long)]
    world: PathBuf,
    /// Action id.
    #[arg(long)]
    action: String,
    /// Resource as TYPE:ID.
    #[arg(long)]
    resource: String,
    /// Evaluation time (RFC 3339); default the world's `now`.
    #[arg(long)]
    at: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct WhatCan {
    /// World file.
    #[arg(long)]
    world: PathBuf,
    /// User id.
    #[arg(long)]
    principal: String,
    /// Action id (its resource type is searched).
    #[arg(long)]
    action: String,
    /// Evaluation time (RFC 3339); default the world's `now`.
    #[arg(long)]
    at: Option<String>,
}

fn time(world_now: i64, at: &Option<String>) -> anyhow::Result<i64> {
    match at {
        Some(t) => files::time(t),
        None => Ok(world_now),
    }
}

pub fn who_can(a: WhoCan) -> anyhow::Result<Status> {
    let l = files::world(&a.world)?;
    let Some((ty, id)) = a.resource.split_once(':') else {
        bail!("resource `{}` must be TYPE:ID", a.resource)
    };
    let now = time(l.world.now, &a.at)?;
    let ids = l
        .snapshot
        .lookup_subjects(&a.action, ty, id, &Context::new(), now)
        .map_err(|e| anyhow!("{e}"))?;
    for i in &ids {
        println!("{i}");
    }
    eprintln!("{} users may {} {}", ids.len(), a.action, a.resource);
    Ok(Status::Ok)
}

pub fn what_can(a: WhatCan) -> anyhow::Result<Status> {
    let l = files::world(&a.world)?;
    let now = time(l.world.now, &a.at)?;
    let ids = l
        .snapshot
        .lookup_resources(&a.principal, &a.action, &Context::new(), now)
        .map_err(|e| anyhow!("{e}"))?;
    for i in &ids {
        println!("{i}");
    }
    eprintln!(
        "`{}` may {} on {} resources",
        a.principal,
        a.action,
        ids.len()
    );
    Ok(Status::Ok)
}
