//! The validated profile model. Every cross reference is an index into one of the
//! profile's vectors; names live in lookup tables built once at load.

use rustc_hash::FxHashMap;

use super::grants::{GrantValue, Grants, RoleDef};
use crate::expr::resolved::Expr;

/// Index of a privilege in [`Profile::privileges`].
pub type PrivId = usize;
/// Index of a resource type in [`Profile::types`].
pub type TypeId = usize;
/// Index of a relation within its resource type.
pub type RelId = usize;
/// Index of an attribute within its resource type.
pub type AttrId = usize;
/// Index of a setting in [`Profile::settings`].
pub type SettingId = usize;
/// Index of an action in [`Profile::actions`].
pub type ActionId = usize;

/// Built-in type: the tenant itself.
pub const TENANT: TypeId = 0;
/// Built-in type: org units (company, region, office, …).
pub const ORG_UNIT: TypeId = 1;
/// Built-in type: users (principals).
pub const USER: TypeId = 2;
/// Built-in type: groups (teams) of users.
pub const GROUP: TypeId = 3;
/// Built-in type: queues.
pub const QUEUE: TypeId = 4;

/// `org_unit.parent`.
pub const ORG_PARENT: RelId = 0;
/// `org_unit.kind` (attribute).
pub const ORG_KIND_ATTR: AttrId = 0;
/// `user.org_unit`.
pub const USER_ORG_UNIT: RelId = 0;
/// `user.groups` (inverse of `group.members`).
pub const USER_GROUPS: RelId = 1;
/// `user.queues` (inverse of `queue.members`).
pub const USER_QUEUES: RelId = 2;
/// `user.supervised_queues` (inverse of `queue.supervisors`).
pub const USER_SUPERVISED: RelId = 3;
/// `group.members`.
pub const GROUP_MEMBERS: RelId = 0;
/// `queue.org_unit`.
pub const QUEUE_ORG_UNIT: RelId = 0;
/// `queue.members`.
pub const QUEUE_MEMBERS: RelId = 1;
/// `queue.supervisors`.
pub const QUEUE_SUPERVISORS: RelId = 2;

/// A scalar type of settings, attributes and context values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// true / false.
    Bool,
    /// 64-bit integer.
    Int,
    /// Text (optionally restricted to an ordered list of values).
    Str,
}

impl ValueType {
    /// The name used in profile files.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Bool => "bool",
            ValueType::Int => "int",
            ValueType::Str => "string",
        }
    }
}

/// A scalar value. In JSON: a bool, an integer or a string.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(untagged)]
pub enum Value {
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// String.
    Str(String),
}

impl Value {
    /// Its type.
    pub fn ty(&self) -> ValueType {
        match self {
            Value::Bool(_) => ValueType::Bool,
            Value::Int(_) => ValueType::Int,
            Value::Str(_) => ValueType::Str,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "\"{s}\""),
        }
    }
}

/// A kind of org unit.
#[derive(Debug, Clone)]
pub struct OrgKind {
    /// Id, e.g. `office`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Kinds it may sit under; empty for a root kind.
    pub parents: Vec<usize>,
}

/// A tenant setting.
#[derive(Debug, Clone)]
pub struct SettingDef {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its type.
    pub ty: ValueType,
    /// Value when the tenant has not set it.
    pub default: Value,
    /// Optional description.
    pub description: Option<String>,
}

/// A relation of a resource type.
#[derive(Debug, Clone)]
pub struct RelationDef {
    /// Name, e.g. `agent`.
    pub name: String,
    /// The type it points to.
    pub target: TypeId,
    /// Set-valued.
    pub many: bool,
    /// Computed as the inverse of `(type, relation)`; not written directly.
    pub inverse: Option<(TypeId, RelId)>,
}

/// An attribute of a resource type.
#[derive(Debug, Clone)]
pub struct AttrDef {
    /// Name, e.g. `seat_level`.
    pub name: String,
    /// Its type.
    pub ty: ValueType,
    /// For an enum: the allowed values, in ascending order.
    pub values: Option<Vec<String>>,
    /// Value when an entity does not set it.
    pub default: Option<Value>,
}

