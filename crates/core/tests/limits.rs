//! Profiles at and beyond the limits of docs/profile-format.md ("Limits"), generated
//! here because they are too large for `tests/bad/`: each one beyond a limit is refused
//! with a positioned error naming the limit; each one at a limit loads, compiles and
//! decides correctly (how fast is for the benchmark, `compile-bench`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation should stop the test"
)]

use std::sync::Arc;

use rolecall_core::profile::catalog::{catalog, render_catalog};
use rolecall_core::snapshot::AppointRequest;
use rolecall_core::{
    Assignment, Context, Diagnostics, Entity, Limits, Request, Scope, Snapshot, TenantState,
    load_profile, load_profile_with,
};

const HEAD: &str =
    "[profile]\nid = \"limits\"\nname = \"Limits\"\n\n[[section]]\nid = \"s\"\nname = \"S\"\n\n";

/// `line:column` of the first occurrence of `needle` in `text`, 1-based.
fn pos_of(text: &str, needle: &str) -> String {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in text"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{line}:{col}")
}

/// Asserts that `r` failed with a diagnostic at `pos` whose message contains `fragment`.
#[track_caller]
fn assert_refused<T>(r: Result<T, Diagnostics>, pos: &str, fragment: &str) {
    let Err(e) = r else {
        panic!("loaded, but should fail at {pos} with `{fragment}`");
    };
    let found = e.0.iter().any(|d| {
        d.location
            .as_ref()
            .is_some_and(|l| format!("{}:{}", l.line, l.column) == pos)
            && d.message.contains(fragment)
    });
    assert!(found, "expected {pos}: {fragment}, got:\n{e}");
}

/// A profile whose privileges form one chain `p1` > `p2` > … > `p{depth}`.
fn privilege_chain(depth: usize) -> String {
    let mut t = HEAD.to_owned();
    for i in 1..=depth {
        let parent = if i == 1 {
            "s".to_owned()
        } else {
            format!("p{}", i - 1)
        };
        t.push_str(&format!(
            "[[privilege]]\nid = \"p{i}\"\nname = \"Privilege {i}\"\nparent = \"{parent}\"\n"
        ));
    }
    t.push_str("[[role]]\nid = \"top\"\ngrants = { p1 = true }\n");
    t.push_str("[[action]]\nid = \"deepest\"\nresource = \"tenant\"\n");
    t.push_str(&format!("requires = 'has(\"p{depth}\")'\n"));
    t
}

/// How deep a catalog's tree is, walked without recursion.
fn catalog_depth(p: &rolecall_core::Profile) -> usize {
    let mut deepest = 0;
    for s in catalog(p) {
        let mut stack: Vec<(&rolecall_core::profile::catalog::CatalogNode, usize)> = Vec::new();
        for n in &s.privileges {
            stack.push((n, 1));
        }
        while let Some((n, d)) = stack.pop() {
            deepest = deepest.max(d);
            stack.extend(n.children.iter().map(|c| (c, d + 1)));
        }
    }
    deepest
}

#[test]
fn a_privilege_tree_deeper_than_64_levels_is_refused_where_it_gets_too_deep() {
    // The reported profile: about 3,000 nested privileges (247 KB) crashed the catalog.
    for depth in [65, 3_000] {
        let text = privilege_chain(depth);
        let pos = pos_of(&text, "\"p65\"");
        assert_refused(
            load_profile("profile.toml", &text),
            &pos,
            "privilege tree deeper than 64 levels (`p1` > … > `p64` > `p65`)",
        );
    }
}

#[test]
fn a_privilege_tree_64_levels_deep_loads_and_its_catalog_nests_that_deep() {
    for depth in [60, 64] {
        let text = privilege_chain(depth);
        let p = load_profile("profile.toml", &text).unwrap();
        assert_eq!(catalog_depth(&p), depth);
        let rendered = render_catalog(&p);
        assert!(rendered.contains(&format!("‹p{depth}›")), "{rendered}");
        // Holding the top holds the deepest privilege (parent inclusion, 64 levels down).
        let state = TenantState {
            tenant_id: "t".into(),
            entities: vec![user("alice")],
            assignments: vec![assign("a1", "alice", "top")],
            ..TenantState::default()
        };
        let snap = Snapshot::build(Arc::new(p), &state).unwrap();
        assert!(snap.check(&tenant_request("alice", "deepest")).allowed);
    }
}

fn user(id: &str) -> Entity {
    Entity {
        ty: "user".into(),
        id: id.into(),
        ..Entity::default()
    }
}

fn assign(id: &str, principal: &str, role: &str) -> Assignment {
    Assignment {
        id: id.into(),
        principal: principal.into(),
        role: role.into(),
        scope: Scope::Tenant,
        expires_at: None,
    }
}

