//! Prometheus metrics: requests and latency per route, checks allowed and denied,
//! snapshot revision per tenant.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// The server's metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by method, route and status.
    pub requests: IntCounterVec,
    /// Latency by method and route, seconds.
    pub latency: HistogramVec,
    /// Decisions by tenant and outcome (allowed / denied / error).
    pub decisions: IntCounterVec,
    /// Current revision of each tenant's snapshot.
    pub revision: IntGaugeVec,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("rolecall_http_requests_total", "HTTP requests"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "rolecall_http_request_duration_seconds",
                "HTTP request latency",
            )
            .buckets(vec![
                0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05,
                0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["method", "route"],
        )?;
        let decisions = IntCounterVec::new(
            Opts::new("rolecall_decisions_total", "Check decisions"),
            &["tenant", "outcome"],
        )?;
        let revision = IntGaugeVec::new(
            Opts::new(
                "rolecall_snapshot_revision",
                "Revision of the tenant's snapshot",
            ),
            &["tenant"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(decisions.clone()))?;
        registry.register(Box::new(revision.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            decisions,
            revision,
        })
    }

    /// Counts one decision.
    pub fn decision(&self, tenant: &str, d: &rolecall_core::Decision) {
        let outcome = match (d.allowed, d.error.is_some()) {
            (_, true) => "error",
            (true, _) => "allowed",
            _ => "denied",
        };
        self.decisions.with_label_values(&[tenant, outcome]).inc();
    }

    /// Counts a batch's decisions.
    pub fn decisions_counted(&self, tenant: &str, allowed: u64, denied: u64) {
        self.decisions
            .with_label_values(&[tenant, "allowed"])
            .inc_by(allowed);
        self.decisions
            .with_label_values(&[tenant, "denied"])
            .inc_by(denied);
    }

    /// Records a tenant's current revision.
    pub fn saw_revision(&self, tenant: &str, revision: u64) {
        self.revision
            .with_label_values(&[tenant])
            .set(i64::try_from(revision).unwrap_or(i64::MAX));
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }
}