/// A resource type (built-in or declared by the profile).
#[derive(Debug, Clone)]
pub struct ResourceType {
    /// Id, e.g. `conversation`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether rolecall defines it.
    pub builtin: bool,
    /// Its relations.
    pub relations: Vec<RelationDef>,
    /// Its attributes.
    pub attributes: Vec<AttrDef>,
    /// The single-valued relation through which assignment scopes reach it.
    pub scope: Option<RelId>,
}

impl ResourceType {
    /// A relation by name.
    pub fn relation(&self, name: &str) -> Option<RelId> {
        self.relations.iter().position(|r| r.name == name)
    }

    /// An attribute by name.
    pub fn attribute(&self, name: &str) -> Option<AttrId> {
        self.attributes.iter().position(|a| a.name == name)
    }
}

/// A top-level heading of the catalog.
#[derive(Debug, Clone)]
pub struct Section {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// Where a privilege hangs in the catalog tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent {
    /// Directly under a section.
    Section(usize),
    /// Under another privilege, which includes it.
    Privilege(PrivId),
}

/// What values a privilege takes.
#[derive(Debug, Clone, PartialEq)]
pub enum PrivKind {
    /// Enabled or not.
    Flag,
    /// Ordered levels, ascending; a higher level includes the lower ones.
    Levels(Vec<String>),
    /// A choice among options (a visibility scope, a portal mode).
    Choice {
        /// The options.
        choices: Vec<String>,
        /// For each option, every option it implies (itself included), transitively.
        implies: Vec<Vec<usize>>,
        /// Several options may be held together.
        multiple: bool,
    },
    /// A numeric setting.
    Number {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
        /// Value when included by a parent.
        default: i64,
        /// Unit shown in the catalog.
        unit: Option<String>,
    },
}

impl PrivKind {
    /// The name used in profile files.
    pub fn name(&self) -> &'static str {
        match self {
            PrivKind::Flag => "flag",
            PrivKind::Levels(_) => "levels",
            PrivKind::Choice { .. } => "choice",
            PrivKind::Number { .. } => "number",
        }
    }

    /// The grant that holds this privilege at its top (highest level, every choice).
    pub fn top(&self) -> GrantValue {
        match self {
            PrivKind::Flag => GrantValue::On,
            PrivKind::Levels(levels) => GrantValue::Level(levels.len().saturating_sub(1)),
            PrivKind::Choice { choices, .. } => GrantValue::Choices((0..choices.len()).collect()),
            PrivKind::Number { default, .. } => GrantValue::Number(*default),
        }
    }
}

/// A node of the privilege catalog.
#[derive(Debug, Clone)]
pub struct Privilege {
    /// Id.
    pub id: String,
    /// The vendor's display wording.
    pub name: String,
    /// The vendor's description.
    pub description: Option<String>,
    /// Where it hangs.
    pub parent: Parent,
    /// Its kind.
    pub kind: PrivKind,
    /// Privileges directly under it, in file order.
    pub children: Vec<PrivId>,
    /// A restriction narrows what its holder may do (GoTo "Limit access to assigned
    /// call queues", Horizon "Emails must be reviewed"): it binds its holder wherever
    /// any of their assignments carries it (scope and expiry do not lift it), and giving
    /// it is never an escalation — lifting it is.
    pub restriction: bool,
}

/// A role type: caps, locked grants, defaults.
#[derive(Debug, Clone)]
pub struct RoleType {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Privileges (each with its subtree) a role of this type may hold; `None` = any.
    pub cap: Option<Vec<PrivId>>,
    /// Held by every role of this type; cannot be removed.
    pub locked: Grants,
    /// Held unless the role turns them off.
    pub defaults: Grants,
}

/// An operation with its requirement.
#[derive(Debug, Clone)]
pub struct Action {
    /// Id, e.g. `conversation.edit`.
    pub id: String,
    /// The vendor's operation wording.
    pub name: String,
    /// Where the vendor shows it.
    pub menu: Option<String>,
    /// Longer description.
    pub description: Option<String>,
    /// Decisions are audited.
    pub sensitive: bool,
    /// A personal ability on the tenant (GoTo: open analytics, the Configuration
    /// Portal): a grant over any scope gives it, not only a tenant-wide one.
    pub held_anywhere: bool,
    /// The resource type it acts on.
    pub resource: TypeId,
    /// The requirement.
    pub requires: Expr,
    /// The requirement as written.
    pub requires_text: String,
    /// Conditions the caller must apply when the action is allowed (at most 64).
    pub obligations: Vec<Obligation>,
}

