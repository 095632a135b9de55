//! rolecall's HTTP server: the API under `/v1` over the engine, bearer-token
//! authentication as an extractor, the mapping of engine errors to statuses, metrics,
//! the OpenAPI description and the admin console; connections under a cap and
//! timeouts, request rates per token. Startup is [`app::run`]; `rolecall serve` is a
//! thin wrapper.

pub mod app;
pub mod auth;
pub mod config;
pub mod connections;
pub mod console;
pub mod error;
pub mod extract;
pub mod limits;
pub mod metrics;
pub mod routes;
pub mod state;

pub use app::{router, run};
pub use config::Config;
pub use state::AppState;
