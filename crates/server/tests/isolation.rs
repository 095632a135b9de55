//! Tenant isolation: a token of tenant A — even the token of A's all-powerful
//! administrator — reads and writes nothing of tenant B, on every route. B answers
//! exactly as a tenant that does not exist would (so not even its existence leaks),
//! and B's state does not change.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{PUBLIC, ROUTES, TestServer, assert_error};

/// One tenant of the test, with the ids its content uses. Both tenants use the same
/// user, group, queue, role and assignment ids on purpose: a token is bound to its
/// tenant, not to a user id.
struct Side {
    id: &'static str,
    profile: &'static str,
    /// The profile's most powerful template.
    admin_role: &'static str,
    /// Templates the admin also gets, so that it holds every privilege templates give
    /// (horizon's Administrator configures; it does not take calls or supervise).
    admin_extra: &'static [&'static str],
    agent_role: &'static str,
    site_kind: &'static str,
    /// A profile-declared resource type with `agent` and `queue` relations.
    rtype: &'static str,
}

const ALPHA: Side = Side {
    id: "alpha",
    profile: "horizon-contact",
    admin_role: "administrator",
    admin_extra: &["supervisor"],
    agent_role: "agent",
    site_kind: "site",
    rtype: "conversation",
};

const BETA: Side = Side {
    id: "beta",
    profile: "zoom-contact-center",
    admin_role: "admin",
    admin_extra: &[],
    agent_role: "agent",
    site_kind: "department",
    rtype: "engagement",
};

/// Tokens of one tenant.
struct Tokens {
    boss: String,
    ag: String,
    /// Id of `ag`'s token.
    ag_token_id: String,
}

async fn populate(s: &TestServer, side: &Side) -> Tokens {
    let t = side.id;
    s.tenant(t, side.profile).await;
    s.org_unit(t, "acme", "company", None).await;
    s.org_unit(t, "s1", side.site_kind, Some("acme")).await;
    for u in ["boss", "ag", "sup"] {
        s.user(t, u, Some("s1")).await;
    }
    // A user only this tenant has.
    s.user(t, &format!("{t}_only"), None).await;
    s.op_post(
        &format!("/v1/tenants/{t}/groups"),
        json!({"id": "g1", "members": ["ag", "sup"]}),
    )
    .await;
    s.op_post(
        &format!("/v1/tenants/{t}/queues"),
        json!({"id": "q1", "org_unit": "s1", "members": ["ag"], "supervisors": ["sup"]}),
    )
    .await;
    s.op_post(
        &format!("/v1/tenants/{t}/roles"),
        json!({"id": "r1", "copy_of": side.agent_role}),
    )
    .await;
    for (id, p, r) in [
        ("a_boss", "boss", side.admin_role),
        ("a_ag", "ag", side.agent_role),
        ("a_sup", "sup", "r1"),
    ] {
        s.op_post(
            &format!("/v1/tenants/{t}/assignments"),
            json!({"id": id, "principal": p, "role": r}),
        )
        .await;
    }
    for r in side.admin_extra {
        s.assign(t, "boss", r, None).await;
    }
    s.op_put(
        &format!("/v1/tenants/{t}/resources/{}/c1", side.rtype),
        json!({"relations": {"agent": ["ag"], "queue": ["q1"]}}),
    )
    .await;
    let boss = s.mint(t, "boss").await;
    let r = s
        .op_post(
            &format!("/v1/tenants/{t}/tokens"),
            json!({"principal": "ag"}),
        )
        .await;
    Tokens {
        boss,
        ag: r.body["token"].as_str().unwrap().to_owned(),
        ag_token_id: r.body["id"].as_str().unwrap().to_owned(),
    }
}

/// Everything the operator can read of a tenant.
async fn dump(s: &TestServer, side: &Side) -> Value {
    let t = side.id;
    let mut out = serde_json::Map::new();
    for p in [
        String::new(),
        "/roles".into(),
        "/users".into(),
        "/groups".into(),
        "/org-units".into(),
        "/queues".into(),
        format!("/resources/{}", side.rtype),
        "/assignments".into(),
        "/settings".into(),
        "/tokens".into(),
        format!("/relations?resource={}:c1", side.rtype),
        "/users/ag/permissions".into(),
        "/changes".into(),
        "/sod-rules".into(),
        "/audit".into(),
    ] {
        let r = s.get(&format!("/v1/tenants/{t}{p}"), &s.op).await;
        r.expect(200);
        let mut body = r.body.clone();
        // Seconds left on assignments tick with the clock.
        if let Some(list) = body.get_mut("assignments").and_then(Value::as_array_mut) {
            for a in list {
                a.as_object_mut().unwrap().remove("remaining_seconds");
            }
        }
        out.insert(p, body);
    }
    Value::Object(out)
}

