//! Exit statuses: allowed and denied are answers, not failures.

use std::process::ExitCode;

/// What `rolecall` exits with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Allowed, valid, or every assertion passed.
    Ok = 0,
    /// Denied, or some assertion failed.
    Denied = 1,
    /// Bad input or another error: nothing was decided.
    Error = 2,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> Self {
        ExitCode::from(s as u8)
    }
}
