//! `rolecall catalog PROFILE`

use std::path::Path;

use rolecall_core::profile::catalog::render_catalog;

use crate::exit::Status;
use crate::files;

pub fn run(path: &Path) -> anyhow::Result<Status> {
    let p = files::profile(path)?;
    print!("{}", render_catalog(&p));
    Ok(Status::Ok)
}
