//! `rolecall validate PROFILE…`

use std::path::PathBuf;

use crate::exit::Status;
use crate::files;

pub fn run(paths: &[PathBuf]) -> anyhow::Result<Status> {
    let mut status = Status::Ok;
    for path in paths {
        match files::profile(path) {
            Ok(p) => println!(
                "ok: {} — {} ({} privileges, {} actions, {} role templates, {} appointment rules)",
                path.display(),
                p.name,
                p.privileges.len(),
                p.actions.len(),
                p.roles.len(),
                p.appointments.len()
            ),
            Err(e) => {
                eprintln!("{e:#}");
                status = Status::Error;
            }
        }
    }
    Ok(status)
}
