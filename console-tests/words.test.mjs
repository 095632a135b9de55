// What the console shows of a refusal, and which pages a token may use
// (crates/server/console/access.js), without a browser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './harness.mjs';

const src = fs.readFileSync(path.join(ROOT, 'crates/server/console/access.js'), 'utf8');
const A = await import('data:text/javascript;base64,' + Buffer.from(src).toString('base64'));

const OP_ID = /`?\b[a-z_]+\.(read|write|delete|others|view|edit)\b`?/;

test('a refusal shows its first sentence, in words, without operation or action ids', () => {
  const cases = [
    ['You need `Roles: Modify` for the whole tenant to create, edit, copy or delete custom roles. `bob` may not `roles.write`: it needs `staff.roles.manage` (has("Roles", "Modify")); has("Roles", "Modify"): not granted',
      'You need “Roles: Modify” for the whole tenant to create, edit, copy or delete custom roles.'],
    ['You need `Users: Modify` for office `West` (user `ann`) to create or edit users. `bob` may not `users.write`: it needs `users.edit` (has("Users", "Modify"))',
      'You need “Users: Modify” for office “West” (user “ann”) to create or edit users.'],
    ['You may not list and read users anywhere in this tenant. `agent` may not `users.read`: it needs `users.view` (has("Users", "View only")) on some user',
      'You may not list and read users anywhere in this tenant.'],
    ['`agent` may not list and read users here: it is governed per object (`users.read`)',
      '“agent” may not list and read users here: it is governed per object.'],
    ['only the operator may change tenant settings in this tenant (profile `phones-pro` reserves `settings.write` to the operator)',
      'Only the operator may change tenant settings in this tenant.'],
    ['service credential `CRM` may not list and read users: it has no `read` ability',
      'Service credential “CRM” may not list and read users: it has no “read” ability.'],
    ['unknown or revoked token', 'Unknown or revoked token.'],
    ['', 'The server refused.'],
  ];
  for (const [message, shown] of cases) {
    assert.equal(A.plain(message), shown);
    assert.doesNotMatch(A.plain(message), OP_ID);
  }
});

test('capabilities: the operator may do everything; a tenant token what whoami says', () => {
  const operator = { operator: true, capabilities: {} };
  const sup = { operator: false, capabilities: { 'users.read': 'some', 'roles.read': 'none', 'catalog.read': 'none', 'check.others': 'some' } };
  assert.equal(A.reach(operator, 'roles.write'), 'all');
  assert.equal(A.reach(sup, 'users.read'), 'some');
  assert.equal(A.reach(sup, 'roles.write'), 'none', 'an operation whoami does not name is not allowed');
  assert.equal(A.reach(null, 'users.read'), 'none');
  assert.equal(A.denied(sup, 'users.read'), null);
  assert.equal(A.denied(sup, 'roles.write'), 'You may not create, edit, copy or delete custom roles with this sign-in.');
  assert.doesNotMatch(A.denied(sup, 'credentials.write'), OP_ID);
  assert.equal(A.pageAllowed(sup, { needs: ['users.read'] }), true);
  assert.equal(A.pageAllowed(sup, { needs: ['check.others', 'catalog.read'] }), false, 'every need');
  assert.equal(A.pageAllowed(sup, { any: ['assignments.read', 'assignments.write'] }), false);
  assert.equal(A.pageAllowed({ capabilities: { 'assignments.write': 'some' } }, { any: ['assignments.read', 'assignments.write'] }), true, 'one of any');
  assert.equal(A.pageAllowed(operator, { needs: ['credentials.write'] }), true);
});
