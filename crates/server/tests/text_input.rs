//! Control characters in stored text (issue 13): NUL and the other control characters
//! are refused with 400 naming the field on SQLite and PostgreSQL alike (PostgreSQL
//! cannot store NUL; before, it answered 500 there and stored it on SQLite), and
//! nothing is written. Descriptions may hold tabs and line breaks.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use serde_json::{Value, json};
use support::{Backend, TestServer, assert_error};

const T: &str = "t";

/// Every bad write: path, method, body, words the error must name.
fn bad_writes() -> Vec<(&'static str, String, Value, Vec<&'static str>)> {
    let t = format!("/v1/tenants/{T}");
    vec![
        (
            "POST",
            format!("{t}/users"),
            json!({"id": "nul", "name": "Null\u{0}Byte", "org_unit": "s1"}),
            vec!["`name` of user `nul`", "U+0000"],
        ),
        (
            "PUT",
            format!("{t}/users/alice"),
            json!({"name": "Alice\u{1b}[31m"}),
            vec!["`name` of user `alice`", "U+001B"],
        ),
        (
            "POST",
            format!("{t}/groups"),
            json!({"id": "g2", "name": "tab\there"}),
            vec!["`name` of group `g2`"],
        ),
        (
            "PUT",
            format!("{t}/resources/conversation/c9"),
            json!({"attributes": {"channel": "call\u{0}"}}),
            vec!["attribute `channel` of conversation `c9`"],
        ),
        (
            "POST",
            format!("{t}/roles"),
            json!({"id": "r2", "copy_of": "agent", "name": "Role\u{0}"}),
            vec!["`name` of role `r2`"],
        ),
        (
            "POST",
            format!("{t}/roles"),
            json!({"id": "r3", "copy_of": "agent", "description": "bell\u{7}"}),
            vec!["`description` of role `r3`", "U+0007"],
        ),
        (
            "POST",
            format!("{t}/sod-rules"),
            json!({"id": "sod1", "name": "x\u{85}", "roles": ["agent", "administrator"]}),
            vec!["`name` of separation-of-duty rule `sod1`", "U+0085"],
        ),
        (
            "POST",
            "/v1/tenants".to_owned(),
            json!({"id": "t2", "name": "Acme\u{0}", "profile": "horizon-contact"}),
            vec!["`name` of the tenant"],
        ),
    ]
}

async fn refused_everywhere(backend: Backend) {
    let s = TestServer::start_on(backend).await;
    s.tenant(T, "horizon-contact").await;
    s.org_unit(T, "acme", "company", None).await;
    s.org_unit(T, "s1", "site", Some("acme")).await;
    s.user(T, "alice", Some("s1")).await;
    let rev = s.revision(T).await;
    for (method, path, body, needles) in bad_writes() {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = s.call(m, &path, Some(&s.op), Some(&body)).await;
        if let Err(e) = support::check_error(&r, 400, Some("bad_request"), &needles) {
            panic!("{backend:?} {method} {path} {body}: {e}");
        }
    }
    // Nothing was written.
    assert_eq!(
        s.revision(T).await,
        rev,
        "a refused write changed the tenant"
    );
    let r = s.get(&format!("/v1/tenants/{T}/users/nul"), &s.op).await;
    assert_error(&r, 404, Some("not_found"), &[]);
    let r = s.get(&format!("/v1/tenants/{T}/users/alice"), &s.op).await;
    assert_eq!(r.body["name"], json!("User alice"), "{}", r.text);
    let r = s.get("/v1/tenants/t2", &s.op).await;
    assert_error(&r, 404, Some("not_found"), &[]);
    // Descriptions may hold tabs and line breaks; other text plain Unicode.
    s.op_post(
        &format!("/v1/tenants/{T}/roles"),
        json!({"id": "r4", "copy_of": "agent", "name": "Équipe 🎧", "description": "line one\n\tline two\r\n"}),
    )
    .await
    .expect(201);
    let r = s.get(&format!("/v1/tenants/{T}/roles/r4"), &s.op).await;
    assert_eq!(r.body["description"], json!("line one\n\tline two\r\n"));
    assert_eq!(r.body["name"], json!("Équipe 🎧"));
}

#[tokio::test]
async fn control_characters_are_refused_on_sqlite() {
    refused_everywhere(Backend::Sqlite).await;
}

#[tokio::test]
async fn control_characters_are_refused_on_postgres() {
    refused_everywhere(Backend::Postgres).await;
}
