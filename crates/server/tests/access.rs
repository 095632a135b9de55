//! The API's own access control, as a data-driven matrix: for each shipped profile, each
//! of its role templates held tenant-wide, each template the profile appoints over an
//! org unit held over one (a scoped administrator, acting on objects inside and outside
//! its scope), and service credentials, every tenant route of the API is called with a
//! valid request, and the status is compared with the profile's table in
//! `tests/access/<profile>.txt` (one line per actor, route and object: `inside`,
//! `outside` or `-`). Run on SQLite and PostgreSQL.
//!
//! `ROLECALL_ACCESS_BLESS=1 cargo test -p rolecall-server --test access` rewrites the
//! tables from what the server answers; review the diff against the seeds before
//! committing it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use reqwest::Method;
use rolecall_core::Profile;
use rolecall_core::profile::{ORG_UNIT, ScopeKind};
use serde_json::{Value, json};
use support::{Backend, ROUTES, TestServer};

const T: &str = "t";

/// Who calls.
#[derive(Debug, Clone)]
enum Who {
    /// A user holding this template over the tenant, or over `<kind>-a`.
    Role { role: String, kind: Option<String> },
    /// A service credential with these abilities, writing as a user holding `as_role`.
    Credential {
        abilities: &'static [&'static str],
        as_role: Option<String>,
        scoped: bool,
    },
}

/// One actor of a profile's matrix.
#[derive(Debug, Clone)]
struct Actor {
    name: String,
    who: Who,
}

/// What a profile declares that the fixture and the requests need.
struct Shape {
    profile: Profile,
    /// Org unit kinds, in file order, each with its first allowed parent kind.
    kinds: Vec<(String, Option<String>)>,
    /// A resource type with a scope relation: (type, scope relation, its target type).
    resource: Option<(String, String, String)>,
    /// The smallest template (by granted privileges), for assignments and copies.
    small_role: String,
    /// An action for checks and lookups, and its resource type (`tenant`, `user` or
    /// `org_unit`).
    check_action: (String, String),
}

fn shape(profile_id: &str) -> Shape {
    let text = rolecall_engine::profiles::shipped(profile_id).unwrap();
    let profile = rolecall_core::load_profile(profile_id, text).unwrap();
    let kinds = profile
        .org_kinds
        .iter()
        .map(|k| {
            let parent = k
                .parents
                .first()
                .and_then(|i| profile.org_kinds.get(*i))
                .map(|p| p.id.clone());
            (k.id.clone(), parent)
        })
        .collect();
    let resource = profile
        .types
        .iter()
        .skip(5)
        .filter_map(|t| {
            let r = t.relations.get(t.scope?)?;
            let target = profile.types.get(r.target)?;
            Some((t.id.clone(), r.name.clone(), target.id.clone()))
        })
        .next();
    let small_role = profile
        .roles
        .iter()
        .min_by_key(|r| (r.grants.len() + r.includes.len(), r.id.clone()))
        .unwrap()
        .id
        .clone();
    let check_action = [
        rolecall_core::profile::TENANT,
        rolecall_core::profile::USER,
        ORG_UNIT,
    ]
    .iter()
    .find_map(|&t| {
        let a = profile.actions.iter().find(|a| a.resource == t)?;
        Some((a.id.clone(), profile.types.get(t)?.id.clone()))
    })
    .unwrap();
    Shape {
        profile,
        kinds,
        resource,
        small_role,
        check_action,
    }
}