fn tenant_request<'a>(principal: &'a str, action: &'a str) -> Request<'a> {
    static EMPTY: std::sync::LazyLock<Context> = std::sync::LazyLock::new(Context::new);
    Request {
        principal,
        action,
        resource_type: "tenant",
        resource_id: "t",
        context: &EMPTY,
        now: 0,
    }
}

/// `n` roles chained: `r0` grants `p`, and `r{i}` includes `r{i-1}`.
fn role_chain(n: usize) -> String {
    let mut t = HEAD.to_owned();
    t.push_str("[[privilege]]\nid = \"p\"\nparent = \"s\"\n");
    t.push_str("[[privilege]]\nid = \"q\"\nparent = \"s\"\n");
    t.push_str("[[role]]\nid = \"r0\"\ngrants = { p = true }\n");
    for i in 1..n {
        t.push_str(&format!(
            "[[role]]\nid = \"r{i}\"\nincludes = [\"r{}\"]\n",
            i - 1
        ));
    }
    t.push_str("[[role]]\nid = \"q_holder\"\ngrants = { q = true }\n");
    t.push_str("[[role]]\nid = \"appointee\"\n");
    t.push_str("[[action]]\nid = \"use_p\"\nresource = \"tenant\"\nrequires = 'has(\"p\")'\n");
    t.push_str(
        "[[appointment]]\nrole = \"appointee\"\nby = [\"r0\"]\nscope_kinds = [\"tenant\"]\n",
    );
    t.push_str(
        "[[separation_of_duty]]\nid = \"r0_vs_q\"\nprivileges = [\"q\"]\nroles = [\"r0\"]\n",
    );
    t
}

#[test]
fn ten_thousand_chained_roles_load_and_decide() {
    let n = 10_000;
    let text = role_chain(n);
    let p = load_profile("chain.toml", &text).unwrap();
    let last = format!("r{}", n - 1);
    let state = TenantState {
        tenant_id: "t".into(),
        entities: vec![user("alice"), user("bob"), user("carol")],
        assignments: vec![
            assign("a1", "alice", &last),
            assign("a2", "alice", "q_holder"),
            assign("a3", "bob", "r1"),
        ],
        ..TenantState::default()
    };
    let snap = Snapshot::build(Arc::new(p.clone()), &state).unwrap();
    // Through 9,999 inclusions.
    assert!(snap.check(&tenant_request("alice", "use_p")).allowed);
    assert!(snap.check(&tenant_request("bob", "use_p")).allowed);
    assert!(!snap.check(&tenant_request("carol", "use_p")).allowed);
    // The reference evaluator agrees (it walks inclusions iteratively too).
    let reference = rolecall_core::reference::check(&p, &state, &tenant_request("alice", "use_p"));
    assert!(reference.allowed);
    // Appointment rules see the inclusion: alice holds `r0` through the chain.
    let appoint = |who: &str| {
        snap.check_appointment(&AppointRequest {
            appointer: who,
            role: "appointee",
            target: "carol",
            scope: &Scope::Tenant,
            now: 0,
        })
        .decision
        .allowed
    };
    assert!(appoint("alice"));
    assert!(!appoint("carol"));
    // So does separation of duty: alice holds `q` and, through the chain, `r0`.
    let v = snap.sod_violations(0);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].user, "alice");
}

#[test]
fn ten_thousand_chained_custom_roles_compile() {
    // A tenant's own roles (written through the API) take the same path as templates.
    let mut text = HEAD.to_owned();
    text.push_str("[[privilege]]\nid = \"p\"\nparent = \"s\"\n");
    text.push_str("[[action]]\nid = \"use_p\"\nresource = \"tenant\"\nrequires = 'has(\"p\")'\n");
    let p = load_profile("custom.toml", &text).unwrap();
    let n = 10_000;
    let roles = (0..n)
        .map(|i| rolecall_core::profile::RoleSpec {
            id: format!("c{i}"),
            includes: if i == 0 {
                Vec::new()
            } else {
                vec![format!("c{}", i - 1)]
            },
            grants: if i == 0 {
                vec![("p".into(), rolecall_core::profile::GrantSpec::Bool(true))]
            } else {
                Vec::new()
            },
            ..Default::default()
        })
        .collect();
    let state = TenantState {
        tenant_id: "t".into(),
        entities: vec![user("alice")],
        roles,
        assignments: vec![assign("a1", "alice", &format!("c{}", n - 1))],
        ..TenantState::default()
    };
    let snap = Snapshot::build(Arc::new(p), &state).unwrap();
    assert!(snap.check(&tenant_request("alice", "use_p")).allowed);
}

