//! The audit trail: filtered, paged, exported as JSON lines or CSV, and verified.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rolecall_store::{AuditFilter, AuditRecord};
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
#[utoipa::path(get, path = "/v1/tenants/{tenant}/audit", params(("tenant" = String, Path,), AuditQuery), responses((status = 200, body = AuditPage, description = "JSON; or JSON lines / CSV with `format`")), security(("bearer" = [])))]
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
    // An export without a `limit` is the whole (filtered) trail, read a page at a time:
    // a page alone would cut it short without saying so.
    let whole = format != "json" && q.limit.is_none();
    let newest_first = match q.order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => format == "json",
        Some(o) => {
            return Err(ApiError::bad_request(format!(
                "unknown order `{o}`; expected asc or desc"
            )));
        }
    };
    let mut filter = AuditFilter {
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
    let mut rows = s.engine.store().audit(&tenant, &filter).await?;
    let mut full = rows.len() as u32 == limit;
    let last_seq = rows.last().map(|r| r.seq);
    while whole
        && full
        && let Some(last) = rows.last().map(|r| r.seq)
    {
        filter.after_seq = Some(last);
        let page = s.engine.store().audit(&tenant, &filter).await?;
        full = page.len() as u32 == limit;
        rows.extend(page);
    }
    // Only the entries the caller may read: those about objects its `audit.read`
    // covers (a page may hold fewer entries than `limit`; paging goes on from the last
    // entry read).
    let entries: Vec<AuditEntry> = rows
        .into_iter()
        .filter(|r| reader.may(Object::of_target(&view.snapshot, &r.target)))
        .map(entry)
        .collect();
    match format {
        "jsonl" => {
            let body: String = entries
                .iter()
                .filter_map(|e| serde_json::to_string(e).ok())
                .map(|l| l + "\n")
                .collect();
            Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
        }
        "csv" => {
            let mut body =
                String::from("seq,revision,at,actor,action,target,before,after,prev_hash,hash\n");
            for e in &entries {
                let j = |v: &Option<serde_json::Value>| {
                    v.as_ref().map(|x| x.to_string()).unwrap_or_default()
                };
                body.push_str(
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
                body.push('\n');
            }
            Ok(([(header::CONTENT_TYPE, "text/csv")], body).into_response())
        }
        _ => {
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
    }
}

/// The chain's verification.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerify {
    /// Entries checked.
    pub entries: u64,
    /// Every hash matched.
    pub intact: bool,
    /// The first entry that does not match.
    pub first_bad_seq: Option<u64>,
    /// Why.
    pub reason: Option<String>,
}

/// Verifies the audit chain (operator or `audit.read`).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/audit/verify", params(("tenant" = String, Path,)), responses((status = 200, body = AuditVerify)), security(("bearer" = [])))]
pub async fn verify(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
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
    let v = s.engine.store().verify_audit(&tenant).await?;
    Ok(Json(AuditVerify {
        entries: v.entries,
        intact: v.first_bad.is_none(),
        first_bad_seq: v.first_bad.as_ref().map(|(s, _)| *s),
        reason: v.first_bad.map(|(_, r)| r),
    }))
}