/// A path of `tpl` in tenant `tenant`, with `side`'s ids.
fn fill(tpl: &str, tenant: &str, side: &Side, token_id: &str) -> String {
    let id = if tpl.contains("/users/") {
        "boss"
    } else if tpl.contains("/groups/") {
        "g1"
    } else if tpl.contains("/org-units/") {
        "s1"
    } else if tpl.contains("/queues/") {
        "q1"
    } else if tpl.contains("/resources/") {
        "c1"
    } else if tpl.contains("/assignments/") {
        "a_boss"
    } else if tpl.contains("/tokens/") || tpl.contains("/credentials/") {
        token_id
    } else if tpl.contains("/sod-rules/") {
        "sod1"
    } else {
        ""
    };
    let query = if tpl.ends_with("/relations") {
        format!("?resource={}:c1", side.rtype)
    } else {
        String::new()
    };
    tpl.replace("{tenant}", tenant)
        .replace("{role}", "r1")
        .replace("{ty}", side.rtype)
        .replace("{id}", id)
        + &query
}

/// A body a legitimate client of `side` would send on this route.
fn body_for(method: &str, tpl: &str, side: &Side) -> Option<Value> {
    let check = json!({"principal": "boss", "action": "users.view", "resource": {"type": "user", "id": "ag"}});
    let v = match (method, tpl.trim_start_matches("/v1/tenants/{tenant}")) {
        ("POST", "/roles") => json!({"id": "stolen", "copy_of": side.admin_role}),
        ("PUT", "/roles/{role}") => json!({"version": 1, "name": "Stolen", "grants": {}}),
        ("POST", "/users") => json!({"id": "intruder"}),
        ("PUT", "/users/{id}") => json!({"name": "Intruder"}),
        ("POST", "/groups") => json!({"id": "g9", "members": ["boss"]}),
        ("PUT", "/groups/{id}") => json!({"members": ["boss"]}),
        ("POST", "/org-units") => json!({"id": "o9", "kind": side.site_kind, "parent": "acme"}),
        ("PUT", "/org-units/{id}") => json!({"kind": side.site_kind, "parent": "acme"}),
        ("POST", "/queues") => json!({"id": "q9", "members": ["boss"]}),
        ("PUT", "/queues/{id}") => json!({"supervisors": ["boss"]}),
        ("PUT", "/resources/{ty}/{id}") => json!({"relations": {"agent": ["boss"]}}),
        ("POST", "/assignments") => json!({"principal": "boss", "role": side.admin_role}),
        ("POST", "/relations") => {
            json!({"writes": [{"resource": format!("{}:c1", side.rtype), "relation": "agent", "subject": "user:boss"}]})
        }
        ("PUT", "/settings") => json!({"anything": true}),
        ("POST", "/check" | "/explain") => check,
        ("POST", "/check/batch") => json!({"checks": [check]}),
        ("POST", "/tokens") => json!({"principal": "boss"}),
        ("POST", "/credentials") => json!({"name": "stolen", "abilities": ["decide"]}),
        ("PUT", "/tokens/{id}") => json!({}),
        ("POST", "/sod-rules") => json!({"id": "sod9", "roles": [side.agent_role]}),
        ("POST", "/lookup/subjects") => {
            json!({"action": "users.view", "resource": {"type": "user", "id": "ag"}})
        }
        ("POST", "/lookup/resources") => json!({"principal": "boss", "action": "users.view"}),
        ("POST", "/impact") => {
            json!({"assignment": {"principal": "boss", "role": side.admin_role}})
        }
        _ => return None,
    };
    Some(v)
}

