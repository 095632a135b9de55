//! Governance through the HTTP API, on SQLite and on PostgreSQL: profile invariants,
//! separation of duty, obligations, expiring grants, the audit trail (filters, paging,
//! exports, sensitive decisions, tamper detection), who-can / what-can (now and as of an
//! earlier revision or time) and impact previews.
//!
//! Every refusal is checked to leave the stored state as it was: the same revision, the
//! same answers to the reads that show what the request tried to change, and no new
//! audit entry.
//!
//! PostgreSQL: `postgres://postgres@127.0.0.1:5432/test` (or
//! `ROLECALL_TEST_DATABASE_URL`); each test uses a fresh schema, dropped afterwards.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Value, json};
use support::{Backend, Resp, TestServer, check_error};

/// Runs each scenario `async fn NAME(Backend)` as two tests, `NAME::sqlite` and
/// `NAME::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(super::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(super::Backend::Postgres).await;
                }
            }
        )*
    };
}

on_both_backends!(
    invariants,
    separation_of_duty,
    obligations,
    expiring_grants,
    audit_trail,
    audit_exports_are_complete,
    audit_chain_under_concurrency,
    lookups,
    as_of_replays_long_histories,
    impact_preview,
);

const ZOOM: &str = include_str!("../../../profiles/zoom-contact-center.toml");
const HORIZON: &str = include_str!("../../../profiles/horizon-contact.toml");

// ---- helpers ---------------------------------------------------------------------------

/// `/v1/tenants/{t}{path}`.
fn tp(t: &str, path: &str) -> String {
    format!("/v1/tenants/{t}{path}")
}

fn check_body(principal: &str, action: &str, ty: &str, id: &str) -> Value {
    json!({"principal": principal, "action": action, "resource": {"type": ty, "id": id}})
}

/// The tenant's whole audit trail, read by the operator.
async fn audit_all(s: &TestServer, t: &str) -> Vec<Value> {
    let r = s.get(&tp(t, "/audit?limit=10000"), &s.op).await;
    r.expect(200);
    assert!(r.body["next_after"].is_null(), "{}", r.text);
    r.body["entries"].as_array().unwrap().clone()
}

/// Drops what moves with the clock (`remaining_seconds`, `evaluated_at`) from a read.
fn without_clock(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("remaining_seconds");
            m.remove("evaluated_at");
            for x in m.values_mut() {
                without_clock(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(without_clock),
        _ => {}
    }
}

/// What a refused request must leave as it was.
#[derive(Debug, PartialEq)]
struct Stored {
    revision: u64,
    reads: Vec<(String, u16, Value)>,
    audit: Vec<Value>,
}

async fn stored(s: &TestServer, t: &str, reads: &[&str]) -> Stored {
    let mut out = Vec::new();
    for p in reads {
        let r = s.get(&tp(t, p), &s.op).await;
        let mut body = r.body.clone();
        without_clock(&mut body);
        out.push(((*p).to_owned(), r.status, body));
    }
    Stored {
        revision: s.revision(t).await,
        reads: out,
        audit: audit_all(s, t).await,
    }
}

/// A request that must be refused with `status` (and `code`, when given) and a message
/// naming every one of `needles`; checks that the revision, the answers to `reads` and
/// the audit trail are as they were.
struct Refusal<'a> {
    method: Method,
    path: &'a str,
    token: &'a str,
    body: Option<Value>,
    status: u16,
    code: Option<&'a str>,
    needles: &'a [&'a str],
    reads: &'a [&'a str],
}

async fn refused(s: &TestServer, t: &str, x: Refusal<'_>) -> Resp {
    let before = stored(s, t, x.reads).await;
    let r = s
        .call(
            x.method.clone(),
            &tp(t, x.path),
            Some(x.token),
            x.body.as_ref(),
        )
        .await;
    if let Err(e) = check_error(&r, x.status, x.code, x.needles) {
        panic!("{} {}: {e}", x.method, x.path);
    }
    let after = stored(s, t, x.reads).await;
    assert_eq!(
        before, after,
        "{} {} was refused but changed the stored state",
        x.method, x.path
    );
    r
}

/// Operator write that must answer `status`; returns its revision.
async fn op_write(s: &TestServer, method: Method, path: &str, body: Value, status: u16) -> u64 {
    let r = s.call(method.clone(), path, Some(&s.op), Some(&body)).await;
    assert_eq!(r.status, status, "{method} {path}: {}", r.text);
    r.revision()
}

/// The operator's check.
async fn check(s: &TestServer, t: &str, body: Value) -> Value {
    let r = s.post(&tp(t, "/check"), &s.op, body).await;
    r.expect(200);
    r.body
}

async fn allowed(
    s: &TestServer,
    t: &str,
    principal: &str,
    action: &str,
    ty: &str,
    id: &str,
) -> bool {
    check(s, t, check_body(principal, action, ty, id)).await["allowed"]
        .as_bool()
        .unwrap()
}

/// Creates a custom role (operator).
async fn role(s: &TestServer, t: &str, body: Value) -> u64 {
    op_write(s, Method::POST, &tp(t, "/roles"), body, 201).await
}

/// Gives a role (operator) and returns the revision.
async fn assign_full(s: &TestServer, t: &str, body: Value) -> u64 {
    op_write(s, Method::POST, &tp(t, "/assignments"), body, 201).await
}

