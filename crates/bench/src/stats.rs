//! Latency summaries and process memory readings.

/// Percentiles of a sample, in the sample's unit.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// 50th percentile.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Mean.
    pub mean: f64,
}

/// Summarizes `samples` (sorted in place).
pub fn summarize(samples: &mut [f64]) -> Summary {
    samples.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| -> f64 {
        if samples.is_empty() {
            return 0.0;
        }
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(i).copied().unwrap_or(0.0)
    };
    let mean = if samples.is_empty() {
        0.0
    } else {
        samples.iter().sum::<f64>() / samples.len() as f64
    };
    Summary {
        p50: at(0.5),
        p99: at(0.99),
        p999: at(0.999),
        mean,
    }
}

/// Peak resident memory of this process in bytes (Linux `VmHWM`), if readable.
pub fn peak_rss_bytes() -> Option<u64> {
    proc_status_kib("VmHWM:").map(|k| k * 1024)
}

/// Current resident memory of this process in bytes (Linux `VmRSS`), if readable.
pub fn rss_bytes() -> Option<u64> {
    proc_status_kib("VmRSS:").map(|k| k * 1024)
}

fn proc_status_kib(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Nanoseconds this thread has spent running on a CPU (Linux
/// `/proc/thread-self/schedstat`), if readable. Unlike wall time, it excludes the
/// time the thread waited while other processes used the core, so throughput figures
/// taken with it hold on a busy machine.
pub fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}
