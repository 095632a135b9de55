//! The tenant the server benchmarks run against: a generated tenant (`bench`) of the
//! given size whose user `svc`, standing for the contact-center application, may check
//! others and give roles; tokens minted with the CLI; a JSON POST.

use std::process::Command;

use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use rolecall_core::profile::{GrantSpec, RoleSpec, SodRule};
use rolecall_core::state::{Assignment, Scope};
use rolecall_store::{Change, NewTenant, Store};

use crate::workload::{Sizes, generate};

type Result<T> = std::result::Result<T, String>;

/// Separation-of-duty rules in the tenant (every write checks them).
pub const SOD_RULES: usize = 10;

/// The time the seeded tenant was created at.
pub const SEEDED_AT: i64 = 1_800_000_000;

/// Mints a token with the CLI (`--operator` or a tenant user).
pub fn mint(bin: &str, url: &str, principal: Option<&str>) -> Result<String> {
    let mut cmd = Command::new(bin);
    cmd.args(["token", "create", "--database-url", url]);
    match principal {
        Some(p) => cmd.args(["--tenant", "bench", "--principal", p]),
        None => cmd.arg("--operator"),
    };
    let out = cmd.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Creates tenant `bench` with `users` generated users and the application user
/// `svc`; returns the generated state's first role id and the seeding RNG.
pub async fn seed_app_tenant(store: &dyn Store, users: usize) -> Result<(String, ChaCha8Rng)> {
    let w = generate(Sizes {
        users,
        conversations: users * 2,
        checks: 0,
        ..Sizes::default()
    });
    // The application's user `svc` may check others: `check.others` is `hold.p1`.
    // Every other management operation is the operator's.
    let mut profile_text = format!("{}\n[management]\n", w.profile_text);
    for op in rolecall_core::profile::MANAGEMENT_OPS {
        let action = match op.id {
            "check.others" | "assignments.write" => "hold.p1",
            _ => "operator",
        };
        profile_text.push_str(&format!("\"{}\" = \"{action}\"\n", op.id));
    }
    let profile =
        rolecall_core::load_profile("bench.toml", &profile_text).map_err(|e| e.to_string())?;
    let mut changes = crate::seed::changes(&profile, &w.state);
    changes.push(Change::UpsertEntity {
        ty: "user".into(),
        id: "svc".into(),
        name: Some("Contact-center application".into()),
        attributes: vec![],
    });
    changes.push(Change::PutRole {
        role: RoleSpec {
            id: "svc".into(),
            name: Some("Application".into()),
            grants: vec![("p1".into(), GrantSpec::Bool(true))],
            ..RoleSpec::default()
        },
        version: 1,
    });
    changes.push(Change::PutAssignment(Assignment {
        id: "svc".into(),
        principal: "svc".into(),
        role: "svc".into(),
        scope: Scope::Tenant,
        expires_at: None,
    }));
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let flags: Vec<usize> = (5..250).filter(|i| i % 5 != 4).collect();
    for r in 0..SOD_RULES {
        let a = flags.choose(&mut rng).copied().unwrap_or(5);
        let b = flags.choose(&mut rng).copied().unwrap_or(6);
        changes.push(Change::PutSodRule(SodRule {
            id: format!("sod{r}"),
            name: None,
            privileges: vec![format!("p{a}"), format!("p{b}")],
            roles: vec![],
        }));
    }
    let now = SEEDED_AT;
    store
        .create_tenant(
            &NewTenant {
                id: "bench".into(),
                name: "Benchmark".into(),
                profile_id: "bench".into(),
                profile_text,
            },
            "bench",
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
    store
        .apply("bench", None, &changes, "bench", now)
        .await
        .map_err(|e| e.to_string())?;
    let role = w
        .state
        .roles
        .first()
        .map(|r| r.id.clone())
        .unwrap_or_default();
    Ok((role, rng))
}

/// POSTs `body` with `token`; the JSON answer, or the status and body as an error.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value> {
    let r = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let v: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{url}: {status}: {v}"));
    }
    Ok(v)
}
