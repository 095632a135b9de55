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

/// Privilege `i` without its children.
fn leaf(p: &Profile, i: PrivId) -> Option<CatalogNode> {
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
        children: Vec::new(),
    })
}

/// The catalog tree of a profile. Built bottom-up without recursion (the loader keeps
/// the tree at most [`crate::profile::limits::MAX_PRIVILEGE_DEPTH`] deep, so that what
/// walks the result, such as a serializer, recurses no deeper).
pub fn catalog(p: &Profile) -> Vec<CatalogSection> {
    let mut built: Vec<Option<CatalogNode>> = vec![None; p.privileges.len()];
    // Children before their parents: each node takes its children as they are done.
    for q in p.parents_first().into_iter().rev() {
        let Some(mut n) = leaf(p, q) else {
            continue;
        };
        let kids = p
            .privileges
            .get(q)
            .map_or(&[][..], |x| x.children.as_slice());
        n.children = kids
            .iter()
            .filter_map(|c| built.get_mut(*c).and_then(Option::take))
            .collect();
        if let Some(slot) = built.get_mut(q) {
            *slot = Some(n);
        }
    }
    let mut sections: Vec<CatalogSection> = p
        .sections
        .iter()
        .map(|s| CatalogSection {
            id: s.id.clone(),
            name: s.name.clone(),
            privileges: Vec::new(),
        })
        .collect();
    for (i, x) in p.privileges.iter().enumerate() {
        if let Parent::Section(si) = x.parent
            && let Some(s) = sections.get_mut(si)
            && let Some(n) = built.get_mut(i).and_then(Option::take)
        {
            s.privileges.push(n);
        }
    }
    sections
}

/// The catalog as indented text, one privilege per line.
pub fn render_catalog(p: &Profile) -> String {
    fn walk(out: &mut String, top: &CatalogNode) {
        let mut stack = vec![(top, 1usize)];
        while let Some((n, depth)) = stack.pop() {
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
            stack.extend(n.children.iter().rev().map(|c| (c, depth + 1)));
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", p.name, p.id);
    for s in catalog(p) {
        let _ = writeln!(out, "\n{}", s.name);
        for n in &s.privileges {
            walk(&mut out, n);
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
