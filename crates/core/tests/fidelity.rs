//! The fidelity tables (`docs/fidelity/<profile>.md`): every line of each vendor
//! document is accounted for, as a rule (quoted, beside the profile's encoding and the
//! checks that hold it) or as something that is not a rule (navigation, steps, prose).
//!
//! For each shipped profile this test reads its table and asserts that
//! - every quote (`"…"` in a Seed cell) is the seed's own text (whitespace aside);
//! - every letter and digit of every seed line is inside some quote of the table;
//! - every rule row names at least one encoding (`action `id``, `privilege `name``,
//!   `role `id``, …) that exists in the profile, and at least one check: a world
//!   assertion (`world `id``) that exists and passes, or a test
//!   (`test `path::name``) that exists;
//! - the count the table states ("Rules and rows covered: N") is its number of rule rows.
//!
//! So a profile change that drops a row's encoding, or a world change that drops or
//! breaks its assertion, fails here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation should stop the test"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rolecall_core::world::{Outcome, parse_world, run_assertions};
use rolecall_core::{Profile, load_profile};

const PROFILES: [&str; 5] = [
    "contact-center-pro",
    "goto-contact-center",
    "horizon-contact",
    "phones-pro",
    "zoom-contact-center",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whitespace runs as one space, trimmed; typographic quotes as they are.
fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `"…"` quotes of a cell.
fn quotes(cell: &str) -> Vec<String> {
    cell.split('"')
        .skip(1)
        .step_by(2)
        .map(norm)
        .filter(|q| !q.is_empty())
        .collect()
}

/// `(kind, name)` pairs written as ``kind `name` `` in a cell.
fn refs(cell: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let parts: Vec<&str> = cell.split('`').collect();
    let mut i = 1;
    while i < parts.len() {
        let kind = parts[i - 1]
            .trim_end()
            .rsplit(|c: char| c.is_whitespace() || c == ';' || c == ',' || c == '(')
            .next()
            .unwrap_or("")
            .to_owned();
        out.push((kind, parts[i].to_owned()));
        i += 2;
    }
    out
}

/// The cells of a Markdown table row (`| a | b |`), or None for other lines.
fn cells(line: &str) -> Option<Vec<String>> {
    let l = line.trim();
    if !l.starts_with('|') || !l.ends_with('|') || l.len() < 2 {
        return None;
    }
    let inner = &l[1..l.len() - 1];
    let cs: Vec<String> = inner.split('|').map(|c| c.trim().to_owned()).collect();
    if cs
        .iter()
        .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
    {
        return None; // the separator row
    }
    Some(cs)
}

struct Table {
    /// (line number, seed cell, encoding cell, checks cell)
    rules: Vec<(usize, String, String, String)>,
    /// (line number, seed cell)
    not_rules: Vec<(usize, String)>,
    stated: Option<usize>,
}

fn parse_table(text: &str) -> Table {
    let mut t = Table {
        rules: Vec::new(),
        not_rules: Vec::new(),
        stated: None,
    };
    let mut section = "";
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if let Some(h) = line.strip_prefix("## ") {
            section = if h.trim().eq_ignore_ascii_case("Rules") {
                "rules"
            } else if h.trim().eq_ignore_ascii_case("Not rules") {
                "not"
            } else {
                ""
            };
            continue;
        }
        if let Some(rest) = line.split("Rules and rows covered:").nth(1) {
            let digits: String = rest
                .trim()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            t.stated = digits.parse().ok();
        }
        let Some(cs) = cells(line) else { continue };
        match section {
            "rules" if cs.len() == 4 && cs[0] != "#" => {
                t.rules
                    .push((n, cs[1].clone(), cs[2].clone(), cs[3].clone()));
            }
            "not" if cs.len() == 2 && cs[0] != "Seed" => t.not_rules.push((n, cs[0].clone())),
            "rules" | "not" if cs[0] == "#" || cs[0] == "Seed" => {}
            "rules" | "not" => panic!("line {n}: a row of the wrong width: {line}"),
            _ => {}
        }
    }
    t
}