async fn lookup(s: &TestServer, t: &str, kind: &str, body: Value) -> Vec<String> {
    let r = s
        .post(&tp(t, &format!("/lookup/{kind}")), &s.op, body.clone())
        .await;
    assert_eq!(r.status, 200, "lookup {kind} {body}: {}", r.text);
    let ids: Vec<String> = r.body["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(r.body["count"], json!(ids.len()), "{}", r.text);
    ids
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

// ---- 1. invariants ---------------------------------------------------------------------

async fn invariants(b: Backend) {
    let s = TestServer::start_on(b).await;

    // Phones Pro: seats go standard → advanced, never back; only the operator removes users.
    let t = "pp";
    s.tenant(t, "phones-pro").await;
    s.org_unit(t, "co", "company", None).await;
    s.org_unit(t, "east", "office", Some("co")).await;
    s.org_unit(t, "west", "office", Some("co")).await;
    for (u, o) in [
        ("ca", "co"),
        ("oa", "east"),
        ("u1", "east"),
        ("u2", "west"),
        ("u3", "east"),
    ] {
        s.user(t, u, Some(o)).await;
    }
    s.assign(t, "ca", "company_admin", None).await;
    s.assign(
        t,
        "oa",
        "office_admin",
        Some(json!({"org_units": ["east"]})),
    )
    .await;
    let ca = s.mint(t, "ca").await;
    let oa = s.mint(t, "oa").await;
    let seat = |u: &str, org: &str, level: &str| json!({"name": format!("User {u}"), "org_unit": org, "attributes": {"seat_level": level}});
    let level_of = |v: &Value| v["attributes"]["seat_level"].clone();

    // The operator upgrades a seat in the west office.
    let r = s
        .op_put(&tp(t, "/users/u2"), seat("u2", "west", "advanced"))
        .await;
    r.expect(200);
    let g = s.get(&tp(t, "/users/u2"), &s.op).await;
    assert_eq!(level_of(&g.body), json!("advanced"), "{}", g.text);

    // The east office's administrator upgrades a seat in their office.
    let r = s
        .put(&tp(t, "/users/u1"), &oa, seat("u1", "east", "advanced"))
        .await;
    r.expect(200);
    let rev_upgrade = r.revision();
    let g = s.get(&tp(t, "/users/u1"), &s.op).await;
    assert_eq!(level_of(&g.body), json!("advanced"), "{}", g.text);
    let audit = audit_all(&s, t).await;
    let e = audit
        .iter()
        .find(|e| e["revision"] == json!(rev_upgrade))
        .unwrap_or_else(|| panic!("no audit entry for revision {rev_upgrade}: {audit:?}"));
    assert_eq!(e["action"], json!("user.update"), "{e}");
    assert_eq!(e["target"], json!("user:u1"), "{e}");
    assert_eq!(e["actor"], json!("user:oa"), "{e}");
    assert!(
        !e["before"].to_string().contains("advanced"),
        "before the upgrade: {e}"
    );
    assert!(e["after"].to_string().contains("advanced"), "{e}");

    // A company administrator upgrades anyone's seat.
    s.put(&tp(t, "/users/u3"), &ca, seat("u3", "east", "advanced"))
        .await
        .expect(200);

    // The office administrator cannot touch the west office's users, even to upgrade.
    refused(
        &s,
        t,
        Refusal {
            method: Method::PUT,
            path: "/users/u2",
            token: &oa,
            body: Some(seat("u2", "west", "advanced")),
            status: 403,
            code: Some("forbidden"),
            needles: &["oa"],
            reads: &["/users/u2"],
        },
    )
    .await;

    // Downgrades are refused, to the office administrator, a company administrator and
    // the operator alike, naming the user and both values.
    for token in [oa.as_str(), ca.as_str(), s.op.as_str()] {
        refused(
            &s,
            t,
            Refusal {
                method: Method::PUT,
                path: "/users/u1",
                token,
                body: Some(seat("u1", "east", "standard")),
                status: 422,
                code: Some("invariant"),
                needles: &["u1", "advanced", "standard", "seat_level"],
                reads: &["/users/u1", "/users"],
            },
        )
        .await;
    }
    // Leaving the attribute out falls back to its default (`standard`): a downgrade too.
    refused(
        &s,
        t,
        Refusal {
            method: Method::PUT,
            path: "/users/u1",
            token: &s.op,
            body: Some(json!({"name": "User u1", "org_unit": "east"})),
            status: 422,
            code: Some("invariant"),
            needles: &["u1", "advanced", "standard"],
            reads: &["/users/u1"],
        },
    )
    .await;
    // A seat level the profile does not declare, or an attribute it does not know, is
    // refused too.
    for (attributes, needle) in [
        (json!({"seat_level": "premium"}), "premium"),
        (json!({"seat_level": "advanced", "vip": true}), "vip"),
    ] {
        refused(
            &s,
            t,
            Refusal {
                method: Method::PUT,
                path: "/users/u1",
                token: &oa,
                body: Some(
                    json!({"name": "User u1", "org_unit": "east", "attributes": attributes}),
                ),
                status: 422,
                code: Some("invalid"),
                needles: &[needle],
                reads: &["/users/u1"],
            },
        )
        .await;
    }
    // Setting an advanced seat to advanced again is no downgrade.
    s.put(&tp(t, "/users/u1"), &oa, seat("u1", "east", "advanced"))
        .await
        .expect(200);

    // Administrators cannot remove users; the operator can.
    for token in [oa.as_str(), ca.as_str()] {
        refused(
            &s,
            t,
            Refusal {
                method: Method::DELETE,
                path: "/users/u3",
                token,
                body: None,
                status: 403,
                code: Some("forbidden"),
                needles: &["users.delete"],
                reads: &["/users/u3", "/users", "/assignments"],
            },
        )
        .await;
    }
    s.delete(&tp(t, "/users/u3"), &s.op).await.expect(200);
    s.get(&tp(t, "/users/u3"), &s.op).await.expect(404);

    // GoTo: "View the settings of a call queue" is locked for Supervisor-type roles, and a
    // role type's cap bounds what its roles hold.
    let t = "gt";
    s.tenant(t, "goto-contact-center").await;
    role(
        &s,
        t,
        json!({"id": "team_sup", "name": "Team supervisor", "type": "supervisor",
               "grants": {"Listen into live calls": true}}),
    )
    .await;
    for key in ["View the settings of a call queue", "view_queue_settings"] {
        refused(
            &s,
            t,
            Refusal {
                method: Method::PUT,
                path: "/roles/team_sup",
                token: &s.op,
                body: Some(
                    json!({"version": 1, "grants": {"Listen into live calls": true, key: false}}),
                ),
                status: 422,
                code: None,
                needles: &[key, "locked"],
                reads: &["/roles/team_sup", "/roles"],
            },
        )
        .await;
    }
    refused(
        &s,
        t,
        Refusal {
            method: Method::POST,
            path: "/roles",
            token: &s.op,
            body: Some(json!({"id": "sup_unlocked", "type": "supervisor",
                              "grants": {"View the settings of a call queue": false}})),
            status: 422,
            code: None,
            needles: &["View the settings of a call queue", "locked"],
            reads: &["/roles", "/roles/sup_unlocked"],
        },
    )
    .await;
    // Outside the supervisor type's cap: an Agent-tab privilege, directly or by inclusion,
    // and a Contact Admin ability.
    for (grants, includes) in [
        (json!({"Make outbound calls": true}), json!([])),
        (json!({"Listen into live calls": true}), json!(["agent"])),
        (json!({"Configure queues": true}), json!([])),
    ] {
        refused(
            &s,
            t,
            Refusal {
                method: Method::PUT,
                path: "/roles/team_sup",
                token: &s.op,
                body: Some(json!({"version": 1, "grants": grants, "includes": includes})),
                status: 422,
                code: None,
                needles: &["team_sup", "cap"],
                reads: &["/roles/team_sup", "/roles"],
            },
        )
        .await;
    }
    refused(
        &s,
        t,
        Refusal {
            method: Method::POST,
            path: "/roles",
            token: &s.op,
            body: Some(json!({"id": "agent_plus", "type": "agent",
                              "grants": {"Barge into live calls": true}})),
            status: 422,
            code: None,
            needles: &["agent_plus", "cap"],
            reads: &["/roles", "/roles/agent_plus"],
        },
    )
    .await;
    // Inside the cap, and turning off a default (not locked) privilege, are fine.
    let r = s
        .op_put(
            &tp(t, "/roles/team_sup"),
            json!({"version": 1, "grants": {"Listen into live calls": true,
                   "Manage pause reasons": true, "Limit access to assigned call queues": false}}),
        )
        .await;
    r.expect(200);
    let g = s.get(&tp(t, "/roles/team_sup"), &s.op).await;
    assert_eq!(g.body["version"], json!(2), "{}", g.text);
}

// ---- 2. separation of duty -------------------------------------------------------------

async fn separation_of_duty(b: Backend) {
    let s = TestServer::start_on(b).await;
    let t = "zm";
    s.tenant(t, "zoom-contact-center").await;
    for u in ["alice", "bob", "carol", "dan"] {
        s.user(t, u, None).await;
    }
    role(
        &s,
        t,
        json!({"id": "pii_eraser", "grants": {"EngagementLogErasePII": "Edit"}}),
    )
    .await;
    role(
        &s,
        t,
        json!({"id": "rec_deleter", "grants": {"VoiceRecordingDelete": "Edit"}}),
    )
    .await;
    // alice already holds both (Admin holds everything) before any rule exists.
    s.assign(t, "alice", "admin", None).await;
    s.assign(t, "bob", "pii_eraser", None).await;
    s.assign(t, "carol", "rec_deleter", None).await;
    let v = s.get(&tp(t, "/sod-violations"), &s.op).await;
    v.expect(200);
    assert_eq!(v.body["violations"], json!([]), "{}", v.text);

    // Adding the rule is not refused although alice already breaks it.
    let rule = json!({"id": "pii_vs_recordings", "name": "Erase PII vs delete recordings",
                      "privileges": ["EngagementLogErasePII", "VoiceRecordingDelete"]});
    let before = s.revision(t).await;
    let r = s.post(&tp(t, "/sod-rules"), &s.op, rule).await;
    r.expect(200);
    assert_eq!(r.revision(), before + 1);
    let rules = s.get(&tp(t, "/sod-rules"), &s.op).await;
    assert_eq!(
        rules.body["tenant"][0]["id"],
        json!("pii_vs_recordings"),
        "{}",
        rules.text
    );
    let audit = audit_all(&s, t).await;
    let last = audit.last().unwrap();
    assert_eq!(last["action"], json!("sod_rule.put"), "{last}");
    assert_eq!(
        last["target"],
        json!("sod_rule:pii_vs_recordings"),
        "{last}"
    );
    assert_eq!(last["revision"], json!(before + 1), "{last}");

    // The violation that predates the rule is listed.
    let v = s.get(&tp(t, "/sod-violations"), &s.op).await;
    v.expect(200);
    let list = v.body["violations"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{}", v.text);
    assert_eq!(list[0]["rule"], json!("pii_vs_recordings"));
    assert_eq!(list[0]["name"], json!("Erase PII vs delete recordings"));
    assert_eq!(list[0]["user"], json!("alice"));
    assert_eq!(
        list[0]["holding"],
        json!(["EngagementLogErasePII", "VoiceRecordingDelete"])
    );

    let reads: &[&str] = &[
        "/assignments",
        "/sod-violations",
        "/roles/pii_eraser",
        "/roles/rec_deleter",
    ];
    // An assignment that would give bob both is refused, naming the rule and bob.
    refused(
        &s,
        t,
        Refusal {
            method: Method::POST,
            path: "/assignments",
            token: &s.op,
            body: Some(json!({"principal": "bob", "role": "rec_deleter"})),
            status: 422,
            code: Some("separation_of_duty"),
            needles: &["pii_vs_recordings", "`bob`"],
            reads,
        },
    )
    .await;
    // So is one scoped to a queue, or expiring: holding both anywhere, for any time.
    s.op_post(&tp(t, "/queues"), json!({"id": "q1"})).await;
    refused(
        &s,
        t,
        Refusal {
            method: Method::POST,
            path: "/assignments",
            token: &s.op,
            body: Some(json!({"principal": "bob", "role": "rec_deleter",
                              "scope": {"queues": ["q1"]}, "expires_at": s.now() + 3600})),
            status: 422,
            code: Some("separation_of_duty"),
            needles: &["pii_vs_recordings", "`bob`"],
            reads,
        },
    )
    .await;
    // A role edit that would make its assignee (bob) hold both is refused.
    refused(
        &s,
        t,
        Refusal {
            method: Method::PUT,
            path: "/roles/pii_eraser",
            token: &s.op,
            body: Some(
                json!({"version": 1, "grants": {"EngagementLogErasePII": "Edit",
                                                      "VoiceRecordingDelete": "Edit"}}),
            ),
            status: 422,
            code: Some("separation_of_duty"),
            needles: &["pii_vs_recordings", "`bob`"],
            reads,
        },
    )
    .await;
    // Including the other role does it too (carol would hold both).
    refused(
        &s,
        t,
        Refusal {
            method: Method::PUT,
            path: "/roles/rec_deleter",
            token: &s.op,
            body: Some(
                json!({"version": 1, "grants": {"VoiceRecordingDelete": "Edit"},
                              "includes": ["pii_eraser"]}),
            ),
            status: 422,
            code: Some("separation_of_duty"),
            needles: &["pii_vs_recordings", "`carol`"],
            reads,
        },
    )
    .await;
    // Writes that create no new violation go through, also for alice, whose violation
    // predates the rule.
    s.assign(t, "dan", "rec_deleter", None).await;
    s.assign(t, "alice", "agent", None).await;
    s.op_put(
        &tp(t, "/roles/pii_eraser"),
        json!({"version": 1, "grants": {"EngagementLogErasePII": "Edit", "EngagementListen": true}}),
    )
    .await;
    let v = s.get(&tp(t, "/sod-violations"), &s.op).await;
    assert_eq!(
        v.body["violations"].as_array().unwrap().len(),
        1,
        "{}",
        v.text
    );

    // A rule over roles.
    s.op_post(
        &tp(t, "/sod-rules"),
        json!({"id": "eraser_not_agent", "roles": ["pii_eraser", "agent"]}),
    )
    .await;
    refused(
        &s,
        t,
        Refusal {
            method: Method::POST,
            path: "/assignments",
            token: &s.op,
            body: Some(json!({"principal": "bob", "role": "agent"})),
            status: 422,
            code: Some("separation_of_duty"),
            needles: &["eraser_not_agent", "`bob`", "role agent"],
            reads,
        },
    )
    .await;

    // Bad rules are refused whole; `sod.write` needs RoleManagement:Edit and reading
    // violations (`sod.read`) RoleManagement:Read, which dan (a recording deleter) lacks.
    let rule_reads: &[&str] = &["/sod-rules", "/sod-violations", "/assignments"];
    for (rule, status, needles) in [
        (
            json!({"id": "lonely", "privileges": ["VoiceRecordingDelete"]}),
            422,
            vec!["lonely", "at least two"],
        ),
        (
            json!({"id": "typo", "privileges": ["VoiceRecordingDelete", "NoSuchPrivilege"]}),
            422,
            vec!["typo", "NoSuchPrivilege"],
        ),
        (
            json!({"id": "ghost_role", "roles": ["pii_eraser", "no_such_role"]}),
            422,
            vec!["ghost_role", "no_such_role"],
        ),
        (
            json!({"id": "bad level", "privileges": ["VoiceRecordingDelete", "EngagementListen"]}),
            400,
            vec!["bad level"],
        ),
    ] {
        refused(
            &s,
            t,
            Refusal {
                method: Method::POST,
                path: "/sod-rules",
                token: &s.op,
                body: Some(rule),
                status,
                code: None,
                needles: &needles,
                reads: rule_reads,
            },
        )
        .await;
    }
    let dan = s.mint(t, "dan").await;
    refused(
        &s,
        t,
        Refusal {
            method: Method::POST,
            path: "/sod-rules",
            token: &dan,
            body: Some(json!({"id": "mine", "roles": ["agent", "supervisor"]})),
            status: 403,
            code: Some("forbidden"),
            needles: &["sod.write"],
            reads: rule_reads,
        },
    )
    .await;
    refused(
        &s,
        t,
        Refusal {
            method: Method::DELETE,
            path: "/sod-rules/pii_vs_recordings",
            token: &dan,
            body: None,
            status: 403,
            code: Some("forbidden"),
            needles: &["sod.write"],
            reads: rule_reads,
        },
    )
    .await;
    let r = s.get(&tp(t, "/sod-violations"), &dan).await;
    support::assert_error(&r, 403, Some("forbidden"), &["sod.read"]);
    refused(
        &s,
        t,
        Refusal {
            method: Method::DELETE,
            path: "/sod-rules/no_such_rule",
            token: &s.op,
            body: None,
            status: 404,
            code: Some("not_found"),
            needles: &["no_such_rule"],
            reads: rule_reads,
        },
    )
    .await;

    // Once the rule is removed, the same assignment is allowed.
    s.delete(&tp(t, "/sod-rules/pii_vs_recordings"), &s.op)
        .await
        .expect(200);
    s.assign(t, "bob", "rec_deleter", None).await;
    let v = s.get(&tp(t, "/sod-violations"), &s.op).await;
    assert_eq!(v.body["violations"], json!([]), "{}", v.text);
}

// ---- 3. obligations --------------------------------------------------------------------

async fn obligations(b: Backend) {
    let s = TestServer::start_on(b).await;
    let t = "hz";
    s.tenant(t, "horizon-contact").await;
    for u in ["anon", "ident", "both", "ag"] {
        s.user(t, u, None).await;
    }
    s.op_post(&tp(t, "/queues"), json!({"id": "q1", "members": ["ag"]}))
        .await;
    s.op_put(
        &tp(t, "/resources/conversation/c1"),
        json!({"relations": {"agent": ["ag"], "queue": ["q1"]}, "attributes": {"channel": "call"}}),
    )
    .await;
    role(
        &s,
        t,
        json!({"id": "anon_sup", "grants": {"Supervisor Portal": "Agents Anonymous"}}),
    )
    .await;
    s.assign(t, "anon", "anon_sup", None).await;
    s.assign(t, "ident", "supervisor", None).await;
    s.assign(t, "both", "anon_sup", None).await;
    s.assign(t, "both", "supervisor", None).await;
    s.assign(t, "ag", "agent", None).await;

    let mask = json!(["mask_agent_identity"]);
    for action in ["data.live.agents", "supervisor.alerts.agent"] {
        let d = check(&s, t, check_body("anon", action, "user", "ag")).await;
        assert_eq!(d["allowed"], json!(true), "{action}: {d}");
        assert_eq!(d["obligations"], mask, "{action}: {d}");
        for who in ["ident", "both"] {
            let d = check(&s, t, check_body(who, action, "user", "ag")).await;
            assert_eq!(d["allowed"], json!(true), "{who} {action}: {d}");
            assert!(
                d.get("obligations").is_none_or(|o| o == &json!([])),
                "{who} {action}: {d}"
            );
        }
        // A denial carries no obligation.
        let d = check(&s, t, check_body("ag", action, "user", "anon")).await;
        assert_eq!(d["allowed"], json!(false), "{d}");
        assert!(d.get("obligations").is_none_or(|o| o == &json!([])), "{d}");
    }
    // Explain says the same.
    let r = s
        .post(
            &tp(t, "/explain"),
            &s.op,
            check_body("anon", "data.live.agents", "user", "ag"),
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["obligations"], mask, "{}", r.text);
    // A batch's items carry theirs.
    let r = s
        .post(
            &tp(t, "/check/batch"),
            &s.op,
            json!({"checks": [
                check_body("anon", "data.live.agents", "user", "ag"),
                check_body("ident", "data.live.agents", "user", "ag"),
                check_body("ag", "data.live.agents", "user", "ag"),
                check_body("anon", "supervisor.calls.record", "conversation", "c1"),
            ]}),
        )
        .await;
    r.expect(200);
    let items = r.body["results"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{}", r.text);
    assert_eq!(items[0]["allowed"], json!(true));
    assert_eq!(items[0]["obligations"], mask, "{}", r.text);
    assert_eq!(items[1]["allowed"], json!(true));
    assert!(items[1].get("obligations").is_none_or(|o| o == &json!([])));
    assert_eq!(items[2]["allowed"], json!(false));
    assert!(items[2].get("obligations").is_none_or(|o| o == &json!([])));
    assert_eq!(items[3]["allowed"], json!(true));
    assert_eq!(items[3]["obligations"], mask, "{}", r.text);
    // The sensitive decision's audit entry records the obligation.
    let audit = audit_all(&s, t).await;
    let e = audit.last().unwrap();
    assert_eq!(
        e["action"],
        json!("decision.supervisor.calls.record"),
        "{e}"
    );
    assert_eq!(e["target"], json!("conversation:c1"), "{e}");
    assert_eq!(e["after"]["principal"], json!("anon"), "{e}");
    assert_eq!(e["after"]["allowed"], json!(true), "{e}");
    assert_eq!(e["after"]["obligations"], mask, "{e}");
}

// ---- 4. expiring grants ----------------------------------------------------------------

async fn expiring_grants(b: Backend) {
    let s = TestServer::start_on(b).await;
    let t = "hz";
    s.tenant(t, "horizon-contact").await;
    for u in ["temp", "late", "ag"] {
        s.user(t, u, None).await;
    }
    let action = "data.live.agent_status";
    let created = s.now();
    let exp = created + 3;
    let rev_cover = assign_full(
        &s,
        t,
        json!({"id": "cover", "principal": "temp", "role": "supervisor", "expires_at": exp}),
    )
    .await;
    assert!(allowed(&s, t, "temp", action, "user", "ag").await);
    assert_eq!(
        lookup(
            &s,
            t,
            "subjects",
            json!({"action": action, "resource": {"type": "user", "id": "ag"}})
        )
        .await,
        strs(&["temp"])
    );

    // The assignment lists its expiry and the time left.
    let r = s.get(&tp(t, "/assignments?principal=temp"), &s.op).await;
    r.expect(200);
    let a = &r.body["assignments"][0];
    assert_eq!(a["id"], json!("cover"), "{}", r.text);
    assert_eq!(a["expires_at"], json!(exp), "{}", r.text);
    let left = a["remaining_seconds"].as_i64().unwrap();
    assert!((1..=3).contains(&left), "remaining {left}: {}", r.text);
    let r = s.get(&tp(t, "/assignments/cover"), &s.op).await;
    assert!(
        r.body["remaining_seconds"].as_i64().unwrap() <= 3,
        "{}",
        r.text
    );

    // The audit entry of its creation carries the expiry.
    let audit = audit_all(&s, t).await;
    let e = audit
        .iter()
        .find(|e| e["revision"] == json!(rev_cover))
        .unwrap();
    assert_eq!(e["action"], json!("assignment.create"), "{e}");
    assert_eq!(e["target"], json!("user:temp"), "{e}");
    assert_eq!(e["after"]["expires_at"], json!(exp), "{e}");
    assert_eq!(e["after"]["id"], json!("cover"), "{e}");
    assert!(e["before"].is_null(), "{e}");

    // An assignment already past its expiry grants nothing.
    assign_full(
        &s,
        t,
        json!({"id": "past", "principal": "late", "role": "supervisor", "expires_at": s.now() - 60}),
    )
    .await;
    assert!(!allowed(&s, t, "late", action, "user", "ag").await);
    let r = s.get(&tp(t, "/assignments/past"), &s.op).await;
    assert_eq!(r.body["remaining_seconds"], json!(0), "{}", r.text);

    // After the expiry, the first one stops granting, with no further write.
    let rev = s.revision(t).await;
    let trail = audit_all(&s, t).await;
    s.advance_past(exp - 1);
    assert!(s.now() >= exp);
    assert!(!allowed(&s, t, "temp", action, "user", "ag").await);
    assert!(
        lookup(
            &s,
            t,
            "subjects",
            json!({"action": action, "resource": {"type": "user", "id": "ag"}})
        )
        .await
        .is_empty()
    );
    assert!(
        lookup(
            &s,
            t,
            "resources",
            json!({"principal": "temp", "action": action})
        )
        .await
        .is_empty()
    );
    let r = s.get(&tp(t, "/assignments/cover"), &s.op).await;
    assert_eq!(r.body["remaining_seconds"], json!(0), "{}", r.text);
    assert_eq!(s.revision(t).await, rev, "expiry wrote something");
    assert_eq!(
        audit_all(&s, t).await,
        trail,
        "expiry wrote to the audit trail"
    );
    // As of a time before the expiry, temp could.
    assert_eq!(
        lookup(
            &s,
            t,
            "subjects",
            json!({"action": action, "resource": {"type": "user", "id": "ag"},
                   "as_of": {"time": exp - 1}})
        )
        .await,
        strs(&["temp"])
    );
}

// ---- 5. audit trail --------------------------------------------------------------------

/// A minimal RFC 4180 reader: quoted fields with `""` escapes, commas and newlines.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                '\r' => {}
                _ => field.push(c),
            }
        }
    }
    assert!(!quoted, "unterminated quote in CSV");
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// One write whose audit entry the trail must hold.
struct Expect {
    revision: u64,
    actor: &'static str,
    action: &'static str,
    target: &'static str,
}

async fn raw_get(s: &TestServer, path: &str) -> (u16, String, String) {
    let res = s
        .client
        .get(format!("{}{path}", s.base))
        .bearer_auth(&s.op)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, ct, res.text().await.unwrap())
}

