//! `rolecall check --world W --principal P --action A --resource TYPE:ID [--explain]`:
//! the decision (exit 0 allowed, 1 denied, 2 error), its explanation on request, and
//! the obligations an allowed decision carries.

use std::path::PathBuf;

use anyhow::{anyhow, bail};
use rolecall_core::profile::Value;
use rolecall_core::{Context, Request};

use crate::exit::Status;
use crate::files;

pub struct Args {
    pub world: PathBuf,
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub context: Vec<String>,
    pub at: Option<String>,
    pub explain: bool,
}

/// Parses `KEY=VALUE` pairs; `true`/`false` and integers are typed.
pub fn context(pairs: &[String]) -> anyhow::Result<Context> {
    let mut ctx = Context::new();
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| anyhow!("context `{pair}` must be KEY=VALUE"))?;
        let value = match v {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => v
                .parse::<i64>()
                .map_or_else(|_| Value::Str(v.to_owned()), Value::Int),
        };
        ctx.insert(k.to_owned(), value);
    }
    Ok(ctx)
}

pub fn run(a: &Args) -> anyhow::Result<Status> {
    let loaded = files::world(&a.world)?;
    let Some((ty, id)) = a.resource.split_once(':') else {
        bail!("resource `{}` must be written TYPE:ID", a.resource);
    };
    let now = match &a.at {
        Some(t) => files::time(t)?,
        None if loaded.world.now != 0 => loaded.world.now,
        None => time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let ctx = context(&a.context)?;
    let req = Request {
        principal: &a.principal,
        action: &a.action,
        resource_type: ty,
        resource_id: id,
        context: &ctx,
        now,
    };
    let explanation = loaded.snapshot.explain(&req);
    let d = &explanation.decision;
    if let Some(e) = &d.error {
        eprintln!("error: {e}");
        return Ok(Status::Error);
    }
    if a.explain {
        print!("{}", explanation.render());
    } else {
        println!("{}", if d.allowed { "allow" } else { "deny" });
    }
    // An allowed decision may carry conditions (Horizon's "Agents Anonymous" allows
    // viewing live agents, masked): print each, with what it asks of the application.
    let profile = loaded.snapshot.profile();
    let action = profile
        .action(&a.action)
        .and_then(|i| profile.actions.get(i));
    for id in loaded.snapshot.obligation_ids(&a.action, d.obligations) {
        let description = action
            .and_then(|x| x.obligations.iter().find(|o| o.id == id))
            .and_then(|o| o.description.as_deref());
        match description {
            Some(text) => println!("obligation: {id} — {text}"),
            None => println!("obligation: {id}"),
        }
    }
    Ok(if d.allowed {
        Status::Ok
    } else {
        Status::Denied
    })
}
