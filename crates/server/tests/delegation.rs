//! Delegation ceilings through the API, as the seeds' own administrators: GoTo's
//! Contact Admin configures Supervisor and Agent roles she does not use herself (the
//! role type's cap bounds her), gives them, and turns the supervisors' queue limit —
//! a restriction — on or off; a Contact Admin-type role stays bounded by her own
//! holdings, and every refusal names the ceiling that refused it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use serde_json::json;
use support::{TestServer, assert_error};

const GOTO: &str = "demo-goto-contact-center";

fn path(rest: &str) -> String {
    format!("/v1/tenants/{GOTO}{rest}")
}

async fn demo() -> TestServer {
    TestServer::start_with(|c| c.demo = true).await
}

#[tokio::test]
async fn goto_contact_admin_configures_permissions_per_role() {
    // "Contact Center Permissions: Choose and configure permissions per role rather than
    // per user." (seed 003)
    let s = demo().await;
    let admin = s.mint(GOTO, "admin").await;
    // A copy of the Supervisor template: the type's locked "View the settings of a call
    // queue" and default "Limit access to assigned call queues" are not hers to give.
    s.post(
        &path("/roles"),
        &admin,
        json!({"id": "sup-copy", "copy_of": "supervisor"}),
    )
    .await
    .expect(201);
    // A Supervisor role with the Supervisor tab's boxes, the limit unchecked: "If
    // unchecked, supervisors can access all call queues".
    s.post(
        &path("/roles"),
        &admin,
        json!({"id": "open-sup", "type": "supervisor", "grants": {
            "Limit access to assigned call queues": false,
            "Manage the settings of a call queue": true,
            "Listen into live calls": true,
            "Manage skills and skills assignment of agents": true}}),
    )
    .await
    .expect(201);
    // An Agent role with the Agent tab's boxes.
    s.post(
        &path("/roles"),
        &admin,
        json!({"id": "chat-agent", "type": "agent", "grants": {
            "Serve callers through assigned queues or ring groups": true,
            "Create custom tags": true,
            "Manage pre-recorded messages": true}}),
    )
    .await
    .expect(201);
    // Within the cap only: an Agent role cannot listen in.
    let r = s
        .post(
            &path("/roles"),
            &admin,
            json!({"id": "bad-agent", "type": "agent",
                   "grants": {"Listen into live calls": true}}),
        )
        .await;
    assert_error(&r, 422, Some("invalid"), &["outside that type's cap"]);
    // "The Contact Admin role can ... assign users to queues as Agents and/or
    // Supervisors": she gives the roles she configured.
    s.op_post(&path("/users"), json!({"id": "newsup"})).await;
    s.post(
        &path("/assignments"),
        &admin,
        json!({"principal": "newsup", "role": "open-sup"}),
    )
    .await
    .expect(201);
    s.post(
        &path("/assignments"),
        &admin,
        json!({"principal": "newsup", "role": "supervisor"}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn goto_contact_admin_roles_stay_within_her_holdings_and_say_why() {
    let s = demo().await;
    let admin = s.mint(GOTO, "admin").await;
    // A Contact Admin-type role has no cap: the ceiling is what she holds herself.
    let r = s
        .post(
            &path("/roles"),
            &admin,
            json!({"id": "super-admin", "type": "contact_admin", "grants": {
                "Choose and configure permissions per role": true,
                "Manage pre-recorded messages": true}}),
        )
        .await;
    assert_error(
        &r,
        403,
        Some("forbidden"),
        &[
            "Manage pre-recorded messages",
            "does not hold tenant-wide",
            "ceiling for defining roles is what the granter holds",
        ],
    );
    // A supervisor cannot configure roles at all: the permissions tab is the admin's.
    let sup = s.mint(GOTO, "supervisor").await;
    let r = s
        .post(
            &path("/roles"),
            &sup,
            json!({"id": "mine", "type": "agent", "grants": {}}),
        )
        .await;
    assert_error(&r, 403, Some("forbidden"), &[]);
}

#[tokio::test]
async fn a_limited_supervisor_cannot_lift_her_own_limit() {
    // Under the holdings ceiling, leaving out a restriction that binds the granter is
    // an escalation. A Contact Admin-type role in a test tenant whose custom Contact
    // Admin also carries the supervisors' limit (an odd but possible setup).
    let s = demo().await;
    s.op_post(
        &path("/roles"),
        json!({"id": "limited-admin", "type": "contact_admin", "grants": {
            "Choose and configure permissions per role": true,
            "Limit access to assigned call queues": true}}),
    )
    .await;
    s.op_post(&path("/users"), json!({"id": "la"})).await;
    s.op_post(
        &path("/assignments"),
        json!({"principal": "la", "role": "limited-admin"}),
    )
    .await;
    let la = s.mint(GOTO, "la").await;
    let r = s
        .post(
            &path("/roles"),
            &la,
            json!({"id": "unlimited-admin", "type": "contact_admin", "grants": {
                "Choose and configure permissions per role": true}}),
        )
        .await;
    assert_error(
        &r,
        403,
        Some("forbidden"),
        &["Limit access to assigned call queues", "would lift it"],
    );
    // Keeping the restriction is fine; adding one never counts as escalation.
    s.post(
        &path("/roles"),
        &la,
        json!({"id": "still-limited", "type": "contact_admin", "grants": {
            "Choose and configure permissions per role": true,
            "Limit access to assigned call queues": true}}),
    )
    .await
    .expect(201);
}
