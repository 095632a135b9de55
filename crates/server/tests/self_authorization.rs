//! Management decided by the tenant's own profile: who may edit roles, give roles, and
//! manage users, by the profile's `[management]` table and appointment rules; and
//! nobody grants what they do not hold (anti-escalation), over any scope — unless the
//! profile declares another ceiling (Horizon's, in `horizon_delegation.rs`). Every
//! refusal leaves the tenant's revision unchanged.

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
use support::{Resp, TestServer, assert_error};

/// Sends a request that must be refused with `status` and a message naming every one
/// of `needles`, and checks that the tenant's revision did not move.
#[allow(
    clippy::too_many_arguments,
    reason = "a request and its expected refusal"
)]
async fn refused(
    s: &TestServer,
    tenant: &str,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    status: u16,
    needles: &[&str],
) -> Resp {
    let before = s.revision(tenant).await;
    let r = s
        .call(
            method.clone(),
            &format!("/v1/tenants/{tenant}{path}"),
            Some(token),
            body.as_ref(),
        )
        .await;
    if let Err(e) = support::check_error(&r, status, None, needles) {
        panic!("{method} {path}: {e}");
    }
    assert_eq!(
        s.revision(tenant).await,
        before,
        "{method} {path} was refused but wrote something"
    );
    r
}

/// Sends a request that must succeed with `status`.
async fn allowed(
    s: &TestServer,
    tenant: &str,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    status: u16,
) -> Resp {
    let r = s
        .call(
            method.clone(),
            &format!("/v1/tenants/{tenant}{path}"),
            Some(token),
            body.as_ref(),
        )
        .await;
    assert_eq!(r.status, status, "{method} {path}: {}", r.text);
    r
}

/// Accepts the authorization message naming a privilege at a level either as
/// `Name: Level` or as the requirement `has("Name", "Level")`.
fn names_level(r: &Resp, name: &str, level: &str) {
    let m = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        m.contains(&format!("{name}: {level}"))
            || m.contains(&format!("has(\"{name}\", \"{level}\")")),
        "the refusal does not name `{name}: {level}`: {m}"
    );
}

const H: &str = "h";

struct Horizon {
    s: TestServer,
    admin: String,
    agent1: String,
    lead: String,
    helper: String,
}

/// horizon-contact: an administrator, an agent, a site administrator (`lead`: the
/// administrator and agent roles over site s1 only) and a role manager without "Assign
/// Roles" (`helper`).
async fn horizon() -> Horizon {
    let s = TestServer::start().await;
    s.tenant(H, "horizon-contact").await;
    s.org_unit(H, "acme", "company", None).await;
    s.org_unit(H, "s1", "site", Some("acme")).await;
    s.org_unit(H, "s2", "site", Some("acme")).await;
    for u in ["admin", "agent1", "lead", "helper", "u1"] {
        s.user(H, u, Some("s1")).await;
    }
    s.user(H, "u2", Some("s2")).await;
    s.op_post(
        &format!("/v1/tenants/{H}/queues"),
        json!({"id": "q1", "org_unit": "s1"}),
    )
    .await;
    s.op_post(
        &format!("/v1/tenants/{H}/queues"),
        json!({"id": "q2", "org_unit": "s2"}),
    )
    .await;
    for (id, grants) in [
        ("role_mgr", json!({"Roles": "Modify", "Users": "Modify"})),
        ("pickup_only", json!({"Queue Call Pickup": true})),
        ("clerk", json!({"Roles": "View only"})),
    ] {
        s.op_post(
            &format!("/v1/tenants/{H}/roles"),
            json!({"id": id, "grants": grants}),
        )
        .await;
    }
    s.assign(H, "admin", "administrator", None).await;
    s.assign(H, "agent1", "agent", None).await;
    let s1 = json!({"org_units": ["s1"]});
    s.assign(H, "lead", "administrator", Some(s1.clone())).await;
    s.assign(H, "lead", "agent", Some(s1)).await;
    s.assign(H, "helper", "role_mgr", None).await;
    let admin = s.mint(H, "admin").await;
    let agent1 = s.mint(H, "agent1").await;
    let lead = s.mint(H, "lead").await;
    let helper = s.mint(H, "helper").await;
    Horizon {
        s,
        admin,
        agent1,
        lead,
        helper,
    }
}