/// Every actor of a profile's matrix.
fn actors(sh: &Shape) -> Vec<Actor> {
    let p = &sh.profile;
    let mut out: Vec<Actor> = p
        .roles
        .iter()
        .map(|r| Actor {
            name: r.id.clone(),
            who: Who::Role {
                role: r.id.clone(),
                kind: None,
            },
        })
        .collect();
    // Roles the profile appoints over an org unit, held over one.
    for a in &p.appointments {
        let kind = a.scope_kinds.iter().find_map(|k| match k {
            ScopeKind::OrgKind(i) => p.org_kinds.get(*i).map(|k| k.id.clone()),
            ScopeKind::Tenant => None,
        });
        if let Some(kind) = kind {
            out.push(Actor {
                name: format!("{}@{kind}", a.role),
                who: Who::Role {
                    role: a.role.clone(),
                    kind: Some(kind),
                },
            });
        }
    }
    // The most powerful template: the first one (each profile lists its administrator
    // first or includes it), for the writing credential.
    let admin = p
        .roles
        .iter()
        .max_by_key(|r| (r.grants.len() + 10 * r.includes.len(), r.id.clone()))
        .map(|r| r.id.clone());
    out.push(Actor {
        name: "app-decide".into(),
        who: Who::Credential {
            abilities: &["decide", "read"],
            as_role: None,
            scoped: false,
        },
    });
    out.push(Actor {
        name: "app-scoped".into(),
        who: Who::Credential {
            abilities: &["decide", "read"],
            as_role: None,
            scoped: true,
        },
    });
    out.push(Actor {
        name: "app-write".into(),
        who: Who::Credential {
            abilities: &["decide", "read", "write"],
            as_role: admin,
            scoped: false,
        },
    });
    out
}

/// A tenant built for one actor: org units `<kind>-a` / `<kind>-b` of every kind, the
/// actor's scope unit and a sibling, users, a group, queues and resources inside and
/// outside that scope, a custom role, assignments, tokens; and the actor's token.
struct Fixture<'a> {
    s: &'a TestServer,
    sh: &'a Shape,
    token: String,
    /// The unit objects "inside" hang in, and its sibling for "outside".
    inside: String,
    outside: String,
    n: std::cell::Cell<u32>,
}

fn tp(path: &str) -> String {
    format!("/v1/tenants/{T}{path}")
}

