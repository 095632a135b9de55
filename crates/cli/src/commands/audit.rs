//! `rolecall audit verify|export`: the audit trail straight from the database.

use anyhow::bail;
use rolecall_engine::open_store;
use rolecall_store::AuditFilter;

use crate::exit::Status;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Recompute the tenant's audit hash chain; report the first altered entry.
    ///
    /// Exit status: 0 intact, 1 altered, 2 error.
    Verify {
        /// Database URL, as for `serve`.
        #[arg(
            long,
            env = "ROLECALL_DATABASE_URL",
            default_value = "sqlite://rolecall.db"
        )]
        database_url: String,
        /// Tenant id.
        #[arg(long)]
        tenant: String,
    },
    /// Print the tenant's audit trail as JSON lines.
    Export {
        /// Database URL, as for `serve`.
        #[arg(
            long,
            env = "ROLECALL_DATABASE_URL",
            default_value = "sqlite://rolecall.db"
        )]
        database_url: String,
        /// Tenant id.
        #[arg(long)]
        tenant: String,
    },
}

pub fn run(c: Command) -> anyhow::Result<Status> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match c {
            Command::Verify { database_url, tenant } => {
                let store = open_store(&database_url).await?;
                let v = store.verify_audit(&tenant).await?;
                match v.first_bad {
                    None => {
                        println!("intact: {} entries of tenant `{tenant}` verified", v.entries);
                        Ok(Status::Ok)
                    }
                    Some((seq, reason)) => {
                        println!("ALTERED: entry {seq} of tenant `{tenant}`: {reason}");
                        Ok(Status::Denied)
                    }
                }
            }
            Command::Export { database_url, tenant } => {
                let store = open_store(&database_url).await?;
                if store.get_tenant(&tenant).await?.is_none() {
                    bail!("unknown tenant `{tenant}`");
                }
                let mut after = 0;
                loop {
                    let page = store
                        .audit(
                            &tenant,
                            &AuditFilter {
                                after_seq: Some(after),
                                limit: 10_000,
                                ..AuditFilter::default()
                            },
                        )
                        .await?;
                    if page.is_empty() {
                        return Ok(Status::Ok);
                    }
                    for r in page {
                        after = r.seq;
                        let line = serde_json::json!({
                            "seq": r.seq, "revision": r.revision, "at": r.at, "actor": r.actor,
                            "action": r.action, "target": r.target, "before": r.before, "after": r.after,
                            "prev_hash": r.prev_hash, "hash": r.hash,
                        });
                        println!("{line}");
                    }
                }
            }
        }
    })
}
