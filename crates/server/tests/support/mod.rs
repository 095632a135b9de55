//! Shared helpers for the HTTP tests: an in-process server on a throwaway SQLite file,
//! a small JSON client, and assertions on the error shape.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code; not every test binary uses every helper"
)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::Method;
use std::sync::Arc;

use rolecall_engine::{Engine, ManualClock, open_store};
use rolecall_server::{AppState, Config, run};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// A directory removed on drop (also when the test panics).
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, empty directory under the system temp dir.
    pub fn new(prefix: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An answer: status, parsed JSON (Null when the body is not JSON) and raw text.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Resp {
    /// Panics unless the status is `want`.
    #[track_caller]
    pub fn expect(&self, want: u16) -> &Self {
        assert_eq!(self.status, want, "unexpected status; body: {}", self.text);
        self
    }

    /// The `revision` of a write answer.
    #[track_caller]
    pub fn revision(&self) -> u64 {
        self.body["revision"]
            .as_u64()
            .unwrap_or_else(|| panic!("no revision in {}", self.text))
    }
}

/// Checks an API error: `status`, a body `{"error": {"code": <code>, "message": ...}}`
/// with nothing else, and a message containing every one of `needles`.
pub fn check_error(
    r: &Resp,
    status: u16,
    code: Option<&str>,
    needles: &[&str],
) -> Result<(), String> {
    if r.status != status {
        return Err(format!(
            "status {} (want {status}); body: {}",
            r.status, r.text
        ));
    }
    let Some(obj) = r.body.as_object() else {
        return Err(format!("error body is not a JSON object: {:?}", r.text));
    };
    let Some(err) = obj.get("error").and_then(Value::as_object) else {
        return Err(format!("no `error` object: {}", r.text));
    };
    if obj.len() != 1 || err.len() != 2 {
        return Err(format!("error body has extra keys: {}", r.text));
    }
    let c = err.get("code").and_then(Value::as_str).unwrap_or_default();
    if c.is_empty() {
        return Err(format!("no error.code: {}", r.text));
    }
    if let Some(code) = code
        && c != code
    {
        return Err(format!("error code `{c}` (want `{code}`): {}", r.text));
    }
    let m = err
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if m.is_empty() {
        return Err(format!("no error.message: {}", r.text));
    }
    for n in needles {
        if !m.contains(n) {
            return Err(format!("error message {m:?} does not name {n:?}"));
        }
    }
    Ok(())
}

/// Asserts an API error (see [`check_error`]).
#[track_caller]
pub fn assert_error(r: &Resp, status: u16, code: Option<&str>, needles: &[&str]) {
    if let Err(e) = check_error(r, status, code, needles) {
        panic!("{e}");
    }
}

/// The PostgreSQL the tests use: `ROLECALL_TEST_DATABASE_URL`, else this.
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which store a [`TestServer`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A throwaway SQLite file.
    Sqlite,
    /// A throwaway schema of the test PostgreSQL.
    Postgres,
}

/// A PostgreSQL schema of its own, dropped on drop (also when the test panics).
pub struct PgSchema {
    pub base: String,
    pub schema: String,
}

impl PgSchema {
    /// A fresh schema (created, migrated).
    pub async fn new() -> Self {
        let base = std::env::var("ROLECALL_TEST_DATABASE_URL")
            .unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
        let schema = format!("rc_http_{}", uuid::Uuid::new_v4().simple());
        match rolecall_store::postgres::PgStore::connect_in_schema(&base, &schema).await {
            Ok(store) => store.close().await,
            Err(e) => panic!(
                "\n\nPostgreSQL is required by this test and could not be used at {base}: {e}\n\
                 Start PostgreSQL (trust auth, user postgres, database test) or point \
                 ROLECALL_TEST_DATABASE_URL at one.\n\n"
            ),
        }
        PgSchema { base, schema }
    }

    /// The database URL naming the schema through the connection's `search_path`.
    pub fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options=-c%20search_path%3D{}",
            self.base, self.schema
        )
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (base, schema) = (self.base.clone(), self.schema.clone());
        // Drop may run inside the test's runtime: use a thread with its own.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(rolecall_store::postgres::PgStore::drop_schema(
                &base, &schema,
            ))
        })
        .join();
        if !matches!(done, Ok(Ok(()))) {
            eprintln!("warning: could not drop schema {}: {done:?}", self.schema);
        }
    }
}

