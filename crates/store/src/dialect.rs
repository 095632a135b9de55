//! What separates the two SQL dialects the store speaks, and nothing else. Every other
//! statement is written once, in the shared modules ([`crate::store`],
//! [`crate::writer`]), with `$N` placeholders: PostgreSQL's own syntax, which
//! sqlx-sqlite also binds by number (`$1` is the first bound value wherever, and however
//! often, it appears; a test in `sqlite.rs` proves it).
//!
//! A dialect is implemented by the sqlx database type itself (`sqlx::Sqlite`,
//! `sqlx::Postgres`), so [`crate::SqlStore<D>`] holds a `Pool<D>` and its shared code
//! runs unchanged on either. The trait is unnameable outside this crate: no other
//! dialect can be added from outside, and its write helpers cannot be called around the
//! store's rules.

use std::future::Future;

use sqlx::{Database, Decode, Encode, IntoArguments, Type};

use crate::codec::ResourceTuples;
use crate::{AuditRecord, StoreError, Tuple};

/// A Rust type both dialects bind as a parameter (`'q`: the borrow it binds from).
pub trait Param<'q, DB: Database>: Encode<'q, DB> + Type<DB> + Send {}

impl<'q, DB: Database, T> Param<'q, DB> for T where T: Encode<'q, DB> + Type<DB> + Send {}

/// A Rust type both dialects bind and read back from a row (`Option`s of it decode too).
pub trait Column<DB: Database>: for<'q> Param<'q, DB> + for<'r> Decode<'r, DB> {}

impl<DB: Database, T> Column<DB> for T where T: for<'q> Param<'q, DB> + for<'r> Decode<'r, DB> {}

/// One SQL dialect: how it starts transactions and takes the write lock, how it writes
/// many rows in one statement, and how it groups a tenant's relations when loading.
///
/// Implemented for `sqlx::Sqlite` (in `sqlite.rs`) and `sqlx::Postgres` (in
/// `postgres.rs`). Every method runs inside a transaction the caller holds; the bulk
/// writes are called with the tenant's write lock held.
pub trait Dialect: Database<Arguments: IntoArguments<Self>> {
    /// The backend's name, for logs and metrics (`sqlite`, `postgres`).
    const BACKEND: &'static str;

    /// Starts a transaction that writes. SQLite: `BEGIN IMMEDIATE`, which takes the
    /// database's write lock up front (writers queue on the busy timeout, then read what
    /// the previous one committed). PostgreSQL: a plain `BEGIN`; the lock is the tenant
    /// row's (see [`Dialect::LOCK_TENANT`]).
    const BEGIN_WRITE: &'static str;

    /// Starts a transaction whose reads all see one snapshot. SQLite: a deferred
    /// `BEGIN`. PostgreSQL: `REPEATABLE READ READ ONLY`.
    const BEGIN_READ: &'static str;

    /// Reads a tenant's revision (`$1` = tenant id) and holds its chain for the rest of
    /// the transaction, for writes that do not bump the revision (audit entries, tokens).
    /// SQLite already holds the write lock; PostgreSQL adds `FOR UPDATE`. A revision bump
    /// (`UPDATE ... RETURNING`) takes the same row lock on PostgreSQL by itself.
    const LOCK_TENANT: &'static str;

    /// The rows a statement changed.
    fn rows_affected(done: &Self::QueryResult) -> u64;

    /// Tells other processes, on commit, about this transaction's writes (`payload`,
    /// see [`crate::Notice`]). PostgreSQL: `pg_notify`; SQLite (one process): nothing.
    fn notify(
        conn: &mut Self::Connection,
        payload: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Notices of other processes' commits, on a connection of their own; `None` where
    /// no other process can write (SQLite).
    fn listen(
        pool: &sqlx::Pool<Self>,
    ) -> impl Future<Output = Result<Option<crate::Notices>, StoreError>> + Send;

    /// Inserts a run of tuples (ignoring those already there), and for each resource
    /// they name an entity row if it has none, in one statement each.
    fn put_relations(
        conn: &mut Self::Connection,
        tenant: &str,
        run: &[&Tuple],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a run of tuples in one statement.
    fn delete_relations(
        conn: &mut Self::Connection,
        tenant: &str,
        run: &[&Tuple],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Appends a batch's change-log rows: `payloads[i]` (a change as JSON) at sequence
    /// `i` of `revision` (already a stored number).
    fn insert_changes(
        conn: &mut Self::Connection,
        tenant: &str,
        revision: i64,
        payloads: &[String],
        actor: &str,
        at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Inserts audit entries already chained by [`crate::codec::extend_chain`] (one
    /// revision, actor and time for all of them).
    fn insert_audit(
        conn: &mut Self::Connection,
        tenant: &str,
        records: &[AuditRecord],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The tenant's tuples, one item per resource with its (relation, subject id) pairs
    /// in any order.
    fn load_relations(
        conn: &mut Self::Connection,
        tenant: &str,
    ) -> impl Future<Output = Result<Vec<ResourceTuples>, StoreError>> + Send;
}
