// The role editor's tree model (crates/server/console/tree.js), without a browser:
// tri-state parents, levels, locked grants, caps, defaults, and the grants it saves.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './harness.mjs';

// tree.js is a browser module outside any package.json; load it as ES module text.
const src = fs.readFileSync(path.join(ROOT, 'crates/server/console/tree.js'), 'utf8');
const T = await import('data:text/javascript;base64,' + Buffer.from(src).toString('base64'));

const node = (id, kind = 'flag', children = [], options = []) => ({ id, name: id.toUpperCase(), kind, options, description: null, children });
const CATALOG = {
  sections: [
    { id: 'general', name: 'General', privileges: [
      node('qm', 'flag', [node('qm_view'), node('qm_activity'), node('qm_edit')]),
      node('reports', 'levels', [node('reports_export', 'levels', [], ['Read', 'Edit'])], ['Read', 'Edit']),
      node('portal', 'choice', [], ['Queues Only', 'Agents Anonymous', 'Agents Identified']),
      node('timeout', 'number', [], ['60..600 seconds']),
    ] },
    { id: 'admin', name: 'Admin', privileges: [node('settings'), node('limit')] },
  ],
  privilege_details: [
    { id: 'portal', multiple: false, implies: { 'Queues Only': ['Queues Only'], 'Agents Anonymous': ['Agents Anonymous', 'Queues Only'], 'Agents Identified': ['Agents Identified', 'Agents Anonymous', 'Queues Only'] } },
    { id: 'timeout', min: 60, max: 600, default: 300, unit: 'seconds' },
  ],
  role_types: [
    { id: 'sup', name: 'Supervisor', cap: ['qm', 'limit', 'settings'], locked: { settings: true }, defaults: { limit: true } },
  ],
};

const fresh = (role = {}) => {
  const m = T.buildModel(CATALOG);
  return { m, st: T.createState(m, { grants: {}, locked: {}, ...role }) };
};

test('checking a parent checks its subtree; a partly checked parent is indeterminate', () => {
  const { m, st } = fresh();
  T.toggle(m, st, 'qm', true);
  for (const c of ['qm_view', 'qm_activity', 'qm_edit']) assert.equal(T.checkbox(m, st, c).checked, true);
  assert.deepEqual(T.checkbox(m, st, 'qm'), { checked: true, indeterminate: false });
  assert.deepEqual(T.grants(m, st), { qm: true }, 'a full parent stands for its subtree');
  T.toggle(m, st, 'qm_edit', false);
  assert.deepEqual(T.checkbox(m, st, 'qm'), { checked: false, indeterminate: true });
  assert.deepEqual(T.grants(m, st), { qm_view: true, qm_activity: true }, 'the parent is no longer granted');
  T.toggle(m, st, 'qm_edit', true);
  assert.deepEqual(T.checkbox(m, st, 'qm'), { checked: true, indeterminate: false }, 'all children checked: the parent too');
  T.toggle(m, st, 'qm', false);
  assert.deepEqual(T.grants(m, st), {});
});

test('a stored parent grant shows its subtree checked', () => {
  const { m, st } = fresh({ grants: { qm: true, reports: 'Read' } });
  assert.equal(T.checkbox(m, st, 'qm_activity').checked, true);
  // Below its top, a levelled parent gives its child the levels of the same names up to
  // the one held: Read, not Edit.
  assert.equal(T.checkbox(m, st, 'reports_export').checked, true);
  assert.equal(st.nodes.get('reports_export').level, 'Read');
  assert.deepEqual(T.checkbox(m, st, 'reports'), { checked: false, indeterminate: true });
  assert.deepEqual(T.grants(m, st), { qm: true, reports: 'Read' });
});

test('levels: a parent at its top includes its children; lowering a child steps the parent down', () => {
  const { m, st } = fresh();
  T.toggle(m, st, 'reports', true);
  assert.equal(st.nodes.get('reports').level, 'Edit');
  assert.equal(st.nodes.get('reports_export').level, 'Edit');
  assert.deepEqual(T.grants(m, st), { reports: 'Edit' });
  T.setLevel(m, st, 'reports_export', 'Read');
  assert.equal(st.nodes.get('reports').level, 'Read', 'Edit on the parent would include Edit on the child');
  assert.deepEqual(T.grants(m, st), { reports: 'Read' }, 'Read on the parent gives Read on the child');
});

test('choices and numbers', () => {
  const { m, st } = fresh();
  T.toggle(m, st, 'portal', true);
  assert.deepEqual(st.nodes.get('portal').choices, ['Queues Only']);
  T.setChoices(m, st, 'portal', ['Agents Identified']);
  assert.equal(T.atTop(m, st, 'portal'), true, 'Agents Identified implies the others');
  T.toggle(m, st, 'timeout', true);
  assert.equal(st.nodes.get('timeout').number, 300, 'the default');
  T.setNumber(m, st, 'timeout', 120);
  assert.deepEqual(T.grants(m, st), { portal: ['Agents Identified'], timeout: 120 });
});

