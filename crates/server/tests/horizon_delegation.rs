//! Who gives which roles in Horizon Contact (seed 004), through the API, as the seed's
//! own administrators: "Assign roles to user logins — Staff > Users — Users: Modify and
//! Assign Roles" and "Configure (add/edit/delete/copy) roles and associate privileges
//! with roles — Staff > Roles — Roles: Modify". Neither row asks the giver to hold what
//! the role holds, so the profile bounds both writes by what its templates hold together
//! (`[[delegation]]`, ceiling `roles`), not by the writer's own holdings; the writer
//! still needs the row's privilege, over the user and the scope concerned.
//!
//! Issue 11 found that an Administrator could not give the shipped Agent or Supervisor
//! role (403, "nobody grants what they do not hold"), that 13 privileges were in no
//! template, and that nobody but an agent under review could put an agent under
//! "Emails must be reviewed".

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

const P: &str = "horizon-contact";
const T: &str = "demo-horizon-contact";

fn tp(rest: &str) -> String {
    format!("/v1/tenants/{T}{rest}")
}

/// A server with the demo tenants.
async fn demo() -> TestServer {
    TestServer::start_with(|c| c.demo = true).await
}

/// Creates a user (operator) in `org_unit`, if given.
async fn user(s: &TestServer, id: &str, org_unit: Option<&str>) {
    s.user(T, id, org_unit).await;
}

/// A user holding only the shipped Administrator template (tenant-wide, or over the
/// scope given), and a token for them.
async fn administrator(s: &TestServer, id: &str, scope: Option<Value>) -> String {
    s.assign(T, id, "administrator", scope).await;
    s.mint(T, id).await
}

/// Whether the operator's check of `principal` doing `action` on `ty:id` is allowed.
async fn allowed(s: &TestServer, principal: &str, action: &str, ty: &str, id: &str) -> bool {
    let r = s
        .post(
            &tp("/check"),
            &s.op,
            json!({"principal": principal, "action": action, "resource": {"type": ty, "id": id}}),
        )
        .await;
    r.expect(200);
    r.body["allowed"].as_bool().unwrap()
}

/// The ids of a list answer's `items`.
fn ids(r: &Resp) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {}", r.text))
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Two sites of the demo tenant.
async fn two_sites(s: &TestServer) -> (String, String) {
    let r = s.get(&tp("/org-units"), &s.op).await;
    r.expect(200);
    let sites: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["attributes"]["kind"] == "site")
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(sites.len() >= 2, "{}", r.text);
    (sites[0].clone(), sites[1].clone())
}

/// A queue of the demo tenant.
async fn a_queue(s: &TestServer) -> String {
    ids(&s.get(&tp("/queues"), &s.op).await)
        .first()
        .cloned()
        .unwrap()
}

/// A write by `token` that must succeed with `status`.
async fn ok(s: &TestServer, method: Method, path: &str, token: &str, body: Value, status: u16) {
    let r = s
        .call(method.clone(), &tp(path), Some(token), Some(&body))
        .await;
    assert_eq!(r.status, status, "{method} {path} {body}: {}", r.text);
}

/// A write by `token` that must be refused with 403 naming every one of `needles`,
/// leaving the tenant's revision where it was.
async fn refused(
    s: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
    needles: &[&str],
) {
    let before = s.revision(T).await;
    let r = s
        .call(method.clone(), &tp(path), Some(token), Some(&body))
        .await;
    assert_error(&r, 403, Some("forbidden"), needles);
    assert_eq!(
        s.revision(T).await,
        before,
        "{method} {path} {body} was refused but wrote"
    );
}

/// Accepts a refusal naming a privilege at a level as `Name: Level` or as the
/// requirement `has("Name", "Level")`.
fn names_level(r: &Resp, name: &str, level: &str) {
    let m = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        m.contains(&format!("{name}: {level}"))
            || m.contains(&format!("has(\"{name}\", \"{level}\")")),
        "the refusal does not name `{name}: {level}`: {m}"
    );
}

/// Every privilege a role editor may "associate … with roles" is held by some shipped
/// template, so that the `roles` ceiling (what the templates hold together) is the
/// catalog; the one restriction is in none (giving it is never an escalation).
#[test]
fn the_shipped_templates_together_hold_every_privilege_but_the_restriction() {
    let text = rolecall_engine::profiles::shipped(P).unwrap();
    let p = rolecall_core::load_profile(P, text).unwrap();
    let ceiling_roles = [
        "agent",
        "advanced_agent",
        "supervisor",
        "silent_monitor",
        "administrator",
    ];
    for op in ["roles.write", "assignments.write"] {
        let d = p
            .delegation
            .iter()
            .find(|d| d.operation.as_str() == op)
            .unwrap_or_else(|| panic!("no ceiling for {op}"));
        assert_eq!(
            d.ceiling,
            rolecall_core::profile::Ceiling::Roles(ceiling_roles.map(str::to_owned).to_vec()),
            "{op}"
        );
    }
    assert_eq!(
        p.roles.len(),
        ceiling_roles.len(),
        "a template outside the ceiling"
    );
    for (q, x) in p.privileges.iter().enumerate() {
        let held = p.roles.iter().any(|r| {
            r.grants
                .iter()
                .any(|(g, v)| *g == q && *v != rolecall_core::profile::GrantValue::Off)
        });
        if x.restriction {
            assert!(
                !held,
                "the restriction `{}` is imposed by a template",
                x.name
            );
        } else {
            assert!(
                held,
                "`{}` is in no template: only the operator could give it",
                x.name
            );
        }
    }
}

