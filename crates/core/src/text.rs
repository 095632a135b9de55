//! Text that rolecall stores holds no control characters (Unicode's `Cc`: NUL, the
//! rest of C0, DEL and C1), except tab, line feed and carriage return in free text
//! (role descriptions). PostgreSQL cannot store NUL at all and SQLite can, so refusing
//! them here keeps both backends alike; in ids, names and values they only hide what is
//! there. [`Change::check_text`] applies the rule to every string a change writes.

use crate::change::{Change, Tuple};
use crate::profile::{GrantSpec, RoleSpec, Value};
use crate::state::Scope;

/// What a string is, for the characters it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// Ids, names, values: no control character at all.
    Line,
    /// Free text (descriptions): tab, line feed and carriage return allowed.
    Free,
}

/// The first control character `s` may not hold as `kind`.
pub fn forbidden_char(s: &str, kind: TextKind) -> Option<char> {
    s.chars()
        .find(|&c| c.is_control() && !(kind == TextKind::Free && matches!(c, '\t' | '\n' | '\r')))
}

/// A string holding a control character: the field it is in and the character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{field} contains the control character U+{code:04X}; ids, names and values may not hold control characters (descriptions may hold tabs and line breaks)",
    code = u32::from(*found)
)]
pub struct TextError {
    /// Where, in the API's words (e.g. "`name` of user `alice`").
    pub field: String,
    /// The character.
    pub found: char,
}

/// Checks one string; `field` names it in the error (called only on failure).
pub fn check(s: &str, kind: TextKind, field: impl FnOnce() -> String) -> Result<(), TextError> {
    match forbidden_char(s, kind) {
        None => Ok(()),
        Some(found) => Err(TextError {
            field: field(),
            found,
        }),
    }
}

/// `s` as it can be shown inside backticks: control characters escaped.
pub fn shown(s: &str) -> String {
    s.chars().take(60).flat_map(char::escape_debug).collect()
}

fn line(s: &str, field: impl FnOnce() -> String) -> Result<(), TextError> {
    check(s, TextKind::Line, field)
}

fn each(items: &[String], field: &str, of: &str) -> Result<(), TextError> {
    items
        .iter()
        .try_for_each(|s| line(s, || format!("`{field}` of {of}")))
}

fn value(v: &Value, field: impl FnOnce() -> String) -> Result<(), TextError> {
    match v {
        Value::Str(s) => line(s, field),
        Value::Bool(_) | Value::Int(_) => Ok(()),
    }
}

fn tuple(t: &Tuple) -> Result<(), TextError> {
    for (s, part) in [
        (&t.rtype, "resource type"),
        (&t.rid, "resource id"),
        (&t.relation, "relation"),
        (&t.stype, "subject type"),
        (&t.sid, "subject id"),
    ] {
        line(s, || format!("the {part} of a relation tuple"))?;
    }
    Ok(())
}

fn grants(list: &[(String, GrantSpec)], field: &str, of: &str) -> Result<(), TextError> {
    for (privilege, g) in list {
        line(privilege, || format!("a privilege in `{field}` of {of}"))?;
        let at = || format!("`{field}` of {of} for privilege `{}`", shown(privilege));
        match g {
            GrantSpec::Str(s) => line(s, at)?,
            GrantSpec::List(items) => items.iter().try_for_each(|s| line(s, at))?,
            GrantSpec::Bool(_) | GrantSpec::Int(_) => {}
        }
    }
    Ok(())
}

fn role(r: &RoleSpec) -> Result<(), TextError> {
    line(&r.id, || "`id` of a role".to_owned())?;
    let of = format!("role `{}`", r.id);
    if let Some(n) = &r.name {
        line(n, || format!("`name` of {of}"))?;
    }
    if let Some(d) = &r.description {
        check(d, TextKind::Free, || format!("`description` of {of}"))?;
    }
    if let Some(t) = &r.role_type {
        line(t, || format!("`role_type` of {of}"))?;
    }
    each(&r.includes, "includes", &of)?;
    grants(&r.grants, "grants", &of)?;
    grants(&r.locked, "locked", &of)
}

