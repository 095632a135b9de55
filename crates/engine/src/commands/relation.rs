//! Relation tuples in bulk (`resource#relation@subject`, e.g. conversation c1's agent
//! is alice): up to the configured limit per write, one revision, optionally
//! conditioned on the tenant's current revision.

use rolecall_core::{Change, Profile, Tuple};

use crate::actor::Actor;
use crate::authz::{Object, Reader, authorize};
use crate::command::{Candidate, Command, Plan};
use crate::error::{EngineError, EngineResult};
use crate::registry::valid_id;
use crate::view::View;

/// A tuple as written: `TYPE:ID` strings for the resource and the subject.
#[derive(Debug, Clone)]
pub struct TupleRef {
    /// `TYPE:ID` of the resource.
    pub resource: String,
    /// The relation.
    pub relation: String,
    /// `TYPE:ID` of the subject.
    pub subject: String,
}

/// `TYPE:ID` split and checked.
pub fn split_ref(s: &str, what: &str) -> EngineResult<(String, String)> {
    let (t, id) = s
        .split_once(':')
        .ok_or_else(|| EngineError::BadRequest(format!("{what} `{s}` must be TYPE:ID")))?;
    valid_id(t, "type")?;
    valid_id(id, what)?;
    Ok((t.to_owned(), id.to_owned()))
}

/// The tuple `b` names, checked against the profile (`list[i]` says where it was).
fn tuple(p: &Profile, b: &TupleRef, i: usize, list: &str) -> EngineResult<Tuple> {
    let at = |m: String| EngineError::Invalid(format!("{list}[{i}]: {m}"));
    let (rtype, rid) = split_ref(&b.resource, "resource")?;
    let (stype, sid) = split_ref(&b.subject, "subject")?;
    let ty = p
        .type_id(&rtype)
        .ok_or_else(|| at(format!("unknown resource type `{rtype}`")))?;
    let def = p.types.get(ty).ok_or_else(|| at("type".into()))?;
    let rel = def
        .relation(&b.relation)
        .and_then(|r| def.relations.get(r))
        .ok_or_else(|| at(format!("`{rtype}` has no relation `{}`", b.relation)))?;
    if rel.inverse.is_some() {
        return Err(at(format!(
            "`{rtype}.{}` is computed; write the relation it inverts",
            b.relation
        )));
    }
    let target = p.types.get(rel.target).map_or("?", |t| t.id.as_str());
    if target != stype {
        return Err(at(format!(
            "`{rtype}.{}` points to `{target}`, not `{stype}`",
            b.relation
        )));
    }
    Ok(Tuple {
        rtype,
        rid,
        relation: b.relation.clone(),
        stype,
        sid,
    })
}

/// Writes and deletes tuples as one revision.
#[derive(Debug, Clone)]
pub struct WriteRelations {
    /// Tuples to write.
    pub writes: Vec<TupleRef>,
    /// Tuples to delete.
    pub deletes: Vec<TupleRef>,
    /// Refuse unless the tenant is at this revision.
    pub if_revision: Option<u64>,
    /// Most tuples accepted.
    pub limit: usize,
}

impl Command for WriteRelations {
    fn plan(&self, view: &View, actor: &Actor, now: i64) -> EngineResult<Plan> {
        let n = self.writes.len() + self.deletes.len();
        if n > self.limit {
            return Err(EngineError::BadRequest(format!(
                "{n} tuples in one call; the limit is {}",
                self.limit
            )));
        }
        if n == 0 {
            return Err(EngineError::BadRequest(
                "nothing to write: `writes` and `deletes` are empty".into(),
            ));
        }
        // Refused at once when the actor may write relations nowhere.
        Reader::new(&view.snapshot, actor, "relations.write", now)?;
        let p = &view.profile;
        let mut changes = Vec::with_capacity(n);
        for (i, w) in self.writes.iter().enumerate() {
            changes.push(Change::PutRelation(tuple(p, w, i, "writes")?));
        }
        for (i, d) in self.deletes.iter().enumerate() {
            changes.push(Change::DeleteRelation(tuple(p, d, i, "deletes")?));
        }
        Ok(Plan {
            expected_revision: self.if_revision,
            ..Plan::of(changes)
        })
    }

    /// Each tuple's resource, as it is after the write (it may be new), must be one the
    /// actor may write relations of.
    fn check_candidate(
        &self,
        _view: &View,
        c: Candidate<'_>,
        actor: &Actor,
        now: i64,
    ) -> EngineResult<()> {
        let p = c.snapshot.profile();
        let mut seen = std::collections::BTreeSet::new();
        for t in self.writes.iter().chain(&self.deletes) {
            if !seen.insert(t.resource.as_str()) {
                continue;
            }
            let (rtype, rid) = split_ref(&t.resource, "resource")?;
            let ty = p
                .type_id(&rtype)
                .ok_or_else(|| EngineError::Invalid(format!("unknown resource type `{rtype}`")))?;
            authorize(
                c.snapshot,
                actor,
                "relations.write",
                Object::Entity { ty, id: &rid },
                now,
            )?;
        }
        Ok(())
    }
}