test('role types: locked grants stay on, caps disable the rest, defaults start on', () => {
  const { m, st } = fresh({ type: 'sup', grants: { reports: 'Edit', qm_view: true } });
  assert.equal(st.nodes.get('settings').on, true);
  assert.match(T.whyDisabled(st, 'settings'), /locked for every Supervisor role/);
  T.toggle(m, st, 'settings', false);
  assert.equal(st.nodes.get('settings').on, true, 'a locked grant cannot be removed');
  assert.equal(st.nodes.get('reports').on, false, 'outside the cap: cleared');
  assert.match(T.whyDisabled(st, 'reports'), /not available to Supervisor roles/);
  assert.equal(T.editable(st, 'qm_edit'), true, 'a capped parent brings its subtree');
  assert.equal(st.nodes.get('limit').on, true, 'a default of the type');
  assert.deepEqual(T.grants(m, st), { qm_view: true }, 'locked and kept defaults are the server’s to add');
  T.toggle(m, st, 'limit', false);
  assert.deepEqual(T.grants(m, st), { qm_view: true, limit: false }, 'a default turned off is written false');
});

test('the filter keeps matches and their ancestors', () => {
  const { m } = fresh();
  const keep = T.matching(m, 'QM_ACT');
  assert.deepEqual([...keep].sort(), ['qm', 'qm_activity']);
  assert.equal(T.matching(m, '  '), null);
});

// "A parent includes its children" as the engine decides it (`Profile::included`): a
// flag parent gives every child at its top; a `levels` parent held at level L gives a
// `levels` child the highest of the child's levels whose NAME is one of the parent's
// levels up to L, and a child of another kind only when held at its own highest level.
const INCLUSION = {
  sections: [
    { id: 'analytics', name: 'Analytics', privileges: [
      node('wall', 'levels', [
        node('wall_share', 'levels', [], ['Edit']),
        node('wall_overview', 'levels', [], ['Read']),
        node('wall_flag'),
        node('wall_pick', 'choice', [], ['a', 'b']),
        node('wall_other', 'levels', [], ['View', 'Manage']),
      ], ['Read', 'Edit']),
      node('agent_report', 'levels', [node('agent_export', 'levels', [], ['Edit']), node('agent_flag')], ['Read']),
      node('logs', 'flag', [node('log_view', 'levels', [node('log_export', 'levels', [], ['Edit'])], ['Read', 'Edit'])]),
      node('portal', 'choice', [node('portal_child')], ['x', 'y']),
    ] },
  ],
  privilege_details: [{ id: 'wall_pick', multiple: true }, { id: 'portal', multiple: true }],
  role_types: [{ id: 'viewer', name: 'Viewer', cap: null, locked: { wall: 'Read' }, defaults: {} }],
};

const inclusion = (role = {}) => {
  const m = T.buildModel(INCLUSION);
  return { m, st: T.createState(m, { grants: {}, locked: {}, ...role }) };
};
const on = (level) => ({ on: true, level });

test('included: the engine’s rule, case by case', () => {
  const { m } = inclusion();
  // A levels parent gives a levels child the levels of the same names up to the one held.
  assert.equal(T.included(m, 'wall', on('Read'), 'wall_share'), null, 'Read never gives Edit');
  assert.equal(T.included(m, 'wall', on('Edit'), 'wall_share'), 'Edit');
  assert.equal(T.included(m, 'wall', on('Read'), 'wall_overview'), 'Read');
  assert.equal(T.included(m, 'wall', on('Edit'), 'wall_overview'), 'Read', 'the child’s highest level of those names');
  assert.equal(T.included(m, 'wall', on('Edit'), 'wall_other'), null, 'no level of the same name: nothing');
  // A levels parent gives a child of another kind only at its own highest level.
  assert.equal(T.included(m, 'wall', on('Read'), 'wall_flag'), null);
  assert.equal(T.included(m, 'wall', on('Edit'), 'wall_flag'), true);
  assert.equal(T.included(m, 'wall', on('Read'), 'wall_pick'), null);
  assert.deepEqual(T.included(m, 'wall', on('Edit'), 'wall_pick'), ['a', 'b']);
  // RptAgentReport (only Read) never gives RptAgentReportExport (only Edit); at its
  // highest level (Read) it gives a flag child.
  assert.equal(T.included(m, 'agent_report', on('Read'), 'agent_export'), null);
  assert.equal(T.included(m, 'agent_report', on('Read'), 'agent_flag'), true);
  // A flag parent gives every child at its top; nothing when not held.
  assert.equal(T.included(m, 'logs', { on: true }, 'log_view'), 'Edit');
  assert.equal(T.included(m, 'logs', { on: false }, 'log_view'), null);
  assert.equal(T.included(m, 'wall', { on: false, level: 'Edit' }, 'wall_share'), null);
  // Choice parents give nothing (the engine holds only flag and levels parents).
  assert.equal(T.included(m, 'portal', { on: true, choices: ['x', 'y'] }, 'portal_child'), null);
});

