//! Seed fidelity through the API (issue 11) for Phones Pro (seed 001) and Contact Center
//! Pro (seed 000): each test quotes the seed sentence it enforces and acts as the seed's
//! own administrators, with their own tokens, on a tenant built for the case.
//!
//! `phones_pro_office_admin_cannot_take_her_office_out_of_its_region` waits on an engine
//! change: a write that changes an org unit's `parent` must be allowed on the unit's old
//! parent and on its new one (today only the unit itself is checked, before and after, and
//! an office administrator's scope moves along with her office).

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

fn at(tenant: &str, rest: &str) -> String {
    format!("/v1/tenants/{tenant}{rest}")
}

/// Asks, as the operator, whether `principal` may do `action` on `ty:id`.
async fn allowed(
    s: &TestServer,
    tenant: &str,
    principal: &str,
    action: &str,
    ty: &str,
    id: &str,
) -> bool {
    let r = s
        .post(
            &at(tenant, "/check"),
            &s.op,
            json!({"principal": principal, "action": action,
                   "resource": {"type": ty, "id": id}}),
        )
        .await;
    r.expect(200);
    r.body["allowed"].as_bool().unwrap()
}

// ---- Phones Pro -------------------------------------------------------------------------

/// A Phones Pro tenant: company `acme` with regions `west` and `east`; offices `sf` and
/// `sac` in `west`, `nyc` in `east`; department `sf_sales` and call center `sf_cc` in `sf`.
/// Users: `cora` company administrator, `rhea` regional administrator of `west`, `olga`
/// office administrator of `sf`, `cal` call center administrator of `sf_cc`, agents
/// `alice` and `bob` of `sf_cc`, and `erin` in `sf`.
async fn phones(s: &TestServer) -> &'static str {
    let t = "pp";
    s.tenant(t, "phones-pro").await;
    s.org_unit(t, "acme", "company", None).await;
    s.org_unit(t, "west", "region", Some("acme")).await;
    s.org_unit(t, "east", "region", Some("acme")).await;
    s.org_unit(t, "sf", "office", Some("west")).await;
    s.org_unit(t, "sac", "office", Some("west")).await;
    s.org_unit(t, "nyc", "office", Some("east")).await;
    s.org_unit(t, "sf_sales", "department", Some("sf")).await;
    s.org_unit(t, "sf_cc", "call_center", Some("sf")).await;
    for (u, unit) in [
        ("cora", "acme"),
        ("rhea", "west"),
        ("olga", "sf"),
        ("cal", "sf_cc"),
        ("alice", "sf_cc"),
        ("bob", "sf_cc"),
        ("erin", "sf"),
    ] {
        s.user(t, u, Some(unit)).await;
    }
    s.op_put(
        &at(t, "/org-units/sf_cc"),
        json!({"kind": "call_center", "parent": "sf", "relations": {"agents": ["alice", "bob"]}}),
    )
    .await;
    s.assign(t, "cora", "company_admin", None).await;
    let unit = |u: &str| Some(json!({"org_units": [u]}));
    s.assign(t, "rhea", "regional_admin", unit("west")).await;
    s.assign(t, "olga", "office_admin", unit("sf")).await;
    s.assign(t, "cal", "call_center_admin", unit("sf_cc")).await;
    t
}

/// The org unit's parent, read by the operator.
async fn parent_of(s: &TestServer, t: &str, unit: &str) -> Value {
    let r = s.get(&at(t, &format!("/org-units/{unit}")), &s.op).await;
    r.expect(200);
    r.body["relations"]["parent"][0].clone()
}

