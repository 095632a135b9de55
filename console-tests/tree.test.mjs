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
  // Below its top, a levelled parent does not include its children.
  assert.equal(T.checkbox(m, st, 'reports_export').checked, false);
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
  assert.deepEqual(T.grants(m, st), { reports: 'Read', reports_export: 'Read' });
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