#[test]
fn a_role_inclusion_cycle_is_refused_at_each_role_on_it() {
    let mut text = role_chain(5);
    // r0 includes r4: r0 → r4 → r3 → r2 → r1 → r0.
    text = text.replace(
        "id = \"r0\"\ngrants = { p = true }\n",
        "id = \"r0\"\nincludes = [\"r4\"]\ngrants = { p = true }\n",
    );
    let e = load_profile("cycle.toml", &text).unwrap_err();
    assert_refused(
        Err::<(), _>(e.clone()),
        &pos_of(&text, "\"r0\""),
        "role `r0` includes itself through `includes` (`r0` → `r4` → `r3` → `r2` → `r1` → `r0`)",
    );
    for i in 1..5 {
        assert_refused(
            Err::<(), _>(e.clone()),
            &pos_of(&text, &format!("\"r{i}\"\n")),
            &format!("role `r{i}` includes itself through `includes`"),
        );
    }
    // A role including a role of the cycle is not on it.
    assert!(!e.to_string().contains("`q_holder` includes itself"));
}

#[test]
fn an_expression_over_the_term_limit_is_refused_where_the_limit_is_crossed() {
    let expr = |terms: usize| vec!["has(\"p\")"; terms].join(" or ");
    let profile = |requires: &str| {
        format!(
            "{HEAD}[[privilege]]\nid = \"p\"\nparent = \"s\"\n[[action]]\nid = \"a\"\nresource = \"tenant\"\nrequires = '{requires}'\n"
        )
    };
    // 1,000 terms: 999 `has` and the `or` chain.
    assert!(load_profile("ok.toml", &profile(&expr(999))).is_ok());
    let text = profile(&expr(100_000));
    // The 1,000th `has` is the 1,001st term.
    let offset =
        text.find("requires = '").unwrap() + "requires = '".len() + 999 * "has(\"p\") or ".len();
    let line = text[..offset].matches('\n').count() + 1;
    let col = offset - text[..offset].rfind('\n').unwrap();
    assert_refused(
        load_profile("terms.toml", &text),
        &format!("{line}:{col}"),
        "expression has more than 1,000 terms",
    );
    // A deployment may allow more, or fewer.
    let more = Limits {
        max_expression_terms: 200_000,
        max_profile_terms: 200_000,
        ..Limits::default()
    };
    assert!(load_profile_with("terms.toml", &text, &more).is_ok());
    let fewer = Limits {
        max_expression_terms: 10,
        ..Limits::default()
    };
    assert!(load_profile_with("ok.toml", &profile(&expr(10)), &fewer).is_err());
    assert!(load_profile_with("ok.toml", &profile(&expr(9)), &fewer).is_ok());
}

#[test]
fn the_profile_s_expressions_together_are_limited() {
    // 21 actions of 999 terms each: over 20,000 terms at the 21st.
    let mut text = format!("{HEAD}[[privilege]]\nid = \"p\"\nparent = \"s\"\n");
    let expr = vec!["has(\"p\")"; 998].join(" or ");
    for i in 0..21 {
        text.push_str(&format!(
            "[[action]]\nid = \"a{i}\"\nresource = \"tenant\"\nrequires = '{expr}'\n"
        ));
    }
    let at = text.find("id = \"a20\"").unwrap();
    let req = at + text[at..].find("requires = ").unwrap() + "requires = ".len();
    let line = text[..req].matches('\n').count() + 1;
    let col = req - text[..req].rfind('\n').unwrap();
    assert_refused(
        load_profile("total.toml", &text),
        &format!("{line}:{col}"),
        "the profile's expressions have more than 20,000 terms together",
    );
}

#[test]
fn profile_text_over_the_limit_is_refused_before_it_is_parsed() {
    let text = format!("{HEAD}# {}\n", "x".repeat(4 * 1024 * 1024));
    assert_refused(load_profile("big.toml", &text), "1:1", "the limit is 4 MiB");
    let small = Limits {
        max_profile_bytes: 64,
        ..Limits::default()
    };
    assert_refused(
        load_profile_with("small.toml", HEAD, &small),
        "1:1",
        "the limit is 64 bytes",
    );
    assert!(load_profile_with("small.toml", HEAD, &Limits::unbounded()).is_ok());
}