#[tokio::test]
async fn phones_pro_office_admin_cannot_take_her_office_out_of_its_region() {
    // Seed 001: "a company administrator can assign a user as a specific regional
    // administrator who has administrative permissions across multiple offices". An
    // office administrator administers her office; which region it belongs to is the
    // business of those who administer the region (the regional and company
    // administrators), so moving it out takes the old region's and the new parent's
    // permission, not the office's alone.
    let s = TestServer::start().await;
    let t = phones(&s).await;
    let olga = s.mint(t, "olga").await;
    let rhea = s.mint(t, "rhea").await;
    let cora = s.mint(t, "cora").await;
    // Out of her region, to the company or to another region: refused.
    for to in ["acme", "east"] {
        let r = s
            .put(
                &at(t, "/org-units/sf"),
                &olga,
                json!({"kind": "office", "parent": to}),
            )
            .await;
        assert_error(&r, 403, Some("forbidden"), &[]);
        assert_eq!(
            parent_of(&s, t, "sf").await,
            "west",
            "olga moved sf to {to}"
        );
    }
    // She still edits her own office (its settings) where it is.
    s.put(
        &at(t, "/org-units/sf"),
        &olga,
        json!({"kind": "office", "parent": "west", "name": "San Francisco"}),
    )
    .await
    .expect(200);
    // The regional administrator cannot move it into a region she does not administer...
    let r = s
        .put(
            &at(t, "/org-units/sf"),
            &rhea,
            json!({"kind": "office", "parent": "east"}),
        )
        .await;
    assert_error(&r, 403, Some("forbidden"), &[]);
    // ...and the company administrator, who administers both, can.
    s.put(
        &at(t, "/org-units/sf"),
        &cora,
        json!({"kind": "office", "parent": "east"}),
    )
    .await
    .expect(200);
    assert_eq!(parent_of(&s, t, "sf").await, "east");
}

#[tokio::test]
async fn phones_pro_regional_admin_moves_offices_within_her_region() {
    // The other side of the rule above: an administrator of both parents may move a unit
    // between them. A regional administrator "has administrative permissions across
    // multiple offices": she moves a department from one of her offices to another.
    let s = TestServer::start().await;
    let t = phones(&s).await;
    let rhea = s.mint(t, "rhea").await;
    s.put(
        &at(t, "/org-units/sf_sales"),
        &rhea,
        json!({"kind": "department", "parent": "sac"}),
    )
    .await
    .expect(200);
    assert_eq!(parent_of(&s, t, "sf_sales").await, "sac");
    // An office administrator cannot send a department of hers to another office.
    let olga = s.mint(t, "olga").await;
    let r = s
        .put(
            &at(t, "/org-units/sf_cc"),
            &olga,
            json!({"kind": "call_center", "parent": "sac"}),
        )
        .await;
    assert_error(&r, 403, Some("forbidden"), &[]);
}

#[tokio::test]
async fn phones_pro_office_admin_holds_department_powers_only_once_appointed() {
    // Seed 001: "A company or office administrator can assign an individual user to become
    // a department administrator. As a department administrator, you can assign operators
    // and phones, add and remove phone numbers, and much more." The department
    // administrator's powers are a department administrator's: an office administrator
    // appoints one — herself, if she wants to work in the department.
    let s = TestServer::start().await;
    let t = phones(&s).await;
    let olga = s.mint(t, "olga").await;
    for action in [
        "department.operators.assign",
        "department.phones.assign",
        "department.phone_numbers.add",
        "department.phone_numbers.remove",
    ] {
        for who in ["olga", "rhea", "cora"] {
            assert!(
                !allowed(&s, t, who, action, "org_unit", "sf_sales").await,
                "{who} holds {action} without being appointed"
            );
        }
    }
    s.post(
        &at(t, "/assignments"),
        &olga,
        json!({"principal": "olga", "role": "department_admin",
               "scope": {"org_units": ["sf_sales"]}}),
    )
    .await
    .expect(201);
    assert!(
        allowed(
            &s,
            t,
            "olga",
            "department.phone_numbers.add",
            "org_unit",
            "sf_sales"
        )
        .await
    );
    assert!(
        !allowed(
            &s,
            t,
            "rhea",
            "department.phone_numbers.add",
            "org_unit",
            "sf_sales"
        )
        .await
    );
}

