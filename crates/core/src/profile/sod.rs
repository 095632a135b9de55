//! Separation of duty: privileges and roles that no one principal may hold together.

use super::model::{PrivKind, Profile, SodRule};
use crate::expr::resolved::Need;

/// A privilege entry of a rule: `Name` or `Name: Level` (or a choice).
pub fn resolve_entry(p: &Profile, entry: &str) -> Result<(usize, Need), String> {
    if let Some(q) = p.privilege(entry) {
        return Ok((q, Need::Any));
    }
    let Some((name, level)) = entry.rsplit_once(':') else {
        return Err(format!("unknown privilege `{entry}`"));
    };
    let (name, level) = (name.trim(), level.trim());
    let q = p
        .privilege(name)
        .ok_or_else(|| format!("unknown privilege `{name}` in `{entry}`"))?;
    let need = match p.privileges.get(q).map(|x| &x.kind) {
        Some(PrivKind::Levels(levels)) => levels.iter().position(|l| l == level).map(Need::Level),
        Some(PrivKind::Choice { choices, .. }) => {
            choices.iter().position(|c| c == level).map(Need::Choice)
        }
        _ => None,
    };
    need.map(|n| (q, n))
        .ok_or_else(|| format!("`{name}` has no level or choice `{level}`"))
}

/// Checks a rule against a profile (roles are checked when a snapshot is built, since
/// a tenant rule may name custom roles).
pub fn validate_rule(p: &Profile, rule: &SodRule) -> Result<(), String> {
    if !super::load::valid_id(&rule.id) {
        return Err(format!("invalid separation-of-duty rule id `{}`", rule.id));
    }
    if rule.privileges.len() + rule.roles.len() < 2 {
        return Err(format!(
            "separation-of-duty rule `{}` must name at least two privileges or roles",
            rule.id
        ));
    }
    for e in &rule.privileges {
        resolve_entry(p, e).map_err(|m| format!("separation-of-duty rule `{}`: {m}", rule.id))?;
    }
    Ok(())
}
