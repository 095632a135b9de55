//! A deterministic contact-center tenant and a stream of checks, sized by flags.
//!
//! Default: 10,000 users, 50 roles, 300 privileges, 500 queues (each user a member of
//! 1–5), 200,000 conversations (each with an agent and a queue), and checks mixed a
//! third each: pure privilege ("does U hold P"), queue-scoped ("may U monitor queue
//! Q": the monitoring privilege and either the all-queues privilege or membership of
//! Q), ownership ("may U edit conversation C": edit-all, or edit-own and U is C's
//! agent).

use std::fmt::Write;

use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use rolecall_core::profile::{GrantSpec, RoleSpec, Value};
use rolecall_core::state::{Assignment, Entity, Scope, TenantState};

/// Workload sizes.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Users.
    pub users: usize,
    /// Roles.
    pub roles: usize,
    /// Privileges (the three the mixed checks use are among them).
    pub privileges: usize,
    /// Queues.
    pub queues: usize,
    /// Conversations.
    pub conversations: usize,
    /// Checks.
    pub checks: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for Sizes {
    fn default() -> Self {
        Self {
            users: 10_000,
            roles: 50,
            privileges: 300,
            queues: 500,
            conversations: 200_000,
            checks: 1_000_000,
            seed: 42,
        }
    }
}

impl Sizes {
    /// The large tenant of issue 6: 100,000 users and 2,000,000 conversations.
    pub fn large() -> Self {
        Self {
            users: 100_000,
            conversations: 2_000_000,
            ..Self::default()
        }
    }

    /// Sizes from command-line flags: `--large` starts from [`Sizes::large`], then
    /// `--users`, `--roles`, `--privileges`, `--queues`, `--conversations`, `--checks`
    /// and `--seed` override single sizes (underscores allowed: `--users 100_000`).
    pub fn from_args(args: &[String]) -> Self {
        let base = if args.iter().any(|a| a == "--large") {
            Self::large()
        } else {
            Self::default()
        };
        let flag = |name: &str, default: usize| -> usize {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .and_then(|v| v.replace('_', "").parse().ok())
                .unwrap_or(default)
        };
        Self {
            users: flag("--users", base.users),
            roles: flag("--roles", base.roles),
            privileges: flag("--privileges", base.privileges),
            queues: flag("--queues", base.queues),
            conversations: flag("--conversations", base.conversations),
            checks: flag("--checks", base.checks),
            seed: flag("--seed", base.seed as usize) as u64,
        }
    }
}

/// The kind of a generated check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// Does the user hold a privilege?
    Privilege,
    /// May the user monitor a queue?
    Queue,
    /// May the user edit a conversation?
    Ownership,
}

/// One generated check, by string ids.
#[derive(Debug, Clone)]
pub struct Check {
    /// Its kind.
    pub kind: CheckKind,
    /// User id.
    pub principal: String,
    /// Action id.
    pub action: String,
    /// Resource type id.
    pub resource_type: &'static str,
    /// Resource id.
    pub resource_id: String,
}

/// A generated tenant and its checks.
pub struct Workload {
    /// The profile, as TOML text.
    pub profile_text: String,
    /// The tenant.
    pub state: TenantState,
    /// The checks.
    pub checks: Vec<Check>,
}

/// Privilege ids used by the mixed checks.
pub const MONITOR: &str = "queue_monitor";
/// Monitoring every queue, not only one's own.
pub const ALL_QUEUES: &str = "all_queues";
/// Editing one's own conversations.
pub const EDIT_OWN: &str = "edit_own";
/// Editing every conversation.
pub const EDIT_ALL: &str = "edit_all";

/// The profile: `privileges` privileges (every fifth levelled), one `hold.pN` action
/// per privilege, and the queue and conversation actions.
pub fn profile_text(privileges: usize) -> String {
    let mut t = String::from(
        "[profile]\nid = \"bench\"\nname = \"Benchmark\"\n\n[[org_unit_kind]]\nid = \"company\"\n[[org_unit_kind]]\nid = \"office\"\nparents = [\"company\"]\n\n",
    );
    t.push_str("[[resource_type]]\nid = \"conversation\"\nscope = \"queue\"\n[resource_type.relations]\nagent = { type = \"user\" }\nqueue = { type = \"queue\" }\n\n");
    t.push_str("[[section]]\nid = \"general\"\n[[section]]\nid = \"admin\"\n\n");
    for (id, name) in [
        (MONITOR, "View Queue Monitoring"),
        (ALL_QUEUES, "Monitor All Queues"),
        (EDIT_OWN, "Edit User's Own Historical Conversations"),
        (EDIT_ALL, "Edit All Historical Conversations"),
    ] {
        let _ = writeln!(
            t,
            "[[privilege]]\nid = \"{id}\"\nname = \"{name}\"\nparent = \"general\"\n"
        );
    }
    for i in 0..privileges.saturating_sub(4) {
        let parent = if i % 10 == 0 || i % 3 == 0 {
            "admin".to_owned()
        } else {
            format!("p{}", i - i % 10)
        };
        let _ = writeln!(
            t,
            "[[privilege]]\nid = \"p{i}\"\nname = \"Privilege {i}\"\nparent = \"{parent}\""
        );
        if i % 5 == 4 {
            t.push_str(
                "kind = \"levels\"\nlevels = [\"View only\", \"Modify\", \"Modify and delete\"]\n",
            );
        }
        t.push('\n');
    }
    for i in 0..privileges.saturating_sub(4) {
        let _ = writeln!(
            t,
            "[[action]]\nid = \"hold.p{i}\"\nresource = \"tenant\"\nrequires = 'has(\"p{i}\")'\n"
        );
    }
    t.push_str("[[action]]\nid = \"queue.monitor\"\nresource = \"queue\"\nrequires = '''has(\"queue_monitor\") and (has(\"all_queues\") or principal in resource.members)'''\n\n");
    t.push_str("[[action]]\nid = \"conversation.edit\"\nresource = \"conversation\"\nrequires = '''has(\"edit_all\") or (has(\"edit_own\") and resource.agent == principal)'''\n");
    t
}