/// A condition attached to an allowed decision, e.g. "mask agent identities".
#[derive(Debug, Clone)]
pub struct Obligation {
    /// Id the caller acts on, e.g. `mask_agent_identity`.
    pub id: String,
    /// What the caller must do.
    pub description: Option<String>,
    /// When it applies (evaluated like a requirement, only when the action is allowed).
    pub when: Expr,
    /// The condition as written.
    pub when_text: String,
}

/// A rule every write must keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invariant {
    /// An enum attribute may only move up its declared order (seat: standard → advanced).
    Monotonic {
        /// The type.
        ty: TypeId,
        /// The attribute.
        attr: AttrId,
        /// Why, in the vendor's words.
        reason: Option<String>,
    },
}

/// Privileges and roles no one principal may hold together.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SodRule {
    /// Id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Privileges (id or name), each optionally `NAME: LEVEL`, held together.
    #[serde(default)]
    pub privileges: Vec<String>,
    /// Roles held together.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// The scope an appointment may be made over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    /// The whole tenant.
    Tenant,
    /// An org unit of this kind.
    OrgKind(usize),
}

/// Who may give a role.
#[derive(Debug, Clone)]
pub struct Appointment {
    /// The role given (a profile role id).
    pub role: String,
    /// Roles whose holders may give it.
    pub by: Vec<String>,
    /// Scopes it may be given over.
    pub scope_kinds: Vec<ScopeKind>,
    /// Must hold of the appointee (principal) over the scope org unit (resource).
    pub target: Option<Expr>,
    /// The target requirement as written.
    pub target_text: Option<String>,
}

/// What a management operation does, for the abilities of service credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Reads the tenant's data.
    Read,
    /// Changes it.
    Write,
    /// Decides (checks, explanations, lookups) for users other than the caller.
    Decide,
}

/// The objects a management operation acts on: which types of action may govern it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpObjects {
    /// The tenant as a whole (roles, settings, the catalog…): a `tenant` or `org_unit`
    /// action.
    Tenant,
    /// Entities of one built-in type: a `tenant`, `org_unit` or that type's action.
    Type(TypeId),
    /// Entities of the profile's own resource types, or objects of several types (audit
    /// entries): a `tenant` or `org_unit` action.
    Any,
}

/// One operation of the management API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagementOp {
    /// Id, as written in `[management]`.
    pub id: &'static str,
    /// What it allows, in words.
    pub description: &'static str,
    /// Read, write or decide.
    pub kind: OpKind,
    /// What it acts on.
    pub objects: OpObjects,
}

const fn op(
    id: &'static str,
    kind: OpKind,
    objects: OpObjects,
    description: &'static str,
) -> ManagementOp {
    ManagementOp {
        id,
        description,
        kind,
        objects,
    }
}

