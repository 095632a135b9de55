//! Users, groups, org units, queues and other resources: creating or replacing one
//! (its name, attributes and the relations its kind manages), and deleting one with
//! its relation tuples (and a user's assignments).

use std::collections::BTreeMap;

use rolecall_core::Snapshot;
use rolecall_core::profile::{ORG_PARENT, ORG_UNIT, Profile, TypeId, Value};
use rolecall_core::state::Entity;
use rolecall_core::{Change, Tuple};

use crate::actor::Actor;
use crate::authz::{Object, authorize};
use crate::command::{Candidate, Command, Plan};
use crate::error::{EngineError, EngineResult};
use crate::registry::valid_id;
use crate::view::View;

/// The kinds of entity the API manages, and what differs between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityKind {
    /// Users (`users.write`, `users.delete`; field `org_unit`).
    User,
    /// Groups (`groups.write`; field `members`).
    Group,
    /// Org units (`org_units.write`; field `parent`, and a `kind`).
    OrgUnit,
    /// Queues (`queues.write`; fields `org_unit`, `members`, `supervisors`).
    Queue,
    /// Another resource type the profile declares (`resources.write`).
    Resource(String),
}

impl EntityKind {
    /// The management operation that reads one.
    pub fn read_op(&self) -> &'static str {
        match self {
            EntityKind::User => "users.read",
            EntityKind::Group => "groups.read",
            EntityKind::OrgUnit => "org_units.read",
            EntityKind::Queue => "queues.read",
            EntityKind::Resource(_) => "resources.read",
        }
    }

    /// The management operation that creates or edits one.
    pub fn write_op(&self) -> &'static str {
        match self {
            EntityKind::User => "users.write",
            EntityKind::Group => "groups.write",
            EntityKind::OrgUnit => "org_units.write",
            EntityKind::Queue => "queues.write",
            EntityKind::Resource(_) => "resources.write",
        }
    }

    /// The management operation that deletes one.
    pub fn delete_op(&self) -> &'static str {
        match self {
            EntityKind::User => "users.delete",
            other => other.write_op(),
        }
    }

    /// Body fields that are relations of this kind.
    pub fn fields(&self) -> &'static [&'static str] {
        match self {
            EntityKind::User => &["org_unit"],
            EntityKind::Group => &["members"],
            EntityKind::OrgUnit => &["parent"],
            EntityKind::Queue => &["org_unit", "members", "supervisors"],
            EntityKind::Resource(_) => &[],
        }
    }

    /// The type id in `p`: the kind's own type, or a declared resource type (`NotFound`
    /// if the profile has none by that name; `BadRequest` for a type with its own kind).
    pub fn type_in(&self, p: &Profile) -> EngineResult<(TypeId, String)> {
        let ty = match self {
            EntityKind::User => "user",
            EntityKind::Group => "group",
            EntityKind::OrgUnit => "org_unit",
            EntityKind::Queue => "queue",
            EntityKind::Resource(t) => t.as_str(),
        };
        match p.type_id(ty) {
            Some(_)
                if matches!(self, EntityKind::Resource(_))
                    && matches!(ty, "tenant" | "user" | "group" | "queue" | "org_unit") =>
            {
                Err(EngineError::BadRequest(format!(
                    "`{ty}` has its own endpoint (/users, /groups, /queues, /org-units)"
                )))
            }
            Some(t) => Ok((t, ty.to_owned())),
            None => Err(EngineError::NotFound(format!(
                "unknown resource type `{ty}` in profile `{}`",
                p.id
            ))),
        }
    }
}

/// An entity as written: name, attributes, and relation fields (`None`: left out).
#[derive(Debug, Clone, Default)]
pub struct EntityDraft {
    /// Display name.
    pub name: Option<String>,
    /// Org unit kind (org units).
    pub kind: Option<String>,
    /// Parent org unit (org units).
    pub parent: Option<String>,
    /// Org unit (users, queues).
    pub org_unit: Option<String>,
    /// Members (groups, queues).
    pub members: Option<Vec<String>>,
    /// Supervisors (queues).
    pub supervisors: Option<Vec<String>>,
    /// Other relations the profile declares: name → target ids.
    pub relations: Option<BTreeMap<String, Vec<String>>>,
    /// Attributes, in the order given.
    pub attributes: Vec<(String, Value)>,
}

/// Relation name → the targets a draft sets (`None`: the field was left out).
type ManagedRelations = Vec<(String, Option<Vec<String>>)>;

/// Creates (`create`: refused if it exists) or replaces an entity.
#[derive(Debug, Clone)]
pub struct UpsertEntity {
    /// Which kind.
    pub kind: EntityKind,
    /// Its id.
    pub id: String,
    /// Whether this must create it.
    pub create: bool,
    /// What to write.
    pub draft: EntityDraft,
}