/// An in-process server on its own SQLite file (or PostgreSQL schema), stopped and
/// removed on drop.
pub struct TestServer {
    pub base: String,
    pub op: String,
    pub client: reqwest::Client,
    /// The database URL the server uses.
    pub url: String,
    /// The store it runs on.
    pub backend: Backend,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: TempDir,
    /// The server's clock: it moves only when a test moves it.
    pub clock: Arc<ManualClock>,
    /// The server's engine (to read its token cache's counters).
    pub engine: Arc<Engine>,
    /// Dropped last: after the server has been told to stop.
    pg: Option<PgSchema>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

impl TestServer {
    /// A server with the default configuration.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// A server whose configuration `tweak` may change (body limit, batch limits).
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        Self::start_on_with(Backend::Sqlite, tweak).await
    }

    /// A server with the default configuration on `backend`.
    pub async fn start_on(backend: Backend) -> TestServer {
        Self::start_on_with(backend, |_| {}).await
    }

    /// A server on `backend` whose configuration `tweak` may change.
    pub async fn start_on_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = TempDir::new("rolecall-http");
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgSchema::new().await),
        };
        let url = match &pg {
            Some(pg) => pg.url(),
            None => format!("sqlite://{}", dir.0.join("rolecall.db").display()),
        };
        Self::boot(backend, url, dir, pg, None, tweak).await
    }

    /// Another node on this server's PostgreSQL schema: its own engine, follower and
    /// port, the same operator token. Dropping it leaves the schema to this server.
    pub async fn another_node(&self) -> TestServer {
        assert_eq!(
            self.backend,
            Backend::Postgres,
            "nodes share PostgreSQL only"
        );
        let dir = TempDir::new("rolecall-http");
        Self::boot(
            Backend::Postgres,
            self.url.clone(),
            dir,
            None,
            Some(self.op.clone()),
            |_| {},
        )
        .await
    }

    async fn boot(
        backend: Backend,
        url: String,
        dir: TempDir,
        pg: Option<PgSchema>,
        op: Option<String>,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: url.clone(),
            ..Config::default()
        };
        tweak(&mut config);
        let store = open_store(&url).await.unwrap();
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let clock = Arc::new(ManualClock::new(wall));
        let engine = Engine::open_with_clock(store, config.engine_options(), clock.clone())
            .await
            .unwrap();
        let minted = engine.ensure_operator_token().await.unwrap();
        let op = match op {
            Some(op) => op,
            None => minted.expect("a fresh store mints the operator token"),
        };
        if config.demo {
            engine.seed_demo().await.unwrap();
        }
        let state = AppState::new(engine.clone(), config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(run(listener, state, async {
            let _ = rx.await;
        }));
        TestServer {
            base: format!("http://{addr}"),
            op,
            client: reqwest::Client::new(),
            url,
            backend,
            shutdown: Some(tx),
            task: Some(task),
            _dir: dir,
            clock,
            engine,
            pg,
        }
    }

    /// Stops the server gracefully, as `rolecall serve` does on a signal: whether it
    /// stopped (every connection closed) within `within`.
    pub async fn stop_within(&mut self, within: std::time::Duration) -> bool {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(t) => matches!(tokio::time::timeout(within, t).await, Ok(Ok(Ok(())))),
            None => true,
        }
    }

    /// Now, by the server's clock (Unix seconds).
    pub fn now(&self) -> i64 {
        rolecall_engine::Clock::now(self.clock.as_ref())
    }

    /// Moves the server's clock to just after `t` (if it is not already past it).
    pub fn advance_past(&self, t: i64) {
        if self.now() <= t {
            self.clock.set(t + 1);
        }
    }

    /// Runs `sql` directly on the server's database (through the store's `execute_raw`
    /// test hook, on a second connection pool), outside every rule the store keeps.
    /// Returns the rows affected.
    pub async fn raw_sql(&self, sql: &str) -> u64 {
        match &self.pg {
            Some(pg) => {
                let store =
                    rolecall_store::postgres::PgStore::connect_in_schema(&pg.base, &pg.schema)
                        .await
                        .unwrap();
                let n = store.execute_raw(sql).await.unwrap();
                store.close().await;
                n
            }
            None => {
                let store = rolecall_store::sqlite::SqliteStore::open(&self.url)
                    .await
                    .unwrap();
                let n = store.execute_raw(sql).await.unwrap();
                store.close().await;
                n
            }
        }
    }

    /// A request with an optional bearer token and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        send(rb).await
    }

    /// A request with a raw body and content type (None: no Content-Type header).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Resp {
        let mut rb = self
            .client
            .request(method, format!("{}{path}", self.base))
            .body(body);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(ct) = content_type {
            rb = rb.header("content-type", ct);
        }
        send(rb).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(token), Some(&body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::PUT, path, Some(token), Some(&body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Operator POST that must succeed (2xx); returns the answer.
    pub async fn op_post(&self, path: &str, body: Value) -> Resp {
        let r = self.post(path, &self.op, body).await;
        assert!(
            (200..300).contains(&r.status),
            "POST {path} failed: {} {}",
            r.status,
            r.text
        );
        r
    }

    /// Operator PUT that must succeed (2xx).
    pub async fn op_put(&self, path: &str, body: Value) -> Resp {
        let r = self.put(path, &self.op, body).await;
        assert!(
            (200..300).contains(&r.status),
            "PUT {path} failed: {} {}",
            r.status,
            r.text
        );
        r
    }

    /// The tenant's current revision, read by the operator.
    pub async fn revision(&self, tenant: &str) -> u64 {
        let r = self.get(&format!("/v1/tenants/{tenant}"), &self.op).await;
        assert_eq!(r.status, 200, "GET tenant `{tenant}`: {}", r.text);
        r.body["revision"].as_u64().unwrap()
    }

    /// Creates a tenant from a shipped profile.
    pub async fn tenant(&self, id: &str, profile: &str) {
        self.op_post("/v1/tenants", json!({"id": id, "profile": profile}))
            .await
            .expect(201);
    }

    /// Creates a user (operator).
    pub async fn user(&self, tenant: &str, id: &str, org_unit: Option<&str>) {
        let mut b = json!({"id": id, "name": format!("User {id}")});
        if let Some(o) = org_unit {
            b["org_unit"] = json!(o);
        }
        self.op_post(&format!("/v1/tenants/{tenant}/users"), b)
            .await
            .expect(201);
    }

    /// Creates an org unit (operator).
    pub async fn org_unit(&self, tenant: &str, id: &str, kind: &str, parent: Option<&str>) {
        let mut b = json!({"id": id, "kind": kind});
        if let Some(p) = parent {
            b["parent"] = json!(p);
        }
        self.op_post(&format!("/v1/tenants/{tenant}/org-units"), b)
            .await
            .expect(201);
    }

    /// Gives a role (operator); `scope` as the API takes it (None: the tenant).
    pub async fn assign(&self, tenant: &str, principal: &str, role: &str, scope: Option<Value>) {
        let mut b = json!({"principal": principal, "role": role});
        if let Some(s) = scope {
            b["scope"] = s;
        }
        self.op_post(&format!("/v1/tenants/{tenant}/assignments"), b)
            .await
            .expect(201);
    }

    /// Mints a token for a user (operator); returns the secret.
    pub async fn mint(&self, tenant: &str, principal: &str) -> String {
        let r = self
            .op_post(
                &format!("/v1/tenants/{tenant}/tokens"),
                json!({"principal": principal}),
            )
            .await;
        r.body["token"].as_str().unwrap().to_owned()
    }
}

async fn send(rb: reqwest::RequestBuilder) -> Resp {
    let res = rb.send().await.expect("the server answers");
    let status = res.status().as_u16();
    if is_event_stream(&res) {
        // A watch stream never ends by itself: its status and headers are the answer
        // (dropping the response closes the connection, which ends the stream).
        return Resp {
            status,
            body: Value::Null,
            text: String::from("(event stream)"),
        };
    }
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp { status, body, text }
}

/// A route of the router: method and path template, as in `routes/mod.rs`.
pub type Route = (&'static str, &'static str);

/// Every route of `routes/mod.rs` (checked against the source by `bad_input.rs`).
pub const ROUTES: &[Route] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/"),
    ("GET", "/console/{file}"),
    ("GET", "/v1/whoami"),
    ("GET", "/v1/tenants"),
    ("POST", "/v1/tenants"),
    ("GET", "/v1/tenants/{tenant}"),
    ("GET", "/v1/tenants/{tenant}/catalog"),
    ("GET", "/v1/tenants/{tenant}/changes"),
    ("GET", "/v1/tenants/{tenant}/watch"),
    ("GET", "/v1/tenants/{tenant}/roles"),
    ("POST", "/v1/tenants/{tenant}/roles"),
    ("GET", "/v1/tenants/{tenant}/roles/{role}"),
    ("PUT", "/v1/tenants/{tenant}/roles/{role}"),
    ("DELETE", "/v1/tenants/{tenant}/roles/{role}"),
    ("GET", "/v1/tenants/{tenant}/users"),
    ("POST", "/v1/tenants/{tenant}/users"),
    ("GET", "/v1/tenants/{tenant}/users/{id}"),
    ("PUT", "/v1/tenants/{tenant}/users/{id}"),
    ("DELETE", "/v1/tenants/{tenant}/users/{id}"),
    ("GET", "/v1/tenants/{tenant}/users/{id}/permissions"),
    ("GET", "/v1/tenants/{tenant}/users/{id}/permissions/watch"),
    ("GET", "/v1/tenants/{tenant}/groups"),
    ("POST", "/v1/tenants/{tenant}/groups"),
    ("GET", "/v1/tenants/{tenant}/groups/{id}"),
    ("PUT", "/v1/tenants/{tenant}/groups/{id}"),
    ("DELETE", "/v1/tenants/{tenant}/groups/{id}"),
    ("GET", "/v1/tenants/{tenant}/org-units"),
    ("POST", "/v1/tenants/{tenant}/org-units"),
    ("GET", "/v1/tenants/{tenant}/org-units/{id}"),
    ("PUT", "/v1/tenants/{tenant}/org-units/{id}"),
    ("DELETE", "/v1/tenants/{tenant}/org-units/{id}"),
    ("GET", "/v1/tenants/{tenant}/queues"),
    ("POST", "/v1/tenants/{tenant}/queues"),
    ("GET", "/v1/tenants/{tenant}/queues/{id}"),
    ("PUT", "/v1/tenants/{tenant}/queues/{id}"),
    ("DELETE", "/v1/tenants/{tenant}/queues/{id}"),
    ("GET", "/v1/tenants/{tenant}/resources/{ty}"),
    ("GET", "/v1/tenants/{tenant}/resources/{ty}/{id}"),
    ("PUT", "/v1/tenants/{tenant}/resources/{ty}/{id}"),
    ("DELETE", "/v1/tenants/{tenant}/resources/{ty}/{id}"),
    ("GET", "/v1/tenants/{tenant}/assignments"),
    ("POST", "/v1/tenants/{tenant}/assignments"),
    ("GET", "/v1/tenants/{tenant}/assignments/{id}"),
    ("DELETE", "/v1/tenants/{tenant}/assignments/{id}"),
    ("GET", "/v1/tenants/{tenant}/relations"),
    ("POST", "/v1/tenants/{tenant}/relations"),
    ("GET", "/v1/tenants/{tenant}/settings"),
    ("PUT", "/v1/tenants/{tenant}/settings"),
    ("POST", "/v1/tenants/{tenant}/check"),
    ("POST", "/v1/tenants/{tenant}/check/batch"),
    ("POST", "/v1/tenants/{tenant}/explain"),
    ("GET", "/v1/tenants/{tenant}/tokens"),
    ("POST", "/v1/tenants/{tenant}/tokens"),
    ("PUT", "/v1/tenants/{tenant}/tokens/{id}"),
    ("DELETE", "/v1/tenants/{tenant}/tokens/{id}"),
    ("GET", "/v1/tenants/{tenant}/credentials"),
    ("POST", "/v1/tenants/{tenant}/credentials"),
    ("DELETE", "/v1/tenants/{tenant}/credentials/{id}"),
    ("GET", "/v1/tenants/{tenant}/audit"),
    ("GET", "/v1/tenants/{tenant}/audit/verify"),
    ("GET", "/v1/tenants/{tenant}/sod-rules"),
    ("POST", "/v1/tenants/{tenant}/sod-rules"),
    ("DELETE", "/v1/tenants/{tenant}/sod-rules/{id}"),
    ("GET", "/v1/tenants/{tenant}/sod-violations"),
    ("POST", "/v1/tenants/{tenant}/lookup/subjects"),
    ("POST", "/v1/tenants/{tenant}/lookup/resources"),
    ("POST", "/v1/tenants/{tenant}/impact"),
];

