//! Watch streams, as server-sent events: a tenant's change log as it grows
//! (`/watch`, for `changes.read`), and one user's effective permissions as they change
//! (`/users/{id}/permissions/watch`, for whoever may read them). The tenant stream reads
//! the change log, never the snapshot; both wake on the tenant's revision, which moves
//! with every write on any node. Each stream authenticates its token again and
//! re-checks its authority against the current snapshot on every batch it sends and
//! at least every [`RECHECK`], and ends with an `end` event when either is gone, the
//! tenant is gone, or the server shuts down.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use rolecall_engine::authz::{Object, authorize, may_act_for};
use rolecall_engine::permissions::{Permission, PermissionChange, Permissions, permissions_in};
use rolecall_engine::watch::{ChangeFeed, Cursor};
use rolecall_engine::{Actor, EngineError, Tenant};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::decisions::Permissions as PermissionsView;
use super::tenants::ChangeRow;
use super::valid_id;
use crate::auth::Watcher;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// A comment line this often keeps proxies and clients from timing the stream out.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The token and the caller's authority are checked again at least this often (and on
/// every batch sent); the user watch also recomputes (assignments expire with time).
const RECHECK: Duration = Duration::from_secs(30);

/// Change-log rows read from the store at a time: a stream holds at most this many.
const PAGE: u32 = 500;

pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(watch_tenant))
        .routes(routes!(watch_permissions))
}

/// `?cursor=R.S`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WatchQuery {
    /// Stream the rows after this position, `<revision>.<sequence>` (an event's `id`, a
    /// `next_cursor` of `/changes`; `0.0` for the whole log). Wins over the
    /// `Last-Event-ID` header. Default: after the tenant's current revision (only
    /// what comes next).
    pub cursor: Option<String>,
}

/// `?cursor=R&resource=TYPE:ID`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PermissionsWatchQuery {
    /// Resume after this revision (the `id` of the last event received); wins over the
    /// `Last-Event-ID` header. The snapshot is then followed by what changed since.
    pub cursor: Option<String>,
    /// The resource the permissions are for, `TYPE:ID` (default: the tenant).
    pub resource: Option<String>,
}

/// Something gained or lost.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionItem {
    /// `action` or `privilege`.
    pub kind: &'static str,
    /// Id.
    pub id: String,
    /// The vendor's wording.
    pub name: String,
    /// A privilege's level held (gained) or that was held (lost).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// A privilege's choices held (gained) or that were held (lost).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// The data of a user watch's `change` event.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionsChange {
    /// The revision the user's permissions are now at.
    pub revision: u64,
    /// On resume: the revision this change is counted from (the cursor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// The user.
    pub user: String,
    /// `TYPE:ID` the permissions are for.
    pub resource: String,
    /// Actions now allowed; privileges now held, or held at another level.
    pub gained: Vec<PermissionItem>,
    /// Actions no longer allowed; privileges no longer held, or held at another level.
    pub lost: Vec<PermissionItem>,
    /// One sentence per change: "alice may now barge into live calls on call c1",
    /// "alice no longer holds “Users” (View only)".
    pub text: Vec<String>,
}

/// The data of an `end` event: why the stream ends.
#[derive(Debug, Serialize, ToSchema)]
pub struct WatchEnd {
    /// Why.
    pub reason: String,
}

