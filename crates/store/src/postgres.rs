//! The PostgreSQL dialect. A write locks the tenant's row (the revision bump, or
//! `SELECT ... FOR UPDATE` for writes that do not bump it), so concurrent writers of one
//! tenant queue on that row and the loser of an expected-revision race sees the winner's
//! revision. Runs of relation writes, the change log and audit entries are written with
//! one `INSERT ... SELECT FROM UNNEST(...)` each, whatever their size; relations load
//! grouped per resource as two parallel arrays (`array_agg`).

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPoolOptions, PgQueryResult};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Connection, Postgres};

use crate::codec::{self, ResourceTuples};
use crate::dialect::Dialect;
use crate::{AuditRecord, SqlStore, StoreError, Tuple};

/// Connections in the pool.
const MAX_CONNECTIONS: u32 = 10;

/// How long a request waits for a pooled connection (and how long opening the store
/// waits for the first one) before the database counts as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The server backend.
pub type PgStore = SqlStore<Postgres>;

/// A failed first connection, named: where, and why ("connection refused").
fn unreachable_at(place: &str, e: sqlx::Error) -> StoreError {
    let why = match &e {
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
            std::io::ErrorKind::TimedOut => "connection timed out".to_owned(),
            _ => io.to_string(),
        },
        sqlx::Error::PoolTimedOut => format!(
            "no connection within {} s (is the server up and reachable?)",
            ACQUIRE_TIMEOUT.as_secs()
        ),
        sqlx::Error::Database(d) => {
            return StoreError::Unreachable(format!(
                "PostgreSQL at {place} refused the connection: {}",
                d.message()
            ));
        }
        other => other.to_string(),
    };
    StoreError::Unreachable(format!("cannot reach PostgreSQL at {place}: {why}"))
}

/// `name` as a quoted SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Runs one statement on a connection of its own, outside any pool.
async fn run_once(url: &str, sql: String) -> Result<(), StoreError> {
    let base = PgConnectOptions::from_str(url)?;
    let mut conn = PgConnection::connect_with(&base).await?;
    sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

impl SqlStore<Postgres> {
    /// Connects to `url` (using the connection's default `search_path`) and runs pending
    /// migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        Self::open(options).await
    }

    /// Connects to `url` with every table in `schema`: creates the schema if missing,
    /// sets `search_path` to it on every pooled connection, and runs pending migrations
    /// there. Lets several stores (tests, tenants of a shared database) live side by side.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        let schema = quote_ident(schema);
        run_once(url, format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await?;
        let base = PgConnectOptions::from_str(url)?;
        Self::open(base.options([("search_path", schema)])).await
    }

    /// Drops `schema` and everything in it (`DROP SCHEMA ... CASCADE`), if it exists.
    /// For tests and benchmarks that made a throwaway schema with
    /// [`PgStore::connect_in_schema`].
    pub async fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", quote_ident(schema));
        run_once(url, sql).await
    }

    async fn open(options: PgConnectOptions) -> Result<Self, StoreError> {
        let place = format!(
            "{}:{} (database `{}`)",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or("postgres")
        );
        // One direct connection first: the pool retries until its timeout and then
        // reports only that; this names the real cause ("connection refused") at once.
        match tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(&options)).await {
            Ok(Ok(conn)) => conn.close().await.map_err(|e| unreachable_at(&place, e))?,
            Ok(Err(e)) => return Err(unreachable_at(&place, e)),
            Err(_) => return Err(unreachable_at(&place, sqlx::Error::PoolTimedOut)),
        }
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| unreachable_at(&place, e))?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(SqlStore { pool })
    }
}

/// The tuples of a run as five parallel columns, for `UNNEST`.
struct Columns<'a> {
    rtype: Vec<&'a str>,
    rid: Vec<&'a str>,
    relation: Vec<&'a str>,
    stype: Vec<&'a str>,
    sid: Vec<&'a str>,
}