async fn verify(s: &TestServer, t: &str) -> Value {
    let r = s.get(&tp(t, "/audit/verify"), &s.op).await;
    r.expect(200);
    r.body
}

async fn audit_trail(b: Backend) {
    let s = TestServer::start_on(b).await;
    let t = "zm";
    // Zoom: `audit.read` is "RptContactCenterOperationLog: Read" (the contact center
    // operation log), which Admin holds, so tenant tokens are tested both ways.
    s.op_post(
        "/v1/tenants",
        json!({"id": t, "name": "Zoom audit", "profile_text": ZOOM}),
    )
    .await
    .expect(201);
    let mut want: Vec<Expect> = Vec::new();
    let post = |path: &'static str, body: Value| {
        let s = &s;
        async move { op_write(s, Method::POST, &tp(t, path), body, 201).await }
    };

    // Batch A.
    want.push(Expect {
        revision: post("/org-units", json!({"id": "zco", "kind": "company"})).await,
        actor: "operator:",
        action: "org_unit.create",
        target: "org_unit:zco",
    });
    want.push(Expect {
        revision: post(
            "/org-units",
            json!({"id": "dept", "kind": "department", "parent": "zco"}),
        )
        .await,
        actor: "operator:",
        action: "org_unit.create",
        target: "org_unit:dept",
    });
    for (u, who) in [
        ("alice", "user:alice"),
        ("sam", "user:sam"),
        ("ann", "user:ann"),
        ("eve", "user:eve"),
    ] {
        want.push(Expect {
            revision: post("/users", json!({"id": u, "name": u})).await,
            actor: "operator:",
            action: "user.create",
            target: who,
        });
    }
    want.push(Expect {
        revision: post(
            "/queues",
            json!({"id": "q1", "org_unit": "dept", "members": ["ann"], "supervisors": ["sam"]}),
        )
        .await,
        actor: "operator:",
        action: "queue.create",
        target: "queue:q1",
    });
    want.push(Expect {
        revision: op_write(
            &s,
            Method::PUT,
            &tp(t, "/resources/engagement/e1"),
            json!({"relations": {"agent": ["ann"], "queue": ["q1"]}, "attributes": {"channel": "voice"}}),
            201,
        )
        .await,
        actor: "operator:",
        action: "engagement.create",
        target: "engagement:e1",
    });
    want.push(Expect {
        revision: post(
            "/roles",
            json!({"id": "auditor", "grants": {"LogManagement": "Read"}}),
        )
        .await,
        actor: "operator:",
        action: "role.create",
        target: "role:auditor",
    });
    for (u, r) in [("alice", "admin"), ("sam", "supervisor"), ("ann", "agent")] {
        want.push(Expect {
            revision: assign_full(&s, t, json!({"principal": u, "role": r})).await,
            actor: "operator:",
            action: "assignment.create",
            target: match u {
                "alice" => "user:alice",
                "sam" => "user:sam",
                _ => "user:ann",
            },
        });
    }
    let batch_a_end = audit_all(&s, t).await.last().unwrap()["at"]
        .as_i64()
        .unwrap();

    // Batch B, at least a second later.
    s.advance_past(batch_a_end);
    let rev_role_update = op_write(
        &s,
        Method::PUT,
        &tp(t, "/roles/auditor"),
        json!({"version": 1, "grants": {"LogManagement": "Read", "RptLogs": "Read"}}),
        200,
    )
    .await;
    want.push(Expect {
        revision: rev_role_update,
        actor: "operator:",
        action: "role.update",
        target: "role:auditor",
    });
    want.push(Expect {
        revision: assign_full(
            &s,
            t,
            json!({"id": "eve_auditor", "principal": "eve", "role": "auditor"}),
        )
        .await,
        actor: "operator:",
        action: "assignment.create",
        target: "user:eve",
    });
    let alice = s.mint(t, "alice").await;
    let ann = s.mint(t, "ann").await;
    let r = s
        .post(
            &tp(t, "/roles"),
            &alice,
            json!({"id": "by_alice", "grants": {"RptLogs": "Read"}}),
        )
        .await;
    r.expect(201);
    want.push(Expect {
        revision: r.revision(),
        actor: "user:alice",
        action: "role.create",
        target: "role:by_alice",
    });
    let r = s
        .post(
            &tp(t, "/relations"),
            &s.op,
            json!({"writes": [{"resource": "queue:q1", "relation": "members", "subject": "user:eve"}]}),
        )
        .await;
    assert!(r.status == 200 || r.status == 201, "{}", r.text);
    want.push(Expect {
        revision: r.revision(),
        actor: "operator:",
        action: "relations.write",
        target: "tenant:zm",
    });
    let rev_sod = op_write(
        &s,
        Method::POST,
        &tp(t, "/sod-rules"),
        json!({"id": "r1", "roles": ["auditor", "agent"]}),
        200,
    )
    .await;
    want.push(Expect {
        revision: rev_sod,
        actor: "operator:",
        action: "sod_rule.put",
        target: "sod_rule:r1",
    });
    let r = s.delete(&tp(t, "/assignments/eve_auditor"), &s.op).await;
    r.expect(200);
    want.push(Expect {
        revision: r.revision(),
        actor: "operator:",
        action: "assignment.delete",
        target: "user:eve",
    });
    // Groups, org units, queues, relations, roles and rules: created, changed, removed.
    let mut write = async |method: Method, path: &str, body: Option<Value>, e: Expect| {
        let r = s
            .call(method.clone(), &tp(t, path), Some(&s.op), body.as_ref())
            .await;
        assert!(
            (200..300).contains(&r.status),
            "{method} {path}: {}",
            r.text
        );
        want.push(Expect {
            revision: r.revision(),
            ..e
        });
    };
    let ex = |action: &'static str, target: &'static str| Expect {
        revision: 0,
        actor: "operator:",
        action,
        target,
    };
    write(
        Method::POST,
        "/groups",
        Some(json!({"id": "team1", "members": ["ann"]})),
        ex("group.create", "group:team1"),
    )
    .await;
    write(
        Method::PUT,
        "/groups/team1",
        Some(json!({"name": "Team one", "members": ["ann", "sam"]})),
        ex("group.update", "group:team1"),
    )
    .await;
    write(
        Method::DELETE,
        "/groups/team1",
        None,
        ex("group.delete", "group:team1"),
    )
    .await;
    write(
        Method::PUT,
        "/org-units/dept",
        Some(json!({"kind": "department", "parent": "zco", "name": "Department"})),
        ex("org_unit.update", "org_unit:dept"),
    )
    .await;
    write(
        Method::PUT,
        "/queues/q1",
        Some(json!({"name": "Queue one"})),
        ex("queue.update", "queue:q1"),
    )
    .await;
    write(
        Method::POST,
        "/relations",
        Some(json!({"deletes": [{"resource": "queue:q1", "relation": "members", "subject": "user:eve"}]})),
        ex("relations.write", "tenant:zm"),
    )
    .await;
    write(
        Method::DELETE,
        "/roles/by_alice",
        None,
        ex("role.delete", "role:by_alice"),
    )
    .await;
    write(
        Method::DELETE,
        "/sod-rules/r1",
        None,
        ex("sod_rule.delete", "sod_rule:r1"),
    )
    .await;
    let r = s.delete(&tp(t, "/users/eve"), &alice).await;
    r.expect(200);
    want.push(Expect {
        revision: r.revision(),
        actor: "user:alice",
        action: "user.delete",
        target: "user:eve",
    });
    let rev = s.revision(t).await;

    // Every write is in the trail, with its actor, revision, and before / after.
    let all = audit_all(&s, t).await;
    for w in &want {
        let found = all.iter().any(|e| {
            e["revision"] == json!(w.revision)
                && e["action"] == json!(w.action)
                && e["target"] == json!(w.target)
                && e["actor"].as_str().unwrap().starts_with(w.actor)
        });
        assert!(
            found,
            "no `{}` entry on `{}` by `{}` at revision {}: {all:#?}",
            w.action, w.target, w.actor, w.revision
        );
    }
    let written: BTreeSet<u64> = want.iter().map(|w| w.revision).collect();
    // Tenant creation (revision 1) and token mints are audited too, but are not the
    // state writes listed in `want`.
    let in_trail: BTreeSet<u64> = all
        .iter()
        .filter(|e| {
            let a = e["action"].as_str().unwrap_or("");
            !a.starts_with("tenant.") && !a.starts_with("token.")
        })
        .map(|e| e["revision"].as_u64().unwrap())
        .collect();
    assert!(
        all.iter()
            .any(|e| e["action"] == json!("tenant.create") && e["revision"] == json!(1)),
        "the tenant's creation is audited"
    );
    assert_eq!(
        written, in_trail,
        "revisions written vs revisions in the trail"
    );
    assert_eq!(*written.iter().max().unwrap(), rev);
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e["seq"], json!(i + 1), "{e}");
        assert!(e["at"].as_i64().unwrap() > 0, "{e}");
        let prev = if i == 0 {
            json!("")
        } else {
            all[i - 1]["hash"].clone()
        };
        assert_eq!(e["prev_hash"], prev, "{e}");
        let verb = e["action"].as_str().unwrap();
        if verb.ends_with(".create") || verb == "sod_rule.put" {
            assert!(e["before"].is_null() && !e["after"].is_null(), "{e}");
        } else if verb.ends_with(".delete") {
            assert!(!e["before"].is_null() && e["after"].is_null(), "{e}");
        } else if verb.ends_with(".update") {
            assert!(!e["before"].is_null() && !e["after"].is_null(), "{e}");
        }
    }
    let upd = all
        .iter()
        .find(|e| e["revision"] == json!(rev_role_update))
        .unwrap();
    assert!(!upd["before"].to_string().contains("RptLogs"), "{upd}");
    assert!(upd["after"].to_string().contains("RptLogs"), "{upd}");
    // The user's removal took their assignments with it, in the same revision.
    let last_rev = want.last().unwrap().revision;
    let removal: Vec<&Value> = all
        .iter()
        .filter(|e| e["revision"] == json!(last_rev))
        .collect();
    assert!(
        removal
            .iter()
            .any(|e| e["action"] == json!("user.delete") && e["before"]["id"] == json!("eve")),
        "{removal:?}"
    );

    // Filters, each compared with the same filter applied to the whole trail.
    let split = all
        .iter()
        .find(|e| e["revision"] == json!(rev_role_update))
        .unwrap()["at"]
        .as_i64()
        .unwrap();
    assert!(split > batch_a_end);
    let at = |e: &Value| e["at"].as_i64().unwrap();
    type Pred<'a> = Box<dyn Fn(&Value) -> bool + 'a>;
    let cases: Vec<(String, Pred<'_>)> = vec![
        (
            "actor=user:alice".into(),
            Box::new(|e: &Value| e["actor"] == json!("user:alice")),
        ),
        (
            "target=role:auditor".into(),
            Box::new(|e: &Value| e["target"] == json!("role:auditor")),
        ),
        (
            "action=assignment.".into(),
            Box::new(|e: &Value| e["action"].as_str().unwrap().starts_with("assignment.")),
        ),
        (
            "action=sod_rule.".into(),
            Box::new(|e: &Value| e["action"].as_str().unwrap().starts_with("sod_rule.")),
        ),
        (
            "action=role.create".into(),
            Box::new(|e: &Value| e["action"] == json!("role.create")),
        ),
        (
            format!("from={split}"),
            Box::new(move |e: &Value| at(e) >= split),
        ),
        (
            format!("to={split}"),
            Box::new(move |e: &Value| at(e) < split),
        ),
        (
            format!("from={}&to={}", batch_a_end, split),
            Box::new(move |e: &Value| at(e) >= batch_a_end && at(e) < split),
        ),
        (
            format!("actor=user:alice&action=user.&from={split}"),
            Box::new(move |e: &Value| {
                e["actor"] == json!("user:alice")
                    && e["action"].as_str().unwrap().starts_with("user.")
                    && at(e) >= split
            }),
        ),
        ("target=user:nobody".into(), Box::new(|_: &Value| false)),
    ];
    for (q, pred) in &cases {
        let r = s
            .get(&tp(t, &format!("/audit?{q}&limit=10000")), &s.op)
            .await;
        r.expect(200);
        let got = r.body["entries"].as_array().unwrap();
        let expected: Vec<&Value> = all.iter().filter(|e| pred(e)).collect();
        assert_eq!(
            got.iter().collect::<Vec<_>>(),
            expected,
            "filter {q}: {}",
            r.text
        );
        if *q != "target=user:nobody" {
            assert!(!got.is_empty(), "filter {q} matched nothing");
            assert!(got.len() < all.len(), "filter {q} filtered nothing");
        }
    }

    // Paging: `after` and `next_after` walk the whole trail, a page at a time.
    let mut pages: Vec<Value> = Vec::new();
    let mut after = 0u64;
    let mut n = 0;
    loop {
        let r = s
            .get(&tp(t, &format!("/audit?limit=4&after={after}")), &s.op)
            .await;
        r.expect(200);
        let entries = r.body["entries"].as_array().unwrap();
        assert!(entries.len() <= 4);
        pages.extend(entries.iter().cloned());
        n += 1;
        match r.body["next_after"].as_u64() {
            Some(x) => {
                assert_eq!(entries.len(), 4, "{}", r.text);
                assert_eq!(entries.last().unwrap()["seq"], json!(x));
                after = x;
            }
            None => break,
        }
        assert!(n < 100, "paging does not end");
    }
    assert_eq!(pages, all, "the pages put together are the trail");
    // A filtered page.
    let r = s.get(&tp(t, "/audit?action=user.&limit=2"), &s.op).await;
    let first = r.body["entries"].as_array().unwrap().clone();
    let next = r.body["next_after"].as_u64().unwrap();
    let r = s
        .get(
            &tp(t, &format!("/audit?action=user.&limit=10000&after={next}")),
            &s.op,
        )
        .await;
    let rest = r.body["entries"].as_array().unwrap().clone();
    let users: Vec<Value> = all
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("user."))
        .cloned()
        .collect();
    assert_eq!([first, rest].concat(), users);

    // Exports: JSON lines and CSV, the same entries.
    let (status, ct, body) = raw_get(&s, &tp(t, "/audit?format=jsonl")).await;
    assert_eq!(status, 200, "{body}");
    assert!(ct.starts_with("application/x-ndjson"), "{ct}");
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines, all, "JSON lines export");
    let (status, ct, body) = raw_get(&s, &tp(t, "/audit?format=csv")).await;
    assert_eq!(status, 200, "{body}");
    assert!(ct.starts_with("text/csv"), "{ct}");
    let rows = parse_csv(&body);
    assert_eq!(
        rows[0],
        strs(&[
            "seq",
            "revision",
            "at",
            "actor",
            "action",
            "target",
            "before",
            "after",
            "prev_hash",
            "hash"
        ])
    );
    assert_eq!(rows.len(), all.len() + 1, "{body}");
    let json_or_null = |s: &str| {
        if s.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(s).unwrap()
        }
    };
    for (row, e) in rows[1..].iter().zip(&all) {
        assert_eq!(row.len(), 10, "{row:?}");
        assert_eq!(row[0], e["seq"].to_string());
        assert_eq!(row[1], e["revision"].to_string());
        assert_eq!(row[2], e["at"].to_string());
        assert_eq!(row[3], e["actor"].as_str().unwrap());
        assert_eq!(row[4], e["action"].as_str().unwrap());
        assert_eq!(row[5], e["target"].as_str().unwrap());
        assert_eq!(json_or_null(&row[6]), e["before"], "{row:?}");
        assert_eq!(json_or_null(&row[7]), e["after"], "{row:?}");
        assert_eq!(row[8], e["prev_hash"].as_str().unwrap());
        assert_eq!(row[9], e["hash"].as_str().unwrap());
    }
    // Filters apply to exports.
    let (_, _, body) = raw_get(&s, &tp(t, "/audit?format=csv&action=role.")).await;
    let rows = parse_csv(&body);
    let roles = all
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("role."))
        .count();
    assert_eq!(rows.len(), roles + 1, "{body}");
    let (_, _, body) = raw_get(&s, &tp(t, "/audit?format=jsonl&actor=user:alice")).await;
    assert_eq!(body.lines().count(), 2, "{body}");
    s.get(&tp(t, "/audit?format=xml"), &s.op).await.expect(400);

    // Sensitive decisions are logged too, at the current revision, without a new one.
    let listen = |who: &str| check_body(who, "engagement.listen", "engagement", "e1");
    let d = check(&s, t, listen("sam")).await;
    assert_eq!(d["allowed"], json!(true), "{d}");
    let d = check(&s, t, listen("ann")).await; // her own engagement
    assert_eq!(d["allowed"], json!(false), "{d}");
    let r = s
        .post(
            &tp(t, "/check/batch"),
            &s.op,
            json!({"checks": [listen("alice"),
                               check_body("sam", "engagement.waiting_room.chat", "engagement", "e1")]}),
        )
        .await;
    r.expect(200);
    // Checking for oneself needs no `check.others`; that is logged as the user.
    let r = s.post(&tp(t, "/check"), &ann, listen("ann")).await;
    r.expect(200);
    assert_eq!(s.revision(t).await, rev, "decisions bumped the revision");
    let now_all = audit_all(&s, t).await;
    let new: Vec<&Value> = now_all[all.len()..].iter().collect();
    assert_eq!(new.len(), 4, "{new:#?}");
    for (e, (who, ok)) in new.iter().zip([
        ("sam", true),
        ("ann", false),
        ("alice", true),
        ("ann", false),
    ]) {
        assert_eq!(e["action"], json!("decision.engagement.listen"), "{e}");
        assert_eq!(e["target"], json!("engagement:e1"), "{e}");
        assert_eq!(e["revision"], json!(rev), "{e}");
        assert_eq!(e["after"]["principal"], json!(who), "{e}");
        assert_eq!(e["after"]["allowed"], json!(ok), "{e}");
    }
    assert_eq!(new[3]["actor"], json!("user:ann"));
    assert!(new[0]["actor"].as_str().unwrap().starts_with("operator:"));
    let r = s
        .get(&tp(t, "/audit?action=decision.&limit=10000"), &s.op)
        .await;
    assert_eq!(r.body["entries"].as_array().unwrap().len(), 4, "{}", r.text);

    // Intact.
    let v = verify(&s, t).await;
    assert_eq!(v["intact"], json!(true), "{v}");
    assert_eq!(v["entries"], json!(now_all.len()), "{v}");
    assert!(v["first_bad_seq"].is_null(), "{v}");

    // Tenant tokens need `audit.read`: alice holds it here (View roles), ann does not.
    for path in ["/audit", "/audit/verify", "/audit?format=csv"] {
        let r = s.get(&tp(t, path), &alice).await;
        r.expect(200);
        refused(
            &s,
            t,
            Refusal {
                method: Method::GET,
                path,
                token: &ann,
                body: None,
                status: 403,
                code: Some("forbidden"),
                needles: &["audit.read"],
                reads: &[],
            },
        )
        .await;
    }
    // In a tenant of the shipped profile, its administrator reads the trail too (the
    // operator is not needed for a tenant's own governance).
    let z = "zoom2";
    s.tenant(z, "zoom-contact-center").await;
    s.user(z, "boss", None).await;
    s.assign(z, "boss", "admin", None).await;
    let boss = s.mint(z, "boss").await;
    for path in ["/audit", "/audit/verify"] {
        s.get(&tp(z, path), &boss).await.expect(200);
        s.get(&tp(z, path), &s.op).await.expect(200);
    }
    // Another tenant's trail does not exist for a tenant token.
    s.get(&tp(t, "/audit"), &boss).await.expect(404);

    // A setting change records the value before (the default, until set) and after.
    let g = "gt";
    s.tenant(g, "goto-contact-center").await;
    let rev_set = op_write(
        &s,
        Method::PUT,
        &tp(g, "/settings"),
        json!({"allow_unassigned_queue_login": true}),
        200,
    )
    .await;
    let e = audit_all(&s, g).await.pop().unwrap();
    assert_eq!(e["revision"], json!(rev_set), "{e}");
    assert_eq!(e["action"], json!("setting.update"), "{e}");
    assert_eq!(
        e["target"],
        json!("setting:allow_unassigned_queue_login"),
        "{e}"
    );
    assert_eq!(e["before"], json!(false), "{e}");
    assert_eq!(e["after"], json!(true), "{e}");

    // Altering a stored entry breaks the chain at that entry.
    let k = now_all
        .iter()
        .find(|e| e["revision"] == json!(rev_role_update))
        .unwrap()["seq"]
        .as_u64()
        .unwrap();
    let n = s
        .raw_sql(&format!(
            "UPDATE audit SET target = 'role:innocent' WHERE tenant = '{t}' AND seq = {k}"
        ))
        .await;
    assert_eq!(n, 1);
    let v = verify(&s, t).await;
    assert_eq!(v["intact"], json!(false), "{v}");
    assert_eq!(v["first_bad_seq"], json!(k), "{v}");
    assert!(v["reason"].as_str().unwrap().contains("altered"), "{v}");
    // The other tenant's chain is untouched.
    assert_eq!(verify(&s, z).await["intact"], json!(true));
    // An earlier alteration is the first one reported.
    let j = 3u64;
    assert!(j < k);
    s.raw_sql(&format!(
        "UPDATE audit SET after = '{{\"id\":\"forged\"}}' WHERE tenant = '{t}' AND seq = {j}"
    ))
    .await;
    let v = verify(&s, t).await;
    assert_eq!(v["first_bad_seq"], json!(j), "{v}");
    // Removing the first entry: the chain breaks at the new first entry.
    s.raw_sql(&format!(
        "DELETE FROM audit WHERE tenant = '{t}' AND seq = 1"
    ))
    .await;
    let v = verify(&s, t).await;
    assert_eq!(v["intact"], json!(false), "{v}");
    assert_eq!(v["first_bad_seq"], json!(2), "{v}");
}