/// A tenant's change log as it grows (`changes.read`), as server-sent events.
///
/// Each change-log row after the cursor is an event `change` with `id:
/// <revision>.<sequence>` and the row as data (as in `/changes`); then the stream waits
/// for new revisions, written on any node. Resume with `cursor` or the `Last-Event-ID`
/// header. The stream ends with an `end` event (`{"reason": …}`) when the token is
/// revoked, the caller may no longer read the change log, or the server shuts down.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/watch", params(("tenant" = String, Path,), WatchQuery, ("Last-Event-ID" = Option<String>, Header, description = "Resume after this position (`<revision>.<sequence>`), as an EventSource sends it")), responses((status = 200, content_type = "text/event-stream", body = ChangeRow, description = "Server-sent events `change` (data: a change-log row) and `end` (data: `{\"reason\"}`)"), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn watch_tenant(
    State(s): State<Arc<AppState>>,
    caller: Watcher,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<WatchQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let t = s.engine.tenant_for(&caller.actor, &tenant).await?;
    may_read_changes(&t, &caller.actor)?;
    let cursor = match (q.cursor, last_event_id(&headers)?) {
        (Some(c), _) => Cursor::parse(&c, "cursor")?,
        (None, Some(id)) => Cursor::parse(&id, "Last-Event-ID")?,
        (None, None) => Cursor::after_revision(t.current().revision),
    };
    let feed = ChangeFeed::new(t.clone(), cursor, PAGE);
    let stream = TenantWatch {
        s: Session::new(&s, t, caller.secret),
        feed,
    };
    Ok(sse(futures_util::stream::unfold(
        stream,
        |mut w| async move { w.next().await.map(|e| (Ok(e), w)) },
    )))
}

/// A user's effective permissions as they change, as server-sent events; allowed to
/// whoever may read `/users/{id}/permissions` (the user themself, and whom the
/// profile lets act for them).
///
/// The first event is `snapshot` (`id: <revision>`, data: the permissions as
/// `/users/{id}/permissions` answers them); on resume with `cursor` (or
/// `Last-Event-ID`) older than the current revision, a `change` event with what changed
/// since that revision (`since`) follows it. Then each revision that changes what the
/// user may do is a `change` event (`id: <revision>`, data: `gained`, `lost` and one
/// sentence per change in `text`). The stream ends with an `end` event when the token
/// is revoked, the caller may no longer read these permissions, the user is removed, or
/// the server shuts down.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/users/{id}/permissions/watch", params(("tenant" = String, Path,), ("id" = String, Path,), PermissionsWatchQuery, ("Last-Event-ID" = Option<String>, Header, description = "Resume after this revision, as an EventSource sends it")), responses((status = 200, content_type = "text/event-stream", body = PermissionsChange, description = "Server-sent events `snapshot` (data: the permissions), `change` (data: a PermissionsChange) and `end` (data: `{\"reason\"}`)"), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn watch_permissions(
    State(s): State<Arc<AppState>>,
    caller: Watcher,
    ApiPath((tenant, user)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<PermissionsWatchQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let t = s.engine.tenant_for(&caller.actor, &tenant).await?;
    valid_id(&user, "user")?;
    let since = match (q.cursor, last_event_id(&headers)?) {
        (Some(c), _) => Some(revision_cursor(&c, "cursor")?),
        (None, Some(id)) => Some(revision_cursor(&id, "Last-Event-ID")?),
        (None, None) => None,
    };
    // Subscribed before the first answer: a revision landing meanwhile is seen.
    let revisions = t.revisions();
    let view = t.current();
    let now = t.now();
    may_act_for(&view.snapshot, &caller.actor, &user, now)?;
    let resource = q.resource;
    let current = permissions_in(
        &view.snapshot,
        view.revision,
        &user,
        resource.as_deref(),
        now,
    )?;
    let mut session = Session::new(&s, t.clone(), caller.secret);
    session.pending.push_back(event(
        "snapshot",
        Some(view.revision.to_string()),
        &PermissionsView::from(current.clone()),
    ));
    if let Some(since) = since.filter(|r| *r < view.revision) {
        match t.snapshot_at(since).await {
            Ok(old) => {
                let before = match permissions_in(&old, since, &user, resource.as_deref(), now) {
                    Ok(p) => Some(p),
                    // The user or the resource did not exist yet: they held nothing.
                    Err(EngineError::NotFound(_)) => Some(nothing(&current)),
                    Err(_) => None,
                };
                if let Some(before) = before {
                    let d = before.diff(&current);
                    if !d.is_empty() {
                        session
                            .pending
                            .push_back(change_event(&current, Some(since), d));
                    }
                }
            }
            Err(e) => {
                tracing::debug!(tenant = %t.id, revision = since, error = %e, "no history to resume a permissions watch from");
            }
        }
    }
    let stream = PermissionsWatch {
        s: session,
        user,
        resource,
        last: current,
        revisions,
    };
    Ok(sse(futures_util::stream::unfold(
        stream,
        |mut w| async move { w.next().await.map(|e| (Ok(e), w)) },
    )))
}