#[tokio::test]
async fn horizon_role_edits_need_roles_modify() {
    let h = horizon().await;
    let s = &h.s;
    // An agent may not create, edit or delete roles: `Roles: Modify` is named.
    let r = refused(
        s,
        H,
        Method::POST,
        "/roles",
        &h.agent1,
        Some(json!({"id": "mine", "copy_of": "agent"})),
        403,
        &["staff.roles.manage"],
    )
    .await;
    names_level(&r, "Roles", "Modify");
    let r = refused(
        s,
        H,
        Method::PUT,
        "/roles/clerk",
        &h.agent1,
        Some(json!({"version": 1, "grants": {}})),
        403,
        &[],
    )
    .await;
    names_level(&r, "Roles", "Modify");
    let r = refused(
        s,
        H,
        Method::DELETE,
        "/roles/clerk",
        &h.agent1,
        None,
        403,
        &[],
    )
    .await;
    names_level(&r, "Roles", "Modify");
    // Administering one site is not administering the company: roles are tenant-wide.
    let r = refused(
        s,
        H,
        Method::POST,
        "/roles",
        &h.lead,
        Some(json!({"id": "mine", "grants": {"Queue Call Pickup": true}})),
        403,
        &[],
    )
    .await;
    names_level(&r, "Roles", "Modify");

    // An administrator may.
    let r = allowed(
        s,
        H,
        Method::POST,
        "/roles",
        &h.admin,
        Some(json!({"id": "reports_editor", "grants": {"Reports": "View only"}})),
        201,
    )
    .await;
    let rev = r.revision();
    let r = allowed(
        s,
        H,
        Method::PUT,
        "/roles/reports_editor",
        &h.admin,
        Some(json!({"version": 1, "grants": {"Reports": "Modify"}})),
        200,
    )
    .await;
    assert_eq!(r.revision(), rev + 1);
    let r = s
        .get(&format!("/v1/tenants/{H}/roles/reports_editor"), &h.admin)
        .await;
    assert_eq!(r.body["version"], json!(2), "{}", r.text);
    assert_eq!(r.body["grants"]["reports"], json!("Modify"), "{}", r.text);
    allowed(
        s,
        H,
        Method::DELETE,
        "/roles/reports_editor",
        &h.admin,
        None,
        200,
    )
    .await;
    // And so may a role manager without "Assign Roles", within what it holds.
    allowed(
        s,
        H,
        Method::POST,
        "/roles",
        &h.helper,
        Some(json!({"id": "viewer", "grants": {"Users": "View only"}})),
        201,
    )
    .await;
}

#[tokio::test]
async fn horizon_assignments_need_users_modify_and_assign_roles() {
    let h = horizon().await;
    let s = &h.s;
    // `helper` holds Roles: Modify and Users: Modify, not "Modify and Assign Roles".
    for who in [&h.helper, &h.agent1] {
        let r = refused(
            s,
            H,
            Method::POST,
            "/assignments",
            who,
            Some(json!({"principal": "u1", "role": "clerk"})),
            403,
            &["staff.users.assign_roles"],
        )
        .await;
        names_level(&r, "Users", "Modify and Assign Roles");
    }
    // An administrator may give a role within what it holds, and take it back.
    allowed(
        s,
        H,
        Method::POST,
        "/assignments",
        &h.admin,
        Some(json!({"id": "as_clerk", "principal": "u1", "role": "clerk"})),
        201,
    )
    .await;
    let r = refused(
        s,
        H,
        Method::DELETE,
        "/assignments/as_clerk",
        &h.helper,
        None,
        403,
        &[],
    )
    .await;
    names_level(&r, "Users", "Modify and Assign Roles");
    allowed(
        s,
        H,
        Method::DELETE,
        "/assignments/as_clerk",
        &h.admin,
        None,
        200,
    )
    .await;
}

