//! `rolecall token create --tenant T --principal P`: mint a token directly in the
//! database (for bootstrapping and operations; the API does the same over HTTP).

use anyhow::{anyhow, bail};
use rolecall_server::auth::mint;
use rolecall_server::open_store;

use crate::exit::Status;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Mint a token; prints the secret once.
    Create {
        /// Database URL, as for `serve`.
        #[arg(
            long,
            env = "ROLECALL_DATABASE_URL",
            default_value = "sqlite://rolecall.db"
        )]
        database_url: String,
        /// Tenant whose user the token acts as.
        #[arg(long, required_unless_present = "operator")]
        tenant: Option<String>,
        /// The user the token acts as.
        #[arg(long, required_unless_present = "operator")]
        principal: Option<String>,
        /// Mint an operator token instead.
        #[arg(long, conflicts_with_all = ["tenant", "principal"])]
        operator: bool,
    },
    /// Revoke a token by id.
    Revoke {
        /// Database URL, as for `serve`.
        #[arg(
            long,
            env = "ROLECALL_DATABASE_URL",
            default_value = "sqlite://rolecall.db"
        )]
        database_url: String,
        /// Tenant (omit for an operator token).
        #[arg(long)]
        tenant: Option<String>,
        /// Token id.
        id: String,
    },
}

pub fn run(c: Command) -> anyhow::Result<Status> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match c {
            Command::Create {
                database_url,
                tenant,
                principal,
                operator,
            } => {
                let store = open_store(&database_url).await?;
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let (secret, record) = if operator {
                    mint(None, None, now)
                } else {
                    let (Some(t), Some(p)) = (tenant, principal) else {
                        bail!("give --tenant and --principal, or --operator")
                    };
                    let loaded = store
                        .load_state(&t)
                        .await
                        .map_err(|e| anyhow!("tenant `{t}`: {e}"))?;
                    if !loaded
                        .state
                        .entities
                        .iter()
                        .any(|e| e.ty == "user" && e.id == p)
                    {
                        bail!("tenant `{t}` has no user `{p}`");
                    }
                    mint(Some(&t), Some(&p), now)
                };
                store.put_token(&record).await?;
                println!("{secret}");
                eprintln!(
                    "token id {} (shown once; only its hash is stored)",
                    record.id
                );
                Ok(Status::Ok)
            }
            Command::Revoke {
                database_url,
                tenant,
                id,
            } => {
                let store = open_store(&database_url).await?;
                if store.revoke_token(tenant.as_deref(), &id).await? {
                    println!("revoked {id}");
                    Ok(Status::Ok)
                } else {
                    bail!("no such token `{id}`")
                }
            }
        }
    })
}
