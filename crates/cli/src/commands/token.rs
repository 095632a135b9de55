//! `rolecall token create --tenant T --principal P`: mint a token directly in the
//! database (for bootstrapping and operations; the API does the same over HTTP).

use anyhow::{anyhow, bail};
use rolecall_engine::tokens::mint;
use rolecall_engine::{Actor, open_store};
use rolecall_store::AuditDraft;

use crate::exit::Status;

/// The actor of tokens minted and revoked from the command line.
const CLI: Actor = Actor::System { name: "cli" };

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
                let audit: Vec<AuditDraft> = match (&record.tenant, &record.principal) {
                    (Some(_), Some(p)) => vec![AuditDraft {
                        action: "token.create".into(),
                        target: format!("user:{p}"),
                        before: None,
                        after: Some(serde_json::json!({"token": record.id}).to_string()),
                    }],
                    _ => Vec::new(),
                };
                store
                    .put_token_audited(&record, &audit, &CLI.name(), now)
                    .await?;
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
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let audit: Vec<AuditDraft> = match tenant.as_deref() {
                    Some(t) => {
                        let tokens = store.list_tokens(Some(t)).await?;
                        let principal = tokens
                            .iter()
                            .find(|r| r.id == id)
                            .and_then(|r| r.principal.clone());
                        vec![AuditDraft {
                            action: "token.revoke".into(),
                            target: principal
                                .map_or_else(|| format!("token:{id}"), |p| format!("user:{p}")),
                            before: Some(serde_json::json!({"token": id}).to_string()),
                            after: None,
                        }]
                    }
                    None => Vec::new(),
                };
                if store
                    .revoke_token_audited(tenant.as_deref(), &id, &audit, &CLI.name(), now)
                    .await?
                {
                    println!("revoked {id}");
                    Ok(Status::Ok)
                } else {
                    bail!("no such token `{id}`")
                }
            }
        }
    })
}
