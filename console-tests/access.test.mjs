// End-to-end: the console follows the signed-in token. A demo tenant's `admin` (not the
// operator) edits a custom role in two tenants — preview, save, the new version — and
// creates a service credential whose secret is shown once; a `supervisor` and an
// `agent` find the pages and controls their token may not use absent or disabled, and
// a refused read says "You cannot see this" in the administrator's words, without
// operation ids.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, startBrowser, call, ROOT } from './harness.mjs';

// The role editor's model (a browser module outside any package.json).
const treeSrc = fs.readFileSync(path.join(ROOT, 'crates/server/console/tree.js'), 'utf8');
const T = await import('data:text/javascript;base64,' + Buffer.from(treeSrc).toString('base64'));

const ZOOM = 'demo-zoom-contact-center';
const HORIZON = 'demo-horizon-contact';
const GOTO = 'demo-goto-contact-center';
// Operation ids as the API names them (`roles.write`, `check.others`…): never on screen.
const OP_ID = /\b(users|groups|org_units|queues|resources|relations|roles|assignments|settings|audit|sod|impact|check|tokens|credentials|catalog|changes)\.(read|write|delete|others)\b/;

let server;
let browser;
let page;
const problems = [];

before(async () => {
  server = await startServer();
  browser = await startBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (4\d\d)/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('dialog', (d) => d.accept());
});

after(async () => {
  if (browser) await browser.stop();
  if (server) await server.stop();
});

const api = (token, method, p, body) => call(server.base, token, method, p, body);

async function visible(text) {
  await page.getByText(text, { exact: false }).first().waitFor();
}

/** Signs in through the login form with a demo user's token of `tenant`. */
async function login(tenant, user) {
  await page.goto('about:blank');
  await page.goto(`${server.base}/#/login`);
  await page.evaluate(() => sessionStorage.clear());
  await page.goto('about:blank');
  await page.goto(`${server.base}/#/login`);
  await page.getByLabel('API token').fill(server.tokens[tenant][user]);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('main .page').waitFor();
  await visible('Signed in as');
}

async function open(hash) {
  await page.goto('about:blank');
  await page.goto(`${server.base}/#${hash}`);
}

async function navLinks() {
  return page.locator('nav#nav a').allInnerTexts();
}

async function mainText() {
  return page.locator('main').innerText();
}