impl<'a> Columns<'a> {
    fn of(run: &[&'a Tuple]) -> Self {
        let mut c = Columns {
            rtype: Vec::with_capacity(run.len()),
            rid: Vec::with_capacity(run.len()),
            relation: Vec::with_capacity(run.len()),
            stype: Vec::with_capacity(run.len()),
            sid: Vec::with_capacity(run.len()),
        };
        for t in run {
            c.rtype.push(&t.rtype);
            c.rid.push(&t.rid);
            c.relation.push(&t.relation);
            c.stype.push(&t.stype);
            c.sid.push(&t.sid);
        }
        c
    }

    /// Binds the five columns as parameters `$2` to `$6` (after the tenant, `$1`).
    fn bind(self, q: Query<'_, Postgres, PgArguments>) -> Query<'_, Postgres, PgArguments> {
        q.bind(self.rtype)
            .bind(self.rid)
            .bind(self.relation)
            .bind(self.stype)
            .bind(self.sid)
    }
}

impl Dialect for Postgres {
    const BACKEND: &'static str = "postgres";
    const BEGIN_WRITE: &'static str = "BEGIN";
    const BEGIN_READ: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    const LOCK_TENANT: &'static str = "SELECT revision FROM tenants WHERE id = $1 FOR UPDATE";

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    async fn notify(conn: &mut PgConnection, payload: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(crate::CHANNEL)
            .bind(payload)
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn listen(pool: &sqlx::PgPool) -> Result<Option<crate::Notices>, StoreError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(crate::CHANNEL).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(async move {
            loop {
                // Stop listening (closing the connection) once nobody follows.
                let received = tokio::select! {
                    r = listener.try_recv() => r,
                    () = tx.closed() => return,
                };
                let notice = match received {
                    Ok(Some(n)) => crate::Notice::parse(n.payload()),
                    // The connection was lost (and is re-established): notices sent
                    // meanwhile are gone.
                    Ok(None) => Some(crate::Notice::Resumed),
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for other nodes' commits failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        Some(crate::Notice::Resumed)
                    }
                };
                if let Some(n) = notice
                    && tx.send(n).await.is_err()
                {
                    return; // nobody follows any more
                }
            }
        });
        Ok(Some(rx))
    }

    async fn put_relations(
        conn: &mut PgConnection,
        tenant: &str,
        run: &[&Tuple],
    ) -> Result<(), StoreError> {
        let c = Columns::of(run);
        // A tuple about a resource makes the resource exist (an entity row with no name
        // or attributes), so memory and storage agree once its tuples go.
        sqlx::query(
            "INSERT INTO entities (tenant, ty, id, name, attributes) \
             SELECT DISTINCT $1, t, i, NULL, '{}' FROM UNNEST($2::text[], $3::text[]) AS u(t, i) \
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant)
        .bind(&c.rtype)
        .bind(&c.rid)
        .execute(&mut *conn)
        .await?;
        c.bind(
            sqlx::query(
                "INSERT INTO relations (tenant, rtype, rid, relation, stype, sid) \
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], \
                                          $6::text[]) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant),
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn delete_relations(
        conn: &mut PgConnection,
        tenant: &str,
        run: &[&Tuple],
    ) -> Result<(), StoreError> {
        let c = Columns::of(run);
        c.bind(
            sqlx::query(
                "DELETE FROM relations r \
                 USING UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) \
                       AS d(rtype, rid, relation, stype, sid) \
                 WHERE r.tenant = $1 AND r.rtype = d.rtype AND r.rid = d.rid \
                   AND r.relation = d.relation AND r.stype = d.stype AND r.sid = d.sid",
            )
            .bind(tenant),
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn insert_changes(
        conn: &mut PgConnection,
        tenant: &str,
        revision: i64,
        payloads: &[String],
        actor: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        let seqs = (0..payloads.len())
            .map(|i| {
                i32::try_from(i).map_err(|_| {
                    StoreError::Corrupt(format!(
                        "a batch of {} changes is too large",
                        payloads.len()
                    ))
                })
            })
            .collect::<Result<Vec<i32>, _>>()?;
        sqlx::query(
            "INSERT INTO changes (tenant, revision, seq, change, actor, at) \
             SELECT $1, $2, s, c, $3, $4 FROM UNNEST($5::int4[], $6::text[]) AS u(s, c)",
        )
        .bind(tenant)
        .bind(revision)
        .bind(actor)
        .bind(at)
        .bind(seqs)
        .bind(payloads)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn insert_audit(
        conn: &mut PgConnection,
        tenant: &str,
        records: &[AuditRecord],
    ) -> Result<(), StoreError> {
        let (Some(first), n) = (records.first(), records.len()) else {
            return Ok(());
        };
        let mut seqs = Vec::with_capacity(n);
        let mut ats = Vec::with_capacity(n);
        let mut actors = Vec::with_capacity(n);
        let mut actions = Vec::with_capacity(n);
        let mut targets = Vec::with_capacity(n);
        let mut befores = Vec::with_capacity(n);
        let mut afters = Vec::with_capacity(n);
        let mut prevs = Vec::with_capacity(n);
        let mut hashes = Vec::with_capacity(n);
        for r in records {
            seqs.push(codec::to_db(r.seq)?);
            ats.push(r.at);
            actors.push(r.actor.as_str());
            actions.push(r.action.as_str());
            targets.push(r.target.as_str());
            befores.push(r.before.as_deref());
            afters.push(r.after.as_deref());
            prevs.push(r.prev_hash.as_str());
            hashes.push(r.hash.as_str());
        }
        // One revision for the whole run (see `codec::extend_chain`); each entry its own
        // actor and time (a group commit gathers many requests').
        sqlx::query(
            "INSERT INTO audit (tenant, seq, revision, at, actor, action, target, before, after, \
             prev_hash, hash) \
             SELECT $1, s, $2, w, c, a, t, b, f, p, h \
             FROM UNNEST($3::int8[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[], \
                         $9::text[], $10::text[], $11::text[]) AS u(s, w, c, a, t, b, f, p, h)",
        )
        .bind(tenant)
        .bind(codec::to_db(first.revision)?)
        .bind(seqs)
        .bind(ats)
        .bind(actors)
        .bind(actions)
        .bind(targets)
        .bind(befores)
        .bind(afters)
        .bind(prevs)
        .bind(hashes)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn load_relations(
        conn: &mut PgConnection,
        tenant: &str,
    ) -> Result<Vec<ResourceTuples>, StoreError> {
        // One row per resource; both aggregates see its tuples in the same order.
        let grouped: Vec<(String, String, Vec<String>, Vec<String>)> = sqlx::query_as(
            "SELECT rtype, rid, array_agg(relation), array_agg(sid) FROM relations \
             WHERE tenant = $1 GROUP BY rtype, rid",
        )
        .bind(tenant)
        .fetch_all(&mut *conn)
        .await?;
        Ok(grouped
            .into_iter()
            .map(|(rtype, rid, names, sids)| (rtype, rid, names.into_iter().zip(sids).collect()))
            .collect())
    }
}
