//! `rolecall test WORLD…`: one line per assertion, then `N passed, M failed`.

use std::path::PathBuf;

use rolecall_core::world::{Outcome, run_assertions};

use crate::exit::Status;
use crate::files;

pub fn run(paths: &[PathBuf], explain: bool) -> anyhow::Result<Status> {
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in paths {
        let loaded = match files::world(path) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("{e:#}");
                return Ok(Status::Error);
            }
        };
        println!("{}", path.display());
        for r in run_assertions(&loaded.world, &loaded.snapshot) {
            let ok = r.outcome == Outcome::Pass;
            if ok {
                passed += 1;
            } else {
                failed += 1;
            }
            println!("{}", r.line());
            if !ok
                && explain
                && let Some(x) = &r.explanation
            {
                for l in x.lines() {
                    println!("      {l}");
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        Status::Ok
    } else {
        Status::Denied
    })
}
