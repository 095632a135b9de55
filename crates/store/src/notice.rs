//! Notices of what other processes committed, for followers: PostgreSQL `NOTIFY` in
//! the writing transaction (delivered on commit), `LISTEN` on a connection of its own.
//! A notice only wakes a follower early; the change log stays the truth, and a lost
//! notice (a dropped connection) is reported as [`Notice::Resumed`] so the follower
//! reads every tenant's log again.

/// The channel rolecall notifies on.
pub const CHANNEL: &str = "rolecall";

/// Something another process committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Tenant `id` has a new revision, or was created.
    Tenant(String),
    /// Token `id` was revoked.
    TokenRevoked(String),
    /// The listening connection was lost and re-established: notices may be missing.
    Resumed,
}

impl Notice {
    /// The payload written with `NOTIFY` for a tenant's new revision.
    pub(crate) fn tenant_payload(id: &str) -> String {
        format!("t:{id}")
    }

    /// The payload written with `NOTIFY` for a revoked token.
    pub(crate) fn token_payload(id: &str) -> String {
        format!("k:{id}")
    }

    /// A notice from a payload; `None` for one this version does not know.
    pub(crate) fn parse(payload: &str) -> Option<Notice> {
        let (kind, id) = payload.split_once(':')?;
        match kind {
            "t" => Some(Notice::Tenant(id.to_owned())),
            "k" => Some(Notice::TokenRevoked(id.to_owned())),
            _ => None,
        }
    }
}

/// The notices of a store that has them, until the store is closed.
pub type Notices = tokio::sync::mpsc::Receiver<Notice>;

#[cfg(test)]
mod tests {
    use super::Notice;

    #[test]
    fn payloads_round_trip() {
        for n in [
            Notice::Tenant("acme:eu".into()),
            Notice::TokenRevoked("tok_1".into()),
        ] {
            let p = match &n {
                Notice::Tenant(id) => Notice::tenant_payload(id),
                Notice::TokenRevoked(id) => Notice::token_payload(id),
                Notice::Resumed => unreachable!(),
            };
            assert_eq!(Notice::parse(&p), Some(n));
        }
        assert_eq!(Notice::parse("x:1"), None);
        assert_eq!(Notice::parse("nothing"), None);
    }
}
