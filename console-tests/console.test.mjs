// End-to-end: the admin console in headless Chromium against the real server.
// The story: log in; create a role by checking a parent privilege; see the impact
// preview; save; give the role to a user until a time; the explainer says the user may
// now perform one of the child privileges' actions; who-can finds the user; the audit
// viewer shows the change. Along the way: a stale save gets 409 and keeps the edits,
// errors are words, a tenant token sees its own tenant, and screenshots of the main
// pages go to docs/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, startBrowser, call, ROOT } from './harness.mjs';

const TENANT = 'demo-contact-center-pro';
const ROLE_ID = 'queue_monitor_cover';
const ROLE_NAME = 'Queue Monitor Cover';
const PARENT = 'queue_monitoring'; // "View & Action Queue Monitoring"
const CHILDREN = ['queue_monitoring_view', 'queue_monitoring_agent_activity', 'queue_monitoring_agent_status_edit'];
const USER = 'ben.moore'; // a CSR: no queue monitoring before
const QUEUE = 'sales-san-francisco';
const ACTION = 'queue_monitoring.view'; // needs the child "View Queue Monitoring"
// Screenshots go to a temporary directory; `ROLECALL_SCREENSHOTS_DIR=docs` refreshes the
// README's pictures (a test run never rewrites committed files by itself).
const SHOTS = process.env.ROLECALL_SCREENSHOTS_DIR
  ? path.resolve(ROOT, process.env.ROLECALL_SCREENSHOTS_DIR)
  : path.join(os.tmpdir(), 'rolecall-console-shots');

let server;
let browser;
let page;
const problems = []; // console errors, CSP violations, uncaught exceptions

before(async () => {
  server = await startServer();
  browser = await startBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (4\d\d)/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  // Leaving the role editor with unsaved edits asks first (beforeunload): leave.
  page.on('dialog', (d) => d.accept());
});

after(async () => {
  if (browser) await browser.stop();
  if (server) await server.stop();
});

async function shot(name) {
  await usable();
  fs.mkdirSync(SHOTS, { recursive: true });
  // The picture shows the page, not the last notice or the focused field's scroll.
  await page.evaluate(() => {
    document.getElementById('toast').replaceChildren();
    window.scrollTo(0, 0);
  });
  await page.screenshot({ path: path.join(SHOTS, `console-${name}.png`) });
}

async function visible(text) {
  await page.getByText(text, { exact: false }).first().waitFor();
}

/** Opens a console URL in a fresh document (the token stays in the tab's session storage). */
async function open(hash) {
  await page.goto('about:blank');
  await page.goto(`${server.base}/#${hash}`);
}

function main() {
  return page.locator('main');
}

async function noRawJson() {
  const text = await main().innerText();
  assert.ok(!text.includes('{"error"'), `raw JSON on screen: ${text.slice(0, 300)}`);
}

/** Every control on screen has a name (label, aria-label or text); nothing overflows sideways. */
async function usable() {
  const r = await page.evaluate(() => {
    const unnamed = [];
    for (const el of document.querySelectorAll('input, select, textarea, button')) {
      if (el.type === 'hidden' || el.closest('[hidden]') || el.closest('dialog:not([open])')) continue;
      const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
        || (el.tagName === 'BUTTON' && el.textContent.trim());
      if (!named) unnamed.push(el.outerHTML.slice(0, 120));
    }
    return { unnamed, overflow: document.documentElement.scrollWidth - window.innerWidth };
  });
  assert.deepEqual(r.unnamed, [], 'unlabelled controls');
  assert.ok(r.overflow <= 0, `the page is ${r.overflow}px wider than a 1366px screen`);
}

async function boxState(id) {
  return page.locator(`#priv-${id}`).evaluate((el) => ({ checked: el.checked, indeterminate: el.indeterminate, disabled: el.disabled }));
}

test('the console is served by rolecall itself, with a strict policy', async () => {
  const res = await fetch(server.base + '/');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/html/);
  assert.match(res.headers.get('content-security-policy'), /script-src 'self'/);
  const js = await fetch(server.base + '/console/app.js');
  assert.match(js.headers.get('content-type'), /javascript/);
  assert.ok(js.headers.get('cache-control'));
});

