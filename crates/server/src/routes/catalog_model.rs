//! The parts of a tenant's profile that an admin hub needs besides the privilege tree,
//! served with the catalog: role types (caps, locked and default grants), actions
//! (with the menu they sit in), resource types' attributes, org-unit kinds and
//! invariants.

use std::collections::BTreeMap;

use rolecall_core::profile::{Invariant, PrivKind, Profile};
use serde::Serialize;
use utoipa::ToSchema;

/// A role type: what a role of this type may hold and always holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleTypeView {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Privilege ids (each with its subtree) a role of this type may hold; null: any.
    pub cap: Option<Vec<String>>,
    /// Held by every role of this type and cannot be removed: privilege id → value.
    #[schema(value_type = Object)]
    pub locked: BTreeMap<String, serde_json::Value>,
    /// Held unless the role turns them off: privilege id → value.
    #[schema(value_type = Object)]
    pub defaults: BTreeMap<String, serde_json::Value>,
}

/// An action of the profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionInfo {
    /// Id, e.g. `recordings.listen`.
    pub id: String,
    /// The vendor's wording.
    pub name: String,
    /// Where the vendor's application shows it.
    pub menu: Option<String>,
    /// The resource type it acts on.
    pub resource: String,
    /// Decisions on it are audited.
    pub sensitive: bool,
    /// A personal ability on the tenant: a role given over any scope gives it.
    pub held_anywhere: bool,
    /// The requirement as written.
    pub requires: String,
}

/// An attribute of a resource type.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttributeInfo {
    /// Name, e.g. `seat_level`.
    pub name: String,
    /// bool | int | string.
    #[serde(rename = "type")]
    pub ty: String,
    /// Allowed values in ascending order (an enum).
    pub values: Option<Vec<String>>,
    /// Value when an entity does not set it.
    #[schema(value_type = Object)]
    pub default: Option<serde_json::Value>,
}

/// A resource type.
#[derive(Debug, Serialize, ToSchema)]
pub struct TypeInfo {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Defined by rolecall (tenant, user, group, org_unit, queue).
    pub builtin: bool,
    /// Relation names.
    pub relations: Vec<String>,
    /// Attributes.
    pub attributes: Vec<AttributeInfo>,
}

/// A kind of org unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgKindInfo {
    /// Id, e.g. `office`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Kinds it may sit under (empty: a root kind).
    pub parents: Vec<String>,
}

/// A rule every write keeps.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvariantInfo {
    /// `monotonic`: an enum attribute only moves up its declared order.
    pub kind: String,
    /// The resource type.
    #[serde(rename = "type")]
    pub ty: String,
    /// The attribute.
    pub attribute: String,
    /// Why, in the vendor's words.
    pub reason: Option<String>,
}

/// What a choice or number privilege's editor needs beyond its options.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrivilegeDetail {
    /// Privilege id.
    pub id: String,
    /// A choice: several options may be held together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multiple: Option<bool>,
    /// A choice: each option → the options it implies (itself included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implies: Option<BTreeMap<String, Vec<String>>>,
    /// A number: smallest value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// A number: largest value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// A number: the value when included by a parent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<i64>,
    /// A number: its unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// Details of the profile's choice and number privileges.
pub fn privilege_details(p: &Profile) -> Vec<PrivilegeDetail> {
    p.privileges
        .iter()
        .filter_map(|x| {
            let blank = PrivilegeDetail {
                id: x.id.clone(),
                multiple: None,
                implies: None,
                min: None,
                max: None,
                default: None,
                unit: None,
            };
            match &x.kind {
                PrivKind::Choice {
                    choices,
                    implies,
                    multiple,
                } => Some(PrivilegeDetail {
                    multiple: Some(*multiple),
                    implies: Some(
                        choices
                            .iter()
                            .zip(implies)
                            .map(|(c, imp)| {
                                (
                                    c.clone(),
                                    imp.iter()
                                        .filter_map(|i| choices.get(*i).cloned())
                                        .collect(),
                                )
                            })
                            .collect(),
                    ),
                    ..blank
                }),
                PrivKind::Number {
                    min,
                    max,
                    default,
                    unit,
                } => Some(PrivilegeDetail {
                    min: Some(*min),
                    max: Some(*max),
                    default: Some(*default),
                    unit: unit.clone(),
                    ..blank
                }),
                PrivKind::Flag | PrivKind::Levels(_) => None,
            }
        })
        .collect()
}