impl Change {
    /// Refuses a control character in any string this change writes (see the module).
    pub fn check_text(&self) -> Result<(), TextError> {
        match self {
            Change::UpsertEntity {
                ty,
                id,
                name,
                attributes,
            } => {
                line(ty, || "the type of an entity".to_owned())?;
                line(id, || format!("`id` of a {}", shown(ty)))?;
                let of = format!("{} `{id}`", shown(ty));
                if let Some(n) = name {
                    line(n, || format!("`name` of {of}"))?;
                }
                for (k, v) in attributes {
                    line(k, || format!("an attribute name of {of}"))?;
                    value(v, || format!("attribute `{}` of {of}", shown(k)))?;
                }
                Ok(())
            }
            Change::DeleteEntity { ty, id } => {
                line(ty, || "the type of an entity".to_owned())?;
                line(id, || format!("`id` of a {}", shown(ty)))
            }
            Change::PutRelation(t) | Change::DeleteRelation(t) => tuple(t),
            Change::PutRole { role: r, .. } => role(r),
            Change::DeleteRole { id } => line(id, || "`id` of a role".to_owned()),
            Change::PutAssignment(a) => {
                line(&a.id, || "`id` of an assignment".to_owned())?;
                let of = format!("assignment `{}`", a.id);
                line(&a.principal, || format!("`principal` of {of}"))?;
                line(&a.role, || format!("`role` of {of}"))?;
                match &a.scope {
                    Scope::Tenant => Ok(()),
                    Scope::OrgUnits(ids) => each(ids, "scope", &of),
                    Scope::Queues(ids) => each(ids, "scope", &of),
                }
            }
            Change::DeleteAssignment { id } => line(id, || "`id` of an assignment".to_owned()),
            Change::PutSodRule(r) => {
                line(&r.id, || "`id` of a separation-of-duty rule".to_owned())?;
                let of = format!("separation-of-duty rule `{}`", r.id);
                if let Some(n) = &r.name {
                    line(n, || format!("`name` of {of}"))?;
                }
                each(&r.privileges, "privileges", &of)?;
                each(&r.roles, "roles", &of)
            }
            Change::DeleteSodRule { id } => {
                line(id, || "`id` of a separation-of-duty rule".to_owned())
            }
            Change::SetSetting { key, value: v } => {
                line(key, || "a setting name".to_owned())?;
                value(v, || format!("setting `{}`", shown(key)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_and_named() {
        let c = Change::UpsertEntity {
            ty: "user".into(),
            id: "alice".into(),
            name: Some("Al\u{0}ice".into()),
            attributes: vec![],
        };
        let e = c
            .check_text()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("`name` of user `alice`"), "{e}");
        assert!(e.contains("U+0000"), "{e}");
        let ok = Change::UpsertEntity {
            ty: "user".into(),
            id: "alice".into(),
            name: Some("Alice Ünïcödé 🎧".into()),
            attributes: vec![("seat".into(), Value::Str("advanced".into()))],
        };
        assert_eq!(ok.check_text(), Ok(()));
        let attr = Change::SetSetting {
            key: "k".into(),
            value: Value::Str("a\u{1b}[31m".into()),
        };
        assert!(attr.check_text().is_err());
        let del = Change::SetSetting {
            key: "k".into(),
            value: Value::Str("a\u{7f}".into()),
        };
        assert!(del.check_text().is_err());
        let c1 = Change::SetSetting {
            key: "k".into(),
            value: Value::Str("a\u{85}".into()),
        };
        assert!(c1.check_text().is_err());
    }

    #[test]
    fn descriptions_may_hold_tabs_and_line_breaks_only() {
        let mut r = RoleSpec {
            id: "r".into(),
            description: Some("line one\n\tline two\r\n".into()),
            ..RoleSpec::default()
        };
        let put = |r: &RoleSpec| Change::PutRole {
            role: r.clone(),
            version: 1,
        };
        assert_eq!(put(&r).check_text(), Ok(()));
        r.description = Some("bell\u{7}".into());
        assert!(put(&r).check_text().is_err());
        r.description = None;
        r.name = Some("two\nlines".into());
        let e = put(&r)
            .check_text()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("`name` of role `r`"), "{e}");
    }
}
