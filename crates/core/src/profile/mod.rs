//! The profile: a permission model (catalog, types, roles, actions, appointment rules)
//! loaded from TOML, validated, with every reference resolved to an index.

pub mod catalog;
mod grants;
pub mod invariants;
pub mod limits;
pub(crate) mod load;
mod model;
pub(crate) mod raw;
mod resolve;
pub mod sod;

pub(crate) use grants::quoted;
pub use grants::{
    GrantSpec, GrantValue, Grants, RoleDef, RoleField, RoleProblem, RoleSpec, resolve_grant,
    resolve_role,
};
pub use limits::Limits;
pub use load::valid_id;
pub use load::{load_profile, load_profile_with};

pub use model::*;