/// The profile's role types.
pub fn role_types(p: &Profile) -> Vec<RoleTypeView> {
    p.role_types
        .iter()
        .map(|t| RoleTypeView {
            id: t.id.clone(),
            name: t.name.clone(),
            cap: t.cap.as_ref().map(|c| {
                c.iter()
                    .filter_map(|q| p.privileges.get(*q).map(|x| x.id.clone()))
                    .collect()
            }),
            locked: super::roles::grants_json(p, &t.locked),
            defaults: super::roles::grants_json(p, &t.defaults),
        })
        .collect()
}

/// The profile's actions.
pub fn actions(p: &Profile) -> Vec<ActionInfo> {
    p.actions
        .iter()
        .map(|a| ActionInfo {
            id: a.id.clone(),
            name: a.name.clone(),
            menu: a.menu.clone(),
            resource: p
                .types
                .get(a.resource)
                .map(|t| t.id.clone())
                .unwrap_or_default(),
            sensitive: a.sensitive,
            held_anywhere: a.held_anywhere,
            requires: a.requires_text.clone(),
        })
        .collect()
}

/// The profile's resource types.
pub fn types(p: &Profile) -> Vec<TypeInfo> {
    p.types
        .iter()
        .map(|t| TypeInfo {
            id: t.id.clone(),
            name: t.name.clone(),
            builtin: t.builtin,
            relations: t.relations.iter().map(|r| r.name.clone()).collect(),
            attributes: t
                .attributes
                .iter()
                .map(|a| AttributeInfo {
                    name: a.name.clone(),
                    ty: a.ty.name().to_owned(),
                    values: a.values.clone(),
                    default: a.default.as_ref().map(super::value_json),
                })
                .collect(),
        })
        .collect()
}

/// The profile's org-unit kinds.
pub fn org_kinds(p: &Profile) -> Vec<OrgKindInfo> {
    p.org_kinds
        .iter()
        .map(|k| OrgKindInfo {
            id: k.id.clone(),
            name: k.name.clone(),
            parents: k
                .parents
                .iter()
                .filter_map(|i| p.org_kinds.get(*i).map(|x| x.id.clone()))
                .collect(),
        })
        .collect()
}

/// The profile's invariants.
pub fn invariants(p: &Profile) -> Vec<InvariantInfo> {
    p.invariants
        .iter()
        .map(|i| match i {
            Invariant::Monotonic { ty, attr, reason } => {
                let t = p.types.get(*ty);
                InvariantInfo {
                    kind: "monotonic".to_owned(),
                    ty: t.map(|t| t.id.clone()).unwrap_or_default(),
                    attribute: t
                        .and_then(|t| t.attributes.get(*attr))
                        .map(|a| a.name.clone())
                        .unwrap_or_default(),
                    reason: reason.clone(),
                }
            }
        })
        .collect()
}

/// A delegation ceiling: the most a role definition or an assignment may give.
#[derive(Debug, Serialize, ToSchema)]
pub struct DelegationInfo {
    /// `roles.write` (defining a role) or `assignments.write` (giving one).
    pub operation: String,
    /// The role types it applies to (absent: every role).
    pub role_types: Option<Vec<String>>,
    /// `holdings` (what the granter holds), `type_cap` (the role type's cap) or `roles`.
    pub ceiling: String,
    /// With `roles`: the roles whose grants bound it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

/// The profile's delegation ceilings (writes no entry covers: the granter's holdings).
pub fn delegation(p: &Profile) -> Vec<DelegationInfo> {
    use rolecall_core::profile::Ceiling;
    p.delegation
        .iter()
        .map(|d| DelegationInfo {
            operation: d.operation.as_str().to_owned(),
            role_types: d.role_types.as_ref().map(|ts| {
                ts.iter()
                    .filter_map(|t| p.role_types.get(*t).map(|x| x.id.clone()))
                    .collect()
            }),
            ceiling: match &d.ceiling {
                Ceiling::Holdings => "holdings",
                Ceiling::TypeCap => "type_cap",
                Ceiling::Roles(_) => "roles",
            }
            .to_owned(),
            roles: match &d.ceiling {
                Ceiling::Roles(r) => Some(r.clone()),
                _ => None,
            },
        })
        .collect()
}

/// The ids of the profile's restriction privileges.
pub fn restrictions(p: &Profile) -> Vec<String> {
    p.privileges
        .iter()
        .filter(|x| x.restriction)
        .map(|x| x.id.clone())
        .collect()
}
