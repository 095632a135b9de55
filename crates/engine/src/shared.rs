//! What every tenant of an engine shares: the store, the clock, the options, the
//! token cache and the decision audit writer.

use std::sync::Arc;

use rolecall_store::Store;

use crate::audit_sink::AuditSink;
use crate::clock::Clock;
use crate::options::Options;
use crate::tokens::TokenCache;

/// The engine's shared context.
pub(crate) struct Shared {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub options: Options,
    pub tokens: TokenCache,
    pub audit: AuditSink,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("store", &self.store.backend())
            .field("clock", &self.clock)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}