/// Generates the workload.
pub fn generate(s: Sizes) -> Workload {
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
    let plain = s.privileges.saturating_sub(4);
    let mut entities = Vec::with_capacity(s.users + s.queues + s.conversations + 8);
    let kind = |k: &str| vec![("kind".to_owned(), Value::Str(k.into()))];
    entities.push(Entity {
        ty: "org_unit".into(),
        id: "hq".into(),
        name: None,
        relations: vec![],
        attributes: kind("company"),
    });
    let offices = 5;
    for o in 0..offices {
        entities.push(Entity {
            ty: "org_unit".into(),
            id: format!("office{o}"),
            name: None,
            relations: vec![("parent".into(), vec!["hq".into()])],
            attributes: kind("office"),
        });
    }
    for u in 0..s.users {
        entities.push(Entity {
            ty: "user".into(),
            id: format!("u{u}"),
            name: None,
            relations: vec![("org_unit".into(), vec![format!("office{}", u % offices)])],
            attributes: vec![],
        });
    }
    let mut members: Vec<Vec<String>> = vec![Vec::new(); s.queues];
    for u in 0..s.users {
        for _ in 0..rng.random_range(1..=5) {
            let q = rng.random_range(0..s.queues.max(1));
            if let Some(m) = members.get_mut(q) {
                m.push(format!("u{u}"));
            }
        }
    }
    for (q, m) in members.into_iter().enumerate() {
        entities.push(Entity {
            ty: "queue".into(),
            id: format!("q{q}"),
            name: None,
            relations: vec![
                ("org_unit".into(), vec![format!("office{}", q % offices)]),
                ("members".into(), m),
            ],
            attributes: vec![],
        });
    }
    for c in 0..s.conversations {
        entities.push(Entity {
            ty: "conversation".into(),
            id: format!("c{c}"),
            name: None,
            relations: vec![
                (
                    "agent".into(),
                    vec![format!("u{}", rng.random_range(0..s.users.max(1)))],
                ),
                (
                    "queue".into(),
                    vec![format!("q{}", rng.random_range(0..s.queues.max(1)))],
                ),
            ],
            attributes: vec![],
        });
    }
    let mut roles = Vec::with_capacity(s.roles);
    for r in 0..s.roles {
        let mut grants: Vec<(String, GrantSpec)> = Vec::new();
        for i in 0..plain {
            if rng.random_bool(0.07) {
                let v = if i % 5 == 4 {
                    let levels = ["View only", "Modify", "Modify and delete"];
                    GrantSpec::Str(levels.choose(&mut rng).copied().unwrap_or("Modify").into())
                } else {
                    GrantSpec::Bool(true)
                };
                grants.push((format!("p{i}"), v));
            }
        }
        for (id, p) in [
            (MONITOR, 0.5),
            (ALL_QUEUES, 0.2),
            (EDIT_OWN, 0.6),
            (EDIT_ALL, 0.15),
        ] {
            if rng.random_bool(p) {
                grants.push((id.into(), GrantSpec::Bool(true)));
            }
        }
        roles.push(RoleSpec {
            id: format!("role{r}"),
            name: Some(format!("Role {r}")),
            includes: if r > 0 && rng.random_bool(0.2) {
                vec![format!("role{}", rng.random_range(0..r))]
            } else {
                vec![]
            },
            grants,
            ..RoleSpec::default()
        });
    }
    let mut assignments = Vec::new();
    for u in 0..s.users {
        for _ in 0..rng.random_range(1..=3) {
            let scoped = rng.random_bool(0.1);
            assignments.push(Assignment {
                id: format!("a{}", assignments.len()),
                principal: format!("u{u}"),
                role: format!("role{}", rng.random_range(0..s.roles.max(1))),
                scope: if scoped {
                    Scope::OrgUnits(vec![format!("office{}", rng.random_range(0..offices))])
                } else {
                    Scope::Tenant
                },
                expires_at: None,
            });
        }
    }
    let state = TenantState {
        tenant_id: "bench".into(),
        tenant_name: None,
        settings: vec![],
        entities,
        roles,
        assignments,
        ..TenantState::default()
    };
    let mut checks = Vec::with_capacity(s.checks);
    for i in 0..s.checks {
        let principal = format!("u{}", rng.random_range(0..s.users.max(1)));
        let check = match i % 3 {
            0 => Check {
                kind: CheckKind::Privilege,
                principal,
                action: format!("hold.p{}", rng.random_range(0..plain.max(1))),
                resource_type: "tenant",
                resource_id: "bench".into(),
            },
            1 => Check {
                kind: CheckKind::Queue,
                principal,
                action: "queue.monitor".into(),
                resource_type: "queue",
                resource_id: format!("q{}", rng.random_range(0..s.queues.max(1))),
            },
            _ => Check {
                kind: CheckKind::Ownership,
                principal,
                action: "conversation.edit".into(),
                resource_type: "conversation",
                resource_id: format!("c{}", rng.random_range(0..s.conversations.max(1))),
            },
        };
        checks.push(check);
    }
    Workload {
        profile_text: profile_text(s.privileges),
        state,
        checks,
    }
}