async function boxState(id) {
  return page.locator(`#priv-${id}`).evaluate((el) => ({ checked: el.checked, indeterminate: el.indeterminate, disabled: el.disabled }));
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

/** A refused read: "You cannot see this", the first sentence in words, no ids on screen. */
async function refusedHere(sentence) {
  const box = page.locator('main [data-refused]').first();
  await box.waitFor();
  const text = await box.innerText();
  assert.match(text, /You cannot see this/);
  if (sentence) assert.match(text, sentence);
  const all = await mainText();
  assert.doesNotMatch(all, OP_ID, `an operation id on screen: ${all.slice(0, 400)}`);
  assert.ok(!all.includes('{"error"'), 'raw JSON on screen');
}

/** Preview, then save; the editor comes back at the new version. */
async function previewAndSave(button, name, version) {
  const save = page.getByRole('button', { name: button });
  assert.equal(await save.isDisabled(), true, 'saving waits for the preview');
  await page.getByRole('button', { name: 'Preview impact' }).click();
  await page.locator('[data-impact="shown"]').waitFor();
  assert.equal(await save.isDisabled(), false);
  await save.click();
  await visible('Saved at revision');
  await page.getByRole('heading', { name: `Edit role: ${name}` }).waitFor();
  await visible(`Version ${version}.`);
}

test('a Zoom admin copies a template, grants each row on its own, previews and saves twice', async () => {
  await login(ZOOM, 'admin');
  assert.deepEqual(await navLinks(), ['Roles', 'Users', 'Org tree', 'Queues', 'Assignments', 'Credentials', 'Who can…', 'Decision explainer', 'View as', 'Audit trail']);
  await page.getByRole('heading', { name: 'Roles', exact: true }).waitFor();
  await page.locator('tr[data-role="supervisor"]').getByRole('link', { name: 'Copy Supervisor' }).click();
  await page.getByRole('heading', { name: 'New role (copy of Supervisor)' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('Zoom Team Lead');
  assert.equal(await page.getByLabel('Id', { exact: true }).inputValue(), 'zoom_team_lead');
  // The seed's rows are flat: RptAgentReport, its Overview and its Export are three boxes,
  // none inside another. The Supervisor holds the report and its overview, not the export.
  assert.deepEqual(await boxState('rpt_agent_report'), { checked: true, indeterminate: false, disabled: false });
  assert.equal((await boxState('rpt_agent_report_overview')).checked, true);
  assert.equal((await boxState('rpt_agent_report_export')).checked, false);
  await page.getByLabel('RptAgentReportExport', { exact: true }).check();
  assert.equal((await boxState('rpt_agent_report_export')).checked, true);
  assert.deepEqual(await boxState('rpt_agent_report'), { checked: true, indeterminate: false, disabled: false });
  await previewAndSave('Create role', 'Zoom Team Lead', 1);
  const created = await api(server.tokens[ZOOM].admin, 'GET', `/v1/tenants/${ZOOM}/roles/zoom_team_lead`);
  assert.equal(created.status, 200);
  assert.equal(created.body.grants.rpt_agent_report, 'Read');
  assert.equal(created.body.grants.rpt_agent_report_export, 'Edit', 'the export is granted on its own');
  assert.equal(created.body.grants.rpt_agent_report_overview, 'Read', 'the overview is granted on its own');
  // A second edit: the version moves on.
  await page.getByLabel('WaitingRoomVideoDropIn', { exact: true }).uncheck();
  await previewAndSave('Save role', 'Zoom Team Lead', 2);
  const saved = await api(server.tokens[ZOOM].admin, 'GET', `/v1/tenants/${ZOOM}/roles/zoom_team_lead`);
  assert.equal(saved.body.version, 2);
  assert.ok(!('waiting_room_video_drop_in' in saved.body.grants));
  // The role type stays as created (none here): the control is fixed.
  assert.doesNotMatch(await mainText(), OP_ID);
});

test('a Horizon admin edits a custom role: who loses what, then the new version', async () => {
  await login(HORIZON, 'admin');
  assert.ok((await navLinks()).includes('Credentials'));
  await page.locator('tr[data-role="senior_agent"]').getByRole('link', { name: 'Edit Senior Agent' }).click();
  await page.getByRole('heading', { name: 'Edit role: Senior Agent' }).waitFor();
  await visible('Version 1.');
  assert.equal((await boxState('supervisor_agent_control')).checked, true);
  await page.locator('#priv-supervisor_agent_control').uncheck();
  await page.getByRole('button', { name: 'Preview impact' }).click();
  await page.locator('[data-impact="shown"]').waitFor();
  await visible('Who loses');
  await page.getByRole('button', { name: 'Save role' }).click();
  await visible('Saved at revision');
  await visible('Version 2.');
  const saved = await api(server.tokens[HORIZON].admin, 'GET', `/v1/tenants/${HORIZON}/roles/senior_agent`);
  assert.equal(saved.body.version, 2);
  assert.ok(!('supervisor_agent_control' in saved.body.grants));
});

test('a GoTo Contact Admin configures Agent and Supervisor roles up to their tab, not her own holdings', async () => {
  // "Choose and configure permissions per role rather than per user" (seed 003): the
  // profile bounds Supervisor and Agent roles by their type's cap.
  const admin = server.tokens[GOTO].admin;
  const mine = await api(admin, 'GET', `/v1/tenants/${GOTO}/users/admin/permissions`);
  assert.ok(!mine.body.privileges.some((p) => p.id === 'manage_prerecorded_messages'), 'the admin does not hold it herself');
  await login(GOTO, 'admin');
  await page.getByRole('heading', { name: 'Roles', exact: true }).waitFor();
  await page.locator('tr[data-role="agent"]').getByRole('link', { name: 'Copy Agent' }).click();
  await page.getByRole('heading', { name: 'New role (copy of Agent)' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('Voice Agent');
  await page.locator('#priv-manage_prerecorded_messages').check();
  await previewAndSave('Create role', 'Voice Agent', 1);
  const agent = await api(admin, 'GET', `/v1/tenants/${GOTO}/roles/voice_agent`);
  assert.equal(agent.body.type, 'agent');
  assert.equal(agent.body.grants.manage_prerecorded_messages, true);
  // A Supervisor role with the queue limit unchecked: "If unchecked, supervisors can
  // access all call queues".
  await open(`/t/${GOTO}/roles`);
  await page.locator('tr[data-role="supervisor"]').getByRole('link', { name: 'Copy Supervisor' }).click();
  await page.getByRole('heading', { name: 'New role (copy of Supervisor)' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('All Queues Lead');
  assert.equal((await boxState('limit_assigned_queues')).checked, true, 'enabled by default');
  await page.locator('#priv-limit_assigned_queues').uncheck();
  await previewAndSave('Create role', 'All Queues Lead', 1);
  const sup = await api(admin, 'GET', `/v1/tenants/${GOTO}/roles/all_queues_lead`);
  assert.equal(sup.body.type, 'supervisor');
  assert.equal(sup.body.grants.limit_assigned_queues, false);
  assert.deepEqual(problems, []);
});

test('a Horizon admin gives the shipped Agent role and puts the new hire under review', async () => {
  // "Assign roles to user logins — Users: Modify and Assign Roles" (seed 004): the
  // Administrator gives the shipped templates, whose boxes it need not hold, and a
  // restriction ("Emails must be reviewed") is never an escalation.
  const admin = server.tokens[HORIZON].admin;
  assert.equal((await api(server.operator, 'POST', `/v1/tenants/${HORIZON}/users`, { id: 'new.hire', name: 'New Hire' })).status, 201);
  assert.equal((await api(admin, 'POST', `/v1/tenants/${HORIZON}/roles`, { id: 'under_review', name: 'Under review', grants: { 'Emails must be reviewed': true } })).status, 201);
  await login(HORIZON, 'admin');
  for (const [role, name] of [['agent', 'Agent'], ['under_review', 'Under review']]) {
    await open(`/t/${HORIZON}/assignments`);
    await page.getByRole('button', { name: 'Give role' }).waitFor();
    await page.getByLabel('User', { exact: true }).fill('new.hire');
    await page.getByLabel('Role', { exact: true }).selectOption(role);
    await page.getByRole('button', { name: 'Preview impact' }).click();
    await page.locator('[data-impact="shown"]').waitFor();
    await page.getByRole('button', { name: 'Give role' }).click();
    await visible('Role given at revision');
    await page.locator('tr[data-assignment]').filter({ hasText: name }).first().waitFor();
  }
  const given = await api(admin, 'GET', `/v1/tenants/${HORIZON}/assignments?principal=new.hire`);
  assert.deepEqual(given.body.assignments.map((a) => a.role).sort(), ['agent', 'under_review']);
  assert.deepEqual(problems, []);
});

for (const tenant of [ZOOM, HORIZON]) {
  test(`a ${tenant} admin creates a service credential, sees its secret once, and revokes it`, async () => {
    await login(tenant, 'admin');
    await page.getByRole('link', { name: 'Credentials' }).click();
    await page.getByRole('heading', { name: 'Credentials', exact: true }).waitFor();
    const name = `Wallboard feed ${tenant}`;
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByRole('checkbox', { name: /^Read/ }).check();
    await page.getByRole('radio', { name: 'At a time' }).check();
    await page.getByRole('button', { name: 'Create credential' }).click();
    const card = page.locator('[data-secret]');
    await card.waitFor();
    await visible('it is shown only once');
    const secret = await card.getByLabel('Secret').inputValue();
    assert.match(secret, /^rc_/);
    assert.equal(await card.getByRole('button', { name: 'Copy secret' }).isEnabled(), true);
    await card.getByRole('button', { name: 'Copy secret' }).click();
    await card.getByText(/Copied|Selected/).waitFor();
    const row = page.locator('tr[data-credential]').filter({ hasText: name });
    await row.waitFor();
    assert.match(await row.innerText(), /Decide, Read/);
    assert.match(await row.innerText(), /left/);
    await usable();
    if (tenant === ZOOM) {
      // The picture shows the page, not this run's secret (a fixed stand-in keeps it stable).
      await page.evaluate(() => {
        document.getElementById('toast').replaceChildren();
        document.querySelector('[data-secret] input').value = 'rc_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_example';
        document.activeElement.blur();
        window.scrollTo(0, 0);
      });
      const shots = process.env.ROLECALL_SCREENSHOTS_DIR
        ? path.resolve(ROOT, process.env.ROLECALL_SCREENSHOTS_DIR)
        : path.join(os.tmpdir(), 'rolecall-console-shots');
      fs.mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: path.join(shots, 'console-credentials.png') });
    }
    // The secret works, as a service credential of this tenant.
    const who = await api(secret, 'GET', '/v1/whoami');
    assert.equal(who.status, 200);
    assert.equal(who.body.kind, 'service');
    assert.equal(who.body.credential.name, name);
    // Shown once: back on the page, the list has it, the secret is nowhere.
    await open(`/t/${tenant}/credentials`);
    await row.waitFor();
    assert.equal(await page.locator('[data-secret]').count(), 0);
    assert.ok(!(await page.content()).includes(secret), 'the secret is not shown again');
    // Revoke, after confirming.
    await row.getByRole('button', { name: `Revoke ${name}` }).click();
    await page.locator('#confirm[open]').waitFor();
    await page.locator('#confirm-ok').click();
    await visible('revoked');
    await row.waitFor({ state: 'detached' });
    assert.equal((await api(secret, 'GET', '/v1/whoami')).status, 401);
  });
}

test('a new credential that writes needs a user to write as (said in words)', async () => {
  await login(ZOOM, 'admin');
  await open(`/t/${ZOOM}/credentials`);
  await page.getByLabel('Name', { exact: true }).fill('Writer');
  await page.getByRole('checkbox', { name: /^Write/ }).check();
  await page.getByRole('button', { name: 'Create credential' }).click();
  await visible('needs a user to write as');
  assert.equal(await page.locator('[data-secret]').count(), 0);
});

test('a Zoom supervisor: only the pages the token may use, and refusals in words', async () => {
  await login(ZOOM, 'supervisor');
  assert.deepEqual(await navLinks(), ['Users', 'Queues']);
  assert.match(page.url(), /#\/t\/demo-zoom-contact-center\/users$/, 'the first usable page opens');
  await page.locator('tr[data-user]').first().waitFor();
  const newUser = page.getByRole('button', { name: 'New user' });
  assert.equal(await newUser.isDisabled(), true);
  assert.match(await newUser.getAttribute('title'), /You may not create or edit users/);
  // Pages left out of the navigation, opened by address: the API refuses, in words.
  await open(`/t/${ZOOM}/roles`);
  await refusedHere(/You need “RoleManagement: Read” for the whole tenant to list and read roles\./);
  await usable();
  await open(`/t/${ZOOM}/roles/edit/senior_agent`);
  await refusedHere(/RoleManagement: Read/);
  assert.equal(await page.getByRole('button', { name: 'Save role' }).count(), 0, 'no Save role');
  await open(`/t/${ZOOM}/credentials`);
  await refusedHere(/You need “IntegrationManagement: Edit” for the whole tenant/);
  assert.equal(await page.getByRole('link', { name: 'Credentials' }).count(), 0, 'no Credentials entry');
  // The technical details are folded away.
  const details = page.locator('main [data-refused] details');
  assert.equal(await details.getAttribute('open'), null);
  await details.locator('summary').click();
  assert.match(await details.innerText(), /credentials\.write/);
});

test('the console follows the token: a role that lets the supervisor read roles, but not edit them', async () => {
  // The operator gives the supervisor RoleManagement: Read (behind the console's back).
  const op = server.operator;
  const made = await api(op, 'POST', `/v1/tenants/${ZOOM}/roles`, { id: 'role_reader', name: 'Role reader', grants: { role_management: 'Read' } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const given = await api(op, 'POST', `/v1/tenants/${ZOOM}/assignments`, { principal: 'supervisor', role: 'role_reader', scope: 'tenant' });
  assert.equal(given.status, 201, JSON.stringify(given.body));
  await login(ZOOM, 'supervisor');
  assert.ok((await navLinks()).includes('Roles'), 'the Roles page is listed now');
  assert.ok(!(await navLinks()).includes('Credentials'));
  await open(`/t/${ZOOM}/roles`);
  await page.locator('tr[data-role="senior_agent"]').waitFor();
  const newRole = page.getByRole('button', { name: 'New role' });
  assert.equal(await newRole.isDisabled(), true);
  assert.match(await newRole.getAttribute('title'), /You may not create, edit, copy or delete custom roles/);
  assert.equal(await page.getByRole('button', { name: 'Delete Senior Agent' }).isDisabled(), true);
  await page.getByRole('link', { name: 'View Senior Agent' }).click();
  await page.getByRole('heading', { name: 'Role: Senior Agent' }).waitFor();
  const save = page.getByRole('button', { name: 'Save role' });
  assert.equal(await save.isDisabled(), true);
  assert.match(await save.getAttribute('title'), /You may not create, edit, copy or delete custom roles/);
  await visible('You may not create, edit, copy or delete custom roles');
  await usable();
  assert.equal((await boxState('waiting_room_video_drop_in')).disabled, true, 'the tree is read-only');
  assert.doesNotMatch(await mainText(), OP_ID);
  // Taken away again: the next page the console opens follows.
  const list = await api(op, 'GET', `/v1/tenants/${ZOOM}/assignments?principal=supervisor&role=role_reader`);
  await api(op, 'DELETE', `/v1/tenants/${ZOOM}/assignments/${list.body.assignments[0].id}`);
  await page.getByRole('link', { name: 'Users' }).click();
  await page.locator('tr[data-user]').first().waitFor();
  assert.deepEqual(await navLinks(), ['Users', 'Queues']);
});

test('an agent: no page to use, and a refused read says so', async () => {
  for (const tenant of [HORIZON, ZOOM]) {
    await login(tenant, 'agent');
    assert.deepEqual(await navLinks(), []);
    await page.getByRole('heading', { name: 'Nothing to administer here' }).waitFor();
    await open(`/t/${tenant}/users`);
    await refusedHere();
    await open(`/t/${tenant}/audit`);
    await refusedHere(/You need/);
    await open(`/t/${tenant}/assignments`);
    await refusedHere();
    assert.equal(await page.getByRole('button', { name: 'Give role' }).count(), 0);
  }
});

test('the editor saves every demo custom role as the engine holds it: unchanged, nothing changes', async () => {
  // tree.js reads a role (the engine's inclusion rule) and writes its grants back; the
  // server's impact preview of that save must give and take nothing from anyone.
  const op = server.operator;
  const tenants = (await api(op, 'GET', '/v1/tenants')).body.tenants;
  let checked = 0;
  for (const t of tenants) {
    const model = T.buildModel((await api(op, 'GET', `/v1/tenants/${t.id}/catalog`)).body);
    const roles = (await api(op, 'GET', `/v1/tenants/${t.id}/roles`)).body.roles;
    for (const r of roles.filter((x) => !x.template)) {
      const grants = T.grants(model, T.createState(model, r));
      const role = { id: r.id, name: r.name, includes: r.includes, grants, ...(r.type ? { type: r.type } : {}) };
      const res = await api(op, 'POST', `/v1/tenants/${t.id}/impact`, { role });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual([res.body.gains, res.body.losses], [[], []], `${t.id}/${r.id}: ${res.body.summary}`);
      checked += 1;
    }
  }
  assert.ok(checked >= 20, `only ${checked} roles checked`);
});

test('no script errors or policy violations on the way', () => {
  assert.deepEqual(problems, []);
});