/// Every sensitive decision its own entry (no coalescing window, no budget), for the
/// tests that count them one by one.
fn no_coalescing(c: &mut rolecall_server::config::Config) {
    c.audit_window = std::time::Duration::ZERO;
    c.audit_actor_budget = 0;
}

/// An export without a `limit` holds the whole trail, however long: here more than the
/// 10,000 entries one page of the store returns (sensitive decisions, 1,000 per batch).
async fn audit_exports_are_complete(b: Backend) {
    let s = TestServer::start_on_with(b, no_coalescing).await;
    let t = "zm";
    s.tenant(t, "zoom-contact-center").await;
    for u in ["sam", "ann"] {
        s.user(t, u, None).await;
    }
    s.op_post(&tp(t, "/queues"), json!({"id": "q1", "members": ["ann"]}))
        .await;
    s.op_put(
        &tp(t, "/resources/engagement/e1"),
        json!({"relations": {"agent": ["ann"], "queue": ["q1"]}, "attributes": {"channel": "voice"}}),
    )
    .await;
    s.assign(t, "sam", "supervisor", None).await;
    let rev = s.revision(t).await;
    let checks: Vec<Value> = (0..1000)
        .map(|i| {
            check_body(
                if i % 2 == 0 { "sam" } else { "ann" },
                "engagement.listen",
                "engagement",
                "e1",
            )
        })
        .collect();
    for _ in 0..11 {
        s.post(&tp(t, "/check/batch"), &s.op, json!({"checks": checks}))
            .await
            .expect(200);
    }
    assert_eq!(s.revision(t).await, rev, "decisions bumped the revision");
    let writes = s
        .get(
            &tp(t, &format!("/audit?limit=10000&to={}", s.now() + 10)),
            &s.op,
        )
        .await;
    assert_eq!(writes.body["entries"].as_array().unwrap().len(), 10_000);
    let total = {
        let mut n = 0;
        let mut after = 0;
        loop {
            let r = s
                .get(&tp(t, &format!("/audit?limit=10000&after={after}")), &s.op)
                .await;
            let page = r.body["entries"].as_array().unwrap();
            n += page.len();
            match r.body["next_after"].as_u64() {
                Some(x) => after = x,
                None => break,
            }
        }
        n
    };
    assert!(total > 11_000, "{total} entries");

    let (status, _, body) = raw_get(&s, &tp(t, "/audit?format=jsonl")).await;
    assert_eq!(status, 200);
    let seqs: Vec<u64> = body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seqs.len(), total, "the JSON lines export is cut short");
    assert!(seqs.iter().enumerate().all(|(i, q)| *q == i as u64 + 1));
    let (status, _, body) = raw_get(&s, &tp(t, "/audit?format=csv")).await;
    assert_eq!(status, 200);
    assert_eq!(
        parse_csv(&body).len(),
        total + 1,
        "the CSV export is cut short"
    );
    // Filters still apply, and an explicit `limit` still pages.
    let (_, _, body) = raw_get(&s, &tp(t, "/audit?format=jsonl&action=assignment.")).await;
    assert_eq!(body.lines().count(), 1, "{body}");
    let (_, _, body) = raw_get(&s, &tp(t, "/audit?format=csv&limit=5&after=3")).await;
    let rows = parse_csv(&body);
    assert_eq!(rows.len(), 6, "{body}");
    assert_eq!(rows[1][0], "4");

    // The verification walks every page of the chain.
    let v = verify(&s, t).await;
    assert_eq!(v["intact"], json!(true), "{v}");
    assert_eq!(v["entries"], json!(total), "{v}");
    let k = total - 5;
    s.raw_sql(&format!(
        "UPDATE audit SET after = '{{\"principal\":\"ann\",\"allowed\":true}}' WHERE tenant = '{t}' AND seq = {k}"
    ))
    .await;
    let v = verify(&s, t).await;
    assert_eq!(v["intact"], json!(false), "{v}");
    assert_eq!(v["first_bad_seq"], json!(k), "{v}");
}