#[tokio::test]
async fn phones_pro_call_center_admin_is_not_a_supervisor() {
    // Seed 001: "A company, office, or call center administrator can assign any call center
    // agent to become a call center supervisor. As a call center supervisor, you can do the
    // following for your call centers: Listen in on calls; Take over calls; Set agents to
    // available or unavailable." Only a call center's agents can be supervisors: its
    // administrators (and an office administrator who "should grant themselves
    // administrator permissions for each call center" to see its calls) see calls but do
    // not listen in, take over or set availability.
    let s = TestServer::start().await;
    let t = phones(&s).await;
    s.op_put(
        &at(t, "/resources/call/c1"),
        json!({"relations": {"agent": ["alice"], "call_center": ["sf_cc"]},
               "attributes": {"live": true}}),
    )
    .await;
    s.op_put(
        &at(t, "/resources/availability/sf_cc.alice"),
        json!({"relations": {"agent": ["alice"], "call_center": ["sf_cc"]},
               "attributes": {"available": true}}),
    )
    .await;
    let olga = s.mint(t, "olga").await;
    s.post(
        &at(t, "/assignments"),
        &olga,
        json!({"principal": "olga", "role": "call_center_admin",
               "scope": {"org_units": ["sf_cc"]}}),
    )
    .await
    .expect(201);
    for who in ["cal", "olga"] {
        assert!(
            allowed(&s, t, who, "call.view", "call", "c1").await,
            "{who} sees calls"
        );
        for action in [
            "call.listen",
            "call.take_over",
            "call.view_sentiment",
            "call.view_purpose",
        ] {
            assert!(
                !allowed(&s, t, who, action, "call", "c1").await,
                "{who} may {action}"
            );
        }
        assert!(
            !allowed(
                &s,
                t,
                who,
                "agent.set_availability",
                "availability",
                "sf_cc.alice"
            )
            .await,
            "{who} sets availability"
        );
    }
    // A supervisor appointed among the agents holds them all.
    let cal = s.mint(t, "cal").await;
    s.post(
        &at(t, "/assignments"),
        &cal,
        json!({"principal": "bob", "role": "call_center_supervisor",
               "scope": {"org_units": ["sf_cc"]}}),
    )
    .await
    .expect(201);
    for action in [
        "call.listen",
        "call.take_over",
        "call.view_sentiment",
        "call.view_purpose",
    ] {
        assert!(
            allowed(&s, t, "bob", action, "call", "c1").await,
            "bob may not {action}"
        );
    }
    assert!(
        allowed(
            &s,
            t,
            "bob",
            "agent.set_availability",
            "availability",
            "sf_cc.alice"
        )
        .await
    );
    // Not an agent: cannot be made supervisor.
    let r = s
        .post(
            &at(t, "/assignments"),
            &cal,
            json!({"principal": "erin", "role": "call_center_supervisor",
                   "scope": {"org_units": ["sf_cc"]}}),
        )
        .await;
    assert_error(&r, 403, Some("forbidden"), &["erin"]);
}

#[tokio::test]
async fn phones_pro_availability_follows_the_call_center_agent_list() {
    // Seed 001: "As a call center supervisor, you can do the following for your call
    // centers: ... Set agents to available or unavailable". Whose availability follows the
    // call center's agents (Call Centers > Agents & Admins), not the org unit a user record
    // sits in: an agent of two call centers is set by each one's supervisors; a user
    // placed in the unit who is not one of its agents is not.
    let s = TestServer::start().await;
    let t = phones(&s).await;
    s.org_unit(t, "sf_cc2", "call_center", Some("sf")).await;
    s.user(t, "gina", Some("sf_cc2")).await;
    s.user(t, "nate", Some("sf_cc")).await;
    s.op_put(
        &at(t, "/org-units/sf_cc"),
        json!({"kind": "call_center", "parent": "sf",
               "relations": {"agents": ["alice", "bob", "gina"]}}),
    )
    .await;
    let cal = s.mint(t, "cal").await;
    s.post(
        &at(t, "/assignments"),
        &cal,
        json!({"principal": "bob", "role": "call_center_supervisor",
               "scope": {"org_units": ["sf_cc"]}}),
    )
    .await
    .expect(201);
    for (id, agent, cc) in [
        ("sf_cc.gina", "gina", "sf_cc"),
        ("sf_cc2.gina", "gina", "sf_cc2"),
        ("sf_cc.nate", "nate", "sf_cc"),
    ] {
        s.op_put(
            &at(t, &format!("/resources/availability/{id}")),
            json!({"relations": {"agent": [agent], "call_center": [cc]},
                   "attributes": {"available": false}}),
        )
        .await;
    }
    let may =
        |id: &'static str| allowed(&s, t, "bob", "agent.set_availability", "availability", id);
    assert!(may("sf_cc.gina").await, "gina is one of sf_cc's agents");
    assert!(!may("sf_cc2.gina").await, "sf_cc2 is not bob's call center");
    assert!(
        !may("sf_cc.nate").await,
        "nate sits in sf_cc but is not one of its agents"
    );
}

