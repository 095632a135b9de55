//! Bad input on every route: each refusal is a 4xx with the API's JSON error naming
//! what is wrong, writes nothing (the tenant's revision, its tokens and the tenant list
//! are unchanged), and the server keeps serving.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use support::{PUBLIC, ROUTES, Resp, TestServer, assert_error, check_error};

const T: &str = "t";

/// Who sends a request.
#[derive(Debug, Clone, Copy)]
enum Tok {
    Op,
    Adm,
    Ag,
}

/// A request body.
#[derive(Debug, Clone)]
enum Body {
    None,
    Json(Value),
    /// Content type (None: no header) and bytes.
    Raw(Option<&'static str>, Vec<u8>),
}

/// One bad request and the refusal expected.
struct Case {
    /// The route template it exercises (as in `routes/mod.rs`).
    route: (&'static str, &'static str),
    path: String,
    tok: Tok,
    body: Body,
    status: u16,
    code: Option<&'static str>,
    needles: Vec<String>,
}

/// The fixture: a horizon-contact tenant with a little of everything.
struct Fx {
    s: TestServer,
    adm: String,
    ag: String,
    ag_token_id: String,
    adm_token_id: String,
}

impl Fx {
    fn token(&self, t: Tok) -> &str {
        match t {
            Tok::Op => &self.s.op,
            Tok::Adm => &self.adm,
            Tok::Ag => &self.ag,
        }
    }
}

async fn fixture(s: TestServer) -> Fx {
    s.tenant(T, "horizon-contact").await;
    s.org_unit(T, "acme", "company", None).await;
    s.org_unit(T, "s1", "site", Some("acme")).await;
    for u in ["adm", "ag", "bob"] {
        s.user(T, u, Some("s1")).await;
    }
    s.op_post(
        &format!("/v1/tenants/{T}/groups"),
        json!({"id": "g1", "members": ["ag"]}),
    )
    .await;
    s.op_post(
        &format!("/v1/tenants/{T}/queues"),
        json!({"id": "q1", "org_unit": "s1", "members": ["ag"], "supervisors": ["adm"]}),
    )
    .await;
    s.op_post(
        &format!("/v1/tenants/{T}/roles"),
        json!({"id": "r1", "copy_of": "agent"}),
    )
    .await;
    for (id, p, r) in [
        ("a_adm", "adm", "administrator"),
        ("a_ag", "ag", "agent"),
        ("a_r1", "bob", "r1"),
    ] {
        s.op_post(
            &format!("/v1/tenants/{T}/assignments"),
            json!({"id": id, "principal": p, "role": r}),
        )
        .await;
    }
    s.op_put(
        &format!("/v1/tenants/{T}/resources/conversation/c1"),
        json!({"relations": {"agent": ["ag"], "queue": ["q1"]}}),
    )
    .await;
    let r = s
        .op_post(
            &format!("/v1/tenants/{T}/tokens"),
            json!({"principal": "adm"}),
        )
        .await;
    let adm = r.body["token"].as_str().unwrap().to_owned();
    let adm_token_id = r.body["id"].as_str().unwrap().to_owned();
    let r = s
        .op_post(
            &format!("/v1/tenants/{T}/tokens"),
            json!({"principal": "ag"}),
        )
        .await;
    let ag = r.body["token"].as_str().unwrap().to_owned();
    let ag_token_id = r.body["id"].as_str().unwrap().to_owned();
    Fx {
        s,
        adm,
        ag,
        ag_token_id,
        adm_token_id,
    }
}

/// What must not change across a bad request.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    revision: u64,
    tokens: Vec<String>,
    tenants: Vec<String>,
}