/// Writes and sensitive decisions arriving together still make one unbroken chain: every
/// entry once, sequence numbers without gaps, each write's entries at its revision.
async fn audit_chain_under_concurrency(b: Backend) {
    let s = std::sync::Arc::new(TestServer::start_on_with(b, no_coalescing).await);
    let t = "zm";
    s.tenant(t, "zoom-contact-center").await;
    for u in ["sam", "ann"] {
        s.user(t, u, None).await;
    }
    s.op_post(&tp(t, "/queues"), json!({"id": "q1", "members": ["ann"]}))
        .await;
    s.op_put(
        &tp(t, "/resources/engagement/e1"),
        json!({"relations": {"agent": ["ann"], "queue": ["q1"]}, "attributes": {"channel": "voice"}}),
    )
    .await;
    s.assign(t, "sam", "supervisor", None).await;
    let before = audit_all(&s, t).await.len();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut revisions = Vec::new();
            for j in 0..10 {
                if i % 2 == 0 {
                    let r = s
                        .post(
                            &tp(t, "/check"),
                            &s.op,
                            check_body("sam", "engagement.listen", "engagement", "e1"),
                        )
                        .await;
                    r.expect(200);
                } else {
                    let r = s
                        .post(&tp(t, "/users"), &s.op, json!({"id": format!("u{i}_{j}")}))
                        .await;
                    r.expect(201);
                    revisions.push(r.revision());
                }
            }
            revisions
        }));
    }
    let mut written = BTreeSet::new();
    for task in tasks {
        written.extend(task.await.unwrap());
    }
    assert_eq!(written.len(), 30);
    let all = audit_all(&s, t).await;
    assert_eq!(all.len(), before + 60, "30 writes and 30 decisions");
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e["seq"], json!(i + 1), "{e}");
    }
    let creations: BTreeSet<u64> = all
        .iter()
        .filter(|e| e["action"] == json!("user.create"))
        .filter(|e| e["target"].as_str().unwrap().starts_with("user:u"))
        .map(|e| e["revision"].as_u64().unwrap())
        .collect();
    assert_eq!(creations, written);
    let decisions = all
        .iter()
        .filter(|e| e["action"] == json!("decision.engagement.listen"))
        .count();
    assert_eq!(decisions, 30);
    let v = verify(&s, t).await;
    assert_eq!(v["intact"], json!(true), "{v}");
    assert_eq!(v["entries"], json!(all.len()), "{v}");
}