/// Every route of `victim` asked with `token` (a token of another tenant): refused
/// as for a tenant that does not exist, and nothing of the victim changes.
async fn matrix(s: &TestServer, token: &str, victim: &Side, victim_token_id: &str) {
    let before = dump(s, victim).await;
    let rev = s.revision(victim.id).await;
    let mut failures = Vec::new();
    let mut asked = 0;
    for &(m, tpl) in ROUTES {
        if PUBLIC.contains(&tpl) || !tpl.starts_with("/v1/tenants/{tenant}") {
            continue;
        }
        asked += 1;
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        let body = body_for(m, tpl, victim);
        let path = fill(tpl, victim.id, victim, victim_token_id);
        let r = s
            .call(method.clone(), &path, Some(token), body.as_ref())
            .await;
        let ghost = s
            .call(
                method,
                &fill(tpl, "nope", victim, victim_token_id),
                Some(token),
                body.as_ref(),
            )
            .await;
        let label = format!("{m} {path}");
        let expected = if m == "PUT" && tpl.ends_with("/tokens/{id}") {
            (405, "revoke".to_owned())
        } else {
            (404, format!("unknown tenant `{}`", victim.id))
        };
        if let Err(e) = support::check_error(&r, expected.0, None, &[&expected.1]) {
            failures.push(format!("{label}: {e}"));
        }
        // The same answer as for a tenant that does not exist.
        let same = r.status == ghost.status
            && r.text.replace(victim.id, "?") == ghost.text.replace("nope", "?");
        if !same {
            failures.push(format!(
                "{label}: answers differ from an unknown tenant's: {} {} vs {} {}",
                r.status, r.text, ghost.status, ghost.text
            ));
        }
        let now = s.revision(victim.id).await;
        if now != rev {
            failures.push(format!(
                "{label}: the victim's revision moved {rev} -> {now}"
            ));
        }
    }
    assert!(asked >= 45, "only {asked} tenant routes asked");
    assert!(
        failures.is_empty(),
        "cross-tenant requests not refused:\n  {}",
        failures.join("\n  ")
    );
    assert_eq!(dump(s, victim).await, before, "the victim's state changed");
}

async fn two_tenants() -> (TestServer, Tokens, Tokens) {
    let s = TestServer::start().await;
    let a = populate(&s, &ALPHA).await;
    let b = populate(&s, &BETA).await;
    // The admins really are all-powerful at home.
    for (side, tok) in [(&ALPHA, &a), (&BETA, &b)] {
        let r = s
            .post(
                &format!("/v1/tenants/{}/roles", side.id),
                &tok.boss,
                json!({"id": "home_role", "copy_of": side.agent_role}),
            )
            .await;
        assert_eq!(
            r.status, 201,
            "{}: the admin edits roles at home: {}",
            side.id, r.text
        );
        let r = s
            .get(&format!("/v1/tenants/{}/users", side.id), &tok.boss)
            .await;
        r.expect(200);
    }
    (s, a, b)
}

#[tokio::test]
async fn an_admin_of_alpha_reaches_nothing_of_beta() {
    let (s, a, b) = two_tenants().await;
    matrix(&s, &a.boss, &BETA, &b.ag_token_id).await;
}

#[tokio::test]
async fn an_admin_of_beta_reaches_nothing_of_alpha() {
    let (s, a, b) = two_tenants().await;
    matrix(&s, &b.boss, &ALPHA, &a.ag_token_id).await;
}

#[tokio::test]
async fn an_agent_of_alpha_reaches_nothing_of_beta() {
    let (s, a, b) = two_tenants().await;
    matrix(&s, &a.ag, &BETA, &b.ag_token_id).await;
}

