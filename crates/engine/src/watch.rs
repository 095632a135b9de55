//! Following a tenant as it changes: a position in its change log ([`Cursor`],
//! `<revision>.<sequence>`) and a [`ChangeFeed`] that reads the log after it, page by
//! page, and waits for the tenant's next revision when it has read everything. The
//! feed reads the log, never the snapshot: every row of every revision, on whichever
//! node it was written (the follower moves this node's revision when others write).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rolecall_store::ChangeRecord;
use tokio::sync::watch;

use crate::error::{EngineError, EngineResult};
use crate::tenant::Tenant;

/// A position in a tenant's change log: after row `seq` of revision `revision`.
/// Written `<revision>.<sequence>` (`2.999`); `<revision>.4294967295` is after the
/// whole revision, `0.0` before everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cursor {
    /// Revision.
    pub revision: u64,
    /// Position within the revision.
    pub seq: u32,
}

impl Cursor {
    /// Before every row.
    pub const START: Cursor = Cursor {
        revision: 0,
        seq: 0,
    };

    /// After every row of `revision`.
    pub fn after_revision(revision: u64) -> Cursor {
        Cursor {
            revision,
            seq: u32::MAX,
        }
    }

    /// The position of a row (reading after it resumes with the next row).
    pub fn of(row: &ChangeRecord) -> Cursor {
        Cursor {
            revision: row.revision,
            seq: row.seq,
        }
    }

    /// Reads `<revision>.<sequence>`; `what` names the input in the error (e.g.
    /// "cursor", "Last-Event-ID").
    pub fn parse(text: &str, what: &str) -> EngineResult<Cursor> {
        let parsed = text.split_once('.').and_then(|(r, s)| {
            let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            if !digits(r) || !digits(s) {
                return None;
            }
            Some(Cursor {
                revision: r.parse().ok()?,
                seq: s.parse().ok()?,
            })
        });
        parsed.ok_or_else(|| {
            let shown: String = text.chars().take(64).collect();
            EngineError::BadRequest(format!(
                "{what} `{shown}`: expected `<revision>.<sequence>`, e.g. `2.999`"
            ))
        })
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.revision, self.seq)
    }
}

/// The change log of one tenant from a cursor on: [`ChangeFeed::next`] answers the next
/// page of rows, waiting for a new revision when none is left. Holds at most one page.
#[derive(Debug)]
pub struct ChangeFeed {
    tenant: Arc<Tenant>,
    cursor: Cursor,
    page: u32,
    revisions: watch::Receiver<u64>,
    /// Every row of every revision up to this one has been read (or lies before the
    /// cursor).
    drained: u64,
    /// The last page was full: read again without waiting.
    more: bool,
}

impl ChangeFeed {
    /// A feed of `tenant`'s change log after `cursor`, in pages of `page` rows (at
    /// least 1).
    pub fn new(tenant: Arc<Tenant>, cursor: Cursor, page: u32) -> ChangeFeed {
        let revisions = tenant.revisions();
        ChangeFeed {
            tenant,
            cursor,
            page: page.max(1),
            revisions,
            drained: 0,
            more: true,
        }
    }

    /// The position after the last row answered.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// The next rows after the cursor (at most a page), as soon as there are some;
    /// empty when `idle` passes without any. An unknown tenant (removed from the
    /// store) is [`EngineError::NotFound`].
    ///
    /// Cancel-safe: dropped while waiting or reading, the feed has moved nowhere.
    pub async fn next(&mut self, idle: Duration) -> EngineResult<Vec<ChangeRecord>> {
        let deadline = tokio::time::Instant::now() + idle;
        loop {
            // Seen before the read: every row of revisions up to it is committed, so
            // a short page means they have all been read.
            let seen = *self.revisions.borrow_and_update();
            if self.more || seen > self.drained {
                let rows = self
                    .tenant
                    .store()
                    .changes_after(
                        &self.tenant.id,
                        self.cursor.revision,
                        self.cursor.seq,
                        self.page,
                    )
                    .await?;
                self.more = rows.len() >= self.page as usize;
                if !self.more {
                    self.drained = seen.max(self.drained);
                }
                if let Some(last) = rows.last() {
                    self.cursor = Cursor::of(last);
                    return Ok(rows);
                }
            }
            match tokio::time::timeout_at(deadline, self.revisions.changed()).await {
                Ok(Ok(())) => {}
                // The tenant is no longer held by anyone but this feed.
                Ok(Err(_)) => {
                    return Err(EngineError::NotFound(format!(
                        "unknown tenant `{}`",
                        self.tenant.id
                    )));
                }
                Err(_) => return Ok(Vec::new()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_and_print() {
        let c = Cursor::parse("2.999", "cursor").unwrap();
        assert_eq!(
            c,
            Cursor {
                revision: 2,
                seq: 999
            }
        );
        assert_eq!(c.to_string(), "2.999");
        assert!(Cursor::after_revision(2) > c);
        assert!(
            Cursor::after_revision(2)
                < Cursor {
                    revision: 3,
                    seq: 0
                }
        );
        for bad in [
            "abc",
            "2",
            "2.",
            ".1",
            "2.x",
            "-1.0",
            "1.-1",
            "1.2.3",
            "1.4294967296",
            " 1.2",
            "+1.2",
        ] {
            let e = Cursor::parse(bad, "cursor").unwrap_err().to_string();
            assert!(e.contains("expected `<revision>.<sequence>`"), "{bad}: {e}");
            assert!(e.starts_with("cursor `"), "{bad}: {e}");
        }
    }
}