/// Every operation of the management API. A profile's `[management]` table, when it
/// has one, maps each of them to one of its actions or to `"operator"`; a profile
/// without the table is decision-only (every operation is the operator's).
pub const MANAGEMENT_OPS: &[ManagementOp] = {
    use OpKind::{Decide, Read, Write};
    use OpObjects::{Any, Tenant, Type};
    &[
        op(
            "catalog.read",
            Read,
            Tenant,
            "read the privilege catalog, role types and actions",
        ),
        op("changes.read", Read, Tenant, "read the change log"),
        op("users.read", Read, Type(USER), "list and read users"),
        op(
            "users.write",
            Write,
            Type(USER),
            "create or edit users and their attributes",
        ),
        op("users.delete", Write, Type(USER), "delete users"),
        op("groups.read", Read, Type(GROUP), "list and read groups"),
        op(
            "groups.write",
            Write,
            Type(GROUP),
            "create, edit or delete groups and their members",
        ),
        op(
            "org_units.read",
            Read,
            Type(ORG_UNIT),
            "list and read org units",
        ),
        op(
            "org_units.write",
            Write,
            Type(ORG_UNIT),
            "create, edit or delete org units",
        ),
        op("queues.read", Read, Type(QUEUE), "list and read queues"),
        op(
            "queues.write",
            Write,
            Type(QUEUE),
            "create, edit or delete queues, their members and supervisors",
        ),
        op(
            "resources.read",
            Read,
            Any,
            "list and read other resources (conversations, …)",
        ),
        op(
            "resources.write",
            Write,
            Any,
            "create, edit or delete other resources",
        ),
        op(
            "relations.read",
            Read,
            Any,
            "read a resource's relation tuples",
        ),
        op(
            "relations.write",
            Write,
            Any,
            "write or delete relation tuples in bulk",
        ),
        op("roles.read", Read, Tenant, "list and read roles"),
        op(
            "roles.write",
            Write,
            Tenant,
            "create, edit, copy or delete custom roles",
        ),
        op(
            "assignments.read",
            Read,
            Type(USER),
            "list other users' assignments",
        ),
        op(
            "assignments.write",
            Write,
            Type(USER),
            "assign roles to users or remove them",
        ),
        op("settings.read", Read, Tenant, "read tenant settings"),
        op("settings.write", Write, Tenant, "change tenant settings"),
        op(
            "audit.read",
            Read,
            Any,
            "read, export and verify the audit trail",
        ),
        op(
            "sod.read",
            Read,
            Tenant,
            "read separation-of-duty rules and who breaks them",
        ),
        op(
            "sod.write",
            Write,
            Tenant,
            "add or remove separation-of-duty rules",
        ),
        op(
            "impact.read",
            Read,
            Tenant,
            "preview the impact of a role edit, an assignment or a setting change",
        ),
        op(
            "check.others",
            Decide,
            Type(USER),
            "check, explain, look up or list permissions on behalf of other users",
        ),
        op(
            "tokens.write",
            Write,
            Type(USER),
            "mint, list or revoke API tokens for other users",
        ),
        op(
            "credentials.write",
            Write,
            Tenant,
            "create, list or revoke service credentials",
        ),
    ]
};

/// The management operation with this id.
pub fn management_op(id: &str) -> Option<&'static ManagementOp> {
    MANAGEMENT_OPS.iter().find(|o| o.id == id)
}

/// A write that gives privileges, whose ceiling a profile declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delegated {
    /// Defining a role (`roles.write`).
    RoleDefinition,
    /// Giving a role (`assignments.write`).
    Assignment,
}

impl Delegated {
    /// The management operation's id.
    pub fn as_str(self) -> &'static str {
        match self {
            Delegated::RoleDefinition => "roles.write",
            Delegated::Assignment => "assignments.write",
        }
    }

    /// From the management operation's id.
    pub fn from_op(op: &str) -> Option<Delegated> {
        match op {
            "roles.write" => Some(Delegated::RoleDefinition),
            "assignments.write" => Some(Delegated::Assignment),
            _ => None,
        }
    }
}

/// The most a role definition or an assignment may give (restrictions and what a role
/// type locks or defaults are never counted as given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ceiling {
    /// What the granter holds: tenant-wide for a role definition, over the scope for an
    /// assignment (the default; nobody grants what they do not hold).
    Holdings,
    /// The cap of the role's type: whoever may write configures any role of the type
    /// within its cap (GoTo: "Choose and configure permissions per role").
    TypeCap,
    /// What these roles hold together (role template ids).
    Roles(Vec<String>),
}

/// A profile's declaration of a delegation ceiling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    /// The write it bounds.
    pub operation: Delegated,
    /// The role types it applies to (`None`: every role).
    pub role_types: Option<Vec<usize>>,
    /// The ceiling.
    pub ceiling: Ceiling,
}

/// Who may perform a management operation in a profile's tenants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Governance {
    /// Whoever the action allows, for the object concerned.
    Action(ActionId),
    /// The operator only (e.g. what a vendor reserves to its support).
    Operator,
}

