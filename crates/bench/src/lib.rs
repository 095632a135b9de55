//! Benchmark support for rolecall: a deterministic, seeded workload generator shared
//! by every benchmark (the in-process check bench now; peer engines and HTTP load
//! later), and small timing helpers.

pub mod seed;
pub mod stats;
pub mod workload;