/// Routes that answer without a token, on purpose.
/// (`/` and `/console/{file}` are the console's static files: they hold no data.)
pub const PUBLIC: &[&str] = &[
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/",
    "/console/{file}",
];

/// The routes the server serves: every operation of its OpenAPI document (routed and
/// described by one registration) plus the routes the router adds undescribed.
pub fn routes_in_router() -> Vec<(String, String)> {
    let doc = rolecall_server::routes::api().into_openapi();
    let mut out: Vec<(String, String)> = rolecall_server::app::UNDESCRIBED
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    for (path, item) in &doc.paths.paths {
        for (m, present) in [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("DELETE", item.delete.is_some()),
            ("PATCH", item.patch.is_some()),
        ] {
            if present {
                out.push((m.to_owned(), path.clone()));
            }
        }
    }
    out.sort();
    out
}

/// Whether an answer is a server-sent event stream.
pub fn is_event_stream(res: &reqwest::Response) -> bool {
    res.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"))
}

/// One server-sent event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SseEvent {
    /// `event:` (empty: none).
    pub event: String,
    /// `id:` (None: none).
    pub id: Option<String>,
    /// `data:`, parsed as JSON (Null when it is not).
    pub data: Value,
}

/// An open event stream, read event by event; every wait is bounded.
pub struct SseReader {
    res: reqwest::Response,
    buf: String,
    /// `:` comment lines seen (keep-alives).
    pub comments: usize,
}