/// A loaded, validated profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The vendor document it models.
    pub seed: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Org-unit kinds.
    pub org_kinds: Vec<OrgKind>,
    /// Tenant settings.
    pub settings: Vec<SettingDef>,
    /// Resource types, built-ins first (see the `TENANT` … `QUEUE` constants).
    pub types: Vec<ResourceType>,
    /// Catalog sections.
    pub sections: Vec<Section>,
    /// Catalog privileges, in file order.
    pub privileges: Vec<Privilege>,
    /// Role types.
    pub role_types: Vec<RoleType>,
    /// The type of a role that names none (`[profile] default_role_type`), if the profile
    /// types every role.
    pub default_role_type: Option<usize>,
    /// Role templates.
    pub roles: Vec<RoleDef>,
    /// Actions.
    pub actions: Vec<Action>,
    /// Appointment rules.
    pub appointments: Vec<Appointment>,
    /// Management operation (see [`MANAGEMENT_OPS`]) to who governs it: every operation
    /// when the profile has a `[management]` table, none when it is decision-only.
    pub management: Vec<(String, Governance)>,
    /// Delegation ceilings, first match wins; writes no entry covers are bounded by the
    /// granter's own holdings.
    pub delegation: Vec<Delegation>,
    /// Rules every write must keep.
    pub invariants: Vec<Invariant>,
    /// Separation-of-duty rules every tenant of this profile starts with.
    pub separation_of_duty: Vec<SodRule>,
    pub(crate) priv_index: FxHashMap<String, PrivId>,
    pub(crate) action_index: FxHashMap<String, ActionId>,
    pub(crate) role_index: FxHashMap<String, usize>,
}

impl Profile {
    /// A privilege by id or display name.
    pub fn privilege(&self, key: &str) -> Option<PrivId> {
        self.priv_index.get(key).copied()
    }

    /// The ceiling of `op` for a role of type `role_type`: the first declaration for
    /// that operation naming the type (or every type), else the granter's holdings.
    pub fn ceiling(&self, op: Delegated, role_type: Option<usize>) -> &Ceiling {
        self.delegation
            .iter()
            .find(|d| {
                d.operation == op
                    && d.role_types
                        .as_ref()
                        .is_none_or(|ts| role_type.is_some_and(|t| ts.contains(&t)))
            })
            .map_or(&Ceiling::Holdings, |d| &d.ceiling)
    }

    /// Who governs a management operation (`Operator` when the profile does not map it).
    pub fn governance(&self, op: &str) -> Governance {
        self.management
            .iter()
            .find(|(o, _)| o == op)
            .map_or(Governance::Operator, |(_, g)| *g)
    }

    /// The action governing a management operation, if one does.
    pub fn management_action(&self, op: &str) -> Option<ActionId> {
        match self.governance(op) {
            Governance::Action(a) => Some(a),
            Governance::Operator => None,
        }
    }

    /// An action by id.
    pub fn action(&self, id: &str) -> Option<ActionId> {
        self.action_index.get(id).copied()
    }

    /// A resource type by id.
    pub fn type_id(&self, id: &str) -> Option<TypeId> {
        self.types.iter().position(|t| t.id == id)
    }

    /// A setting by id.
    pub fn setting(&self, id: &str) -> Option<SettingId> {
        self.settings.iter().position(|s| s.id == id)
    }

    /// An org-unit kind by id.
    pub fn org_kind(&self, id: &str) -> Option<usize> {
        self.org_kinds.iter().position(|k| k.id == id)
    }

    /// A role type by id.
    pub fn role_type(&self, id: &str) -> Option<usize> {
        self.role_types.iter().position(|k| k.id == id)
    }

    /// A role template by id.
    pub fn role(&self, id: &str) -> Option<&RoleDef> {
        self.role_index.get(id).and_then(|&i| self.roles.get(i))
    }

    /// Relation `rel` of type `ty`.
    pub fn relation_def(&self, ty: TypeId, rel: RelId) -> Option<&RelationDef> {
        self.types.get(ty)?.relations.get(rel)
    }

    /// Attribute `attr` of type `ty`.
    pub fn attr_def(&self, ty: TypeId, attr: AttrId) -> Option<&AttrDef> {
        self.types.get(ty)?.attributes.get(attr)
    }