/// Horizon bounds what a role edit or an assignment may give by what its templates hold
/// together (`[[delegation]]` in the profile; the seed's "Assign roles to user logins —
/// Users: Modify and Assign Roles" asks the giver to hold nothing the role holds, see
/// `horizon_delegation.rs`), not by the giver's holdings. What stays: a giver reaches
/// only the users and the scope of its own "Users: Modify and Assign Roles". `lead`
/// administers site s1 (and is an agent there); not s2, not the tenant.
#[tokio::test]
async fn horizon_assignments_stay_within_the_givers_scope() {
    let h = horizon().await;
    let s = &h.s;
    allowed(
        s,
        H,
        Method::POST,
        "/assignments",
        &h.lead,
        Some(json!({"principal": "u1", "role": "pickup_only", "scope": {"org_units": ["s1"]}})),
        201,
    )
    .await;
    allowed(
        s,
        H,
        Method::POST,
        "/assignments",
        &h.lead,
        Some(json!({"principal": "u1", "role": "pickup_only", "scope": {"queues": ["q1"]}})),
        201,
    )
    .await;
    for scope in [
        json!({"org_units": ["s2"]}),
        json!({"org_units": ["s1", "s2"]}),
        json!({"org_units": ["acme"]}),
        json!({"queues": ["q2"]}),
        json!("tenant"),
    ] {
        refused(
            s,
            H,
            Method::POST,
            "/assignments",
            &h.lead,
            Some(json!({"principal": "u1", "role": "pickup_only", "scope": scope})),
            403,
            &[],
        )
        .await;
    }
    // No scope means the whole tenant.
    refused(
        s,
        H,
        Method::POST,
        "/assignments",
        &h.lead,
        Some(json!({"principal": "u1", "role": "pickup_only"})),
        403,
        &[],
    )
    .await;
    // A user of s2 is out of `lead`'s reach whatever the scope.
    let r = refused(
        s,
        H,
        Method::POST,
        "/assignments",
        &h.lead,
        Some(json!({"principal": "u2", "role": "pickup_only", "scope": {"org_units": ["s1"]}})),
        403,
        &[],
    )
    .await;
    names_level(&r, "Users", "Modify and Assign Roles");
}

const Z: &str = "z";