impl SseReader {
    /// The next event, or `None` when none comes within `wait` or the stream ends.
    pub async fn next(&mut self, wait: std::time::Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(e) = self.take_event() {
                return Some(e);
            }
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// Events until `want` of them came, or `wait` passed in all.
    pub async fn take(&mut self, want: usize, wait: std::time::Duration) -> Vec<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut out = Vec::new();
        while out.len() < want {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(e) => out.push(e),
                None => break,
            }
        }
        out
    }

    fn take_event(&mut self) -> Option<SseEvent> {
        loop {
            let end = self.buf.find("\n\n")?;
            let block: String = self.buf.drain(..end + 2).collect();
            let mut e = SseEvent::default();
            let mut data: Vec<&str> = Vec::new();
            let mut any = false;
            for line in block.lines() {
                if line.starts_with(':') {
                    self.comments += 1;
                    continue;
                }
                let (k, v) = line.split_once(':').unwrap_or((line, ""));
                let v = v.strip_prefix(' ').unwrap_or(v);
                any = true;
                match k {
                    "event" => e.event = v.to_owned(),
                    "id" => e.id = Some(v.to_owned()),
                    "data" => data.push(v),
                    _ => {}
                }
            }
            if any {
                e.data = serde_json::from_str(&data.join("\n")).unwrap_or(Value::Null);
                return Some(e);
            }
        }
    }
}

impl TestServer {
    /// Opens an event stream (`last_event_id`: the header to resume with). Returns the
    /// reader, or the error answer when the server refused with something else.
    pub async fn watch(
        &self,
        path: &str,
        token: &str,
        last_event_id: Option<&str>,
    ) -> Result<SseReader, Resp> {
        let mut rb = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            rb = rb.header("last-event-id", id);
        }
        let res = tokio::time::timeout(std::time::Duration::from_secs(10), rb.send())
            .await
            .expect("the server answers within 10 s")
            .expect("the server answers");
        if res.status().as_u16() == 200 && is_event_stream(&res) {
            return Ok(SseReader {
                res,
                buf: String::new(),
                comments: 0,
            });
        }
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Err(Resp { status, body, text })
    }
}
