//! Shared helpers for the tests that run the real `rolecall` binary: temporary
//! directories, throwaway PostgreSQL schemas and databases, a `rolecall serve` process
//! and a JSON client.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code; not every test binary uses every helper"
)]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const STARTUP: Duration = Duration::from_secs(60);
pub const SHUTDOWN: Duration = Duration::from_secs(30);

pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}{}_{nanos}", std::process::id())
}

/// A directory removed on drop (also when the test panics).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let p = std::env::temp_dir().join(unique("rolecall-e2e-"));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A PostgreSQL schema of its own, dropped on drop (also when the test panics).
pub struct PgSchema {
    pub base: String,
    pub schema: String,
}

impl PgSchema {
    pub async fn new() -> Self {
        let base = std::env::var("ROLECALL_TEST_DATABASE_URL")
            .unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
        let schema = unique("rc_e2e_");
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

    /// The URL `rolecall` is given: the schema through the connection's `search_path`.
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

/// A running `rolecall serve`, killed on drop if still running.
pub struct Server {
    pub child: tokio::process::Child,
    pub base: String,
    /// Stdout lines up to and including the `listening` line.
    pub banner: Vec<String>,
    /// Stdout after the banner, and stderr, as they come.
    pub later: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<String>>,
}

impl Server {
    pub async fn start(database_url: &str, extra: &[&str]) -> Server {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_rolecall"));
        cmd.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            database_url,
        ])
        .args(extra)
        .env("RUST_LOG", "warn")
        .env_remove("ROLECALL_CONFIG")
        .env_remove("ROLECALL_DEMO")
        .env_remove("ROLECALL_BODY_LIMIT")
        .env_remove("ROLECALL_LOG_JSON")
        .env_remove("ROLECALL_REVISION_WAIT_MS")
        .env_remove("ROLECALL_FOLLOW_POLL_MS")
        .env_remove("ROLECALL_HEADER_TIMEOUT_MS")
        .env_remove("ROLECALL_IDLE_TIMEOUT_MS")
        .env_remove("ROLECALL_BODY_TIMEOUT_MS")
        .env_remove("ROLECALL_MAX_CONNECTIONS")
        .env_remove("ROLECALL_RATE_LIMIT")
        .env_remove("ROLECALL_RATE_BURST")
        .env_remove("ROLECALL_UNKNOWN_TOKEN_RATE")
        .env_remove("ROLECALL_UNKNOWN_TOKEN_BURST")
        .env_remove("ROLECALL_NEGATIVE_TOKEN_TTL_MS")
        .env_remove("ROLECALL_METRICS_TOKEN")
        .env_remove("ROLECALL_AUDIT_WINDOW_SECS")
        .env_remove("ROLECALL_AUDIT_RETENTION_DAYS")
        .env_remove("ROLECALL_AUDIT_ACTOR_BUDGET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
        let mut child = cmd.spawn().expect("rolecall starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let sink = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(l)) = err_lines.next_line().await {
                let mut s = sink.lock().unwrap();
                s.push_str(&l);
                s.push('\n');
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut banner = Vec::new();
        let base = tokio::time::timeout(STARTUP, async {
            while let Ok(Some(l)) = lines.next_line().await {
                let addr = l
                    .strip_prefix("rolecall listening on http://")
                    .and_then(|r| r.split_whitespace().next())
                    .map(str::to_owned);
                banner.push(l);
                if let Some(a) = addr {
                    return Some(format!("http://{a}"));
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        let Some(base) = base else {
            let _ = child.start_kill();
            panic!(
                "rolecall did not start; stdout: {banner:?}\nstderr:\n{}",
                stderr.lock().unwrap()
            );
        };
        let later = Arc::new(Mutex::new(Vec::new()));
        let sink = later.clone();
        tokio::spawn(async move {
            while let Ok(Some(l)) = lines.next_line().await {
                sink.lock().unwrap().push(l);
            }
        });
        Server {
            child,
            base,
            banner,
            later,
            stderr,
        }
    }

    /// The operator token printed at startup, if one was.
    pub fn operator_token(&self) -> Option<String> {
        self.banner.iter().find_map(|l| {
            l.strip_prefix("operator token")
                .and_then(|r| r.rsplit(' ').next())
                .map(str::to_owned)
        })
    }

    /// SIGTERM, then the exit status (which must come within [`SHUTDOWN`]).
    pub async fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("still running");
        let sent = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM {pid} failed");
        match tokio::time::timeout(SHUTDOWN, self.child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => panic!(
                "rolecall did not stop within {SHUTDOWN:?} of SIGTERM; stderr:\n{}",
                self.stderr.lock().unwrap()
            ),
        }
    }

    pub fn api(&self, token: &str) -> Api {
        Api {
            client: reqwest::Client::new(),
            base: self.base.clone(),
            token: token.to_owned(),
        }
    }
}

/// A JSON client with one bearer token.
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let res = rb.send().await.expect("the server answers");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A request that must answer `want`; returns the body.
    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>, want: u16) -> Value {
        let (status, v) = self.call(method.clone(), path, body).await;
        assert_eq!(status, want, "{method} {path}: {v}");
        v
    }

    pub async fn get(&self, path: &str) -> Value {
        self.ok(Method::GET, path, None, 200).await
    }

    pub async fn post(&self, path: &str, body: Value, want: u16) -> Value {
        self.ok(Method::POST, path, Some(body), want).await
    }
}

pub fn rolecall(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("ROLECALL_DATABASE_URL")
        .output()
        .unwrap()
}

/// The PostgreSQL server the tests use (`ROLECALL_TEST_DATABASE_URL`'s server), with
/// `database` in place of the URL's.
fn pg_url_for(database: &str) -> String {
    let base =
        std::env::var("ROLECALL_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h.to_owned(), format!("?{q}")),
        None => (base.clone(), String::new()),
    };
    let server = head.rsplit_once('/').map_or(head.as_str(), |(s, _)| s);
    format!("{server}/{database}{query}")
}

/// Runs one statement on the test server's `postgres` database.
async fn pg_admin(sql: String) {
    use sqlx::Connection as _;
    let url = pg_url_for("postgres");
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required by this test ({url}): {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
}

/// A PostgreSQL database of its own (several nodes of one test share it; notices of
/// other tests' nodes, on other databases, never reach them), dropped on drop.
pub struct PgDatabase {
    pub name: String,
}

impl PgDatabase {
    pub async fn new() -> Self {
        let name = unique("rc_cluster_");
        pg_admin(format!("CREATE DATABASE \"{name}\"")).await;
        PgDatabase { name }
    }

    pub fn url(&self) -> String {
        pg_url_for(&self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(pg_admin(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )));
        })
        .join();
        if done.is_err() {
            eprintln!("warning: could not drop database {}", self.name);
        }
    }
}

/// A throwaway PostgreSQL cluster of the test's own (initdb in a temporary directory,
/// its own port), which the test may stop and start — never the machine's server.
/// Run as the `postgres` user when the test runs as root (initdb refuses root).
pub struct PgCluster {
    pub dir: TempDir,
    pub port: u16,
    bin: PathBuf,
}

impl PgCluster {
    /// Initializes and starts a cluster; `None` when no PostgreSQL binaries are found.
    pub fn start() -> Option<PgCluster> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("initdb").exists())?;
        let dir = TempDir::new();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let c = PgCluster { dir, port, bin };
        if c.as_root() {
            let ok = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&c.dir.0)
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown of the cluster directory failed");
        }
        let data = c.dir.0.join("data");
        let out = c
            .run("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "--no-sync"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        c.up();
        Some(c)
    }

    /// Whether the test runs as root.
    fn as_root(&self) -> bool {
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false)
    }

    /// A command for one of the cluster's binaries, as `postgres` when root.
    fn run(&self, tool: &str) -> std::process::Command {
        let path = self.bin.join(tool);
        if self.as_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            std::process::Command::new(path)
        }
    }

    /// Starts the server (waiting until it accepts connections).
    pub fn up(&self) {
        let data = self.dir.0.join("data");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.0.display()
        );
        let out = self
            .run("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-o", &opts, "-l"])
            .arg(self.dir.0.join("log"))
            .args(["-w", "start"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops the server at once (`-m fast`: open connections are cut).
    pub fn down(&self) {
        let out = self
            .run("pg_ctl")
            .arg("-D")
            .arg(self.dir.0.join("data"))
            .args(["-m", "fast", "-w", "stop"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self
            .run("pg_ctl")
            .arg("-D")
            .arg(self.dir.0.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

impl Server {
    /// SIGKILL: the process dies at once, mid-request if need be.
    pub async fn kill(mut self) {
        self.child.start_kill().unwrap();
        let _ = self.child.wait().await;
    }
}
