//! rolecall's tenant engine: every tenant in memory with its compiled snapshot, the
//! write path (plan, validate, authorize, commit, swap), self-authorization of an
//! [`Actor`] by the tenant's own profile, audit drafting, history with checkpoints,
//! credentials and demo seeding.
//!
//! Transport-free: it speaks no HTTP (the server maps [`EngineError`]s to statuses)
//! and is async only where the store is. Time comes from a [`Clock`].

pub mod actor;
pub mod audit;
pub mod audit_sink;
pub mod authz;
pub mod clock;
pub mod command;
pub mod commands;
pub mod consistency;
pub mod credential;
pub mod credentials;
pub mod decide;
pub mod demo;
pub mod error;
pub mod follower;
pub mod history;
pub mod impact;
pub mod lookup;
pub mod options;
pub mod permissions;
pub mod profiles;
pub mod registry;
mod shared;
pub mod store_url;
pub mod tenant;
pub mod tokens;
pub mod view;
pub mod watch;

pub use actor::Actor;
pub use clock::{Clock, ManualClock, SystemClock};
pub use command::{Command, Plan, Written};
pub use consistency::Consistency;
pub use error::{EngineError, EngineResult};
pub use options::Options;
pub use registry::{Engine, Minted, ProfileSource, TenantSpec, valid_id};
pub use store_url::open_store;
pub use tenant::Tenant;
pub use view::View;
