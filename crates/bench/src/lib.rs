//! Benchmark support for rolecall: a deterministic, seeded workload generator shared
//! by every benchmark (check-bench, http-bench, store-bench, and the peer-bench and
//! scaling-bench examples, which use the peer engines and plotters as
//! dev-dependencies), and small timing helpers.

pub mod seed;
pub mod stats;
pub mod workload;