#[tokio::test]
async fn phones_pro_administrators_cannot_remove_users() {
    // Seed 001: "Administrators can't remove users in Dialpad, they should contact
    // ServiceTitan Support team": not even a company administrator; the operator (support)
    // can.
    let s = TestServer::start().await;
    let t = phones(&s).await;
    for who in ["cora", "rhea", "olga"] {
        let token = s.mint(t, who).await;
        let r = s.delete(&at(t, "/users/erin"), &token).await;
        assert_error(&r, 403, Some("forbidden"), &[]);
    }
    s.delete(&at(t, "/users/erin"), &s.op).await.expect(200);
}

#[tokio::test]
async fn phones_pro_company_admins_add_company_admins() {
    // Seed 001: "You automatically become a company administrator when you first sign up
    // your company with Phones Pro. You can add more Phones Pro company administrators in
    // ServiceTitan settings." The first is given when the company signs up (the operator,
    // who creates the tenant); then company administrators add more, and nobody else does.
    let s = TestServer::start().await;
    let t = phones(&s).await;
    let cora = s.mint(t, "cora").await;
    for who in ["rhea", "olga"] {
        let token = s.mint(t, who).await;
        let r = s
            .post(
                &at(t, "/assignments"),
                &token,
                json!({"principal": "erin", "role": "company_admin"}),
            )
            .await;
        assert_error(&r, 403, Some("forbidden"), &[]);
    }
    s.post(
        &at(t, "/assignments"),
        &cora,
        json!({"principal": "erin", "role": "company_admin"}),
    )
    .await
    .expect(201);
}

// ---- Contact Center Pro -----------------------------------------------------------------

/// A Contact Center Pro tenant: company `acme` with offices `north` and `south`; queue
/// `qn` in `north` (members `alice`, `bob`), `qs` in `south`; `adam` Admin tenant-wide,
/// `oliver` Admin of `north`; `alice`, `bob` CSRs of `north`, `carol` of `south`, `zed`
/// a user of `north` with no role.
async fn ccp(s: &TestServer) -> &'static str {
    let t = "ccp";
    s.tenant(t, "contact-center-pro").await;
    s.org_unit(t, "acme", "company", None).await;
    s.org_unit(t, "north", "office", Some("acme")).await;
    s.org_unit(t, "south", "office", Some("acme")).await;
    for (u, unit) in [
        ("adam", "acme"),
        ("oliver", "north"),
        ("alice", "north"),
        ("bob", "north"),
        ("zed", "north"),
        ("carol", "south"),
    ] {
        s.user(t, u, Some(unit)).await;
    }
    s.op_post(
        &at(t, "/queues"),
        json!({"id": "qn", "org_unit": "north", "members": ["alice", "bob"]}),
    )
    .await;
    s.op_post(
        &at(t, "/queues"),
        json!({"id": "qs", "org_unit": "south", "members": ["carol"]}),
    )
    .await;
    let unit = |u: &str| Some(json!({"org_units": [u]}));
    s.assign(t, "adam", "admin", None).await;
    s.assign(t, "oliver", "admin", unit("north")).await;
    s.assign(t, "alice", "csr", unit("north")).await;
    s.assign(t, "bob", "csr", unit("north")).await;
    s.assign(t, "carol", "csr", unit("south")).await;
    t
}

/// A tenant-wide user `id` holding a custom role granting exactly `grants`.
async fn holder(s: &TestServer, t: &str, id: &str, grants: Value) -> String {
    s.op_post(
        &at(t, "/roles"),
        json!({"id": format!("only-{id}"), "grants": grants}),
    )
    .await;
    s.user(t, id, Some("north")).await;
    s.assign(t, id, &format!("only-{id}"), None).await;
    s.mint(t, id).await
}

