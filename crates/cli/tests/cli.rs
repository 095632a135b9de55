//! The `rolecall` binary end to end: exit codes, output shapes, error messages.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation should stop the test"
)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rolecall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

const PROFILES: [&str; 5] = [
    "contact-center-pro",
    "phones-pro",
    "zoom-contact-center",
    "goto-contact-center",
    "horizon-contact",
];

#[test]
fn validate_accepts_every_shipped_profile() {
    for p in PROFILES {
        let o = rolecall(&["validate", &format!("profiles/{p}.toml")]);
        assert_eq!(o.status.code(), Some(0), "{p}: {}", stderr(&o));
        assert!(stdout(&o).starts_with("ok: "), "{}", stdout(&o));
    }
}

#[test]
fn test_prints_a_line_per_assertion_and_a_summary() {
    for p in PROFILES {
        let o = rolecall(&["test", &format!("profiles/{p}.world.toml")]);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{p}: {out}{}", stderr(&o));
        let pass = out
            .lines()
            .filter(|l| l.trim_start().starts_with("PASS"))
            .count();
        let last = out.lines().last().unwrap();
        assert_eq!(last, format!("{pass} passed, 0 failed"));
        assert!(pass >= 30, "{p}: {pass} assertions");
    }
}

#[test]
fn a_failing_assertion_fails_the_run() {
    let dir = tempdir();
    let world = std::fs::read_to_string(root().join("crates/core/tests/bad/good.world")).unwrap();
    std::fs::copy(
        root().join("crates/core/tests/bad/good.profile"),
        dir.join("good.profile"),
    )
    .unwrap();
    // Flip the first expectation.
    let flipped = world.replacen("expect = \"allow\"", "expect = \"deny\"", 1);
    std::fs::write(dir.join("w.toml"), flipped).unwrap();
    let o = rolecall(&["test", dir.join("w.toml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("FAIL"), "{out}");
    assert!(
        out.lines().last().unwrap().ends_with("passed, 1 failed"),
        "{out}"
    );
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "rolecall-cli-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
fn check_prints_the_obligations_of_an_allowed_decision() {
    // Horizon: "Supervisor Portal: Agents Anonymous" views live agents without their
    // identities; "Agents Identified" with them. Both are allowed; only the first
    // carries the obligation to mask.
    let w = "profiles/horizon-contact.world.toml";
    let ask = |who: &str, explain: bool| {
        let mut args = vec![
            "check",
            "--world",
            w,
            "--principal",
            who,
            "--action",
            "data.live.agents",
            "--resource",
            "user:alice",
        ];
        if explain {
            args.push("--explain");
        }
        rolecall(&args)
    };
    for explain in [false, true] {
        let anonymous = ask("arlo", explain);
        assert_eq!(anonymous.status.code(), Some(0));
        let out = stdout(&anonymous);
        assert!(
            out.lines()
                .any(|l| l.starts_with("obligation: mask_agent_identity")),
            "{out}"
        );
        let identified = ask("sam", explain);
        assert_eq!(identified.status.code(), Some(0));
        assert!(
            !stdout(&identified).contains("obligation"),
            "{}",
            stdout(&identified)
        );
    }
}

#[test]
fn check_exit_codes_distinguish_allow_deny_and_error() {
    let w = "crates/core/tests/bad/good.world";
    let allow = rolecall(&[
        "check",
        "--world",
        w,
        "--principal",
        "alice",
        "--action",
        "conversation.edit",
        "--resource",
        "conversation:c1",
    ]);
    assert_eq!(allow.status.code(), Some(0));
    assert_eq!(stdout(&allow).trim(), "allow");
    let deny = rolecall(&[
        "check",
        "--world",
        w,
        "--principal",
        "alice",
        "--action",
        "conversation.edit",
        "--resource",
        "conversation:c2",
    ]);
    assert_eq!(deny.status.code(), Some(1));
    assert_eq!(stdout(&deny).trim(), "deny");
    let error = rolecall(&[
        "check",
        "--world",
        w,
        "--principal",
        "alice",
        "--action",
        "conversation.edit",
        "--resource",
        "conversation:nope",
    ]);
    assert_eq!(error.status.code(), Some(2));
    assert!(
        stderr(&error).contains("unknown conversation `nope`"),
        "{}",
        stderr(&error)
    );
    let bad_action = rolecall(&[
        "check",
        "--world",
        w,
        "--principal",
        "alice",
        "--action",
        "nope",
        "--resource",
        "conversation:c1",
    ]);
    assert_eq!(bad_action.status.code(), Some(2));
    assert!(stderr(&bad_action).contains("unknown action `nope`"));
}

#[test]
fn explain_names_the_missing_privilege_and_the_scope() {
    let w = "crates/core/tests/bad/good.world";
    let o = rolecall(&[
        "check",
        "--world",
        w,
        "--principal",
        "mgr",
        "--action",
        "conversation.edit",
        "--resource",
        "conversation:c2",
        "--explain",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.starts_with("denied:"), "{out}");
    assert!(
        out.contains("has(\"Edit All Historical Conversations\")"),
        "{out}"
    );
    assert!(out.contains("grants it only over org unit `west`"), "{out}");
    // After expiry, the explanation says so.
    let o = rolecall(&[
        "check",
        "--world",
        w,
        "--principal",
        "mgr",
        "--action",
        "users.modify",
        "--resource",
        "user:alice",
        "--at",
        "2026-12-05T00:00:00Z",
        "--explain",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("expired"), "{}", stdout(&o));
    // A missing relation is named.
    let o = rolecall(&[
        "check",
        "--world",
        w,
        "--principal",
        "alice",
        "--action",
        "agent.status.view",
        "--resource",
        "user:carol",
        "--explain",
    ]);
    assert!(
        stdout(&o).contains("shares(principal.groups, resource.groups)"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn bad_profile_reports_file_line_and_column() {
    let o = rolecall(&["validate", "crates/core/tests/bad/p01_unknown_level.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("p01_unknown_level.toml:91:26: unknown level `Modfy` for `Users`"),
        "{}",
        stderr(&o)
    );
    let o = rolecall(&["validate", "no/such/file.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read `no/such/file.toml`"));
}

#[test]
fn catalog_shows_the_tree_with_levels() {
    let o = rolecall(&["catalog", "profiles/horizon-contact.toml"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.contains("CRM  [View only < Modify < Modify and delete]"),
        "{out}"
    );
    let o = rolecall(&["catalog", "profiles/contact-center-pro.toml"]);
    let out = stdout(&o);
    assert!(out.contains("+ View & Action Conversations"), "{out}");
    assert!(
        out.contains("    - Edit All Historical Conversations"),
        "{out}"
    );
}

#[test]
fn assertion_setting_overrides_change_the_decision() {
    let dir = tempdir();
    let world = std::fs::read_to_string(root().join("crates/core/tests/bad/good.world")).unwrap();
    std::fs::copy(
        root().join("crates/core/tests/bad/good.profile"),
        dir.join("good.profile"),
    )
    .unwrap();
    let extra = "\n[[assert]]\nprincipal = \"alice\"\naction = \"queue.login\"\nresource = \"queue:q2\"\nsettings = { unassigned_login = true }\nexpect = \"allow\"\n";
    std::fs::write(dir.join("w.toml"), format!("{world}{extra}")).unwrap();
    let o = rolecall(&["test", dir.join("w.toml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("[with unassigned_login=true]"));
    // An unknown setting fails the assertion with an error, never passes it.
    let bad = extra.replace("unassigned_login = true", "no_such_setting = true");
    std::fs::write(dir.join("w.toml"), format!("{world}{bad}")).unwrap();
    let o = rolecall(&["test", dir.join("w.toml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("unknown setting `no_such_setting`"),
        "{}",
        stdout(&o)
    );
}