// ---- 6. who-can and what-can -----------------------------------------------------------

async fn ids_of(s: &TestServer, t: &str, path: &str) -> Vec<String> {
    let r = s.get(&tp(t, path), &s.op).await;
    r.expect(200);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every lookup, for every action of the profile, equals the checks of every user on
/// every resource of the action's type.
async fn lookups_equal_checks(s: &TestServer, t: &str, profile_text: &str) -> usize {
    let p = rolecall_core::load_profile("profile.toml", profile_text).unwrap();
    let users = ids_of(s, t, "/users").await;
    let mut resources: BTreeMap<String, Vec<String>> = BTreeMap::new();
    resources.insert("tenant".into(), vec![t.to_owned()]);
    for (ty, path) in [
        ("user", "/users"),
        ("queue", "/queues"),
        ("group", "/groups"),
        ("org_unit", "/org-units"),
    ] {
        resources.insert(ty.into(), ids_of(s, t, path).await);
    }
    for ty in &p.types {
        if !resources.contains_key(&ty.id) {
            resources.insert(
                ty.id.clone(),
                ids_of(s, t, &format!("/resources/{}", ty.id)).await,
            );
        }
    }
    // Every decision, by batch checks.
    let mut triples: Vec<(String, String, String, String)> = Vec::new();
    for a in &p.actions {
        let ty = p.types[a.resource].id.clone();
        for r in &resources[&ty] {
            for u in &users {
                triples.push((a.id.clone(), ty.clone(), r.clone(), u.clone()));
            }
        }
    }
    let mut decided: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    let mut by_user: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut allowed_count = 0;
    for chunk in triples.chunks(1000) {
        let checks: Vec<Value> = chunk
            .iter()
            .map(|(a, ty, r, u)| check_body(u, a, ty, r))
            .collect();
        let res = s
            .post(&tp(t, "/check/batch"), &s.op, json!({"checks": checks}))
            .await;
        res.expect(200);
        for ((a, ty, r, u), d) in chunk.iter().zip(res.body["results"].as_array().unwrap()) {
            let e = decided
                .entry((a.clone(), ty.clone(), r.clone()))
                .or_default();
            let f = by_user.entry((u.clone(), a.clone())).or_default();
            if d["allowed"] == json!(true) {
                e.insert(u.clone());
                f.insert(r.clone());
                allowed_count += 1;
            }
        }
    }
    for ((a, ty, r), want) in &decided {
        let got = lookup(
            s,
            t,
            "subjects",
            json!({"action": a, "resource": {"type": ty, "id": r}}),
        )
        .await;
        assert_eq!(
            got,
            want.iter().cloned().collect::<Vec<_>>(),
            "who may {a} on {ty}:{r}"
        );
    }
    for u in &users {
        for a in &p.actions {
            let want = by_user
                .get(&(u.clone(), a.id.clone()))
                .cloned()
                .unwrap_or_default();
            let got = lookup(s, t, "resources", json!({"principal": u, "action": a.id})).await;
            assert_eq!(
                got,
                want.into_iter().collect::<Vec<_>>(),
                "what may {u} {}",
                a.id
            );
        }
    }
    allowed_count
}

async fn lookups(b: Backend) {
    let s = TestServer::start_on(b).await;
    let t = "hz";
    s.tenant(t, "horizon-contact").await;
    s.org_unit(t, "co", "company", None).await;
    s.org_unit(t, "s1", "site", Some("co")).await;
    s.org_unit(t, "s2", "site", Some("co")).await;
    for (u, o) in [
        ("a1", Some("s1")),
        ("a2", Some("s2")),
        ("sup1", Some("s1")),
        ("sup2", Some("s2")),
        ("boss", Some("co")),
        ("nobody", None),
    ] {
        s.user(t, u, o).await;
    }
    s.op_post(
        &tp(t, "/queues"),
        json!({"id": "q1", "org_unit": "s1", "members": ["a1"], "supervisors": ["sup1"]}),
    )
    .await;
    s.op_post(
        &tp(t, "/queues"),
        json!({"id": "q2", "org_unit": "s2", "members": ["a2", "a1"]}),
    )
    .await;
    s.op_post(
        &tp(t, "/groups"),
        json!({"id": "g1", "members": ["a1", "sup1"]}),
    )
    .await;
    for (id, agent, queue, channel) in [("c1", "a1", "q1", "call"), ("c2", "a2", "q2", "email")] {
        s.op_put(
            &tp(t, &format!("/resources/conversation/{id}")),
            json!({"relations": {"agent": [agent], "queue": [queue]}, "attributes": {"channel": channel}}),
        )
        .await;
    }
    s.op_put(
        &tp(t, "/resources/email_response/e1"),
        json!({"relations": {"submitter": ["a1"], "reviewer": ["sup1"], "queue": ["q1"]}}),
    )
    .await;
    role(
        &s,
        t,
        // Horizon's Supervisor Portal values do not include one another: the live queue
        // view needs "Queues Only" ticked beside "Agents Anonymous".
        json!({"id": "anon_sup", "includes": ["agent"],
               "grants": {"Supervisor Portal": ["Queues Only", "Agents Anonymous"],
                          "Supervisor Call Control": true}}),
    )
    .await;
    s.assign(t, "a1", "agent", Some(json!({"queues": ["q1"]})))
        .await;
    s.assign(t, "a2", "agent", None).await;
    assign_full(
        &s,
        t,
        json!({"id": "sup1_site", "principal": "sup1", "role": "supervisor",
               "scope": {"org_units": ["s1"]}}),
    )
    .await;
    s.assign(t, "sup2", "anon_sup", Some(json!({"queues": ["q2"]})))
        .await;
    s.assign(t, "boss", "administrator", None).await;
    // Expired: grants nothing.
    assign_full(
        &s,
        t,
        json!({"principal": "a2", "role": "supervisor", "expires_at": s.now() - 100}),
    )
    .await;

    let allowed = lookups_equal_checks(&s, t, HORIZON).await;
    assert!(
        allowed > 50,
        "only {allowed} allowed decisions: too small to mean much"
    );

    // As of an earlier revision and time.
    let watch = json!({"action": "data.live.queues", "resource": {"type": "queue", "id": "q1"}});
    let now_ids = lookup(&s, t, "subjects", watch.clone()).await;
    assert!(now_ids.contains(&"sup1".to_owned()), "{now_ids:?}");
    let what = json!({"principal": "sup1", "action": "data.live.queues"});
    assert_eq!(
        lookup(&s, t, "resources", what.clone()).await,
        strs(&["q1"])
    );
    let before = s.revision(t).await;
    let t_before = s.now();
    s.advance_past(t_before);
    let r = s.delete(&tp(t, "/assignments/sup1_site"), &s.op).await;
    r.expect(200);
    let after = r.revision();
    assert_eq!(after, before + 1);

    let cur = lookup(&s, t, "subjects", watch.clone()).await;
    assert!(!cur.contains(&"sup1".to_owned()), "{cur:?}");
    assert!(lookup(&s, t, "resources", what.clone()).await.is_empty());
    let with = |base: &Value, as_of: Value| {
        let mut b = base.clone();
        b["as_of"] = as_of;
        b
    };
    let r = s
        .post(
            &tp(t, "/lookup/subjects"),
            &s.op,
            with(&watch, json!({"revision": before})),
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["revision"], json!(before), "{}", r.text);
    let old: Vec<String> = serde_json::from_value(r.body["ids"].clone()).unwrap();
    assert_eq!(old, now_ids, "as of revision {before}");
    assert_eq!(
        lookup(&s, t, "resources", with(&what, json!({"revision": before}))).await,
        strs(&["q1"])
    );
    assert_eq!(
        lookup(&s, t, "subjects", with(&watch, json!({"time": t_before}))).await,
        now_ids,
        "as of time {t_before}"
    );
    assert_eq!(
        lookup(&s, t, "resources", with(&what, json!({"time": t_before}))).await,
        strs(&["q1"])
    );
    assert_eq!(
        lookup(&s, t, "subjects", with(&watch, json!({"revision": after}))).await,
        cur
    );
    assert_eq!(
        lookup(&s, t, "subjects", with(&watch, json!({"time": s.now()}))).await,
        cur
    );
    // Before the supervisor's assignment existed at all (the tenant's creation).
    assert!(
        lookup(&s, t, "subjects", with(&watch, json!({"revision": 1})))
            .await
            .is_empty()
    );
    for bad in [json!({"revision": 0}), json!({"revision": after + 1})] {
        let r = s
            .post(&tp(t, "/lookup/subjects"), &s.op, with(&watch, bad))
            .await;
        support::assert_error(&r, 400, Some("bad_request"), &["revision"]);
    }
    // A lookup writes nothing.
    assert_eq!(s.revision(t).await, after);
    // Users may ask what they themselves can do; asking about others needs `check.others`
    // (unmapped in this profile: the operator only).
    let sup2 = s.mint(t, "sup2").await;
    let r = s
        .post(
            &tp(t, "/lookup/resources"),
            &sup2,
            json!({"principal": "sup2", "action": "data.live.queues"}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["ids"], json!(["q2"]), "{}", r.text);
    let r = s
        .post(&tp(t, "/lookup/subjects"), &sup2, watch.clone())
        .await;
    support::assert_error(&r, 403, Some("forbidden"), &["check.others"]);
    let r = s
        .post(
            &tp(t, "/lookup/resources"),
            &sup2,
            json!({"principal": "a1", "action": "data.live.queues"}),
        )
        .await;
    support::assert_error(&r, 403, Some("forbidden"), &["check.others"]);
}

/// As-of answers replay the change log a page at a time; a page may end in the middle
/// of a revision (here, queue creations of 101 changes each across the 10,000-row page),
/// and the replay must still see every change of it.
async fn as_of_replays_long_histories(b: Backend) {
    let s = TestServer::start_on(b).await;
    let t = "gt";
    s.tenant(t, "goto-contact-center").await;
    let users: Vec<String> = (0..100).map(|u| format!("u{u}")).collect();
    for u in &users {
        s.user(t, u, None).await;
        s.assign(t, u, "agent", None).await;
    }
    // 200 rows so far; each queue adds 101 (the queue and its 100 members), so row 10,000
    // falls inside queue q97's creation.
    for q in 0..100 {
        s.op_post(
            &tp(t, "/queues"),
            json!({"id": format!("q{q}"), "members": users}),
        )
        .await;
    }
    let before = s.revision(t).await;
    s.user(t, "latecomer", None).await;
    let mut sorted = users.clone();
    sorted.sort();
    for q in [0, 96, 97, 98, 99] {
        let body =
            json!({"action": "queue.login", "resource": {"type": "queue", "id": format!("q{q}")}});
        assert_eq!(
            lookup(&s, t, "subjects", body.clone()).await,
            sorted,
            "q{q} now"
        );
        let mut old = body.clone();
        old["as_of"] = json!({"revision": before});
        assert_eq!(
            lookup(&s, t, "subjects", old).await,
            sorted,
            "q{q} as of revision {before}"
        );
    }
}

// ---- 7. impact preview -----------------------------------------------------------------

fn impact_of<'a>(list: &'a Value, action: &str) -> Option<&'a Value> {
    list.as_array()
        .unwrap()
        .iter()
        .find(|x| x["action"] == json!(action))
}