/// Whether `kind name` names something the profile declares.
fn encoded(p: &Profile, kind: &str, name: &str) -> Result<(), String> {
    let ok = match kind {
        "action" => p.action(name).is_some(),
        "privilege" => p.privilege(name).is_some(),
        "section" => p.sections.iter().any(|s| s.id == name || s.name == name),
        "role" => p.role(name).is_some(),
        "role_type" => p.role_types.iter().any(|t| t.id == name),
        "appointment" => p.appointments.iter().any(|a| a.role == name),
        "management" => p.management.iter().any(|(o, _)| o == name),
        "delegation" => p.delegation.iter().any(|d| d.operation.as_str() == name),
        "setting" => p.setting(name).is_some(),
        "invariant" => p.invariants.iter().any(|i| {
            let rolecall_core::profile::Invariant::Monotonic { ty, attr, .. } = i;
            p.types.get(*ty).is_some_and(|t| {
                t.attributes
                    .get(*attr)
                    .is_some_and(|a| format!("{}.{}", t.id, a.name) == name)
            })
        }),
        "org_kind" => p.org_kinds.iter().any(|k| k.id == name),
        "type" => p.type_id(name).is_some(),
        "sod" => p.separation_of_duty.iter().any(|r| r.id == name),
        "obligation" => p
            .actions
            .iter()
            .any(|a| a.obligations.iter().any(|o| o.id == name)),
        "profile" => matches!(name, "default_role_type") && p.default_role_type.is_some(),
        other => {
            return Err(format!(
                "unknown encoding kind `{other}` (action, privilege, section, role, role_type, \
                 appointment, management, delegation, setting, invariant, org_kind, type, sod, \
                 obligation, profile)"
            ));
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("the profile has no {kind} `{name}`"))
    }
}

