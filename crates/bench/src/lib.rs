//! Benchmark support for rolecall: a deterministic, seeded workload generator shared
//! by every benchmark (check-bench, http-bench, hotpath-bench, store-bench, and the peer-bench and
//! scaling-bench examples, which use the peer engines and plotters as
//! dev-dependencies), small timing helpers, and a real server process for the HTTP benchmarks.

pub mod app;
pub mod process;
pub mod seed;
pub mod stats;
pub mod workload;

/// The number after `name` in `args` (`_` separators allowed), else `default`.
pub fn flag(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}