impl<'a> Fixture<'a> {
    async fn build(s: &'a TestServer, sh: &'a Shape, actor: &Actor) -> Fixture<'a> {
        s.tenant(T, &sh.profile.id).await;
        // Two parallel trees: every `-a` unit under an `-a` parent, every `-b` unit under a
        // `-b` one, so that "inside" and "outside" a scope are whole subtrees.
        for (kind, parent) in &sh.kinds {
            for side in ["a", "b"] {
                let parent = parent.as_ref().map(|p| format!("{p}-{side}"));
                s.org_unit(T, &format!("{kind}-{side}"), kind, parent.as_deref())
                    .await;
            }
        }
        let root = sh.kinds.first().map(|(k, _)| k.clone()).unwrap();
        let scope_kind = match &actor.who {
            Who::Role { kind: Some(k), .. } => k.clone(),
            // A scoped credential: the last kind (the smallest unit).
            Who::Credential { scoped: true, .. } => sh.kinds.last().unwrap().0.clone(),
            _ => root.clone(),
        };
        let (inside, outside) = (format!("{scope_kind}-a"), format!("{scope_kind}-b"));
        for (u, org) in [("me", &inside), ("u-in", &inside), ("u-out", &outside)] {
            s.user(T, u, Some(org)).await;
        }
        s.op_post(&tp("/groups"), json!({"id": "g-in", "members": ["u-in"]}))
            .await;
        // The actor supervises the inside queue, whose member is `u-in`.
        for (q, org, member, supervisors) in [
            ("q-in", &inside, "u-in", json!(["me"])),
            ("q-out", &outside, "u-out", json!([])),
        ] {
            s.op_post(
                &tp("/queues"),
                json!({"id": q, "org_unit": org, "members": [member], "supervisors": supervisors}),
            )
            .await;
        }
        let fx = Fixture {
            s,
            sh,
            token: String::new(),
            inside,
            outside,
            n: std::cell::Cell::new(0),
        };
        if let Some((ty, _, _)) = &sh.resource {
            for side in ["in", "out"] {
                s.op_put(
                    &tp(&format!("/resources/{ty}/r-{side}")),
                    fx.resource_body(side),
                )
                .await;
            }
        }
        s.op_post(
            &tp("/roles"),
            json!({"id": "custom", "copy_of": sh.small_role}),
        )
        .await;
        for (id, side) in [("as-in", "in"), ("as-out", "out")] {
            s.op_post(
                &tp("/assignments"),
                json!({"id": id, "principal": Self::user(side), "role": sh.small_role,
                       "scope": fx.assignment_scope(side)}),
            )
            .await;
        }
        let token = fx.token_for(actor).await;
        Fixture { token, ..fx }
    }

    /// The actor's token.
    async fn token_for(&self, actor: &Actor) -> String {
        let s = self.s;
        match &actor.who {
            Who::Role { role, kind } => {
                let scope = match kind {
                    Some(_) => json!({"org_units": [self.inside]}),
                    None => json!("tenant"),
                };
                s.op_post(
                    &tp("/assignments"),
                    json!({"principal": "me", "role": role, "scope": scope}),
                )
                .await;
                s.mint(T, "me").await
            }
            Who::Credential {
                abilities,
                as_role,
                scoped,
            } => {
                let mut body = json!({"name": actor.name, "abilities": abilities});
                if let Some(role) = as_role {
                    s.op_post(
                        &tp("/assignments"),
                        json!({"principal": "me", "role": role}),
                    )
                    .await;
                    body["principal"] = json!("me");
                }
                if *scoped {
                    body["scope"] = json!({"org_units": [self.inside]});
                }
                let r = s.op_post(&tp("/credentials"), body).await;
                r.body["token"].as_str().unwrap().to_owned()
            }
        }
    }

    fn unique(&self, prefix: &str) -> String {
        self.n.set(self.n.get() + 1);
        format!("{prefix}{}", self.n.get())
    }

    fn unit(&self, side: &str) -> &str {
        if side == "in" {
            &self.inside
        } else {
            &self.outside
        }
    }

    fn user(side: &str) -> &'static str {
        if side == "in" { "u-in" } else { "u-out" }
    }

    /// A resource of the profile's scoped type, anchored inside or outside.
    fn resource_body(&self, side: &str) -> Value {
        let Some((_, rel, target)) = &self.sh.resource else {
            return json!({});
        };
        let id = if target == "queue" {
            format!("q-{side}")
        } else {
            self.unit(side).to_owned()
        };
        json!({"relations": {rel: [id]}})
    }

    /// A throwaway object made by the operator for a destructive request.
    async fn throwaway(&self, route: &str, side: &str) -> Option<String> {
        let s = self.s;
        let id = self.unique("tmp");
        let body = match route {
            "/users/{id}" => {
                s.user(T, &id, Some(self.unit(side))).await;
                return Some(id);
            }
            "/groups/{id}" => (tp("/groups"), json!({"id": id})),
            "/queues/{id}" => (
                tp("/queues"),
                json!({"id": id, "org_unit": self.unit(side)}),
            ),
            "/org-units/{id}" => {
                let kind = self.child_kind(self.unit(side))?;
                (
                    tp("/org-units"),
                    json!({"id": id, "kind": kind, "parent": self.unit(side)}),
                )
            }
            "/resources/{ty}/{id}" => {
                let (ty, _, _) = self.sh.resource.as_ref()?;
                s.op_put(
                    &tp(&format!("/resources/{ty}/{id}")),
                    self.resource_body(side),
                )
                .await;
                return Some(id);
            }
            "/roles/{role}" => (
                tp("/roles"),
                json!({"id": id, "copy_of": self.sh.small_role}),
            ),
            "/assignments/{id}" => (
                tp("/assignments"),
                json!({"id": id, "principal": Self::user(side), "role": self.sh.small_role,
                       "scope": self.assignment_scope(side)}),
            ),
            "/tokens/{id}" => {
                let r = s
                    .op_post(&tp("/tokens"), json!({"principal": Self::user(side)}))
                    .await;
                return r.body["id"].as_str().map(str::to_owned);
            }
            "/sod-rules/{id}" => {
                let roles: Vec<&str> = self
                    .sh
                    .profile
                    .roles
                    .iter()
                    .take(2)
                    .map(|r| r.id.as_str())
                    .collect();
                (tp("/sod-rules"), json!({"id": id, "roles": roles}))
            }
            "/credentials/{id}" => {
                let r = s
                    .op_post(
                        &tp("/credentials"),
                        json!({"name": id, "abilities": ["read"]}),
                    )
                    .await;
                return r.body["id"].as_str().map(str::to_owned);
            }
            _ => return None,
        };
        s.op_post(&body.0, body.1).await;
        Some(id)
    }

    /// The scope an assignment of the small role takes on `side`: an org unit of the first
    /// kind the profile's appointment rule allows for it, else the actor's unit there.
    fn assignment_scope(&self, side: &str) -> Value {
        let p = &self.sh.profile;
        let kind = p
            .appointments
            .iter()
            .find(|a| a.role == self.sh.small_role)
            .and_then(|a| {
                a.scope_kinds.iter().find_map(|k| match k {
                    ScopeKind::OrgKind(i) => p.org_kinds.get(*i).map(|k| k.id.clone()),
                    ScopeKind::Tenant => None,
                })
            });
        let unit = match kind {
            Some(k) => format!("{k}-{}", if side == "in" { "a" } else { "b" }),
            None => self.unit(side).to_owned(),
        };
        json!({"org_units": [unit]})
    }

    /// A kind of org unit that may sit under `unit` (named `<kind>-a|b`).
    fn child_kind(&self, unit: &str) -> Option<String> {
        let kind = unit.rsplit_once('-')?.0;
        let p = &self.sh.profile;
        let k = p.org_kind(kind)?;
        p.org_kinds
            .iter()
            .find(|c| c.parents.contains(&k))
            .map(|c| c.id.clone())
    }

    /// The request for `method route` about the object on `side` (`-`: none): its path
    /// and body, or `None` when the profile has nothing to ask it about.
    async fn request(
        &self,
        method: &str,
        route: &str,
        side: &str,
    ) -> Option<(String, Option<Value>)> {
        let sh = self.sh;
        let user = Self::user(side);
        let (action, rtype) = &sh.check_action;
        let rid = match rtype.as_str() {
            "tenant" => T.to_owned(),
            "user" => user.to_owned(),
            _ => self.unit(side).to_owned(),
        };
        let check = json!({"principal": user, "action": action,
                           "resource": {"type": rtype, "id": rid}});
        let destructive = method == "DELETE";
        let id_for = |route: &str| -> Option<String> {
            Some(match route {
                "/users/{id}" | "/users/{id}/permissions" | "/users/{id}/permissions/watch" => {
                    user.to_owned()
                }
                "/groups/{id}" => "g-in".to_owned(),
                "/queues/{id}" => format!("q-{side}"),
                "/org-units/{id}" => self.unit(side).to_owned(),
                "/resources/{ty}/{id}" => format!("r-{side}"),
                "/roles/{role}" => "custom".to_owned(),
                "/assignments/{id}" => format!("as-{side}"),
                "/tokens/{id}" => "tok_none".to_owned(),
                _ => return None,
            })
        };
        let id = if destructive {
            // Nothing to delete of this kind there (a leaf org unit has no children).
            Some(self.throwaway(route, side).await?)
        } else {
            id_for(route)
        };
        let ty = sh.resource.as_ref().map(|r| r.0.clone());
        if route.contains("{ty}") && ty.is_none() {
            return None;
        }
        let path = route
            .replace("{ty}", ty.as_deref().unwrap_or(""))
            .replace("{id}", id.as_deref().unwrap_or(""))
            .replace("{role}", id.as_deref().unwrap_or(""));
        let unique = self.unique("new");
        let body = match (method, route) {
            ("POST", "/roles") => Some(json!({"id": unique, "copy_of": sh.small_role})),
            ("PUT", "/roles/{role}") => {
                let r = self.s.get(&tp("/roles/custom"), &self.s.op).await;
                Some(json!({"version": r.body["version"], "grants": r.body["grants"]}))
            }
            ("POST", "/users") => Some(json!({"id": unique, "org_unit": self.unit(side)})),
            ("PUT", "/users/{id}") => Some(json!({"name": "Renamed", "org_unit": self.unit(side)})),
            ("POST", "/groups") => Some(json!({"id": unique})),
            ("PUT", "/groups/{id}") => Some(json!({"name": "Renamed"})),
            ("POST", "/org-units") => {
                let kind = self.child_kind(self.unit(side))?;
                Some(json!({"id": unique, "kind": kind, "parent": self.unit(side)}))
            }
            ("PUT", "/org-units/{id}") => {
                let unit = self.unit(side);
                let kind = unit.rsplit_once('-')?.0;
                let parent = sh
                    .kinds
                    .iter()
                    .find(|(k, _)| k == kind)
                    .and_then(|(_, p)| p.clone())
                    .map(|p| format!("{p}-a"));
                let mut b = json!({"name": "Renamed", "kind": kind});
                if let Some(p) = parent {
                    b["parent"] = json!(p);
                }
                Some(b)
            }
            ("POST", "/queues") => Some(json!({"id": unique, "org_unit": self.unit(side)})),
            ("PUT", "/queues/{id}") => Some(json!({"name": "Renamed"})),
            ("PUT", "/resources/{ty}/{id}") => Some(self.resource_body(side)),
            ("POST", "/assignments") => Some(json!({"id": unique, "principal": user,
                "role": sh.small_role, "scope": self.assignment_scope(side)})),
            ("POST", "/relations") => {
                let (ty, rel, target) = sh.resource.as_ref()?;
                let subject = if target == "queue" {
                    format!("queue:q-{side}")
                } else {
                    format!("{target}:{}", self.unit(side))
                };
                Some(json!({"writes": [{"resource": format!("{ty}:r-{side}"),
                                        "relation": rel, "subject": subject}]}))
            }
            ("PUT", "/settings") => {
                let d = sh.profile.settings.first()?;
                Some(json!({ d.id.clone(): d.default }))
            }
            ("POST", "/check" | "/explain") => Some(check.clone()),
            ("POST", "/check/batch") => Some(json!({"checks": [check]})),
            ("POST", "/tokens") => Some(json!({"principal": user})),
            ("PUT", "/tokens/{id}") => Some(json!({})),
            ("POST", "/credentials") => Some(json!({"name": unique, "abilities": ["decide"]})),
            ("POST", "/sod-rules") => {
                let roles: Vec<&str> = sh
                    .profile
                    .roles
                    .iter()
                    .take(2)
                    .map(|r| r.id.as_str())
                    .collect();
                Some(json!({"id": unique, "roles": roles}))
            }
            ("POST", "/lookup/subjects") => Some(json!({"action": action,
                                                       "resource": {"type": rtype, "id": rid}})),
            ("POST", "/lookup/resources") => Some(json!({"principal": user, "action": action})),
            ("POST", "/impact") => Some(json!({"assignment": {"principal": user,
                "role": sh.small_role, "scope": self.assignment_scope(side)}})),
            (_, _) => None,
        };
        let query = match route {
            "/relations" => {
                let (ty, _, _) = sh.resource.as_ref()?;
                format!("?resource={ty}:r-{side}")
            }
            _ => String::new(),
        };
        Some((tp(&path) + &query, body))
    }
}

