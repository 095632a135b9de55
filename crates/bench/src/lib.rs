//! Benchmark support for rolecall: a deterministic, seeded workload generator shared
//! by every benchmark (check-bench, http-bench, hotpath-bench, store-bench, and the peer-bench and
//! scaling-bench examples, which use the peer engines and plotters as
//! dev-dependencies), small timing helpers, and a real server process for the HTTP benchmarks.

pub mod app;
pub mod process;
pub mod seed;
pub mod stats;
pub mod workload;