#[tokio::test]
async fn checks_and_token_minting_across_tenants_fail() {
    let (s, a, b) = two_tenants().await;
    let rev_b = s.revision(BETA.id).await;
    let tokens_b = s.get("/v1/tenants/beta/tokens", &s.op).await.body["tokens"]
        .as_array()
        .unwrap()
        .len();

    // Checks on beta with alpha's admin token: as for an unknown tenant.
    let check = json!({"principal": "boss", "action": "users.view", "resource": {"type": "user", "id": "ag"}});
    for (p, body) in [
        ("/v1/tenants/beta/check", check.clone()),
        ("/v1/tenants/beta/explain", check.clone()),
        (
            "/v1/tenants/beta/check/batch",
            json!({"checks": [check.clone()]}),
        ),
    ] {
        let r = s.post(p, &a.boss, body).await;
        assert_error(&r, 404, Some("not_found"), &["unknown tenant `beta`"]);
    }
    let r = s
        .get("/v1/tenants/beta/users/boss/permissions", &a.boss)
        .await;
    assert_error(&r, 404, Some("not_found"), &["unknown tenant `beta`"]);
    // The same check at home, naming beta's user or beta itself, resolves nothing.
    let r = s
        .post(
            "/v1/tenants/alpha/check",
            &a.boss,
            json!({"principal": "boss", "action": "staff.roles.manage", "resource": {"type": "tenant", "id": "beta"}}),
        )
        .await;
    assert_error(&r, 422, Some("invalid"), &["beta"]);
    let r = s
        .post(
            "/v1/tenants/alpha/check",
            &s.op,
            json!({"principal": "beta_only", "action": "staff.roles.manage", "resource": {"type": "tenant", "id": "alpha"}}),
        )
        .await;
    assert_error(&r, 422, Some("invalid"), &["beta_only"]);

    // Minting a token for beta with alpha's token fails, whoever it names.
    for who in ["boss", "ag", "beta_only"] {
        let r = s
            .post(
                "/v1/tenants/beta/tokens",
                &a.boss,
                json!({"principal": who}),
            )
            .await;
        assert_error(&r, 404, Some("not_found"), &["unknown tenant `beta`"]);
    }
    // And minting at home for a user only beta has names an unknown user.
    let r = s
        .post(
            "/v1/tenants/alpha/tokens",
            &s.op,
            json!({"principal": "beta_only"}),
        )
        .await;
    assert_error(&r, 422, Some("invalid"), &["beta_only"]);
    // A token alpha's admin mints for itself stays alpha's.
    let r = s
        .post(
            "/v1/tenants/alpha/tokens",
            &a.boss,
            json!({"principal": "boss"}),
        )
        .await;
    r.expect(201);
    let own = r.body["token"].as_str().unwrap().to_owned();
    let r = s.get("/v1/tenants/beta", &own).await;
    assert_error(&r, 404, Some("not_found"), &["unknown tenant `beta`"]);
    let r = s.get("/v1/tenants/alpha", &own).await;
    r.expect(200);

    // Beta's token ids are not reachable through alpha's paths, not even by the operator.
    let r = s
        .delete(
            &format!("/v1/tenants/alpha/tokens/{}", b.ag_token_id),
            &s.op,
        )
        .await;
    assert_error(&r, 404, Some("not_found"), &[&b.ag_token_id]);
    let r = s
        .delete(
            &format!("/v1/tenants/alpha/tokens/{}", b.ag_token_id),
            &a.boss,
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = s.get("/v1/tenants/beta", &b.ag).await;
    assert_eq!(r.status, 200, "beta's token still works: {}", r.text);

    // Nor are beta's assignments, even though alpha has one with the same id: deleting
    // alpha's `a_sup` leaves beta's untouched.
    let r = s.delete("/v1/tenants/alpha/assignments/a_sup", &s.op).await;
    r.expect(200);
    let r = s.get("/v1/tenants/beta/assignments/a_sup", &s.op).await;
    r.expect(200);

    assert_eq!(s.revision(BETA.id).await, rev_b);
    let n = s.get("/v1/tenants/beta/tokens", &s.op).await.body["tokens"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(n, tokens_b, "beta's tokens changed");

    // A tenant token lists no tenants; it reads its own tenant's change log when its
    // profile lets it (Zoom: IntegrationManagement:Read, which Admin holds), never
    // another's.
    let r = s.get("/v1/tenants", &b.boss).await;
    assert_error(&r, 403, Some("forbidden"), &["operator"]);
    s.get("/v1/tenants/beta/changes", &b.boss).await.expect(200);
    let r = s.get("/v1/tenants/alpha/changes", &b.boss).await;
    assert_error(&r, 404, Some("not_found"), &["unknown tenant `alpha`"]);
}

#[tokio::test]
async fn tokens_of_same_named_users_do_not_cross() {
    let (s, a, b) = two_tenants().await;
    // Both tenants have `boss`; each token authenticates only at home.
    for (tok, home, away) in [(&a.boss, "alpha", "beta"), (&b.boss, "beta", "alpha")] {
        let r = s.get(&format!("/v1/tenants/{home}"), tok).await;
        r.expect(200);
        let r = s.get(&format!("/v1/tenants/{away}"), tok).await;
        assert_error(
            &r,
            404,
            Some("not_found"),
            &[&format!("unknown tenant `{away}`")],
        );
        let r = s
            .post(
                &format!("/v1/tenants/{away}/check"),
                tok,
                json!({"principal": "boss", "action": "x", "resource": {"type": "tenant", "id": away}}),
            )
            .await;
        assert_error(
            &r,
            404,
            Some("not_found"),
            &[&format!("unknown tenant `{away}`")],
        );
    }
    // Revoking beta's `ag` token does not touch alpha's `ag` token.
    let r = s
        .delete(&format!("/v1/tenants/beta/tokens/{}", b.ag_token_id), &b.ag)
        .await;
    r.expect(204);
    let r = s.get("/v1/tenants/beta", &b.ag).await;
    assert_error(&r, 401, Some("unauthorized"), &["token"]);
    let r = s.get("/v1/tenants/alpha", &a.ag).await;
    r.expect(200);
}