impl UpsertEntity {
    /// The entity's new name and attributes, and its managed relations.
    fn parse(&self, p: &Profile, ty: TypeId) -> EngineResult<(Change, ManagedRelations)> {
        let (kind, d) = (&self.kind, &self.draft);
        let ty_id = p.types.get(ty).map_or("?", |t| t.id.as_str()).to_owned();
        let stray = |present: bool, field: &str| -> EngineResult<()> {
            if present && !kind.fields().contains(&field) {
                return Err(EngineError::BadRequest(format!(
                    "`{field}` does not belong to a {ty_id}"
                )));
            }
            Ok(())
        };
        stray(d.parent.is_some(), "parent")?;
        stray(d.org_unit.is_some(), "org_unit")?;
        stray(d.members.is_some(), "members")?;
        stray(d.supervisors.is_some(), "supervisors")?;
        if d.kind.is_some() && ty_id != "org_unit" {
            return Err(EngineError::BadRequest(format!(
                "`kind` does not belong to a {ty_id}"
            )));
        }
        let mut attributes: Vec<(String, Value)> = Vec::new();
        if ty_id == "org_unit" {
            let k = d
                .kind
                .clone()
                .ok_or_else(|| EngineError::BadRequest("an org unit needs a `kind`".into()))?;
            attributes.push(("kind".into(), Value::Str(k)));
        }
        for (k, v) in &d.attributes {
            if k == "kind" && ty_id == "org_unit" {
                return Err(EngineError::BadRequest(
                    "give an org unit's kind as `kind`, not as an attribute".into(),
                ));
            }
            attributes.push((k.clone(), v.clone()));
        }
        let rels = self.relations(p, ty, &ty_id)?;
        Ok((
            Change::UpsertEntity {
                ty: ty_id,
                id: self.id.clone(),
                name: d.name.clone(),
                attributes,
            },
            rels,
        ))
    }

    /// The relation fields given, checked against the type's declared relations.
    fn relations(&self, p: &Profile, ty: TypeId, ty_id: &str) -> EngineResult<ManagedRelations> {
        let (kind, d) = (&self.kind, &self.draft);
        let mut rels: ManagedRelations = Vec::new();
        let one = |v: &Option<String>| v.as_ref().map(|x| vec![x.clone()]);
        for (field, value) in [
            ("parent", one(&d.parent)),
            ("org_unit", one(&d.org_unit)),
            ("members", d.members.clone()),
            ("supervisors", d.supervisors.clone()),
        ] {
            if kind.fields().contains(&field) {
                rels.push((field.to_owned(), value));
            }
        }
        for (name, targets) in d.relations.iter().flatten() {
            if kind.fields().contains(&name.as_str()) {
                return Err(EngineError::BadRequest(format!(
                    "give `{name}` as its own field, not in `relations`"
                )));
            }
            rels.push((name.clone(), Some(targets.clone())));
        }
        let def = p.types.get(ty);
        for (name, targets) in &rels {
            let Some(r) = def.and_then(|d| d.relation(name).and_then(|i| d.relations.get(i)))
            else {
                return Err(EngineError::BadRequest(format!(
                    "`{ty_id}` has no relation `{name}`"
                )));
            };
            if r.inverse.is_some() {
                return Err(EngineError::BadRequest(format!(
                    "`{name}` of a {ty_id} is computed; write the relation it inverts"
                )));
            }
            for t in targets.iter().flatten() {
                valid_id(t, name)?;
            }
        }
        Ok(rels)
    }
}

impl Command for UpsertEntity {
    fn plan(&self, view: &View, actor: &Actor, now: i64) -> EngineResult<Plan> {
        valid_id(&self.id, "entity")?;
        let (ty, ty_name) = self.kind.type_in(&view.profile)?;
        let existing = view.mem.entity(&ty_name, &self.id);
        if self.create && existing.is_some() {
            return Err(EngineError::Exists(format!(
                "{ty_name} `{}` already exists",
                self.id
            )));
        }
        if existing.is_some() {
            authorize(
                &view.snapshot,
                actor,
                self.kind.write_op(),
                Object::Entity { ty, id: &self.id },
                now,
            )?;
            // Moving an org unit takes it from its parent: whoever moves it must manage
            // that parent too (an office admin cannot take her office out of its region).
            if let Some(old) = self.moved_from(&view.snapshot) {
                authorize(
                    &view.snapshot,
                    actor,
                    self.kind.write_op(),
                    parent_object(old.as_deref()),
                    now,
                )?;
            }
        }
        let (upsert, rels) = self.parse(&view.profile, ty)?;
        let mut changes = vec![upsert];
        for (name, want) in &rels {
            // On update, a relation field left out keeps its value; on create, it starts empty.
            if want.is_none() && existing.is_some() {
                continue;
            }
            changes.extend(relation_diff(
                &view.profile,
                ty,
                &self.id,
                existing,
                name,
                want.as_ref(),
            ));
        }
        Ok(Plan {
            created: existing.is_none(),
            ..Plan::of(changes)
        })
    }