/// Whether a route is about one object (asked inside and outside) or a collection.
fn sides(method: &str, route: &str) -> &'static [&'static str] {
    let about_one = route.contains('{')
        || matches!(
            (method, route),
            (
                "POST",
                "/users"
                    | "/queues"
                    | "/org-units"
                    | "/assignments"
                    | "/relations"
                    | "/check"
                    | "/explain"
                    | "/check/batch"
                    | "/tokens"
                    | "/lookup/resources"
                    | "/impact"
            ) | ("GET", "/relations")
                | ("PUT", "/users/{id}")
        );
    if about_one { &["in", "out"] } else { &["-"] }
}

/// Runs every row of one profile's matrix; returns the table as text.
async fn run_profile(b: Backend, profile: &str) -> String {
    let sh = shape(profile);
    let mut table = String::new();
    let _ = writeln!(
        table,
        "# Access matrix of profile `{profile}`: actor, method, route, object side, status.\n\
         # Generated by `ROLECALL_ACCESS_BLESS=1 cargo test -p rolecall-server --test access`;\n\
         # reviewed against the seed. `@kind`: the template held over one org unit of that\n\
         # kind; `in`/`out`: the object inside or outside the actor's scope."
    );
    for actor in actors(&sh) {
        let s = TestServer::start_on(b).await;
        let fx = Fixture::build(&s, &sh, &actor).await;
        for &(method, full) in ROUTES {
            let Some(route) = full.strip_prefix("/v1/tenants/{tenant}") else {
                continue;
            };
            if route.is_empty() {
                continue;
            }
            for &side in sides(method, route) {
                let Some((path, body)) = fx.request(method, route, side).await else {
                    continue;
                };
                let m = Method::from_bytes(method.as_bytes()).unwrap();
                let r = s.call(m, &path, Some(&fx.token), body.as_ref()).await;
                // A list's length too: what a scoped reader sees of it.
                let n = (method == "GET" && side == "-")
                    .then(|| list_len(&r.body))
                    .flatten()
                    .map_or_else(String::new, |n| format!(" n={n}"));
                let _ = writeln!(
                    table,
                    "{:<28} {:<6} {:<28} {:<3} {}{n}",
                    actor.name, method, route, side, r.status
                );
                // Refusals of the API's own rules must be forbidden, not errors.
                assert!(
                    r.status < 500,
                    "{profile}: {} {method} {path}: {} {}",
                    actor.name,
                    r.status,
                    r.text
                );
            }
        }
    }
    table
}

