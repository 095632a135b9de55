//! A real `rolecall serve` process for the HTTP benchmarks: started on a loopback port
//! of its choosing, killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running server.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    /// The process id (to signal the process).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `bin serve` on the database `url` without a per-token rate limit; returns
/// once it says where it listens.
pub fn start_server(bin: &str, url: &str) -> Result<Server, String> {
    let mut child = Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", url])
        .env("RUST_LOG", "warn")
        // Benchmarks measure capacity from one or a few tokens: no per-token rate.
        .env("ROLECALL_RATE_LIMIT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start `{bin}`: {e} (build it with `cargo build --release -p rolecall-cli`)"
            )
        })?;
    let out = child.stdout.take().ok_or("no stdout")?;
    let mut base = None;
    for line in BufReader::new(out).lines() {
        let line = line.map_err(|e| e.to_string())?;
        if let Some(rest) = line.split("listening on ").nth(1) {
            base = rest.split_whitespace().next().map(str::to_owned);
            break;
        }
    }
    let base = base.ok_or("the server did not say where it listens")?;
    Ok(Server { child, base })
}