#[tokio::test]
async fn zoom_role_edits_need_role_management_edit() {
    let s = TestServer::start().await;
    s.tenant(Z, "zoom-contact-center").await;
    s.org_unit(Z, "acme", "company", None).await;
    s.org_unit(Z, "d1", "department", Some("acme")).await;
    for u in ["boss", "sup", "ag", "rm", "viewer", "u1", "u2"] {
        s.user(Z, u, Some("d1")).await;
    }
    for (id, grants) in [
        ("role_editor", json!({"RoleManagement": "Edit"})),
        ("role_viewer", json!({"RoleManagement": "Read"})),
        ("outbound_only", json!({"OutboundVoiceCall": true})),
    ] {
        s.op_post(
            &format!("/v1/tenants/{Z}/roles"),
            json!({"id": id, "grants": grants}),
        )
        .await;
    }
    s.assign(Z, "boss", "admin", None).await;
    s.assign(Z, "sup", "supervisor", None).await;
    s.assign(Z, "ag", "agent", None).await;
    s.assign(Z, "rm", "role_editor", None).await;
    s.assign(Z, "viewer", "role_viewer", None).await;
    let boss = s.mint(Z, "boss").await;
    let sup = s.mint(Z, "sup").await;
    let ag = s.mint(Z, "ag").await;
    let rm = s.mint(Z, "rm").await;
    let viewer = s.mint(Z, "viewer").await;

    for who in [&ag, &sup, &viewer] {
        let r = refused(
            &s,
            Z,
            Method::POST,
            "/roles",
            who,
            Some(json!({"id": "mine", "grants": {"RoleManagement": "Read"}})),
            403,
            &["roles.edit"],
        )
        .await;
        names_level(&r, "RoleManagement", "Edit");
        let r = refused(
            &s,
            Z,
            Method::PUT,
            "/roles/role_viewer",
            who,
            Some(json!({"version": 1, "grants": {"RoleManagement": "Read"}})),
            403,
            &[],
        )
        .await;
        names_level(&r, "RoleManagement", "Edit");
    }
    allowed(
        &s,
        Z,
        Method::POST,
        "/roles",
        &rm,
        Some(json!({"id": "reader", "grants": {"RoleManagement": "Read"}})),
        201,
    )
    .await;
    allowed(
        &s,
        Z,
        Method::POST,
        "/roles",
        &boss,
        Some(json!({"id": "sup_copy", "copy_of": "supervisor"})),
        201,
    )
    .await;
    // RoleManagement: Edit is not everything.
    refused(
        &s,
        Z,
        Method::POST,
        "/roles",
        &rm,
        Some(json!({"id": "caller", "grants": {"OutboundVoiceCall": true}})),
        403,
        &["OutboundVoiceCall", "does not hold"],
    )
    .await;
    refused(
        &s,
        Z,
        Method::PUT,
        "/roles/reader",
        &rm,
        Some(json!({"version": 1, "grants": {"UserManagement": "Read"}})),
        403,
        &["UserManagement: Read"],
    )
    .await;

    // Custom roles are given under RoleManagement: Edit, within what the giver holds.
    allowed(
        &s,
        Z,
        Method::POST,
        "/assignments",
        &rm,
        Some(json!({"principal": "u1", "role": "reader"})),
        201,
    )
    .await;
    refused(
        &s,
        Z,
        Method::POST,
        "/assignments",
        &rm,
        Some(json!({"principal": "u1", "role": "outbound_only"})),
        403,
        &["OutboundVoiceCall"],
    )
    .await;
    let r = refused(
        &s,
        Z,
        Method::POST,
        "/assignments",
        &viewer,
        Some(json!({"principal": "u1", "role": "reader"})),
        403,
        &[],
    )
    .await;
    names_level(&r, "RoleManagement", "Edit");
    // Templates follow zoom's appointment rules: only an admin gives them. Giving a role
    // is role management ("someone with role management privilege"), which a supervisor
    // does not hold, so she gives none, not even the agent role.
    for (who, role) in [
        (&sup, "agent"),
        (&sup, "supervisor"),
        (&sup, "admin"),
        (&ag, "agent"),
        (&rm, "agent"),
    ] {
        refused(
            &s,
            Z,
            Method::POST,
            "/assignments",
            who,
            Some(json!({"principal": "u2", "role": role})),
            403,
            &[role, "u2"],
        )
        .await;
    }
    allowed(
        &s,
        Z,
        Method::POST,
        "/assignments",
        &boss,
        Some(json!({"principal": "u2", "role": "supervisor"})),
        201,
    )
    .await;
    allowed(
        &s,
        Z,
        Method::POST,
        "/assignments",
        &boss,
        Some(json!({"principal": "u1", "role": "agent"})),
        201,
    )
    .await;
}

const P: &str = "p";

