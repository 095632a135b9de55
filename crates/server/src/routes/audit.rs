//! The audit trail: filtered, paged, exported as JSON lines or CSV (streamed a page at
//! a time: memory does not grow with the trail), and verified (a page at a time, from
//! the first entry or from the stored checkpoint).

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rolecall_engine::Actor;
use rolecall_engine::View;
use rolecall_store::{AuditCheckpoint, AuditFilter, AuditRecord, Store};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use rolecall_engine::authz::{Object, Reader, authorize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tenant_for;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(verify))
}

/// Filters and paging.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only this actor (e.g. `user:alice`).
    pub actor: Option<String>,
    /// Only this target (e.g. `role:team_lead`, `user:bob`).
    pub target: Option<String>,
    /// Only actions starting with this (e.g. `role.`, `decision.`).
    pub action: Option<String>,
    /// From this time (Unix seconds).
    pub from: Option<i64>,
    /// Before this time (Unix seconds).
    pub to: Option<i64>,
    /// Entries after this sequence number (the previous page's `next_after`).
    pub after: Option<u64>,
    /// Entries before this sequence number (the previous page's `next_before`, newest
    /// first).
    pub before: Option<u64>,
    /// `asc` (oldest first, the default) or `desc` (newest first). Exports are always
    /// oldest first.
    pub order: Option<String>,
    /// Page size (default 100, at most 10,000). A `jsonl` or `csv` export without it
    /// holds every matching entry.
    pub limit: Option<u32>,
    /// `json` (default), `jsonl` or `csv`.
    pub format: Option<String>,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Position in the chain.
    pub seq: u64,
    /// Tenant revision.
    pub revision: u64,
    /// Unix seconds.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What happened.
    pub action: String,
    /// To what.
    pub target: String,
    /// Before (JSON).
    #[schema(value_type = Object)]
    pub before: Option<serde_json::Value>,
    /// After (JSON).
    #[schema(value_type = Object)]
    pub after: Option<serde_json::Value>,
    /// Previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// A page of entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Entries, in the order asked for.
    pub entries: Vec<AuditEntry>,
    /// Oldest first: pass as `after` for the next page (absent on the last page).
    pub next_after: Option<u64>,
    /// Newest first: pass as `before` for the next page (absent on the last page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<u64>,
}

fn entry(r: AuditRecord) -> AuditEntry {
    let parse = |s: Option<String>| s.and_then(|x| serde_json::from_str(&x).ok());
    AuditEntry {
        seq: r.seq,
        revision: r.revision,
        at: r.at,
        actor: r.actor,
        action: r.action,
        target: r.target,
        before: parse(r.before),
        after: parse(r.after),
        prev_hash: r.prev_hash,
        hash: r.hash,
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The audit trail (operator or `audit.read`).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/audit", params(("tenant" = String, Path,), AuditQuery), responses((status = 200, body = AuditPage, description = "JSON; or JSON lines / CSV with `format`, streamed")), security(("bearer" = [])))]
pub async fn list(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    let view = t.current();
    let reader = Reader::new(&view.snapshot, &caller.0, "audit.read", t.now())?;
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "jsonl" | "csv") {
        return Err(ApiError::bad_request(format!(
            "unknown format `{format}`; expected json, jsonl or csv"
        )));
    }
    let limit = q
        .limit
        .unwrap_or(if format == "json" { 100 } else { 10_000 })
        .clamp(1, 10_000);
    let newest_first = match q.order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => format == "json",
        Some(o) => {
            return Err(ApiError::bad_request(format!(
                "unknown order `{o}`; expected asc or desc"
            )));
        }
    };
    let filter = AuditFilter {
        actor: q.actor,
        target: q.target,
        action: q.action,
        from: q.from,
        to: q.to,
        after_seq: q.after,
        before_seq: q.before,
        newest_first,
        limit,
    };
    if format != "json" {
        // An export without a `limit` is the whole (filtered) trail; with one, that
        // many entries. Either way it is streamed, a page at a time.
        let export = Export {
            store: s.engine.store().clone(),
            tenant,
            filter: AuditFilter {
                limit: q.limit.map_or(EXPORT_PAGE, |l| l.clamp(1, EXPORT_PAGE)),
                ..filter
            },
            left: q.limit.map(|l| u64::from(l.clamp(1, 10_000))),
            view: view.clone(),
            actor: caller.0.clone(),
            now: t.now(),
            csv: format == "csv",
            started: false,
            done: false,
        };
        let content_type = if export.csv {
            "text/csv"
        } else {
            "application/x-ndjson"
        };
        let body = Body::from_stream(futures_util::stream::unfold(export, Export::next));
        return Ok(([(header::CONTENT_TYPE, content_type)], body).into_response());
    }
    let rows = s.engine.store().audit(&tenant, &filter).await?;
    let full = rows.len() as u32 == limit;
    let last_seq = rows.last().map(|r| r.seq);
    // Only the entries the caller may read: those about objects its `audit.read`
    // covers (a page may hold fewer entries than `limit`; paging goes on from the last
    // entry read).
    let entries: Vec<AuditEntry> = rows
        .into_iter()
        .filter(|r| reader.may(Object::of_target(&view.snapshot, &r.target)))
        .map(entry)
        .collect();
    let next = if full { last_seq } else { None };
    let (next_after, next_before) = if newest_first {
        (None, next)
    } else {
        (next, None)
    };
    Ok(Json(AuditPage {
        entries,
        next_after,
        next_before,
    })
    .into_response())
}

