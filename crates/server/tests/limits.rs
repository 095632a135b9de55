//! Limits over HTTP (docs/profile-format.md, "Limits"): a profile beyond them is
//! refused at tenant creation with positions and the server keeps serving every other
//! tenant; a profile within them serves its catalog; a check's context over its limit
//! is refused naming the key and the limit, and nothing is written; each limit is a
//! setting of the deployment.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use serde_json::{Value, json};
use support::{TestServer, assert_error};

const HEAD: &str =
    "[profile]\nid = \"deep\"\nname = \"Deep\"\n\n[[section]]\nid = \"s\"\nname = \"S\"\n\n";

/// A profile whose privileges nest `depth` deep, with a role holding the top.
fn privilege_chain(depth: usize) -> String {
    let mut t = HEAD.to_owned();
    for i in 1..=depth {
        let parent = if i == 1 {
            "s".to_owned()
        } else {
            format!("p{}", i - 1)
        };
        t.push_str(&format!(
            "[[privilege]]\nid = \"p{i}\"\nname = \"Privilege {i}\"\nparent = \"{parent}\"\ndescription = \"A privilege {i} levels down the tree, to make the profile as large as the one reported.\"\n"
        ));
    }
    t.push_str("[[role]]\nid = \"top\"\ngrants = { p1 = true }\n");
    t.push_str(&format!(
        "[[action]]\nid = \"deepest\"\nresource = \"tenant\"\nrequires = 'has(\"p{depth}\")'\n"
    ));
    t
}

/// `line:column` of the first `needle` in `text`.
fn pos_of(text: &str, needle: &str) -> String {
    let at = text.find(needle).unwrap();
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = at - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{line}:{col}")
}

/// How deeply the catalog's privileges nest (walked without recursion).
fn nesting(catalog: &Value) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&Value, usize)> = Vec::new();
    for s in catalog["sections"].as_array().unwrap() {
        for p in s["privileges"].as_array().unwrap() {
            stack.push((p, 1));
        }
    }
    while let Some((n, d)) = stack.pop() {
        deepest = deepest.max(d);
        for c in n["children"].as_array().unwrap() {
            stack.push((c, d + 1));
        }
    }
    deepest
}

#[tokio::test]
async fn a_3000_deep_privilege_tree_is_refused_at_creation_and_the_server_keeps_serving() {
    let s = TestServer::start().await;
    s.op_post(
        "/v1/tenants",
        json!({"id": "other", "profile": "horizon-contact"}),
    )
    .await;
    // The reported profile: ~3,000 nested privileges, accepted before, whose catalog
    // then overflowed the stack and aborted the process.
    let text = privilege_chain(3_000);
    assert!(text.len() > 240_000, "{} bytes", text.len());
    let r = s
        .post(
            "/v1/tenants",
            &s.op,
            json!({"id": "deep", "profile_text": text}),
        )
        .await;
    let at = format!("profile_text:{}", pos_of(&text, "\"p65\""));
    assert_error(
        &r,
        422,
        Some("invalid"),
        &[&at, "privilege tree deeper than 64 levels", "`p64` > `p65`"],
    );
    // Nothing was created, and the server serves the other tenant.
    s.get("/v1/tenants/deep/catalog", &s.op).await.expect(404);
    let c = s.get("/v1/tenants/other/catalog", &s.op).await;
    c.expect(200);
    assert!(nesting(&c.body) >= 1);
}

