//! Compiling a [`TenantState`] against a profile into a [`Snapshot`]. Every problem
//! in the state is reported with the path of the object it is in. This module runs
//! the steps in order; its submodules hold them.

mod entities;
mod grants;
mod org;
mod relations;
mod roles;

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::Snapshot;
use super::bits::Layout;
use super::program::{Node, compile};
use crate::profile::{ORG_UNIT, Profile, Value, ValueType};
use crate::state::{StateError, StatePath, TenantState};

pub(crate) use entities::attr_val;
pub(crate) use relations::{anchor_of, many_store};
pub(crate) use roles::{cap_mask, hold_subtrees_at_top};

/// Collects the problems found in a state, each with the path of its object.
pub(crate) struct Builder {
    errors: Vec<StateError>,
}

impl Builder {
    pub(crate) fn err(&mut self, at: StatePath, message: impl Into<String>) {
        self.errors.push(StateError {
            at,
            message: message.into(),
        });
    }
}

/// Interns bitsets so users with the same roles share one set.
pub(crate) struct Interner {
    pub(crate) words: usize,
    pub(crate) sets: Vec<u64>,
    pub(crate) index: FxHashMap<Box<[u64]>, u32>,
}

impl Interner {
    /// An interner of `words`-word sets whose set 0 is the empty set.
    fn new(words: usize) -> Self {
        let mut interner = Interner {
            words,
            sets: Vec::new(),
            index: FxHashMap::default(),
        };
        interner.intern(&vec![0u64; words]);
        interner
    }

    pub(crate) fn intern(&mut self, set: &[u64]) -> u32 {
        if let Some(&i) = self.index.get(set) {
            return i;
        }
        let i = (self.sets.len() / self.words) as u32;
        self.sets.extend_from_slice(set);
        self.index.insert(set.into(), i);
        i
    }
}

impl Snapshot {
    /// Compiles `state` against `profile`. Every problem found is returned, each naming
    /// the object it is in.
    pub fn build(profile: Arc<Profile>, state: &TenantState) -> Result<Snapshot, Vec<StateError>> {
        let p = profile.as_ref();
        let mut b = Builder { errors: Vec::new() };
        let layout = Layout::new(p);

        let mut tables = entities::empty_tables(p);
        entities::add_tenant(&mut b, &mut tables, state);
        let types_of = entities::number_entities(&mut b, p, &mut tables, state);
        entities::fill_default_attributes(p, &mut tables);
        let tuples = entities::read_facts(&mut b, p, &mut tables, state, &types_of);
        org::check_kinds(&mut b, p, state, &types_of);
        relations::store_relations(p, &mut tables, &tuples);
        let (org_enter, org_exit) = org::number_org_units(&mut b, p, &tables, state, &types_of);
        relations::set_anchors(p, &mut tables);

        let settings = settings(&mut b, p, state);

        let defs = roles::role_defs(&mut b, p, state);
        let role_index = roles::role_index(&defs);
        let mut interner = Interner::new(layout.words);
        let custom_path = |id: &str| roles::custom_role_path(state, id);
        let roles = roles::compile_roles(
            &mut b,
            p,
            &layout,
            &mut interner,
            defs,
            &role_index,
            &custom_path,
        );
        let users = grants::users(
            &mut b,
            &tables,
            &roles,
            &role_index,
            &mut interner,
            &layout.restrictions,
            state,
        );

        let sod = super::sod::compile(&mut b, p, &layout, &role_index, &state.sod_rules);
        if !b.errors.is_empty() {
            return Err(b.errors);
        }
        let programs = Programs::compile(p, &layout);
        Ok(Snapshot {
            layout,
            tables,
            settings,
            roles,
            role_index,
            sets: interner.sets,
            users,
            org_enter,
            org_exit,
            programs: programs.requires,
            obligations: programs.obligations,
            sod,
            appoint_targets: programs.appoint_targets,
            profile,
        })
    }
}

/// Setting values: the profile's defaults overridden by the state's, each checked.
fn settings(b: &mut Builder, p: &Profile, state: &TenantState) -> Vec<Value> {
    let mut settings: Vec<Value> = p.settings.iter().map(|s| s.default.clone()).collect();
    for (i, (id, v)) in state.settings.iter().enumerate() {
        match p.setting(id) {
            Some(s) => {
                let ty = p.settings.get(s).map(|d| d.ty);
                if Some(v.ty()) != ty {
                    b.err(
                        StatePath::Setting(i),
                        format!(
                            "setting `{id}` must be {}, found {v}",
                            ty.map_or("?", ValueType::name)
                        ),
                    );
                } else if let Some(slot) = settings.get_mut(s) {
                    *slot = v.clone();
                }
            }
            None => b.err(
                StatePath::Setting(i),
                format!(
                    "unknown setting `{id}`; expected one of {}",
                    crate::profile_quoted(
                        &p.settings.iter().map(|s| s.id.clone()).collect::<Vec<_>>()
                    )
                ),
            ),
        }
    }
    settings
}

/// The profile's expressions compiled against the layout.
struct Programs {
    /// Each action's requirement.
    requires: Vec<Node>,
    /// Each action's obligation conditions.
    obligations: Vec<Vec<Node>>,
    /// Each appointment rule's target condition.
    appoint_targets: Vec<Option<Node>>,
}

impl Programs {
    fn compile(p: &Profile, layout: &Layout) -> Self {
        let obligations = p
            .actions
            .iter()
            .map(|a| {
                a.obligations
                    .iter()
                    .map(|o| compile(p, layout, a.resource, &o.when))
                    .collect()
            })
            .collect();
        let requires = p
            .actions
            .iter()
            .map(|a| compile(p, layout, a.resource, &a.requires))
            .collect();
        let appoint_targets = p
            .appointments
            .iter()
            .map(|a| a.target.as_ref().map(|t| compile(p, layout, ORG_UNIT, t)))
            .collect();
        Programs {
            requires,
            obligations,
            appoint_targets,
        }
    }
}
