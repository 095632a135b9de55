//! A token dies with its user (issue 13): deleting a user revokes its tokens and the
//! service credentials acting as it, in the deletion's transaction and audited; a user
//! re-created under the same id inherits none of them; a token whose user is missing
//! is refused at authentication. On both backends. Each test failed before the fix.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use serde_json::json;
use support::{Backend, TestServer};

const T: &str = "/v1/tenants/acme";

async fn whoami(s: &TestServer, token: &str) -> u16 {
    s.get("/v1/whoami", token).await.status
}

async fn deleted_users_tokens_die(backend: Backend) {
    let s = TestServer::start_on(backend).await;
    s.tenant("acme", "goto-contact-center").await;
    s.user("acme", "alice", None).await;
    s.user("acme", "bob", None).await;
    s.assign("acme", "alice", "contact_admin", None).await;
    let alice = s.mint("acme", "alice").await;
    let bob = s.mint("acme", "bob").await;
    let cred = s
        .op_post(
            &format!("{T}/credentials"),
            json!({"name": "crm", "abilities": ["read", "write"], "principal": "alice"}),
        )
        .await;
    cred.expect(201);
    let cred_secret = cred.body["token"].as_str().unwrap().to_owned();
    let cred_id = cred.body["id"].as_str().unwrap().to_owned();
    // Used once, so that the cache holds them.
    assert_eq!(whoami(&s, &alice).await, 200);
    assert_eq!(whoami(&s, &cred_secret).await, 200);
    let users = s.get(&format!("{T}/users"), &alice).await;
    users.expect(200);

    s.delete(&format!("{T}/users/alice"), &s.op)
        .await
        .expect(200);
    assert_eq!(whoami(&s, &alice).await, 401, "a deleted user's token");
    assert_eq!(
        s.get(&format!("{T}/users"), &alice).await.status,
        401,
        "a deleted user's token lists users"
    );
    assert_eq!(
        whoami(&s, &cred_secret).await,
        401,
        "a credential acting as a deleted user"
    );
    assert_eq!(whoami(&s, &bob).await, 200, "another user's token lives on");

    // The revocations are in the deletion's revision, after its own entry.
    let audit = s.get(&format!("{T}/audit?limit=1000"), &s.op).await;
    let entries = audit.body["entries"].as_array().unwrap();
    let deleted = entries
        .iter()
        .find(|e| e["action"] == "user.delete" && e["target"] == "user:alice")
        .expect("the user.delete entry");
    let revision = &deleted["revision"];
    let revoked: Vec<(&str, &str)> = entries
        .iter()
        .filter(|e| e["revision"] == *revision && e["action"] != "user.delete")
        .filter(|e| e["action"] != "assignment.delete")
        .map(|e| (e["action"].as_str().unwrap(), e["target"].as_str().unwrap()))
        .collect();
    let cred_target = format!("credential:{cred_id}");
    assert!(
        revoked.contains(&("token.revoke", "user:alice"))
            && revoked.contains(&("credential.revoke", cred_target.as_str())),
        "revocations audited with the deletion: {revoked:?}"
    );
    assert!(
        entries
            .iter()
            .filter(|e| e["action"] == "token.revoke" && e["target"] == "user:alice")
            .all(|e| e["before"]["reason"] == "user deleted")
    );
    let v = s.get(&format!("{T}/audit/verify"), &s.op).await;
    assert_eq!(v.body["intact"], true, "{}", v.text);

    // The same id again: the old token and credential stay dead, a new token works.
    s.user("acme", "alice", None).await;
    s.assign("acme", "alice", "contact_admin", None).await;
    assert_eq!(
        whoami(&s, &alice).await,
        401,
        "the re-created id's old token"
    );
    assert_eq!(whoami(&s, &cred_secret).await, 401);
    let fresh = s.mint("acme", "alice").await;
    assert_eq!(whoami(&s, &fresh).await, 200);
}

#[tokio::test]
async fn deleted_users_tokens_die_sqlite() {
    deleted_users_tokens_die(Backend::Sqlite).await;
}

#[tokio::test]
async fn deleted_users_tokens_die_postgres() {
    deleted_users_tokens_die(Backend::Postgres).await;
}

/// A token row naming a user the tenant does not have (written behind the store's
/// back: the store itself refuses to store one) is refused at authentication.
async fn token_without_user_is_refused(backend: Backend) {
    let s = TestServer::start_on(backend).await;
    s.tenant("acme", "goto-contact-center").await;
    let secret = "rc_ghost-token-secret";
    let hash = rolecall_engine::tokens::hash_secret(secret);
    let n = s
        .raw_sql(&format!(
            "INSERT INTO tokens (id, hash, tenant, principal, created_at, revoked) \
             VALUES ('tok_ghost', '{hash}', 'acme', 'ghost', 0, FALSE)"
        ))
        .await;
    assert_eq!(n, 1);
    assert_eq!(whoami(&s, secret).await, 401);
    // The user appears: the token is that user's again (it was never revoked).
    s.user("acme", "ghost", None).await;
    assert_eq!(whoami(&s, secret).await, 200);
}

#[tokio::test]
async fn token_without_user_is_refused_sqlite() {
    token_without_user_is_refused(Backend::Sqlite).await;
}

#[tokio::test]
async fn token_without_user_is_refused_postgres() {
    token_without_user_is_refused(Backend::Postgres).await;
}
