//! A seeded generator of small random profiles (as TOML text, so the parser is
//! exercised too), tenant states and requests that cover every construct of the
//! requirement language: levels, choices, numbers, parents, includes, role types,
//! scopes, expiry, relations, inverses, attributes with and without defaults,
//! settings, context values, errors.

use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use rolecall_core::profile::{GrantSpec, RoleSpec, Value};
use rolecall_core::state::{Assignment, Entity, Scope, TenantState};
use rolecall_core::{Context, Profile};

pub struct Case {
    pub profile_text: String,
    pub profile: Profile,
    pub state: TenantState,
    pub requests: Vec<OwnedRequest>,
}

#[derive(Debug, Clone)]
pub struct OwnedRequest {
    pub principal: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub context: Context,
    pub now: i64,
}

#[derive(Clone)]
enum Kind {
    Flag,
    /// A window of `LEVELS`: its start and length (so a child may share only some of its
    /// parent's level names, or none).
    Levels(usize, usize),
    Choice(usize),
    Number,
}

struct Priv {
    id: String,
    kind: Kind,
    /// A restriction (a flag under a section): binds wherever any assignment carries it.
    restriction: bool,
}

const LEVELS: [&str; 4] = ["View only", "Modify", "Modify and delete", "Admin"];
const CHOICES: [&str; 3] = ["All", "Same Group", "Same Queue"];
const TIMES: [i64; 4] = [1_000, 2_000, 3_000, 4_000];

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn privilege_atom(rng: &mut ChaCha8Rng, privs: &[Priv]) -> String {
    let p = pick(rng, privs);
    match (&p.kind, rng.random_bool(0.7)) {
        (Kind::Levels(start, n), true) => {
            format!(
                "has(\"{}\", \"{}\")",
                p.id,
                LEVELS[start + rng.random_range(0..*n)]
            )
        }
        (Kind::Choice(n), true) => format!(
            "has(\"{}\", \"{}\")",
            p.id,
            CHOICES[rng.random_range(0..*n)]
        ),
        (Kind::Number, true) => format!("value(\"{}\") >= {}", p.id, rng.random_range(0..4) * 100),
        _ => format!("has(\"{}\")", p.id),
    }
}

fn atom(rng: &mut ChaCha8Rng, privs: &[Priv], resource: &str) -> String {
    let common = [
        "setting(\"s_bool\")",
        "setting(\"s_int\") > 1",
        "principal.seat == \"advanced\"",
        "principal.seat < \"advanced\"",
        "context.k == 1",
        "context.name == \"x\"",
        "true",
        "false",
    ];
    let specific: &[&str] = match resource {
        "conv" => &[
            "resource.agent == principal",
            "principal == resource.agent",
            "resource.agent != principal",
            "principal in resource.watchers",
            "principal in resource.queue.members",
            "principal in resource.queue.supervisors",
            "shares(principal.groups, resource.agent.groups)",
            "shares(principal.queues, resource.agent.queues)",
            "resource.closed == true",
            "resource.level >= \"mid\"",
            "\"high\" == resource.level",
            "resource.n > 3",
            "resource.agent.seat == \"advanced\"",
            "context.level == resource.level",
        ],
        "user" => &[
            "resource == principal",
            "shares(principal.groups, resource.groups)",
            "shares(principal.queues, resource.queues)",
            "shares(principal.supervised_queues, resource.queues)",
            "resource.seat == \"standard\"",
            "resource.org_unit == principal.org_unit",
        ],
        "queue" => &[
            "principal in resource.members",
            "principal in resource.supervisors",
            "shares(resource.members, resource.supervisors)",
            "resource.org_unit == principal.org_unit",
        ],
        _ => &[],
    };
    let r = rng.random_range(0..10);
    if r < 5 {
        privilege_atom(rng, privs)
    } else if r < 8 && !specific.is_empty() {
        pick(rng, specific).to_string()
    } else {
        pick(rng, &common).to_string()
    }
}