async fn observe(s: &TestServer) -> Observed {
    let revision = s.revision(T).await;
    let r = s.get(&format!("/v1/tenants/{T}/tokens"), &s.op).await;
    r.expect(200);
    let mut tokens: Vec<String> = r.body["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    tokens.sort();
    let r = s.get("/v1/tenants", &s.op).await;
    r.expect(200);
    let tenants = r.body["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("{}@{}", t["id"], t["revision"]))
        .collect();
    Observed {
        revision,
        tokens,
        tenants,
    }
}

/// A request that must work after every refusal.
async fn good_request(fx: &Fx) -> Result<(), String> {
    let r = fx
        .s
        .post(
            &format!("/v1/tenants/{T}/check"),
            &fx.ag,
            json!({"principal": "ag", "action": "agent.status.view_all", "resource": {"type": "user", "id": "bob"}}),
        )
        .await;
    if r.status != 200 || r.body["allowed"] != json!(false) {
        return Err(format!(
            "a good check failed afterwards: {} {}",
            r.status, r.text
        ));
    }
    Ok(())
}

async fn send(fx: &Fx, method: &Method, path: &str, tok: Option<&str>, body: &Body) -> Resp {
    match body {
        Body::None => fx.s.call(method.clone(), path, tok, None).await,
        Body::Json(v) => fx.s.call(method.clone(), path, tok, Some(v)).await,
        Body::Raw(ct, bytes) => {
            fx.s.raw(method.clone(), path, tok, *ct, bytes.clone())
                .await
        }
    }
}

/// Runs every case; collects every failure and panics once with all of them.
async fn run_cases(fx: &Fx, cases: Vec<Case>) -> BTreeSet<(String, String)> {
    let mut failures = Vec::new();
    let mut covered = BTreeSet::new();
    let mut before = observe(&fx.s).await;
    for c in &cases {
        covered.insert((c.route.0.to_owned(), c.route.1.to_owned()));
        let method = Method::from_bytes(c.route.0.as_bytes()).unwrap();
        let r = send(fx, &method, &c.path, Some(fx.token(c.tok)), &c.body).await;
        let needles: Vec<&str> = c.needles.iter().map(String::as_str).collect();
        let label = format!(
            "{} {} as {:?} with {:?}",
            c.route.0,
            c.path,
            c.tok,
            short(&c.body)
        );
        if let Err(e) = check_error(&r, c.status, c.code, &needles) {
            failures.push(format!("{label}: {e}"));
        }
        let after = observe(&fx.s).await;
        if after != before {
            failures.push(format!(
                "{label}: something was written: {before:?} -> {after:?}"
            ));
            before = after;
        }
        if let Err(e) = good_request(fx).await {
            failures.push(format!("{label}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad requests were not refused as expected:\n  {}",
        failures.len(),
        cases.len(),
        failures.join("\n  ")
    );
    covered
}

fn short(b: &Body) -> String {
    let s = match b {
        Body::None => String::new(),
        Body::Json(v) => v.to_string(),
        Body::Raw(ct, bytes) => format!("{ct:?} {}", String::from_utf8_lossy(bytes)),
    };
    s.chars().take(160).collect()
}

/// Fills a route template with the fixture's ids (tenant `tenant`).
fn fill(template: &str, tenant: &str, token_id: &str) -> String {
    let ty = if template.contains("/resources/") {
        "conversation"
    } else {
        ""
    };
    let id = if template.contains("/users/") {
        "ag"
    } else if template.contains("/groups/") {
        "g1"
    } else if template.contains("/org-units/") {
        "s1"
    } else if template.contains("/queues/") {
        "q1"
    } else if template.contains("/resources/") {
        "c1"
    } else if template.contains("/assignments/") {
        "a_ag"
    } else if template.contains("/tokens/") {
        token_id
    } else if template.contains("/credentials/") {
        "tok_ghost"
    } else if template.contains("/sod-rules/") {
        "sod1"
    } else {
        ""
    };
    let query = if template.ends_with("/relations") {
        "?resource=conversation:c1"
    } else {
        ""
    };
    template
        .replace("{tenant}", tenant)
        .replace("{role}", "r1")
        .replace("{ty}", ty)
        .replace("{id}", id)
        .replace("{file}", "app.js")
        + query
}

fn check_body() -> Value {
    json!({"principal": "ag", "action": "agent.status.view_all", "resource": {"type": "user", "id": "bob"}})
}

/// A well-formed body for each route that takes one (what a correct client sends).
fn good_body(method: &str, template: &str) -> Body {
    let v = match (method, template.trim_start_matches("/v1/tenants/{tenant}")) {
        ("POST", "/v1/tenants") => json!({"id": "t2", "profile": "horizon-contact"}),
        ("POST", "/roles") => json!({"id": "r9", "copy_of": "agent"}),
        ("PUT", "/roles/{role}") => json!({"version": 1, "name": "R1", "grants": {}}),
        ("POST", "/users") => json!({"id": "u9"}),
        ("PUT", "/users/{id}") => json!({"name": "Agent"}),
        ("POST", "/groups") => json!({"id": "g9"}),
        ("PUT", "/groups/{id}") => json!({"members": ["ag", "bob"]}),
        ("POST", "/org-units") => json!({"id": "o9", "kind": "site", "parent": "acme"}),
        ("PUT", "/org-units/{id}") => json!({"kind": "site", "parent": "acme", "name": "S1"}),
        ("POST", "/queues") => json!({"id": "q9"}),
        ("PUT", "/queues/{id}") => json!({"name": "Q1"}),
        ("PUT", "/resources/{ty}/{id}") => json!({"relations": {"agent": ["bob"]}}),
        ("POST", "/assignments") => json!({"principal": "bob", "role": "agent"}),
        ("POST", "/relations") => {
            json!({"writes": [{"resource": "conversation:c1", "relation": "agent", "subject": "user:bob"}]})
        }
        ("PUT", "/settings") => json!({"default_auto_logout_timeout": 600}),
        ("POST", "/check" | "/explain") => check_body(),
        ("POST", "/check/batch") => json!({"checks": [check_body()]}),
        ("POST", "/tokens") => json!({"principal": "ag"}),
        ("PUT", "/tokens/{id}") => json!({}),
        ("POST", "/credentials") => json!({"name": "app", "abilities": ["decide"]}),
        ("POST", "/sod-rules") => json!({"id": "sod9", "roles": ["agent", "administrator"]}),
        ("POST", "/lookup/subjects") => {
            json!({"action": "agent.status.view_all", "resource": {"type": "user", "id": "bob"}})
        }
        ("POST", "/lookup/resources") => {
            json!({"principal": "ag", "action": "agent.status.view_all"})
        }
        ("POST", "/impact") => json!({"settings": {"default_auto_logout_timeout": 600}}),
        _ => return Body::None,
    };
    Body::Json(v)
}

fn case(
    route: (&'static str, &'static str),
    path: impl Into<String>,
    tok: Tok,
    body: Body,
    status: u16,
    needles: &[&str],
) -> Case {
    Case {
        route,
        path: path.into(),
        tok,
        body,
        status,
        code: None,
        needles: needles.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn j(v: Value) -> Body {
    Body::Json(v)
}

/// Finds the route in the table (so a typo in a case cannot invent a route).
fn route(method: &str, template: &str) -> (&'static str, &'static str) {
    *ROUTES
        .iter()
        .find(|(m, p)| *m == method && *p == template)
        .unwrap_or_else(|| panic!("no route {method} {template}"))
}

fn long_id() -> String {
    "x".repeat(300)
}

/// Cases every tenant route shares: unknown tenant, invalid tenant ids, and for routes
/// with a body: malformed JSON, wrong content type, wrong shape.
fn generic_cases(token_id: &str) -> Vec<Case> {
    let mut out = Vec::new();
    for &(m, tpl) in ROUTES {
        if PUBLIC.contains(&tpl) {
            continue;
        }
        let r = (m, tpl);
        let is_token_put = m == "PUT" && tpl.ends_with("/tokens/{id}");
        let operator_only = tpl == "/v1/tenants/{tenant}/changes";
        let body = good_body(m, tpl);
        if tpl.contains("{tenant}") {
            if !is_token_put {
                // Unknown tenant: 404 naming it, for the operator and for a tenant token.
                let p = fill(tpl, "nope", token_id);
                out.push(Case {
                    code: Some("not_found"),
                    ..case(
                        r,
                        p.clone(),
                        Tok::Op,
                        body.clone(),
                        404,
                        &["unknown tenant `nope`"],
                    )
                });
                if !operator_only {
                    out.push(case(
                        r,
                        p,
                        Tok::Adm,
                        body.clone(),
                        404,
                        &["unknown tenant `nope`"],
                    ));
                }
                for bad in ["a%20b", "..%2Fx"] {
                    let shown = bad.replace("%20", " ").replace("%2F", "/");
                    out.push(case(
                        r,
                        fill(tpl, bad, token_id),
                        Tok::Op,
                        body.clone(),
                        400,
                        &["invalid tenant id", &shown],
                    ));
                }
                out.push(case(
                    r,
                    fill(tpl, &long_id(), token_id),
                    Tok::Op,
                    body.clone(),
                    400,
                    &["invalid tenant id"],
                ));
            } else {
                out.push(case(
                    r,
                    fill(tpl, T, token_id),
                    Tok::Op,
                    body.clone(),
                    405,
                    &["revoke"],
                ));
            }
        }
        if let Body::Json(_) = body {
            if is_token_put {
                continue;
            }
            let p = fill(tpl, T, token_id);
            out.push(case(
                r,
                p.clone(),
                Tok::Op,
                Body::Raw(Some("application/json"), b"{,}".to_vec()),
                400,
                &["malformed JSON"],
            ));
            out.push(case(
                r,
                p.clone(),
                Tok::Op,
                Body::Raw(Some("application/json"), Vec::new()),
                400,
                &["malformed JSON"],
            ));
            out.push(Case {
                code: Some("unsupported_media_type"),
                ..case(
                    r,
                    p.clone(),
                    Tok::Op,
                    Body::Raw(Some("text/plain"), b"{}".to_vec()),
                    415,
                    &["application/json"],
                )
            });
            out.push(case(
                r,
                p.clone(),
                Tok::Op,
                Body::Raw(None, b"{}".to_vec()),
                415,
                &["application/json"],
            ));
            out.push(case(
                r,
                p.clone(),
                Tok::Op,
                j(json!(["not", "an", "object"])),
                400,
                &["invalid request body"],
            ));
            out.push(case(
                r,
                p,
                Tok::Op,
                j(json!(42)),
                400,
                &["invalid request body"],
            ));
        }
    }
    out
}

/// Cases specific to each route: wrong types, unknown fields, missing fields, unknown
/// names, invalid ids, limits, conflicts, and authority.
fn specific_cases(rev: u64, token_id: &str, fx_adm_token_id: &str) -> Vec<Case> {
    let mut c = Vec::new();
    let t = |s: &str| format!("/v1/tenants/{T}{s}");
    let long = long_id();

    // ---- tenants ------------------------------------------------------------------
    let r = route("POST", "/v1/tenants");
    for (body, status, needles) in [
        (
            json!({"id": "a b", "profile": "horizon-contact"}),
            400,
            vec!["invalid tenant id", "a b"],
        ),
        (
            json!({"id": long, "profile": "horizon-contact"}),
            400,
            vec!["invalid tenant id"],
        ),
        (
            json!({"id": "../x", "profile": "horizon-contact"}),
            400,
            vec!["../x"],
        ),
        (json!({"id": "t2"}), 400, vec!["profile"]),
        (
            json!({"id": "t2", "profile": "horizon-contact", "profile_text": "x"}),
            400,
            vec!["exactly one"],
        ),
        (
            json!({"id": "t2", "profile": "nope"}),
            400,
            vec!["unknown profile `nope`", "horizon-contact"],
        ),
        (
            json!({"id": "t2", "profile_text": "[profile\nid ="}),
            422,
            vec!["profile_text"],
        ),
        (
            json!({"id": T, "profile": "horizon-contact"}),
            409,
            vec!["`t` already exists"],
        ),
        (
            json!({"profile": "horizon-contact"}),
            400,
            vec!["missing field `id`"],
        ),
        (
            json!({"id": 5, "profile": "horizon-contact"}),
            400,
            vec!["id", "invalid type"],
        ),
        (
            json!({"id": "t2", "profile": ["horizon-contact"]}),
            400,
            vec!["profile", "invalid type"],
        ),
        (
            json!({"id": "t2", "profile": "horizon-contact", "colour": "red"}),
            400,
            vec!["unknown field `colour`"],
        ),
    ] {
        c.push(case(r, "/v1/tenants", Tok::Op, j(body), status, &needles));
    }
    c.push(Case {
        code: Some("forbidden"),
        ..case(
            r,
            "/v1/tenants",
            Tok::Adm,
            j(json!({"id": "t2", "profile": "horizon-contact"})),
            403,
            &["operator"],
        )
    });
    let r = route("GET", "/v1/tenants");
    c.push(case(
        r,
        "/v1/tenants",
        Tok::Adm,
        Body::None,
        403,
        &["operator"],
    ));
    let r = route("GET", "/v1/whoami");
    c.push(case(
        r,
        "/v1/whoami?colour=blue",
        Tok::Adm,
        Body::None,
        400,
        &["invalid query string", "colour"],
    ));
    let r = route("GET", "/v1/tenants/{tenant}");
    c.push(case(
        r,
        t("?at_least_revision=abc"),
        Tok::Op,
        Body::None,
        400,
        &["invalid query string", "at_least_revision"],
    ));
    c.push(case(
        r,
        t("?at_least_revision=-1"),
        Tok::Op,
        Body::None,
        400,
        &["at_least_revision"],
    ));
    c.push(case(
        r,
        t("?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    let r = route("GET", "/v1/tenants/{tenant}/catalog");
    c.push(case(
        r,
        t("/catalog?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    let r = route("GET", "/v1/tenants/{tenant}/changes");
    c.push(Case {
        code: Some("forbidden"),
        ..case(
            r,
            t("/changes"),
            Tok::Ag,
            Body::None,
            403,
            &["changes.read"],
        )
    });
    c.push(case(
        r,
        t("/changes?after=x"),
        Tok::Op,
        Body::None,
        400,
        &["after"],
    ));
    c.push(case(
        r,
        t("/changes?limit=-1"),
        Tok::Op,
        Body::None,
        400,
        &["limit"],
    ));
    c.push(case(
        r,
        t("/changes?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    for (path, needles) in [
        (
            "/changes?cursor=abc",
            vec!["cursor `abc`", "`<revision>.<sequence>`", "2.999"],
        ),
        (
            "/changes?cursor=2",
            vec!["cursor `2`", "<revision>.<sequence>"],
        ),
        ("/changes?cursor=2.-1", vec!["cursor `2.-1`"]),
        (
            "/changes?cursor=1.4294967296",
            vec!["cursor `1.4294967296`"],
        ),
        (
            "/changes?cursor=1.0&after=1",
            vec!["cursor", "after", "not both"],
        ),
    ] {
        c.push(case(r, t(path), Tok::Op, Body::None, 400, &needles));
    }
    let r = route("GET", "/v1/tenants/{tenant}/watch");
    c.push(Case {
        code: Some("forbidden"),
        ..case(r, t("/watch"), Tok::Ag, Body::None, 403, &["changes.read"])
    });
    for (path, needles) in [
        (
            "/watch?cursor=abc",
            vec!["cursor `abc`", "`<revision>.<sequence>`", "2.999"],
        ),
        ("/watch?cursor=7", vec!["cursor `7`"]),
        ("/watch?after=1", vec!["after"]),
        ("/watch?colour=red", vec!["colour"]),
    ] {
        c.push(case(r, t(path), Tok::Op, Body::None, 400, &needles));
    }

    // ---- roles --------------------------------------------------------------------
    let r = route("GET", "/v1/tenants/{tenant}/roles");
    c.push(case(
        r,
        t("/roles?at_least_revision=x"),
        Tok::Op,
        Body::None,
        400,
        &["at_least_revision"],
    ));
    let r = route("POST", "/v1/tenants/{tenant}/roles");
    for (body, status, needles) in [
        (
            json!({"id": "r9", "grants": {"Nope": true}}),
            422,
            vec!["Nope"],
        ),
        (
            json!({"id": "r9", "grants": {"Roles": "Sometimes"}}),
            422,
            vec!["Sometimes"],
        ),
        (
            json!({"id": "r9", "grants": {"Roles": {"level": "Modify"}}}),
            400,
            vec!["Roles"],
        ),
        (
            json!({"id": "r9", "grants": {"Roles": 1.5}}),
            400,
            vec!["Roles", "1.5"],
        ),
        (
            json!({"id": "r9", "grants": {"Roles": [1]}}),
            400,
            vec!["Roles"],
        ),
        (
            json!({"id": "r9", "grants": ["Roles"]}),
            400,
            vec!["grants"],
        ),
        (json!({"id": "r9", "copy_of": "ghost"}), 422, vec!["ghost"]),
        (
            json!({"id": "r9", "includes": ["ghost"]}),
            422,
            vec!["ghost"],
        ),
        (json!({"id": "r9", "includes": ["r9"]}), 422, vec!["r9"]),
        (
            json!({"id": "r9", "includes": "agent"}),
            400,
            vec!["includes"],
        ),
        (json!({"id": "r9", "type": "ghost"}), 422, vec!["ghost"]),
        (json!({"id": "agent"}), 409, vec!["agent"]),
        (json!({"id": "r1"}), 409, vec!["r1"]),
        (json!({"id": "a b"}), 400, vec!["invalid role id", "a b"]),
        (json!({"id": long}), 400, vec!["invalid role id"]),
        (json!({"id": "../x"}), 400, vec!["../x"]),
        (json!({"name": "No id"}), 400, vec!["missing field `id`"]),
        (json!({"id": 9}), 400, vec!["id", "invalid type"]),
        (
            json!({"id": "r9", "privileges": {}}),
            400,
            vec!["unknown field `privileges`"],
        ),
    ] {
        c.push(case(r, t("/roles"), Tok::Op, j(body), status, &needles));
    }
    c.push(Case {
        code: Some("forbidden"),
        ..case(
            r,
            t("/roles"),
            Tok::Ag,
            j(json!({"id": "r9", "copy_of": "agent"})),
            403,
            &["Roles"],
        )
    });
    let r = route("GET", "/v1/tenants/{tenant}/roles/{role}");
    c.push(case(
        r,
        t("/roles/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["unknown role `ghost`"],
    ));
    c.push(case(
        r,
        t("/roles/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["invalid role id", "a b"],
    ));
    c.push(case(
        r,
        t("/roles/..%2Fx"),
        Tok::Op,
        Body::None,
        400,
        &["../x"],
    ));
    c.push(case(
        r,
        t(&format!("/roles/{long}")),
        Tok::Op,
        Body::None,
        400,
        &["invalid role id"],
    ));
    c.push(case(
        r,
        t("/roles/r1?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    let r = route("PUT", "/v1/tenants/{tenant}/roles/{role}");
    for (path, body, status, needles) in [
        (
            "/roles/r1",
            json!({"version": 0, "grants": {}}),
            409,
            vec!["version 1", "version 0"],
        ),
        (
            "/roles/r1",
            json!({"version": 2, "grants": {}}),
            409,
            vec!["version 1", "version 2"],
        ),
        (
            "/roles/r1",
            json!({"grants": {}}),
            400,
            vec!["missing field `version`"],
        ),
        // A replacement states the role's grants: leaving them out is not "none".
        (
            "/roles/r1",
            json!({"version": 1, "name": "R1"}),
            400,
            vec!["missing field `grants`"],
        ),
        (
            "/roles/r1",
            json!({"version": "1"}),
            400,
            vec!["version", "invalid type"],
        ),
        ("/roles/r1", json!({"version": -1}), 400, vec!["version"]),
        (
            "/roles/r1",
            json!({"version": 1, "grants": {"Nope": true}}),
            422,
            vec!["Nope"],
        ),
        (
            "/roles/r1",
            json!({"version": 1, "grants": {"Roles": "Sometimes"}}),
            422,
            vec!["Sometimes"],
        ),
        (
            "/roles/r1",
            json!({"version": 1, "grants": {}, "includes": ["r1"]}),
            422,
            vec!["r1"],
        ),
        (
            "/roles/r1",
            json!({"version": 1, "grants": {}, "includes": ["ghost"]}),
            422,
            vec!["ghost"],
        ),
        (
            "/roles/r1",
            json!({"version": 1, "grants": {}, "type": "ghost"}),
            422,
            vec!["ghost", "type cannot change"],
        ),
        (
            "/roles/r1",
            json!({"version": 1, "id": "r2"}),
            400,
            vec!["unknown field `id`"],
        ),
        (
            "/roles/agent",
            json!({"version": 1, "grants": {}}),
            409,
            vec!["template", "copy_of"],
        ),
        (
            "/roles/ghost",
            json!({"version": 1, "grants": {}}),
            404,
            vec!["unknown role `ghost`"],
        ),
        (
            "/roles/a%20b",
            json!({"version": 1, "grants": {}}),
            400,
            vec!["invalid role id", "a b"],
        ),
    ] {
        c.push(case(r, t(path), Tok::Op, j(body), status, &needles));
    }
    c.push(case(
        r,
        t("/roles/r1"),
        Tok::Ag,
        j(json!({"version": 1, "grants": {}})),
        403,
        &["Roles"],
    ));
    let r = route("DELETE", "/v1/tenants/{tenant}/roles/{role}");
    c.push(case(
        r,
        t("/roles/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["unknown role `ghost`"],
    ));
    c.push(case(
        r,
        t("/roles/agent"),
        Tok::Op,
        Body::None,
        409,
        &["template"],
    ));
    c.push(case(
        r,
        t("/roles/r1"),
        Tok::Op,
        Body::None,
        422,
        &["r1", "a_r1", "assigned"],
    ));
    c.push(case(
        r,
        t("/roles/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    c.push(case(
        r,
        t("/roles/r1"),
        Tok::Ag,
        Body::None,
        403,
        &["Roles"],
    ));

    // ---- users --------------------------------------------------------------------
    let r = route("GET", "/v1/tenants/{tenant}/users");
    c.push(case(
        r,
        t("/users?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    let r = route("POST", "/v1/tenants/{tenant}/users");
    for (body, status, needles) in [
        (json!({}), 400, vec!["missing `id`"]),
        (json!({"name": "No id"}), 400, vec!["missing `id`"]),
        (json!({"id": "ag"}), 409, vec!["ag", "already exists"]),
        (json!({"id": "a b"}), 400, vec!["a b"]),
        (json!({"id": long}), 400, vec!["invalid entity id"]),
        (json!({"id": "../x"}), 400, vec!["../x"]),
        (json!({"id": 5}), 400, vec!["id", "invalid type"]),
        (json!({"id": "u9", "members": ["ag"]}), 400, vec!["members"]),
        (json!({"id": "u9", "kind": "site"}), 400, vec!["kind"]),
        (json!({"id": "u9", "parent": "s1"}), 400, vec!["parent"]),
        (json!({"id": "u9", "org_unit": "ghost"}), 422, vec!["ghost"]),
        (json!({"id": "u9", "org_unit": "a b"}), 400, vec!["a b"]),
        (
            json!({"id": "u9", "org_unit": ["s1"]}),
            400,
            vec!["org_unit"],
        ),
        (
            json!({"id": "u9", "attributes": {"x": {"a": 1}}}),
            400,
            vec!["x"],
        ),
        (
            json!({"id": "u9", "attributes": {"x": 1.5}}),
            400,
            vec!["x"],
        ),
        (
            json!({"id": "u9", "attributes": {"height": 3}}),
            422,
            vec!["height"],
        ),
        (
            json!({"id": "u9", "relations": {"groups": ["g1"]}}),
            400,
            vec!["groups", "computed"],
        ),
        (
            json!({"id": "u9", "relations": {"ghost": ["x"]}}),
            400,
            vec!["ghost"],
        ),
        (
            json!({"id": "u9", "relations": {"org_unit": ["s1"]}}),
            400,
            vec!["org_unit"],
        ),
        (
            json!({"id": "u9", "colour": "red"}),
            400,
            vec!["unknown field `colour`"],
        ),
    ] {
        c.push(case(r, t("/users"), Tok::Op, j(body), status, &needles));
    }
    c.push(case(
        r,
        t("/users"),
        Tok::Ag,
        j(json!({"id": "u9"})),
        403,
        &["Users"],
    ));
    let r = route("GET", "/v1/tenants/{tenant}/users/{id}");
    c.push(case(
        r,
        t("/users/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/users/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    c.push(case(
        r,
        t(&format!("/users/{long}")),
        Tok::Op,
        Body::None,
        400,
        &["invalid entity id"],
    ));
    c.push(case(
        r,
        t("/users/ag?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    let r = route("PUT", "/v1/tenants/{tenant}/users/{id}");
    for (path, body, status, needles) in [
        ("/users/ag", json!({"id": "bob"}), 400, vec!["bob", "ag"]),
        (
            "/users/ag",
            json!({"org_unit": "ghost"}),
            422,
            vec!["ghost"],
        ),
        (
            "/users/ag",
            json!({"members": ["bob"]}),
            400,
            vec!["members"],
        ),
        (
            "/users/ag",
            json!({"name": 7}),
            400,
            vec!["name", "invalid type"],
        ),
        ("/users/a%20b", json!({"name": "x"}), 400, vec!["a b"]),
    ] {
        c.push(case(r, t(path), Tok::Op, j(body), status, &needles));
    }
    c.push(case(
        r,
        t("/users/bob"),
        Tok::Ag,
        j(json!({"name": "Bob"})),
        403,
        &["Users"],
    ));
    let r = route("DELETE", "/v1/tenants/{tenant}/users/{id}");
    c.push(case(
        r,
        t("/users/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/users/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    c.push(case(
        r,
        t("/users/bob"),
        Tok::Ag,
        Body::None,
        403,
        &["users.delete"],
    ));
    let r = route("GET", "/v1/tenants/{tenant}/users/{id}/permissions");
    for (path, status, needles) in [
        (
            "/users/ghost/permissions",
            404,
            vec!["unknown user `ghost`"],
        ),
        ("/users/a%20b/permissions", 400, vec!["a b"]),
        (
            "/users/ag/permissions?resource=nocolon",
            400,
            vec!["nocolon", "TYPE:ID"],
        ),
        ("/users/ag/permissions?resource=ghost:x", 400, vec!["ghost"]),
        (
            "/users/ag/permissions?resource=conversation:ghost",
            404,
            vec!["ghost"],
        ),
        ("/users/ag/permissions?colour=red", 400, vec!["colour"]),
        (
            "/users/ag/permissions?at_least_revision=x",
            400,
            vec!["at_least_revision"],
        ),
    ] {
        c.push(case(r, t(path), Tok::Op, Body::None, status, &needles));
    }
    c.push(case(
        r,
        t("/users/bob/permissions"),
        Tok::Ag,
        Body::None,
        403,
        &["check.others"],
    ));
    let r = route("GET", "/v1/tenants/{tenant}/users/{id}/permissions/watch");
    for (path, status, needles) in [
        (
            "/users/ghost/permissions/watch",
            404,
            vec!["unknown user `ghost`"],
        ),
        ("/users/a%20b/permissions/watch", 400, vec!["a b"]),
        (
            "/users/ag/permissions/watch?resource=nocolon",
            400,
            vec!["nocolon", "TYPE:ID"],
        ),
        (
            "/users/ag/permissions/watch?resource=conversation:ghost",
            404,
            vec!["ghost"],
        ),
        (
            "/users/ag/permissions/watch?cursor=abc",
            400,
            vec!["cursor `abc`", "`<revision>`"],
        ),
        (
            "/users/ag/permissions/watch?cursor=2.1",
            400,
            vec!["cursor `2.1`"],
        ),
        (
            "/users/ag/permissions/watch?colour=red",
            400,
            vec!["colour"],
        ),
    ] {
        c.push(case(r, t(path), Tok::Op, Body::None, status, &needles));
    }
    c.push(Case {
        code: Some("forbidden"),
        ..case(
            r,
            t("/users/bob/permissions/watch"),
            Tok::Ag,
            Body::None,
            403,
            &["check.others"],
        )
    });

    // ---- groups -------------------------------------------------------------------
    let r = route("GET", "/v1/tenants/{tenant}/groups");
    c.push(case(
        r,
        t("/groups?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    let r = route("POST", "/v1/tenants/{tenant}/groups");
    for (body, status, needles) in [
        (json!({}), 400, vec!["missing `id`"]),
        (json!({"id": "g1"}), 409, vec!["g1"]),
        (json!({"id": "a b"}), 400, vec!["a b"]),
        (
            json!({"id": "g9", "members": ["ghost"]}),
            422,
            vec!["ghost"],
        ),
        (json!({"id": "g9", "members": ["a b"]}), 400, vec!["a b"]),
        (json!({"id": "g9", "members": "ag"}), 400, vec!["members"]),
        (json!({"id": "g9", "org_unit": "s1"}), 400, vec!["org_unit"]),
        (
            json!({"id": "g9", "supervisors": ["ag"]}),
            400,
            vec!["supervisors"],
        ),
        (json!({"id": "g9", "colour": "red"}), 400, vec!["colour"]),
    ] {
        c.push(case(r, t("/groups"), Tok::Op, j(body), status, &needles));
    }
    c.push(case(
        r,
        t("/groups"),
        Tok::Ag,
        j(json!({"id": "g9"})),
        403,
        &["Agent Groups"],
    ));
    let r = route("GET", "/v1/tenants/{tenant}/groups/{id}");
    c.push(case(
        r,
        t("/groups/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/groups/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    let r = route("PUT", "/v1/tenants/{tenant}/groups/{id}");
    c.push(case(
        r,
        t("/groups/g1"),
        Tok::Op,
        j(json!({"members": ["ghost"]})),
        422,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/groups/g1"),
        Tok::Op,
        j(json!({"id": "g2"})),
        400,
        &["g2"],
    ));
    c.push(case(
        r,
        t("/groups/..%2Fx"),
        Tok::Op,
        j(json!({})),
        400,
        &["../x"],
    ));
    c.push(case(
        r,
        t("/groups/g1"),
        Tok::Ag,
        j(json!({"members": []})),
        403,
        &["Agent Groups"],
    ));
    let r = route("DELETE", "/v1/tenants/{tenant}/groups/{id}");
    c.push(case(
        r,
        t("/groups/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/groups/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    c.push(case(
        r,
        t("/groups/g1"),
        Tok::Ag,
        Body::None,
        403,
        &["Agent Groups"],
    ));

    // ---- org units ----------------------------------------------------------------
    let r = route("GET", "/v1/tenants/{tenant}/org-units");
    c.push(case(
        r,
        t("/org-units?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    let r = route("POST", "/v1/tenants/{tenant}/org-units");
    for (body, status, needles) in [
        (json!({"id": "o9"}), 400, vec!["kind"]),
        (
            json!({"id": "o9", "kind": "planet", "parent": "acme"}),
            422,
            vec!["planet"],
        ),
        (
            json!({"id": "o9", "kind": "site", "parent": "ghost"}),
            422,
            vec!["ghost"],
        ),
        (
            json!({"id": "o9", "kind": "company", "parent": "acme"}),
            422,
            vec!["o9"],
        ),
        (
            json!({"id": "o9", "kind": "site", "attributes": {"kind": "site"}}),
            400,
            vec!["kind"],
        ),
        (
            json!({"id": "o9", "kind": 3}),
            400,
            vec!["kind", "invalid type"],
        ),
        (
            json!({"id": "o9", "kind": "site", "members": ["ag"]}),
            400,
            vec!["members"],
        ),
        (
            json!({"id": "s1", "kind": "site", "parent": "acme"}),
            409,
            vec!["s1"],
        ),
        (
            json!({"id": "a b", "kind": "site", "parent": "acme"}),
            400,
            vec!["a b"],
        ),
    ] {
        c.push(case(r, t("/org-units"), Tok::Op, j(body), status, &needles));
    }
    c.push(case(
        r,
        t("/org-units"),
        Tok::Ag,
        j(json!({"id": "o9", "kind": "site", "parent": "acme"})),
        403,
        &["org_units.write"],
    ));
    let r = route("GET", "/v1/tenants/{tenant}/org-units/{id}");
    c.push(case(
        r,
        t("/org-units/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/org-units/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    let r = route("PUT", "/v1/tenants/{tenant}/org-units/{id}");
    c.push(case(
        r,
        t("/org-units/s1"),
        Tok::Op,
        j(json!({"kind": "site", "parent": "s1"})),
        422,
        &["s1"],
    ));
    c.push(case(
        r,
        t("/org-units/s1"),
        Tok::Op,
        j(json!({"kind": "site", "parent": "ghost"})),
        422,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/org-units/s1"),
        Tok::Op,
        j(json!({"parent": "acme"})),
        400,
        &["kind"],
    ));
    c.push(case(
        r,
        t("/org-units/s1"),
        Tok::Ag,
        j(json!({"kind": "site", "parent": "acme"})),
        403,
        &["org_units.write"],
    ));
    let r = route("DELETE", "/v1/tenants/{tenant}/org-units/{id}");
    c.push(case(
        r,
        t("/org-units/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/org-units/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    c.push(case(
        r,
        t("/org-units/s1"),
        Tok::Ag,
        Body::None,
        403,
        &["org_units.write"],
    ));

    // ---- queues -------------------------------------------------------------------
    let r = route("GET", "/v1/tenants/{tenant}/queues");
    c.push(case(
        r,
        t("/queues?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    let r = route("POST", "/v1/tenants/{tenant}/queues");
    for (body, status, needles) in [
        (json!({"id": "q1"}), 409, vec!["q1"]),
        (
            json!({"id": "q9", "supervisors": ["ghost"]}),
            422,
            vec!["ghost"],
        ),
        (
            json!({"id": "q9", "members": ["ghost"]}),
            422,
            vec!["ghost"],
        ),
        (json!({"id": "q9", "org_unit": "ghost"}), 422, vec!["ghost"]),
        (json!({"id": "q9", "parent": "s1"}), 400, vec!["parent"]),
        (
            json!({"id": "q9", "supervisors": "adm"}),
            400,
            vec!["supervisors"],
        ),
        (json!({"id": "q9", "kind": "site"}), 400, vec!["kind"]),
        (json!({"id": "a b"}), 400, vec!["a b"]),
    ] {
        c.push(case(r, t("/queues"), Tok::Op, j(body), status, &needles));
    }
    c.push(case(
        r,
        t("/queues"),
        Tok::Ag,
        j(json!({"id": "q9"})),
        403,
        &["Queues"],
    ));
    let r = route("GET", "/v1/tenants/{tenant}/queues/{id}");
    c.push(case(
        r,
        t("/queues/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/queues/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    let r = route("PUT", "/v1/tenants/{tenant}/queues/{id}");
    c.push(case(
        r,
        t("/queues/q1"),
        Tok::Op,
        j(json!({"org_unit": "ghost"})),
        422,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/queues/q1"),
        Tok::Op,
        j(json!({"members": ["ghost"]})),
        422,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/queues/q1"),
        Tok::Ag,
        j(json!({"name": "Mine"})),
        403,
        &["Queues"],
    ));
    let r = route("DELETE", "/v1/tenants/{tenant}/queues/{id}");
    c.push(case(
        r,
        t("/queues/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/queues/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    c.push(case(
        r,
        t("/queues/q1"),
        Tok::Ag,
        Body::None,
        403,
        &["Queues"],
    ));

    // ---- other resources ----------------------------------------------------------
    let r = route("GET", "/v1/tenants/{tenant}/resources/{ty}");
    c.push(case(
        r,
        t("/resources/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["unknown resource type `ghost`"],
    ));
    c.push(case(
        r,
        t("/resources/user"),
        Tok::Op,
        Body::None,
        400,
        &["own endpoint"],
    ));
    c.push(case(
        r,
        t("/resources/conversation?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    let r = route("GET", "/v1/tenants/{tenant}/resources/{ty}/{id}");
    c.push(case(
        r,
        t("/resources/conversation/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/resources/conversation/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    c.push(case(
        r,
        t("/resources/ghost/c1"),
        Tok::Op,
        Body::None,
        404,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/resources/queue/q1"),
        Tok::Op,
        Body::None,
        400,
        &["own endpoint"],
    ));
    let r = route("PUT", "/v1/tenants/{tenant}/resources/{ty}/{id}");
    for (path, body, status, needles) in [
        (
            "/resources/conversation/c9",
            json!({"relations": {"agent": ["ghost"]}}),
            422,
            vec!["ghost"],
        ),
        (
            "/resources/conversation/c9",
            json!({"relations": {"nope": ["ag"]}}),
            400,
            vec!["nope"],
        ),
        (
            "/resources/conversation/c9",
            json!({"relations": {"agent": "ag"}}),
            400,
            vec!["relations"],
        ),
        (
            "/resources/conversation/c9",
            json!({"members": ["ag"]}),
            400,
            vec!["members"],
        ),
        (
            "/resources/conversation/c9",
            json!({"attributes": {"channel": "pigeon"}}),
            422,
            vec!["pigeon"],
        ),
        (
            "/resources/conversation/c9",
            json!({"attributes": {"channel": 3}}),
            422,
            vec!["channel"],
        ),
        (
            "/resources/conversation/c9",
            json!({"attributes": {"mood": "calm"}}),
            422,
            vec!["mood"],
        ),
        (
            "/resources/conversation/c9",
            json!({"id": "c8"}),
            400,
            vec!["c8"],
        ),
        ("/resources/conversation/a%20b", json!({}), 400, vec!["a b"]),
        ("/resources/ghost/c9", json!({}), 404, vec!["ghost"]),
        ("/resources/user/ag", json!({}), 400, vec!["own endpoint"]),
        ("/resources/tenant/t", json!({}), 400, vec!["own endpoint"]),
    ] {
        c.push(case(r, t(path), Tok::Op, j(body), status, &needles));
    }
    c.push(case(
        r,
        t("/resources/conversation/c1"),
        Tok::Ag,
        j(json!({})),
        403,
        &["resources.write"],
    ));
    let r = route("DELETE", "/v1/tenants/{tenant}/resources/{ty}/{id}");
    c.push(case(
        r,
        t("/resources/conversation/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/resources/conversation/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    c.push(case(
        r,
        t("/resources/user/ag"),
        Tok::Op,
        Body::None,
        400,
        &["own endpoint"],
    ));
    c.push(case(
        r,
        t("/resources/conversation/c1"),
        Tok::Ag,
        Body::None,
        403,
        &["resources.write"],
    ));

    // ---- assignments --------------------------------------------------------------
    let r = route("GET", "/v1/tenants/{tenant}/assignments");
    c.push(case(
        r,
        t("/assignments?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    c.push(case(
        r,
        t("/assignments?at_least_revision=x"),
        Tok::Op,
        Body::None,
        400,
        &["at_least_revision"],
    ));
    c.push(case(
        r,
        t("/assignments"),
        Tok::Ag,
        Body::None,
        403,
        &["assignments.read"],
    ));
    c.push(case(
        r,
        t("/assignments?principal=bob"),
        Tok::Ag,
        Body::None,
        403,
        &["assignments.read"],
    ));
    let r = route("POST", "/v1/tenants/{tenant}/assignments");
    for (body, status, needles) in [
        (
            json!({"principal": "ghost", "role": "agent"}),
            422,
            vec!["unknown user `ghost`"],
        ),
        (
            json!({"principal": "ag", "role": "ghost"}),
            422,
            vec!["unknown role `ghost`"],
        ),
        (
            json!({"principal": "a b", "role": "agent"}),
            400,
            vec!["a b"],
        ),
        (
            json!({"principal": "ag", "role": "../x"}),
            400,
            vec!["../x"],
        ),
        (
            json!({"principal": "ag", "role": "agent", "scope": {"org_units": ["ghost"]}}),
            422,
            vec!["ghost"],
        ),
        (
            json!({"principal": "ag", "role": "agent", "scope": {"queues": ["ghost"]}}),
            422,
            vec!["ghost"],
        ),
        (
            json!({"principal": "ag", "role": "agent", "scope": {"org_units": []}}),
            422,
            vec!["scope"],
        ),
        (
            json!({"principal": "ag", "role": "agent", "scope": "planet"}),
            400,
            vec!["planet"],
        ),
        (
            json!({"principal": "ag", "role": "agent", "scope": {"queues": "q1"}}),
            400,
            vec!["scope"],
        ),
        (
            json!({"principal": "ag", "role": "agent", "scope": {"queues": ["q1"], "org_units": ["s1"]}}),
            400,
            vec!["scope"],
        ),
        (
            json!({"id": "a_ag", "principal": "ag", "role": "agent"}),
            409,
            vec!["a_ag"],
        ),
        (
            json!({"id": "a b", "principal": "ag", "role": "agent"}),
            400,
            vec!["a b"],
        ),
        (
            json!({"principal": "ag", "role": "agent", "expires_at": "tomorrow"}),
            400,
            vec!["expires_at"],
        ),
        (
            json!({"principal": "ag", "role": "agent", "expires_at": 1.5}),
            400,
            vec!["expires_at"],
        ),
        (
            json!({"principal": "ag"}),
            400,
            vec!["missing field `role`"],
        ),
        (
            json!({"role": "agent"}),
            400,
            vec!["missing field `principal`"],
        ),
        (
            json!({"principal": "ag", "role": "agent", "colour": "red"}),
            400,
            vec!["colour"],
        ),
    ] {
        c.push(case(
            r,
            t("/assignments"),
            Tok::Op,
            j(body),
            status,
            &needles,
        ));
    }
    c.push(case(
        r,
        t("/assignments"),
        Tok::Ag,
        j(json!({"principal": "bob", "role": "agent"})),
        403,
        &["Users", "Modify and Assign Roles"],
    ));
    let r = route("GET", "/v1/tenants/{tenant}/assignments/{id}");
    c.push(case(
        r,
        t("/assignments/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/assignments/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    c.push(case(
        r,
        t("/assignments/a_adm"),
        Tok::Ag,
        Body::None,
        403,
        &["assignments.read"],
    ));
    let r = route("DELETE", "/v1/tenants/{tenant}/assignments/{id}");
    c.push(case(
        r,
        t("/assignments/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/assignments/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    c.push(case(
        r,
        t("/assignments/a_adm"),
        Tok::Ag,
        Body::None,
        403,
        &["Users"],
    ));

    // ---- relations ----------------------------------------------------------------
    let r = route("GET", "/v1/tenants/{tenant}/relations");
    for (path, status, needles) in [
        ("/relations", 400, vec!["resource"]),
        ("/relations?resource=c1", 400, vec!["TYPE:ID"]),
        ("/relations?resource=conversation:ghost", 404, vec!["ghost"]),
        ("/relations?resource=conversation:a%20b", 400, vec!["a b"]),
        (
            "/relations?resource=conversation:c1&colour=red",
            400,
            vec!["colour"],
        ),
    ] {
        c.push(case(r, t(path), Tok::Op, Body::None, status, &needles));
    }
    let r = route("POST", "/v1/tenants/{tenant}/relations");
    let tup =
        |res: &str, rel: &str, sub: &str| json!({"resource": res, "relation": rel, "subject": sub});
    let many: Vec<Value> = (0..1001)
        .map(|i| tup(&format!("conversation:x{i}"), "agent", "user:ag"))
        .collect();
    let many_mixed: Vec<Value> = (0..501)
        .map(|i| tup(&format!("conversation:x{i}"), "agent", "user:ag"))
        .collect();
    for (body, status, needles) in [
        (json!({}), 400, vec!["nothing to write"]),
        (
            json!({"writes": [], "deletes": []}),
            400,
            vec!["nothing to write"],
        ),
        (json!({"writes": many}), 400, vec!["1001", "1000"]),
        (
            json!({"writes": many_mixed.clone(), "deletes": many_mixed}),
            400,
            vec!["1002", "1000"],
        ),
        (
            json!({"writes": [tup("conversation:c1", "agent", "user:bob")], "if_revision": rev - 1}),
            409,
            vec!["revision", &(rev - 1).to_string(), &rev.to_string()],
        ),
        (
            json!({"writes": [tup("conversation:c1", "agent", "user:bob")], "if_revision": rev + 1}),
            409,
            vec!["revision"],
        ),
        (
            json!({"writes": [tup("c1", "agent", "user:ag")]}),
            400,
            vec!["c1", "TYPE:ID"],
        ),
        (
            json!({"writes": [tup("conversation:c1", "agent", "ag")]}),
            400,
            vec!["TYPE:ID"],
        ),
        (
            json!({"writes": [tup("conversation:a b", "agent", "user:ag")]}),
            400,
            vec!["a b"],
        ),
        (
            json!({"writes": [tup("conversation:c1", "ghost", "user:ag")]}),
            422,
            vec!["writes[0]", "ghost"],
        ),
        (
            json!({"writes": [tup("conversation:c1", "agent", "queue:q1")]}),
            422,
            vec!["writes[0]", "queue"],
        ),
        (
            json!({"writes": [tup("conversation:c9", "agent", "user:ghost")]}),
            422,
            vec!["ghost"],
        ),
        (
            json!({"writes": [tup("ghost:c1", "agent", "user:ag")]}),
            422,
            vec!["ghost"],
        ),
        (
            json!({"writes": [tup("user:ag", "groups", "group:g1")]}),
            422,
            vec!["computed"],
        ),
        (
            json!({"writes": [tup("conversation:c1", "agent", "user:bob")], "deletes": [tup("conversation:c1", "ghost", "user:ag")]}),
            422,
            vec!["deletes[0]", "ghost"],
        ),
        (
            json!({"writes": [{"resource": "conversation:c1", "relation": "agent"}]}),
            400,
            vec!["subject"],
        ),
        (
            json!({"writes": [{"resource": "conversation:c1", "relation": "agent", "subject": "user:ag", "note": 1}]}),
            400,
            vec!["note"],
        ),
        (
            json!({"writes": "conversation:c1#agent@user:ag"}),
            400,
            vec!["writes"],
        ),
        (
            json!({"writes": [tup("conversation:c1", "agent", "user:bob")], "if_revision": "now"}),
            400,
            vec!["if_revision"],
        ),
    ] {
        c.push(case(r, t("/relations"), Tok::Op, j(body), status, &needles));
    }
    c.push(case(
        r,
        t("/relations"),
        Tok::Ag,
        j(json!({"writes": [tup("conversation:c1", "agent", "user:bob")]})),
        403,
        &["relations.write"],
    ));

    // ---- settings -----------------------------------------------------------------
    let r = route("GET", "/v1/tenants/{tenant}/settings");
    c.push(case(
        r,
        t("/settings?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    let r = route("PUT", "/v1/tenants/{tenant}/settings");
    for (body, status, needles) in [
        (json!({}), 400, vec!["no setting"]),
        (
            json!({"ghost": 1}),
            422,
            vec!["ghost", "default_auto_logout_timeout"],
        ),
        (
            json!({"default_auto_logout_timeout": "soon"}),
            422,
            vec!["default_auto_logout_timeout", "int"],
        ),
        (
            json!({"default_auto_logout_timeout": 1.5}),
            422,
            vec!["default_auto_logout_timeout"],
        ),
        (
            json!({"default_auto_logout_timeout": true}),
            422,
            vec!["default_auto_logout_timeout"],
        ),
        (
            json!({"default_auto_logout_timeout": 600, "ghost": 1}),
            422,
            vec!["ghost"],
        ),
    ] {
        c.push(case(r, t("/settings"), Tok::Op, j(body), status, &needles));
    }
    c.push(case(
        r,
        t("/settings"),
        Tok::Ag,
        j(json!({"default_auto_logout_timeout": 600})),
        403,
        &["settings.write"],
    ));

    // ---- decisions ----------------------------------------------------------------
    let chk = |principal: &str, action: &str, ty: &str, id: &str| json!({"principal": principal, "action": action, "resource": {"type": ty, "id": id}});
    for tpl in ["/v1/tenants/{tenant}/check", "/v1/tenants/{tenant}/explain"] {
        let r = route("POST", tpl);
        let path = fill(tpl, T, token_id);
        for (body, status, needles) in [
            (chk("ag", "ghost", "user", "bob"), 422, vec!["ghost"]),
            (
                chk("ghost", "agent.status.view_all", "user", "bob"),
                422,
                vec!["ghost"],
            ),
            (
                chk("ag", "agent.status.view_all", "ghost", "bob"),
                422,
                vec!["ghost"],
            ),
            (
                chk("ag", "agent.status.view_all", "user", "ghost"),
                422,
                vec!["ghost"],
            ),
            (
                chk("ag", "agent.status.view_all", "queue", "q1"),
                422,
                vec!["queue"],
            ),
            (
                json!({"principal": "ag", "action": "agent.status.view_all"}),
                400,
                vec!["missing field `resource`"],
            ),
            (
                json!({"principal": "ag", "action": "agent.status.view_all", "resource": {"type": "user"}}),
                400,
                vec!["missing field `id`"],
            ),
            (
                json!({"principal": "ag", "action": "agent.status.view_all", "resource": "user:bob"}),
                400,
                vec!["resource"],
            ),
            (
                json!({"principal": "ag", "action": 5, "resource": {"type": "user", "id": "bob"}}),
                400,
                vec!["action", "invalid type"],
            ),
            (
                json!({"principal": "ag", "action": "agent.status.view_all", "resource": {"type": "user", "id": "bob"}, "context": {"x": {"a": 1}}}),
                400,
                vec!["context `x`"],
            ),
            (
                json!({"principal": "ag", "action": "agent.status.view_all", "resource": {"type": "user", "id": "bob"}, "context": {"x": 1.5}}),
                400,
                vec!["context `x`"],
            ),
            (
                json!({"principal": "ag", "action": "agent.status.view_all", "resource": {"type": "user", "id": "bob"}, "context": [1]}),
                400,
                vec!["context"],
            ),
            (
                json!({"principal": "ag", "action": "agent.status.view_all", "resource": {"type": "user", "id": "bob"}, "explain": "yes"}),
                400,
                vec!["explain"],
            ),
            (
                json!({"principal": "ag", "action": "agent.status.view_all", "resource": {"type": "user", "id": "bob"}, "at_least_revision": -1}),
                400,
                vec!["at_least_revision"],
            ),
            (
                json!({"principal": "ag", "action": "agent.status.view_all", "resource": {"type": "user", "id": "bob", "tenant": "x"}}),
                400,
                vec!["tenant"],
            ),
            (
                json!({"principal": "ag", "action": "agent.status.view_all", "resource": {"type": "user", "id": "bob"}, "colour": 1}),
                400,
                vec!["colour"],
            ),
        ] {
            c.push(case(r, path.clone(), Tok::Op, j(body), status, &needles));
        }
        c.push(case(
            r,
            path,
            Tok::Ag,
            j(chk("bob", "agent.status.view_all", "user", "ag")),
            403,
            &["check.others"],
        ));
    }
    let r = route("POST", "/v1/tenants/{tenant}/check/batch");
    let many: Vec<Value> = (0..1001).map(|_| check_body()).collect();
    for (body, status, needles) in [
        (json!({"checks": many}), 400, vec!["1001", "1000"]),
        (json!({}), 400, vec!["missing field `checks`"]),
        (json!({"checks": "all"}), 400, vec!["checks"]),
        (
            json!({"checks": [check_body(), {"principal": "ag"}]}),
            400,
            vec!["checks[1]"],
        ),
        (
            json!({"checks": [{"principal": "ag", "action": "agent.status.view_all", "resource": {"type": "user", "id": "bob"}, "context": {"x": [1]}}]}),
            400,
            vec!["context `x`"],
        ),
        (
            json!({"checks": [check_body()], "at_least_revision": "x"}),
            400,
            vec!["at_least_revision"],
        ),
        (
            json!({"checks": [check_body()], "colour": 1}),
            400,
            vec!["colour"],
        ),
    ] {
        c.push(case(
            r,
            t("/check/batch"),
            Tok::Op,
            j(body),
            status,
            &needles,
        ));
    }
    c.push(case(
        r,
        t("/check/batch"),
        Tok::Ag,
        j(json!({"checks": [check_body(), chk("bob", "agent.status.view_all", "user", "ag")]})),
        403,
        &["check.others"],
    ));

    // ---- tokens -------------------------------------------------------------------
    // (A user lists their own tokens: no refusal to test on GET /tokens.)
    let r = route("POST", "/v1/tenants/{tenant}/tokens");
    for (body, status, needles) in [
        (
            json!({"principal": "ghost"}),
            422,
            vec!["unknown user `ghost`"],
        ),
        (json!({"principal": "a b"}), 400, vec!["a b"]),
        (json!({"principal": long}), 400, vec!["invalid user id"]),
        (json!({}), 400, vec!["missing field `principal`"]),
        (json!({"principal": ["ag"]}), 400, vec!["principal"]),
        // A struct written as an array is not an object.
        (json!(["ag"]), 400, vec!["expected a JSON object"]),
        (
            json!({"principal": "ag", "tenant": "t"}),
            400,
            vec!["tenant"],
        ),
    ] {
        c.push(case(r, t("/tokens"), Tok::Op, j(body), status, &needles));
    }
    c.push(case(
        r,
        t("/tokens"),
        Tok::Ag,
        j(json!({"principal": "bob"})),
        403,
        &["tokens.write"],
    ));
    c.push(case(
        r,
        t("/tokens"),
        Tok::Ag,
        j(json!({"principal": "adm"})),
        403,
        &["tokens.write"],
    ));
    let r = route("DELETE", "/v1/tenants/{tenant}/tokens/{id}");
    c.push(case(
        r,
        t("/tokens/tok_ghost"),
        Tok::Op,
        Body::None,
        404,
        &["tok_ghost"],
    ));
    c.push(case(
        r,
        t("/tokens/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    c.push(case(
        r,
        t(&format!("/tokens/{}", fx_adm_token_id)),
        Tok::Ag,
        Body::None,
        403,
        &["tokens.write"],
    ));
    // ---- audit, separation of duty, lookups, impact ---------------------------------
    let r = route("GET", "/v1/tenants/{tenant}/audit");
    c.push(case(
        r,
        t("/audit?format=xml"),
        Tok::Op,
        Body::None,
        400,
        &["xml"],
    ));
    c.push(case(
        r,
        t("/audit?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    c.push(case(
        r,
        t("/audit?limit=x"),
        Tok::Op,
        Body::None,
        400,
        &["limit"],
    ));
    let r = route("GET", "/v1/tenants/{tenant}/sod-rules");
    c.push(case(
        r,
        t("/sod-rules?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    let r = route("POST", "/v1/tenants/{tenant}/sod-rules");
    for (body, status, needles) in [
        (json!({"id": "a b", "roles": ["agent"]}), 400, vec!["a b"]),
        (json!({"roles": ["agent"]}), 400, vec!["missing field `id`"]),
        (json!({"id": "sod9", "roles": "agent"}), 400, vec!["roles"]),
        (
            json!({"id": "sod9", "privileges": [1]}),
            400,
            vec!["privileges"],
        ),
        (
            json!({"id": "sod9", "roles": ["agent"], "colour": 1}),
            400,
            vec!["colour"],
        ),
    ] {
        c.push(case(r, t("/sod-rules"), Tok::Op, j(body), status, &needles));
    }
    c.push(case(
        r,
        t("/sod-rules"),
        Tok::Ag,
        j(json!({"id": "sod9", "roles": ["agent", "administrator"]})),
        403,
        &["sod.write"],
    ));
    let r = route("DELETE", "/v1/tenants/{tenant}/sod-rules/{id}");
    c.push(case(
        r,
        t("/sod-rules/ghost"),
        Tok::Op,
        Body::None,
        404,
        &["ghost"],
    ));
    c.push(case(
        r,
        t("/sod-rules/a%20b"),
        Tok::Op,
        Body::None,
        400,
        &["a b"],
    ));
    let r = route("GET", "/v1/tenants/{tenant}/sod-violations");
    c.push(case(
        r,
        t("/sod-violations?colour=red"),
        Tok::Op,
        Body::None,
        400,
        &["colour"],
    ));
    let r = route("POST", "/v1/tenants/{tenant}/lookup/subjects");
    for (body, status, needles) in [
        (
            json!({"action": "ghost", "resource": {"type": "user", "id": "bob"}}),
            422,
            vec!["ghost"],
        ),
        (
            json!({"action": "agent.status.view_all", "resource": {"type": "user", "id": "ghost"}}),
            422,
            vec!["ghost"],
        ),
        (
            json!({"action": "agent.status.view_all"}),
            400,
            vec!["missing field `resource`"],
        ),
        (
            json!({"action": 1, "resource": {"type": "user", "id": "bob"}}),
            400,
            vec!["action"],
        ),
    ] {
        c.push(case(
            r,
            t("/lookup/subjects"),
            Tok::Op,
            j(body),
            status,
            &needles,
        ));
    }
    let r = route("POST", "/v1/tenants/{tenant}/lookup/resources");
    for (body, status, needles) in [
        (
            json!({"principal": "ag", "action": "ghost"}),
            422,
            vec!["ghost"],
        ),
        (
            json!({"principal": "ghost", "action": "agent.status.view_all"}),
            422,
            vec!["ghost"],
        ),
        (
            json!({"principal": "ag"}),
            400,
            vec!["missing field `action`"],
        ),
    ] {
        c.push(case(
            r,
            t("/lookup/resources"),
            Tok::Op,
            j(body),
            status,
            &needles,
        ));
    }
    c.push(case(
        r,
        t("/lookup/resources"),
        Tok::Ag,
        j(json!({"principal": "bob", "action": "agent.status.view_all"})),
        403,
        &["check.others"],
    ));
    let r = route("POST", "/v1/tenants/{tenant}/impact");
    for (body, status, needles) in [
        (json!({"settings": {"ghost": 1}}), 422, vec!["ghost"]),
        (json!({"remove_assignment": "ghost"}), 404, vec!["ghost"]),
        (json!({"colour": 1}), 400, vec!["colour"]),
    ] {
        c.push(case(r, t("/impact"), Tok::Op, j(body), status, &needles));
    }

    let r = route("PUT", "/v1/tenants/{tenant}/tokens/{id}");
    c.push(case(
        r,
        t(&format!("/tokens/{token_id}")),
        Tok::Ag,
        j(json!({"principal": "adm"})),
        405,
        &["revoke"],
    ));
    c
}

#[tokio::test]
async fn every_route_refuses_bad_input_and_writes_nothing() {
    let fx = fixture(TestServer::start().await).await;
    let rev = fx.s.revision(T).await;
    let mut cases = generic_cases(&fx.ag_token_id);
    cases.extend(specific_cases(rev, &fx.ag_token_id, &fx.adm_token_id));
    let covered = run_cases(&fx, cases).await;
    let missing: Vec<String> = ROUTES
        .iter()
        .filter(|(_, p)| !PUBLIC.contains(p))
        .filter(|(m, p)| !covered.contains(&((*m).to_owned(), (*p).to_owned())))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a bad-input case: {missing:?}"
    );
    // The server still writes after all that.
    let r = fx
        .s
        .post(
            &format!("/v1/tenants/{T}/relations"),
            &fx.s.op,
            json!({"writes": [{"resource": "conversation:c2", "relation": "agent", "subject": "user:bob"}], "if_revision": rev}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.revision(), rev + 1);
}

#[tokio::test]
async fn the_route_table_mirrors_the_router() {
    let mut table: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    table.sort();
    assert_eq!(
        table,
        support::routes_in_router(),
        "the test route table and the router disagree"
    );
}

#[tokio::test]
async fn every_route_is_authenticated_or_deliberately_public() {
    let fx = fixture(TestServer::start().await).await;
    let before = observe(&fx.s).await;
    let mut failures = Vec::new();
    for &(m, tpl) in ROUTES {
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        let path = fill(tpl, T, &fx.ag_token_id);
        let body = good_body(m, tpl);
        if PUBLIC.contains(&tpl) {
            let r = send(&fx, &method, &path, None, &body).await;
            if r.status != 200 {
                failures.push(format!("{m} {tpl}: public route answered {}", r.status));
            }
            continue;
        }
        // No token, a wrong token, a malformed header: 401 with the JSON error.
        let no = send(&fx, &method, &path, None, &body).await;
        if let Err(e) = check_error(&no, 401, Some("unauthorized"), &["Authorization"]) {
            failures.push(format!("{m} {tpl} without a token: {e}"));
        }
        let bad = send(&fx, &method, &path, Some("rc_not-a-real-token"), &body).await;
        if let Err(e) = check_error(&bad, 401, Some("unauthorized"), &["token"]) {
            failures.push(format!("{m} {tpl} with a bad token: {e}"));
        }
        let mut rb =
            fx.s.client
                .request(method.clone(), format!("{}{path}", fx.s.base))
                .header("authorization", format!("Basic {}", fx.s.op));
        if let Body::Json(v) = &body {
            rb = rb.json(v);
        }
        let res = rb.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let basic = Resp {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        };
        if let Err(e) = check_error(&basic, 401, Some("unauthorized"), &["Bearer"]) {
            failures.push(format!("{m} {tpl} with a Basic header: {e}"));
        }
        // An unknown tenant without a token is a 401 too: nothing is revealed.
        if tpl.contains("{tenant}") {
            let r = send(
                &fx,
                &method,
                &fill(tpl, "nope", &fx.ag_token_id),
                None,
                &body,
            )
            .await;
            if r.status != 401 {
                failures.push(format!(
                    "{m} {tpl} (unknown tenant) without a token: {}",
                    r.status
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n  {}", failures.join("\n  "));
    assert_eq!(
        observe(&fx.s).await,
        before,
        "an unauthenticated request wrote something"
    );
    // The revoked operator token of nobody: a token revoked is a 401 as well.
    let r =
        fx.s.delete(
            &format!("/v1/tenants/{T}/tokens/{}", fx.ag_token_id),
            &fx.ag,
        )
        .await;
    r.expect(204);
    let r = fx.s.get(&format!("/v1/tenants/{T}"), &fx.ag).await;
    assert_error(&r, 401, Some("unauthorized"), &["revoked"]);
}

#[tokio::test]
async fn wrong_methods_and_unknown_paths_answer_with_the_json_error() {
    let fx = fixture(TestServer::start().await).await;
    let rev = fx.s.revision(T).await;
    for (m, path) in [
        ("PATCH", "/v1/tenants".to_owned()),
        ("DELETE", "/v1/tenants".to_owned()),
        ("DELETE", format!("/v1/tenants/{T}")),
        ("PATCH", format!("/v1/tenants/{T}/roles/r1")),
        ("POST", format!("/v1/tenants/{T}/roles/r1")),
        ("PUT", format!("/v1/tenants/{T}/assignments/a_ag")),
        ("GET", format!("/v1/tenants/{T}/check")),
        ("DELETE", format!("/v1/tenants/{T}/settings")),
        ("POST", "/healthz".to_owned()),
    ] {
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        let r = fx.s.call(method, &path, Some(&fx.s.op), None).await;
        if let Err(e) = check_error(&r, 405, Some("method_not_allowed"), &[m]) {
            panic!("{m} {path}: {e}");
        }
    }
    for path in [
        "/v1/nothing",
        "/v1/tenants/t/nothing",
        "/v1/tenants/t/roles/r1/nothing",
        "/v2/tenants",
    ] {
        let r = fx.s.get(path, &fx.s.op).await;
        assert_error(&r, 404, Some("not_found"), &["no such endpoint"]);
    }
    assert_eq!(fx.s.revision(T).await, rev);
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_and_write_nothing() {
    let s = TestServer::start_with(|c| c.body_limit = 4 * 1024).await;
    s.tenant(T, "horizon-contact").await;
    s.user(T, "ag", None).await;
    let rev = s.revision(T).await;
    let big = "x".repeat(8 * 1024);
    let huge = "x".repeat(2 * 1024 * 1024);
    let mut failures = Vec::new();
    for &(m, tpl) in ROUTES {
        let Body::Json(mut good) = good_body(m, tpl) else {
            continue;
        };
        if m == "PUT" && tpl.ends_with("/tokens/{id}") {
            continue;
        }
        let path = fill(tpl, T, "tok_x");
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        for pad in [&big, &huge] {
            // A valid body padded past the limit with an unknown field.
            good["padding"] = json!(pad);
            let r = s
                .call(method.clone(), &path, Some(&s.op), Some(&good))
                .await;
            if let Err(e) = check_error(&r, 413, Some("payload_too_large"), &["limit"]) {
                failures.push(format!("{m} {tpl} with {} bytes: {e}", pad.len()));
            }
        }
    }
    assert!(failures.is_empty(), "\n  {}", failures.join("\n  "));
    assert_eq!(s.revision(T).await, rev);
    // Just under the limit is fine.
    let r = s
        .post(
            &format!("/v1/tenants/{T}/users"),
            &s.op,
            json!({"id": "u2", "name": "y".repeat(3 * 1024)}),
        )
        .await;
    r.expect(201);
    assert_eq!(r.revision(), rev + 1);
}

#[tokio::test]
async fn at_least_revision_from_the_future_is_refused_not_answered_stale() {
    let fx = fixture(TestServer::start().await).await;
    let rev = fx.s.revision(T).await;
    let r =
        fx.s.get(
            &format!("/v1/tenants/{T}?at_least_revision={}", rev + 100),
            &fx.s.op,
        )
        .await;
    assert_error(
        &r,
        503,
        Some("revision_unavailable"),
        &[&(rev + 100).to_string()],
    );
    assert_eq!(fx.s.revision(T).await, rev);
}

/// Many edits made from the same version of a role: exactly one wins, the others get
/// 409 and write nothing. The same for creating one id several times at once.
#[tokio::test]
async fn concurrent_edits_from_one_version_let_exactly_one_win() {
    let fx = fixture(TestServer::start().await).await;
    let rev = fx.s.revision(T).await;
    let n = 8;
    let s = &fx.s;
    let path = format!("/v1/tenants/{T}/roles/r1");
    let edits = (0..n).map(|i| {
        let path = path.clone();
        async move {
            s.put(
                &path,
                &s.op,
                json!({"version": 1, "name": format!("Edit {i}"), "grants": {}}),
            )
            .await
        }
    });
    let answers = futures_join_all(edits).await;
    let won: Vec<&Resp> = answers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(won.len(), 1, "edits from version 1: {answers:#?}");
    for r in answers.iter().filter(|r| r.status != 200) {
        assert_error(r, 409, Some("conflict"), &["version"]);
    }
    let role = s.get(&path, &s.op).await;
    assert_eq!(role.body["version"], json!(2), "{}", role.text);
    assert_eq!(s.revision(T).await, rev + 1);

    // Creating the same role / user / assignment id at once: one 201, the rest 409.
    for (p, body) in [
        (
            format!("/v1/tenants/{T}/roles"),
            json!({"id": "dup", "copy_of": "agent"}),
        ),
        (format!("/v1/tenants/{T}/users"), json!({"id": "dup"})),
        (
            format!("/v1/tenants/{T}/assignments"),
            json!({"id": "dup", "principal": "bob", "role": "agent"}),
        ),
    ] {
        let before = s.revision(T).await;
        let creates = (0..n).map(|i| {
            let p = p.clone();
            let mut body = body.clone();
            if body.get("principal").is_none() {
                body["name"] = json!(format!("Create {i}"));
            }
            async move { s.post(&p, &s.op, body).await }
        });
        let answers = futures_join_all(creates).await;
        let created = answers.iter().filter(|r| r.status == 201).count();
        assert_eq!(created, 1, "{p}: {answers:#?}");
        for r in answers.iter().filter(|r| r.status != 201) {
            assert_error(r, 409, Some("exists"), &["dup"]);
        }
        assert_eq!(s.revision(T).await, before + 1, "{p}");
    }
}

/// `join_all` without a futures dependency: spawn-free, polls them together.
async fn futures_join_all<F: std::future::Future<Output = Resp>>(
    futs: impl Iterator<Item = F>,
) -> Vec<Resp> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<Resp>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(r) => out[i] = Some(r),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}