    /// The privilege's ancestors, nearest first.
    pub fn ancestors(&self, p: PrivId) -> impl Iterator<Item = PrivId> + '_ {
        let mut cur = self.privileges.get(p).map(|x| x.parent);
        // INVARIANT: the loader rejects parent cycles, so this walk ends.
        std::iter::from_fn(move || match cur {
            Some(Parent::Privilege(q)) => {
                cur = self.privileges.get(q).map(|x| x.parent);
                Some(q)
            }
            _ => None,
        })
    }

    /// The privilege and every privilege below it, depth first.
    pub fn subtree(&self, p: PrivId) -> Vec<PrivId> {
        let mut out = Vec::new();
        let mut stack = vec![p];
        while let Some(q) = stack.pop() {
            out.push(q);
            if let Some(x) = self.privileges.get(q) {
                stack.extend(x.children.iter().rev());
            }
        }
        out
    }

    /// What holding privilege `parent` at `held` gives of its child `child` ("a parent
    /// includes its children"):
    /// - a flag parent (held on) gives every child at its top;
    /// - a `levels` parent held at level `k` gives a `levels` child the highest of the
    ///   child's levels whose name is one of the parent's levels up to `k` — never a
    ///   level the parent does not name, nor one above what is held (`Report: Read` does
    ///   not give `Report export: Edit`) — and gives a flag child only when held at its
    ///   own highest level.
    pub fn included(&self, parent: PrivId, held: &GrantValue, child: PrivId) -> Option<GrantValue> {
        let (p, c) = (self.privileges.get(parent)?, self.privileges.get(child)?);
        match (&p.kind, held) {
            (PrivKind::Levels(pl), GrantValue::Level(k)) => match &c.kind {
                PrivKind::Levels(cl) => {
                    let names = pl.get(..=*k)?;
                    cl.iter()
                        .rposition(|n| names.contains(n))
                        .map(GrantValue::Level)
                }
                _ if *k + 1 == pl.len() => Some(c.kind.top()),
                _ => None,
            },
            (PrivKind::Levels(_), _) => None,
            (_, GrantValue::Off) => None,
            _ => Some(c.kind.top()),
        }
    }

    /// Privileges parents first (every privilege after its parent).
    pub fn parents_first(&self) -> Vec<PrivId> {
        let mut out = Vec::with_capacity(self.privileges.len());
        for (q, x) in self.privileges.iter().enumerate() {
            if matches!(x.parent, Parent::Section(_)) {
                out.extend(self.subtree(q));
            }
        }
        out
    }

    /// A display label for a grant, e.g. `Users: Modify`.
    pub fn grant_label(&self, p: PrivId, value: &GrantValue) -> String {
        let Some(x) = self.privileges.get(p) else {
            return format!("#{p}");
        };
        match (value, &x.kind) {
            (GrantValue::Level(l), PrivKind::Levels(levels)) => {
                format!("{}: {}", x.name, levels.get(*l).map_or("?", String::as_str))
            }
            (GrantValue::Choices(cs), PrivKind::Choice { choices, .. }) => {
                let names: Vec<&str> = cs
                    .iter()
                    .filter_map(|c| choices.get(*c))
                    .map(String::as_str)
                    .collect();
                format!("{}: {}", x.name, names.join(", "))
            }
            (GrantValue::Number(n), _) => format!("{} = {n}", x.name),
            (GrantValue::Off, _) => format!("{} (off)", x.name),
            _ => x.name.clone(),
        }
    }

    /// A display label for `has(p, need)`.
    pub fn need_label(&self, p: PrivId, need: crate::expr::resolved::Need) -> String {
        use crate::expr::resolved::Need;
        let Some(x) = self.privileges.get(p) else {
            return format!("#{p}");
        };
        match (need, &x.kind) {
            (Need::Level(l), PrivKind::Levels(levels)) => {
                format!("{}: {}", x.name, levels.get(l).map_or("?", String::as_str))
            }
            (Need::Choice(c), PrivKind::Choice { choices, .. }) => {
                format!("{}: {}", x.name, choices.get(c).map_or("?", String::as_str))
            }
            _ => x.name.clone(),
        }
    }
}
