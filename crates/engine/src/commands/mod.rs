//! The write commands, one module per kind of object.

pub mod assignment;
pub mod entity;
pub mod import;
pub mod relation;
pub mod role;
pub mod setting;
pub mod sod;

pub use assignment::{AssignmentDraft, CreateAssignment, DeleteAssignment};
pub use entity::{DeleteEntity, EntityDraft, EntityKind, UpsertEntity};
pub use import::ApplyChanges;
pub use relation::{TupleRef, WriteRelations};
pub use role::{CreateRole, DeleteRole, RoleDraft, UpdateRole};
pub use setting::SetSettings;
pub use sod::{DeleteSodRule, PutSodRule};