/// The stream as a response, with keep-alive comments.
fn sse<S>(stream: S) -> Response
where
    S: Stream<Item = Result<Event, Infallible>> + Send + 'static,
{
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// Whether `actor` may read the tenant's change log now.
fn may_read_changes(t: &Tenant, actor: &Actor) -> Result<(), EngineError> {
    authorize(
        &t.current().snapshot,
        actor,
        "changes.read",
        Object::Tenant,
        t.now(),
    )
}

/// The `Last-Event-ID` header, if sent.
fn last_event_id(headers: &HeaderMap) -> ApiResult<Option<String>> {
    headers
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .map(str::to_owned)
                .map_err(|_| ApiError::bad_request("the Last-Event-ID header is not text"))
        })
        .transpose()
}

/// A revision given as a user watch's cursor.
fn revision_cursor(text: &str, what: &str) -> ApiResult<u64> {
    text.parse::<u64>()
        .ok()
        .filter(|_| text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            let shown: String = text.chars().take(64).collect();
            ApiError::bad_request(format!(
                "{what} `{shown}`: expected `<revision>`, e.g. `42`"
            ))
        })
}

/// An event with JSON data.
fn event(kind: &str, id: Option<String>, data: &impl Serialize) -> Event {
    let e = Event::default()
        .event(kind)
        .data(serde_json::to_string(data).unwrap_or_else(|_| "null".to_owned()));
    match id {
        Some(id) => e.id(id),
        None => e,
    }
}

fn item(p: Permission) -> PermissionItem {
    match p {
        Permission::Action { id, name } => PermissionItem {
            kind: "action",
            id,
            name,
            level: None,
            choices: Vec::new(),
        },
        Permission::Privilege(h) => PermissionItem {
            kind: "privilege",
            id: h.id,
            name: h.name,
            level: h.level,
            choices: h.choices,
        },
    }
}

fn change_event(now: &Permissions, since: Option<u64>, d: PermissionChange) -> Event {
    event(
        "change",
        Some(now.revision.to_string()),
        &PermissionsChange {
            revision: now.revision,
            since,
            user: now.user.clone(),
            resource: now.resource.clone(),
            gained: d.gained.into_iter().map(item).collect(),
            lost: d.lost.into_iter().map(item).collect(),
            text: d.text,
        },
    )
}

/// `p` with nothing held and nothing allowed.
fn nothing(p: &Permissions) -> Permissions {
    let mut none = p.clone();
    none.privileges.clear();
    for a in &mut none.actions {
        a.allowed = false;
    }
    none
}

/// Waits for `fut` unless the server begins to shut down first (`None`).
async fn unless_closing<F: Future>(
    closing: &mut watch::Receiver<bool>,
    fut: F,
) -> Option<F::Output> {
    tokio::select! {
        out = fut => Some(out),
        _ = closing.wait_for(|c| *c) => None,
    }
}

/// What both streams keep: the tenant, the token to authenticate again, the events
/// not yet sent, and whether the stream has ended.
struct Session {
    state: Arc<AppState>,
    tenant: Arc<Tenant>,
    secret: String,
    closing: watch::Receiver<bool>,
    pending: VecDeque<Event>,
    done: bool,
}

impl Session {
    fn new(state: &Arc<AppState>, tenant: Arc<Tenant>, secret: String) -> Session {
        Session {
            closing: state.closing.subscribe(),
            state: state.clone(),
            tenant,
            secret,
            pending: VecDeque::new(),
            done: false,
        }
    }

    /// The caller now: its token authenticated again (a revoked or expired one ends
    /// the stream), still confined to this tenant, which still exists.
    async fn caller(&self) -> Result<Actor, String> {
        let actor = self
            .state
            .engine
            .authenticate(&self.secret)
            .await
            .map_err(|e| reason(&e))?;
        self.state
            .engine
            .tenant_for(&actor, &self.tenant.id)
            .await
            .map_err(|e| reason(&e))?;
        Ok(actor)
    }