#[test]
fn counts_beyond_their_limits_are_refused_at_the_first_item_past_the_limit() {
    // Roles.
    let mut text = HEAD.to_owned();
    for i in 0..20_001 {
        text.push_str(&format!("[[role]]\nid = \"r{i}\"\n"));
    }
    assert_refused(
        load_profile("roles.toml", &text),
        &pos_of(&text, "[[role]]\nid = \"r20000\""),
        "20,001 roles; the limit is 20,000",
    );
    // Privileges.
    let mut text = HEAD.to_owned();
    for i in 0..4_097 {
        text.push_str(&format!("[[privilege]]\nid = \"p{i}\"\nparent = \"s\"\n"));
    }
    assert_refused(
        load_profile("privileges.toml", &text),
        &pos_of(&text, "[[privilege]]\nid = \"p4096\""),
        "4,097 privileges; the limit is 4,096",
    );
    // Levels of one privilege.
    let levels: Vec<String> = (0..65).map(|i| format!("\"L{i}\"")).collect();
    let text = format!(
        "{HEAD}[[privilege]]\nid = \"p\"\nparent = \"s\"\nkind = \"levels\"\nlevels = [{}]\n",
        levels.join(", ")
    );
    assert_refused(
        load_profile("levels.toml", &text),
        &pos_of(&text, "[\"L0\""),
        "privilege `p` has 65 levels; the limit is 64",
    );
    // Values of an enum attribute.
    let values: Vec<String> = (0..1_025).map(|i| format!("\"v{i}\"")).collect();
    let text = format!(
        "{HEAD}[[resource_type]]\nid = \"call\"\n[resource_type.attributes]\nchannel = {{ type = \"string\", values = [{}] }}\n",
        values.join(", ")
    );
    assert_refused(
        load_profile("enum.toml", &text),
        &pos_of(&text, "{ type"),
        "attribute `channel` has 1,025 values; the limit is 1,024",
    );
    // Bits of the catalog: 200 privileges of 64 levels = 12,800 bits.
    let levels: Vec<String> = (0..64).map(|i| format!("\"L{i}\"")).collect();
    let mut text = HEAD.to_owned();
    for i in 0..200 {
        text.push_str(&format!(
            "[[privilege]]\nid = \"p{i}\"\nparent = \"s\"\nkind = \"levels\"\nlevels = [{}]\n",
            levels.join(", ")
        ));
    }
    // 128 privileges make 8,192 bits; the 129th goes over.
    assert_refused(
        load_profile("bits.toml", &text),
        &pos_of(&text, "\"p128\""),
        "the catalog needs more than 8,192 bits from privilege `p128` on",
    );
}

#[test]
fn many_problems_are_reported_up_to_a_hundred_then_counted() {
    let mut text = HEAD.to_owned();
    for i in 0..5_000 {
        text.push_str(&format!(
            "[[role]]\nid = \"r{i}\"\ngrants = {{ unknown_{i} = true }}\n"
        ));
    }
    let e = load_profile("many.toml", &text).unwrap_err();
    assert_eq!(e.0.len(), 101, "{e}");
    assert_eq!(
        e.0[100].message,
        "4,900 more problems not shown (at most 100 are reported)"
    );
    assert!(e.0[99].location.is_some());
}

#[test]
fn a_deep_org_tree_of_a_nesting_kind_compiles() {
    // Departments in departments (a kind listing itself), 50,000 deep: walked without
    // recursion, and an assignment at the top covers the deepest.
    let text = format!(
        "{HEAD}[[org_unit_kind]]\nid = \"company\"\n[[org_unit_kind]]\nid = \"department\"\nparents = [\"company\", \"department\"]\n\
         [[privilege]]\nid = \"p\"\nparent = \"s\"\n[[role]]\nid = \"r\"\ngrants = {{ p = true }}\n\
         [[action]]\nid = \"see\"\nresource = \"org_unit\"\nrequires = 'has(\"p\")'\n"
    );
    let p = load_profile("org.toml", &text).unwrap();
    let n = 50_000;
    let mut entities = vec![user("alice")];
    entities.push(Entity {
        ty: "org_unit".into(),
        id: "co".into(),
        attributes: vec![(
            "kind".into(),
            rolecall_core::profile::Value::Str("company".into()),
        )],
        ..Entity::default()
    });
    for i in 0..n {
        let parent = if i == 0 {
            "co".to_owned()
        } else {
            format!("d{}", i - 1)
        };
        entities.push(Entity {
            ty: "org_unit".into(),
            id: format!("d{i}"),
            relations: vec![("parent".into(), vec![parent])],
            attributes: vec![(
                "kind".into(),
                rolecall_core::profile::Value::Str("department".into()),
            )],
            ..Entity::default()
        });
    }
    let state = TenantState {
        tenant_id: "t".into(),
        entities,
        assignments: vec![Assignment {
            scope: Scope::OrgUnits(vec!["d0".into()]),
            ..assign("a1", "alice", "r")
        }],
        ..TenantState::default()
    };
    let snap = Snapshot::build(Arc::new(p), &state).unwrap();
    let ctx = Context::new();
    let deepest = format!("d{}", n - 1);
    let allowed = |id: &str| {
        snap.check(&Request {
            principal: "alice",
            action: "see",
            resource_type: "org_unit",
            resource_id: id,
            context: &ctx,
            now: 0,
        })
        .allowed
    };
    assert!(allowed(&deepest));
    assert!(!allowed("co"));
}
