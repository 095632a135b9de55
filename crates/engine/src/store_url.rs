//! Opening the store a database URL names: `postgres://…` or `postgresql://…` for
//! PostgreSQL, `sqlite://path` or a plain path for SQLite.

use std::sync::Arc;

use rolecall_store::{Store, StoreError};

/// Opens the store named by `url`.
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            rolecall_store::postgres::PgStore::connect(url).await?,
        ))
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Ok(Arc::new(
            rolecall_store::sqlite::SqliteStore::open(path).await?,
        ))
    }
}
