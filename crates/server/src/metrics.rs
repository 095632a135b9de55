//! Prometheus metrics in two registries. The **public** one holds nothing that names a
//! tenant: requests and latency per route template, decisions by outcome over all
//! tenants, the number of tenants, connections (open, cap, refused, closed by a
//! timeout), rate-limit refusals and the token cache. The **tenant** one holds the
//! per-tenant series (decisions and snapshot revision per tenant) and is rendered only
//! for the metrics token or the operator token (`routes::ops::metrics`), so a tenant's
//! existence does not leak from an unauthenticated route.

use std::sync::Mutex;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use rolecall_engine::tokens::TokenCacheStats;

/// The server's metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    public: Registry,
    tenants: Registry,
    /// Requests by method, route and status.
    pub requests: IntCounterVec,
    /// Latency by method and route, seconds.
    pub latency: HistogramVec,
    /// Decisions by tenant and outcome (allowed / denied / error): tenant registry.
    pub tenant_decisions: IntCounterVec,
    /// Current revision of each tenant's snapshot: tenant registry.
    pub revision: IntGaugeVec,
    allowed: IntCounter,
    denied: IntCounter,
    errors: IntCounter,
    /// Tenants served.
    pub tenant_count: IntGauge,
    /// Connections open now.
    pub connections_open: IntGauge,
    /// The connection cap in force.
    pub connections_max: IntGauge,
    /// Connections refused at the cap.
    pub connections_refused: IntCounter,
    /// Connections closed by a timeout, by reason (`header`, `idle`, `stalled_reader`).
    pub connections_timed_out: IntCounterVec,
    /// Requests refused with 429, by limit (`token`, `unknown_tokens`).
    pub rate_limited: IntCounterVec,
    token_hits: IntCounter,
    token_negative_hits: IntCounter,
    token_store_lookups: IntCounter,
    token_refused_lookups: IntCounter,
    token_unknown_remembered: IntGauge,
    /// Serializes copying the token cache's counters (they only ever grow).
    token_sync: std::sync::Arc<Mutex<()>>,
}

fn counter(r: &Registry, name: &str, help: &str) -> anyhow::Result<IntCounter> {
    let c = IntCounter::new(name, help)?;
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

fn gauge(r: &Registry, name: &str, help: &str) -> anyhow::Result<IntGauge> {
    let g = IntGauge::new(name, help)?;
    r.register(Box::new(g.clone()))?;
    Ok(g)
}

fn counter_vec(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> anyhow::Result<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> anyhow::Result<Self> {
        let public = Registry::new();
        let tenants = Registry::new();
        let requests = counter_vec(
            &public,
            "rolecall_http_requests_total",
            "HTTP requests",
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
        public.register(Box::new(latency.clone()))?;
        let decisions = counter_vec(
            &public,
            "rolecall_decisions_total",
            "Check decisions over all tenants",
            &["outcome"],
        )?;
        let tenant_decisions = counter_vec(
            &tenants,
            "rolecall_tenant_decisions_total",
            "Check decisions per tenant",
            &["tenant", "outcome"],
        )?;
        let revision = IntGaugeVec::new(
            Opts::new(
                "rolecall_snapshot_revision",
                "Revision of the tenant's snapshot",
            ),
            &["tenant"],
        )?;
        tenants.register(Box::new(revision.clone()))?;
        Ok(Self {
            allowed: decisions.with_label_values(&["allowed"]),
            denied: decisions.with_label_values(&["denied"]),
            errors: decisions.with_label_values(&["error"]),
            tenant_count: gauge(&public, "rolecall_tenants", "Tenants served")?,
            connections_open: gauge(&public, "rolecall_connections_open", "Connections open")?,
            connections_max: gauge(
                &public,
                "rolecall_connections_max",
                "Most connections open at once (the cap in force)",
            )?,
            connections_refused: counter(
                &public,
                "rolecall_connections_refused_total",
                "Connections answered 503 or closed at the connection cap",
            )?,
            connections_timed_out: counter_vec(
                &public,
                "rolecall_connections_timed_out_total",
                "Connections closed by a timeout",
                &["reason"],
            )?,
            rate_limited: counter_vec(
                &public,
                "rolecall_rate_limited_total",
                "Requests refused with 429",
                &["limit"],
            )?,
            token_hits: counter(
                &public,
                "rolecall_token_cache_hits_total",
                "Authentications answered from the token cache",
            )?,
            token_negative_hits: counter(
                &public,
                "rolecall_token_negative_hits_total",
                "Unknown tokens refused from the negative cache, without a store lookup",
            )?,
            token_store_lookups: counter(
                &public,
                "rolecall_token_store_lookups_total",
                "Token lookups in the store",
            )?,
            token_refused_lookups: counter(
                &public,
                "rolecall_token_lookups_refused_total",
                "Lookups of never-seen tokens refused by the per-address budget",
            )?,
            token_unknown_remembered: gauge(
                &public,
                "rolecall_token_unknown_remembered",
                "Token hashes remembered as unknown",
            )?,
            token_sync: std::sync::Arc::new(Mutex::new(())),
            public,
            tenants,
            requests,
            latency,
            tenant_decisions,
            revision,
        })
    }

    /// Counts one decision.
    pub fn decision(&self, tenant: &str, d: &rolecall_core::Decision) {
        let (outcome, all) = match (d.allowed, d.error.is_some()) {
            (_, true) => ("error", &self.errors),
            (true, _) => ("allowed", &self.allowed),
            _ => ("denied", &self.denied),
        };
        all.inc();
        self.tenant_decisions
            .with_label_values(&[tenant, outcome])
            .inc();
    }

    /// Counts a batch's decisions.
    pub fn decisions_counted(&self, tenant: &str, allowed: u64, denied: u64) {
        self.allowed.inc_by(allowed);
        self.denied.inc_by(denied);
        self.tenant_decisions
            .with_label_values(&[tenant, "allowed"])
            .inc_by(allowed);
        self.tenant_decisions
            .with_label_values(&[tenant, "denied"])
            .inc_by(denied);
    }

    /// Records a tenant's current revision.
    pub fn saw_revision(&self, tenant: &str, revision: u64) {
        self.revision
            .with_label_values(&[tenant])
            .set(i64::try_from(revision).unwrap_or(i64::MAX));
    }

    /// Copies the token cache's counters.
    pub fn saw_tokens(&self, s: &TokenCacheStats) {
        let Ok(_one_at_a_time) = self.token_sync.lock() else {
            return;
        };
        for (c, v) in [
            (&self.token_hits, s.hits),
            (&self.token_negative_hits, s.negative_hits),
            (&self.token_store_lookups, s.store_lookups),
            (&self.token_refused_lookups, s.refused_lookups),
        ] {
            c.inc_by(v.saturating_sub(c.get()));
        }
        self.token_unknown_remembered
            .set(i64::try_from(s.unknown_remembered).unwrap_or(i64::MAX));
    }

    /// The Prometheus text exposition: the public metrics, and the per-tenant ones when
    /// `with_tenants`.
    pub fn render(&self, with_tenants: bool) -> String {
        let mut families = self.public.gather();
        if with_tenants {
            families.extend(self.tenants.gather());
        }
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&families, &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }
}