/// Entries read from the store per page of a streamed export: the export holds one
/// page at a time, whatever the length of the trail.
const EXPORT_PAGE: u32 = 1_000;

/// A streamed export's position.
struct Export {
    store: Arc<dyn Store>,
    tenant: String,
    filter: AuditFilter,
    /// Entries still to read when the export has a `limit`.
    left: Option<u64>,
    view: Arc<View>,
    actor: Actor,
    now: i64,
    csv: bool,
    started: bool,
    done: bool,
}

impl Export {
    /// The next chunk: a page of entries as JSON lines or CSV rows (the CSV header
    /// first). A store error ends the body with an error, so the client sees a broken
    /// transfer rather than a trail cut short.
    async fn next(mut self) -> Option<(Result<Bytes, std::io::Error>, Export)> {
        if self.done {
            return None;
        }
        if let Some(left) = self.left {
            self.filter.limit = self
                .filter
                .limit
                .min(u32::try_from(left).unwrap_or(u32::MAX));
        }
        let page = match self.store.audit(&self.tenant, &self.filter).await {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(tenant = %self.tenant, error = %e, "audit export failed");
                self.done = true;
                return Some((Err(std::io::Error::other("audit export failed")), self));
            }
        };
        let read = page.len() as u64;
        if let Some(left) = &mut self.left {
            *left = left.saturating_sub(read);
        }
        if read < u64::from(self.filter.limit) || self.left == Some(0) {
            self.done = true;
        }
        if let Some(last) = page.last() {
            self.filter.after_seq = Some(last.seq);
        }
        let mut out = String::new();
        if self.csv && !self.started {
            out.push_str(CSV_HEADER);
        }
        self.started = true;
        match Reader::new(&self.view.snapshot, &self.actor, "audit.read", self.now) {
            Ok(reader) => {
                for r in page {
                    if reader.may(Object::of_target(&self.view.snapshot, &r.target)) {
                        let e = entry(r);
                        if self.csv {
                            csv_row(&mut out, &e);
                        } else if let Ok(line) = serde_json::to_string(&e) {
                            out.push_str(&line);
                            out.push('\n');
                        }
                    }
                }
            }
            Err(_) => self.done = true,
        }
        Some((Ok(Bytes::from(out)), self))
    }
}

const CSV_HEADER: &str = "seq,revision,at,actor,action,target,before,after,prev_hash,hash\n";

fn csv_row(out: &mut String, e: &AuditEntry) {
    let j = |v: &Option<serde_json::Value>| v.as_ref().map(|x| x.to_string()).unwrap_or_default();
    out.push_str(
        &[
            e.seq.to_string(),
            e.revision.to_string(),
            e.at.to_string(),
            csv_field(&e.actor),
            csv_field(&e.action),
            csv_field(&e.target),
            csv_field(&j(&e.before)),
            csv_field(&j(&e.after)),
            e.prev_hash.clone(),
            e.hash.clone(),
        ]
        .join(","),
    );
    out.push('\n');
}

/// The chain's verification.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerify {
    /// Entries checked (after `from_seq`).
    pub entries: u64,
    /// Every hash matched.
    pub intact: bool,
    /// The first entry that does not match.
    pub first_bad_seq: Option<u64>,
    /// Why.
    pub reason: Option<String>,
    /// Verification started after this entry: 0 for the whole chain, the stored
    /// checkpoint's entry when resuming, or the chain's root when retention pruned its
    /// front (the last pruned entry, whose hash the first remaining one follows).
    pub from_seq: u64,
    /// The last entry found intact: the checkpoint stored for the next resumption.
    pub verified_to_seq: Option<u64>,
}

/// How to verify.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VerifyQuery {
    /// Resume from the checkpoint the last intact verification stored (its entry must
    /// still be stored unchanged), instead of the first entry.
    pub resume: Option<bool>,
}

/// Verifies the audit chain (operator or `audit.read`), a page at a time; when intact,
/// stores how far (a checkpoint a later verification may resume from).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/audit/verify", params(("tenant" = String, Path,), VerifyQuery), responses((status = 200, body = AuditVerify)), security(("bearer" = [])))]
pub async fn verify(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<VerifyQuery>,
) -> ApiResult<Json<AuditVerify>> {
    let t = tenant_for(&s, &caller, &tenant).await?;
    // Verifying the chain reads every entry: the whole trail's reader only.
    authorize(
        &t.current().snapshot,
        &caller.0,
        "audit.read",
        Object::Tenant,
        t.now(),
    )?;
    let store = s.engine.store();
    let from = if q.resume.unwrap_or(false) {
        store
            .audit_checkpoint(&tenant)
            .await?
            .map(|c| (c.seq, c.hash))
    } else {
        None
    };
    let v = store.verify_audit_from(&tenant, from).await?;
    if v.first_bad.is_none()
        && let Some((seq, hash)) = &v.last
    {
        let checkpoint = AuditCheckpoint {
            seq: *seq,
            hash: hash.clone(),
            verified_at: t.now(),
        };
        store.put_audit_checkpoint(&tenant, &checkpoint).await?;
    }
    Ok(Json(AuditVerify {
        entries: v.entries,
        intact: v.first_bad.is_none(),
        first_bad_seq: v.first_bad.as_ref().map(|(s, _)| *s),
        reason: v.first_bad.map(|(_, r)| r),
        from_seq: v.from.map_or(0, |(s, _)| s),
        verified_to_seq: v.last.map(|(s, _)| s),
    }))
}
