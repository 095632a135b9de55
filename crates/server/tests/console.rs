//! The admin console's static files, `GET /v1/whoami`, and the catalog fields the
//! console's role editor relies on (role types with caps and locked grants, actions
//! with menus, attributes and invariants).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use reqwest::Method;
use serde_json::json;
use support::{TestServer, assert_error};

async fn raw_get(s: &TestServer, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut rb = s.client.get(format!("{}{path}", s.base));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().await.unwrap()
}

#[tokio::test]
async fn the_page_and_its_files_are_served_with_types_caching_and_a_strict_policy() {
    let s = TestServer::start().await;
    let res = raw_get(&s, "/", &[]).await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    assert_eq!(h["cache-control"], "no-cache");
    let csp = h["content-security-policy"].to_str().unwrap();
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp} lacks {part}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"<script type="module" src="/console/app.js"></script>"#));
    // Nothing inline that the policy would block.
    assert!(!html.contains("<script>") && !html.contains(" style=") && !html.contains(" onclick="));

    for (file, ty) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("page-roles.js", "text/javascript; charset=utf-8"),
        ("console.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let res = raw_get(&s, &format!("/console/{file}"), &[]).await;
        assert_eq!(res.status(), 200, "{file}");
        assert_eq!(res.headers()["content-type"], ty, "{file}");
        assert!(res.headers().contains_key("content-security-policy"));
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        // Revalidation: the same ETag answers 304 with no body.
        let again = raw_get(&s, &format!("/console/{file}"), &[("if-none-match", &etag)]).await;
        assert_eq!(again.status(), 304, "{file}");
        assert!(again.bytes().await.unwrap().is_empty());
    }
    // Unknown files are the API's JSON 404; paths cannot climb out.
    for path in ["/console/nope.js", "/console/..%2FCargo.toml", "/console/"] {
        let r = s.call(Method::GET, path, None, None).await;
        assert_error(&r, 404, Some("not_found"), &[]);
    }
}

#[tokio::test]
async fn the_console_holds_no_data_and_needs_no_token_but_the_api_does() {
    let s = TestServer::start().await;
    s.tenant("t", "horizon-contact").await;
    let page = raw_get(&s, "/", &[]).await.text().await.unwrap();
    assert!(!page.contains("horizon"), "the page embeds no tenant data");
    let r = s.call(Method::GET, "/v1/tenants/t/roles", None, None).await;
    assert_error(&r, 401, Some("unauthorized"), &["Authorization"]);
}

#[tokio::test]
async fn whoami_tells_a_token_what_it_is() {
    let s = TestServer::start().await;
    s.tenant("t", "horizon-contact").await;
    s.user("t", "alice", None).await;
    let r = s.get("/v1/whoami", &s.op).await;
    r.expect(200);
    assert_eq!(r.body["operator"], json!(true));
    assert_eq!(r.body["tenant"], json!(null));
    assert_eq!(r.body["principal"], json!(null));
    assert!(r.body["token"].as_str().unwrap().starts_with("tok_"));

    let alice = s.mint("t", "alice").await;
    let r = s.get("/v1/whoami", &alice).await;
    r.expect(200);
    assert_eq!(r.body["operator"], json!(false));
    assert_eq!(r.body["kind"], json!("user"));
    assert_eq!(r.body["tenant"], json!("t"));
    assert_eq!(r.body["principal"], json!("alice"));
    // Alice holds no role: every management operation is out of her reach.
    let caps = r.body["capabilities"].as_object().unwrap();
    assert_eq!(caps.len(), rolecall_core::profile::MANAGEMENT_OPS.len());
    assert!(caps.values().all(|v| v == "none"), "{caps:?}");
    assert!(!r.text.contains(&alice), "the secret is never echoed");

    let r = s.call(Method::GET, "/v1/whoami", None, None).await;
    assert_error(&r, 401, Some("unauthorized"), &["Authorization"]);
    let r = s.get("/v1/whoami", "rc_nope").await;
    assert_error(&r, 401, Some("unauthorized"), &["token"]);
    let r = s.get("/v1/whoami?x=1", &alice).await;
    assert_error(&r, 400, Some("bad_request"), &["invalid query string"]);
}

#[tokio::test]
async fn whoami_and_the_catalog_fields_are_in_the_openapi_description() {
    let s = TestServer::start().await;
    let r = s.call(Method::GET, "/openapi.json", None, None).await;
    r.expect(200);
    assert!(r.body["paths"]["/v1/whoami"]["get"].is_object());
    let catalog = &r.body["components"]["schemas"]["Catalog"]["properties"];
    for field in [
        "sections",
        "role_types",
        "actions",
        "types",
        "org_kinds",
        "invariants",
        "privilege_details",
    ] {
        assert!(
            catalog[field].is_object(),
            "Catalog.{field} is not described"
        );
    }
    assert!(
        r.body["paths"].get("/").is_none(),
        "the console is not part of the API"
    );
}

#[tokio::test]
async fn the_catalog_tells_the_editor_about_caps_locks_menus_and_rules() {
    let s = TestServer::start().await;
    s.tenant("goto", "goto-contact-center").await;
    s.tenant("pp", "phones-pro").await;
    s.tenant("hz", "horizon-contact").await;

    let c = s.get("/v1/tenants/goto/catalog", &s.op).await;
    c.expect(200);
    let types = c.body["role_types"].as_array().unwrap();
    let sup = types.iter().find(|t| t["id"] == "supervisor").unwrap();
    assert_eq!(sup["locked"], json!({"view_queue_settings": true}));
    assert_eq!(sup["defaults"], json!({"limit_assigned_queues": true}));
    let cap = sup["cap"].as_array().unwrap();
    assert!(cap.contains(&json!("listen_live_calls")));
    assert!(!cap.contains(&json!("create_custom_tags")));
    let admin = types.iter().find(|t| t["id"] == "contact_admin").unwrap();
    assert_eq!(admin["cap"], json!(null), "no cap: any privilege");
    let perms = c.body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "permissions.edit")
        .unwrap()
        .clone();
    assert_eq!(perms["resource"], "tenant");
    assert_eq!(
        perms["menu"],
        "Contact Center > Admin > General settings > Permissions"
    );

    let c = s.get("/v1/tenants/pp/catalog", &s.op).await;
    assert_eq!(
        c.body["invariants"][0],
        json!({"kind": "monotonic", "type": "user", "attribute": "seat_level",
               "reason": c.body["invariants"][0]["reason"]})
    );
    let user = c.body["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "user")
        .unwrap()
        .clone();
    assert_eq!(
        user["attributes"][0],
        json!({"name": "seat_level", "type": "string", "values": ["standard", "advanced"], "default": "standard"})
    );
    assert!(
        c.body["org_kinds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == "company" && k["parents"] == json!([]))
    );

    let c = s.get("/v1/tenants/hz/catalog", &s.op).await;
    let details = c.body["privilege_details"].as_array().unwrap();
    let portal = details
        .iter()
        .find(|d| d["id"] == "supervisor_portal")
        .unwrap();
    // "Queues Only" and an Agents value may be ticked together (no value includes another).
    assert_eq!(portal["multiple"], json!(true));
    assert!(portal["implies"].is_object());
    let timeout = details
        .iter()
        .find(|d| d["id"] == "auto_logout_timeout")
        .unwrap();
    assert_eq!(timeout["min"], json!(60));
    assert_eq!(timeout["max"], json!(86400));
    assert_eq!(timeout["unit"], json!("seconds"));
}