    /// Queues the `end` event; nothing is sent after it.
    fn end(&mut self, why: String) {
        if !self.done {
            self.pending
                .push_back(event("end", None, &WatchEnd { reason: why }));
            self.done = true;
        }
    }

    /// The next queued event; `None` once the stream has ended and all is sent.
    fn pop(&mut self) -> Option<Option<Event>> {
        match self.pending.pop_front() {
            Some(e) => Some(Some(e)),
            None if self.done => Some(None),
            None => None,
        }
    }
}

/// Why a stream ends, for its `end` event (internal details stay in the log).
fn reason(e: &EngineError) -> String {
    match e {
        EngineError::Unauthenticated(m) => format!("the token is no longer valid: {m}"),
        EngineError::Forbidden(m) | EngineError::NotFound(m) => m.clone(),
        EngineError::Store(s) if s.is_unavailable() => {
            "the database is unavailable; reconnect with Last-Event-ID".to_owned()
        }
        other => {
            tracing::warn!(error = %other, "a watch stream ends on an error");
            "internal error; see the server log".to_owned()
        }
    }
}

const SHUTTING_DOWN: &str = "the server is shutting down; reconnect with Last-Event-ID";

/// The tenant stream: the change feed, authority re-checked per batch.
struct TenantWatch {
    s: Session,
    feed: ChangeFeed,
}

impl TenantWatch {
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.s.pop() {
                return e;
            }
            let Some(rows) = unless_closing(&mut self.s.closing, self.feed.next(RECHECK)).await
            else {
                self.s.end(SHUTTING_DOWN.to_owned());
                continue;
            };
            let rows = match rows {
                Ok(rows) => rows,
                Err(e) => {
                    self.s.end(reason(&e));
                    continue;
                }
            };
            // Every batch, and every quiet RECHECK: the token and `changes.read` against
            // the current snapshot. Rows read are dropped when either is gone.
            let allowed = match self.s.caller().await {
                Ok(actor) => may_read_changes(&self.s.tenant, &actor).map_err(|e| reason(&e)),
                Err(why) => Err(why),
            };
            if let Err(why) = allowed {
                self.s.end(why);
                continue;
            }
            for row in rows {
                let id = Cursor::of(&row).to_string();
                self.s
                    .pending
                    .push_back(event("change", Some(id), &ChangeRow::from(row)));
            }
        }
    }
}

/// The user stream: recomputed against the newest view on each wake (several
/// revisions at once are one computation), a `change` event when anything moved.
struct PermissionsWatch {
    s: Session,
    user: String,
    resource: Option<String>,
    last: Permissions,
    revisions: watch::Receiver<u64>,
}

impl PermissionsWatch {
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.s.pop() {
                return e;
            }
            let waited = unless_closing(
                &mut self.s.closing,
                tokio::time::timeout(RECHECK, self.revisions.changed()),
            )
            .await;
            match waited {
                None => {
                    self.s.end(SHUTTING_DOWN.to_owned());
                    continue;
                }
                Some(Ok(Err(_))) => {
                    let id = self.s.tenant.id.clone();
                    self.s.end(format!("unknown tenant `{id}`"));
                    continue;
                }
                // A new revision, or a quiet RECHECK (expiries move with time).
                Some(_) => {}
            }
            match self.recompute().await {
                Ok(Some(e)) => self.s.pending.push_back(e),
                Ok(None) => {}
                Err(why) => self.s.end(why),
            }
        }
    }

    async fn recompute(&mut self) -> Result<Option<Event>, String> {
        let actor = self.s.caller().await?;
        self.revisions.borrow_and_update();
        let view = self.s.tenant.current();
        let now = self.s.tenant.now();
        may_act_for(&view.snapshot, &actor, &self.user, now).map_err(|e| reason(&e))?;
        let newer = permissions_in(
            &view.snapshot,
            view.revision,
            &self.user,
            self.resource.as_deref(),
            now,
        )
        .map_err(|e| reason(&e))?;
        let d = self.last.diff(&newer);
        let out = (!d.is_empty()).then(|| change_event(&newer, None, d));
        self.last = newer;
        Ok(out)
    }
}
