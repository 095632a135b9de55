//! rolecall's HTTP server: the API under `/v1`, bearer-token authentication,
//! management governed by each tenant's own profile, metrics and the OpenAPI
//! description. Startup is [`app::run`]; `rolecall serve` is a thin wrapper.

pub mod app;
pub mod audit_log;
pub mod auth;
pub mod authz;
pub mod config;
pub mod console;
pub mod demo;
pub mod demo_tenants;
pub mod error;
pub mod metrics;
pub mod profiles;
pub mod routes;
pub mod tenant;

pub use app::{AppState, build_state, ensure_operator_token, open_store, run};
pub use config::Config;