#[tokio::test]
async fn ccp_outbound_calls_only_from_ones_own_line() {
    // Seed 000: "Make Outbound Calls: Allows the employee to place an outbound call by
    // clicking Make a Call or using the Click-to-Call function." The employee's own call:
    // not a call placed as another user's line.
    let s = TestServer::start().await;
    let t = ccp(&s).await;
    assert!(allowed(&s, t, "alice", "calls.outbound", "user", "alice").await);
    for (who, line) in [
        ("alice", "zed"),
        ("alice", "bob"),
        ("adam", "zed"),
        ("adam", "carol"),
    ] {
        assert!(
            !allowed(&s, t, who, "calls.outbound", "user", line).await,
            "{who} places a call as {line}'s line"
        );
    }
}

#[tokio::test]
async fn ccp_edit_seat_levels_does_not_govern_user_edits() {
    // Seed 000: "Edit Seat Levels: Allows the employee to edit Seat Levels, Personal Line
    // and Devices in the User Management screen." It edits those, and nothing else of a
    // user: creating users or moving them to another office takes the whole "View & Edit
    // User Management" ("Admin permissions ... enabling them to ... edit employee
    // profiles").
    let s = TestServer::start().await;
    let t = ccp(&s).await;
    let sean = holder(&s, t, "sean", json!({"Edit Seat Levels": true})).await;
    assert!(allowed(&s, t, "sean", "users.seat_level.edit", "user", "carol").await);
    assert!(allowed(&s, t, "sean", "users.personal_line.edit", "user", "carol").await);
    assert!(allowed(&s, t, "sean", "users.devices.edit", "user", "carol").await);
    let r = s
        .post(
            &at(t, "/users"),
            &sean,
            json!({"id": "new", "org_unit": "north"}),
        )
        .await;
    assert_error(&r, 403, Some("forbidden"), &[]);
    let r = s
        .put(&at(t, "/users/zed"), &sean, json!({"org_unit": "south"}))
        .await;
    assert_error(&r, 403, Some("forbidden"), &[]);
    // The Admin (the whole User Management section) does both.
    let adam = s.mint(t, "adam").await;
    s.post(
        &at(t, "/users"),
        &adam,
        json!({"id": "new", "org_unit": "north"}),
    )
    .await
    .expect(201);
    s.put(&at(t, "/users/zed"), &adam, json!({"org_unit": "south"}))
        .await
        .expect(200);
    // An Admin of one office edits that office's users and cannot send them elsewhere.
    let oliver = s.mint(t, "oliver").await;
    s.put(&at(t, "/users/new"), &oliver, json!({"name": "New Hire"}))
        .await
        .expect(200);
    let r = s
        .put(&at(t, "/users/new"), &oliver, json!({"org_unit": "south"}))
        .await;
    assert_error(&r, 403, Some("forbidden"), &[]);
}

#[tokio::test]
async fn ccp_edit_user_queues_governs_queue_membership_writes() {
    // Seed 000: "Edit User Queues: Allows the employee to edit the Queue Assignments section
    // within the User Details screen." and "Edit Routing Workflows: Allows the employee to
    // edit any call routing workflows, including adding new phone numbers and updating
    // queue settings." A queue write in rolecall carries both its members (the users'
    // Queue Assignments) and its settings, so it needs both permissions; neither alone.
    let s = TestServer::start().await;
    let t = ccp(&s).await;
    let members = json!({"members": ["alice", "bob", "zed"]});
    let uma = holder(&s, t, "uma", json!({"Edit User Queues": true})).await;
    let tel = holder(&s, t, "tel", json!({"Edit Routing Workflows": true})).await;
    for token in [&uma, &tel] {
        let r = s.put(&at(t, "/queues/qn"), token, members.clone()).await;
        assert_error(&r, 403, Some("forbidden"), &[]);
    }
    let both = holder(
        &s,
        t,
        "qa",
        json!({"Edit User Queues": true, "Edit Routing Workflows": true}),
    )
    .await;
    s.put(&at(t, "/queues/qn"), &both, members.clone())
        .await
        .expect(200);
    let r = s.get(&at(t, "/queues/qn"), &s.op).await;
    assert_eq!(
        r.body["relations"]["members"],
        json!(["alice", "bob", "zed"]),
        "{}",
        r.text
    );
    // The Admin template does it; an Admin of North for North's queues only.
    let adam = s.mint(t, "adam").await;
    s.put(
        &at(t, "/queues/qs"),
        &adam,
        json!({"members": ["carol", "zed"]}),
    )
    .await
    .expect(200);
    let oliver = s.mint(t, "oliver").await;
    s.put(&at(t, "/queues/qn"), &oliver, json!({"members": ["alice"]}))
        .await
        .expect(200);
    let r = s
        .put(&at(t, "/queues/qs"), &oliver, json!({"members": ["carol"]}))
        .await;
    assert_error(&r, 403, Some("forbidden"), &[]);
}