test('log in: a bad token is refused in words, the operator token opens the tenant list', async () => {
  await page.goto(server.base + '/');
  await page.getByLabel('API token').fill('rc_not-a-token');
  await page.getByRole('button', { name: 'Log in' }).click();
  await visible('Not signed in:');
  await visible('unknown or revoked token');
  await noRawJson();
  await page.getByLabel('API token').fill(server.operator);
  await page.getByRole('button', { name: 'Log in' }).click();
  await visible('Choose one to administer');
  await page.getByRole('link', { name: 'Demo: ServiceTitan Contact Center Pro' }).waitFor();
  // The tenant picker in the header.
  await page.getByLabel('Tenant').selectOption(TENANT);
  await page.getByRole('heading', { name: 'Roles', exact: true }).waitFor();
  await page.locator('tr[data-role="csr"]').waitFor();
  await shot('roles');
});

test('before: the user may not view queue monitoring', async () => {
  await open(`/t/${TENANT}/explain?user=${USER}&action=${ACTION}&resource=queue:${QUEUE}`);
  await page.locator('[data-allowed="false"]').waitFor();
  await visible('Denied');
});

test('create a role by checking a parent privilege; preview the impact; save', async () => {
  await open(`/t/${TENANT}/roles`);
  await page.getByRole('link', { name: 'New role' }).click();
  await page.getByRole('heading', { name: 'New role' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill(ROLE_NAME);
  assert.equal(await page.getByLabel('Id', { exact: true }).inputValue(), ROLE_ID);
  // Checking the parent checks its children.
  await page.getByLabel('View & Action Queue Monitoring', { exact: true }).check();
  for (const c of CHILDREN) assert.equal((await boxState(c)).checked, true, `${c} follows its parent`);
  assert.deepEqual(await boxState(PARENT), { checked: true, indeterminate: false, disabled: false });
  // A partly checked parent is indeterminate; by keyboard: focus the child, Space.
  await page.locator(`#priv-${CHILDREN[2]}`).focus();
  await page.keyboard.press('Space');
  assert.equal((await boxState(CHILDREN[2])).checked, false);
  assert.deepEqual(await boxState(PARENT), { checked: false, indeterminate: true, disabled: false });
  await page.keyboard.press('Space');
  assert.deepEqual(await boxState(PARENT), { checked: true, indeterminate: false, disabled: false });
  // Saving waits for the preview.
  const save = page.getByRole('button', { name: 'Create role' });
  assert.equal(await save.isDisabled(), true);
  await page.getByRole('button', { name: 'Preview impact' }).click();
  await page.locator('[data-impact="shown"]').waitFor();
  await visible('this change gives and takes no action from anyone'.replace(/^t/, 'T'));
  assert.equal(await save.isDisabled(), false);
  await save.click();
  await visible('Saved at revision');
  await page.getByRole('heading', { name: `Edit role: ${ROLE_NAME}` }).waitFor();
  for (const c of [PARENT, ...CHILDREN]) assert.equal((await boxState(c)).checked, true, `${c} saved`);
  const stored = await call(server.base, server.operator, 'GET', `/v1/tenants/${TENANT}/roles/${ROLE_ID}`);
  assert.deepEqual(stored.body.grants, { [PARENT]: true });
});

test('give the role to the user until a time', async () => {
  await page.getByRole('link', { name: 'Assignments' }).click();
  await page.getByRole('button', { name: 'Give role' }).waitFor();
  await page.getByLabel('User', { exact: true }).fill(USER);
  await page.getByLabel('Role', { exact: true }).selectOption(ROLE_ID);
  await page.getByRole('radio', { name: 'Queues' }).check();
  await page.getByLabel('Queues in scope').selectOption([QUEUE]);
  await page.getByRole('button', { name: 'In 8 hours' }).click();
  assert.equal(await page.getByRole('radio', { name: 'At a time' }).isChecked(), true);
  await page.getByRole('button', { name: 'Preview impact' }).click();
  await page.locator('[data-impact="shown"]').waitFor();
  await visible('this change lets 1 user'.replace(/^t/, 'T'));
  await visible('View the Queue Monitoring page');
  await shot('assignments');
  await page.getByRole('button', { name: 'Give role' }).click();
  await visible('Role given at revision');
  const row = page.locator('tr[data-assignment]').filter({ hasText: ROLE_NAME });
  await row.waitFor();
  const text = await row.innerText();
  assert.match(text, /Sales \(San Francisco\)/);
  assert.match(text, /\d h \d+ min left/, text);
  const stored = await call(server.base, server.operator, 'GET', `/v1/tenants/${TENANT}/assignments?principal=${USER}&role=${ROLE_ID}`);
  assert.equal(stored.body.assignments.length, 1);
  const left = stored.body.assignments[0].remaining_seconds;
  assert.ok(left > 7 * 3600 && left <= 8 * 3600, `expires in 8 hours, not ${left} s`);
});

test('the explainer says the user may now perform a child privilege’s action', async () => {
  await page.getByRole('link', { name: 'Decision explainer' }).click();
  await page.getByRole('button', { name: 'Explain' }).waitFor();
  await page.getByLabel('User', { exact: true }).fill(USER);
  await page.getByLabel('Action', { exact: true }).selectOption(ACTION);
  await page.getByLabel('Resource (queue)').fill(QUEUE);
  await page.getByRole('button', { name: 'Explain' }).click();
  await page.locator('[data-allowed="true"]').waitFor();
  await visible('Allowed: Ben Moore may');
  await visible(`held through role \`${ROLE_NAME}\``);
  // Outside the assignment's scope (another queue) it is denied, and says why.
  await page.getByLabel('Resource (queue)').fill('billing-chicago');
  await page.getByRole('button', { name: 'Explain' }).click();
  await page.locator('[data-allowed="false"]').waitFor();
  await visible('Why not');
  await noRawJson();
  await shot('explain');
});

test('who-can finds the user, with a link to why', async () => {
  await page.getByRole('link', { name: 'Who can…' }).click();
  await page.getByRole('button', { name: 'Find who can' }).waitFor();
  await page.getByLabel('Action', { exact: true }).selectOption(ACTION);
  await page.getByLabel('Resource (queue)').fill(QUEUE);
  await page.getByRole('button', { name: 'Find who can' }).click();
  const row = page.locator(`tr[data-user="${USER}"]`);
  await row.waitFor();
  await shot('who-can');
  await row.getByRole('link', { name: /Why may Ben Moore/ }).click();
  await page.locator('[data-allowed="true"]').waitFor();
  assert.match(page.url(), /#\/t\/demo-contact-center-pro\/explain\?/);
});

test('the audit viewer shows the change and the chain is intact', async () => {
  await page.getByRole('link', { name: 'Audit trail' }).click();
  await page.getByRole('button', { name: 'Apply filters' }).waitFor();
  await visible('Chain intact.');
  await page.getByLabel('Target', { exact: true }).fill(`role:${ROLE_ID}`);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  const entry = page.locator('tr[data-seq]').filter({ hasText: 'role.create' });
  await entry.waitFor();
  assert.match(await entry.innerText(), new RegExp(ROLE_NAME));
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.locator('tr[data-seq]').filter({ hasText: 'assignment.create' }).filter({ hasText: `user:${USER}` }).waitFor();
  await shot('audit');
  // Export: the CSV download carries the entries.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  assert.match(csv.split('\n')[0], /^seq,revision,at,actor,action,target/);
  assert.match(csv, /role\.create/);
});

test('a stale save is refused with 409 and the edits stay on screen', async () => {
  await open(`/t/${TENANT}/roles/edit/${ROLE_ID}`);
  await page.getByRole('heading', { name: `Edit role: ${ROLE_NAME}` }).waitFor();
  // Take away "View Queue Monitoring Agent Activity": the preview names who loses it.
  await page.getByLabel('View Queue Monitoring Agent Activity', { exact: true }).uncheck();
  assert.equal((await boxState(PARENT)).indeterminate, true);
  await page.getByRole('button', { name: 'Preview impact' }).click();
  await page.locator('[data-impact="shown"]').waitFor();
  await visible('Who loses');
  await visible('Ben Moore');
  await shot('role-editor');
  // Someone else saves the role meanwhile (version 1 → 2).
  const other = await call(server.base, server.operator, 'PUT', `/v1/tenants/${TENANT}/roles/${ROLE_ID}`, { version: 1, name: ROLE_NAME, grants: { [PARENT]: true }, description: 'changed elsewhere' });
  assert.equal(other.status, 200);
  await page.getByRole('button', { name: 'Save role' }).click();
  await visible('Someone else changed this role; reload.');
  await noRawJson();
  assert.equal((await boxState(CHILDREN[1])).checked, false, 'the edit is still on screen');
  assert.equal((await boxState(PARENT)).indeterminate, true);
  const stored = await call(server.base, server.operator, 'GET', `/v1/tenants/${TENANT}/roles/${ROLE_ID}`);
  assert.equal(stored.body.version, 2);
  assert.deepEqual(stored.body.grants, { [PARENT]: true }, 'nothing of the stale edit was written');
});

test('locked privileges and role-type caps in the editor (GoTo)', async () => {
  await open(`/t/demo-goto-contact-center/roles/new?copy_of=supervisor`);
  await page.getByRole('heading', { name: /New role \(copy of Supervisor\)/ }).waitFor();
  // "View the settings of a call queue" is locked on for every Supervisor-type role.
  const locked = await boxState('view_queue_settings');
  assert.deepEqual(locked, { checked: true, indeterminate: false, disabled: true });
  assert.match(await page.locator('li[data-priv-item="view_queue_settings"] .why').first().innerText(), /Locked.*cannot be removed/s);
  // Agent-tab privileges lie outside the Supervisor cap.
  assert.equal((await boxState('create_custom_tags')).disabled, true);
  assert.match(await page.locator('li[data-priv-item="create_custom_tags"] .why').first().innerText(), /not available to Supervisor roles/);
  // "Limit access to assigned call queues" starts on (a default of the type).
  assert.equal((await boxState('limit_assigned_queues')).checked, true);
});

test('the other pages render: users (seat rule), org tree, queues, view as', async () => {
  await open(`/t/demo-phones-pro/users`);
  await page.locator('tr[data-user]').first().waitFor();
  await visible('Seat level only moves up.');
  // An advanced seat cannot be set back to standard: the option is there, disabled.
  await page.getByLabel('Filter users').fill('ben.patel');
  await page.getByRole('button', { name: 'Edit Ben Patel' }).click();
  const seat = page.getByLabel('Seat level');
  assert.equal(await seat.inputValue(), 'advanced');
  assert.equal(await seat.locator('option[value="standard"]').isDisabled(), true);
  await visible('Only moves up: standard → advanced.');
  await open(`/t/${TENANT}/users`);
  await page.locator('tr[data-user]').first().waitFor();
  await page.getByLabel('Filter users').fill(USER);
  await page.locator(`tr[data-user="${USER}"]`).getByRole('button', { name: 'Edit Ben Moore' }).click();
  await page.getByRole('heading', { name: 'Edit user: Ben Moore' }).waitFor();
  await shot('users');
  await open(`/t/demo-phones-pro/org`);
  await page.locator('li[data-unit]').first().waitFor();
  await shot('org-tree');
  await open(`/t/${TENANT}/queues`);
  await page.locator(`tr[data-queue="${QUEUE}"]`).getByRole('button').click();
  await page.getByRole('heading', { name: 'Queue: Sales (San Francisco)' }).waitFor();
  await shot('queues');
  await open(`/t/${TENANT}/view-as?user=${USER}`);
  await page.locator('[data-action="queue_monitoring.view"][data-allowed="true"]').waitFor();
  assert.equal(await page.locator('[data-action="recordings.download"]').getAttribute('data-allowed'), 'false');
  await shot('view-as');
});

test('a tenant token sees its own tenant only', async () => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('API token').fill(server.tokens[TENANT].admin);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Roles', exact: true }).waitFor();
  await visible('Signed in as');
  assert.equal((await page.locator('#tenant-area').textContent()).replace(/\s+/g, ' ').trim(), `Tenant: ${TENANT}`);
  await page.locator(`tr[data-role="${ROLE_ID}"]`).waitFor();
});

test('no script errors or policy violations on the way', () => {
  assert.deepEqual(problems, []);
});
