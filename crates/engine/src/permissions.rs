//! A user's effective permissions, for a UI that shows or hides controls: the
//! privileges held for a resource (or the tenant) and every action on that resource's
//! type, allowed or not.

use rolecall_core::profile::{TypeId, USER};
use rolecall_core::snapshot::HeldPrivilege;
use rolecall_core::{Context, Request, Snapshot};

use crate::actor::Actor;
use crate::authz::may_act_for;
use crate::error::{EngineError, EngineResult};
use crate::tenant::Tenant;

/// An action and whether the user may perform it.
#[derive(Debug, Clone)]
pub struct ActionAllowed {
    /// Id.
    pub id: String,
    /// The vendor's wording.
    pub name: String,
    /// Allowed on the resource.
    pub allowed: bool,
}

/// What a user may do on one resource.
#[derive(Debug, Clone)]
pub struct Permissions {
    /// The user.
    pub user: String,
    /// `TYPE:ID` the permissions are for.
    pub resource: String,
    /// Privileges held for that resource.
    pub privileges: Vec<HeldPrivilege>,
    /// Every action on that resource's type.
    pub actions: Vec<ActionAllowed>,
    /// The revision answered from.
    pub revision: u64,
}

impl Tenant {
    /// `user`'s effective permissions on `resource` (`TYPE:ID`; default: the tenant).
    pub async fn permissions(
        &self,
        actor: &Actor,
        user: &str,
        resource: Option<&str>,
        at_least: impl Into<crate::Consistency>,
    ) -> EngineResult<Permissions> {
        let view = self.read(at_least).await?;
        let now = self.now();
        may_act_for(&view.snapshot, actor, user, now)?;
        permissions_in(&view.snapshot, view.revision, user, resource, now)
    }
}

/// `user`'s effective permissions on `resource` (`TYPE:ID`; default: the tenant) in
/// `snap` (at `revision`) at `now`. Deciding who may ask is the caller's.
pub fn permissions_in(
    snap: &Snapshot,
    revision: u64,
    user: &str,
    resource: Option<&str>,
    now: i64,
) -> EngineResult<Permissions> {
    let p = snap.profile();
    let u = snap
        .entity(USER, user)
        .ok_or_else(|| EngineError::NotFound(format!("unknown user `{user}`")))?;
    let resource = resource.map_or_else(|| format!("tenant:{}", snap.tenant_id()), str::to_owned);
    let (ty_name, rid) = resource
        .split_once(':')
        .ok_or_else(|| EngineError::BadRequest(format!("resource `{resource}` must be TYPE:ID")))?;
    let ty: TypeId = p
        .type_id(ty_name)
        .ok_or_else(|| EngineError::BadRequest(format!("unknown resource type `{ty_name}`")))?;
    let e = snap
        .entity(ty, rid)
        .ok_or_else(|| EngineError::NotFound(format!("unknown {ty_name} `{rid}`")))?;
    let privileges = snap.privileges_in(&snap.held_set(u, ty, e, now));
    let ctx = Context::new();
    let actions = p
        .actions
        .iter()
        .filter(|a| a.resource == ty)
        .map(|a| ActionAllowed {
            id: a.id.clone(),
            name: a.name.clone(),
            allowed: snap
                .check(&Request {
                    principal: user,
                    action: &a.id,
                    resource_type: ty_name,
                    resource_id: rid,
                    context: &ctx,
                    now,
                })
                .allowed,
        })
        .collect();
    Ok(Permissions {
        user: user.to_owned(),
        resource: resource.clone(),
        privileges,
        actions,
        revision,
    })
}

/// Something a user gained or lost: an action on the resource, or a privilege held
/// for it (with its level or choices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permission {
    /// An action now allowed (gained) or no longer allowed (lost).
    Action {
        /// Id.
        id: String,
        /// The vendor's wording.
        name: String,
    },
    /// A privilege as held: newly held or held differently (gained), no longer held
    /// or held differently (lost).
    Privilege(HeldPrivilege),
}

/// How a user's effective permissions moved between two answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionChange {
    /// What the newer answer has that the older one did not.
    pub gained: Vec<Permission>,
    /// What the older answer had that the newer one does not.
    pub lost: Vec<Permission>,
    /// One sentence per change, e.g. "alice may now barge into live calls on call c1",
    /// "alice no longer holds “Users” (View only)", "alice now holds “Reports” for
    /// call c1".
    pub text: Vec<String>,
}

impl PermissionChange {
    /// Whether nothing moved.
    pub fn is_empty(&self) -> bool {
        self.gained.is_empty() && self.lost.is_empty()
    }
}

