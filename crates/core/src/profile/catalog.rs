//! The privilege catalog as an admin hub shows it: sections, then privileges nested
//! under their parents, each with its kind and options.

use std::fmt::Write;

use super::model::{Parent, PrivId, PrivKind, Profile};

/// One privilege in the catalog tree.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogNode {
    /// Privilege index.
    pub privilege: PrivId,
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `flag`, `levels`, `choice` or `number`.
    pub kind: &'static str,
    /// Levels or choices, in order.
    pub options: Vec<String>,
    /// Description.
    pub description: Option<String>,
    /// Children.
    pub children: Vec<CatalogNode>,
}

/// A section with its top-level privileges.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogSection {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Top-level privileges.
    pub privileges: Vec<CatalogNode>,
}

fn node(p: &Profile, i: PrivId) -> Option<CatalogNode> {
    let x = p.privileges.get(i)?;
    let options = match &x.kind {
        PrivKind::Flag => Vec::new(),
        PrivKind::Levels(l) => l.clone(),
        PrivKind::Choice { choices, .. } => choices.clone(),
        PrivKind::Number { min, max, unit, .. } => {
            vec![format!(
                "{min}..{max}{}",
                unit.as_ref().map(|u| format!(" {u}")).unwrap_or_default()
            )]
        }
    };
    Some(CatalogNode {
        privilege: i,
        id: x.id.clone(),
        name: x.name.clone(),
        kind: x.kind.name(),
        options,
        description: x.description.clone(),
        children: x.children.iter().filter_map(|c| node(p, *c)).collect(),
    })
}

/// The catalog tree of a profile.
pub fn catalog(p: &Profile) -> Vec<CatalogSection> {
    p.sections
        .iter()
        .enumerate()
        .map(|(si, s)| CatalogSection {
            id: s.id.clone(),
            name: s.name.clone(),
            privileges: p
                .privileges
                .iter()
                .enumerate()
                .filter(|(_, x)| x.parent == Parent::Section(si))
                .filter_map(|(i, _)| node(p, i))
                .collect(),
        })
        .collect()
}

/// The catalog as indented text, one privilege per line.
pub fn render_catalog(p: &Profile) -> String {
    fn walk(out: &mut String, n: &CatalogNode, depth: usize) {
        let options = match n.kind {
            "levels" => format!("  [{}]", n.options.join(" < ")),
            "choice" => format!("  ({})", n.options.join(" | ")),
            "number" => format!("  #{}", n.options.join("")),
            _ => String::new(),
        };
        let marker = if n.children.is_empty() { "-" } else { "+" };
        let _ = writeln!(
            out,
            "{}{marker} {}{options}  ‹{}›",
            "  ".repeat(depth),
            n.name,
            n.id
        );
        for c in &n.children {
            walk(out, c, depth + 1);
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", p.name, p.id);
    for s in catalog(p) {
        let _ = writeln!(out, "\n{}", s.name);
        for n in &s.privileges {
            walk(&mut out, n, 1);
        }
    }
    let _ = writeln!(
        out,
        "\n{} privileges, {} role templates, {} actions",
        p.privileges.len(),
        p.roles.len(),
        p.actions.len()
    );
    out
}