    fn check_candidate(
        &self,
        view: &View,
        c: Candidate<'_>,
        actor: &Actor,
        now: i64,
    ) -> EngineResult<()> {
        let (ty, _) = self.kind.type_in(&view.profile)?;
        authorize(
            c.snapshot,
            actor,
            self.kind.write_op(),
            Object::Entity { ty, id: &self.id },
            now,
        )?;
        // ...and must manage where it goes.
        if self.moved_from(&view.snapshot).is_some() {
            let new = parent_of(c.snapshot, &self.id);
            authorize(
                c.snapshot,
                actor,
                self.kind.write_op(),
                parent_object(new.as_deref()),
                now,
            )?;
        }
        Ok(())
    }
}

impl UpsertEntity {
    /// For an existing org unit whose `parent` this write changes: its parent before
    /// (`Some(None)` when it had none).
    fn moved_from(&self, snap: &Snapshot) -> Option<Option<String>> {
        if self.kind != EntityKind::OrgUnit || self.create {
            return None;
        }
        snap.entity(ORG_UNIT, &self.id)?;
        let want = self.draft.parent.as_deref()?;
        let old = parent_of(snap, &self.id);
        (old.as_deref() != Some(want)).then_some(old)
    }
}

/// The parent of org unit `id` in `snap`.
fn parent_of(snap: &Snapshot, id: &str) -> Option<String> {
    let e = snap.entity(ORG_UNIT, id)?;
    let p = *snap.related(ORG_UNIT, e, ORG_PARENT).first()?;
    snap.entity_id(ORG_UNIT, p).map(str::to_owned)
}

/// The object a move is decided on: the parent org unit, or the tenant for a root.
fn parent_object(parent: Option<&str>) -> Object<'_> {
    match parent {
        Some(id) => Object::Entity { ty: ORG_UNIT, id },
        None => Object::Tenant,
    }
}

/// Tuple changes that make relation `name` of `ty:id` hold exactly `want` (None = clear).
fn relation_diff(
    p: &Profile,
    ty: TypeId,
    id: &str,
    existing: Option<&Entity>,
    name: &str,
    want: Option<&Vec<String>>,
) -> Vec<Change> {
    let ty_id = p.types.get(ty).map_or("", |t| t.id.as_str());
    let stype = p
        .types
        .get(ty)
        .and_then(|d| d.relation(name).and_then(|i| d.relations.get(i)))
        .and_then(|r| p.types.get(r.target))
        .map_or("", |t| t.id.as_str());
    let have: Vec<String> = existing
        .and_then(|e| e.relations.iter().find(|(r, _)| r == name))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let want: Vec<String> = want.cloned().unwrap_or_default();
    let tuple = |sid: &String| Tuple {
        rtype: ty_id.to_owned(),
        rid: id.to_owned(),
        relation: name.to_owned(),
        stype: stype.to_owned(),
        sid: sid.clone(),
    };
    let mut out: Vec<Change> = have
        .iter()
        .filter(|h| !want.contains(h))
        .map(|h| Change::DeleteRelation(tuple(h)))
        .collect();
    out.extend(
        want.iter()
            .filter(|w| !have.contains(w))
            .map(|w| Change::PutRelation(tuple(w))),
    );
    out
}

/// Deletes an entity and its relation tuples (and a user's assignments).
#[derive(Debug, Clone)]
pub struct DeleteEntity {
    /// Which kind.
    pub kind: EntityKind,
    /// Its id.
    pub id: String,
}

impl Command for DeleteEntity {
    fn plan(&self, view: &View, actor: &Actor, now: i64) -> EngineResult<Plan> {
        let id = &self.id;
        valid_id(id, "entity")?;
        let (ty, ty_name) = self.kind.type_in(&view.profile)?;
        if view.mem.entity(&ty_name, id).is_none() {
            return Err(EngineError::NotFound(format!("unknown {ty_name} `{id}`")));
        }
        authorize(
            &view.snapshot,
            actor,
            self.kind.delete_op(),
            Object::Entity { ty, id },
            now,
        )?;
        let mut changes = vec![Change::DeleteEntity {
            ty: ty_name.clone(),
            id: id.clone(),
        }];
        if ty_name == "user" {
            changes.extend(
                view.mem
                    .state
                    .assignments
                    .iter()
                    .filter(|a| a.principal == *id)
                    .map(|a| Change::DeleteAssignment { id: a.id.clone() }),
            );
        }
        Ok(Plan::of(changes))
    }
}