/// The length of the one list a list answer holds (`items`, `roles`, `entries`, …).
fn list_len(body: &Value) -> Option<usize> {
    let obj = body.as_object()?;
    let lists: Vec<usize> = obj
        .iter()
        .filter(|(k, _)| *k != "profile" && *k != "privilege_details")
        .filter_map(|(_, v)| v.as_array().map(Vec::len))
        .collect();
    match lists.as_slice() {
        [n] => Some(*n),
        _ => None,
    }
}

/// The table file of a profile.
fn table_path(profile: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/access")
        .join(format!("{profile}.txt"))
}

/// Lines that differ between the expected and the observed table.
fn diff(want: &str, got: &str) -> Vec<String> {
    let key = |l: &str| -> Option<(String, String)> {
        if l.starts_with('#') || l.trim().is_empty() {
            return None;
        }
        // `actor method route side status [n=N]`
        let parts: Vec<&str> = l.split_whitespace().collect();
        let (row, result) = parts.split_at_checked(4)?;
        Some((row.join(" "), result.join(" ")))
    };
    let w: BTreeMap<String, String> = want.lines().filter_map(key).collect();
    let g: BTreeMap<String, String> = got.lines().filter_map(key).collect();
    let mut out = Vec::new();
    for (row, status) in &g {
        match w.get(row) {
            Some(s) if s == status => {}
            Some(s) => out.push(format!("{row}: expected {s}, got {status}")),
            None => out.push(format!("{row}: not in the table (got {status})")),
        }
    }
    for row in w.keys().filter(|r| !g.contains_key(*r)) {
        out.push(format!("{row}: in the table, not asked"));
    }
    out
}

async fn matrix(b: Backend) {
    let bless = std::env::var("ROLECALL_ACCESS_BLESS").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    let mut rows = 0;
    for (profile, _) in rolecall_engine::profiles::SHIPPED {
        let got = run_profile(b, profile).await;
        rows += got.lines().filter(|l| !l.starts_with('#')).count();
        let path = table_path(profile);
        if bless && b == Backend::Sqlite {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (bless the tables first)", path.display()));
        for d in diff(&want, &got) {
            failures.push(format!("{profile} ({b:?}): {d}"));
        }
    }
    eprintln!("access matrix ({b:?}): {rows} rows");
    assert!(
        failures.is_empty(),
        "{} rows differ from the tables:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_matrix_sqlite() {
    matrix(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_matrix_postgres() {
    matrix(Backend::Postgres).await;
}
