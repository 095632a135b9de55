// Test harness: builds and starts the real `rolecall serve --demo` on a throwaway
// SQLite file and a free port, reads the tokens it prints, and launches Debian's
// system Chromium through playwright-core (no browser download).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** The rolecall binary: $ROLECALL_BIN, or target/debug/rolecall built now (a no-op when fresh). */
export function binary() {
  if (process.env.ROLECALL_BIN) return process.env.ROLECALL_BIN;
  const r = spawnSync('cargo', ['build', '--quiet', '-p', 'rolecall-cli'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('cargo build -p rolecall-cli failed');
  return path.join(ROOT, 'target', 'debug', 'rolecall');
}

/**
 * Starts `rolecall serve --demo` and resolves once it listens, with
 * {base, operator, tokens: {tenant: {user: secret}}, stop(), dir}.
 */
export async function startServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolecall-console-'));
  const bin = binary();
  const child = spawn(bin, ['serve', '--demo', '--listen', '127.0.0.1:0', '--database-url', `sqlite://${path.join(dir, 'rolecall.db')}`], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 120 s:\n${out}\n${err}`)), 120_000);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the server exited with ${code}:\n${out}\n${err}`)); });
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[\d.:]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  const base = await ready;
  const operator = out.match(/operator token[^:]*: (rc_\S+)/)[1];
  const tokens = {};
  let tenant = null;
  for (const line of out.split('\n')) {
    const t = line.match(/^demo tenant `([^`]+)`/);
    if (t) {
      tenant = t[1];
      tokens[tenant] = {};
      continue;
    }
    const u = line.match(/^\s+(\S+)\s+(rc_\S+)\s*$/);
    if (u && tenant) tokens[tenant][u[1]] = u[2];
  }
  return {
    base,
    operator,
    tokens,
    dir,
    async stop() {
      if (child.exitCode === null) {
        child.removeAllListeners('exit');
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Headless system Chromium with a fresh profile, at a 1366×768 laptop's size. */
export async function startBrowser() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rolecall-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 768 },
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async stop() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A JSON call to the API (for arranging a test's situation behind the console's back). */
export async function call(base, token, method, p, body) {
  const res = await fetch(base + p, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