impl Permissions {
    /// What changed from `self` to `newer` (the same user and resource): actions
    /// allowed or no longer allowed, privileges held, no longer held, or held at
    /// another level or with other choices; privileges first, then actions, each in
    /// the profile's order.
    pub fn diff(&self, newer: &Permissions) -> PermissionChange {
        let who = &newer.user;
        let on = resource_phrase("on", &newer.resource);
        let of = resource_phrase("for", &newer.resource);
        let mut out = PermissionChange::default();
        let held = |list: &[HeldPrivilege], id: &str| list.iter().find(|h| h.id == id).cloned();
        for n in &newer.privileges {
            match held(&self.privileges, &n.id) {
                Some(o) if o == *n => {}
                Some(o) => {
                    out.text.push(format!(
                        "{who} now holds “{}”{}{of} (before: {})",
                        n.name,
                        holding(n),
                        holding_bare(&o)
                    ));
                    out.gained.push(Permission::Privilege(n.clone()));
                    out.lost.push(Permission::Privilege(o));
                }
                None => {
                    out.text
                        .push(format!("{who} now holds “{}”{}{of}", n.name, holding(n)));
                    out.gained.push(Permission::Privilege(n.clone()));
                }
            }
        }
        for o in &self.privileges {
            if held(&newer.privileges, &o.id).is_none() {
                out.text.push(format!(
                    "{who} no longer holds “{}”{}{of}",
                    o.name,
                    holding(o)
                ));
                out.lost.push(Permission::Privilege(o.clone()));
            }
        }
        for n in &newer.actions {
            let before = self
                .actions
                .iter()
                .find(|a| a.id == n.id)
                .is_some_and(|a| a.allowed);
            let action = Permission::Action {
                id: n.id.clone(),
                name: n.name.clone(),
            };
            match (before, n.allowed) {
                (false, true) => {
                    out.text
                        .push(format!("{who} may now {}{on}", lower_first(&n.name)));
                    out.gained.push(action);
                }
                (true, false) => {
                    out.text
                        .push(format!("{who} may no longer {}{on}", lower_first(&n.name)));
                    out.lost.push(action);
                }
                _ => {}
            }
        }
        out
    }
}

/// ` on call c1` (`word` `on`), or nothing for the tenant itself.
fn resource_phrase(word: &str, resource: &str) -> String {
    match resource.split_once(':') {
        Some(("tenant", _)) | None => String::new(),
        Some((ty, id)) => format!(" {word} {} {id}", ty.replace('_', " ")),
    }
}

/// ` (Modify)`, ` (All, Same Queue)`, or nothing for a flag.
fn holding(h: &HeldPrivilege) -> String {
    let bare = holding_bare(h);
    if bare == "held" {
        String::new()
    } else {
        format!(" ({bare})")
    }
}

/// `Modify`, `All, Same Queue`, or `held` for a flag.
fn holding_bare(h: &HeldPrivilege) -> String {
    match (&h.level, h.choices.is_empty()) {
        (Some(level), _) => level.clone(),
        (None, false) => h.choices.join(", "),
        (None, true) => "held".to_owned(),
    }
}

/// A display name as the middle of a sentence: "Barge into live calls" becomes "barge
/// into live calls"; a first word with other capitals ("PII erasure",
/// "EngagementBarge") stays as it is.
fn lower_first(name: &str) -> String {
    let first_word = name.split(' ').next().unwrap_or_default();
    let mut chars = first_word.chars();
    match chars.next() {
        Some(a) if a.is_uppercase() && !chars.any(char::is_uppercase) => {
            a.to_lowercase().chain(name.chars().skip(1)).collect()
        }
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(privileges: Vec<HeldPrivilege>, allowed: &[(&str, bool)]) -> Permissions {
        Permissions {
            user: "alice".into(),
            resource: "call:c1".into(),
            privileges,
            actions: allowed
                .iter()
                .map(|(name, allowed)| ActionAllowed {
                    id: name.to_lowercase(),
                    name: (*name).to_owned(),
                    allowed: *allowed,
                })
                .collect(),
            revision: 1,
        }
    }

    fn held(name: &str, level: Option<&str>) -> HeldPrivilege {
        HeldPrivilege {
            id: name.to_lowercase(),
            name: name.to_owned(),
            level: level.map(str::to_owned),
            choices: Vec::new(),
        }
    }

    #[test]
    fn diff_words_every_kind_of_change() {
        let before = perms(
            vec![held("Users", Some("View only")), held("Reports", None)],
            &[("Barge into live calls", false), ("Listen in", true)],
        );
        let after = perms(
            vec![
                held("Users", Some("Modify")),
                held("Barge into live calls", None),
            ],
            &[("Barge into live calls", true), ("Listen in", false)],
        );
        let d = before.diff(&after);
        assert_eq!(
            d.text,
            [
                "alice now holds “Users” (Modify) for call c1 (before: View only)",
                "alice now holds “Barge into live calls” for call c1",
                "alice no longer holds “Reports” for call c1",
                "alice may now barge into live calls on call c1",
                "alice may no longer listen in on call c1",
            ]
        );
        assert_eq!(d.gained.len(), 3);
        assert_eq!(d.lost.len(), 3);
        assert!(before.diff(&before).is_empty());
        assert_eq!(lower_first("PII erasure"), "PII erasure");
        assert_eq!(lower_first("EngagementBarge"), "EngagementBarge");
        assert_eq!(lower_first("Reports"), "reports");
    }
}