#[tokio::test]
async fn phones_pro_assignments_follow_the_appointment_rules() {
    let s = TestServer::start().await;
    s.tenant(P, "phones-pro").await;
    s.org_unit(P, "co", "company", None).await;
    s.org_unit(P, "oA", "office", Some("co")).await;
    s.org_unit(P, "oB", "office", Some("co")).await;
    s.org_unit(P, "dA", "department", Some("oA")).await;
    s.org_unit(P, "dB", "department", Some("oB")).await;
    s.org_unit(P, "ccA", "call_center", Some("oA")).await;
    for u in ["ceo", "offA", "bob", "carol", "dave"] {
        s.user(P, u, None).await;
    }
    s.assign(P, "ceo", "company_admin", None).await;
    s.assign(
        P,
        "offA",
        "office_admin",
        Some(json!({"org_units": ["oA"]})),
    )
    .await;
    let ceo = s.mint(P, "ceo").await;
    let off_a = s.mint(P, "offA").await;
    let carol = s.mint(P, "carol").await;
    let give = |principal: &str, role: &str, ou: &str| json!({"id": format!("{principal}_{role}_{ou}"), "principal": principal, "role": role, "scope": {"org_units": [ou]}});

    // An office administrator of office A appoints department administrators in A only.
    allowed(
        &s,
        P,
        Method::POST,
        "/assignments",
        &off_a,
        Some(give("bob", "department_admin", "dA")),
        201,
    )
    .await;
    for body in [
        give("bob", "department_admin", "dB"),
        give("bob", "office_admin", "oA"),
        give("bob", "department_admin", "oA"),
        json!({"principal": "bob", "role": "department_admin"}),
    ] {
        refused(
            &s,
            P,
            Method::POST,
            "/assignments",
            &off_a,
            Some(body),
            403,
            &["offA", "bob"],
        )
        .await;
    }
    // The company administrator appoints office administrators; the new one of office
    // B appoints in B, not in A.
    allowed(
        &s,
        P,
        Method::POST,
        "/assignments",
        &ceo,
        Some(give("carol", "office_admin", "oB")),
        201,
    )
    .await;
    allowed(
        &s,
        P,
        Method::POST,
        "/assignments",
        &carol,
        Some(give("dave", "department_admin", "dB")),
        201,
    )
    .await;
    refused(
        &s,
        P,
        Method::POST,
        "/assignments",
        &carol,
        Some(give("dave", "department_admin", "dA")),
        403,
        &["carol", "department_admin"],
    )
    .await;
    // A call center supervisor must be one of the call center's agents.
    refused(
        &s,
        P,
        Method::POST,
        "/assignments",
        &off_a,
        Some(give("dave", "call_center_supervisor", "ccA")),
        403,
        &["dave", "call_center_supervisor"],
    )
    .await;
    s.op_post(
        &format!("/v1/tenants/{P}/relations"),
        json!({"writes": [{"resource": "org_unit:ccA", "relation": "agents", "subject": "user:dave"}]}),
    )
    .await;
    allowed(
        &s,
        P,
        Method::POST,
        "/assignments",
        &off_a,
        Some(give("dave", "call_center_supervisor", "ccA")),
        201,
    )
    .await;
    // Taking a role back needs the same authority as giving it.
    refused(
        &s,
        P,
        Method::DELETE,
        "/assignments/carol_office_admin_oB",
        &off_a,
        None,
        403,
        &["office_admin"],
    )
    .await;
    allowed(
        &s,
        P,
        Method::DELETE,
        "/assignments/bob_department_admin_dA",
        &off_a,
        None,
        200,
    )
    .await;

    // Nobody but the operator removes a user: not the company administrator, not an
    // office administrator, not the user.
    let dave = s.mint(P, "dave").await;
    for who in [&ceo, &off_a, &carol, &dave] {
        refused(
            &s,
            P,
            Method::DELETE,
            "/users/dave",
            who,
            None,
            403,
            &["users.delete", "operator"],
        )
        .await;
    }
    allowed(&s, P, Method::DELETE, "/users/dave", &s.op, None, 200).await;
    let r = s
        .get(
            &format!("/v1/tenants/{P}/assignments?principal=dave"),
            &s.op,
        )
        .await;
    assert_eq!(r.body["assignments"], json!([]), "{}", r.text);
    let r = s.get(&format!("/v1/tenants/{P}/users/dave"), &s.op).await;
    assert_error(&r, 404, Some("not_found"), &["dave"]);
}