fn expr(rng: &mut ChaCha8Rng, privs: &[Priv], resource: &str, depth: u32) -> String {
    if depth == 0 || rng.random_bool(0.35) {
        return atom(rng, privs, resource);
    }
    match rng.random_range(0..5) {
        0 => format!("not ({})", expr(rng, privs, resource, depth - 1)),
        1 | 2 => {
            let n = rng.random_range(2..4);
            let items: Vec<String> = (0..n)
                .map(|_| format!("({})", expr(rng, privs, resource, depth - 1)))
                .collect();
            items.join(" and ")
        }
        _ => {
            let n = rng.random_range(2..4);
            let items: Vec<String> = (0..n)
                .map(|_| format!("({})", expr(rng, privs, resource, depth - 1)))
                .collect();
            items.join(" or ")
        }
    }
}

fn grant_value(rng: &mut ChaCha8Rng, kind: &Kind) -> (String, GrantSpec) {
    match kind {
        Kind::Flag => ("true".into(), GrantSpec::Bool(true)),
        Kind::Levels(start, n) => {
            if rng.random_bool(0.15) {
                return ("true".into(), GrantSpec::Bool(true));
            }
            let l = LEVELS[start + rng.random_range(0..*n)];
            (format!("\"{l}\""), GrantSpec::Str(l.into()))
        }
        Kind::Choice(n) => {
            let mut cs: Vec<&str> = CHOICES[..*n]
                .iter()
                .copied()
                .filter(|_| rng.random_bool(0.5))
                .collect();
            if cs.is_empty() {
                cs.push(CHOICES[0]);
            }
            let toml = format!(
                "[{}]",
                cs.iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            (
                toml,
                GrantSpec::List(cs.iter().map(|c| c.to_string()).collect()),
            )
        }
        Kind::Number => {
            let v = rng.random_range(1..5) * 100;
            (v.to_string(), GrantSpec::Int(v))
        }
    }
}

/// Generates one case from `seed` with `requests` requests.
pub fn case(seed: u64, requests: usize) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut t = String::new();
    t.push_str("[profile]\nid = \"gen\"\nname = \"Generated\"\n\n");
    t.push_str("[[org_unit_kind]]\nid = \"company\"\n[[org_unit_kind]]\nid = \"office\"\nparents = [\"company\"]\n[[org_unit_kind]]\nid = \"team\"\nparents = [\"office\", \"team\"]\n\n");
    t.push_str("[[setting]]\nid = \"s_bool\"\ntype = \"bool\"\n[[setting]]\nid = \"s_int\"\ntype = \"int\"\ndefault = 2\n\n");
    t.push_str("[[resource_type]]\nid = \"user\"\n[resource_type.attributes]\nseat = { type = \"string\", values = [\"standard\", \"advanced\"], default = \"standard\" }\n\n");
    t.push_str("[[resource_type]]\nid = \"conv\"\nscope = \"queue\"\n[resource_type.relations]\nagent = { type = \"user\" }\nqueue = { type = \"queue\" }\nwatchers = { type = \"user\", many = true }\n[resource_type.attributes]\nclosed = { type = \"bool\", default = false }\nlevel = { type = \"string\", values = [\"low\", \"mid\", \"high\"] }\nn = { type = \"int\" }\n\n");
    t.push_str("[[section]]\nid = \"general\"\n[[section]]\nid = \"admin\"\n\n");
    let np = rng.random_range(3..14);
    let mut privs: Vec<Priv> = Vec::new();
    for i in 0..np {
        let kind = match rng.random_range(0..6) {
            0 | 1 => Kind::Flag,
            2 | 3 => {
                let n = rng.random_range(1..=4);
                let start = if rng.random_bool(0.6) {
                    0
                } else {
                    rng.random_range(0..=4 - n)
                };
                Kind::Levels(start, n)
            }
            4 => Kind::Choice(rng.random_range(1..=3)),
            _ => Kind::Number,
        };
        let parents: Vec<&Priv> = privs
            .iter()
            .filter(|p| matches!(p.kind, Kind::Flag | Kind::Levels(..)) && !p.restriction)
            .collect();
        let parent = if !parents.is_empty() && rng.random_bool(0.5) {
            pick(&mut rng, &parents).id.clone()
        } else if rng.random_bool(0.5) {
            "general".into()
        } else {
            "admin".into()
        };
        let id = format!("p{i}");
        t.push_str(&format!(
            "[[privilege]]\nid = \"{id}\"\nname = \"Privilege {i}\"\nparent = \"{parent}\"\n"
        ));
        let restriction = matches!(kind, Kind::Flag)
            && (parent == "general" || parent == "admin")
            && rng.random_bool(0.3);
        if restriction {
            t.push_str("restriction = true\n");
        }
        match &kind {
            Kind::Flag => {}
            Kind::Levels(start, n) => {
                let names: Vec<String> = LEVELS[*start..start + n]
                    .iter()
                    .map(|l| format!("\"{l}\""))
                    .collect();
                t.push_str(&format!(
                    "kind = \"levels\"\nlevels = [{}]\n",
                    names.join(", ")
                ));
            }
            Kind::Choice(n) => {
                let names: Vec<String> = CHOICES[..*n].iter().map(|l| format!("\"{l}\"")).collect();
                t.push_str(&format!(
                    "kind = \"choice\"\nchoices = [{}]\nmultiple = true\n",
                    names.join(", ")
                ));
                if *n > 1 && rng.random_bool(0.7) {
                    t.push_str("includes = { \"All\" = [\"Same Group\"] }\n");
                }
            }
            Kind::Number => t.push_str("kind = \"number\"\nmin = 0\nmax = 1000\ndefault = 250\n"),
        }
        t.push('\n');
        privs.push(Priv {
            id,
            kind,
            restriction,
        });
    }
    // Role types: locked and default grants.
    let mut role_types = Vec::new();
    for k in 0..rng.random_range(0..3) {
        let id = format!("rt{k}");
        let p = pick(&mut rng, &privs);
        let (v, _) = grant_value(&mut rng, &p.kind);
        let q = pick(&mut rng, &privs);
        let (dv, _) = grant_value(&mut rng, &q.kind);
        t.push_str(&format!(
            "[[role_type]]\nid = \"{id}\"\nlocked = {{ {} = {v} }}\n",
            p.id
        ));
        if q.id != p.id {
            t.push_str(&format!("defaults = {{ {} = {dv} }}\n", q.id));
        }
        t.push('\n');
        // A locked privilege cannot be turned off, so only a distinct default may be.
        role_types.push((
            id,
            if q.id != p.id {
                q.id.clone()
            } else {
                String::new()
            },
        ));
    }
    let nr = rng.random_range(1..6);
    let mut role_ids: Vec<String> = Vec::new();
    let grant_lines = |rng: &mut ChaCha8Rng,
                       role_types: &[(String, String)]|
     -> (Vec<(String, GrantSpec)>, Option<String>, String) {
        let mut grants: Vec<(String, GrantSpec)> = Vec::new();
        let mut parts = Vec::new();
        for p in &privs {
            if rng.random_bool(0.3) {
                let (toml, spec) = grant_value(rng, &p.kind);
                parts.push(format!("{} = {toml}", p.id));
                grants.push((p.id.clone(), spec));
            }
        }
        let mut role_type = None;
        if !role_types.is_empty() && rng.random_bool(0.4) {
            let (rt, default_priv) = pick(rng, role_types);
            role_type = Some(rt.clone());
            if !default_priv.is_empty()
                && rng.random_bool(0.5)
                && !grants.iter().any(|(p, _)| p == default_priv)
            {
                parts.push(format!("{default_priv} = false"));
                grants.push((default_priv.clone(), GrantSpec::Bool(false)));
            }
        }
        (grants, role_type, parts.join(", "))
    };
    for r in 0..nr {
        let id = format!("r{r}");
        let (_, role_type, parts) = grant_lines(&mut rng, &role_types);
        let includes: Vec<String> = role_ids
            .iter()
            .filter(|_| rng.random_bool(0.3))
            .map(|i| format!("\"{i}\""))
            .collect();
        t.push_str(&format!(
            "[[role]]\nid = \"{id}\"\ngrants = {{ {parts} }}\nincludes = [{}]\n",
            includes.join(", ")
        ));
        if let Some(rt) = role_type {
            t.push_str(&format!("type = \"{rt}\"\n"));
        }
        t.push('\n');
        role_ids.push(id);
    }
    let types = ["conv", "user", "queue", "tenant", "org_unit"];
    let na = rng.random_range(2..8);
    let mut actions = Vec::new();
    for a in 0..na {
        let ty = *pick(&mut rng, &types);
        let e = expr(&mut rng, &privs, ty, 3);
        let anywhere = if ty == "tenant" && rng.random_bool(0.4) {
            "held_anywhere = true\n"
        } else {
            ""
        };
        t.push_str(&format!(
            "[[action]]\nid = \"a{a}\"\nresource = \"{ty}\"\n{anywhere}requires = '''{e}'''\n\n"
        ));
        actions.push((format!("a{a}"), ty));
    }
    let profile = match rolecall_core::load_profile("generated.toml", &t) {
        Ok(p) => p,
        Err(e) => panic!("generator produced an invalid profile: {e}\n{t}"),
    };

    // Tenant state.
    let mut entities = Vec::new();
    let ent = |ty: &str,
               id: String,
               relations: Vec<(String, Vec<String>)>,
               attributes: Vec<(String, Value)>| Entity {
        ty: ty.into(),
        id,
        name: None,
        relations,
        attributes,
    };
    let kind = |k: &str| vec![("kind".to_owned(), Value::Str(k.into()))];
    entities.push(ent("org_unit", "co".into(), vec![], kind("company")));
    let mut orgs = vec!["co".to_owned()];
    for o in 0..rng.random_range(1..4) {
        entities.push(ent(
            "org_unit",
            format!("of{o}"),
            vec![("parent".into(), vec!["co".into()])],
            kind("office"),
        ));
        orgs.push(format!("of{o}"));
        for tm in 0..rng.random_range(0..3) {
            let parent = if tm > 0 && rng.random_bool(0.3) {
                format!("tm{o}_{}", tm - 1)
            } else {
                format!("of{o}")
            };
            entities.push(ent(
                "org_unit",
                format!("tm{o}_{tm}"),
                vec![("parent".into(), vec![parent])],
                kind("team"),
            ));
            orgs.push(format!("tm{o}_{tm}"));
        }
    }
    let nu = rng.random_range(2..9);
    let users: Vec<String> = (0..nu).map(|u| format!("u{u}")).collect();
    for u in &users {
        let mut rels = Vec::new();
        if rng.random_bool(0.8) {
            rels.push(("org_unit".to_owned(), vec![pick(&mut rng, &orgs).clone()]));
        }
        let mut attrs = Vec::new();
        if rng.random_bool(0.5) {
            attrs.push((
                "seat".to_owned(),
                Value::Str(pick(&mut rng, &["standard", "advanced"]).to_string()),
            ));
        }
        entities.push(ent("user", u.clone(), rels, attrs));
    }
    let subset = |rng: &mut ChaCha8Rng, p: f64| -> Vec<String> {
        users
            .iter()
            .filter(|_| rng.random_bool(p))
            .cloned()
            .collect()
    };
    for g in 0..rng.random_range(0..4) {
        let members = subset(&mut rng, 0.4);
        entities.push(ent(
            "group",
            format!("g{g}"),
            vec![("members".into(), members)],
            vec![],
        ));
    }
    let nq = rng.random_range(1..5);
    let queues: Vec<String> = (0..nq).map(|q| format!("q{q}")).collect();
    for q in &queues {
        let mut rels = vec![
            ("members".to_owned(), subset(&mut rng, 0.4)),
            ("supervisors".to_owned(), subset(&mut rng, 0.2)),
        ];
        if rng.random_bool(0.85) {
            rels.push(("org_unit".into(), vec![pick(&mut rng, &orgs).clone()]));
        }
        entities.push(ent("queue", q.clone(), rels, vec![]));
    }
    let nc = rng.random_range(1..8);
    let convs: Vec<String> = (0..nc).map(|c| format!("c{c}")).collect();
    for c in &convs {
        let mut rels = vec![("watchers".to_owned(), subset(&mut rng, 0.3))];
        if rng.random_bool(0.85) {
            rels.push(("agent".into(), vec![pick(&mut rng, &users).clone()]));
        }
        if rng.random_bool(0.85) {
            rels.push(("queue".into(), vec![pick(&mut rng, &queues).clone()]));
        }
        let mut attrs = Vec::new();
        if rng.random_bool(0.6) {
            attrs.push(("closed".to_owned(), Value::Bool(rng.random_bool(0.5))));
        }
        if rng.random_bool(0.8) {
            attrs.push((
                "level".to_owned(),
                Value::Str(pick(&mut rng, &["low", "mid", "high"]).to_string()),
            ));
        }
        if rng.random_bool(0.7) {
            attrs.push(("n".to_owned(), Value::Int(rng.random_range(0..7))));
        }
        entities.push(ent("conv", c.clone(), rels, attrs));
    }
    // Custom roles.
    let mut roles = Vec::new();
    let mut all_roles = role_ids.clone();
    for r in 0..rng.random_range(0..3) {
        let (grants, role_type, _) = grant_lines(&mut rng, &role_types);
        let includes: Vec<String> = all_roles
            .iter()
            .filter(|_| rng.random_bool(0.3))
            .cloned()
            .collect();
        let id = format!("custom{r}");
        roles.push(RoleSpec {
            id: id.clone(),
            name: None,
            description: None,
            role_type,
            includes,
            grants,
            locked: Vec::new(),
        });
        all_roles.push(id);
    }
    let mut assignments = Vec::new();
    for u in &users {
        for _ in 0..rng.random_range(0..4) {
            let scope = match rng.random_range(0..4) {
                0 | 1 => Scope::Tenant,
                2 => Scope::OrgUnits(
                    (0..rng.random_range(1..3))
                        .map(|_| pick(&mut rng, &orgs).clone())
                        .collect(),
                ),
                _ => Scope::Queues(
                    (0..rng.random_range(1..3))
                        .map(|_| pick(&mut rng, &queues).clone())
                        .collect(),
                ),
            };
            assignments.push(Assignment {
                id: format!("a{}", assignments.len()),
                principal: u.clone(),
                role: pick(&mut rng, &all_roles).clone(),
                scope,
                expires_at: if rng.random_bool(0.3) {
                    Some(*pick(&mut rng, &TIMES))
                } else {
                    None
                },
            });
        }
    }
    let mut settings = Vec::new();
    if rng.random_bool(0.5) {
        settings.push(("s_bool".to_owned(), Value::Bool(rng.random_bool(0.5))));
    }
    if rng.random_bool(0.5) {
        settings.push(("s_int".to_owned(), Value::Int(rng.random_range(0..4))));
    }
    let state = TenantState {
        sod_rules: Vec::new(),
        tenant_id: "t".into(),
        tenant_name: None,
        settings,
        entities,
        roles,
        assignments,
    };

    let mut reqs = Vec::with_capacity(requests);
    for _ in 0..requests {
        let (action, ty) = pick(&mut rng, &actions).clone();
        let pool: Vec<String> = match ty {
            "conv" => convs.clone(),
            "user" => users.clone(),
            "queue" => queues.clone(),
            "tenant" => vec!["t".into()],
            _ => orgs.clone(),
        };
        let mut resource_id = pick(&mut rng, &pool).clone();
        if rng.random_bool(0.02) {
            resource_id = "missing".into();
        }
        let mut principal = pick(&mut rng, &users).clone();
        if rng.random_bool(0.02) {
            principal = "nobody".into();
        }
        let mut context = Context::new();
        if rng.random_bool(0.7) {
            context.insert("k".into(), Value::Int(rng.random_range(0..3)));
        }
        if rng.random_bool(0.5) {
            context.insert(
                "name".into(),
                Value::Str(pick(&mut rng, &["x", "y"]).to_string()),
            );
        }
        if rng.random_bool(0.5) {
            context.insert(
                "level".into(),
                Value::Str(pick(&mut rng, &["low", "mid", "nope"]).to_string()),
            );
        }
        reqs.push(OwnedRequest {
            principal,
            action: if rng.random_bool(0.01) {
                "no.such.action".into()
            } else {
                action.clone()
            },
            resource_type: ty.into(),
            resource_id,
            context,
            now: *pick(&mut rng, &[500, 1_000, 1_500, 2_500, 3_999, 4_000, 5_000]),
        });
    }
    Case {
        profile_text: t,
        profile,
        state,
        requests: reqs,
    }
}