test('a stored grant shows what the parent includes, and only that', () => {
  let { m, st } = inclusion({ grants: { wall: 'Read' } });
  assert.equal(st.nodes.get('wall_share').on, false, '`Read` does not give `Share: Edit`');
  assert.equal(st.nodes.get('wall_overview').on, true);
  assert.equal(st.nodes.get('wall_flag').on, false);
  assert.equal(st.nodes.get('wall_pick').on, false);
  assert.deepEqual(T.grants(m, st), { wall: 'Read' });
  ({ m, st } = inclusion({ grants: { wall: 'Edit' } }));
  assert.equal(st.nodes.get('wall_share').level, 'Edit');
  assert.equal(st.nodes.get('wall_flag').on, true);
  assert.deepEqual(st.nodes.get('wall_pick').choices, ['a', 'b']);
  assert.equal(st.nodes.get('wall_other').on, false, 'levels of other names are not included');
  assert.deepEqual(T.checkbox(m, st, 'wall'), { checked: false, indeterminate: true }, 'not the whole subtree');
  assert.deepEqual(T.grants(m, st), { wall: 'Edit' });
  ({ m, st } = inclusion({ grants: { agent_report: 'Read' } }));
  assert.equal(st.nodes.get('agent_export').on, false, 'an export is granted on its own');
  assert.equal(st.nodes.get('agent_flag').on, true);
  // Transitively: a flag parent gives its levels child Edit, which gives its own child Edit.
  ({ m, st } = inclusion({ grants: { logs: true } }));
  assert.equal(st.nodes.get('log_view').level, 'Edit');
  assert.equal(st.nodes.get('log_export').level, 'Edit');
  assert.deepEqual(T.checkbox(m, st, 'logs'), { checked: true, indeterminate: false });
  assert.deepEqual(T.grants(m, st), { logs: true });
  ({ m, st } = inclusion({ grants: { portal: ['x', 'y'] } }));
  assert.equal(st.nodes.get('portal_child').on, false, 'a choice parent includes nothing');
});

test('checking a levels parent: what it does not include is granted on its own', () => {
  const { m, st } = inclusion();
  T.toggle(m, st, 'wall', true);
  assert.equal(T.full(m, st, 'wall'), true);
  assert.deepEqual(T.grants(m, st), { wall: 'Edit', wall_other: 'Manage' });
  T.toggle(m, st, 'agent_report', true);
  assert.deepEqual(T.grants(m, st), { wall: 'Edit', wall_other: 'Manage', agent_report: 'Read', agent_export: 'Edit' });
});

test('picking a parent’s level gives its children what that level includes', () => {
  const { m, st } = inclusion();
  T.setLevel(m, st, 'wall', 'Read');
  assert.equal(st.nodes.get('wall_overview').on, true);
  assert.equal(st.nodes.get('wall_share').on, false);
  T.setLevel(m, st, 'wall', 'Edit');
  assert.equal(st.nodes.get('wall_share').level, 'Edit');
  assert.equal(st.nodes.get('wall_flag').on, true);
  assert.deepEqual(T.grants(m, st), { wall: 'Edit' });
});

test('taking away what a parent includes steps the parent down to the highest level that does not include it', () => {
  const { m, st } = inclusion({ grants: { wall: 'Edit' } });
  T.toggle(m, st, 'wall_share', false);
  assert.equal(st.nodes.get('wall').level, 'Read', 'Read still gives Overview, but not Share');
  assert.equal(st.nodes.get('wall_flag').on, true, 'what Edit had given stays on screen');
  assert.deepEqual(T.grants(m, st), { wall: 'Read', wall_flag: true, wall_pick: ['a', 'b'] });
  T.toggle(m, st, 'wall_overview', false);
  assert.equal(st.nodes.get('wall').on, false, 'every level of the parent gives Overview: off');
  assert.deepEqual(T.grants(m, st), { wall_flag: true, wall_pick: ['a', 'b'] });
  // A child the parent never includes changes nothing above it.
  const b = inclusion({ grants: { wall: 'Edit', wall_other: 'Manage' } });
  T.toggle(b.m, b.st, 'wall_other', false);
  assert.equal(b.st.nodes.get('wall').level, 'Edit');
  // Taking a grandchild away steps both ancestors down: the flag turns off.
  const c = inclusion({ grants: { logs: true } });
  T.setLevel(c.m, c.st, 'log_export', 'Edit');
  T.toggle(c.m, c.st, 'log_export', false);
  assert.equal(c.st.nodes.get('log_view').level, 'Read');
  assert.equal(c.st.nodes.get('logs').on, false);
  assert.deepEqual(T.grants(c.m, c.st), { log_view: 'Read' });
});

test('a locked levels parent locks what it includes at the child’s top, and keeps giving it', () => {
  const { m, st } = inclusion({ type: 'viewer' });
  assert.equal(st.nodes.get('wall').level, 'Read');
  assert.match(T.whyDisabled(st, 'wall_overview'), /included in the locked “WALL”/);
  assert.equal(T.editable(st, 'wall_share'), true, 'Read does not give Share: it stays free');
  T.toggle(m, st, 'wall_share', true);
  assert.deepEqual(T.grants(m, st), { wall_share: 'Edit' }, 'the locked grant is the server’s');
});