async fn preview(s: &TestServer, t: &str, body: Value, reads: &[&str]) -> Value {
    let before = stored(s, t, reads).await;
    let r = s.post(&tp(t, "/impact"), &s.op, body.clone()).await;
    assert_eq!(r.status, 200, "impact {body}: {}", r.text);
    assert_eq!(
        stored(s, t, reads).await,
        before,
        "an impact preview wrote something"
    );
    assert_eq!(r.body["revision"], json!(before.revision), "{}", r.text);
    r.body
}

async fn impact_preview(b: Backend) {
    let s = TestServer::start_on(b).await;
    let t = "hz";
    s.tenant(t, "horizon-contact").await;
    s.org_unit(t, "co", "company", None).await;
    s.org_unit(t, "s1", "site", Some("co")).await;
    for (u, o) in [
        ("newsup", "s1"),
        ("ag", "s1"),
        ("lead1", "co"),
        ("idle", "s1"),
    ] {
        s.user(t, u, Some(o)).await;
    }
    s.assign(t, "ag", "agent", None).await;
    role(
        &s,
        t,
        json!({"id": "lead", "includes": ["agent"], "grants": {"Supervisor Agent Control": true}}),
    )
    .await;
    assign_full(
        &s,
        t,
        json!({"id": "lead1_lead", "principal": "lead1", "role": "lead"}),
    )
    .await;
    let reads: &[&str] = &[
        "/assignments",
        "/roles/lead",
        "/roles",
        "/settings",
        "/users",
    ];

    // An assignment: the new supervisor gains supervision, nobody loses anything.
    assert!(!allowed(&s, t, "newsup", "data.live.agent_status", "user", "ag").await);
    let p = preview(
        &s,
        t,
        json!({"assignment": {"principal": "newsup", "role": "supervisor"}}),
        reads,
    )
    .await;
    for a in [
        "data.live.agent_status",
        "data.live.agents",
        "supervisor.alerts.agent",
    ] {
        let x = impact_of(&p["gains"], a).unwrap_or_else(|| panic!("no gain of {a}: {p}"));
        assert_eq!(x["users"], json!(["newsup"]), "{p}");
        assert_eq!(x["org_units"], json!(["s1"]), "{p}");
    }
    assert_eq!(p["losses"], json!([]), "{p}");
    assert_eq!(p["users_affected"], json!(1), "{p}");
    let summary: Vec<String> = serde_json::from_value(p["summary"].clone()).unwrap();
    assert!(
        summary
            .iter()
            .any(|l| l.contains("1 user") && l.contains("data.live.agent_status")),
        "{summary:?}"
    );
    // The same assignment, made, does what the preview said.
    s.assign(t, "newsup", "supervisor", None).await;
    assert!(allowed(&s, t, "newsup", "data.live.agent_status", "user", "ag").await);

    // A role edit: lead's holder loses agent control and gains the anonymous portal.
    assert!(allowed(&s, t, "lead1", "data.live.agent_status", "user", "ag").await);
    let p = preview(
        &s,
        t,
        json!({"role": {"id": "lead", "includes": ["agent"],
                         "grants": {"Supervisor Portal": "Agents Anonymous"}}}),
        reads,
    )
    .await;
    let lost = impact_of(&p["losses"], "data.live.agent_status")
        .unwrap_or_else(|| panic!("no loss of agent status: {p}"));
    assert_eq!(lost["users"], json!(["lead1"]), "{p}");
    assert_eq!(lost["org_units"], json!(["co"]), "{p}");
    let won = impact_of(&p["gains"], "data.live.agents").unwrap_or_else(|| panic!("{p}"));
    assert_eq!(won["users"], json!(["lead1"]), "{p}");
    assert_eq!(p["users_affected"], json!(1), "{p}");
    // A new role nobody holds affects nobody.
    let p = preview(
        &s,
        t,
        json!({"role": {"id": "fresh", "grants": {"Supervisor Agent Control": true}}}),
        reads,
    )
    .await;
    assert_eq!(p["gains"], json!([]), "{p}");
    assert_eq!(p["losses"], json!([]), "{p}");
    assert_eq!(p["users_affected"], json!(0), "{p}");
    // Removing an assignment.
    let p = preview(&s, t, json!({"remove_assignment": "lead1_lead"}), reads).await;
    let lost = impact_of(&p["losses"], "data.live.agent_status").unwrap();
    assert_eq!(lost["users"], json!(["lead1"]), "{p}");
    assert_eq!(p["gains"], json!([]), "{p}");
    // A bad preview is refused and writes nothing either.
    for (body, status) in [
        (
            json!({"remove_assignment": "lead1_lead", "assignment": {"principal": "ag", "role": "supervisor"}}),
            400,
        ),
        (json!({"remove_assignment": "nope"}), 404),
        (
            json!({"assignment": {"principal": "ghost", "role": "supervisor"}}),
            422,
        ),
        (json!({"role": {"id": "supervisor"}}), 409),
    ] {
        refused(
            &s,
            t,
            Refusal {
                method: Method::POST,
                path: "/impact",
                token: &s.op,
                body: Some(body),
                status,
                code: None,
                needles: &[],
                reads,
            },
        )
        .await;
    }
    // Previews are `impact.read`: unmapped in this profile, so the operator's.
    let newsup = s.mint(t, "newsup").await;
    let r = s
        .post(
            &tp(t, "/impact"),
            &newsup,
            json!({"remove_assignment": "lead1_lead"}),
        )
        .await;
    support::assert_error(&r, 403, Some("forbidden"), &["impact.read"]);

    // A setting change (GoTo: agents may log in to unassigned queues).
    let g = "gt";
    s.tenant(g, "goto-contact-center").await;
    for u in ["agent_in", "agent_out", "visitor"] {
        s.user(g, u, None).await;
    }
    s.op_post(
        &tp(g, "/queues"),
        json!({"id": "q1", "members": ["agent_in"]}),
    )
    .await;
    s.assign(g, "agent_in", "agent", None).await;
    s.assign(g, "agent_out", "agent", None).await;
    assert!(!allowed(&s, g, "agent_out", "queue.login", "queue", "q1").await);
    let p = preview(
        &s,
        g,
        json!({"settings": {"allow_unassigned_queue_login": true}}),
        &["/settings", "/assignments", "/queues"],
    )
    .await;
    let won = impact_of(&p["gains"], "queue.login").unwrap_or_else(|| panic!("{p}"));
    assert_eq!(won["users"], json!(["agent_out"]), "{p}");
    assert_eq!(p["losses"], json!([]), "{p}");
    let r = s
        .op_put(
            &tp(g, "/settings"),
            json!({"allow_unassigned_queue_login": true}),
        )
        .await;
    r.expect(200);
    assert!(allowed(&s, g, "agent_out", "queue.login", "queue", "q1").await);
    // And back: the agent would lose it.
    let p = preview(
        &s,
        g,
        json!({"settings": {"allow_unassigned_queue_login": false}}),
        &["/settings"],
    )
    .await;
    let lost = impact_of(&p["losses"], "queue.login").unwrap_or_else(|| panic!("{p}"));
    assert_eq!(lost["users"], json!(["agent_out"]), "{p}");
}