/// "Assign roles to user logins — Users: Modify and Assign Roles": the demo's
/// administrator gives the shipped Agent and Supervisor roles, and the Agent handles
/// incoming calls but does not dial out ("Handle Inbound Calls enabled" and "Handle
/// Outbound Calls enabled" are separate boxes).
#[tokio::test]
async fn the_demo_admin_gives_the_shipped_agent_and_supervisor_roles() {
    let s = demo().await;
    let admin = s.mint(T, "admin").await;
    let (site, _) = two_sites(&s).await;
    user(&s, "new.agent", Some(&site)).await;
    user(&s, "new.supervisor", Some(&site)).await;
    let q = a_queue(&s).await;
    assert!(!allowed(&s, "new.agent", "agent.handle.inbound_calls", "queue", &q).await);
    ok(
        &s,
        Method::POST,
        "/assignments",
        &admin,
        json!({"principal": "new.agent", "role": "agent"}),
        201,
    )
    .await;
    ok(
        &s,
        Method::POST,
        "/assignments",
        &admin,
        json!({"principal": "new.supervisor", "role": "supervisor", "scope": {"org_units": [site]}}),
        201,
    )
    .await;
    assert!(allowed(&s, "new.agent", "agent.handle.inbound_calls", "queue", &q).await);
    assert!(!allowed(&s, "new.agent", "agent.handle.outbound_calls", "queue", &q).await);
    assert!(!allowed(&s, "new.agent", "agent.handle.outbound_sms", "queue", &q).await);
    let r = s.get(&tp("/assignments"), &admin).await;
    r.expect(200);
    let given: Vec<(String, String)> = r.body["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["principal"].as_str().unwrap().to_owned(),
                a["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        given.contains(&("new.agent".into(), "agent".into())),
        "{given:?}"
    );
    assert!(
        given.contains(&("new.supervisor".into(), "supervisor".into())),
        "{given:?}"
    );
}

/// The same row for a user who holds only the Administrator template: it gives every
/// shipped template, none of whose agent or supervisor check boxes it holds itself.
#[tokio::test]
async fn an_administrator_gives_every_shipped_template() {
    let s = demo().await;
    user(&s, "office.admin", None).await;
    let admin = administrator(&s, "office.admin", None).await;
    for role in [
        "agent",
        "advanced_agent",
        "supervisor",
        "silent_monitor",
        "administrator",
    ] {
        let who = format!("new.{role}");
        user(&s, &who, None).await;
        ok(
            &s,
            Method::POST,
            "/assignments",
            &admin,
            json!({"principal": who, "role": role}),
            201,
        )
        .await;
    }
    // Giving is not holding: the administrator still does not take calls or listen in.
    let q = a_queue(&s).await;
    assert!(
        !allowed(
            &s,
            "office.admin",
            "agent.handle.inbound_calls",
            "queue",
            &q
        )
        .await
    );
    assert!(allowed(&s, "new.agent", "agent.handle.inbound_calls", "queue", &q).await);
}

/// "Configure (add/edit/delete/copy) roles and associate privileges with roles — Roles:
/// Modify" and "Assign assign privileges to user roles — Roles: Modify": the
/// Administrator builds agent and supervisor roles out of check boxes it does not hold.
#[tokio::test]
async fn an_administrator_configures_roles_with_privileges_it_does_not_hold() {
    let s = demo().await;
    user(&s, "office.admin", None).await;
    let admin = administrator(&s, "office.admin", None).await;
    ok(
        &s,
        Method::POST,
        "/roles",
        &admin,
        json!({"id": "night-supervisor", "copy_of": "supervisor"}),
        201,
    )
    .await;
    ok(
        &s,
        Method::POST,
        "/roles",
        &admin,
        json!({"id": "email-lead", "includes": ["agent"],
               "grants": {"Handle Outbound Emails": true, "Supervisor Email Control": true}}),
        201,
    )
    .await;
    ok(
        &s,
        Method::PUT,
        "/roles/email-lead",
        &admin,
        json!({"version": 1, "includes": ["agent"],
               "grants": {"Handle Outbound Emails": true, "Supervisor Email Control": true,
                          "Supervisor Observe Privately": true}}),
        200,
    )
    .await;
    let r = s.get(&tp("/roles/email-lead"), &admin).await;
    r.expect(200);
    assert_eq!(r.body["version"], json!(2), "{}", r.text);
    assert_eq!(
        r.body["grants"]["supervisor_observe_privately"],
        json!(true),
        "{}",
        r.text
    );
}

/// The rows name who may write at all: a user with "Users: Modify and Assign Roles"
/// but "Roles: View only" edits no role, and one with "Roles: Modify" and "Users:
/// Modify" gives no role.
#[tokio::test]
async fn a_role_editor_needs_roles_modify() {
    let s = demo().await;
    for (id, grants) in [
        (
            "assigner",
            json!({"Users": "Modify and Assign Roles", "Roles": "View only"}),
        ),
        ("designer", json!({"Roles": "Modify", "Users": "Modify"})),
    ] {
        s.op_post(&tp("/roles"), json!({"id": id, "grants": grants}))
            .await;
        user(&s, id, None).await;
        s.assign(T, id, id, None).await;
    }
    user(&s, "hire", None).await;
    let assigner = s.mint(T, "assigner").await;
    let designer = s.mint(T, "designer").await;
    let before = s.revision(T).await;
    let r = s
        .post(
            &tp("/roles"),
            &assigner,
            json!({"id": "mine", "copy_of": "agent"}),
        )
        .await;
    assert_error(&r, 403, Some("forbidden"), &[]);
    names_level(&r, "Roles", "Modify");
    let r = s
        .post(
            &tp("/assignments"),
            &designer,
            json!({"principal": "hire", "role": "agent"}),
        )
        .await;
    assert_error(&r, 403, Some("forbidden"), &[]);
    names_level(&r, "Users", "Modify and Assign Roles");
    assert_eq!(s.revision(T).await, before, "a refused write wrote");
}

/// An administrator of one site gives roles to that site's users, over that site: not
/// tenant-wide, not over another site, not to another site's users. Its Users: Modify
/// and Assign Roles reaches only its site, and so do the roles it gives.
#[tokio::test]
async fn a_site_administrator_gives_roles_only_within_its_site() {
    let s = demo().await;
    let (a, b) = two_sites(&s).await;
    user(&s, "site.admin", Some(&a)).await;
    user(&s, "hire.a", Some(&a)).await;
    user(&s, "hire.b", Some(&b)).await;
    let admin = administrator(&s, "site.admin", Some(json!({"org_units": [a]}))).await;
    for scope in [
        json!("tenant"),
        json!({"org_units": [b]}),
        json!({"org_units": [a, b]}),
    ] {
        refused(
            &s,
            Method::POST,
            "/assignments",
            &admin,
            json!({"principal": "hire.a", "role": "agent", "scope": scope}),
            &[],
        )
        .await;
    }
    refused(
        &s,
        Method::POST,
        "/assignments",
        &admin,
        json!({"principal": "hire.a", "role": "agent"}),
        &[],
    )
    .await;
    refused(
        &s,
        Method::POST,
        "/assignments",
        &admin,
        json!({"principal": "hire.b", "role": "agent", "scope": {"org_units": [a]}}),
        &[],
    )
    .await;
    // Within its site it gives the Agent role, whose boxes it does not hold.
    ok(
        &s,
        Method::POST,
        "/assignments",
        &admin,
        json!({"principal": "hire.a", "role": "agent", "scope": {"org_units": [a]}}),
        201,
    )
    .await;
}

/// "Email responses must be approved by supervisor before they are sent out — Emails
/// must be reviewed enabled": the demo's administrator, who is not under review, puts
/// the demo agent under review; from then on the agent's email responses need approval.
#[tokio::test]
async fn an_administrator_puts_an_agent_under_review() {
    let s = demo().await;
    let admin = s.mint(T, "admin").await;
    let response = ids(&s.get(&tp("/resources/email_response"), &s.op).await)
        .first()
        .cloned()
        .unwrap();
    let send = "email_response.send_unreviewed";
    assert!(allowed(&s, "agent", send, "email_response", &response).await);
    assert!(
        !allowed(
            &s,
            "admin",
            "agent.emails.must_be_reviewed",
            "email_response",
            &response
        )
        .await
    );
    ok(
        &s,
        Method::POST,
        "/roles",
        &admin,
        json!({"id": "under-review", "name": "Under review",
               "grants": {"Emails must be reviewed": true}}),
        201,
    )
    .await;
    ok(
        &s,
        Method::POST,
        "/assignments",
        &admin,
        json!({"id": "agent-review", "principal": "agent", "role": "under-review"}),
        201,
    )
    .await;
    assert!(!allowed(&s, "agent", send, "email_response", &response).await);
    assert!(
        allowed(
            &s,
            "agent",
            "agent.handle.emails",
            "queue",
            &a_queue(&s).await
        )
        .await
    );
}