fn check_profile(id: &str) -> Vec<String> {
    let root = root();
    let mut problems = Vec::new();
    let ptext = std::fs::read_to_string(root.join(format!("profiles/{id}.toml"))).unwrap();
    let profile = load_profile(id, &ptext).unwrap_or_else(|e| panic!("{e}"));
    let seed_file = profile
        .seed
        .clone()
        .expect("every shipped profile names its seed");
    let seed = std::fs::read_to_string(root.join("docs/fidelity/seeds").join(&seed_file))
        .unwrap_or_else(|e| panic!("seed {seed_file}: {e}"));
    let doc_path = root.join(format!("docs/fidelity/{id}.md"));
    let Ok(doc) = std::fs::read_to_string(&doc_path) else {
        return vec![format!("{} is missing", doc_path.display())];
    };
    let doc_name = format!("docs/fidelity/{id}.md");
    let table = parse_table(&doc);

    // The world and its results, for `world` references.
    let wpath = root.join(format!("profiles/{id}.world.toml"));
    let wtext = std::fs::read_to_string(&wpath).unwrap();
    let world = parse_world(&wpath.display().to_string(), &wtext).unwrap_or_else(|e| panic!("{e}"));
    let snap = world
        .build(Arc::new(profile.clone()))
        .unwrap_or_else(|e| panic!("{e}"));
    let results = run_assertions(&world, &snap);

    let seed_lines: Vec<String> = seed.lines().map(norm).filter(|l| !l.is_empty()).collect();
    let mut all_quotes: Vec<String> = Vec::new();
    let mut quote_ok = |n: usize, cell: &str, problems: &mut Vec<String>| {
        let qs = quotes(cell);
        if qs.is_empty() {
            problems.push(format!("{doc_name}:{n}: no quote in the Seed cell"));
        }
        for q in qs {
            if !seed_lines.iter().any(|l| l.contains(&q)) {
                problems.push(format!(
                    "{doc_name}:{n}: not the seed's text (or it spans lines): \"{q}\""
                ));
            }
            all_quotes.push(q);
        }
    };
    for (n, seed_cell, enc, checks) in &table.rules {
        quote_ok(*n, seed_cell, &mut problems);
        let encs = refs(enc);
        if encs.is_empty() {
            problems.push(format!("{doc_name}:{n}: no encoding named"));
        }
        for (kind, name) in encs {
            if let Err(e) = encoded(&profile, &kind, &name) {
                problems.push(format!("{doc_name}:{n}: {e}"));
            }
        }
        let cs = refs(checks);
        if cs.is_empty() {
            problems.push(format!("{doc_name}:{n}: no check named"));
        }
        for (kind, name) in cs {
            match kind.as_str() {
                "world" => match results
                    .iter()
                    .find(|r| r.assertion.id.as_deref() == Some(name.as_str()))
                {
                    None => problems.push(format!(
                        "{doc_name}:{n}: no assertion `{name}` in profiles/{id}.world.toml"
                    )),
                    Some(r) if r.outcome != Outcome::Pass => {
                        problems.push(format!("{doc_name}:{n}: assertion `{name}` does not pass"))
                    }
                    Some(_) => {}
                },
                "test" => {
                    let Some((file, func)) = name.split_once("::") else {
                        problems.push(format!("{doc_name}:{n}: test `{name}` is not path::name"));
                        continue;
                    };
                    let found = std::fs::read_to_string(root.join(file))
                        .map(|t| t.contains(&format!("fn {func}(")))
                        .unwrap_or(false);
                    if !found {
                        problems.push(format!("{doc_name}:{n}: no test `{func}` in {file}"));
                    }
                }
                other => problems.push(format!(
                    "{doc_name}:{n}: unknown check kind `{other}` (world, test)"
                )),
            }
        }
    }
    for (n, seed_cell) in &table.not_rules {
        quote_ok(*n, seed_cell, &mut problems);
    }

    // Every letter and digit of every seed line is inside some quote.
    for line in &seed_lines {
        let chars: Vec<(usize, char)> = line.char_indices().collect();
        let mut covered = vec![false; line.len()];
        for q in &all_quotes {
            let mut from = 0;
            while let Some(i) = line.get(from..).and_then(|rest| rest.find(q.as_str())) {
                let start = from + i;
                for c in covered.iter_mut().skip(start).take(q.len()) {
                    *c = true;
                }
                from = start + 1;
            }
        }
        let missing: String = chars
            .iter()
            .filter(|(i, c)| c.is_alphanumeric() && !covered[*i])
            .map(|(_, c)| *c)
            .take(60)
            .collect();
        if !missing.is_empty() {
            let shown: String = line.chars().take(100).collect();
            problems.push(format!(
                "{doc_name}: seed line not accounted for: \"{shown}\" (uncovered: {missing}…)"
            ));
        }
    }

    match table.stated {
        Some(k) if k == table.rules.len() => {}
        Some(k) => problems.push(format!(
            "{doc_name}: states {k} rules and rows, has {}",
            table.rules.len()
        )),
        None => problems.push(format!("{doc_name}: no \"Rules and rows covered: N\" line")),
    }
    problems
}

#[test]
fn the_seed_copies_are_the_vendor_documents() {
    // The repository keeps copies so that the tables can be checked anywhere; where the
    // project's shared seeds are present, the copies must be the same bytes.
    let shared = root().join("../shared/seeds");
    let Ok(entries) = std::fs::read_dir(&shared) else {
        return;
    };
    for e in entries {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_owned();
        let copy = root().join("docs/fidelity/seeds").join(&name);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(&copy).unwrap_or_default(),
            "docs/fidelity/seeds/{} differs from {}",
            name.to_string_lossy(),
            path.display()
        );
    }
}

#[test]
fn every_seed_line_is_accounted_for_by_its_fidelity_table() {
    let mut problems = Vec::new();
    for id in PROFILES {
        problems.extend(check_profile(id));
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