#[tokio::test]
async fn a_60_deep_privilege_tree_loads_and_serves_its_catalog() {
    let s = TestServer::start().await;
    let text = privilege_chain(60);
    s.post(
        "/v1/tenants",
        &s.op,
        json!({"id": "deep", "profile_text": text}),
    )
    .await
    .expect(201);
    let c = s.get("/v1/tenants/deep/catalog", &s.op).await;
    c.expect(200);
    assert_eq!(nesting(&c.body), 60);
    // And decides through the whole tree: holding the top holds the deepest.
    s.op_post("/v1/tenants/deep/users", json!({"id": "alice"}))
        .await;
    s.op_post(
        "/v1/tenants/deep/assignments",
        json!({"principal": "alice", "role": "top"}),
    )
    .await;
    let r = s
        .post(
            "/v1/tenants/deep/check",
            &s.op,
            json!({"principal": "alice", "action": "deepest", "resource": {"type": "tenant", "id": "deep"}}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["allowed"], true, "{}", r.text);
}

#[tokio::test]
async fn ten_thousand_chained_roles_make_a_tenant() {
    let s = TestServer::start().await;
    let mut text = HEAD.to_owned();
    text.push_str("[[privilege]]\nid = \"p\"\nparent = \"s\"\n");
    text.push_str("[[role]]\nid = \"r0\"\ngrants = { p = true }\n");
    for i in 1..10_000 {
        text.push_str(&format!(
            "[[role]]\nid = \"r{i}\"\nincludes = [\"r{}\"]\n",
            i - 1
        ));
    }
    text.push_str("[[action]]\nid = \"use_p\"\nresource = \"tenant\"\nrequires = 'has(\"p\")'\n");
    s.post(
        "/v1/tenants",
        &s.op,
        json!({"id": "chain", "profile_text": text}),
    )
    .await
    .expect(201);
    s.op_post("/v1/tenants/chain/users", json!({"id": "alice"}))
        .await;
    s.op_post(
        "/v1/tenants/chain/assignments",
        json!({"principal": "alice", "role": "r9999"}),
    )
    .await;
    let r = s
        .post(
            "/v1/tenants/chain/check",
            &s.op,
            json!({"principal": "alice", "action": "use_p", "resource": {"type": "tenant", "id": "chain"}}),
        )
        .await;
    assert_eq!(r.body["allowed"], true, "{}", r.text);
}

/// A tenant whose one action reads the context and is sensitive (its decisions are
/// audited), with a user.
async fn context_tenant(s: &TestServer) {
    let text = format!(
        "{HEAD}[[privilege]]\nid = \"listen\"\nparent = \"s\"\n[[role]]\nid = \"agent\"\ngrants = {{ listen = true }}\n\
         [[action]]\nid = \"listen\"\nresource = \"tenant\"\nsensitive = true\nrequires = 'has(\"listen\") and context.channel == \"voice\"'\n"
    );
    s.post(
        "/v1/tenants",
        &s.op,
        json!({"id": "t", "profile_text": text}),
    )
    .await
    .expect(201);
    s.op_post("/v1/tenants/t/users", json!({"id": "alice"}))
        .await;
    s.op_post(
        "/v1/tenants/t/assignments",
        json!({"principal": "alice", "role": "agent"}),
    )
    .await;
}

fn check(context: Value) -> Value {
    json!({"principal": "alice", "action": "listen", "resource": {"type": "tenant", "id": "t"}, "context": context})
}

async fn audit_len(s: &TestServer) -> usize {
    let r = s.get("/v1/tenants/t/audit?limit=10000", &s.op).await;
    r.expect(200);
    r.body["entries"].as_array().unwrap().len()
}

#[tokio::test]
async fn an_oversize_context_is_refused_naming_the_key_and_nothing_is_written() {
    let s = TestServer::start().await;
    context_tenant(&s).await;
    let ok = s
        .post(
            "/v1/tenants/t/check",
            &s.op,
            check(json!({"channel": "voice"})),
        )
        .await;
    ok.expect(200);
    assert_eq!(ok.body["allowed"], true, "{}", ok.text);
    let audited = audit_len(&s).await;

    // One value over 4 KiB (the reported case was a 1 MiB string, within the body limit).
    let big = "x".repeat(1_000_000);
    for route in ["/check", "/explain"] {
        let r = s
            .post(
                &format!("/v1/tenants/t{route}"),
                &s.op,
                check(json!({"channel": "voice", "note": big})),
            )
            .await;
        assert_error(
            &r,
            400,
            Some("bad_request"),
            &[
                "context value `note`",
                "1,000,000 bytes",
                "the limit is 4 KiB per value",
            ],
        );
    }
    // Keys and values together over 16 KiB.
    let mut many = serde_json::Map::new();
    many.insert("channel".into(), json!("voice"));
    for i in 0..5 {
        many.insert(format!("k{i}"), json!("y".repeat(4_000)));
    }
    let r = s
        .post(
            "/v1/tenants/t/check",
            &s.op,
            check(Value::Object(many.clone())),
        )
        .await;
    assert_error(
        &r,
        400,
        Some("bad_request"),
        &["context exceeds the limit of 16 KiB", "at key `k4`"],
    );
    // In a batch, the check is named.
    let r = s
        .post(
            "/v1/tenants/t/check/batch",
            &s.op,
            json!({"checks": [check(json!({"channel": "voice"})), check(Value::Object(many))]}),
        )
        .await;
    assert_error(&r, 400, Some("bad_request"), &["check 1: context exceeds"]);
    // Nothing was decided, so nothing was audited.
    assert_eq!(audit_len(&s).await, audited);
}

#[tokio::test]
async fn the_limits_are_settings_of_the_deployment() {
    let s = TestServer::start_with(|c| {
        c.body_limit = 4 * 1024 * 1024;
        c.max_context_value_bytes = 2 * 1024 * 1024;
        c.max_context_bytes = 2 * 1024 * 1024 + 64;
        c.max_profile_bytes = 2_000;
        c.max_expression_terms = 3;
    })
    .await;
    context_tenant(&s).await;
    // A 1 MiB value is within this deployment's limits.
    let r = s
        .post(
            "/v1/tenants/t/check",
            &s.op,
            check(json!({"channel": "voice", "note": "x".repeat(1024 * 1024)})),
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["allowed"], true, "{}", r.text);
    // A profile over its text limit, and one over its term limit.
    let text = privilege_chain(30);
    let r = s
        .post(
            "/v1/tenants",
            &s.op,
            json!({"id": "big", "profile_text": text}),
        )
        .await;
    assert_error(
        &r,
        422,
        Some("invalid"),
        &["profile_text:1:1:", "the limit is 2,000 bytes"],
    );
    let text = format!(
        "{HEAD}[[privilege]]\nid = \"p\"\nparent = \"s\"\n[[action]]\nid = \"a\"\nresource = \"tenant\"\nrequires = 'has(\"p\") or has(\"p\") or has(\"p\")'\n"
    );
    let r = s
        .post(
            "/v1/tenants",
            &s.op,
            json!({"id": "terms", "profile_text": text}),
        )
        .await;
    let at = format!("profile_text:{}", pos_of(&text, "has(\"p\")'"));
    assert_error(
        &r,
        422,
        Some("invalid"),
        &[&at, "expression has more than 3 terms"],
    );
}