#[tokio::test]
async fn ccp_view_all_users_reads_users_and_their_assignments() {
    // Seed 000: "View All Users: Allows the employee to view the User Management section."
    // — the users and the roles assigned to them (Enterprise Hub's User Management), and
    // nothing to change.
    let s = TestServer::start().await;
    let t = ccp(&s).await;
    let vera = holder(&s, t, "vera", json!({"View All Users": true})).await;
    let users = s.get(&at(t, "/users"), &vera).await;
    users.expect(200);
    assert!(
        users.body["items"].as_array().unwrap().len() >= 6,
        "{}",
        users.text
    );
    let listed = s.get(&at(t, "/assignments"), &vera).await;
    listed.expect(200);
    let items = listed.body["assignments"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|a| a["principal"] == "carol" && a["role"] == "csr"),
        "{}",
        listed.text
    );
    let r = s
        .post(
            &at(t, "/assignments"),
            &vera,
            json!({"principal": "zed", "role": "csr", "scope": {"org_units": ["north"]}}),
        )
        .await;
    assert_error(&r, 403, Some("forbidden"), &[]);
}

#[tokio::test]
async fn ccp_administrators_create_and_assign_roles_within_their_holdings() {
    // Seed 000: "Contact Center Pro permissions are linked to roles instead of individual
    // users. These roles are custom-made by an administrator or team manager, and assigned
    // to each user." Administrators make and give roles; nothing in the seed lets anyone
    // give permissions they do not hold (delegation ceiling: the granter's holdings).
    let s = TestServer::start().await;
    let t = ccp(&s).await;
    let adam = s.mint(t, "adam").await;
    s.post(
        &at(t, "/roles"),
        &adam,
        json!({"id": "night-shift", "copy_of": "csr"}),
    )
    .await
    .expect(201);
    s.post(
        &at(t, "/assignments"),
        &adam,
        json!({"principal": "zed", "role": "night-shift", "scope": {"org_units": ["north"]}}),
    )
    .await
    .expect(201);
    // An Admin of North gives roles in North, not in South.
    let oliver = s.mint(t, "oliver").await;
    s.post(
        &at(t, "/assignments"),
        &oliver,
        json!({"principal": "bob", "role": "manager", "scope": {"org_units": ["north"]}}),
    )
    .await
    .expect(201);
    let r = s
        .post(
            &at(t, "/assignments"),
            &oliver,
            json!({"principal": "carol", "role": "manager", "scope": {"org_units": ["south"]}}),
        )
        .await;
    assert_error(&r, 403, Some("forbidden"), &[]);
    // A holder of User Management alone makes roles within it, not with General
    // permissions it does not hold, nor gives a role holding them.
    let um = holder(&s, t, "um", json!({"View & Edit User Management": true})).await;
    s.post(
        &at(t, "/roles"),
        &um,
        json!({"id": "user-viewer", "grants": {"View All Users": true}}),
    )
    .await
    .expect(201);
    let r = s
        .post(
            &at(t, "/roles"),
            &um,
            json!({"id": "caller", "grants": {"Make Outbound Calls": true}}),
        )
        .await;
    assert_error(&r, 403, Some("forbidden"), &["Make Outbound Calls"]);
    let r = s
        .post(
            &at(t, "/assignments"),
            &um,
            json!({"principal": "zed", "role": "csr"}),
        )
        .await;
    assert_error(&r, 403, Some("forbidden"), &[]);
    // A CSR makes no roles.
    let alice = s.mint(t, "alice").await;
    let r = s
        .post(
            &at(t, "/roles"),
            &alice,
            json!({"id": "mine", "copy_of": "csr"}),
        )
        .await;
    assert_error(&r, 403, Some("forbidden"), &[]);
}
