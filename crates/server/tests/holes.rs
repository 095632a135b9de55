//! Regressions of the holes found by using the API as its users would (issue 10), on the
//! demo tenants with their own users' tokens: reads open to any token, tenant
//! administrators locked out of governance, applications needing the operator token to
//! check others, GoTo roles escaping their type, Zoom Read privileges granting Edit ones,
//! and Phones Pro administrator tiers narrowed. Each test failed before the fix.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use serde_json::{Value, json};
use support::{Resp, TestServer, assert_error};

const PROFILES: [&str; 5] = [
    "contact-center-pro",
    "goto-contact-center",
    "horizon-contact",
    "phones-pro",
    "zoom-contact-center",
];

/// A server with the demo tenants.
async fn demo() -> TestServer {
    TestServer::start_with(|c| c.demo = true).await
}

fn path(profile: &str, rest: &str) -> String {
    format!("/v1/tenants/demo-{profile}{rest}")
}

/// Ids of a list answer (`items`, or the named list).
fn ids(r: &Resp, key: &str) -> Vec<String> {
    r.body[key]
        .as_array()
        .unwrap_or_else(|| panic!("no `{key}` list in {}", r.text))
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A user with no role at all, and a token for them.
async fn nobody(s: &TestServer, profile: &str) -> String {
    s.op_post(&path(profile, "/users"), json!({"id": "nobody"}))
        .await
        .expect(201);
    s.mint(&format!("demo-{profile}"), "nobody").await
}

/// A check request about the demo agent: the profile's first action on a user (or the
/// tenant), asked about that user (or the tenant).
fn check_about_agent(s_catalog: &Value, profile: &str) -> Value {
    let actions = s_catalog["actions"].as_array().unwrap();
    let pick = |ty: &str| {
        actions
            .iter()
            .find(|a| a["resource"] == ty)
            .map(|a| a["id"].as_str().unwrap().to_owned())
    };
    let (action, resource) = match pick("user") {
        Some(a) => (a, json!({"type": "user", "id": "agent"})),
        None => (
            pick("tenant").unwrap(),
            json!({"type": "tenant", "id": format!("demo-{profile}")}),
        ),
    };
    json!({"principal": "agent", "action": action, "resource": resource})
}

#[tokio::test]
async fn reads_need_a_privilege_of_the_profile() {
    let s = demo().await;
    for p in PROFILES {
        let no = nobody(&s, p).await;
        let admin = s.mint(&format!("demo-{p}"), "admin").await;
        let catalog = s.get(&path(p, "/catalog"), &s.op).await;
        let custom_type = catalog.body["types"][5]["id"].as_str().unwrap().to_owned();
        let queue = ids(&s.get(&path(p, "/queues"), &s.op).await, "items")
            .first()
            .cloned();
        let mut reads = vec![
            "/users".to_owned(),
            "/roles".to_owned(),
            "/org-units".to_owned(),
            "/queues".to_owned(),
            "/catalog".to_owned(),
            format!("/resources/{custom_type}"),
        ];
        if let Some(q) = queue {
            reads.push(format!("/relations?resource=queue:{q}"));
        }
        for read in &reads {
            let r = s.get(&path(p, read), &no).await;
            assert_error(&r, 403, Some("forbidden"), &[]);
            s.get(&path(p, read), &admin).await.expect(200);
        }
    }
    // Zoom, seed 002: listing users needs `UserManagement: Read` — and that is enough.
    let p = "zoom-contact-center";
    s.op_post(
        &path(p, "/roles"),
        json!({"id": "user-reader", "grants": {"UserManagement": "Read"}}),
    )
    .await;
    s.op_post(&path(p, "/users"), json!({"id": "reader"})).await;
    s.op_post(
        &path(p, "/assignments"),
        json!({"principal": "reader", "role": "user-reader"}),
    )
    .await;
    let reader = s.mint(&format!("demo-{p}"), "reader").await;
    let users = s.get(&path(p, "/users"), &reader).await;
    users.expect(200);
    assert!(ids(&users, "items").contains(&"agent".to_owned()));
    assert_error(
        &s.get(&path(p, "/roles"), &reader).await,
        403,
        Some("forbidden"),
        &["RoleManagement"],
    );
}

#[tokio::test]
async fn tenant_admins_reach_the_governance_they_are_sold() {
    let s = demo().await;
    for p in PROFILES {
        let admin = s.mint(&format!("demo-{p}"), "admin").await;
        let catalog = s.get(&path(p, "/catalog"), &s.op).await.body.clone();
        let check = check_about_agent(&catalog, p);
        let assignments = s.get(&path(p, "/assignments"), &admin).await;
        assignments.expect(200);
        assert!(
            !assignments.body["assignments"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{p}: the admin sees no assignment"
        );
        s.get(&path(p, "/audit"), &admin).await.expect(200);
        s.get(&path(p, "/sod-violations"), &admin).await.expect(200);
        let who_can = json!({"action": check["action"], "resource": check["resource"]});
        s.post(&path(p, "/lookup/subjects"), &admin, who_can)
            .await
            .expect(200);
        s.post(&path(p, "/explain"), &admin, check.clone())
            .await
            .expect(200);
        // The console's role editor: preview, then save.
        let template = s.get(&path(p, "/roles"), &s.op).await.body["items"][0]["id"]
            .as_str()
            .map(str::to_owned);
        let role = json!({"id": "edited-by-admin", "copy_of": template});
        let preview = s
            .post(&path(p, "/impact"), &admin, json!({"role": role}))
            .await;
        preview.expect(200);
        s.post(&path(p, "/roles"), &admin, role).await.expect(201);
    }
}

#[tokio::test]
async fn contact_center_pro_admins_edit_roles() {
    // Seed 000: roles "are custom-made by an administrator or team manager".
    let s = demo().await;
    let p = "contact-center-pro";
    let admin = s.mint(&format!("demo-{p}"), "admin").await;
    s.post(
        &path(p, "/roles"),
        &admin,
        json!({"id": "night-shift", "copy_of": "csr"}),
    )
    .await
    .expect(201);
    let r = s.get(&path(p, "/roles/night-shift"), &admin).await;
    r.expect(200);
    let body = json!({"version": r.body["version"], "name": "Night shift",
                      "grants": r.body["grants"]});
    s.put(&path(p, "/roles/night-shift"), &admin, body)
        .await
        .expect(200);
}

#[tokio::test]
async fn applications_check_others_with_a_credential_not_the_operator_token() {
    let s = demo().await;
    for p in PROFILES {
        let admin = s.mint(&format!("demo-{p}"), "admin").await;
        let catalog = s.get(&path(p, "/catalog"), &s.op).await.body.clone();
        let check = check_about_agent(&catalog, p);
        let mint = |abilities: Value| {
            let (s, admin, p) = (&s, &admin, p);
            async move {
                let r = s
                    .post(
                        &path(p, "/credentials"),
                        admin,
                        json!({"name": format!("app-{abilities}"), "abilities": abilities}),
                    )
                    .await;
                r.expect(201);
                r.body["token"].as_str().unwrap().to_owned()
            }
        };
        let decide = mint(json!(["decide"])).await;
        let read = mint(json!(["read"])).await;
        s.post(&path(p, "/check"), &decide, check.clone())
            .await
            .expect(200);
        s.post(
            &path(p, "/check/batch"),
            &decide,
            json!({"checks": [check]}),
        )
        .await
        .expect(200);
        assert_error(
            &s.post(&path(p, "/check"), &read, check.clone()).await,
            403,
            Some("forbidden"),
            &["decide"],
        );
        // A decide-only credential changes nothing and reads no other tenant.
        assert_error(
            &s.post(&path(p, "/users"), &decide, json!({"id": "x"}))
                .await,
            403,
            Some("forbidden"),
            &[],
        );
        let other = if p == "phones-pro" {
            "zoom-contact-center"
        } else {
            "phones-pro"
        };
        let r = s.post(&path(other, "/check"), &decide, check.clone()).await;
        assert!(matches!(r.status, 403 | 404), "{p}: {}", r.text);
        // A tenant admin may check another user too.
        s.post(&path(p, "/check"), &admin, check).await.expect(200);
    }
}

#[tokio::test]
async fn goto_roles_always_have_a_type_that_never_changes() {
    let s = demo().await;
    let p = "goto-contact-center";
    let admin = s.mint(&format!("demo-{p}"), "admin").await;
    // Untyped: typed as the most restricted type (agent), whose cap has no listening.
    let r = s
        .post(
            &path(p, "/roles"),
            &admin,
            json!({"id": "untyped", "grants": {"Listen into live calls": true}}),
        )
        .await;
    assert_error(
        &r,
        422,
        Some("invalid"),
        &["untyped", "agent", "Listen into live calls"],
    );
    let r = s
        .post(
            &path(p, "/roles"),
            &s.op,
            json!({"id": "untyped", "grants": {}}),
        )
        .await;
    r.expect(201);
    let r = s.get(&path(p, "/roles/untyped"), &s.op).await;
    assert_eq!(r.body["type"], "agent", "{}", r.text);
    // Re-typing a Supervisor copy would drop the locked privilege: refused.
    s.op_post(
        &path(p, "/roles"),
        json!({"id": "sup-copy", "copy_of": "supervisor"}),
    )
    .await;
    let r = s.get(&path(p, "/roles/sup-copy"), &s.op).await;
    let version = r.body["version"].clone();
    let retyped = s
        .put(
            &path(p, "/roles/sup-copy"),
            &s.op,
            json!({"version": version, "type": "agent", "grants": {}}),
        )
        .await;
    assert_error(&retyped, 422, Some("invalid"), &["sup-copy", "supervisor"]);
    // PUT without `grants` is a bad request, not a wipe.
    let wipe = s
        .put(
            &path(p, "/roles/sup-copy"),
            &s.op,
            json!({"version": version, "name": "Renamed"}),
        )
        .await;
    assert_error(&wipe, 400, Some("bad_request"), &["grants"]);
    let after = s.get(&path(p, "/roles/sup-copy"), &s.op).await;
    assert_eq!(after.body["grants"], r.body["grants"]);
    assert_eq!(after.body["type"], "supervisor");
    // The holder of the copy still listens only to the queues they supervise.
    s.op_post(&path(p, "/users"), json!({"id": "sv"})).await;
    s.op_post(
        &path(p, "/assignments"),
        json!({"principal": "sv", "role": "sup-copy"}),
    )
    .await;
    let calls = s.get(&path(p, "/resources/call"), &s.op).await;
    let call = ids(&calls, "items").first().cloned().unwrap();
    let r = s
        .post(
            &path(p, "/check"),
            &s.op,
            json!({"principal": "sv", "action": "call.listen",
                   "resource": {"type": "call", "id": call}}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["allowed"], false, "{}", r.text);
}

#[tokio::test]
async fn zoom_read_privileges_do_not_grant_exports() {
    let s = demo().await;
    let p = "zoom-contact-center";
    let tenant = json!({"type": "tenant", "id": format!("demo-{p}")});
    s.op_post(
        &path(p, "/roles"),
        json!({"id": "timesheets", "grants": {"RptAgentReport": "Read"}}),
    )
    .await;
    s.op_post(&path(p, "/users"), json!({"id": "ts"})).await;
    s.op_post(
        &path(p, "/assignments"),
        json!({"principal": "ts", "role": "timesheets"}),
    )
    .await;
    let ask = |who: &str, action: &str| json!({"principal": who, "action": action, "resource": tenant.clone()});
    for (who, action, want) in [
        ("ts", "report.agent_timesheet.view", true),
        ("ts", "report.agent_timesheet.export", false),
        ("supervisor", "report.agent_timesheet.export", false),
        ("admin", "report.agent_timesheet.export", true),
    ] {
        let r = s.post(&path(p, "/check"), &s.op, ask(who, action)).await;
        r.expect(200);
        assert_eq!(r.body["allowed"], want, "{who} {action}: {}", r.text);
    }
}

/// The Phones Pro demo's first org unit of `kind` (sorted by id), and its parent.
async fn unit_of_kind(s: &TestServer, kind: &str) -> (String, Option<String>) {
    let r = s.get(&path("phones-pro", "/org-units"), &s.op).await;
    let u = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["attributes"]["kind"] == kind)
        .unwrap()
        .clone();
    (
        u["id"].as_str().unwrap().to_owned(),
        u["relations"]["parent"][0].as_str().map(str::to_owned),
    )
}

/// A new Phones Pro user in `unit` holding `role` over it; returns their token.
async fn appointed(s: &TestServer, id: &str, role: &str, unit: &str) -> String {
    let p = "phones-pro";
    s.op_post(&path(p, "/users"), json!({"id": id, "org_unit": unit}))
        .await;
    s.op_post(
        &path(p, "/assignments"),
        json!({"principal": id, "role": role, "scope": {"org_units": [unit]}}),
    )
    .await;
    s.mint("demo-phones-pro", id).await
}

#[tokio::test]
async fn phones_pro_every_administrator_tier_upgrades_seats_in_its_unit() {
    let s = demo().await;
    let p = "phones-pro";
    let (dept, _) = unit_of_kind(&s, "department").await;
    let (cc, _) = unit_of_kind(&s, "call_center").await;
    let (office, _) = unit_of_kind(&s, "office").await;
    for (admin_role, unit) in [
        ("department_admin", &dept),
        ("call_center_admin", &cc),
        ("office_admin", &office),
    ] {
        let token = appointed(&s, &format!("{admin_role}-1"), admin_role, unit).await;
        let seat = format!("seat-{admin_role}");
        s.op_post(&path(p, "/users"), json!({"id": seat, "org_unit": unit}))
            .await;
        let up = json!({"org_unit": unit, "attributes": {"seat_level": "advanced"}});
        s.put(&path(p, &format!("/users/{seat}")), &token, up)
            .await
            .expect(200);
        // Never back down, not even by the administrator who upgraded it.
        let down = json!({"org_unit": unit, "attributes": {"seat_level": "standard"}});
        let r = s
            .put(&path(p, &format!("/users/{seat}")), &token, down)
            .await;
        assert!(matches!(r.status, 403 | 422), "{admin_role}: {}", r.text);
    }
    // Outside their unit: refused.
    let dept_token = s.mint("demo-phones-pro", "department_admin-1").await;
    let up = json!({"org_unit": cc, "attributes": {"seat_level": "advanced"}});
    assert_error(
        &s.put(&path(p, "/users/seat-call_center_admin"), &dept_token, up)
            .await,
        403,
        Some("forbidden"),
        &[],
    );
}

#[tokio::test]
async fn phones_pro_regional_admins_and_regions() {
    let s = demo().await;
    let p = "phones-pro";
    let admin = s.mint("demo-phones-pro", "admin").await;
    let r = s.get(&path(p, "/org-units"), &s.op).await;
    let units = r.body["items"].as_array().unwrap();
    let of = |kind: &str| -> Vec<&Value> {
        units
            .iter()
            .filter(|u| u["attributes"]["kind"] == kind)
            .collect()
    };
    let company = of("company")[0]["id"].as_str().unwrap().to_owned();
    // The company admin creates a region.
    s.post(
        &path(p, "/org-units"),
        &admin,
        json!({"id": "pacific", "kind": "region", "parent": company}),
    )
    .await
    .expect(201);
    // A Regional Administrator over two offices at once.
    let offices: Vec<String> = of("office")
        .iter()
        .take(2)
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    s.op_post(&path(p, "/users"), json!({"id": "ra"})).await;
    s.post(
        &path(p, "/assignments"),
        &admin,
        json!({"id": "ra-offices", "principal": "ra", "role": "regional_admin",
               "scope": {"org_units": offices}}),
    )
    .await
    .expect(201);
    // ...and over a region.
    s.op_post(&path(p, "/users"), json!({"id": "rb"})).await;
    s.post(
        &path(p, "/assignments"),
        &admin,
        json!({"principal": "rb", "role": "regional_admin",
               "scope": {"org_units": ["pacific"]}}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn phones_pro_scoped_admins_list_their_scope() {
    let s = demo().await;
    let p = "phones-pro";
    let (office, _) = unit_of_kind(&s, "office").await;
    let all_units = s.get(&path(p, "/org-units"), &s.op).await;
    let subtree: Vec<String> = all_units.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["id"] == office.as_str() || u["relations"]["parent"][0] == office.as_str())
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    let dept = all_units.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| {
            u["attributes"]["kind"] == "department"
                && u["relations"]["parent"][0] == office.as_str()
        })
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .unwrap();
    let oa = appointed(&s, "oa", "office_admin", &office).await;
    s.op_post(
        &path(p, "/users"),
        json!({"id": "new-dept-admin", "org_unit": dept}),
    )
    .await;
    // The appointment they make...
    s.post(
        &path(p, "/assignments"),
        &oa,
        json!({"id": "made-by-oa", "principal": "new-dept-admin", "role": "department_admin",
               "scope": {"org_units": [dept]}}),
    )
    .await
    .expect(201);
    // ...they list, with only assignments inside their office.
    let listed = s.get(&path(p, "/assignments"), &oa).await;
    listed.expect(200);
    let items = listed.body["assignments"].as_array().unwrap();
    assert!(
        items.iter().any(|a| a["id"] == "made-by-oa"),
        "{}",
        listed.text
    );
    let everything = s.get(&path(p, "/assignments"), &s.op).await;
    assert!(
        items.len() < everything.body["assignments"].as_array().unwrap().len(),
        "an office admin sees every assignment"
    );
    for a in items {
        let scope = &a["scope"]["org_units"];
        let units = scope
            .as_array()
            .unwrap_or_else(|| panic!("tenant-wide: {a}"));
        assert!(
            units
                .iter()
                .all(|u| subtree.contains(&u.as_str().unwrap().to_owned())),
            "outside the office: {a}"
        );
    }
    // Users: those of the office's subtree only.
    let users = s.get(&path(p, "/users"), &oa).await;
    users.expect(200);
    let listed = users.body["items"].as_array().unwrap();
    assert!(listed.len() > 1, "{}", users.text);
    for u in listed {
        let home = u["relations"]["org_unit"][0].as_str().unwrap_or_default();
        assert!(
            subtree.contains(&home.to_owned()),
            "outside the office: {u}"
        );
    }
}
